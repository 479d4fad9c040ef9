#!/usr/bin/env python3
"""Writes the `sign` cases of clients/vectors/sdl1.json by running the real `xsendfiled sign`.

Every URL in the file is what the binary printed; every `canonical` is rebuilt here from the
layout of the daemon's SDL1 module and checked by recomputing the HMAC: a case whose canonical
string does not give the binary's signature aborts the run. The client packages read the file and
must reproduce both, byte for byte.

    cargo build && python3 clients/vectors/make_sign_vectors.py [path/to/xsendfiled]
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "target", "debug", "xsendfiled")

KEYS = [
    {"kid": "k1", "secret_hex": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
    {"kid": "k2026-b_", "secret_hex": "c0ffee" * 10 + "c0"},
]
EXP = 1767225600
NBF = 1767222000

# name, path, claims (kid defaults to k1).
CASES = [
    ("plain", "/dl/plain.txt", {}),
    ("space", "/dl/a b.txt", {}),
    ("percent", "/dl/100%.txt", {}),
    ("literal %41", "/dl/%41.txt", {}),
    ("question mark", "/dl/q?x.txt", {}),
    ("hash", "/dl/h#x.txt", {}),
    ("plus", "/dl/x+y.txt", {}),
    ("sub-delims", "/dl/semi;colon=1&x+y.txt", {}),
    ("quotes", "/dl/quote'\"`.txt", {}),
    ("unreserved kept", "/dl/~tilde-_.dot.txt", {}),
    ("umlaut", "/dl/ü.txt", {}),
    ("cjk", "/dl/是.txt", {}),
    ("emoji", "/dl/emoji 😀.txt", {}),
    ("trailing space", "/dl/trail ", {}),
    ("nested unicode", "/dl/dir with space/ä ö.txt", {}),
    ("deep", "/dl/sub/deep/er/file.txt", {}),
    ("other key", "/dl/plain.txt", {"kid": "k2026-b_"}),
    ("not before", "/dl/plain.txt", {"nbf": NBF}),
    ("prefix", "/dl/reports/Q3 résumé.pdf", {"prefix": "/dl/reports/"}),
    ("prefix root", "/dl/a b.txt", {"prefix": "/"}),
    ("network v4 /24", "/dl/plain.txt", {"network": "203.0.113.0/24"}),
    ("network v4 /32", "/dl/plain.txt", {"network": "198.51.100.7/32"}),
    ("network v6 /64", "/dl/plain.txt", {"network": "2001:db8:85a3::/64"}),
    ("network v6 /128", "/dl/plain.txt", {"network": "2001:db8::1:0:0:1/128"}),
    ("network v6 /10", "/dl/plain.txt", {"network": "fe80::/10"}),
    ("filename", "/dl/plain.txt", {"filename": "report.txt"}),
    ("filename unicode", "/dl/plain.txt", {"filename": "Q3 résumé 是.pdf"}),
    ("filename quotes", "/dl/plain.txt", {"filename": "Alice's \"best\" 100%.txt"}),
    ("disposition attachment", "/dl/page.html", {"disposition": "attachment"}),
    ("disposition inline", "/dl/plain.txt", {"disposition": "inline"}),
    ("filename and disposition", "/dl/a b.txt", {"filename": "b a.txt", "disposition": "attachment"}),
    (
        "every claim",
        "/dl/dir with space/ä ö.txt",
        {
            "kid": "k2026-b_",
            "nbf": NBF,
            "prefix": "/dl/dir with space/",
            "network": "203.0.113.0/24",
            "filename": "Ä ö+.txt",
            "disposition": "inline",
        },
    ),
    (
        "every claim v6",
        "/dl/h#x.txt",
        {"nbf": NBF, "prefix": "/dl/", "network": "2001:db8::/32", "filename": "h#x.txt", "disposition": "attachment"},
    ),
]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def canonical(kid, exp, nbf, network, filename, disposition, prefix, path) -> str:
    out = f"SDL1-HMAC-SHA256\n{kid}\n{exp}\n{'' if nbf is None else nbf}\n{network or ''}\n"
    if filename is not None:
        out += f"fn\n{b64(filename.encode())}\n"
    if disposition is not None:
        out += f"disp\n{disposition}\n"
    return out + (f"prefix\n{prefix}" if prefix is not None else f"path\n{path}")


def main() -> None:
    secrets = {k["kid"]: bytes.fromhex(k["secret_hex"]) for k in KEYS}
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        keyfile = os.path.join(tmp, "keys")
        with open(keyfile, "w") as f:
            for k in KEYS:
                f.write(f"{k['kid']} hex:{k['secret_hex']}\n")
        os.chmod(keyfile, 0o600)
        for name, path, claims in CASES:
            kid = claims.get("kid", "k1")
            argv = [BIN, "sign", "--keys", keyfile, "--kid", kid, "--expires-at", str(EXP)]
            for opt, key in [("--not-before-at", "nbf"), ("--prefix", "prefix"), ("--ip", "network"),
                             ("--filename", "filename"), ("--disposition", "disposition")]:
                if key in claims:
                    argv += [opt, str(claims[key])]
            argv.append(path)
            url = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
            case = {
                "name": name,
                "kid": kid,
                "path": path,
                "exp": EXP,
                "nbf": claims.get("nbf"),
                "prefix": claims.get("prefix"),
                "network": claims.get("network"),
                "filename": claims.get("filename"),
                "disposition": claims.get("disposition"),
            }
            case["canonical"] = canonical(kid, EXP, case["nbf"], case["network"], case["filename"],
                                          case["disposition"], case["prefix"], path)
            case["url"] = url
            sig = urllib.parse.parse_qs(url.split("?", 1)[1])["sig"][0]
            mac = b64(hmac.new(secrets[kid], case["canonical"].encode(), hashlib.sha256).digest())
            if mac != sig:
                sys.exit(f"{name}: the canonical string does not give the binary's signature")
            cases.append(case)
    out = os.path.join(HERE, "sdl1.json")
    try:
        with open(out) as f:
            doc = json.load(f)
    except FileNotFoundError:
        doc = {}
    doc["keys"] = KEYS
    doc["sign"] = cases
    doc.setdefault("verify", [])
    with open(out, "w") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} sign cases written to {out}")


if __name__ == "__main__":
    main()
