"""delegate(): the X-Accel-Redirect an app answers, encoded so nginx and xsendfiled read back
exactly the path and the policy the app meant."""

import pathlib
from urllib.parse import parse_qsl, unquote_to_bytes

import pytest

from xsendfiled import delegate, redirect_target

# (path, filename, disposition) -> X-Accel-Redirect
TABLE = [
    (("plain.txt",), "/_xsendfiled/plain.txt"),
    (("/plain.txt",), "/_xsendfiled/plain.txt"),
    (("a b.txt",), "/_xsendfiled/a%20b.txt"),
    (("1+1=2.txt",), "/_xsendfiled/1%2B1%3D2.txt"),
    (("100%.txt",), "/_xsendfiled/100%25.txt"),
    (("%41.txt",), "/_xsendfiled/%2541.txt"),
    (("q?x.txt",), "/_xsendfiled/q%3Fx.txt"),
    (("h#x.txt",), "/_xsendfiled/h%23x.txt"),
    (("semi;colon=1&x+y.txt",), "/_xsendfiled/semi%3Bcolon%3D1%26x%2By.txt"),
    (("quote'\"`.txt",), "/_xsendfiled/quote%27%22%60.txt"),
    (("ü.txt",), "/_xsendfiled/%C3%BC.txt"),
    (("是.txt",), "/_xsendfiled/%E6%98%AF.txt"),
    (("trail ",), "/_xsendfiled/trail%20"),
    (("dir with space/ä ö.txt",), "/_xsendfiled/dir%20with%20space/%C3%A4%20%C3%B6.txt"),
    (("Tilde~Dash-Dot.Under_score.txt",), "/_xsendfiled/Tilde~Dash-Dot.Under_score.txt"),
    ((b"\xff.txt",), "/_xsendfiled/%FF.txt"),
    ((pathlib.PurePosixPath("sub/in.txt"),), "/_xsendfiled/sub/in.txt"),
    # Hostile paths are encoded, not judged: xsendfiled answers 404.
    (("../etc/passwd",), "/_xsendfiled/../etc/passwd"),
    (("a\r\nX-Injected: 1",), "/_xsendfiled/a%0D%0AX-Injected%3A%201"),
    # The policy: form-encoded, as the daemon reads a trusted query (+ is a space, %2B a plus).
    (("r.pdf", "Q3 report.pdf", "attachment"), "/_xsendfiled/r.pdf?filename=Q3+report.pdf&disposition=attachment"),
    (("r.pdf", "1+1 & a=b;c.pdf"), "/_xsendfiled/r.pdf?filename=1%2B1+%26+a%3Db%3Bc.pdf"),
    (("r.pdf", "Résumé 履歴書.pdf"), "/_xsendfiled/r.pdf?filename=R%C3%A9sum%C3%A9+%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf"),
    (("r.pdf", "Alice's \"q\" 100%.pdf"), "/_xsendfiled/r.pdf?filename=Alice%27s+%22q%22+100%25.pdf"),
    (("r.pdf", None, "inline"), "/_xsendfiled/r.pdf?disposition=inline"),
]


@pytest.mark.parametrize("args,want", TABLE, ids=[repr(a) for a, _ in TABLE])
def test_redirect_encoding(args, want):
    headers = delegate(*args)
    assert headers["X-Accel-Redirect"] == want
    assert headers["Content-Type"] == "application/octet-stream"
    # What nginx decodes (the path, once) and xsendfiled reads (the query, form-decoded) is exactly
    # what the app gave.
    path, _, query = want.partition("?")
    raw = args[0] if isinstance(args[0], bytes) else str(args[0]).encode()
    assert unquote_to_bytes(path) == b"/_xsendfiled/" + (raw[1:] if raw.startswith(b"/") else raw)
    policy = dict(parse_qsl(query))
    if len(args) > 1 and args[1] is not None:
        assert policy["filename"] == args[1]
    if len(args) > 2:
        assert policy["disposition"] == args[2]


def test_every_byte_round_trips():
    name = bytes(b for b in range(1, 256) if b != ord("/"))
    target = redirect_target(name)
    assert all(0x21 <= ord(c) < 0x7F for c in target)
    assert unquote_to_bytes(target) == b"/_xsendfiled/" + name


def test_internal_prefix_and_policy():
    h = delegate("a.txt", internal_prefix="/files-guard/")
    assert h["X-Accel-Redirect"] == "/files-guard/a.txt"
    t = redirect_target(
        "a.txt",
        root="/srv/files/reports",
        cache_control="private, max-age=60",
        expires=3600,
        limit_rate=1048576,
        buffering=False,
        accel_expires=0,
    )
    assert t == (
        "/_xsendfiled/a.txt?root=%2Fsrv%2Ffiles%2Freports&cache_control=private%2C+max-age%3D60"
        "&expires=3600&limit_rate=1048576&buffering=no&accel_expires=0"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(filename="a/b.txt"),
        dict(filename="a\\b.txt"),
        dict(filename="a\nb.txt"),
        dict(filename=""),
        dict(filename="x" * 256),
        dict(disposition="download"),
        dict(internal_prefix="_xsendfiled"),
        dict(internal_prefix="/x?y"),
        dict(cache_control="a\r\nb"),
    ],
)
def test_refused_arguments(kwargs):
    with pytest.raises(ValueError):
        delegate("a.txt", **kwargs)


def test_path_type():
    with pytest.raises(TypeError):
        delegate(42)
