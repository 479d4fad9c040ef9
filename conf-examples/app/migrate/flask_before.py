"""Before: a Flask app whose send_file Werkzeug turns into X-Sendfile (docs/migrate-flask.md)."""

import os
import posixpath

from flask import Flask, abort, request, send_file

FILES = os.environ["DOWNLOADS_ROOT"]

app = Flask(__name__)
app.config["USE_X_SENDFILE"] = True


@app.get("/download")
def download():
    wanted = request.args.get("file", "")
    path = os.path.join(FILES, wanted)
    if not os.path.isfile(path):
        abort(404)
    name = "Report of " + posixpath.basename(wanted)
    return send_file(path, as_attachment=True, download_name=name)


application = app
