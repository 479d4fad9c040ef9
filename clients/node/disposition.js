"use strict";
// Reads a Content-Disposition an app wrote (Express's res.download / res.attachment, by hand) so that
// xsendfiled can write the one the client gets. Only what it can read exactly: otherwise null, and
// the app's header stays.

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const TYPE = new RegExp(`^\\s*(${TOKEN})`);
const PARAM = new RegExp(`^\\s*;\\s*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(${TOKEN}))`);
const EXT_VALUE = /^UTF-8'[A-Za-z0-9-]*'((?:[!#$&+\-.^_`|~0-9A-Za-z]|%[0-9A-Fa-f]{2})*)$/i;

/** [disposition, filename or null] from a header value (a JS string, as Express builds it), or null. */
function parse(value, checkFilename) {
  if (typeof value !== "string") return null;
  const m = TYPE.exec(value);
  if (!m) return null;
  const type = m[1].toLowerCase();
  if (type !== "attachment" && type !== "inline") return null;
  let rest = value.slice(m[0].length);
  const params = new Map();
  while (rest.trim() !== "") {
    const p = PARAM.exec(rest);
    if (!p) return null;
    const name = p[1].toLowerCase();
    if (params.has(name)) return null;
    params.set(name, p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]);
    rest = rest.slice(p[0].length);
  }
  let name = null;
  if (params.has("filename*")) {
    const e = EXT_VALUE.exec(params.get("filename*"));
    if (!e) return null;
    const bytes = Buffer.from(e[1].replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), "latin1");
    try {
      name = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return null;
    }
  } else if (params.has("filename")) {
    // A quoted string holds ISO-8859-1 characters (RFC 6266), which is what a JS string of them is.
    name = params.get("filename");
  }
  if (name === null) return [type, null];
  try {
    checkFilename(name);
  } catch {
    return null;
  }
  return [type, name];
}

module.exports = { parse };
