"""The checks an application makes before it hands a path on or, in development, sends the file
itself: the same rules as the daemon's, so the answer does not depend on which one decided."""

import mimetypes
import os
import stat

# Types the daemon gives that Python's table lacks or gets wrong for a download (a compressed
# archive is its own type, never a Content-Encoding of another one).
_TYPES = {".gz": "application/gzip", ".tgz": "application/gzip", ".bz2": "application/x-bzip2",
          ".xz": "application/x-xz", ".zst": "application/zstd", ".br": "application/x-brotli"}


def split_relative(rel, allow_hidden=False):
    """The segments of ``rel`` (bytes, relative to a root, one leading ``/`` ignored), or None
    when the path is refused: empty, ``.``/``..``/empty segments, control characters, backslash,
    invalid UTF-8, or a hidden name (a segment starting with ``.``) unless ``allow_hidden``."""
    if rel.startswith(b"/"):
        rel = rel[1:]
    if not rel or any(b < 0x20 or b == 0x7F or b == 0x5C for b in rel):
        return None
    try:
        rel.decode("utf-8")
    except UnicodeDecodeError:
        return None
    segments = rel.split(b"/")
    for s in segments:
        if s in (b"", b".", b"..") or (s.startswith(b".") and not allow_hidden):
            return None
    return segments


def resolve(root, rel, allow_hidden=False):
    """The real path (bytes) of the regular file ``rel`` names under ``root``, or None.

    ``root`` must be a real path (no symlink in it). Symlinks inside the root are followed; one
    whose target leaves the root (compared segment by segment, so ``/srv/files`` never reaches
    ``/srv/files-private``) or is hidden is refused, and so is anything but a regular file."""
    segments = split_relative(rel, allow_hidden)
    if segments is None:
        return None
    root_b = os.fsencode(root).rstrip(b"/") or b"/"
    real = os.path.realpath(os.path.join(root_b, *segments))
    base = root_b if root_b.endswith(b"/") else root_b + b"/"
    if not real.startswith(base):
        return None
    if split_relative(real[len(base):], allow_hidden) is None:
        return None
    try:
        st = os.stat(real)
    except OSError:
        return None
    return real if stat.S_ISREG(st.st_mode) else None


def content_type(path):
    """The file's type from its extension, without a charset and never with an encoding."""
    name = os.fsdecode(path).lower()
    for ext, t in _TYPES.items():
        if name.endswith(ext):
            return t
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def content_disposition(kind, name=None):
    """A ``Content-Disposition`` value: ``kind`` (``attachment`` or ``inline``) and, for a name,
    an ASCII ``filename`` fallback and, when the name is not plain ASCII, RFC 8187 ``filename*``."""
    if not name:
        return kind
    from urllib.parse import quote

    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in name)
    value = f'{kind}; filename="{fallback}"'
    if fallback != name:
        value += "; filename*=UTF-8''" + quote(name, safe="!#$&+-.^_`|~")
    return value
