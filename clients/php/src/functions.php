<?php

declare(strict_types=1);

namespace Xsendfiled;

/**
 * Hands the download of $path (below xsendfiled's root) to xsendfiled: sends the headers of
 * Delegate::headers() with header() and returns them. For plain PHP under PHP-FPM; frameworks put
 * Delegate::headers() on their response object instead.
 *
 * @return array<string, string>
 */
function delegate(string $path, mixed ...$options): array
{
    $headers = Delegate::headers($path, ...$options);
    if (headers_sent($file, $line)) {
        throw new XsendfiledException("headers already sent (output started at $file:$line)");
    }
    foreach ($headers as $name => $value) {
        header("$name: $value");
    }
    return $headers;
}

/** Signer::sign() as a function. */
function sign(string $path, mixed ...$options): string
{
    return Signer::sign($path, ...$options);
}
