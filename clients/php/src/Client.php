<?php

declare(strict_types=1);

namespace Xsendfiled;

/**
 * Asking xsendfiled over its app socket (`xsendfiled --app-socket PATH`): the app sends the path it
 * would put in X-Accel-Redirect, with the same trusted query, and gets the decision and the exact
 * offload reply (status and headers) to inspect, adjust and send as its own response.
 *
 *     $answer = (new Xsendfiled\Client('/run/xsendfiled/app.sock'))
 *         ->ask('reports/Q3.pdf', filename: 'Q3 report.pdf', disposition: 'attachment');
 *     if (!$answer->isSend()) { http_response_code(404); exit("no such report\n"); }
 *     $answer->send(); // http_response_code() and header() lines; nginx sends the file
 */
final class Client
{
    public const METHODS = ['GET', 'HEAD'];
    /** Bound on what is read back: the answer is a head without a body. */
    public const MAX_ANSWER = 65536;

    /** @param float $timeout seconds for connecting, writing and reading the whole answer */
    public function __construct(public readonly string $socketPath, public readonly float $timeout = 5.0)
    {
    }

    /**
     * Asks about $path (below xsendfiled's root, not percent-encoded). $filename, $disposition and
     * the other named options of Delegate::target() (cacheControl, expires, limitRate, buffering,
     * accelExpires, root) travel in the trusted query. $method is GET or HEAD.
     *
     * @throws XsendfiledException when the socket cannot be asked
     */
    public function ask(
        string $path,
        ?string $filename = null,
        ?string $disposition = null,
        string $method = 'GET',
        mixed ...$options,
    ): Answer {
        $method = strtoupper($method);
        if (!in_array($method, self::METHODS, true)) {
            throw new XsendfiledException('method must be one of ' . implode(', ', self::METHODS));
        }
        $target = Delegate::target($path, ...['filename' => $filename, 'disposition' => $disposition, ...$options]);
        return Answer::parse($this->exchange("$method $target HTTP/1.1\r\nHost: xsendfiled\r\nConnection: close\r\n\r\n"));
    }

    private function exchange(string $request): string
    {
        $deadline = microtime(true) + $this->timeout;
        $errno = 0;
        $error = '';
        $sock = @stream_socket_client('unix://' . $this->socketPath, $errno, $error, $this->timeout);
        if ($sock === false) {
            throw new XsendfiledException("xsendfiled app socket {$this->socketPath}: $error");
        }
        try {
            stream_set_timeout($sock, (int) ceil($this->timeout));
            if (fwrite($sock, $request) !== strlen($request)) {
                throw new XsendfiledException("xsendfiled app socket {$this->socketPath}: write failed");
            }
            $buf = '';
            while (!str_contains($buf, "\r\n\r\n")) {
                if (microtime(true) > $deadline || stream_get_meta_data($sock)['timed_out']) {
                    throw new XsendfiledException("xsendfiled app socket {$this->socketPath}: no answer within {$this->timeout}s");
                }
                if (strlen($buf) > self::MAX_ANSWER) {
                    throw new XsendfiledException("xsendfiled app socket {$this->socketPath}: answer over " . self::MAX_ANSWER . ' bytes');
                }
                $chunk = fread($sock, 4096);
                if ($chunk === false || ($chunk === '' && feof($sock))) {
                    break;
                }
                $buf .= $chunk;
            }
            return $buf;
        } finally {
            fclose($sock);
        }
    }
}
