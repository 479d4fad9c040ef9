"""SDL1 signed download links (docs/sdl1.md in the xsendfiled repository).

`sign()` prints exactly what `xsendfiled sign` prints for the same inputs; `verify()` gives the
answer the daemon's verifier gives (200, 403 or 410) for a request URI, for applications that
check a link themselves. `load_keys()` reads the daemon's key file.
"""

import base64
import datetime as _dt
import hashlib
import hmac
import ipaddress
import os
import re
import stat
import time
import unicodedata

__all__ = [
    "KeyFileError",
    "LinkError",
    "MAX_LIFETIME",
    "SigningError",
    "Verified",
    "load_keys",
    "parse_keys",
    "sign",
    "verify",
]

LABEL = "SDL1-HMAC-SHA256"
#: The daemon's default ``--max-link-lifetime``, in seconds.
MAX_LIFETIME = 7 * 86400
#: Clock skew allowed on the not-before claim, in seconds.
NBF_SKEW = 30
MIN_SECRET_BYTES = 16
MAX_FILENAME_BYTES = 255
_MAX_TIME = 99999999999  # 11 digits: the one spelling the verifier reads
_KID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_TIME = re.compile(rb"[1-9][0-9]{0,10}")
_BITS = re.compile(rb"[1-9][0-9]{0,2}")
_B64_CHARS = re.compile(rb"[A-Za-z0-9_-]*")
_URL_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
_PARAMS = (b"exp", b"kid", b"nbf", b"pfx", b"ipm", b"fn", b"disp", b"id", b"uses", b"gw", b"sig")
_LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_USES = re.compile(rb"[1-9][0-9]{0,5}")
_WINDOW = re.compile(rb"[1-9][0-9]{0,6}")


class SigningError(ValueError):
    """The inputs break a rule the verifier enforces; no link is made."""


class KeyFileError(ValueError):
    """The key file cannot be used."""


class LinkError(Exception):
    """A link the daemon refuses: ``status`` is its answer (403, or 410 for an expired link)."""

    def __init__(self, status, reason):
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class Verified:
    """A link the daemon accepts."""

    status = 200

    def __init__(self, kid, path, filename, disposition, link_id=None, uses=None, grant_window=None):
        #: The key that signed it.
        self.kid = kid
        #: The decoded request path it was checked for (bytes).
        self.path = path
        #: The signed download name, or None.
        self.filename = filename
        #: The signed disposition ("attachment" or "inline"), or None.
        self.disposition = disposition
        #: The link id, or None; the daemon counts ``uses`` per id (this check cannot).
        self.link_id = link_id
        #: How many uses the link has, or None.
        self.uses = uses
        #: The signed grant window in seconds, or None.
        self.grant_window = grant_window

    def __repr__(self):
        return f"Verified(kid={self.kid!r}, path={self.path!r}, filename={self.filename!r}, disposition={self.disposition!r})"


# -- keys ---------------------------------------------------------------------------------------


def parse_keys(text, name="keys"):
    """Parses key-file text (``KID hex:SECRET`` or ``KID b64:SECRET`` per line) into a dict of
    key id to secret bytes, in file order. ``text:`` secrets (kept by the daemon for its
    compatibility schemes) are returned too; ``sign`` refuses those shorter than 16 bytes."""
    keys = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue

        def bad(why):
            return KeyFileError(f"{name}:{number}: {why}")

        parts = line.split()
        if len(parts) != 2:
            raise bad("expected `KID SECRET`")
        kid, secret = parts
        if not _KID.fullmatch(kid):
            raise bad("key id must be 1-32 of A-Z a-z 0-9 _ -")
        if secret.startswith("hex:"):
            try:
                value = bytes.fromhex(secret[4:]) if re.fullmatch(r"(?:[0-9A-Fa-f]{2})*", secret[4:]) else None
            except ValueError:
                value = None
            if value is None:
                raise bad("malformed hex secret")
        elif secret.startswith("b64:"):
            value = _b64_loose(secret[4:].rstrip("="))
            if value is None:
                raise bad("malformed base64url secret")
        elif secret.startswith("text:"):
            value = secret[5:].encode()
        else:
            raise bad("secret must be written hex:..., b64:... or text:...")
        if not value or (len(value) < MIN_SECRET_BYTES and not secret.startswith("text:")):
            raise bad("secret shorter than 16 bytes")
        if kid in keys:
            raise bad("duplicate key id")
        keys[kid] = value
    if not keys:
        raise KeyFileError(f"{name}: no keys")
    return keys


def load_keys(file, allow_readable=False):
    """Reads the daemon's key file (a path, or an open text file) into a dict of key id to secret.

    Like the daemon, refuses a file that group or other users can write, and one they can read
    unless ``allow_readable``: whoever reads it can mint links."""
    if hasattr(file, "read"):
        return parse_keys(file.read(), getattr(file, "name", "keys"))
    with open(file, encoding="utf-8") as f:
        mode = os.fstat(f.fileno()).st_mode & 0o777
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise KeyFileError(f"{file}: writable by other users (mode {mode:o}); run `chmod 600 {file}`")
        if mode & (stat.S_IRGRP | stat.S_IROTH) and not allow_readable:
            raise KeyFileError(f"{file}: readable by other users (mode {mode:o}); run `chmod 600 {file}`")
        return parse_keys(f.read(), str(file))


# -- encoding helpers ---------------------------------------------------------------------------


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_loose(text):
    """base64url with or without padding (key files); None when malformed."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None


def _b64_strict(value):
    """Decodes unpadded base64url, refusing any other spelling of the same bytes."""
    if not _B64_CHARS.fullmatch(value) or len(value) % 4 == 1:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))
    except ValueError:
        return None
    return raw if _b64(raw).encode("ascii") == value else None


def url_path(path):
    """The URL form of a decoded path (str or bytes): ``A-Z a-z 0-9 - . _ ~ /`` kept, every
    other byte written ``%XX`` with upper-case hex, as the daemon writes it."""
    raw = path.encode("utf-8", "surrogateescape") if isinstance(path, str) else bytes(path)
    return "".join(chr(b) if b in _URL_SAFE else f"%{b:02X}" for b in raw)


def _canonical_error(p):
    """Why the decoded path bytes ``p`` are not canonical, or None."""
    if not p.startswith(b"/"):
        return "not absolute"
    if any(b < 0x20 or b == 0x7F or b == 0x5C for b in p):
        return "control character or backslash"
    try:
        p.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    segments = p[1:].split(b"/")
    for i, s in enumerate(segments):
        if (s == b"" and i + 1 < len(segments)) or s in (b".", b".."):
            return "empty or dot segment"
    return None


def _decode_path(raw):
    """Decodes ``%XX`` once; a malformed escape or ``%2F`` raises LinkError."""
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25:  # %
            hex_ = raw[i + 1 : i + 3]
            if len(hex_) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in hex_):
                raise LinkError(403, "path not canonical: bad escape")
            value = int(hex_, 16)
            if value == 0x2F:
                raise LinkError(403, "path not canonical: encoded slash")
            out.append(value)
            i += 3
        else:
            out.append(raw[i])
            i += 1
    why = _canonical_error(bytes(out))
    if why:
        raise LinkError(403, f"path not canonical: {why}")
    return bytes(out)


def _valid_filename(name):
    return (
        0 < len(name.encode("utf-8", "surrogatepass")) <= MAX_FILENAME_BYTES
        and not any(unicodedata.category(c) == "Cc" or c in "/\\" for c in name)
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in name)
    )


def _network_text(address, bits):
    """The canonical network text of ``address`` (an ip_address) masked to ``bits``, or None."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not 1 <= bits <= address.max_prefixlen:
        return None
    return str(ipaddress.ip_network((address, bits), strict=False))


def _parse_network(network):
    """``ADDRESS/BITS`` or ``ADDRESS`` (its /32 or /128), or an ipaddress object: (text, bits)."""
    if isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        address, bits = network.network_address, network.prefixlen
    elif isinstance(network, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        address, bits = network, None
    else:
        text = str(network)
        address_text, slash, bits_text = text.partition("/")
        if "%" in address_text:
            raise SigningError(f"network {text!r}: a scoped address cannot be signed")
        try:
            address = ipaddress.ip_address(address_text)
        except ValueError:
            raise SigningError(f"network {text!r} is not ADDRESS/BITS or ADDRESS") from None
        bits = None
        if slash:
            if not re.fullmatch(r"[0-9]{1,3}", bits_text):
                raise SigningError(f"network {text!r} is not ADDRESS/BITS or ADDRESS")
            bits = int(bits_text)
    if bits is None:
        mapped = address.version == 6 and address.ipv4_mapped is not None
        bits = 32 if address.version == 4 or mapped else 128
    net = _network_text(address, bits)
    if net is None:
        raise SigningError(f"network prefix length {bits} does not fit the address")
    return net, bits


def _unix(value, what, now):
    """Unix seconds from an int, an aware datetime, or (relative to now) a timedelta."""
    if isinstance(value, bool):
        raise SigningError(f"{what} must be Unix seconds, an aware datetime or a timedelta")
    if isinstance(value, _dt.timedelta):
        return now + int(value.total_seconds())
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time means "local time" to one machine and UTC to another (and is ambiguous
            # in the hour a clock goes back): refuse it rather than guess.
            raise SigningError(f"{what}: a naive datetime is ambiguous; give it a timezone")
        return int(value.timestamp())
    if isinstance(value, int):
        return value
    raise SigningError(f"{what} must be Unix seconds, an aware datetime or a timedelta")


# -- signing ------------------------------------------------------------------------------------


def _canonical(kid, exp, nbf, net, fn, disp, prefix, path, limit=(None, None, None)):
    fields = [LABEL.encode(), kid.encode(), str(exp).encode(), b"" if nbf is None else str(nbf).encode(), net.encode()]
    if fn is not None:
        fields += [b"fn", fn]
    if disp is not None:
        fields += [b"disp", disp]
    for label, value in zip((b"id", b"uses", b"gw"), limit):
        if value is not None:
            fields += [label, value if isinstance(value, bytes) else str(value).encode()]
    fields += [b"prefix", prefix] if prefix is not None else [b"path", path]
    return b"\n".join(fields)


def canonical_string(path, kid, exp, not_before=None, prefix=None, network=None, filename=None, disposition=None,
                     link_id=None, uses=None, grant_window=None):
    """The canonical string (bytes) SDL1 signs for these claims (``network`` already masked text
    such as ``203.0.113.0/24``). For tests and for signers in other languages."""
    fn = _b64(filename.encode("utf-8")).encode("ascii") if filename is not None else None
    disp = disposition.encode("ascii") if disposition is not None else None
    pfx = prefix.encode("utf-8") if prefix is not None else None
    return _canonical(kid, exp, not_before, network or "", fn, disp, pfx, path.encode("utf-8"),
                      (link_id, uses, grant_window))


def sign(
    path,
    key,
    kid,
    *,
    expires_at=None,
    expires_in=None,
    not_before=None,
    prefix=None,
    network=None,
    filename=None,
    disposition=None,
    link_id=None,
    uses=None,
    grant_window=None,
    now=None,
):
    """Returns the signed link ``path?query`` for ``path``, byte for byte what ``xsendfiled sign``
    prints for the same inputs.

    ``path``: the public path a browser requests, mount prefix included, not percent-encoded
    (``"/dl/reports/Q3 résumé.pdf"``). ``key``: the secret bytes of key id ``kid`` (see
    ``load_keys``). The expiry is either ``expires_at`` (Unix seconds or an aware datetime) or
    ``expires_in`` (seconds or a timedelta from now); with neither, one hour from now.
    ``not_before``: Unix seconds, an aware datetime, or a timedelta from now. ``prefix``: a prefix
    of ``path`` ending with ``/``, to sign every file below it. ``network``: ``"203.0.113.0/24"``,
    ``"2001:db8::/64"`` or an address (its /32 or /128), or an ipaddress object. ``filename`` and
    ``disposition`` (``"attachment"`` or ``"inline"``): the download name and type, signed.
    ``link_id`` (1-64 of ``A-Z a-z 0-9 _ -``, e.g. ``secrets.token_urlsafe(16)``): a name to revoke
    the link by; ``uses`` (1-999999, needs ``link_id``): how many times a daemon with ``--state``
    lets it be used; ``grant_window`` (seconds, needs ``uses``): how long one use stays open for
    its client.

    Raises SigningError for anything the daemon would refuse.
    """
    now = int(time.time()) if now is None else int(now)
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise SigningError(f"key id {kid!r} is not 1-32 of A-Z a-z 0-9 _ -")
    key = bytes(key)
    if len(key) < MIN_SECRET_BYTES:
        raise SigningError(f"key {kid!r} is shorter than 16 bytes; SDL1 needs a hex: or b64: key of 32 random bytes")
    if expires_at is not None and expires_in is not None:
        raise SigningError("give expires_at or expires_in, not both")
    if expires_at is not None:
        if isinstance(expires_at, _dt.timedelta):
            raise SigningError("expires_at is a point in time; give a duration as expires_in")
        exp = _unix(expires_at, "expires_at", now)
    else:
        delta = 3600 if expires_in is None else expires_in
        if isinstance(delta, _dt.timedelta):
            delta = int(delta.total_seconds())
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise SigningError("expires_in must be seconds or a timedelta")
        exp = now + delta
    nbf = None if not_before is None else _unix(not_before, "not_before", now)
    for what, t in (("expiry", exp), ("not-before", nbf)):
        if t is not None and not 1 <= t <= _MAX_TIME:
            raise SigningError(f"{what} {t} is not a Unix time of 1 to 11 digits")
    if nbf is not None and nbf >= exp:
        raise SigningError("the link would never work: it starts (not_before) no earlier than it expires")
    if filename is not None and (not isinstance(filename, str) or not _valid_filename(filename)):
        raise SigningError(f"download name {filename!r} must be 1-255 bytes without control characters, / or \\")
    if disposition is not None and disposition not in ("attachment", "inline"):
        raise SigningError(f"disposition {disposition!r} must be 'attachment' or 'inline'")
    _check_limit(link_id, uses, grant_window)
    try:
        raw_path = path.encode("utf-8")
    except (AttributeError, UnicodeEncodeError):
        raise SigningError(f"path {path!r} is not a str of valid Unicode") from None
    if _canonical_error(raw_path) or raw_path.endswith(b"/"):
        raise SigningError(
            f"path {path!r} is not canonical (absolute, no empty, . or .. segments, no control characters)"
        )
    raw_prefix = None
    if prefix is not None:
        try:
            raw_prefix = prefix.encode("utf-8")
        except (AttributeError, UnicodeEncodeError):
            raise SigningError(f"prefix {prefix!r} must end with / and be a prefix of the path") from None
        if _canonical_error(raw_prefix) or not raw_prefix.endswith(b"/") or not raw_path.startswith(raw_prefix):
            raise SigningError(f"prefix {prefix!r} must end with / and be a prefix of the path")
    net, bits = ("", None) if network is None else _parse_network(network)
    fn = _b64(filename.encode("utf-8")) if filename is not None else None
    canonical = _canonical(
        kid,
        exp,
        nbf,
        net,
        None if fn is None else fn.encode("ascii"),
        None if disposition is None else disposition.encode("ascii"),
        raw_prefix,
        raw_path,
        (link_id, uses, grant_window),
    )
    sig = _b64(hmac.new(key, canonical, hashlib.sha256).digest())
    query = [f"exp={exp}", f"kid={kid}"]
    if nbf is not None:
        query.append(f"nbf={nbf}")
    if raw_prefix is not None:
        query.append(f"pfx={_b64(raw_prefix)}")
    if bits is not None:
        query.append(f"ipm={bits}")
    if fn is not None:
        query.append(f"fn={fn}")
    if disposition is not None:
        query.append(f"disp={disposition}")
    for name, value in (("id", link_id), ("uses", uses), ("gw", grant_window)):
        if value is not None:
            query.append(f"{name}={value}")
    query.append(f"sig={sig}")
    return url_path(raw_path) + "?" + "&".join(query)


def _check_limit(link_id, uses, grant_window):
    """Refuses a link id, use count or grant window the daemon would refuse."""
    if link_id is not None and (not isinstance(link_id, str) or not _LINK_ID.fullmatch(link_id)):
        raise SigningError(f"link id {link_id!r} is not 1-64 of A-Z a-z 0-9 _ -")
    for what, value, top in (("uses", uses, 999999), ("grant_window", grant_window, 9999999)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top):
            raise SigningError(f"{what} {value!r} must be a whole number from 1 to {top}")
    if uses is not None and link_id is None:
        raise SigningError("uses needs a link_id")
    if grant_window is not None and uses is None:
        raise SigningError("grant_window needs uses")


# -- verifying ----------------------------------------------------------------------------------


def verify(uri, keys, remote_addr=None, now=None, max_lifetime=MAX_LIFETIME):
    """Checks the signed link ``uri`` (path and query as the browser sent it, still
    percent-encoded: bytes, or a str of ASCII) as the daemon does, with key ring ``keys`` (a dict
    of key id to secret) for a client at ``remote_addr``.

    Returns a Verified on success; raises LinkError whose ``status`` is what the daemon answers
    (403, or 410 for an expired link). The daemon then still checks the file itself (404)."""
    now = int(time.time()) if now is None else int(now)
    if isinstance(uri, str):
        uri = uri.encode("utf-8")
    raw_path, _, query = uri.partition(b"?")
    path = _decode_path(raw_path)
    found = dict.fromkeys(_PARAMS)
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name in found:
            if found[name] is not None:
                raise LinkError(403, "parameter: duplicate parameter")
            found[name] = value

    def param(why):
        return LinkError(403, f"parameter: {why}")

    exp_raw, kid_raw, nbf_raw = found[b"exp"], found[b"kid"], found[b"nbf"]
    if exp_raw is None:
        raise param("no exp")
    if not _TIME.fullmatch(exp_raw):
        raise param("bad exp")
    exp = int(exp_raw)
    if kid_raw is None:
        raise param("no kid")
    kid = kid_raw.decode("latin-1")
    if not _KID.fullmatch(kid):
        raise param("bad kid")
    key = keys.get(kid)
    if key is None or len(key) < MIN_SECRET_BYTES:
        raise LinkError(403, "unknown key id")
    if nbf_raw is not None and not _TIME.fullmatch(nbf_raw):
        raise param("bad nbf")
    nbf = None if nbf_raw is None else int(nbf_raw)
    sig_raw = found[b"sig"]
    if sig_raw is None:
        raise param("no sig")
    sig = _b64_strict(sig_raw) if len(sig_raw) == 43 else None
    if sig is None or len(sig) != 32:
        raise param("bad sig")
    prefix = None
    if found[b"pfx"] is not None:
        prefix = _b64_strict(found[b"pfx"])
        if prefix is None or _canonical_error(prefix):
            raise param("bad pfx")
        if not prefix.endswith(b"/") or not path.startswith(prefix):
            raise LinkError(403, "prefix does not cover the path")
    net = ""
    if found[b"ipm"] is not None:
        if not _BITS.fullmatch(found[b"ipm"]) or int(found[b"ipm"]) > 255:
            raise param("bad ipm")
        try:
            address = ipaddress.ip_address(remote_addr.decode() if isinstance(remote_addr, bytes) else remote_addr)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise LinkError(403, "client address does not fit the signed network") from None
        if getattr(address, "scope_id", None):
            raise LinkError(403, "client address does not fit the signed network")
        net = _network_text(address, int(found[b"ipm"]))
        if net is None:
            raise LinkError(403, "client address does not fit the signed network")
    filename = None
    fn_raw, disp_raw = found[b"fn"], found[b"disp"]
    if fn_raw is not None:
        name = _b64_strict(fn_raw)
        try:
            filename = None if name is None else name.decode("utf-8")
        except UnicodeDecodeError:
            filename = None
        if filename is None or not _valid_filename(filename):
            raise param("bad fn or disp")
    if disp_raw is not None and disp_raw not in (b"attachment", b"inline"):
        raise param("bad fn or disp")
    id_raw, uses_raw, gw_raw = found[b"id"], found[b"uses"], found[b"gw"]
    if (
        (id_raw is not None and not _LINK_ID.fullmatch(id_raw.decode("latin-1")))
        or (uses_raw is not None and (id_raw is None or not _USES.fullmatch(uses_raw)))
        or (gw_raw is not None and (uses_raw is None or not _WINDOW.fullmatch(gw_raw)))
    ):
        raise param("bad id, uses or gw")
    canonical = _canonical(kid, exp_raw.decode(), None if nbf_raw is None else nbf_raw.decode(), net, fn_raw, disp_raw,
                           prefix, path, (id_raw, uses_raw, gw_raw))
    expected = hmac.new(key, canonical, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, sig):
        raise LinkError(403, "bad signature")
    if now > exp:
        raise LinkError(410, "expired")
    if nbf is not None and now + NBF_SKEW < nbf:
        raise LinkError(403, "not yet valid")
    if exp - now > max_lifetime:
        raise LinkError(403, "lifetime over the cap")
    return Verified(
        kid,
        path,
        filename,
        None if disp_raw is None else disp_raw.decode(),
        None if id_raw is None else id_raw.decode(),
        None if uses_raw is None else int(uses_raw),
        None if gw_raw is None else int(gw_raw),
    )
