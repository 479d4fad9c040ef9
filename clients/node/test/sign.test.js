"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const xsf = require("..");

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "vectors", "sdl1.json"), "utf8"));
const KEY = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
const sign1 = (p, o = {}) => xsf.sign(p, { key: KEY, kid: "k1", expiresAt: 1767225600, ...o });

test("every vector signs byte-identical to xsendfiled sign", () => {
  assert.ok(vectors.sign.length >= 10);
  const secrets = Object.fromEntries(vectors.keys.map((k) => [k.kid, Buffer.from(k.secret_hex, "hex")]));
  for (const c of vectors.sign) {
    const opts = { key: secrets[c.kid], kid: c.kid, expiresAt: c.exp };
    for (const [opt, field] of [["notBefore", "nbf"], ["prefix", "prefix"], ["network", "network"], ["filename", "filename"], ["disposition", "disposition"], ["linkId", "id"], ["uses", "uses"], ["grantWindow", "gw"]]) {
      if (c[field] !== null) opts[opt] = c[field];
    }
    assert.equal(xsf.sign(c.path, opts), c.url, c.name);
    const fname = c.filename === null ? null : Buffer.from(c.filename, "utf8").toString("base64url");
    const canonical = xsf.canonical({ kid: c.kid, exp: c.exp, nbf: c.nbf, network: c.network, fname, disposition: c.disposition, id: c.id, uses: c.uses, gw: c.gw, prefix: c.prefix, path: c.path });
    assert.equal(canonical, c.canonical, c.name);
  }
});

test("every refusal of the vectors is refused", () => {
  const fields = [["notBefore", "nbf"], ["prefix", "prefix"], ["network", "network"], ["filename", "filename"], ["disposition", "disposition"], ["linkId", "id"], ["uses", "uses"], ["grantWindow", "gw"]];
  for (const c of vectors.refuse) {
    const opts = { key: KEY, kid: c.kid, expiresAt: c.exp };
    for (const [opt, field] of fields) if (c[field] !== null) opts[opt] = c[field];
    assert.throws(() => xsf.sign(c.path, opts), xsf.XsendfiledError, c.name);
  }
});

test("the network is masked and written as the daemon does", () => {
  const cases = {
    "203.0.113.77/24": "203.0.113.0/24",
    "198.51.100.7": "198.51.100.7/32",
    "::ffff:203.0.113.9/24": "203.0.113.0/24",
    "2001:DB8:85A3:0:0:8A2E:370:7334/64": "2001:db8:85a3::/64",
    "2001:db8:0:0:1:0:0:1/128": "2001:db8::1:0:0:1/128",
    "2001:0:0:1:0:0:0:1/128": "2001:0:0:1::1/128",
    "1:0:2:0:3:0:4:0/128": "1:0:2:0:3:0:4:0/128",
    "::1": "::1/128",
    "::1.2.3.4": "::102:304/128",
    "fe80::1/10": "fe80::/10",
    "::/1": "::/1",
  };
  for (const [given, want] of Object.entries(cases)) {
    assert.equal(xsf.parseNetwork(given)[0], want, given);
    assert.equal(sign1("/dl/a", { network: given }), sign1("/dl/a", { network: want }), given);
  }
  for (const bad of ["1.2.3", "01.2.3.4", "1.2.3.4/0", "1.2.3.4/33", "1.2.3.4/+24", "::1/129", "1::2::3", "1:2:3:4:5:6:7::8", "host.example", "::ffff:1.2.3.4/64", "fe80::1%eth0", "1.2.3.4/24x"]) {
    assert.throws(() => sign1("/dl/a", { network: bad }), xsf.XsendfiledError, bad);
  }
});

test("times as Date or seconds, and expiresIn", () => {
  assert.equal(xsf.sign("/dl/a", { key: KEY, kid: "k1", expiresAt: new Date(1767225600 * 1000) }), sign1("/dl/a"));
  assert.equal(xsf.sign("/dl/a", { key: KEY, kid: "k1", expiresIn: 600, now: 1767225000 }), sign1("/dl/a"));
  assert.match(xsf.sign("/dl/a", { key: KEY, kid: "k1" }), new RegExp(`exp=${Math.floor(Date.now() / 1000) + 3600}&`));
  assert.match(sign1("/dl/a", { notBefore: 1767222000 }), /&nbf=1767222000&/);
  assert.throws(() => sign1("/dl/a", { notBefore: 1767225600 }), xsf.XsendfiledError);
  assert.throws(() => xsf.sign("/dl/a", { key: KEY, kid: "k1", expiresAt: 1, expiresIn: 1 }), xsf.XsendfiledError);
  assert.throws(() => xsf.sign("/dl/a", { key: KEY, kid: "k1", expiresAt: 1.5 }), xsf.XsendfiledError);
  assert.throws(() => xsf.sign("/dl/a", { key: KEY, kid: "k1", expiresAt: "1767225600" }), xsf.XsendfiledError);
});

test("what the daemon would refuse is not signed", () => {
  for (const p of ["dl/a", "/dl//a", "/dl/./a", "/dl/../a", "/dl/a/", "/dl/a\nb", "/dl/a\\b", "/dl/\x7f", "/dl/\ud800"]) {
    assert.throws(() => sign1(p), xsf.XsendfiledError, JSON.stringify(p));
  }
  assert.throws(() => sign1("/dl/a", { prefix: "/dl" }), xsf.XsendfiledError);
  assert.throws(() => sign1("/dl/a", { prefix: "/other/" }), xsf.XsendfiledError);
  for (const name of ["", "a/b", "a\\b", "a\u0085b", "x".repeat(256), "\udc00"]) {
    assert.throws(() => sign1("/dl/a", { filename: name }), xsf.XsendfiledError, JSON.stringify(name));
  }
  assert.throws(() => sign1("/dl/a", { disposition: "auto" }), xsf.XsendfiledError);
  assert.throws(() => xsf.sign("/dl/a", { key: KEY, kid: "bad kid", expiresAt: 2 }), xsf.XsendfiledError);
  assert.throws(() => xsf.sign("/dl/a", { key: Buffer.from("short"), kid: "k1", expiresAt: 2 }), xsf.XsendfiledError);
  assert.throws(() => xsf.sign("/dl/a", { key: "0001020304050607080910111213141516", kid: "k1", expiresAt: 2 }), xsf.XsendfiledError);
});

test("secrets in key-file spelling", () => {
  assert.deepEqual(xsf.secret("hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), KEY);
  assert.deepEqual(xsf.secret("b64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"), KEY);
  assert.throws(() => xsf.secret("text:short"), xsf.XsendfiledError);
});
