"""gunicorn's configuration as the product runs it (``serve`` in production passes
``-c python:commerce.gunicorn_conf``; README, "Running in production").

No Server header: gunicorn writes ``Server: gunicorn`` on every HTTP/1 response and has
no setting to leave it out, so its response's default headers are filtered here. The
module is read by gunicorn's master before it forks the workers, which inherit it.
"""

from gunicorn.http.wsgi import Response

_gunicorn_default_headers = Response.default_headers


def _default_headers_without_server(self) -> list[str]:
    """gunicorn's status line, Date, Connection (and Transfer-Encoding), not Server."""
    return [
        line for line in _gunicorn_default_headers(self) if not line.lower().startswith("server:")
    ]


Response.default_headers = _default_headers_without_server
