#!/usr/bin/env python3
"""Writes clients/vectors/sdl1.json: the SDL1 test vectors every client package runs.

    python3 clients/vectors/generate.py target/debug/xsendfiled > clients/vectors/sdl1.json

The signed URLs come from the real `xsendfiled sign`; the canonical strings are written here from
the specification (docs/sdl1.md), independently of the daemon; the verify cases are mutations of
those URLs with the status the specification gives. tests/sdl1_vectors.rs checks the file against
the binary (every sign case against `xsendfiled sign`, every canonical string against the URL's
signature, every verify case against the daemon run as a CGI program at the case's time), so the
file cannot drift from the daemon. Only the standard library is used.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

EXP = 1767225600  # 2026-01-01T00:00:00Z
NBF = EXP - 7200
NOW = 1767220000  # between NBF and EXP
MAX_LIFETIME = 7 * 86400
KEYS = [
    {"kid": "k1", "secret_hex": bytes(range(0, 32)).hex()},
    {"kid": "k2", "secret_hex": bytes(range(0x80, 0xA0)).hex()},
]
REMOTE = "203.0.113.7"


def case(name, path, kid="k1", nbf=None, prefix=None, network=None, filename=None, disposition=None,
         link_id=None, uses=None, gw=None):
    return {
        "name": name,
        "kid": kid,
        "path": path,
        "exp": EXP,
        "nbf": nbf,
        "prefix": prefix,
        "network": network,
        "filename": filename,
        "disposition": disposition,
        "id": link_id,
        "uses": uses,
        "gw": gw,
    }


SIGN = [
    case("plain", "/dl/a b.txt"),
    case("second key", "/dl/a b.txt", kid="k2"),
    case("not before", "/dl/plain.txt", nbf=NBF),
    case("prefix", "/dl/reports/2026/q1.pdf", prefix="/dl/reports/"),
    case("prefix is the parent directory", "/dl/reports/2026/q1.pdf", prefix="/dl/reports/2026/"),
    case("network IPv4 /24", "/dl/plain.txt", network="203.0.113.0/24"),
    case("network IPv4 /32", "/dl/plain.txt", network="203.0.113.7/32"),
    case("network IPv4 /1", "/dl/plain.txt", network="128.0.0.0/1"),
    case("network IPv6 /64", "/dl/plain.txt", network="2001:db8:85a3::/64"),
    case("network IPv6 /48", "/dl/plain.txt", network="2001:db8:85a3::/48"),
    case("network IPv6 /128, one zero group kept", "/dl/plain.txt", network="2001:db8:0:1:1:1:1:1/128"),
    case("network IPv6 /128, zero run compressed", "/dl/plain.txt", network="2001:db8::1:0:0:1/128"),
    case("filename ASCII", "/dl/plain.txt", filename="Q3 report.pdf"),
    case("filename non-ASCII", "/dl/plain.txt", filename="Résumé 履歴書.pdf"),
    case("filename with quotes and semicolon", "/dl/plain.txt", filename='a "quoted"; name.txt'),
    case("filename emoji", "/dl/plain.txt", filename="😀 smile.txt"),
    case("disposition attachment", "/dl/plain.txt", disposition="attachment"),
    case("disposition inline", "/dl/page.html", disposition="inline"),
    case("filename and disposition", "/dl/plain.txt", filename="notes.txt", disposition="attachment"),
    case(
        "every claim, IPv4",
        "/dl/dir with space/ä ö.txt",
        kid="k2",
        nbf=NBF,
        prefix="/dl/dir with space/",
        network="203.0.113.0/24",
        filename="Ä Ö.txt",
        disposition="attachment",
    ),
    case(
        "every claim, IPv6",
        "/dl/reports/2026/q1.pdf",
        nbf=NBF,
        prefix="/dl/reports/",
        network="2001:db8:85a3::/64",
        filename="q1.pdf",
        disposition="inline",
    ),
    case("link id", "/dl/plain.txt", link_id="Ab-9_xY"),
    case("link id and uses", "/dl/a b.txt", link_id="qB3sV7cL0mR9xY2nT5wK1A", uses=3),
    case("uses and grant window", "/dl/plain.txt", link_id="L-1", uses=1, gw=1800),
    case(
        "every claim and the use limit",
        "/dl/reports/2026/q1.pdf",
        kid="k2",
        nbf=NBF,
        prefix="/dl/reports/",
        network="203.0.113.0/24",
        filename="q1.pdf",
        disposition="attachment",
        link_id="z",
        uses=999999,
        gw=9999999,
    ),
    case("path: plus is a literal plus", "/dl/1+1=2.txt"),
    case("path: percent", "/dl/100%.txt"),
    case("path: literal %41 is not A", "/dl/%41.txt"),
    case("path: hash", "/dl/h#x.txt"),
    case("path: question mark", "/dl/q?x.txt"),
    case("path: ampersand, semicolon, equals", "/dl/semi;colon=1&x+y.txt"),
    case("path: quotes and backtick", "/dl/quote'\"`.txt"),
    case("path: unreserved characters stay", "/dl/Tilde~Dash-Dot.Under_score.txt"),
    case("path: sub-delims are encoded", "/dl/(1)[2]{3}!*$,@:.txt"),
    case("path: non-ASCII (precomposed)", "/dl/ü.txt"),
    case("path: non-ASCII (decomposed, no normalisation)", "/dl/u\u0308.txt"),
    case("path: CJK", "/dl/是.txt"),
    case("path: four-byte UTF-8", "/dl/😀.txt"),
    case("path: trailing space", "/dl/trail "),
    case("path: directories with spaces", "/dl/dir with space/ä ö.txt"),
    case("path: deep", "/dl/sub/deep/er/file.txt"),
    case("path: one segment", "/x"),
]

# Inputs every signer must refuse (the daemon's `sign` does; so must the clients).
REFUSE = [
    case("relative path", "dl/a.txt"),
    case("empty segment", "/dl//a.txt"),
    case("dot segment", "/dl/./a.txt"),
    case("dot-dot segment", "/dl/../a.txt"),
    case("trailing slash", "/dl/"),
    case("control character", "/dl/a\nb.txt"),
    case("DEL", "/dl/a\x7fb.txt"),
    case("backslash", "/dl/a\\b.txt"),
    case("prefix without trailing slash", "/dl/reports/q1.pdf", prefix="/dl/reports"),
    case("prefix of another directory", "/dl/reports/q1.pdf", prefix="/dl/rep/"),
    case("prefix not canonical", "/dl//reports/q1.pdf", prefix="/dl//"),
    case("network bits too long for IPv4", "/dl/a.txt", network="203.0.113.0/33"),
    case("network bits too long for IPv6", "/dl/a.txt", network="2001:db8::/129"),
    case("filename with slash", "/dl/a.txt", filename="a/b.txt"),
    case("filename with backslash", "/dl/a.txt", filename="a\\b.txt"),
    case("filename with control character", "/dl/a.txt", filename="a\x01b.txt"),
    case("filename with C1 control character", "/dl/a.txt", filename="a\u0085b.txt"),
    case("filename empty", "/dl/a.txt", filename=""),
    case("filename over 255 bytes", "/dl/a.txt", filename="é" * 128),
    case("disposition other than attachment or inline", "/dl/a.txt", disposition="download"),
    case("not-before not before the expiry", "/dl/a.txt", nbf=EXP),
    case("key id with a space", "/dl/a.txt", kid="k 1"),
    case("key id over 32 characters", "/dl/a.txt", kid="k" * 33),
    case("link id with a space", "/dl/a.txt", link_id="a b", uses=1),
    case("link id with a slash", "/dl/a.txt", link_id="a/b"),
    case("link id over 64 characters", "/dl/a.txt", link_id="a" * 65),
    case("uses zero", "/dl/a.txt", link_id="x", uses=0),
    case("uses over 999999", "/dl/a.txt", link_id="x", uses=1000000),
    case("grant window without uses", "/dl/a.txt", link_id="x", gw=60),
    case("grant window over 9999999 s", "/dl/a.txt", link_id="x", uses=1, gw=10000000),
]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical(c):
    """The canonical string, from the specification."""
    lines = ["SDL1-HMAC-SHA256", c["kid"], str(c["exp"]), str(c["nbf"] or ""), c["network"] or ""]
    if c["filename"] is not None:
        lines += ["fn", b64(c["filename"].encode())]
    if c["disposition"] is not None:
        lines += ["disp", c["disposition"]]
    for field in ("id", "uses", "gw"):
        if c[field] is not None:
            lines += [field, str(c[field])]
    if c["prefix"] is not None:
        lines += ["prefix", c["prefix"]]
    else:
        lines += ["path", c["path"]]
    return "\n".join(lines)


def cli_args(c):
    args = ["--kid", c["kid"], "--expires-at", str(c["exp"])]
    if c["nbf"] is not None:
        args += ["--not-before-at", str(c["nbf"])]
    if c["prefix"] is not None:
        args += ["--prefix", c["prefix"]]
    if c["network"] is not None:
        args += ["--ip", c["network"]]
    if c["filename"] is not None:
        args += ["--filename", c["filename"]]
    if c["disposition"] is not None:
        args += ["--disposition", c["disposition"]]
    if c["id"] is not None:
        args += ["--id", c["id"]]
    if c["uses"] is not None:
        args += ["--uses", str(c["uses"])]
    if c["gw"] is not None:
        args += ["--grant-window", f"{c['gw']}s"]
    return args + ["--", c["path"]]


def sign_cli(binary, keys, c):
    out = subprocess.run([binary, "sign", "--keys", keys] + cli_args(c), capture_output=True, text=True)
    return out.returncode, out.stdout.strip()


def secret(kid):
    return bytes.fromhex(next(k["secret_hex"] for k in KEYS if k["kid"] == kid))


def with_param(url, name, value):
    """`url` with parameter `name` set to `value` (None removes it), in place."""
    path, query = url.split("?", 1)
    out = []
    for part in query.split("&"):
        k = part.split("=", 1)[0]
        if k == name:
            if value is not None:
                out.append(f"{k}={value}")
        else:
            out.append(part)
    return path + "?" + "&".join(out)


def param(url, name):
    for part in url.split("?", 1)[1].split("&"):
        k, _, v = part.partition("=")
        if k == name:
            return v
    raise KeyError(name)


def other_path(url, path):
    return path + "?" + url.split("?", 1)[1]


def flip(sig):
    """A different, canonical signature: the first character changed."""
    return ("B" if sig[0] == "A" else "A") + sig[1:]


def spare_bits(sig):
    """The same 32 bytes with a spare bit of the last character set: not canonical."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]


def remote_in(network):
    """A client address inside `network` (the usual one when there is none)."""
    if network is None:
        return REMOTE
    net = ipaddress.ip_network(network)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return REMOTE if net.version == 4 else "2001:db8:85a3::7"


def verify_cases(urls):
    plain = urls["plain"]
    nbf = urls["not before"]
    pfx = urls["prefix"]
    net4 = urls["network IPv4 /24"]
    net6 = urls["network IPv6 /64"]
    fn_disp = urls["filename and disposition"]
    limited = urls["uses and grant window"]
    v = []

    def add(name, uri, status, now=NOW, remote=REMOTE):
        v.append({"name": name, "uri": uri, "remote_addr": remote, "now": now, "status": status})

    for c in SIGN:
        add(f"valid: {c['name']}", urls[c["name"]], 200, remote=remote_in(c["network"]))
    add("valid: prefix covers its whole subtree", other_path(pfx, "/dl/reports/2026/q2.pdf"), 200)
    add("valid: prefix covers a file directly below it", other_path(pfx, "/dl/reports/summary.pdf"), 200)
    # Spellings of the same path.
    add("valid: lower-case escapes", urls["path: non-ASCII (precomposed)"].replace("%C3%BC", "%c3%bc"), 200)
    add("valid: unreserved characters escaped", plain.replace("/dl/a%20b", "/%64l/%61%20b"), 200)
    add("valid: a literal + in the URL path is a plus", urls["path: plus is a literal plus"].replace("%2B", "+"), 200)
    add("valid: parameters in another order", plain.split("?")[0] + "?sig=" + param(plain, "sig")
        + "&kid=k1&exp=" + str(EXP), 200)
    add("valid: unsigned parameters are ignored", plain + "&utm_source=mail&x=", 200)
    # Times.
    add("valid: at the second of expiry", plain, 200, now=EXP)
    add("expired: one second after", plain, 410, now=EXP + 1)
    add("expired long ago", plain, 410, now=EXP + 86400 * 365)
    add("expired with a bad signature: the signature is checked first", with_param(plain, "sig", flip(param(plain, "sig"))),
        403, now=EXP + 1)
    add("not yet valid: 31 s before nbf", nbf, 403, now=NBF - 31)
    add("valid: 30 s before nbf (clock skew allowance)", nbf, 200, now=NBF - 30)
    add("valid: at nbf", nbf, 200, now=NBF)
    add("lifetime over the 7-day cap", plain, 403, now=EXP - MAX_LIFETIME - 1)
    add("valid: lifetime exactly the 7-day cap", plain, 200, now=EXP - MAX_LIFETIME)
    # Tampering.
    add("tampered signature", with_param(plain, "sig", flip(param(plain, "sig"))), 403)
    add("signature with a spare bit set", with_param(plain, "sig", spare_bits(param(plain, "sig"))), 403)
    add("signature with padding", with_param(plain, "sig", param(plain, "sig") + "="), 403)
    add("tampered path: another file", other_path(plain, "/dl/plain.txt"), 403)
    add("tampered path: + is not a space", other_path(plain, "/dl/a+b.txt"), 403)
    add("tampered path: literal %41 is not A", other_path(urls["path: literal %41 is not A"], "/dl/A.txt"), 403)
    add("tampered path: decomposed is not precomposed", other_path(urls["path: non-ASCII (decomposed, no normalisation)"],
        "/dl/%C3%BC.txt"), 403)
    add("tampered expiry", with_param(plain, "exp", str(EXP + 1)), 403)
    add("expiry with a leading zero", with_param(plain, "exp", "0" + str(EXP)), 403)
    add("expiry with a plus sign", with_param(plain, "exp", "%2B" + str(EXP)), 403)
    add("not-before removed", with_param(nbf, "nbf", None), 403)
    add("not-before changed", with_param(nbf, "nbf", str(NBF - 1)), 403)
    add("not-before added", plain.replace("&sig=", f"&nbf={NBF}&sig="), 403)
    add("duplicate parameter", plain.replace("&sig=", f"&exp={EXP}&sig="), 403)
    add("no signature", with_param(plain, "sig", None), 403)
    add("no expiry", with_param(plain, "exp", None), 403)
    add("no key id", with_param(plain, "kid", None), 403)
    add("unknown key id", with_param(plain, "kid", "k9"), 403)
    add("another known key id", with_param(plain, "kid", "k2"), 403)
    # Network.
    add("network: another address in the /24", net4, 200, remote="203.0.113.200")
    add("network: IPv4-mapped IPv6 client counts as IPv4", net4, 200, remote="::ffff:203.0.113.9")
    add("network: client outside the /24", net4, 403, remote="198.51.100.7")
    add("network: IPv6 client, IPv4 network", net4, 403, remote="2001:db8:85a3::7")
    add("network: no client address", net4, 403, remote="")
    add("network: ipm changed", with_param(net4, "ipm", "16"), 403)
    add("network: ipm removed", with_param(net4, "ipm", None), 403)
    add("network: ipm with a leading zero", with_param(net4, "ipm", "024"), 403)
    add("network: another address in the IPv6 /64", net6, 200, remote="2001:db8:85a3:0:ffff:ffff:ffff:ffff")
    add("network: client outside the IPv6 /64", net6, 403, remote="2001:db8:85a4::7")
    add("network: IPv4 client, IPv6 network", net6, 403, remote=REMOTE)
    # Prefix scope.
    add("prefix: a sibling directory sharing the name", other_path(pfx, "/dl/reports-old/q1.pdf"), 403)
    add("prefix: a file outside it", other_path(pfx, "/dl/plain.txt"), 403)
    add("prefix removed", with_param(pfx, "pfx", None), 403)
    add("prefix changed", with_param(pfx, "pfx", b64(b"/dl/")), 403)
    add("prefix not canonical", with_param(pfx, "pfx", b64(b"/dl/reports")), 403)
    # Response claims.
    add("filename changed", with_param(fn_disp, "fn", b64("other.txt".encode())), 403)
    add("filename removed", with_param(fn_disp, "fn", None), 403)
    add("filename added", plain.replace("&sig=", "&fn=" + b64(b"x.txt") + "&sig="), 403)
    add("filename with padding", with_param(fn_disp, "fn", b64("notes.txt".encode()) + "="), 403)
    add("disposition changed", with_param(fn_disp, "disp", "inline"), 403)
    add("disposition removed", with_param(fn_disp, "disp", None), 403)
    add("disposition not a known type", with_param(fn_disp, "disp", "download"), 403)
    # Link id and use limit (a valid one is granted by the daemon's state store: 200).
    add("uses raised", with_param(limited, "uses", "2"), 403)
    add("uses removed", with_param(limited, "uses", None), 403)
    add("uses with a leading zero", with_param(limited, "uses", "01"), 403)
    add("grant window changed", with_param(limited, "gw", "1801"), 403)
    add("grant window removed", with_param(limited, "gw", None), 403)
    add("link id changed", with_param(limited, "id", "L-2"), 403)
    add("link id removed: uses without an id", with_param(limited, "id", None), 403)
    add("link id added", plain.replace("&sig=", "&id=x&sig="), 403)
    # Paths that are not canonical are refused, whatever the signature says.
    add("path: encoded slash", other_path(plain, "/dl%2Fa%20b.txt"), 403)
    add("path: empty segment", other_path(plain, "/dl//a%20b.txt"), 403)
    add("path: dot segment", other_path(plain, "/dl/./a%20b.txt"), 403)
    add("path: encoded dot-dot segment", other_path(plain, "/dl/%2E%2E/dl/a%20b.txt"), 403)
    add("path: bad escape", other_path(plain, "/dl/a%2xb.txt"), 403)
    add("path: encoded NUL", other_path(plain, "/dl/a%00b.txt"), 403)
    add("path: encoded backslash", other_path(plain, "/dl/a%5Cb.txt"), 403)
    add("path: invalid UTF-8", other_path(plain, "/dl/a%FFb.txt"), 403)
    return v


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py PATH/TO/xsendfiled")
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        keys = os.path.join(tmp, "keys")
        with open(keys, "w") as f:
            f.writelines(f"{k['kid']} hex:{k['secret_hex']}\n" for k in KEYS)
        os.chmod(keys, 0o600)
        sign, urls = [], {}
        for c in SIGN:
            code, url = sign_cli(binary, keys, c)
            if code != 0:
                sys.exit(f"{c['name']}: xsendfiled sign failed")
            canon = canonical(c)
            mac = b64(hmac.new(secret(c["kid"]), canon.encode(), hashlib.sha256).digest())
            if param(url, "sig") != mac:
                sys.exit(f"{c['name']}: the canonical string of the specification does not give the CLI's signature")
            sign.append(dict(c, canonical=canon, url=url))
            urls[c["name"]] = url
        for c in REFUSE:
            code, _ = sign_cli(binary, keys, c)
            if code == 0:
                sys.exit(f"{c['name']}: xsendfiled sign did not refuse it")
    doc = {
        "description": "SDL1 signed download links: see docs/sdl1.md. Generated by clients/vectors/generate.py; "
        "checked against the daemon by tests/sdl1_vectors.rs.",
        "max_lifetime": MAX_LIFETIME,
        "keys": KEYS,
        "sign": sign,
        "refuse": REFUSE,
        "verify": verify_cases(urls),
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
