<?php
// Before: Symfony's BinaryFileResponse with X-Sendfile (docs/migrate-symfony.md).
require 'Symfony/Component/HttpFoundation/autoload.php'; // in your app: Composer's vendor/autoload.php

use Symfony\Component\HttpFoundation\BinaryFileResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\ResponseHeaderBag;

$request = Request::createFromGlobals();
$file = $request->query->get('file', '');
BinaryFileResponse::trustXSendfileTypeHeader();
$response = new BinaryFileResponse(getenv('FILES_ROOT') . '/' . $file);
$response->setContentDisposition(ResponseHeaderBag::DISPOSITION_ATTACHMENT, 'Report of ' . basename($file));
$response->prepare($request);
$response->send();
