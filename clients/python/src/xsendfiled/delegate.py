"""Delegation: the headers with which an application hands a download to xsendfiled.

The application answers nginx with ``X-Accel-Redirect: /_xsendfiled/<path>?<policy>``; nginx
follows it to its ``internal`` location that passes the request to xsendfiled, which trusts that
query there only (``XSENDFILED_TRUST_QUERY``), checks the path under its root, names the file for
nginx and sets ``Content-Type`` and ``Content-Disposition``. See
conf-examples/nginx-app-delegation-proxy.conf in the xsendfiled repository.
"""

import os
from urllib.parse import urlencode

from .sdl1 import _valid_filename, url_path

__all__ = ["DISPOSITIONS", "delegate", "redirect_target"]

#: The dispositions the daemon's trusted ``disposition`` parameter takes.
DISPOSITIONS = ("auto", "inline", "attachment", "none")


def _path_bytes(path):
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, str):
        # Names from os.listdir() that are not UTF-8 come back as their own bytes.
        return path.encode("utf-8", "surrogateescape")
    if isinstance(path, (bytes, bytearray)):
        return bytes(path)
    raise TypeError(f"path must be str, bytes or os.PathLike, not {type(path).__name__}")


def redirect_target(
    path,
    filename=None,
    disposition=None,
    internal_prefix="/_xsendfiled",
    *,
    root=None,
    cache_control=None,
    expires=None,
    limit_rate=None,
    buffering=None,
    accel_expires=None,
):
    """The ``X-Accel-Redirect`` value for ``path`` (relative to xsendfiled's root; one leading
    ``/`` is ignored): the internal prefix, the path percent-encoded byte by byte (so nginx decodes
    it back to exactly these bytes), and the trusted policy form-encoded as the daemon reads it.
    The path is not judged here: xsendfiled refuses a hostile or missing one with 404."""
    if not isinstance(internal_prefix, str) or not internal_prefix.startswith("/") or "?" in internal_prefix:
        raise ValueError(f"internal_prefix {internal_prefix!r} must be a URI path starting with /")
    raw = _path_bytes(path)
    if raw.startswith(b"/"):
        raw = raw[1:]
    query = []
    if filename is not None:
        if not isinstance(filename, str) or not _valid_filename(filename):
            raise ValueError(f"filename {filename!r} must be 1-255 bytes without control characters, / or \\")
        query.append(("filename", filename))
    if disposition is not None:
        if disposition not in DISPOSITIONS:
            raise ValueError(f"disposition {disposition!r} must be one of {', '.join(DISPOSITIONS)}")
        query.append(("disposition", disposition))
    if root is not None:
        query.append(("root", os.fsdecode(root)))
    for name, value in (
        ("cache_control", cache_control),
        ("expires", expires),
        ("limit_rate", limit_rate),
        ("buffering", buffering),
        ("accel_expires", accel_expires),
    ):
        if value is not None:
            if isinstance(value, bool):
                value = "yes" if value else "no"
            text = str(value)
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
                raise ValueError(f"{name} {text!r} contains a control character")
            query.append((name, text))
    target = internal_prefix.rstrip("/") + "/" + url_path(raw)
    if query:
        target += "?" + urlencode(query)
    return target


def delegate(path, filename=None, disposition=None, internal_prefix="/_xsendfiled", **policy):
    """The response headers that hand ``path`` (relative to xsendfiled's root) to xsendfiled, as a
    dict: ``X-Accel-Redirect`` (see ``redirect_target``; ``policy`` takes its other keyword
    arguments: ``root``, ``cache_control``, ``expires``, ``limit_rate``, ``buffering``,
    ``accel_expires``) and ``Content-Type: application/octet-stream`` without a charset (nginx
    would keep a charset on the file it finally sends; xsendfiled sets the file's real type).

    Give ``filename``/``disposition`` to let xsendfiled write the one ``Content-Disposition``; an
    app that writes its own instead must leave them out (nginx keeps the app's header and the
    delegation location passes it on as ``XSENDFILED_APP_DISPOSITION``, so xsendfiled adds none).
    """
    return {
        "X-Accel-Redirect": redirect_target(path, filename, disposition, internal_prefix, **policy),
        "Content-Type": "application/octet-stream",
    }
