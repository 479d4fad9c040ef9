"use strict";
// Mints SDL1 links with the npm package for tests/client_packages.rs: reads {"key_hex", "kid",
// "cases": [...]} on stdin (as mint.rb), prints the links as a JSON array.
const xsf = require("../../clients/node");

const spec = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const key = xsf.secret(`hex:${spec.key_hex}`);
const fields = [["notBefore", "nbf"], ["prefix", "prefix"], ["network", "network"], ["filename", "filename"], ["disposition", "disposition"]];
const links = spec.cases.map((c) => {
  const opts = { key, kid: spec.kid, expiresAt: c.exp };
  for (const [opt, field] of fields) if (c[field] != null) opts[opt] = c[field];
  return xsf.sign(c.path, opts);
});
console.log(JSON.stringify(links));
