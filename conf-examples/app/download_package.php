<?php
// download.php written with the xsendfiled PHP package (clients/php): the app decides *who* may have
// *which* file and hands the download to xsendfiled, which checks the path and names the file.
// (The test suite runs this file under PHP-FPM as /download of nginx-app-delegation.conf.)
//
//   /download?file=F         delegates: X-Accel-Redirect to the internal xsendfiled location
//   /download?file=F&ask=1   asks xsendfiled over its app socket (APP_SOCKET, from PHP-FPM's pool
//                            `env[APP_SOCKET]` or a fastcgi_param) and sends the answer as its own
//                            response; a refused file gets the app's own 404 page
require __DIR__ . '/../../clients/php/autoload.php'; // in your app: Composer's vendor/autoload.php

if (($_COOKIE['session'] ?? '') !== 'alice') {
    http_response_code(403);
    exit("please log in\n");
}
$file = $_GET['file'] ?? '';
$socket = getenv('APP_SOCKET') ?: ($_SERVER['APP_SOCKET'] ?? '');
if (($_GET['ask'] ?? '') === '1' && $socket !== '') {
    $answer = (new Xsendfiled\Client($socket))
        ->ask($file, filename: "Alice's " . basename($file), disposition: 'attachment');
    if ($answer->status === 404) {
        http_response_code(404);
        header('Content-Type: text/plain');
        exit("no such file, said xsendfiled\n");
    }
    // Its headers (X-Accel-Redirect, Content-Type, Content-Disposition...) are this response's;
    // nginx follows X-Accel-Redirect and sends the file.
    $answer->send();
    exit;
}
// X-Accel-Redirect: /_xsendfiled/<path>?filename=...&disposition=attachment, and a Content-Type
// without charset.
Xsendfiled\delegate($file, filename: "Alice's " . basename($file), disposition: 'attachment');
