"""serve in development (devtools/management/commands/serve.py extends the product's):
the demo, admin/admin and the development server; setup_demo refused in production."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from commerce.models import LegalEntity
from devtools.demo.loading import DemoRefused, admin_user_ensure
from tests.support import production, run_serve

pytestmark = pytest.mark.django_db(databases="__all__")


def test_serve_in_development_loads_the_demo_and_runs_the_development_server(fake_children):
    output = run_serve()

    assert LegalEntity.objects.filter(code="USRT").exists()
    assert get_user_model().objects.get(username="admin").check_password("admin")
    assert "Admin: http://127.0.0.1:8123/admin/  login: admin / admin" in output
    qcluster, web = fake_children
    assert qcluster[-1] == "qcluster"
    assert web[-3:] == ["runserver", "127.0.0.1:8123", "--noreload"]
    assert output.rstrip().endswith("Stopped.")


def test_setup_demo_in_production_is_refused_with_one_line(tmp_path):
    with production(tmp_path):
        with pytest.raises(CommandError) as raised:
            call_command("setup_demo", stdout=io.StringIO(), stderr=io.StringIO())
        with pytest.raises(DemoRefused):
            admin_user_ensure()

    assert str(raised.value).startswith("ENVIRONMENT=production: the demo organization")
    assert "\n" not in str(raised.value)
    assert not get_user_model().objects.exists() and not LegalEntity.objects.exists()
