import json
import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent.parent / "vectors" / "sdl1.json"

# Regular files the tests hand out, with their contents: the names xsendfiled's own tests use.
SERVABLE = {
    "plain.txt": b"plain\n",
    "a b.txt": b"space\n",
    "100%.txt": b"percent\n",
    "q?x.txt": b"question\n",
    "h#x.txt": b"hash\n",
    "1+1=2.txt": b"plus\n",
    "%41.txt": b"literal percent-41\n",
    "A.txt": b"capital A\n",
    "ü.txt": b"umlaut\n",
    "是.txt": b"cjk\n",
    "quote'\"`.txt": b"quotes\n",
    "semi;colon=1&x+y.txt": b"sub-delims\n",
    "trail ": b"trailing space\n",
    "archive.tar.gz": b"not really gzip\n",
    "sub/deep/er/file.txt": b"deep\n",
    "dir with space/ä ö.txt": b"nested unicode\n",
}


@pytest.fixture(scope="session")
def vectors():
    with open(VECTORS, encoding="utf-8") as f:
        return json.load(f)


def make_tree(base):
    """base/root (served), base/root-private (a sibling sharing its name), base/outside."""
    base = pathlib.Path(base)
    root = base / "root"
    for d in ("root/.git", "root/dir", "root-private", "outside"):
        (base / d).mkdir(parents=True, exist_ok=True)
    for name, body in SERVABLE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    (root / ".hidden").write_bytes(b"hidden\n")
    (root / ".git" / "config").write_bytes(b"git\n")
    (base / "root-private" / "secret.txt").write_bytes(b"SIBLING SECRET\n")
    (base / "outside" / "secret.txt").write_bytes(b"OUTSIDE SECRET\n")
    os.symlink("plain.txt", root / "link-in.txt")
    os.symlink("../outside/secret.txt", root / "link-out.txt")
    os.symlink("../root-private/secret.txt", root / "link-sibling")
    os.symlink(".hidden", root / "link-hidden")
    os.symlink("nowhere.txt", root / "link-dangling")
    os.mkfifo(root / "fifo")
    return root


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path)


# Paths that must never be handed out, relative to the root, and why.
HOSTILE = [
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "./plain.txt",
    "sub//deep/er/file.txt",
    ".hidden",
    ".git/config",
    "link-out.txt",
    "link-sibling",
    "link-hidden",
    "link-dangling",
    "fifo",
    "dir",
    "sub/",
    "",
    "missing.txt",
    "a\\b.txt",
    "lf\nx.txt",
]
