"use strict";
// Client helpers for xsendfiled, the download guard beside nginx: SDL1 signed links (sign),
// delegation headers (delegate) and an Express helper (express). No dependencies.

const crypto = require("node:crypto");
const net = require("node:net");

/** An argument xsendfiled would refuse (a link it could never verify, a header it would not accept). */
class XsendfiledError extends TypeError {}

const LABEL = "SDL1-HMAC-SHA256";
const MIN_SECRET_BYTES = 16;
const MAX_TIME = 99999999999;
const MAX_FILENAME_BYTES = 255;
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const BAD_NAME_CHAR = /[\u0000-\u001f\u007f-\u009f/\\]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fail(message) {
  throw new XsendfiledError(message);
}

function b64(bytes) {
  return Buffer.from(bytes).toString("base64url");
}

/** Every byte but A-Z a-z 0-9 - . _ ~ / as %XX (upper case), as the daemon writes paths. */
function encodePath(path) {
  let out = "";
  for (const b of Buffer.from(path, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~/]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function utf8String(value, what) {
  if (typeof value !== "string") fail(`${what} must be a string`);
  if (LONE_SURROGATE.test(value)) fail(`${what} is not valid Unicode`);
  return value;
}

/** Absolute, no control characters or backslash, no empty (but a last), `.` or `..` segment. */
function isCanonical(path) {
  if (!path.startsWith("/") || /[\u0000-\u001f\u007f\\]/.test(path) || LONE_SURROGATE.test(path)) return false;
  const segments = path.slice(1).split("/");
  return segments.every((s, i) => !((s === "" && i + 1 < segments.length) || s === "." || s === ".."));
}

/** A download name: 1-255 bytes of UTF-8 without control characters, / or \. */
function checkFilename(name) {
  utf8String(name, "filename");
  const n = Buffer.byteLength(name, "utf8");
  if (n === 0 || n > MAX_FILENAME_BYTES || BAD_NAME_CHAR.test(name)) {
    fail(`download name ${JSON.stringify(name)} must be 1-255 bytes without control characters, / or \\`);
  }
  return name;
}

function unixTime(value, what) {
  const v = value instanceof Date ? Math.floor(value.getTime() / 1000) : value;
  if (!Number.isSafeInteger(v) || v <= 0 || v > MAX_TIME) fail(`${what} must be Unix seconds (a Date or a positive integer)`);
  return v;
}

// --- networks -------------------------------------------------------------------------------

function v4Value(s) {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function v6Value(s) {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part) => (part === "" ? [] : part.split(":"));
  const words = (list) => {
    const out = [];
    for (let i = 0; i < list.length; i++) {
      const g = list[i];
      if (g.includes(".")) {
        const v = i === list.length - 1 ? v4Value(g) : null;
        if (v === null) return null;
        out.push(v >> 16n, v & 0xffffn);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
        out.push(BigInt(parseInt(g, 16)));
      }
    }
    return out;
  };
  const left = words(groups(halves[0]));
  const right = halves.length === 2 ? words(groups(halves[1])) : [];
  if (left === null || right === null) return null;
  if (halves.length === 2 && groups(halves[1]).length && groups(halves[0]).some((g) => g.includes("."))) return null;
  let all;
  if (halves.length === 1) {
    if (left.length !== 8) return null;
    all = left;
  } else {
    if (left.length + right.length > 7) return null;
    all = [...left, ...Array(8 - left.length - right.length).fill(0n), ...right];
  }
  return all.reduce((acc, w) => (acc << 16n) | w, 0n);
}

/** RFC 5952: lower-case hex, the leftmost longest run of two or more zero groups as `::`. */
function v6Text(v) {
  const w = [];
  for (let i = 7; i >= 0; i--) w.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  let [bestAt, bestLen, at, len] = [0, 0, 0, 0];
  w.forEach((g, i) => {
    if (g === 0) {
      if (len === 0) at = i;
      len += 1;
      if (len > bestLen) [bestAt, bestLen] = [at, len];
    } else {
      len = 0;
    }
  });
  const hex = w.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/**
 * The client network a link is bound to, "ADDRESS/BITS" or "ADDRESS" (its /32 or /128), masked
 * and written as the daemon writes it (IPv6 in RFC 5952 form; an IPv4-mapped address is IPv4).
 * Returns [canonical text, bits].
 */
function parseNetwork(text) {
  if (typeof text !== "string") fail("network must be a string like 203.0.113.0/24");
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? null : text.slice(slash + 1);
  let family = 0;
  let value = null;
  if (/^[0-9.]+$/.test(addr)) {
    value = v4Value(addr);
    family = 4;
  } else if (/^[0-9A-Fa-f:.]+$/.test(addr) && net.isIPv6(addr)) {
    value = v6Value(addr);
    family = 6;
  }
  if (value === null) fail(`network ${JSON.stringify(text)}: not an IP address`);
  if (family === 6 && value >> 32n === 0xffffn) {
    family = 4;
    value &= 0xffffffffn;
  }
  const width = family === 4 ? 32 : 128;
  let bits = width;
  if (bitsText !== null) {
    if (!/^[0-9]{1,3}$/.test(bitsText)) fail(`network ${JSON.stringify(text)}: bad prefix length`);
    bits = Number(bitsText);
  }
  if (bits < 1 || bits > width) fail(`network ${JSON.stringify(text)}: prefix length must be 1-${width}`);
  const all = (1n << BigInt(width)) - 1n;
  const masked = value & (all ^ ((1n << BigInt(width - bits)) - 1n));
  const shown =
    family === 4 ? [24n, 16n, 8n, 0n].map((s) => String((masked >> s) & 0xffn)).join(".") : v6Text(masked);
  return [`${shown}/${bits}`, bits];
}

// --- SDL1 -----------------------------------------------------------------------------------

/** The canonical string the MAC covers; `fname` is the base64url value of the `fn` parameter. */
function canonical({ kid, exp, nbf, network, fname, disposition, id, uses, gw, prefix, path }) {
  let out = `${LABEL}\n${kid}\n${exp}\n${nbf ?? ""}\n${network ?? ""}\n`;
  if (fname != null) out += `fn\n${fname}\n`;
  if (disposition != null) out += `disp\n${disposition}\n`;
  if (id != null) out += `id\n${id}\n`;
  if (uses != null) out += `uses\n${uses}\n`;
  if (gw != null) out += `gw\n${gw}\n`;
  return out + (prefix != null ? `prefix\n${prefix}` : `path\n${path}`);
}

/**
 * A signed, expiring link for `path` (the public path a browser requests, mount prefix included,
 * not percent-encoded), byte-identical to `xsendfiled sign`: "path?query", to append to the
 * site's origin.
 *
 * options: key (Buffer: the secret; secret("hex:...") reads a key-file spelling), kid,
 * expiresAt (Date or Unix seconds) or expiresIn (seconds from now, default 3600), notBefore,
 * prefix (ending in /), network ("203.0.113.0/24", "2001:db8::/64" or an address), filename,
 * disposition ("attachment" or "inline"), linkId (1-64 of A-Z a-z 0-9 _ -: a name to revoke the
 * link by), uses (1-999999, needs linkId: how many times a daemon with --state lets it be used),
 * grantWindow (seconds, needs uses: how long one use stays open for its client).
 */
function sign(path, options = {}) {
  const { key, kid, expiresAt, expiresIn, notBefore, prefix, network, filename, disposition, now } = options;
  const { linkId, uses, grantWindow } = options;
  checkLimit(linkId, uses, grantWindow);
  if (typeof kid !== "string" || !KID.test(kid)) fail(`kid ${JSON.stringify(kid)} is not 1-32 of A-Z a-z 0-9 _ -`);
  if (!(key instanceof Uint8Array)) fail("key must be the secret's bytes (a Buffer); secret(\"hex:...\") reads a key-file spelling");
  const keyBytes = Buffer.from(key);
  if (keyBytes.length < MIN_SECRET_BYTES) fail("the key is shorter than 16 bytes (SDL1 wants 32 random bytes)");
  utf8String(path, "path");
  if (!isCanonical(path) || path.endsWith("/")) fail(`path ${JSON.stringify(path)} is not canonical`);
  if (expiresAt != null && expiresIn != null) fail("give expiresAt or expiresIn, not both");
  let exp;
  if (expiresAt != null) {
    exp = unixTime(expiresAt, "expiresAt");
  } else {
    const secs = expiresIn ?? 3600;
    if (!Number.isSafeInteger(secs) || secs <= 0) fail("expiresIn must be a positive number of seconds");
    exp = unixTime(unixTime(now ?? Math.floor(Date.now() / 1000), "now") + secs, "expiresIn");
  }
  const nbf = notBefore == null ? null : unixTime(notBefore, "notBefore");
  if (nbf !== null && nbf >= exp) fail("the link would never work: notBefore is not before the expiry");
  if (prefix != null) {
    utf8String(prefix, "prefix");
    if (!isCanonical(prefix) || !prefix.endsWith("/") || !path.startsWith(prefix)) {
      fail(`prefix ${JSON.stringify(prefix)} must end with / and be a prefix of the path`);
    }
  }
  const [net, bits] = network == null ? [null, null] : parseNetwork(network);
  const fname = filename == null ? null : b64(Buffer.from(checkFilename(filename), "utf8"));
  if (disposition != null && disposition !== "attachment" && disposition !== "inline") {
    fail(`disposition ${JSON.stringify(disposition)} is not attachment or inline`);
  }
  const limit = { id: linkId ?? null, uses: uses ?? null, gw: grantWindow ?? null };
  const text = canonical({ kid, exp, nbf, network: net, fname, disposition, ...limit, prefix, path });
  const sig = crypto.createHmac("sha256", keyBytes).update(text, "utf8").digest("base64url");
  let query = `exp=${exp}&kid=${kid}`;
  if (nbf !== null) query += `&nbf=${nbf}`;
  if (prefix != null) query += `&pfx=${b64(Buffer.from(prefix, "utf8"))}`;
  if (bits !== null) query += `&ipm=${bits}`;
  if (fname !== null) query += `&fn=${fname}`;
  if (disposition != null) query += `&disp=${disposition}`;
  for (const [name, value] of Object.entries(limit)) if (value !== null) query += `&${name}=${value}`;
  return `${encodePath(path)}?${query}&sig=${sig}`;
}

/** Refuses a link id, use count or grant window the daemon would refuse. */
function checkLimit(linkId, uses, grantWindow) {
  if (linkId != null && (typeof linkId !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(linkId))) {
    fail(`linkId ${JSON.stringify(linkId)} is not 1-64 of A-Z a-z 0-9 _ -`);
  }
  for (const [what, value, top] of [["uses", uses, 999999], ["grantWindow", grantWindow, 9999999]]) {
    if (value != null && (!Number.isSafeInteger(value) || value < 1 || value > top)) fail(`${what} must be a whole number from 1 to ${top}`);
  }
  if (uses != null && linkId == null) fail("uses needs a linkId");
  if (grantWindow != null && uses == null) fail("grantWindow needs uses");
}

/** The bytes of a secret as written in xsendfiled's key file: "hex:..." or "b64:..." (base64url). */
function secret(text) {
  let m = /^hex:((?:[0-9A-Fa-f]{2})+)$/.exec(text);
  if (m) return Buffer.from(m[1], "hex");
  m = /^b64:([A-Za-z0-9_-]+)$/.exec(text);
  if (m && Buffer.from(m[1], "base64url").toString("base64url") === m[1]) return Buffer.from(m[1], "base64url");
  return fail("a secret is written hex:... or b64:...");
}

// --- delegation -----------------------------------------------------------------------------

const DISPOSITIONS = ["auto", "inline", "attachment", "none"];

/**
 * The X-Accel-Redirect value that hands `path` (below xsendfiled's root) to xsendfiled: the
 * internal prefix, the path percent-encoded byte by byte, then the trusted query, form-encoded as
 * xsendfiled reads it. options: filename, disposition (auto|inline|attachment|none),
 * internalPrefix (default "/_xsendfiled"), cacheControl, expires, limitRate, buffering (boolean),
 * accelExpires.
 */
function delegateUri(path, options = {}) {
  const { filename, disposition, internalPrefix = "/_xsendfiled", cacheControl, expires, limitRate, buffering, accelExpires } =
    options;
  utf8String(path, "path");
  const rel = path.startsWith("/") ? path.slice(1) : path;
  if (rel === "") fail("empty path");
  const prefix = String(internalPrefix).replace(/\/$/, "");
  if (!String(internalPrefix).startsWith("/")) fail(`internalPrefix ${JSON.stringify(internalPrefix)} must start with /`);
  const query = new URLSearchParams();
  if (filename != null) query.append("filename", checkFilename(filename));
  if (disposition != null) {
    if (!DISPOSITIONS.includes(disposition)) fail(`disposition ${JSON.stringify(disposition)} is not one of ${DISPOSITIONS.join(", ")}`);
    query.append("disposition", disposition);
  }
  if (cacheControl != null) {
    if (/[\u0000-\u001f\u007f]/.test(cacheControl)) fail("cacheControl must be one line");
    query.append("cache_control", String(cacheControl));
  }
  for (const [k, v] of [["expires", expires], ["limit_rate", limitRate], ["accel_expires", accelExpires]]) {
    if (v == null) continue;
    if (!Number.isSafeInteger(v) || v < 0) fail(`${k} must be a non-negative integer`);
    query.append(k, String(v));
  }
  if (buffering != null) query.append("buffering", buffering ? "yes" : "no");
  const uri = `${prefix}/${encodePath(rel)}`;
  const q = query.toString();
  return q === "" ? uri : `${uri}?${q}`;
}

/**
 * The response headers that hand `path` to xsendfiled: X-Accel-Redirect, and a Content-Type
 * without charset (nginx would keep a charset on the file it sends). Options as delegateUri.
 */
function delegate(path, options = {}) {
  return { "X-Accel-Redirect": delegateUri(path, options), "Content-Type": "application/octet-stream" };
}

module.exports = {
  XsendfiledError,
  sign,
  secret,
  canonical,
  encodePath,
  parseNetwork,
  checkFilename,
  delegate,
  delegateUri,
};

const ask = require("./ask.js");
module.exports.Client = ask.Client;
module.exports.Answer = ask.Answer;
module.exports.AskError = ask.AskError;

Object.defineProperty(module.exports, "express", {
  enumerable: true,
  get: () => require("./express.js"),
});
