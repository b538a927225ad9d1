import pytest


@pytest.fixture(autouse=True)
def _q_sync(monkeypatch):
    """Run django-q2 tasks inline unless a test starts a real cluster."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
