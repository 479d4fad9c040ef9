"""``Client(socket).ask()`` and ``XSendfileApplication(ask=...)`` against a real xsendfiled started
here on an app socket (``XSENDFILED_BIN``, set by test.sh; a missing one fails the tests)."""

import os
import pathlib
import subprocess
import time

import pytest

from conftest import SERVABLE
from xsendfiled import Answer, AskError, Client, XSendfileApplication, url_path

BIN = os.environ.get("XSENDFILED_BIN", "")


@pytest.fixture
def daemon(tree, tmp_path):
    if not (BIN and os.access(BIN, os.X_OK)):
        pytest.fail("no xsendfiled binary: set XSENDFILED_BIN (clients/python/test.sh does)")
    sock = tmp_path / "app.sock"
    log = open(tmp_path / "xsendfiled.log", "wb")
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_INTERFACE" and not k.startswith("XSENDFILED_")}
    proc = subprocess.Popen(
        [BIN, "--root", str(tree), "--internal-prefix", "/_protected", "--app-socket", str(sock)],
        stdout=log,
        stderr=log,
        env=env,
    )
    try:
        for _ in range(500):  # bounded: 10 s
            if sock.exists():
                break
            assert proc.poll() is None, (tmp_path / "xsendfiled.log").read_text()
            time.sleep(0.02)
        else:
            pytest.fail("the app socket did not appear")
        yield Client(sock)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    assert not sock.exists(), "the daemon removes its socket"


def test_tricky_names(daemon, tree):
    for name, body in SERVABLE.items():
        a = daemon.ask(name)
        assert a.status == 200, (name, a)
        assert a.sent and a.decision == "send"
        assert a.header("X-Accel-Redirect") == "/_protected/" + url_path(name.encode()), name
        assert a.file == name.encode(), name
        assert a.size == len(body)
        assert a.mtime == int(os.stat(tree / name).st_mtime)
        names = [k.lower() for k, _ in a.headers]
        assert names.count("content-disposition") == 1, name
        assert not any(n.startswith("xsendfiled-") or n in ("content-length", "date") for n in names)


def test_refusals(daemon):
    for path in ("missing.txt", ".hidden", "../outside/secret.txt", "link-out.txt", "fifo"):
        a = daemon.ask(path)
        assert a.status == 404, (path, a)
        assert a.decision == "refuse" and a.reason, path
        assert a.file is None and a.size is None
        assert a.header("Cache-Control") == "no-store"
    assert "hidden" in daemon.ask(".hidden").reason
    post = daemon.ask("plain.txt", method="POST")
    assert post.status == 405 and post.header("Allow") == "GET, HEAD"


def test_trusted_query_and_head(daemon):
    a = daemon.ask("a b.txt", filename="Q3 report+ü.pdf", disposition="attachment", cache_control="private")
    cd = a.header("Content-Disposition")
    assert cd.startswith("attachment;") and "Q3%20report+%C3%BC.pdf" in cd, cd
    assert a.header("Cache-Control") == "private"
    head = daemon.ask("plain.txt", method="HEAD")
    assert head.status == 200 and head.size == len(SERVABLE["plain.txt"])


def test_wsgi_tuple():
    a = Answer(404, "Not Found", [("Content-Type", "text/plain"), ("Xsendfiled-Decision", "refuse"),
                                  ("Xsendfiled-Reason", "no such file"), ("Content-Length", "0"), ("Date", "x")])
    assert a.wsgi() == ("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    assert a.reason == "no such file" and not a.sent


def test_no_daemon(tmp_path):
    with pytest.raises(AskError):
        Client(tmp_path / "nothing.sock").ask("plain.txt")


def test_xsendfile_application_asks(daemon, tree):
    app = XSendfileApplication(tree, ask=daemon)
    reply = app.answer({"REQUEST_METHOD": "GET", "PATH_INFO": "/a b.txt", "xsendfiled.filename": "x y.txt"})
    assert reply.code == 200
    assert reply.header("X-Accel-Redirect") == "/_protected/a%20b.txt"
    assert reply.header("Content-Disposition") == 'inline; filename="x y.txt"'
    # A file the local check lets through but the daemon refuses: the app sees the daemon's 404.
    (pathlib.Path(tree) / "gone.txt").write_bytes(b"x")
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/gone.txt"}
    os.chmod(tree / "gone.txt", 0o000)
    reply = app.answer(env)
    os.chmod(tree / "gone.txt", 0o644)
    assert reply.code in (200, 403, 404)  # root may read anything; the status is the daemon's own
    assert env["xsendfiled.answer"].status == reply.code


def test_to_django(daemon):
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEFAULT_CHARSET="utf-8")
    del django
    r = daemon.ask("plain.txt", filename="My Page.html", disposition="attachment").to_django()
    assert r.status_code == 200
    assert r["X-Accel-Redirect"] == "/_protected/plain.txt"
    assert r["Content-Type"] == "text/plain"
    assert r["Content-Disposition"] == 'attachment; filename="My Page.html"'
    assert "Xsendfiled-Decision" not in r
    assert daemon.ask("missing.txt").to_django().status_code == 404
