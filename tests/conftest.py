import pytest

# Fixtures shared across the test tree: sample organization and channel data, and the
# environments of tests that run the product in real processes.
pytest_plugins = ["tests.fixtures", "tests.support"]


@pytest.fixture(autouse=True)
def _q_sync(monkeypatch):
    """Run django-q2 tasks inline unless a test starts a real cluster."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _progress_saved_with_the_outcome(monkeypatch):
    """A run's counters are saved with its outcome only, whatever its time: a run here
    may take more or less than ``PROGRESS_SAVE_SECONDS`` as the machine is loaded, and
    query counts must not depend on that. Tests of the saves themselves set it."""
    from jobs.services import executing

    monkeypatch.setattr(executing, "PROGRESS_SAVE_SECONDS", float("inf"))


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    loud = [r for r in skipped if "SKIPPED LOUDLY" in str(r.longrepr)]
    if loud:
        terminalreporter.write_sep(
            "!", f"{len(loud)} TESTS NEEDING A SERVICE DID NOT RUN", red=True
        )
        for report in loud:
            terminalreporter.write_line(f"  {report.nodeid}: {report.longrepr[-1]}", red=True)
