<?php
// An application delegating a download to xsendfiled: it decides *who* may have *which* file,
// then answers nginx with X-Accel-Redirect to the internal /_xsendfiled/ location. xsendfiled checks
// the path, names the file for nginx and sets Content-Type and Content-Disposition; the app never
// touches paths on disk, MIME types or header encoding. (The test suite runs this file.)
if (($_COOKIE['session'] ?? '') !== 'alice') {
    http_response_code(403);
    exit("please log in\n");
}
$file = $_GET['file'] ?? '';
// No charset: nginx would keep this reply's charset on the file it finally sends.
header('Content-Type: application/octet-stream');
$uri = '/_xsendfiled/' . implode('/', array_map('rawurlencode', explode('/', $file)));
// The query is form-encoded (http_build_query writes a space as `+`), as xsendfiled reads it.
$query = http_build_query(['filename' => "Alice's " . basename($file), 'disposition' => 'attachment']);
header('X-Accel-Redirect: ' . $uri . '?' . $query);
