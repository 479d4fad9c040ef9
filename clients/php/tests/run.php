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

const OPTIONS = [
    'notBefore' => 'nbf', 'prefix' => 'prefix', 'network' => 'network', 'filename' => 'filename',
    'disposition' => 'disposition', 'linkId' => 'id', 'uses' => 'uses', 'grantWindow' => 'gw',
];

function test_every_refusal_of_the_vectors_is_refused(): void
{
    foreach (vectors()['refuse'] as $c) {
        $opts = ['key' => key01(), 'kid' => $c['kid'], 'expiresAt' => $c['exp']];
        foreach (OPTIONS as $opt => $field) {
            if ($c[$field] !== null) {
                $opts[$opt] = $c[$field];
            }
        }
        refused(fn () => Signer::sign($c['path'], ...$opts), $c['name']);
    }
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
        foreach (OPTIONS as $opt => $field) {
            if ($c[$field] !== null) {
                $opts[$opt] = $c[$field];
            }
        }
        eq($c['url'], Signer::sign($c['path'], ...$opts), $c['name']);
        $fname = $c['filename'] === null ? null : Signer::b64($c['filename']);
        eq($c['canonical'], Signer::canonical($c['kid'], $c['exp'], $c['nbf'], $c['network'], $fname, $c['disposition'], $c['prefix'], $c['path'], $c['id'], $c['uses'], $c['gw']), $c['name']);
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

// --- ask: Client against a real xsendfiled with --app-socket ($XSENDFILED_BIN, else the repo's
// target/debug/xsendfiled from cargo build; a missing one fails the tests) ---------------------

/** A file tree and xsendfiled on its app socket; stopped (by PID) and removed by stop_daemon(). */
function start_daemon(): array
{
    $bin = getenv('XSENDFILED_BIN') ?: dirname(__DIR__, 3) . '/target/debug/xsendfiled';
    if (!is_executable($bin)) {
        throw new Failed("no xsendfiled at $bin: run cargo build (or set XSENDFILED_BIN)");
    }
    $dir = sys_get_temp_dir() . '/xsf-php-ask-' . getmypid() . '-' . bin2hex(random_bytes(4));
    mkdir("$dir/root/dir with space", 0700, true);
    mkdir("$dir/outside", 0700, true);
    file_put_contents("$dir/root/plain.txt", "plain\n");
    file_put_contents("$dir/root/dir with space/ä ö.txt", "nested unicode\n");
    file_put_contents("$dir/root/100%.txt", "percent\n");
    file_put_contents("$dir/root/.hidden", "hidden\n");
    file_put_contents("$dir/outside/secret.txt", "SECRET\n");
    symlink("$dir/outside/secret.txt", "$dir/root/link-out.txt");
    $sock = "$dir/app.sock";
    $cmd = [$bin, '--root', "$dir/root", '--internal-prefix', '/_protected', '--app-socket', $sock];
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$dir/out.log", 'w'], 2 => ['file', "$dir/err.log", 'w']], $pipes);
    $d = ['dir' => $dir, 'sock' => $sock, 'proc' => $proc];
    for ($i = 0; $i < 200 && !file_exists($sock); $i++) {
        if (!proc_get_status($proc)['running']) {
            $err = file_get_contents("$dir/err.log");
            stop_daemon($d);
            throw new Failed("xsendfiled exited: $err");
        }
        usleep(50000);
    }
    if (!file_exists($sock)) {
        $err = file_get_contents("$dir/err.log");
        stop_daemon($d);
        throw new Failed("xsendfiled did not create $sock: $err");
    }
    return $d;
}

function stop_daemon(array $d): void
{
    $status = proc_get_status($d['proc']);
    if ($status['running']) {
        posix_kill($status['pid'], SIGTERM);
    }
    proc_close($d['proc']);
    exec('rm -rf ' . escapeshellarg($d['dir']));
}

function with_daemon(callable $f): void
{
    $d = start_daemon();
    try {
        $f(new Xsendfiled\Client($d['sock']), $d);
    } finally {
        stop_daemon($d);
    }
}

function test_ask_send_carries_the_offload_reply_and_the_file_facts(): void
{
    with_daemon(function (Xsendfiled\Client $c, array $d): void {
        $a = $c->ask('dir with space/ä ö.txt', filename: "Alice's ä.txt", disposition: 'attachment');
        eq(true, $a->isSend());
        eq([200, 'send', null], [$a->status, $a->decision, $a->reason]);
        eq('/_protected/dir%20with%20space/%C3%A4%20%C3%B6.txt', $a->header('X-Accel-Redirect'));
        eq('text/plain', $a->header('content-type'));
        eq("attachment; filename=\"Alice's _.txt\"; filename*=UTF-8''Alice%27s%20%C3%A4.txt", $a->header('Content-Disposition'));
        eq(['dir with space/ä ö.txt', 15], [$a->file, $a->size]);
        eq(filemtime($d['dir'] . '/root/dir with space/ä ö.txt'), $a->mtime);
        $names = array_map(fn ($h) => strtolower($h[0]), $a->headers);
        foreach ($names as $n) {
            eq(false, str_starts_with($n, 'xsendfiled-') || in_array($n, ['content-length', 'connection', 'date'], true), $n);
        }
        eq(1, count(array_keys($names, 'content-disposition')));
        $a = $c->ask('plain.txt', method: 'HEAD', cacheControl: 'private, max-age=60');
        eq([200, 'plain.txt', 6], [$a->status, $a->file, $a->size]);
    });
}

function test_ask_refusals_are_answers_with_their_reasons(): void
{
    with_daemon(function (Xsendfiled\Client $c): void {
        foreach (['.hidden', 'link-out.txt', 'missing.txt', '../outside/secret.txt'] as $path) {
            $a = $c->ask($path);
            eq([404, 'refuse', false], [$a->status, $a->decision, $a->isSend()], $path);
            eq(true, $a->reason !== null && $a->reason !== '', $path);
            eq([null, null], [$a->file, $a->header('X-Accel-Redirect')], $path);
            eq('no-store', $a->header('Cache-Control'), $path);
        }
        refused(fn () => $c->ask('plain.txt', method: 'POST'), 'POST');
        refused(fn () => $c->ask('plain.txt', disposition: 'download'), 'disposition');
        refused(fn () => (new Xsendfiled\Client('/nonexistent/app.sock'))->ask('plain.txt'), 'no socket');
    });
}

/** Answer::send() under a real SAPI (PHP's built-in web server): the status and header() lines. */
function test_answer_send_emits_the_status_and_headers(): void
{
    with_daemon(function (Xsendfiled\Client $c, array $d): void {
        $app = $d['dir'] . '/app.php';
        file_put_contents($app, '<?php require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n"
            . '$a = (new Xsendfiled\Client(' . var_export($d['sock'], true) . '))->ask($_GET["file"], filename: "Report of " . basename($_GET["file"]), disposition: "attachment");' . "\n"
            . 'header("Content-Type: text/html; charset=UTF-8");' . "\n"
            . '$a->send();' . "\n");
        $sock = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
        fclose($sock);
        $server = proc_open([PHP_BINARY, '-S', "127.0.0.1:$port", $app], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $d['dir'] . '/server.log', 'w'], 2 => ['file', $d['dir'] . '/server.log', 'a']], $pipes);
        try {
            $get = function (string $file) use ($port): array {
                for ($i = 0; $i < 100; $i++) {
                    $ctx = stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 5]]);
                    $body = @file_get_contents("http://127.0.0.1:$port/?file=" . rawurlencode($file), false, $ctx);
                    if ($body !== false) {
                        return [$http_response_header, $body];
                    }
                    usleep(50000);
                }
                throw new Failed('php -S did not answer');
            };
            [$head, $body] = $get('dir with space/ä ö.txt');
            eq('HTTP/1.1 200 OK', $head[0]);
            eq('', $body);
            eq(true, in_array('X-Accel-Redirect: /_protected/dir%20with%20space/%C3%A4%20%C3%B6.txt', $head, true), implode("\n", $head));
            eq(true, in_array("Content-Disposition: attachment; filename=\"Report of _ _.txt\"; filename*=UTF-8''Report%20of%20%C3%A4%20%C3%B6.txt", $head, true), implode("\n", $head));
            eq(['Content-Type: text/plain'], array_values(preg_grep('/^Content-Type:/i', $head)), 'one type, xsendfiled\'s, no charset');
            eq(1, count(preg_grep('/^Content-Disposition:/i', $head)), implode("\n", $head));
            eq([], preg_grep('/^Xsendfiled-/i', $head));
            [$head] = $get('.hidden');
            eq('HTTP/1.1 404 Not Found', $head[0]);
            eq(['Cache-Control: no-store'], array_values(preg_grep('/^Cache-Control:/i', $head)));
        } finally {
            $status = proc_get_status($server);
            if ($status['running']) {
                posix_kill($status['pid'], SIGTERM);
            }
            proc_close($server);
        }
    });
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
