"""Every response carries a Content-Security-Policy (django-csp) that allows scripts from
the site's own files only, and the admin pages have no inline script it would block."""

from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.django_db(databases="__all__")

PAGES = [
    "/admin/",
    "/admin/customers/stagedasynccustomer/sync-status/",
    "/admin/customers/customer/",
    "/admin/jobs/jobrun/",
]


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline, self.handlers, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        self.handlers += [name for name in names if name.startswith("on")]
        self._in_script = tag == "script" and "src" not in names

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data.strip())


def _policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def test_the_login_page_carries_the_policy(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_carry_the_policy_and_have_no_inline_script(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    assert _policy(response)["script-src"] == ["'self'"]
    scripts = _Scripts()
    scripts.feed(response.content.decode())
    assert (scripts.inline, scripts.handlers) == ([], [])


def test_the_sync_status_check_all_script_is_a_static_file(admin_client):
    response = admin_client.get("/admin/customers/stagedasynccustomer/sync-status/")

    assert b'src="/static/customers/sync_status.js"' in response.content
