<?php
// Mints SDL1 links with the PHP package for tests/client_packages.rs: reads {"key_hex", "kid",
// "cases": [...]} on stdin (as mint.rb), prints the links as a JSON array.
require __DIR__ . '/../../clients/php/autoload.php';

$spec = json_decode(file_get_contents('php://stdin'), true, 512, JSON_THROW_ON_ERROR);
$key = Xsendfiled\Signer::secret('hex:' . $spec['key_hex']);
$links = [];
foreach ($spec['cases'] as $c) {
    $opts = ['key' => $key, 'kid' => $spec['kid'], 'expiresAt' => $c['exp']];
    foreach (['notBefore' => 'nbf', 'prefix' => 'prefix', 'network' => 'network', 'filename' => 'filename', 'disposition' => 'disposition'] as $opt => $field) {
        if (($c[$field] ?? null) !== null) {
            $opts[$opt] = $c[$field];
        }
    }
    $links[] = Xsendfiled\Signer::sign($c['path'], ...$opts);
}
echo json_encode($links, JSON_UNESCAPED_SLASHES), "\n";
