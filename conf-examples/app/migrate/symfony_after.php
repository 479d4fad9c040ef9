<?php
// After: the same download handed to xsendfiled (docs/migrate-symfony.md).
require 'Symfony/Component/HttpFoundation/autoload.php'; // in your app: Composer's vendor/autoload.php
require __DIR__ . '/../../../clients/php/autoload.php';   // in your app: the same vendor/autoload.php

use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpFoundation\Request;
use Xsendfiled\Delegate;

$request = Request::createFromGlobals();
$file = $request->query->get('file', '');
$response = new Response('', 200, Delegate::headers($file, filename: 'Report of ' . basename($file), disposition: 'attachment'));
$response->prepare($request);
$response->send();
