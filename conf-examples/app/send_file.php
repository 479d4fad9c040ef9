<?php
// An application migrated from another X-Accel-Redirect setup, the way Rails' send_file (through
// Rack::Sendfile) or django-sendfile2 answer: it keeps its own Content-Disposition and only points
// X-Accel-Redirect at the internal /_xsendfiled/ location. nginx keeps this Content-Disposition
// across the redirect; the location tells xsendfiled so (XSENDFILED_APP_DISPOSITION), and
// xsendfiled adds none of its own: the client gets exactly one. (The test suite runs this file.)
if (($_COOKIE['session'] ?? '') !== 'alice') {
    http_response_code(403);
    exit("please log in\n");
}
$file = $_GET['file'] ?? '';
$name = 'Report of ' . basename($file);
header('Content-Type: application/octet-stream');
header('Content-Disposition: attachment; filename="' . preg_replace('/[^\x20-\x7e]|["\\\\]/', '_', $name)
    . '"; filename*=UTF-8\'\'' . rawurlencode($name));
header('X-Accel-Redirect: /_xsendfiled/' . implode('/', array_map('rawurlencode', explode('/', $file))));
