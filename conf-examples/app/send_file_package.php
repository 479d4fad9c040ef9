<?php
// send_file.php written with the xsendfiled PHP package (clients/php): an app that keeps writing its
// own Content-Disposition (as it did with a plain X-Accel-Redirect or X-Sendfile setup) and only
// hands the file to xsendfiled. nginx passes the app's header on as XSENDFILED_APP_DISPOSITION and
// xsendfiled adds none: the client gets exactly one. (The test suite runs this file under PHP-FPM
// as /send-file of nginx-app-delegation.conf.)
require __DIR__ . '/../../clients/php/autoload.php'; // in your app: Composer's vendor/autoload.php

if (($_COOKIE['session'] ?? '') !== 'alice') {
    http_response_code(403);
    exit("please log in\n");
}
$file = $_GET['file'] ?? '';
$name = 'Report of ' . basename($file);
header('Content-Disposition: attachment; filename="' . preg_replace('/[^\x20-\x7e]|["\\\\%]/', '_', $name)
    . '"; filename*=UTF-8\'\'' . rawurlencode($name));
Xsendfiled\delegate($file);
