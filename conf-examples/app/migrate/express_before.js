"use strict";
// Before: an Express app whose res.download sends the file itself (docs/migrate-express.md).
const path = require("node:path");
const express = require("express");

const FILES = process.env.FILES_ROOT;
const app = express();

app.get("/download", (req, res) => {
  const file = String(req.query.file ?? "");
  res.download(path.join(FILES, file), `Report of ${path.basename(file)}`);
});

app.use((err, req, res, next) => res.status(err.status || 500).type("text/plain").send(err.status === 404 ? "not found\n" : "error\n"));

app.listen(Number(process.env.PORT), "127.0.0.1");
