"use strict";
// Asking xsendfiled directly over its app socket (`xsendfiled --app-socket PATH`): the decision and
// the exact reply the web server would get, to inspect and return as the app's own response (nginx
// then follows X-Accel-Redirect as usual). HTTP/1.1 over the Unix socket with node:http; the answer
// never has a body. `answer.headers` are the ones to forward: every field but Xsendfiled-*,
// Content-Length, Connection and Date.

const http = require("node:http");

const NOT_FORWARDED = new Set(["content-length", "connection", "date", "keep-alive", "transfer-encoding"]);

/** The daemon could not be asked (no socket, no answer, not an ask answer). */
class AskError extends Error {}

/** xsendfiled's answer to an ask. */
class Answer {
  constructor(status, statusMessage, rawHeaders) {
    /** The HTTP status (200, 404, ...). */
    this.status = status;
    this.statusMessage = statusMessage;
    /** Every field received, as [name, value] pairs. */
    this.rawHeaders = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) this.rawHeaders.push([rawHeaders[i], rawHeaders[i + 1]]);
    /** The fields to forward to the client, as [name, value] pairs. */
    this.headers = this.rawHeaders.filter(([k]) => {
      const n = k.toLowerCase();
      return !n.startsWith("xsendfiled-") && !NOT_FORWARDED.has(n);
    });
    /** "send" or "refuse". */
    this.decision = this.field("Xsendfiled-Decision");
    /** Why, on a refusal (the daemon's log reason). */
    this.reason = this.field("Xsendfiled-Reason");
    const file = this.field("Xsendfiled-File");
    /** On a send: the canonical path relative to its root (a Buffer: names need not be UTF-8). */
    this.file = file == null ? null : Buffer.from(unescapeBytes(file));
    const size = this.field("Xsendfiled-Size");
    const mtime = this.field("Xsendfiled-Mtime");
    /** On a send: the size in bytes and the modification time in Unix seconds. */
    this.size = size == null ? null : Number(size);
    this.mtime = mtime == null ? null : Number(mtime);
  }

  /** The first received field called `name` (case-insensitive), or null. */
  field(name) {
    const n = name.toLowerCase();
    const hit = this.rawHeaders.find(([k]) => k.toLowerCase() === n);
    return hit ? hit[1] : null;
  }

  /** The first forwarded header called `name`, or null. */
  header(name) {
    const n = name.toLowerCase();
    const hit = this.headers.find(([k]) => k.toLowerCase() === n);
    return hit ? hit[1] : null;
  }

  /** Whether xsendfiled allowed the file. */
  get sent() {
    return this.decision === "send";
  }

  /**
   * Writes this answer as the response `res` (node:http or Express): the status, the forwarded
   * headers (replacing any of the same name already set), and an empty body. Returns `res`.
   */
  applyTo(res) {
    res.statusCode = this.status;
    const byName = new Map();
    for (const [k, v] of this.headers) {
      const key = k.toLowerCase();
      if (!byName.has(key)) byName.set(key, [k, []]);
      byName.get(key)[1].push(v);
    }
    for (const [name, values] of byName.values()) res.setHeader(name, values.length === 1 ? values[0] : values);
    res.setHeader("Content-Length", "0");
    res.end();
    return res;
  }
}

function unescapeBytes(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(s.charCodeAt(i) & 0xff);
    }
  }
  return out;
}

/** A client bound to xsendfiled's app socket. */
class Client {
  constructor(socketPath, { timeout = 10000 } = {}) {
    this.socketPath = String(socketPath);
    this.timeout = timeout;
  }

  /**
   * Asks about `path` (what would follow the internal prefix in X-Accel-Redirect: below the root,
   * after any --strip-prefix). options: filename, disposition, method ("GET" or "HEAD"), root, and
   * the delegateUri options (cacheControl, expires, limitRate, buffering, accelExpires).
   * Resolves to an Answer; rejects with AskError when the daemon cannot be asked.
   */
  ask(path, options = {}) {
    const { delegateUri } = require("./index.js");
    const { method = "GET", root, ...rest } = options;
    let target = delegateUri(path, { ...rest, internalPrefix: "/" });
    if (root != null) target += (target.includes("?") ? "&" : "?") + new URLSearchParams({ root: String(root) });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { socketPath: this.socketPath, method, path: target, headers: { Host: "xsendfiled" }, agent: false },
        (res) => {
          res.resume();
          res.on("end", () => {
            const answer = new Answer(res.statusCode, res.statusMessage, res.rawHeaders);
            if (answer.decision == null) reject(new AskError(`${this.socketPath} is not xsendfiled's app socket`));
            else resolve(answer);
          });
          res.on("error", (e) => reject(new AskError(`asking xsendfiled on ${this.socketPath}: ${e.message}`)));
        },
      );
      req.on("error", (e) => reject(new AskError(`asking xsendfiled on ${this.socketPath}: ${e.message}`)));
      req.setTimeout(this.timeout, () => req.destroy(new Error("timeout")));
      req.end();
    });
  }
}

module.exports = { Answer, AskError, Client };
