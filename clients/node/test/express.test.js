"use strict";
// The Express helper with the real Express (from npm: ./test.sh installs it into target/clients/node).
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const http = require("node:http");
const express = require("express");
const xsf = require("..");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsfd-node-"));
const root = path.join(dir, "files");
fs.mkdirSync(path.join(root, "sub"), { recursive: true });
fs.mkdirSync(path.join(dir, "files-private"));
fs.writeFileSync(path.join(root, "a b.txt"), "space\n");
fs.writeFileSync(path.join(root, "sub", "q?#%41.txt"), "tricky\n");
fs.writeFileSync(path.join(dir, "files-private", "secret.txt"), "SECRET\n");

function request(server, method, url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.address().port, method, path: url, headers }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
  });
}

test("express: sendFile helper, res.sendFile and res.download handed to xsendfiled", async (t) => {
  const app = express();
  app.get("/helper", (req, res) => xsf.express.sendFile(res, req.query.file, { filename: req.query.name, disposition: "attachment" }));
  app.get("/helper-own", (req, res) => {
    res.attachment("x y.txt");
    xsf.express.sendFile(res, "a b.txt");
  });
  app.use(xsf.express.middleware({ root }));
  app.get("/send", (req, res) => res.sendFile(path.join(root, req.query.file)));
  app.get("/send-root", (req, res) => res.sendFile(req.query.file, { root }));
  app.get("/download", (req, res) => res.download(path.join(root, req.query.file), req.query.name));
  app.get("/attachment", (req, res) => {
    res.attachment("Résumé 是.txt");
    res.sendFile(path.join(root, "a b.txt"));
  });
  app.get("/odd", (req, res) => {
    res.set("Content-Disposition", "attachment; filename*=ISO-8859-1''%E4.txt");
    res.sendFile(path.join(root, "a b.txt"));
  });
  app.use((err, req, res, next) => res.status(err.status || 500).type("text/plain").send("refused\n"));
  const server = await listen(app);
  t.after(() => server.close());

  let r = await request(server, "GET", "/helper?file=sub/q%3F%23%2541.txt&name=" + encodeURIComponent("Q3 \"x\".txt"));
  assert.equal(r.status, 200);
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/sub/q%3F%23%2541.txt?filename=Q3+%22x%22.txt&disposition=attachment");
  assert.equal(r.headers["content-type"], "application/octet-stream");
  assert.equal(r.body, "");

  r = await request(server, "GET", "/helper-own");
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/a%20b.txt?filename=x+y.txt&disposition=attachment");
  assert.equal(r.headers["content-disposition"], undefined);

  r = await request(server, "GET", "/send?file=a%20b.txt", { Range: "bytes=0-1" });
  assert.equal(r.status, 200, "nginx answers the range on the file it sends");
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/a%20b.txt");
  assert.equal(r.headers["content-disposition"], undefined);
  assert.equal(r.body, "");

  r = await request(server, "HEAD", "/send-root?file=sub/q%3F%23%2541.txt");
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/sub/q%3F%23%2541.txt");

  r = await request(server, "GET", "/download?file=a%20b.txt&name=" + encodeURIComponent("Alice's ä ö.txt"));
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/a%20b.txt?filename=Alice%27s+%C3%A4+%C3%B6.txt&disposition=attachment");
  assert.equal(r.headers["content-disposition"], undefined, "xsendfiled writes the only one");

  r = await request(server, "GET", "/attachment");
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/a%20b.txt?filename=R%C3%A9sum%C3%A9+%E6%98%AF.txt&disposition=attachment");

  r = await request(server, "GET", "/odd");
  assert.equal(r.headers["x-accel-redirect"], "/_xsendfiled/a%20b.txt");
  assert.equal(r.headers["content-disposition"], "attachment; filename*=ISO-8859-1''%E4.txt", "kept as the app wrote it");

  for (const hostile of ["../files-private/secret.txt", "%2E%2E/files-private/secret.txt"]) {
    r = await request(server, "GET", `/send?file=${hostile}`, { "X-Sendfile-Type": "X-Sendfile", "X-Accel-Mapping": `${dir}/=/` });
    assert.equal(r.status, 404, hostile);
    assert.equal(r.headers["x-accel-redirect"], undefined);
    assert.ok(!r.body.includes("SECRET"));
  }
});

test("express: the middleware refuses a root that is not a directory", () => {
  assert.throws(() => xsf.express.middleware({ root: path.join(dir, "missing") }), xsf.XsendfiledError);
  assert.throws(() => xsf.express.middleware({ root, internalPrefix: "x" }), xsf.XsendfiledError);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("express: the app's own sendFile root holds (a .. under it is 403, as in Express)", async (t) => {
  fs.mkdirSync(path.join(root, "public"), { recursive: true });
  fs.writeFileSync(path.join(root, "public", "ok.txt"), "ok\n");
  const app = express();
  app.use(xsf.express.middleware({ root }));
  app.get("/dl/:name", (req, res, next) => res.sendFile(req.params.name, { root: path.join(root, "public") }, (err) => err && next(err)));
  app.use((err, req, res, next) => res.status(err.status || 500).end(String(err.status || 500)));
  const server = await listen(app);
  t.after(() => server.close());
  const ok = await request(server, "GET", "/dl/ok.txt");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers["x-accel-redirect"], "/_xsendfiled/public/ok.txt");
  // Inside the middleware's root, but outside the root the app gave: refused, never handed over.
  const up = await request(server, "GET", "/dl/..%2Fa%20b.txt");
  assert.equal(up.status, 403);
  assert.equal(up.headers["x-accel-redirect"], undefined);
});
