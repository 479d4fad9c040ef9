"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const xsf = require("..");
const { parse } = require("../disposition.js");

test("delegate names the internal location with a form-encoded query", () => {
  assert.deepEqual(xsf.delegate("dir with space/ä ö.txt", { filename: "Alice's ä+b.txt", disposition: "attachment" }), {
    "X-Accel-Redirect": "/_xsendfiled/dir%20with%20space/%C3%A4%20%C3%B6.txt?filename=Alice%27s+%C3%A4%2Bb.txt&disposition=attachment",
    "Content-Type": "application/octet-stream",
  });
});

test("every byte of the path is encoded but unreserved and slash", () => {
  const cases = {
    "100%.txt": "100%25.txt", "q?x.txt": "q%3Fx.txt", "h#x.txt": "h%23x.txt", "%41.txt": "%2541.txt",
    "semi;colon=1&x+y.txt": "semi%3Bcolon%3D1%26x%2By.txt", "是.txt": "%E6%98%AF.txt", "trail ": "trail%20",
    "/sub/in.txt": "sub/in.txt", "lf\nx": "lf%0Ax", "~a-b_c.d": "~a-b_c.d", "quote'\"`.txt": "quote%27%22%60.txt",
  };
  for (const [p, want] of Object.entries(cases)) assert.equal(xsf.delegateUri(p), `/_xsendfiled/${want}`, p);
});

test("other trusted keys and the prefix", () => {
  assert.equal(
    xsf.delegateUri("a", { internalPrefix: "/_x/", cacheControl: "private, max-age=60", expires: 60, limitRate: 1024, buffering: false, accelExpires: 0, disposition: "inline" }),
    "/_x/a?disposition=inline&cache_control=private%2C+max-age%3D60&expires=60&limit_rate=1024&accel_expires=0&buffering=no",
  );
});

test("refused arguments", () => {
  for (const [p, o] of [["", {}], ["a", { disposition: "download" }], ["a", { filename: "../x" }], ["a", { filename: "x\r\nSet-Cookie: a=b" }],
    ["a", { internalPrefix: "_x" }], ["a", { cacheControl: "a\r\nb" }], ["a", { limitRate: -1 }], ["a", { expires: 1.5 }]]) {
    assert.throws(() => xsf.delegate(p, o), xsf.XsendfiledError, JSON.stringify([p, o]));
  }
});

test("Content-Disposition is read exactly or not at all", () => {
  const check = (n) => xsf.checkFilename(n);
  assert.deepEqual(parse(`attachment; filename="Q3 r_sum_.pdf"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.pdf`, check), ["attachment", "Q3 résumé.pdf"]);
  assert.deepEqual(parse('inline; filename="a \\"b\\".txt"', check), ["inline", 'a "b".txt']);
  assert.deepEqual(parse('Attachment; filename="ä.txt"', check), ["attachment", "ä.txt"]);
  assert.deepEqual(parse("attachment; filename=plain.txt", check), ["attachment", "plain.txt"]);
  assert.deepEqual(parse("attachment", check), ["attachment", null]);
  for (const bad of ["form-data; name=x", 'attachment; filename="a"; filename="b"', 'attachment; filename="unterminated',
    "attachment; filename*=ISO-8859-1''%E4.txt", "attachment; filename*=UTF-8''%FF.txt", 'attachment; filename="../etc/passwd"']) {
    assert.equal(parse(bad, check), null, bad);
  }
});
