"use strict";
// Express (or plain node:http) helpers: hand a download to xsendfiled instead of sending it.

const fs = require("node:fs");
const nodePath = require("node:path");
const { delegate, XsendfiledError, checkFilename } = require("./index.js");
const disposition = require("./disposition.js");

function setHeaders(res, headers) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

/**
 * Ends `res` with the headers that hand `rel` to xsendfiled. The app's Content-Disposition `own`
 * (when `options` names neither filename nor disposition) travels in the trusted query, read
 * exactly, so xsendfiled writes the only one; a header it cannot read exactly stays as the app
 * wrote it (the delegation location passes it on as XSENDFILED_APP_DISPOSITION and xsendfiled
 * adds none).
 */
function handOver(res, rel, own, options) {
  const delegation = { ...options };
  let keep = null;
  if (own && options.filename == null && options.disposition == null) {
    const parsed = disposition.parse(String(own), checkFilename);
    if (parsed) [delegation.disposition, delegation.filename] = [parsed[0], parsed[1] ?? undefined];
    else keep = String(own);
  }
  const headers = delegate(rel, delegation); // throws before anything is changed
  res.removeHeader("Content-Disposition");
  res.removeHeader("Content-Length");
  if (keep !== null) res.setHeader("Content-Disposition", keep);
  res.statusCode = 200;
  setHeaders(res, headers);
  res.end();
}

/**
 * Answers with the headers that hand `path` (below xsendfiled's root) to xsendfiled, and ends the
 * response: nginx follows the X-Accel-Redirect, xsendfiled checks the path and names the file.
 * options: as delegate() (filename, disposition, internalPrefix, ...). Without filename and
 * disposition, a Content-Disposition the app set (res.attachment) names the download.
 */
function sendFile(res, path, options = {}) {
  handOver(res, path, res.getHeader("Content-Disposition"), options);
}

function below(path, root) {
  const r = root.replace(/\/+$/, "");
  return path.startsWith(`${r}/`) && path.length > r.length + 1 ? path.slice(r.length + 1) : null;
}

/**
 * Middleware that replaces res.sendFile (and so res.download, which calls it) for the requests
 * after it: a file under `root` is handed to xsendfiled with `internalPrefix`; the name and type
 * of the Content-Disposition the app set (res.download, res.attachment) travel in the trusted
 * query, so the client gets exactly one, written by xsendfiled. A file outside `root` is an error
 * with status 404 (passed to the callback, or to next()). Nothing is read from the request.
 */
function middleware({ root, internalPrefix = "/_xsendfiled" } = {}) {
  if (typeof root !== "string" || !fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new XsendfiledError(`root ${JSON.stringify(root)} must be a directory`);
  }
  const lexicalRoot = nodePath.resolve(root);
  const realRoot = fs.realpathSync(lexicalRoot);
  delegate("x", { internalPrefix }); // fails early on a bad prefix
  return function xsendfiledSendFile(req, res, next) {
    res.sendFile = function sendFileViaXsendfiled(path, options, callback) {
      if (typeof options === "function") [callback, options] = [options, {}];
      const opts = options || {};
      const done = (err) => (callback ? callback(err) : (req.next || next)(err));
      if (typeof path !== "string") return done(new XsendfiledError("path must be a string"));
      if (!opts.root && !nodePath.isAbsolute(path)) {
        return done(new XsendfiledError("path must be absolute or root must be given to res.sendFile"));
      }
      // As Express's own sendFile: with `root`, a `..` segment or a NUL is refused (403), so the
      // app's narrower root holds; the result must also lie below that root.
      if (opts.root && (path.includes("\0") || path.split(/[\\/]/).includes(".."))) {
        const err = new Error(`${path}: a .. segment under root ${opts.root}`);
        err.status = err.statusCode = 403;
        return done(err);
      }
      const full = nodePath.resolve(opts.root || "/", opts.root ? `./${path}` : path);
      if (opts.root && below(full, nodePath.resolve(opts.root)) === null) {
        const err = new Error(`${full} is outside ${opts.root}`);
        err.status = err.statusCode = 404;
        return done(err);
      }
      let rel = below(full, lexicalRoot);
      if (rel === null) {
        try {
          rel = below(fs.realpathSync(full), realRoot);
        } catch {
          rel = null;
        }
      }
      if (rel === null) {
        const err = new Error(`${full} is outside ${lexicalRoot}`);
        err.status = err.statusCode = 404;
        return done(err);
      }
      const own = (opts.headers && Object.entries(opts.headers).find(([k]) => k.toLowerCase() === "content-disposition")?.[1]) ||
        res.getHeader("Content-Disposition");
      for (const [k, v] of Object.entries(opts.headers || {})) {
        if (!["content-disposition", "content-type", "content-length"].includes(k.toLowerCase())) res.setHeader(k, v);
      }
      try {
        handOver(res, rel, own, { internalPrefix });
      } catch (err) {
        return done(err);
      }
      if (callback) callback();
      return undefined;
    };
    next();
  };
}

module.exports = { sendFile, middleware };
