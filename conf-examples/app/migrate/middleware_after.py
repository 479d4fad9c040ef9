"""After: the same app handing its downloads to xsendfiled (docs/migrate-xsendfile-middleware.md)."""

import os
import posixpath
from urllib.parse import parse_qs

from xsendfiled import delegate

FILES = os.environ["DOWNLOADS_ROOT"]


def downloads(environ, start_response):
    wanted = parse_qs(environ.get("QUERY_STRING", "")).get("file", [""])[0]
    path = os.path.join(FILES, wanted)
    if not os.path.isfile(path):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    name = "Report of " + posixpath.basename(wanted)
    start_response("200 OK", list(delegate(wanted, filename=name, disposition="attachment").items()))
    return []


application = downloads
