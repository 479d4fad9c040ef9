"""XSendfileApplication: wsgi-xsendfile's call-and-inspect shape, answered with a delegation."""

import io
from urllib.parse import parse_qsl, unquote_to_bytes

import pytest

from conftest import HOSTILE, SERVABLE
from xsendfiled import BadRootError, BadSenderError, XSendfileApplication


def environ(path, method="GET", **extra):
    # PEP 3333: PATH_INFO carries the decoded bytes as latin-1.
    raw = path.encode("utf-8") if isinstance(path, str) else path
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": raw.decode("latin-1"),
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
    }
    env.update(extra)
    return env


def call(app, env):
    """Calls the app the way an application does: with its own start_response, then inspects."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    body = b"".join(app(env, start_response))
    return seen["status"], dict(seen["headers"]), body


@pytest.mark.parametrize("name", sorted(SERVABLE))
def test_servable_names_are_delegated(tree, name):
    status, headers, body = call(XSendfileApplication(str(tree)), environ("/" + name))
    assert status == "200 OK"
    assert body == b""
    target = headers["X-Accel-Redirect"]
    assert target.startswith("/_xsendfiled/") and "?" not in target
    assert unquote_to_bytes(target) == b"/_xsendfiled/" + name.encode()
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Length"] == "0"


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_and_missing_paths_are_404(tree, name):
    status, headers, body = call(XSendfileApplication(str(tree)), environ("/" + name))
    assert status == "404 Not Found"
    assert "X-Accel-Redirect" not in headers
    assert b"SECRET" not in body


def test_path_info_is_not_decoded_again(tree):
    # The server decoded /%2541.txt to /%41.txt once; that is the file, not A.txt.
    status, headers, _ = call(XSendfileApplication(str(tree)), environ("/%41.txt"))
    assert status == "200 OK" and headers["X-Accel-Redirect"] == "/_xsendfiled/%2541.txt"


def test_symlink_inside_the_root_is_delegated_as_requested(tree):
    status, headers, _ = call(XSendfileApplication(str(tree)), environ("/link-in.txt"))
    assert (status, headers["X-Accel-Redirect"]) == ("200 OK", "/_xsendfiled/link-in.txt")


def test_call_and_inspect(tree):
    """The app inspects the answer before returning it: 404 becomes its own page; 200 gets the
    name and type it chose, which xsendfiled writes as the one Content-Disposition."""
    downloads = XSendfileApplication(str(tree))

    def app(env, start_response):
        env["xsendfiled.filename"] = "Report 2026.txt"
        env["xsendfiled.disposition"] = "attachment"
        seen = {}
        body = downloads(env, lambda s, h, exc_info=None: seen.update(status=s, headers=h))
        if seen["status"].startswith("404"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such report\n"]
        start_response(seen["status"], seen["headers"])
        return body

    status, headers, body = call(app, environ("/a b.txt"))
    assert status == "200 OK"
    path, _, query = headers["X-Accel-Redirect"].partition("?")
    assert path == "/_xsendfiled/a%20b.txt"
    assert dict(parse_qsl(query)) == {"filename": "Report 2026.txt", "disposition": "attachment"}
    assert call(app, environ("/missing.txt"))[2] == b"no such report\n"


def test_answer_returns_the_reply(tree):
    reply = XSendfileApplication(str(tree), internal_prefix="/guard").answer(environ("/sub/deep/er/file.txt"))
    assert (reply.code, reply.header("x-accel-redirect")) == (200, "/guard/sub/deep/er/file.txt")
    assert XSendfileApplication(str(tree)).answer(environ("/.hidden")).code == 404


def test_methods(tree):
    app = XSendfileApplication(str(tree))
    assert call(app, environ("/plain.txt", "HEAD"))[0] == "200 OK"
    status, headers, _ = call(app, environ("/plain.txt", "POST"))
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "GET, HEAD")


def test_hidden_names_when_allowed(tree):
    app = XSendfileApplication(str(tree), allow_hidden=True)
    assert call(app, environ("/.hidden"))[0] == "200 OK"
    assert call(app, environ("/link-out.txt"))[0] == "404 Not Found"


def test_serve_sends_the_file_itself(tree):
    app = XSendfileApplication(str(tree), "serve")
    status, headers, body = call(app, environ("/dir with space/ä ö.txt"))
    assert (status, body) == ("200 OK", b"nested unicode\n")
    assert headers["Content-Type"] == "text/plain" and headers["Content-Length"] == "15"
    status, headers, body = call(app, environ("/archive.tar.gz"))
    assert headers["Content-Type"] == "application/gzip" and "Content-Encoding" not in headers
    env = environ("/ü.txt", **{"xsendfiled.filename": "Ü 1.txt"})
    assert call(app, env)[1]["Content-Disposition"] == "attachment; filename=\"_ 1.txt\"; filename*=UTF-8''%C3%9C%201.txt"
    assert call(app, environ("/plain.txt", "HEAD"))[2] == b""
    assert call(app, environ("/link-out.txt"))[0] == "404 Not Found"


def test_a_wsgi_sender_gets_the_file(tree):
    def sender(env, start_response):
        start_response("200 OK", [("X-File", env["xsendfile.requested_file"])])
        return [b""]

    _, headers, _ = call(XSendfileApplication(str(tree), sender), environ("/link-in.txt"))
    assert headers["X-File"] == str(tree / "plain.txt")


def test_bad_roots_and_senders(tree):
    with pytest.raises(BadRootError):
        XSendfileApplication("relative/root")
    with pytest.raises(BadRootError):
        XSendfileApplication(str(tree / "plain.txt"))
    with pytest.raises(BadSenderError):
        XSendfileApplication(str(tree), "standard")
