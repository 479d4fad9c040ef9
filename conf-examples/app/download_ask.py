"""A WSGI application that asks xsendfiled over its app socket through XSendfileApplication
(``ask=``) and inspects the answer before returning it: wsgi-xsendfile's call-and-inspect API,
with xsendfiled's own decision behind it. A file the daemon (or the package's own check) refuses
is this application's 404 page; a sent one is xsendfiled's exact reply, whose X-Accel-Redirect
nginx follows to its /_protected/ location, with the one Content-Disposition xsendfiled writes.

Served by gunicorn behind nginx with conf-examples/nginx-app-delegation-proxy.conf, xsendfiled
running with ``--internal-prefix /_protected --app-socket $APP_SOCKET`` besides its ``--listen``;
the test suite runs this file (tests/clients_python.rs).
"""

import os
import posixpath
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from xsendfiled import XSendfileApplication

# The directory xsendfiled guards (its --root), and its app socket.
downloads = XSendfileApplication(
    os.environ.get("DOWNLOADS_ROOT", "/srv/files"), ask=os.environ.get("APP_SOCKET", "/run/xsendfiled/app.sock")
)


def application(environ, start_response):
    cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    if "session" not in cookies or cookies["session"].value != "alice":
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"please log in\n"]
    wanted = parse_qs(environ.get("QUERY_STRING", "")).get("file", [""])[0]
    # PATH_INFO carries the path's UTF-8 bytes as latin-1 (PEP 3333).
    environ["PATH_INFO"] = ("/" + wanted).encode("utf-8").decode("latin-1")
    # The download name and type xsendfiled writes in the only Content-Disposition.
    environ["xsendfiled.filename"] = "Alice's " + posixpath.basename(wanted)
    environ["xsendfiled.disposition"] = "attachment"
    seen = {}

    def inspect(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    body = downloads(environ, inspect)
    if seen["status"].startswith("404"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such download, said xsendfiled\n"]
    # Anything else (200 with X-Accel-Redirect, or another refusal) is returned as answered.
    start_response(seen["status"], seen["headers"])
    return body
