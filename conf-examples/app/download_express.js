"use strict";
// An Express app delegating downloads with the xsendfiled npm package (clients/node), behind nginx
// proxy_pass (conf-examples/nginx-app-delegation-proxy.conf). It decides *who* may have *which*
// file; xsendfiled checks the path and names the file; nginx sends it. (The test suite runs this
// file: tests/client_packages.rs, with FILES_ROOT the directory xsendfiled guards and PORT.)
//
//   /download?file=F           xsf.express.sendFile: X-Accel-Redirect with the name the app chose
//   /download?file=F&own=1     the app names the download with its own Content-Disposition
//   /download?file=F&via=download
//                              Express's own res.download, handed to xsendfiled by the middleware
//   /download?file=F&ask=1     asks xsendfiled over its app socket (APP_SOCKET) and returns the
//                              answer as its own response; a refused file gets the app's own 404

const path = require("node:path");
const express = require("express");
const xsf = require("xsendfiled");

const FILES = process.env.FILES_ROOT;
const asking = process.env.APP_SOCKET ? new xsf.Client(process.env.APP_SOCKET) : null;
const app = express();
app.use(xsf.express.middleware({ root: FILES, internalPrefix: "/_xsendfiled" }));

app.get("/download", async (req, res) => {
  if (!/(?:^|;\s*)session=alice(?:;|$)/.test(req.headers.cookie || "")) {
    return res.status(403).type("text/plain").send("please log in\n");
  }
  const file = String(req.query.file ?? "");
  if (req.query.via === "download") {
    return res.download(path.join(FILES, file), `Report of ${path.basename(file)}`);
  }
  if (req.query.ask === "1" && asking) {
    const answer = await asking.ask(file, { filename: `Alice's ${path.basename(file)}`, disposition: "attachment" });
    if (answer.status === 404) return res.status(404).type("text/plain").send("no such file, said xsendfiled\n");
    return answer.applyTo(res);
  }
  if (req.query.own === "1") {
    res.set("Content-Disposition", 'attachment; filename="chosen-by-app.txt"');
    return xsf.express.sendFile(res, file);
  }
  return xsf.express.sendFile(res, file, { filename: `Alice's ${path.basename(file)}`, disposition: "attachment" });
});

// res.download of a file outside FILES: the middleware's 404.
app.use((err, req, res, next) => res.status(err.status || 500).type("text/plain").send(err.status === 404 ? "not found\n" : "error\n"));

app.listen(Number(process.env.PORT), "127.0.0.1");
