"""devtools is an app of its own (that no product module imports it is a contract in
pyproject.toml, tests/test_layers.py)."""

from django.apps import apps
from django.core.management import get_commands


def test_devtools_app_owns_the_development_commands():
    assert apps.get_app_config("devtools").name == "devtools"
    commands = get_commands()
    for name in ("serve", "setup_demo", "benchmark"):
        assert commands[name] == "devtools"
