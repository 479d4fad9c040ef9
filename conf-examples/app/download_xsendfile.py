"""A WSGI application that calls XSendfileApplication and inspects its answer before returning it
(wsgi-xsendfile's call-and-inspect API), with xsendfiled's Python package: one import changed from
wsgi-xsendfile (docs/migrate-wsgi-xsendfile.md). Served by gunicorn behind nginx with
conf-examples/nginx-app-delegation-proxy.conf; the test suite runs this file
(tests/clients_python.rs).
"""

import os
import posixpath
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote

from xsendfiled import XSendfileApplication

# The directory xsendfiled guards (its --root).
downloads = XSendfileApplication(os.environ.get("DOWNLOADS_ROOT", "/srv/files"), "nginx")


def application(environ, start_response):
    cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    if "session" not in cookies or cookies["session"].value != "alice":
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"please log in\n"]
    wanted = parse_qs(environ.get("QUERY_STRING", "")).get("file", [""])[0]
    # PATH_INFO carries the path's UTF-8 bytes as latin-1 (PEP 3333).
    environ["PATH_INFO"] = ("/" + wanted).encode("utf-8").decode("latin-1")
    seen = {}

    def inspect(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    body = downloads(environ, inspect)
    if not seen["status"].startswith("200"):
        start_response(seen["status"], [("Content-Type", "text/plain")])
        return [b"no such download: " + seen["status"].encode() + b"\n"]
    name = "Alice's " + posixpath.basename(wanted)
    disposition = "attachment; filename*=UTF-8''" + quote(name, safe="")
    start_response(seen["status"], seen["headers"] + [("Content-Disposition", disposition)])
    return body
