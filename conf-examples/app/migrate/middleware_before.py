"""Before: a WSGI app whose file answers xsendfile_middleware turns into X-Accel-Redirect (docs/migrate-xsendfile-middleware.md)."""

import os
import posixpath
from urllib.parse import parse_qs, quote

from xsendfile_middleware import xsendfile_middleware

FILES = os.environ["DOWNLOADS_ROOT"]


def downloads(environ, start_response):
    wanted = parse_qs(environ.get("QUERY_STRING", "")).get("file", [""])[0]
    path = os.path.join(FILES, wanted)
    if not os.path.isfile(path):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    name = "Report of " + posixpath.basename(wanted)
    disposition = "attachment; filename*=UTF-8''" + quote(name, safe="")
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Disposition", disposition)])
    return environ["wsgi.file_wrapper"](open(path, "rb"))


downloads = xsendfile_middleware(downloads)


def application(environ, start_response):
    # What nginx passes with `uwsgi_param X_REDIRECT_MAP ...;` under uWSGI; behind proxy_pass the
    # app sets it.
    environ["X_REDIRECT_MAP"] = FILES + "/=/_files/"
    return downloads(environ, start_response)
