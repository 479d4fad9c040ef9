<?php

// The package's tests in plain PHP (no PHPUnit needed): every function test_* below runs; the last
// line is "N passed, N failed" and the exit status is non-zero when any failed.

declare(strict_types=1);

require_once __DIR__ . '/../autoload.php';

use Xsendfiled\Delegate;
use Xsendfiled\Network;
use Xsendfiled\Signer;
use Xsendfiled\XsendfiledException;

final class Failed extends \Exception
{
}

function eq(mixed $want, mixed $got, string $what = ''): void
{
    if ($want !== $got) {
        throw new Failed("$what\n  want: " . var_export($want, true) . "\n  got:  " . var_export($got, true));
    }
}

function refused(callable $f, string $what): void
{
    try {
        $f();
    } catch (XsendfiledException) {
        return;
    }
    throw new Failed("not refused: $what");
}

function vectors(): array
{
    return json_decode(file_get_contents(__DIR__ . '/../../vectors/sdl1.json'), true, 512, JSON_THROW_ON_ERROR);
}

function key01(): string
{
    return hex2bin('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
}

function sign1(string $path, mixed ...$o): string
{
    return Signer::sign($path, ...['key' => key01(), 'kid' => 'k1', 'expiresAt' => 1767225600, ...$o]);
}

function test_every_vector_signs_byte_identical(): void
{
    $doc = vectors();
    $secrets = array_column($doc['keys'], 'secret_hex', 'kid');
    if (count($doc['sign']) < 10) {
        throw new Failed('too few sign vectors');
    }
    foreach ($doc['sign'] as $c) {
        $opts = ['key' => hex2bin($secrets[$c['kid']]), 'kid' => $c['kid'], 'expiresAt' => $c['exp']];
        foreach (['notBefore' => 'nbf', 'prefix' => 'prefix', 'network' => 'network', 'filename' => 'filename', 'disposition' => 'disposition'] as $opt => $field) {
            if ($c[$field] !== null) {
                $opts[$opt] = $c[$field];
            }
        }
        eq($c['url'], Signer::sign($c['path'], ...$opts), $c['name']);
        $fname = $c['filename'] === null ? null : Signer::b64($c['filename']);
        eq($c['canonical'], Signer::canonical($c['kid'], $c['exp'], $c['nbf'], $c['network'], $fname, $c['disposition'], $c['prefix'], $c['path']), $c['name']);
        eq($c['url'], Xsendfiled\sign($c['path'], ...$opts), $c['name'] . ' (function)');
    }
}

function test_the_network_is_masked_and_written_as_the_daemon_does(): void
{
    $cases = [
        '203.0.113.77/24' => '203.0.113.0/24',
        '198.51.100.7' => '198.51.100.7/32',
        '::ffff:203.0.113.9/24' => '203.0.113.0/24',
        '2001:DB8:85A3:0:0:8A2E:370:7334/64' => '2001:db8:85a3::/64',
        '2001:db8:0:0:1:0:0:1/128' => '2001:db8::1:0:0:1/128',
        '2001:0:0:1:0:0:0:1/128' => '2001:0:0:1::1/128',
        '1:0:2:0:3:0:4:0/128' => '1:0:2:0:3:0:4:0/128',
        '::1' => '::1/128',
        '::1.2.3.4' => '::102:304/128',
        'fe80::1/10' => 'fe80::/10',
        '::/1' => '::/1',
    ];
    foreach ($cases as $given => $want) {
        eq($want, Network::parse($given)[0], $given);
        eq(sign1('/dl/a', network: $want), sign1('/dl/a', network: $given), $given);
    }
    foreach (['1.2.3', '01.2.3.4', '1.2.3.4/0', '1.2.3.4/33', '1.2.3.4/+24', '::1/129', '1::2::3', 'host.example', '::ffff:1.2.3.4/64', '1.2.3.4/24x', 'fe80::1%eth0'] as $bad) {
        refused(fn () => sign1('/dl/a', network: $bad), $bad);
    }
}

function test_times_and_expires_in(): void
{
    eq(sign1('/dl/a'), Signer::sign('/dl/a', key: key01(), kid: 'k1', expiresAt: new DateTimeImmutable('@1767225600')));
    eq(sign1('/dl/a'), Signer::sign('/dl/a', key: key01(), kid: 'k1', expiresIn: 600, now: 1767225000));
    eq(true, str_contains(Signer::sign('/dl/a', key: key01(), kid: 'k1'), 'exp=' . (time() + 3600)), 'default 1h');
    eq(true, str_contains(sign1('/dl/a', notBefore: 1767222000), '&nbf=1767222000&'), 'nbf');
    refused(fn () => sign1('/dl/a', notBefore: 1767225600), 'nbf not before exp');
    refused(fn () => Signer::sign('/dl/a', key: key01(), kid: 'k1', expiresAt: 1, expiresIn: 1), 'both');
    refused(fn () => Signer::sign('/dl/a', key: key01(), kid: 'k1', expiresAt: 0), 'exp 0');
}

function test_what_the_daemon_would_refuse_is_not_signed(): void
{
    foreach (['dl/a', '/dl//a', '/dl/./a', '/dl/../a', '/dl/a/', "/dl/a\nb", '/dl/a\\b', "/dl/\x7f", "/dl/\xff"] as $p) {
        refused(fn () => sign1($p), var_export($p, true));
    }
    refused(fn () => sign1('/dl/a', prefix: '/dl'), 'prefix without /');
    refused(fn () => sign1('/dl/a', prefix: '/other/'), 'prefix elsewhere');
    foreach (['', 'a/b', 'a\\b', "a\u{85}b", str_repeat('x', 256), "\xff"] as $name) {
        refused(fn () => sign1('/dl/a', filename: $name), var_export($name, true));
    }
    refused(fn () => sign1('/dl/a', disposition: 'auto'), 'disposition auto');
    refused(fn () => Signer::sign('/dl/a', key: key01(), kid: 'bad kid', expiresAt: 2), 'kid');
    refused(fn () => Signer::sign('/dl/a', key: 'short', kid: 'k1', expiresAt: 2), 'short key');
}

function test_secrets_in_key_file_spelling(): void
{
    eq(key01(), Signer::secret('hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'));
    eq(key01(), Signer::secret('b64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8'));
    refused(fn () => Signer::secret('text:short'), 'text:');
}

function test_delegate_headers(): void
{
    eq(
        ['X-Accel-Redirect' => '/_xsendfiled/dir%20with%20space/%C3%A4%20%C3%B6.txt?filename=Alice%27s+%C3%A4%2Bb.txt&disposition=attachment',
         'Content-Type' => 'application/octet-stream'],
        Delegate::headers('dir with space/ä ö.txt', filename: "Alice's ä+b.txt", disposition: 'attachment'),
    );
    $paths = ['100%.txt' => '100%25.txt', 'q?x.txt' => 'q%3Fx.txt', 'h#x.txt' => 'h%23x.txt', '%41.txt' => '%2541.txt',
              'semi;colon=1&x+y.txt' => 'semi%3Bcolon%3D1%26x%2By.txt', '是.txt' => '%E6%98%AF.txt', 'trail ' => 'trail%20',
              '/sub/in.txt' => 'sub/in.txt', "lf\nx" => 'lf%0Ax', '~a-b_c.d' => '~a-b_c.d'];
    foreach ($paths as $p => $want) {
        eq("/_xsendfiled/$want", Delegate::uri($p), $p);
    }
    eq('/_x/a?disposition=inline&cache_control=private%2C+max-age%3D60&expires=60&limit_rate=1024&accel_expires=0&buffering=no',
        Delegate::uri('a', internalPrefix: '/_x/', cacheControl: 'private, max-age=60', expires: 60, limitRate: 1024, buffering: false, accelExpires: 0, disposition: 'inline'));
    refused(fn () => Delegate::uri(''), 'empty');
    refused(fn () => Delegate::uri('a', disposition: 'download'), 'disposition');
    refused(fn () => Delegate::uri('a', filename: '../x'), 'filename with /');
    refused(fn () => Delegate::uri('a', filename: "x\r\nSet-Cookie: a=b"), 'CRLF');
    refused(fn () => Delegate::uri('a', internalPrefix: '_x'), 'prefix');
    refused(fn () => Delegate::uri('a', cacheControl: "a\r\nb"), 'cache control');
}

function test_delegate_function_sends_the_headers(): void
{
    // The CLI sends no headers, so headers_list() stays empty there; the PHP-FPM end-to-end test
    // (tests/client_packages.rs) checks what nginx receives. Here: it returns what it would send.
    eq(Delegate::headers('a b', filename: 'x.txt'), Xsendfiled\delegate('a b', filename: 'x.txt'));
}

// Buffered, so that the CLI has sent no "headers" when delegate() checks headers_sent().
ob_start();
$passed = 0;
$failed = 0;
foreach (get_defined_functions()['user'] as $fn) {
    if (!str_starts_with($fn, 'test_')) {
        continue;
    }
    try {
        $fn();
        $passed++;
        echo "ok   $fn\n";
    } catch (Throwable $e) {
        $failed++;
        echo "FAIL $fn: " . $e->getMessage() . "\n";
    }
}
echo "$passed passed, $failed failed\n";
ob_end_flush();
exit($failed === 0 ? 0 : 1);
