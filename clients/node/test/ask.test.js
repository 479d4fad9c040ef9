"use strict";
// Client.ask against a real xsendfiled started here on an app socket (XSENDFILED_BIN, set by
// test.sh; a missing one fails these tests), and answer.applyTo with the real Express.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const http = require("node:http");
const { spawn } = require("node:child_process");
const xsf = require("..");

const BIN = process.env.XSENDFILED_BIN || "";
if (BIN === "" || !fs.existsSync(BIN)) {
  throw new Error("no xsendfiled binary: set XSENDFILED_BIN (clients/node/test.sh does)");
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsfd-ask-"));
const root = path.join(dir, "root");
const SERVABLE = {
  "plain.txt": "plain\n",
  "a b.txt": "space\n",
  "100%.txt": "percent\n",
  "q?x.txt": "question\n",
  "h#x.txt": "hash\n",
  "%41.txt": "literal percent-41\n",
  "ü.txt": "umlaut\n",
  "是.txt": "cjk\n",
  "semi;colon=1&x+y.txt": "sub-delims\n",
  "quote'\"`.txt": "quotes\n",
  "trail ": "trailing space\n",
  "dir with space/ä ö.txt": "nested unicode\n",
};
for (const [name, body] of Object.entries(SERVABLE)) {
  fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  fs.writeFileSync(path.join(root, name), body);
}
fs.writeFileSync(path.join(root, ".hidden"), "hidden\n");
fs.mkdirSync(path.join(dir, "outside"));
fs.writeFileSync(path.join(dir, "outside", "secret.txt"), "SECRET\n");
const sock = path.join(dir, "app.sock");

let daemon;
test.before(async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("XSENDFILED_") && k !== "GATEWAY_INTERFACE"));
  daemon = spawn(BIN, ["--root", root, "--internal-prefix", "/_protected", "--app-socket", sock], { env, stdio: "ignore" });
  for (let i = 0; i < 500 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(fs.existsSync(sock), "the app socket appears");
});
test.after(async () => {
  if (!daemon) return;
  const exited = new Promise((r) => daemon.once("exit", r));
  daemon.kill("SIGTERM");
  await exited;
  assert.ok(!fs.existsSync(sock), "removed on exit");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("tricky names: the offload and the file facts", async () => {
  const client = new xsf.Client(sock);
  for (const [name, body] of Object.entries(SERVABLE)) {
    const a = await client.ask(name);
    assert.equal(a.status, 200, name);
    assert.ok(a.sent);
    assert.equal(a.header("X-Accel-Redirect"), "/_protected/" + xsf.encodePath(name), name);
    assert.deepEqual(a.file, Buffer.from(name, "utf8"), name);
    assert.equal(a.size, Buffer.byteLength(body));
    assert.equal(a.mtime, Math.floor(fs.statSync(path.join(root, name)).mtimeMs / 1000));
    const names = a.headers.map(([k]) => k.toLowerCase());
    assert.equal(names.filter((n) => n === "content-disposition").length, 1, name);
    assert.ok(!names.some((n) => n.startsWith("xsendfiled-") || n === "content-length" || n === "date"));
  }
});

test("refusals, HEAD, 405 and the trusted query", async () => {
  const client = new xsf.Client(sock);
  for (const p of ["missing.txt", ".hidden", "../outside/secret.txt"]) {
    const a = await client.ask(p);
    assert.equal(a.status, 404, p);
    assert.equal(a.decision, "refuse");
    assert.ok(a.reason, p);
    assert.equal(a.file, null);
  }
  assert.match((await client.ask(".hidden")).reason, /hidden/);
  const post = await client.ask("plain.txt", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.header("Allow"), "GET, HEAD");
  const head = await client.ask("plain.txt", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.size, 6);
  const named = await client.ask("a b.txt", { filename: "Q3 report+ü.pdf", disposition: "attachment" });
  assert.match(named.header("Content-Disposition"), /^attachment;.*filename\*=UTF-8''Q3%20report\+%C3%BC\.pdf/);
  await assert.rejects(new xsf.Client(path.join(dir, "nothing.sock")).ask("plain.txt"), xsf.AskError);
});

test("applyTo with Express", async () => {
  let express;
  try {
    express = require("express");
  } catch {
    return;
  }
  const client = new xsf.Client(sock);
  const app = express();
  app.get("/download", async (req, res) => {
    const answer = await client.ask(String(req.query.file), { filename: "Report.pdf", disposition: "attachment" });
    if (answer.status === 404) return res.status(404).send("no such report\n");
    answer.applyTo(res);
  });
  const server = await new Promise((r) => {
    const s = app.listen(0, "127.0.0.1", () => r(s));
  });
  try {
    const get = (url) =>
      new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port: server.address().port, path: url }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, raw: res.rawHeaders, body }));
        }).on("error", reject);
      });
    const ok = await get("/download?file=" + encodeURIComponent("a b.txt"));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["x-accel-redirect"], "/_protected/a%20b.txt");
    assert.equal(ok.headers["content-disposition"], 'attachment; filename="Report.pdf"');
    assert.equal(ok.raw.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "content-disposition").length, 1);
    assert.equal(ok.headers["xsendfiled-decision"], undefined);
    assert.equal(ok.body, "");
    const missing = await get("/download?file=nope.txt");
    assert.equal(missing.status, 404);
    assert.equal(missing.body, "no such report\n");
  } finally {
    server.close();
  }
});
