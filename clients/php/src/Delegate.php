<?php

declare(strict_types=1);

namespace Xsendfiled;

/**
 * Handing a download to xsendfiled: the app answers nginx with X-Accel-Redirect to the internal
 * location that fastcgi_passes to xsendfiled (conf-examples/nginx-app-delegation.conf), where the
 * query string is trusted policy.
 */
final class Delegate
{
    public const DISPOSITIONS = ['auto', 'inline', 'attachment', 'none'];

    /**
     * The X-Accel-Redirect value: the internal prefix, the path below xsendfiled's root
     * percent-encoded byte by byte, then the trusted query, form-encoded as xsendfiled reads it.
     */
    public static function uri(
        string $path,
        ?string $filename = null,
        ?string $disposition = null,
        string $internalPrefix = '/_xsendfiled',
        ?string $cacheControl = null,
        ?int $expires = null,
        ?int $limitRate = null,
        ?bool $buffering = null,
        ?int $accelExpires = null,
        ?string $root = null,
    ): string {
        $prefix = rtrim($internalPrefix, '/');
        if (!str_starts_with($prefix, '/')) {
            throw new XsendfiledException("internalPrefix \"$internalPrefix\" must start with /");
        }
        return $prefix . self::target(
            $path,
            filename: $filename,
            disposition: $disposition,
            cacheControl: $cacheControl,
            expires: $expires,
            limitRate: $limitRate,
            buffering: $buffering,
            accelExpires: $accelExpires,
            root: $root,
        );
    }

    /**
     * "/<path percent-encoded>?<trusted query>": what follows the internal prefix in uri(), and the
     * request target of an ask (Client). $root names one of xsendfiled's roots.
     */
    public static function target(
        string $path,
        ?string $filename = null,
        ?string $disposition = null,
        ?string $cacheControl = null,
        ?int $expires = null,
        ?int $limitRate = null,
        ?bool $buffering = null,
        ?int $accelExpires = null,
        ?string $root = null,
    ): string {
        $rel = str_starts_with($path, '/') ? substr($path, 1) : $path;
        if ($rel === '') {
            throw new XsendfiledException('empty path');
        }
        $query = [];
        if ($filename !== null) {
            $query['filename'] = Signer::checkFilename($filename);
        }
        if ($disposition !== null) {
            if (!in_array($disposition, self::DISPOSITIONS, true)) {
                throw new XsendfiledException("disposition \"$disposition\" is not one of " . implode(', ', self::DISPOSITIONS));
            }
            $query['disposition'] = $disposition;
        }
        foreach (['cache_control' => $cacheControl, 'root' => $root] as $k => $v) {
            if ($v !== null) {
                if (preg_match('/[\x00-\x1f\x7f]/', $v)) {
                    throw new XsendfiledException("$k must be one line");
                }
                $query[$k] = $v;
            }
        }
        foreach (['expires' => $expires, 'limit_rate' => $limitRate, 'accel_expires' => $accelExpires] as $k => $v) {
            if ($v !== null) {
                if ($v < 0) {
                    throw new XsendfiledException("$k must not be negative");
                }
                $query[$k] = (string) $v;
            }
        }
        if ($buffering !== null) {
            $query['buffering'] = $buffering ? 'yes' : 'no';
        }
        $target = '/' . Signer::encodePath($rel);
        return $query === [] ? $target : $target . '?' . http_build_query($query, '', '&', PHP_QUERY_RFC1738);
    }

    /**
     * The response headers, name => value: X-Accel-Redirect, and a Content-Type without charset
     * (nginx would keep a charset on the file it sends). Takes the arguments of uri().
     *
     * @return array<string, string>
     */
    public static function headers(string $path, mixed ...$options): array
    {
        return ['X-Accel-Redirect' => self::uri($path, ...$options), 'Content-Type' => 'application/octet-stream'];
    }
}
