"""A django-sendfile2 backend that hands downloads to xsendfiled.

Settings::

    SENDFILE_BACKEND = "xsendfiled.django"
    SENDFILE_ROOT = "/srv/files"      # xsendfiled's --root: the same directory
    SENDFILE_URL = "/_xsendfiled"     # the nginx internal location that passes to xsendfiled

Views keep calling ``django_sendfile.sendfile(request, path, attachment=..., attachment_filename=...)``
unchanged. The backend answers ``X-Accel-Redirect: SENDFILE_URL/<path relative to SENDFILE_ROOT>``;
the name and type of the ``Content-Disposition`` django-sendfile2 writes go into that redirect's
trusted query, so xsendfiled writes the only ``Content-Disposition`` (a value of another shape
stays the app's own, which the nginx location passes to xsendfiled as
``XSENDFILED_APP_DISPOSITION``), and a ``Content-Encoding`` it would add for a ``.gz`` file is
dropped (browsers would unpack the download).

Development fallback: without a server in front, an ``X-Accel-Redirect`` reaches the browser as an
empty page. So the backend sends the file itself, with the same checks as the daemon (nothing
outside ``SENDFILE_ROOT``, no hidden names, regular files only; else 404), when

- ``XSENDFILED_DEVELOPMENT = True`` (which requires ``DEBUG = True``), or
- ``XSENDFILED_DEVELOPMENT`` is unset and ``DEBUG`` is on and the request is served by Django's
  own development server (``runserver``: ``SERVER_SOFTWARE`` starts with ``WSGIServer/``).

``XSENDFILED_DEVELOPMENT = False`` always delegates.
"""

import os
import re
from pathlib import PurePath
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse, Http404, HttpResponse

from . import _files
from .delegate import redirect_target

__all__ = ["sendfile", "development_mode"]


class _HeaderGuard:
    """Keeps the headers that describe a transfer from being set to what they are not.

    django-sendfile2 sets ``Content-Encoding`` from the file's extension after the backend
    returns (``gzip`` for ``.tar.gz``: a browser would unpack the download), and, on a delegating
    response whose body is empty, a ``Content-Length`` of the file's size."""

    _delegating = False

    def __setitem__(self, header, value):
        name = header.lower()
        if name == "content-encoding":
            return
        if name == "content-length" and self._delegating:
            return
        super().__setitem__(header, value)


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TYPE = re.compile(r"\s*(" + _TOKEN + r")\s*")
_PARAM = re.compile(r";\s*(" + _TOKEN + r')\s*=\s*(' + _TOKEN + r'|"(?:[^"\\]|\\.)*")\s*', re.DOTALL)
_EXT_VALUE = re.compile(r"UTF-8''(" + _TOKEN + r")", re.IGNORECASE)


def parse_disposition(value):
    """``(type, name)`` of a ``Content-Disposition`` as django-sendfile2 writes it, read left to
    right (RFC 6266: a type, then ``; name=token-or-quoted-string`` parameters, each at most once;
    the RFC 8187 ``filename*`` preferred over the quoted ``filename``; ``name`` may be None), or
    None when the value is of any other shape, so a name can never smuggle a parameter in."""
    m = _TYPE.match(value)
    if not m or m.group(1).lower() not in ("attachment", "inline"):
        return None
    params, pos = {}, m.end()
    while pos < len(value):
        p = _PARAM.match(value, pos)
        if not p or p.group(1).lower() in params:
            return None
        params[p.group(1).lower()] = p.group(2)
        pos = p.end()
    name = None
    if "filename*" in params:
        ext = _EXT_VALUE.fullmatch(params["filename*"])
        if not ext:
            return None
        try:
            name = unquote(ext.group(1), encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            return None
    elif "filename" in params:
        raw = params["filename"]
        name = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
    return m.group(1).lower(), name


class DelegatingResponse(_HeaderGuard, HttpResponse):
    """An empty response whose ``X-Accel-Redirect`` hands the download to xsendfiled.

    The ``Content-Disposition`` django-sendfile2 sets afterwards is moved into the trusted query
    (``filename``, ``disposition``), so xsendfiled writes the only one, encoded so that every
    browser reads the same name: django-sendfile2 writes an ASCII name only as a quoted
    ``filename``, which browsers percent-decode (``%41.txt`` would be saved as ``A.txt``). A value
    of another shape is left as the app wrote it (nginx passes it on as the app's own)."""

    _delegating = True
    _target = None

    def __setitem__(self, header, value):
        if header.lower() == "content-disposition" and self._target is not None:
            parsed = parse_disposition(value)
            if parsed is not None:
                rel, internal = self._target
                kind, name = parsed
                try:
                    super().__setitem__(
                        "X-Accel-Redirect",
                        redirect_target(rel, filename=name, disposition=kind, internal_prefix=internal),
                    )
                    return
                except ValueError:
                    pass  # a name xsendfiled would refuse: the app's header stays as it is
        super().__setitem__(header, value)


class DevelopmentFileResponse(_HeaderGuard, FileResponse):
    """The file itself, sent by Django (development only)."""


def development_mode(request):
    """Whether this request gets the file from Django rather than from xsendfiled."""
    setting = getattr(settings, "XSENDFILED_DEVELOPMENT", None)
    if setting is None:
        software = request.META.get("SERVER_SOFTWARE", "") if request is not None else ""
        return bool(settings.DEBUG) and software.startswith("WSGIServer/")
    if setting and not settings.DEBUG:
        raise ImproperlyConfigured("XSENDFILED_DEVELOPMENT = True needs DEBUG = True: production delegates to xsendfiled")
    return bool(setting)


def _root():
    root = getattr(settings, "SENDFILE_ROOT", None)
    if not root:
        raise ImproperlyConfigured("You must specify a value for SENDFILE_ROOT (the directory xsendfiled guards)")
    return os.fspath(root)


def _relative(filename, root):
    """The path of ``filename`` below ``root`` as bytes, or Http404."""
    try:
        rel = PurePath(os.fspath(filename)).relative_to(PurePath(root))
    except ValueError:
        raise Http404("not below SENDFILE_ROOT") from None
    return os.fsencode(str(rel)) if str(rel) != "." else b""


def sendfile(request, filename, **kwargs):
    """django-sendfile2's backend call: ``filename`` is the absolute path of the file (already
    joined to ``SENDFILE_ROOT`` and normalised by django-sendfile2). Returns the response."""
    root = _root()
    rel = _relative(filename, root)
    if development_mode(request):
        real = _files.resolve(os.path.realpath(root), rel)
        if real is None:
            raise Http404("not a file that may be sent")
        response = DevelopmentFileResponse(open(real, "rb"))
        response["Content-Type"] = _files.content_type(real)
        return response
    internal = getattr(settings, "SENDFILE_URL", None) or "/_xsendfiled"
    response = DelegatingResponse(content_type="application/octet-stream")
    response["X-Accel-Redirect"] = redirect_target(rel, internal_prefix=str(internal))
    response._target = (rel, str(internal))
    response.headers["Content-Length"] = "0"
    return response
