"""An application delegating a download to xsendfiled, as a plain WSGI callable (served by
gunicorn behind nginx proxy_pass; any WSGI framework sets the same two headers).

It decides *who* may have *which* file, then answers nginx with X-Accel-Redirect to the internal
/_xsendfiled/ location. xsendfiled checks the path, names the file for nginx and sets Content-Type
and Content-Disposition. (The test suite runs this file: tests/app_delegation_proxy.rs.)
"""

import posixpath
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote


def application(environ, start_response):
    cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    if "session" not in cookies or cookies["session"].value != "alice":
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"please log in\n"]
    wanted = parse_qs(environ.get("QUERY_STRING", "")).get("file", [""])[0]
    name = "Alice's " + posixpath.basename(wanted)
    uri = "/_xsendfiled/" + quote(wanted, safe="/") + "?filename=" + quote(name, safe="") + "&disposition=attachment"
    headers = [("Content-Type", "application/octet-stream"), ("X-Accel-Redirect", uri)]
    if parse_qs(environ.get("QUERY_STRING", "")).get("own") == ["1"]:
        # An app that names the download itself, as send_file-style helpers do: nginx passes this
        # header on to xsendfiled as XSENDFILED_APP_DISPOSITION, and xsendfiled adds none.
        headers.append(("Content-Disposition", 'attachment; filename="chosen-by-app.txt"'))
    # No charset: nginx would keep this reply's charset on the file it finally sends.
    start_response("200 OK", headers)
    return [b""]
