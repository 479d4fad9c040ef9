<?php

declare(strict_types=1);

namespace Xsendfiled;

/**
 * xsendfiled's answer to an ask (Client::ask()).
 *
 * $status: the HTTP status to answer (200 with the offload header, or 400/403/404/405/410...);
 * $headers: [[name, value], ...] to forward as xsendfiled wrote them (everything but the
 * Xsendfiled-* fields, Content-Length, Connection and Date); $decision: "send" or "refuse";
 * $reason: the log reason of a refusal; on send $file (the path relative to its root, decoded),
 * $size (bytes) and $mtime (Unix seconds).
 */
final class Answer
{
    private const NOT_FORWARDED = ['content-length', 'connection', 'date'];

    /** @var list<array{0: string, 1: string}> */
    public readonly array $headers;
    public readonly string $decision;
    public readonly ?string $reason;
    public readonly ?string $file;
    public readonly ?int $size;
    public readonly ?int $mtime;

    /** @param list<array{0: string, 1: string}> $fields every header field of the answer, in order */
    public function __construct(public readonly int $status, public readonly array $fields)
    {
        $info = [];
        $headers = [];
        foreach ($fields as [$name, $value]) {
            $lower = strtolower($name);
            if (str_starts_with($lower, 'xsendfiled-')) {
                $info[$lower] ??= $value;
            } elseif (!in_array($lower, self::NOT_FORWARDED, true)) {
                $headers[] = [$name, $value];
            }
        }
        if (!isset($info['xsendfiled-decision'])) {
            throw new XsendfiledException('xsendfiled app socket: no Xsendfiled-Decision in the answer');
        }
        $this->headers = $headers;
        $this->decision = $info['xsendfiled-decision'];
        $this->reason = $info['xsendfiled-reason'] ?? null;
        $this->file = isset($info['xsendfiled-file']) ? rawurldecode($info['xsendfiled-file']) : null;
        $this->size = isset($info['xsendfiled-size']) ? (int) $info['xsendfiled-size'] : null;
        $this->mtime = isset($info['xsendfiled-mtime']) ? (int) $info['xsendfiled-mtime'] : null;
    }

    /** The answer's head as read from the socket. */
    public static function parse(string $raw): self
    {
        $head = explode("\r\n\r\n", $raw, 2)[0];
        $lines = explode("\r\n", $head);
        $statusLine = array_shift($lines);
        if (!preg_match('#^HTTP/1\.[01] (\d{3})(?: |$)#', $statusLine, $m)) {
            throw new XsendfiledException('xsendfiled app socket: not an HTTP answer: ' . var_export($statusLine, true));
        }
        $fields = [];
        foreach ($lines as $line) {
            $parts = explode(':', $line, 2);
            if (count($parts) !== 2) {
                throw new XsendfiledException('xsendfiled app socket: bad header line ' . var_export($line, true));
            }
            $fields[] = [trim($parts[0]), trim($parts[1])];
        }
        return new self((int) $m[1], $fields);
    }

    /** The file may be sent. */
    public function isSend(): bool
    {
        return $this->decision === 'send';
    }

    /** The value of header $name to forward (the first, case-insensitive), or null. */
    public function header(string $name): ?string
    {
        foreach ($this->headers as [$n, $v]) {
            if (strcasecmp($n, $name) === 0) {
                return $v;
            }
        }
        return null;
    }

    /**
     * Answers with it under plain PHP (PHP-FPM): http_response_code() and one header() line per
     * field (the first of a name replaces what PHP or the app set, such as PHP's text/html
     * Content-Type; a repeated field is added). No body: nginx sends the file on a 200. PHP glues
     * its default_charset to a text/* Content-Type given to header(), and nginx would keep that on
     * the file: it is switched off for that one call.
     */
    public function send(): void
    {
        if (headers_sent($file, $line)) {
            throw new XsendfiledException("headers already sent (output started at $file:$line)");
        }
        http_response_code($this->status);
        $seen = [];
        foreach ($this->headers as [$name, $value]) {
            $lower = strtolower($name);
            if ($lower === 'content-type') {
                $charset = ini_set('default_charset', '');
                try {
                    header("$name: $value", !isset($seen[$lower]));
                } finally {
                    ini_set('default_charset', $charset === false ? 'UTF-8' : $charset);
                }
            } else {
                header("$name: $value", !isset($seen[$lower]));
            }
            $seen[$lower] = true;
        }
    }
}
