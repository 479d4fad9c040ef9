<?php
// download.php written with the xsendfiled PHP package (clients/php): the app decides *who* may have
// *which* file and hands the download to xsendfiled, which checks the path and names the file.
// (The test suite runs this file under PHP-FPM as /download of nginx-app-delegation.conf.)
require __DIR__ . '/../../clients/php/autoload.php'; // in your app: Composer's vendor/autoload.php

if (($_COOKIE['session'] ?? '') !== 'alice') {
    http_response_code(403);
    exit("please log in\n");
}
$file = $_GET['file'] ?? '';
// X-Accel-Redirect: /_xsendfiled/<path>?filename=...&disposition=attachment, and a Content-Type
// without charset.
Xsendfiled\delegate($file, filename: "Alice's " . basename($file), disposition: 'attachment');
