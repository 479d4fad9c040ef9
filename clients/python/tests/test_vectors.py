"""The shared SDL1 vectors (clients/vectors/sdl1.json), which the daemon itself is checked against."""

import pytest

import xsendfiled
from xsendfiled import sdl1

from conftest import VECTORS
import json

with open(VECTORS, encoding="utf-8") as _f:
    _V = json.load(_f)
KEYS = {k["kid"]: bytes.fromhex(k["secret_hex"]) for k in _V["keys"]}


def claims(case):
    return dict(
        not_before=case["nbf"],
        prefix=case["prefix"],
        network=case["network"],
        filename=case["filename"],
        disposition=case["disposition"],
        link_id=case["id"],
        uses=case["uses"],
        grant_window=case["gw"],
    )


@pytest.mark.parametrize("case", _V["sign"], ids=[c["name"] for c in _V["sign"]])
def test_sign_is_byte_identical_to_xsendfiled_sign(case):
    url = xsendfiled.sign(case["path"], KEYS[case["kid"]], case["kid"], expires_at=case["exp"], **claims(case))
    assert url == case["url"]


@pytest.mark.parametrize("case", _V["sign"], ids=[c["name"] for c in _V["sign"]])
def test_canonical_string(case):
    c = sdl1.canonical_string(case["path"], case["kid"], case["exp"], case["nbf"], case["prefix"], case["network"],
                              case["filename"], case["disposition"], case["id"], case["uses"], case["gw"])
    assert c == case["canonical"].encode("utf-8")


@pytest.mark.parametrize("case", _V["refuse"], ids=[c["name"] for c in _V["refuse"]])
def test_refused(case):
    with pytest.raises(xsendfiled.SigningError):
        xsendfiled.sign(case["path"], KEYS["k1"], case["kid"], expires_at=case["exp"], **claims(case))


@pytest.mark.parametrize("case", _V["verify"], ids=[c["name"] for c in _V["verify"]])
def test_verify_answers_as_the_daemon(case):
    try:
        status = xsendfiled.verify(case["uri"], KEYS, case["remote_addr"], case["now"], _V["max_lifetime"]).status
    except xsendfiled.LinkError as e:
        status = e.status
    assert status == case["status"]


def test_the_vectors_cover_every_claim_and_status():
    signed = _V["sign"]
    for field in ("nbf", "prefix", "network", "filename", "disposition", "id", "uses", "gw"):
        assert any(c[field] is not None for c in signed), field
    assert any(all(c[f] is not None for f in ("nbf", "prefix", "network", "filename", "disposition")) for c in signed)
    assert {c["status"] for c in _V["verify"]} == {200, 403, 410}
