"""After: the same Flask app handing its downloads to xsendfiled (docs/migrate-flask.md)."""

import os
import posixpath

from flask import Flask, abort, request
from xsendfiled import delegate

FILES = os.environ["DOWNLOADS_ROOT"]

app = Flask(__name__)


@app.get("/download")
def download():
    wanted = request.args.get("file", "")
    path = os.path.join(FILES, wanted)
    if not os.path.isfile(path):
        abort(404)
    name = "Report of " + posixpath.basename(wanted)
    return "", 200, delegate(wanted, filename=name, disposition="attachment")


application = app
