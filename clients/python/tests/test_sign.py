"""sign(), verify() and load_keys() beyond the vectors: the forms of each argument."""

import datetime as dt
import ipaddress
import os

import pytest

import xsendfiled
from xsendfiled import LinkError, SigningError

KEY = bytes(range(32))
EXP = 1767225600
NOW = 1767220000


def test_expiry_forms_agree():
    at = xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=EXP)
    assert xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) == at
    aware = dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=aware) == at
    assert xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_in=EXP - NOW, now=NOW) == at
    assert xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_in=dt.timedelta(seconds=EXP - NOW), now=NOW) == at
    # The default is one hour, as `xsendfiled sign`.
    assert "exp=%d&" % (NOW + 3600) in xsendfiled.sign("/dl/a.txt", KEY, "k1", now=NOW)


def test_not_before_forms():
    url = xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=EXP, not_before=NOW - 60)
    assert "&nbf=%d&" % (NOW - 60) in url
    rel = xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=EXP, not_before=dt.timedelta(seconds=-60), now=NOW)
    assert rel == url


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(expires_at=dt.datetime(2026, 1, 1)),  # naive: whose local time?
        dict(expires_at=EXP, expires_in=60),
        dict(expires_at=dt.timedelta(hours=1)),
        dict(expires_in="1h"),
        dict(expires_at=True),
        dict(expires_at=0),
        dict(expires_at=10**11),
        dict(expires_at=EXP, not_before=EXP + 1),
    ],
)
def test_bad_times_are_refused(kwargs):
    with pytest.raises(SigningError):
        xsendfiled.sign("/dl/a.txt", KEY, "k1", **kwargs)


def test_keys_and_ids_are_checked():
    with pytest.raises(SigningError):
        xsendfiled.sign("/dl/a.txt", b"short", "k1", expires_at=EXP)
    for kid in ("", "k 1", "k/1", "ü", "k" * 33, "k1\n"):
        with pytest.raises(SigningError):
            xsendfiled.sign("/dl/a.txt", KEY, kid, expires_at=EXP)


@pytest.mark.parametrize(
    "network,ipm,text",
    [
        ("203.0.113.77/24", 24, "203.0.113.0/24"),
        ("203.0.113.7", 32, "203.0.113.7/32"),
        ("::ffff:203.0.113.7", 32, "203.0.113.7/32"),
        ("2001:db8:85a3::8a2e:370:7334/64", 64, "2001:db8:85a3::/64"),
        (ipaddress.ip_network("203.0.113.0/24"), 24, "203.0.113.0/24"),
        (ipaddress.ip_address("2001:db8::1"), 128, "2001:db8::1/128"),
    ],
)
def test_network_forms(network, ipm, text):
    url = xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=EXP, network=network)
    assert "&ipm=%d&" % ipm in url
    want = xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=EXP, network=text)
    assert url == want


@pytest.mark.parametrize("network", ["203.0.113.0/33", "::ffff:203.0.113.7/120", "fe80::1%eth0/64", "bogus", "1.2.3.4/x"])
def test_bad_networks_are_refused(network):
    with pytest.raises(SigningError):
        xsendfiled.sign("/dl/a.txt", KEY, "k1", expires_at=EXP, network=network)


def test_verify_reports_why():
    url = xsendfiled.sign("/dl/a b.txt", KEY, "k1", expires_at=EXP, filename="ä.txt", disposition="attachment")
    v = xsendfiled.verify(url, {"k1": KEY}, now=NOW)
    assert (v.status, v.kid, v.path, v.filename, v.disposition) == (200, "k1", "/dl/a b.txt".encode(), "ä.txt", "attachment")
    assert xsendfiled.verify(url.encode(), {"k1": KEY}, now=NOW).path == b"/dl/a b.txt"
    with pytest.raises(LinkError) as e:
        xsendfiled.verify(url, {"k1": KEY}, now=EXP + 1)
    assert (e.value.status, e.value.reason) == (410, "expired")
    with pytest.raises(LinkError) as e:
        xsendfiled.verify(url.replace("a%20b", "a%20c"), {"k1": KEY}, now=NOW)
    assert (e.value.status, e.value.reason) == (403, "bad signature")
    # A short lifetime cap of the daemon's --max-link-lifetime.
    with pytest.raises(LinkError):
        xsendfiled.verify(url, {"k1": KEY}, now=NOW, max_lifetime=60)


def write_keys(tmp_path, text, mode=0o600):
    p = tmp_path / "keys"
    p.write_text(text)
    os.chmod(p, mode)
    return p


def test_load_keys_reads_the_daemons_file(tmp_path):
    p = write_keys(
        tmp_path,
        "# rotation\nk2026a hex:%s\n\n  old   b64:c2VjcmV0LXNlY3JldC1zZWNyZXQ=\nlegacy text:secret\n" % KEY.hex(),
    )
    keys = xsendfiled.load_keys(p)
    assert list(keys) == ["k2026a", "old", "legacy"]
    assert keys["k2026a"] == KEY and keys["old"] == b"secret-secret-secret" and keys["legacy"] == b"secret"
    with open(p) as f:
        assert xsendfiled.load_keys(f) == keys
    # A text: key serves the daemon's compatibility schemes only.
    with pytest.raises(SigningError):
        xsendfiled.sign("/dl/a.txt", keys["legacy"], "legacy", expires_at=EXP)


@pytest.mark.parametrize(
    "text,why",
    [
        ("k hex:00", "shorter"),
        ("k hex:0g" + "00" * 16, "malformed hex"),
        ("k hex:123", "malformed hex"),
        ("k b64:!!!!", "malformed base64url"),
        ("k plain-secret", "hex:"),
        ("bad/kid hex:" + "00" * 16, "key id"),
        ("k hex:%s\nk hex:%s" % ("00" * 16, "11" * 16), "duplicate"),
        ("k", "KID SECRET"),
        ("# nothing", "no keys"),
    ],
)
def test_load_keys_refuses(tmp_path, text, why):
    with pytest.raises(xsendfiled.KeyFileError, match=why):
        xsendfiled.load_keys(write_keys(tmp_path, text))


def test_load_keys_checks_the_mode(tmp_path):
    line = "k hex:%s\n" % KEY.hex()
    with pytest.raises(xsendfiled.KeyFileError, match="writable"):
        xsendfiled.load_keys(write_keys(tmp_path, line, 0o620))
    with pytest.raises(xsendfiled.KeyFileError, match="readable"):
        xsendfiled.load_keys(write_keys(tmp_path, line, 0o644))
    assert xsendfiled.load_keys(write_keys(tmp_path, line, 0o644), allow_readable=True) == {"k": KEY}
