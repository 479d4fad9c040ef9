"""Asking: the application asks xsendfiled directly over its app socket (``--app-socket PATH``)
and gets the decision and the exact reply the web server would get, to inspect and return as its
own response (nginx then follows ``X-Accel-Redirect`` as usual)::

    client = Client("/run/xsendfiled/app.sock")
    answer = client.ask("reports/q3.pdf", filename="Q3 report.pdf", disposition="attachment")
    if answer.status == 404:
        ...                       # the app's own "no such report" page
    return answer.to_django()     # or: status_line, headers = answer.wsgi()

The request is ``GET /<path percent-encoded>?<trusted query>`` over HTTP/1.1 on the Unix socket
(the standard library's ``http.client``); the answer never has a body. ``Answer.headers`` are the
ones to forward: every field but ``Xsendfiled-*``, ``Content-Length``, ``Connection`` and
``Date``; the ``Xsendfiled-*`` fields become ``decision``, ``reason``, ``file``, ``size`` and
``mtime``.
"""

import http.client
import socket
from urllib.parse import unquote_to_bytes

from .delegate import redirect_target

__all__ = ["Answer", "AskError", "Client"]

#: Fields of the daemon's answer that are about the connection or for the application only.
_NOT_FORWARDED = ("content-length", "connection", "date", "keep-alive", "transfer-encoding")


class AskError(OSError):
    """The daemon could not be asked (no socket, no answer, not an ask answer)."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("xsendfiled", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self._path)
        except OSError:
            s.close()
            raise
        self.sock = s


class Answer:
    """xsendfiled's answer: ``status`` (int) and ``reason_phrase``, ``headers`` (pairs to
    forward, in order), ``decision`` (``"send"`` or ``"refuse"``), ``reason`` (why, on a
    refusal), and on a send ``file`` (the canonical path relative to its root, as bytes), ``size``
    (bytes) and ``mtime`` (Unix seconds); ``raw_headers`` holds every field received."""

    def __init__(self, status, reason_phrase, raw_headers):
        self.status = status
        self.reason_phrase = reason_phrase
        self.raw_headers = list(raw_headers)
        self.headers = [
            (k, v)
            for k, v in self.raw_headers
            if not k.lower().startswith("xsendfiled-") and k.lower() not in _NOT_FORWARDED
        ]
        self.decision = self._field("Xsendfiled-Decision")
        self.reason = self._field("Xsendfiled-Reason")
        file = self._field("Xsendfiled-File")
        self.file = unquote_to_bytes(file) if file is not None else None
        size, mtime = self._field("Xsendfiled-Size"), self._field("Xsendfiled-Mtime")
        self.size = int(size) if size is not None else None
        self.mtime = int(mtime) if mtime is not None else None

    def _field(self, name):
        for k, v in self.raw_headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def sent(self):
        """Whether xsendfiled allowed the file."""
        return self.decision == "send"

    def header(self, name):
        """The first forwarded header called ``name`` (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def status_line(self):
        return f"{self.status} {self.reason_phrase or http.client.responses.get(self.status, '')}".rstrip()

    def wsgi(self):
        """``(status_line, headers)`` for a WSGI ``start_response``; the body is empty
        (``Content-Length: 0`` is added)."""
        return self.status_line, self.headers + [("Content-Length", "0")]

    def to_django(self):
        """A Django ``HttpResponse`` with this status and the forwarded headers, and no body."""
        from django.http import HttpResponse

        response = HttpResponse(b"", status=self.status, content_type=self.header("Content-Type"))
        for k, v in self.headers:
            if k.lower() != "content-type":
                response[k] = v
        return response

    def __repr__(self):
        return f"<Answer {self.status} {self.decision} {self.reason or self.file!r}>"


class Client:
    """A client bound to xsendfiled's app socket (``--app-socket PATH``)."""

    def __init__(self, socket_path, timeout=10.0):
        self.socket_path = str(socket_path)
        self.timeout = timeout

    def ask(self, path, filename=None, disposition=None, method="GET", **query):
        """Asks about ``path`` (what the application would put after the internal prefix in
        ``X-Accel-Redirect``: relative to the root, after any ``--strip-prefix``), with the trusted
        ``filename``, ``disposition`` and ``query`` (``root``, ``cache_control``, ``expires``,
        ``limit_rate``, ``buffering``, ``accel_expires``). ``method`` is ``GET`` or ``HEAD`` (the
        daemon answers others 405). Returns an ``Answer``; raises ``AskError`` when the daemon
        cannot be reached."""
        target = redirect_target(path, filename, disposition, "/", **query)
        conn = _UnixConnection(self.socket_path, self.timeout)
        try:
            conn.request(method, target, headers={"Host": "xsendfiled"})
            r = conn.getresponse()
            r.read()
            answer = Answer(r.status, r.reason, r.getheaders())
        except (OSError, http.client.HTTPException) as e:
            raise AskError(f"asking xsendfiled on {self.socket_path}: {e}") from e
        finally:
            conn.close()
        if answer.decision is None:
            raise AskError(f"{self.socket_path} is not xsendfiled's app socket (no Xsendfiled-Decision)")
        return answer
