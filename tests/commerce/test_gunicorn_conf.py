"""commerce.gunicorn_conf, the configuration serve gives gunicorn: no Server header."""

import io
from types import SimpleNamespace

from gunicorn.http.wsgi import Response

import commerce.gunicorn_conf  # noqa: F401  (what gunicorn's -c python:... imports)


class _Request(SimpleNamespace):
    def should_close(self):
        return False


def test_gunicorn_responses_name_no_server():
    request = _Request(version=(1, 1), method="GET", headers=[])
    response = Response(request, io.BytesIO(), SimpleNamespace(protocol="http", is_ssl=False))
    response.start_response("200 OK", [("Content-Length", "2")])

    headers = response.default_headers()

    assert headers[0] == "HTTP/1.1 200 OK\r\n"
    assert [line.split(":")[0] for line in headers[1:]] == ["Date", "Connection"]
