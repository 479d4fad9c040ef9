<?php

// Without Composer: require this file. (With Composer, its PSR-4 autoloader loads the same classes.)
require_once __DIR__ . '/src/XsendfiledException.php';
require_once __DIR__ . '/src/Network.php';
require_once __DIR__ . '/src/Signer.php';
require_once __DIR__ . '/src/Delegate.php';
require_once __DIR__ . '/src/Answer.php';
require_once __DIR__ . '/src/Client.php';
require_once __DIR__ . '/src/functions.php';
