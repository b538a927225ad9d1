import pytest

# Fixtures shared across the test tree: sample organization and channel data, and the
# environments of tests that run the product in real processes.
pytest_plugins = ["tests.fixtures", "tests.support"]


@pytest.fixture(autouse=True)
def _q_sync(monkeypatch):
    """Run django-q2 tasks inline unless a test starts a real cluster."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    loud = [r for r in skipped if "SKIPPED LOUDLY" in str(r.longrepr)]
    if loud:
        terminalreporter.write_sep(
            "!", f"{len(loud)} TESTS NEEDING A SERVICE DID NOT RUN", red=True
        )
        for report in loud:
            terminalreporter.write_line(f"  {report.nodeid}: {report.longrepr[-1]}", red=True)
