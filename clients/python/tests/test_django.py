"""The django-sendfile2 backend, through a small Django site (tests/django_site) and Django's test
client: the view calls django_sendfile.sendfile(...) unchanged."""

import os
import sys
from urllib.parse import parse_qs, quote, unquote_to_bytes

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DJANGO_SETTINGS_MODULE"] = "django_site.settings"

import django  # noqa: E402

django.setup()

from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402

from conftest import HOSTILE, SERVABLE  # noqa: E402
from xsendfiled import django as backend  # noqa: E402

RUNSERVER = {"SERVER_SOFTWARE": "WSGIServer/0.2 CPython/3"}


def get(root, name, **extra):
    with override_settings(SENDFILE_ROOT=str(root)):
        client = Client(**extra)
        client.cookies["session"] = "alice"
        response = client.get("/download", {"file": name})
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response, body


def path_of(target):
    """The X-Accel-Redirect without its trusted query."""
    return target.split("?", 1)[0]


def test_the_app_still_decides():
    response = Client().get("/download", {"file": "plain.txt"})
    assert (response.status_code, response.content) == (403, b"please log in\n")


@pytest.mark.parametrize("name", sorted(SERVABLE))
def test_downloads_are_delegated(tree, name):
    response, body = get(tree, name)
    assert response.status_code == 200
    assert body == b""
    target = response["X-Accel-Redirect"]
    assert target.startswith("/_xsendfiled/")
    assert unquote_to_bytes(path_of(target)) == b"/_xsendfiled/" + name.encode()
    # The name and type django-sendfile2 chose travel in the trusted query, so xsendfiled writes
    # the one Content-Disposition; the app's reply carries none.
    policy = parse_qs(target.split("?", 1)[1], strict_parsing=True)
    assert policy == {"filename": ["Alice's " + os.path.basename(name)], "disposition": ["attachment"]}
    assert not response.has_header("Content-Disposition")
    # ...and no Content-Encoding for a .gz, nor a Content-Length for a body it does not have.
    assert not response.has_header("Content-Encoding")
    assert response["Content-Length"] == "0"


def test_paths_that_leave_the_root_are_404_before_delegating(tree):
    for name in ["../outside/secret.txt", "sub/../../outside/secret.txt", "/etc/passwd", "missing.txt"]:
        response, body = get(tree, name)
        assert response.status_code == 404, name
        assert not response.has_header("X-Accel-Redirect")


def test_other_hostile_paths_are_left_to_xsendfiled(tree):
    # django-sendfile2 hands on what exists below SENDFILE_ROOT; xsendfiled refuses it with 404
    # (hidden names, symlinks out of the root, non-files).
    for name in [".hidden", "link-out.txt", "fifo"]:
        response, _ = get(tree, name)
        assert path_of(response["X-Accel-Redirect"]) == "/_xsendfiled/" + quote(name)


def test_sendfile_url_is_the_internal_location(tree):
    with override_settings(SENDFILE_URL="/guard/"):
        response, _ = get(tree, "a b.txt")
    assert path_of(response["X-Accel-Redirect"]) == "/guard/a%20b.txt"


@pytest.mark.parametrize("name", sorted(SERVABLE))
def test_development_fallback_sends_the_file(tree, name):
    with override_settings(DEBUG=True, XSENDFILED_DEVELOPMENT=True):
        response, body = get(tree, name)
    assert (response.status_code, body) == (200, SERVABLE[name])
    assert not response.has_header("X-Accel-Redirect")
    assert not response.has_header("Content-Encoding")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Length"] == str(len(SERVABLE[name]))


# django-sendfile2 normalises the joined path (os.path.normpath) before any backend sees it.
NORMALISED = ["./plain.txt", "sub//deep/er/file.txt"]


@pytest.mark.parametrize("name", [h for h in HOSTILE if h not in NORMALISED])
def test_development_fallback_refuses_what_xsendfiled_refuses(tree, name):
    with override_settings(DEBUG=True, XSENDFILED_DEVELOPMENT=True):
        response, body = get(tree, name)
    assert response.status_code == 404, name
    assert b"SECRET" not in body and body != b"hidden\n"


def test_django_sendfile2_normalises_the_path(tree):
    for name in NORMALISED:
        response, _ = get(tree, name)
        assert path_of(response["X-Accel-Redirect"]) in ("/_xsendfiled/plain.txt", "/_xsendfiled/sub/deep/er/file.txt")


def test_development_is_detected_under_runserver_with_debug(tree):
    with override_settings(DEBUG=True):
        response, body = get(tree, "plain.txt", **RUNSERVER)
        assert body == b"plain\n"
        # Another server (gunicorn behind nginx), even with DEBUG: delegate.
        response, body = get(tree, "plain.txt", SERVER_SOFTWARE="gunicorn/23.0.0")
        assert response.has_header("X-Accel-Redirect")
    # Without DEBUG never.
    response, _ = get(tree, "plain.txt", **RUNSERVER)
    assert response.has_header("X-Accel-Redirect")
    with override_settings(DEBUG=True, XSENDFILED_DEVELOPMENT=False):
        response, _ = get(tree, "plain.txt", **RUNSERVER)
        assert response.has_header("X-Accel-Redirect")


def test_development_needs_debug(tree):
    request = RequestFactory().get("/download")
    with override_settings(DEBUG=False, XSENDFILED_DEVELOPMENT=True, SENDFILE_ROOT=str(tree)):
        with pytest.raises(ImproperlyConfigured):
            backend.sendfile(request, tree / "plain.txt")


def test_backend_alone(tree):
    request = RequestFactory().get("/download")
    with override_settings(SENDFILE_ROOT=str(tree)):
        response = backend.sendfile(request, tree / "dir with space" / "ä ö.txt")
    assert response["X-Accel-Redirect"] == "/_xsendfiled/dir%20with%20space/%C3%A4%20%C3%B6.txt"
    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "value, parsed",
    [
        ('attachment; filename="Alice\'s %41.txt"', ("attachment", "Alice's %41.txt")),
        ("inline; filename=\"a o.txt\"; filename*=UTF-8''%C3%A4%20%C3%B6.txt", ("inline", "ä ö.txt")),
        ('attachment; filename="say \\"hi\\".txt"', ("attachment", 'say "hi".txt')),
        ("attachment", ("attachment", None)),
        ("form-data; name=x", None),
        ("attachment; filename*=UTF-8''%FF.txt", None),
        # A name cannot smuggle a parameter in, nor may anything follow the parameters.
        ('attachment; filename="x; filename*=UTF-8\'\'evil.html; .txt"', ("attachment", "x; filename*=UTF-8''evil.html; .txt")),
        ("attachment; filename=\"report.txt\" garbage; filename*=UTF-8''evil.html", None),
        ('attachment; filename="a.txt"; filename="b.txt"', None),
    ],
)
def test_django_sendfile2_dispositions_are_read_back(value, parsed):
    assert backend.parse_disposition(value) == parsed
