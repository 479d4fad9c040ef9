"""``XSendfileApplication``: wsgi-xsendfile's call-and-inspect API, answered by xsendfiled.

An application calls it with the request's ``environ`` and a ``start_response`` of its own, looks
at the status and headers, and then returns them (or something else)::

    downloads = XSendfileApplication("/srv/files")

    def app(environ, start_response):
        seen = {}
        body = downloads(environ, lambda status, headers, exc_info=None: seen.update(status=status, headers=headers))
        if seen["status"].startswith("404"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such report\\n"]
        start_response(seen["status"], seen["headers"] + [("Content-Disposition", "attachment")])
        return body

It answers 405 to methods other than GET and HEAD, 404 to hostile, hidden and missing paths itself,
and otherwise ``200`` with ``X-Accel-Redirect`` to xsendfiled's internal location (the daemon
checks the path again and names the file for nginx). ``answer(environ)`` returns the same as a
``Reply`` without a ``start_response``.

With ``ask=`` (xsendfiled's app socket path, or a ``Client``) it asks the daemon instead of
delegating blindly: the status and headers are xsendfiled's own decision (a 404 for a file the
daemon refuses is seen by the application before it answers), ``environ["xsendfiled.answer"]``
holds the ``Answer`` (size, mtime, reason).
"""

import os

from . import _files
from .ask import Client
from .delegate import delegate

__all__ = ["BadRootError", "BadSenderError", "Reply", "XSendfileApplication"]


class BadRootError(ValueError):
    """The root directory is not an absolute path to an existing directory."""


class BadSenderError(ValueError):
    """The file sender is not one this package supports."""


class Reply:
    """What the application answered: ``status`` (``"200 OK"``), ``headers`` (a list of pairs)
    and ``body`` (an iterable of bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def code(self):
        return int(self.status.split(" ", 1)[0])

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def _refuse(start_response, status, extra=()):
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"), *extra])
    return [status.split(" ", 1)[1].lower().encode() + b"\n"]


class XSendfileApplication:
    """WSGI application that hands files under ``root_directory`` to xsendfiled.

    ``root_directory``: the absolute path of xsendfiled's ``--root`` (the same directory: the
    redirect names the path relative to it). ``file_sender``: ``"nginx"`` (the default:
    ``X-Accel-Redirect`` to ``internal_prefix``, the nginx location that passes to xsendfiled),
    ``"serve"`` (send the file from Python: development without a server in front) or a WSGI
    application, called with ``environ["xsendfile.requested_file"]`` set to the file's absolute
    path. ``allow_hidden``: serve names starting with ``.`` (the daemon needs ``--allow-hidden``
    too).

    ``ask``: the path of xsendfiled's app socket (or a ``Client``): ask the daemon for its decision
    and reply instead of delegating without knowing it (``file_sender`` is then not used).

    Per request, ``environ["xsendfiled.filename"]`` and ``environ["xsendfiled.disposition"]``
    (``attachment``, ``inline``, ``auto``, ``none``) become the download name and type that
    xsendfiled writes in the one ``Content-Disposition``.
    """

    def __init__(
        self, root_directory, file_sender=None, internal_prefix="/_xsendfiled", allow_hidden=False, ask=None
    ):
        root = os.fspath(root_directory)
        if not os.path.isabs(root):
            raise BadRootError(f"root directory {root!r} is not absolute")
        if not os.path.isdir(root):
            raise BadRootError(f"root directory {root!r} does not exist or is not a directory")
        self.root = os.path.realpath(root)
        self.internal_prefix = internal_prefix
        self.allow_hidden = allow_hidden
        self.client = ask if ask is None or isinstance(ask, Client) else Client(ask)
        if self.client is not None:
            self._sender = self._ask
        elif file_sender in (None, "nginx"):
            self._sender = self._delegate
        elif file_sender == "serve":
            self._sender = self._serve
        elif callable(file_sender):
            self._sender = file_sender
        else:
            # wsgi-xsendfile's "standard" wrote Apache's X-Sendfile with the absolute path; with
            # xsendfiled the application delegates to nginx, or Apache runs xsendfiled itself.
            raise BadSenderError(f"unknown file sender {file_sender!r}: use 'nginx', 'serve' or a WSGI application")

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in ("GET", "HEAD"):
            return _refuse(start_response, "405 Method Not Allowed", [("Allow", "GET, HEAD")])
        # PEP 3333: PATH_INFO is the decoded path, its bytes carried as latin-1. It is never
        # decoded again (wsgi-xsendfile did, so a file named a%41.txt could not be sent).
        rel = environ.get("PATH_INFO", "").encode("latin-1")
        real = _files.resolve(self.root, rel, self.allow_hidden)
        if real is None:
            return _refuse(start_response, "404 Not Found")
        environ["xsendfile.requested_file"] = os.fsdecode(real)
        environ["xsendfiled.path"] = rel.lstrip(b"/")
        return self._sender(environ, start_response)

    def answer(self, environ):
        """Calls the application and returns its Reply (status, headers, body) to inspect."""
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, list(headers)
            return lambda data: None

        body = self(environ, start_response)
        return Reply(seen["status"], seen["headers"], body)

    def _delegate(self, environ, start_response):
        headers = delegate(
            environ["xsendfiled.path"],
            filename=environ.get("xsendfiled.filename"),
            disposition=environ.get("xsendfiled.disposition"),
            internal_prefix=self.internal_prefix,
        )
        # The body is empty: nginx acts on the header and sends the file it names.
        start_response("200 OK", list(headers.items()) + [("Content-Length", "0")])
        return [b""]

    def _ask(self, environ, start_response):
        answer = self.client.ask(
            environ["xsendfiled.path"],
            filename=environ.get("xsendfiled.filename"),
            disposition=environ.get("xsendfiled.disposition"),
            method=environ.get("REQUEST_METHOD", "GET").upper(),
        )
        environ["xsendfiled.answer"] = answer
        start_response(*answer.wsgi())
        return [b""]

    def _serve(self, environ, start_response):
        real = environ["xsendfile.requested_file"]
        f = open(real, "rb")
        size = os.fstat(f.fileno()).st_size
        headers = [("Content-Type", _files.content_type(real)), ("Content-Length", str(size))]
        disposition = environ.get("xsendfiled.disposition")
        name = environ.get("xsendfiled.filename")
        if disposition in ("attachment", "inline") or name:
            headers.append(("Content-Disposition", _files.content_disposition(disposition or "attachment", name)))
        start_response("200 OK", headers)
        if environ.get("REQUEST_METHOD", "GET").upper() == "HEAD":
            f.close()
            return [b""]
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(f, 65536)
        return _chunks(f)


def _chunks(f):
    with f:
        while True:
            block = f.read(65536)
            if not block:
                return
            yield block
