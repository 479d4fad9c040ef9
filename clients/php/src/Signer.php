<?php

declare(strict_types=1);

namespace Xsendfiled;

/** SDL1 signed, expiring links (docs/sdl1.md): the same bytes as `xsendfiled sign`. */
final class Signer
{
    public const LABEL = 'SDL1-HMAC-SHA256';
    /** Shortest secret the daemon accepts for SDL1 (it wants 32 random bytes). */
    public const MIN_SECRET_BYTES = 16;
    /** Largest exp/nbf the daemon reads (at most 11 digits). */
    public const MAX_TIME = 99999999999;
    public const MAX_FILENAME_BYTES = 255;

    /**
     * The signed link ("path?query") for $path, the public path a browser requests (mount prefix
     * included, not percent-encoded). Append it to the site's origin.
     *
     * @param string $key the secret's bytes (Signer::secret('hex:...') reads a key-file spelling)
     * @param int|\DateTimeInterface|null $expiresAt when the link expires; or $expiresIn seconds from now (default 3600)
     * @param int|\DateTimeInterface|null $notBefore when it starts to work
     * @param string|null $prefix sign this prefix of $path (ending in /): one link for a directory
     * @param string|null $network bind to the client's network: "203.0.113.0/24", "2001:db8::/64" or an address
     * @param string|null $filename the download name, signed
     * @param string|null $disposition "attachment" or "inline", signed
     * @param string|null $linkId a name to revoke the link by (1-64 of A-Z a-z 0-9 _ -)
     * @param int|null $uses how many times a daemon with --state lets it be used (needs $linkId)
     * @param int|null $grantWindow seconds one use stays open for its client (needs $uses)
     */
    public static function sign(
        string $path,
        string $key,
        string $kid,
        int|\DateTimeInterface|null $expiresAt = null,
        ?int $expiresIn = null,
        int|\DateTimeInterface|null $notBefore = null,
        ?string $prefix = null,
        ?string $network = null,
        ?string $filename = null,
        ?string $disposition = null,
        ?string $linkId = null,
        ?int $uses = null,
        ?int $grantWindow = null,
        ?int $now = null,
    ): string {
        self::checkLimit($linkId, $uses, $grantWindow);
        if (!preg_match('/\A[A-Za-z0-9_-]{1,32}\z/', $kid)) {
            throw new XsendfiledException("kid \"$kid\" is not 1-32 of A-Z a-z 0-9 _ -");
        }
        if (strlen($key) < self::MIN_SECRET_BYTES) {
            throw new XsendfiledException('the key is shorter than 16 bytes (SDL1 wants 32 random bytes)');
        }
        if (!self::isCanonical($path) || str_ends_with($path, '/')) {
            throw new XsendfiledException("path \"$path\" is not canonical");
        }
        if ($expiresAt !== null && $expiresIn !== null) {
            throw new XsendfiledException('give expiresAt or expiresIn, not both');
        }
        if ($expiresAt !== null) {
            $exp = self::unixTime($expiresAt, 'expiresAt');
        } else {
            $expiresIn ??= 3600;
            if ($expiresIn <= 0) {
                throw new XsendfiledException('expiresIn must be a positive number of seconds');
            }
            $exp = self::unixTime(($now ?? time()) + $expiresIn, 'expiresIn');
        }
        $nbf = $notBefore === null ? null : self::unixTime($notBefore, 'notBefore');
        if ($nbf !== null && $nbf >= $exp) {
            throw new XsendfiledException('the link would never work: notBefore is not before the expiry');
        }
        if ($prefix !== null
            && (!self::isCanonical($prefix) || !str_ends_with($prefix, '/') || !str_starts_with($path, $prefix))) {
            throw new XsendfiledException("prefix \"$prefix\" must end with / and be a prefix of the path");
        }
        [$net, $bits] = $network === null ? [null, null] : Network::parse($network);
        $fname = $filename === null ? null : self::b64(self::checkFilename($filename));
        if ($disposition !== null && !in_array($disposition, ['attachment', 'inline'], true)) {
            throw new XsendfiledException("disposition \"$disposition\" is not attachment or inline");
        }
        $limit = ['id' => $linkId, 'uses' => $uses, 'gw' => $grantWindow];
        $canonical = self::canonical($kid, $exp, $nbf, $net, $fname, $disposition, $prefix, $path, ...$limit);
        $sig = self::b64(hash_hmac('sha256', $canonical, $key, true));
        $query = "exp=$exp&kid=$kid";
        $query .= $nbf === null ? '' : "&nbf=$nbf";
        $query .= $prefix === null ? '' : '&pfx=' . self::b64($prefix);
        $query .= $bits === null ? '' : "&ipm=$bits";
        $query .= $fname === null ? '' : "&fn=$fname";
        $query .= $disposition === null ? '' : "&disp=$disposition";
        foreach ($limit as $name => $value) {
            $query .= $value === null ? '' : "&$name=$value";
        }
        return self::encodePath($path) . "?$query&sig=$sig";
    }

    /** The canonical string the MAC covers; $fname is the base64url value of the `fn` parameter. */
    public static function canonical(
        string $kid,
        int $exp,
        ?int $nbf,
        ?string $network,
        ?string $fname,
        ?string $disposition,
        ?string $prefix,
        string $path,
        ?string $id = null,
        ?int $uses = null,
        ?int $gw = null,
    ): string {
        $out = self::LABEL . "\n$kid\n$exp\n" . ($nbf ?? '') . "\n" . ($network ?? '') . "\n";
        $out .= $fname === null ? '' : "fn\n$fname\n";
        $out .= $disposition === null ? '' : "disp\n$disposition\n";
        foreach (['id' => $id, 'uses' => $uses, 'gw' => $gw] as $label => $value) {
            $out .= $value === null ? '' : "$label\n$value\n";
        }
        return $out . ($prefix === null ? "path\n$path" : "prefix\n$prefix");
    }

    /** Refuses a link id, use count or grant window the daemon would refuse. */
    private static function checkLimit(?string $linkId, ?int $uses, ?int $grantWindow): void
    {
        if ($linkId !== null && !preg_match('/\A[A-Za-z0-9_-]{1,64}\z/', $linkId)) {
            throw new XsendfiledException("linkId \"$linkId\" is not 1-64 of A-Z a-z 0-9 _ -");
        }
        foreach (['uses' => [$uses, 999999], 'grantWindow' => [$grantWindow, 9999999]] as $what => [$value, $top]) {
            if ($value !== null && ($value < 1 || $value > $top)) {
                throw new XsendfiledException("$what must be a whole number from 1 to $top");
            }
        }
        if ($uses !== null && $linkId === null) {
            throw new XsendfiledException('uses needs a linkId');
        }
        if ($grantWindow !== null && $uses === null) {
            throw new XsendfiledException('grantWindow needs uses');
        }
    }

    /** Every byte but A-Z a-z 0-9 - . _ ~ / as %XX (upper case), as the daemon writes paths. */
    public static function encodePath(string $path): string
    {
        return implode('/', array_map('rawurlencode', explode('/', $path)));
    }

    public static function b64(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }

    /** The bytes of a secret as written in xsendfiled's key file: "hex:..." or "b64:..." (base64url). */
    public static function secret(string $text): string
    {
        if (preg_match('/\Ahex:((?:[0-9A-Fa-f]{2})+)\z/', $text, $m)) {
            return hex2bin($m[1]);
        }
        if (preg_match('/\Ab64:([A-Za-z0-9_-]+)\z/', $text, $m)) {
            $raw = base64_decode(strtr($m[1], '-_', '+/'), true);
            if ($raw !== false) {
                return $raw;
            }
        }
        throw new XsendfiledException('a secret is written hex:... or b64:...');
    }

    /** Absolute, valid UTF-8, no control characters or backslash, no empty (but a last), `.` or `..` segment. */
    public static function isCanonical(string $path): bool
    {
        if (!str_starts_with($path, '/') || preg_match('/[\x00-\x1f\x7f\\\\]/', $path) || !preg_match('//u', $path)) {
            return false;
        }
        $segments = explode('/', substr($path, 1));
        foreach ($segments as $i => $s) {
            if (($s === '' && $i + 1 < count($segments)) || $s === '.' || $s === '..') {
                return false;
            }
        }
        return true;
    }

    /** A download name: 1-255 bytes of UTF-8 without control characters, / or \. */
    public static function checkFilename(string $name): string
    {
        if ($name === '' || strlen($name) > self::MAX_FILENAME_BYTES || !preg_match('//u', $name)
            || preg_match('/[\x{0000}-\x{001f}\x{007f}-\x{009f}\/\\\\]/u', $name)) {
            throw new XsendfiledException('download name must be 1-255 bytes of UTF-8 without control characters, / or \\');
        }
        return $name;
    }

    private static function unixTime(int|\DateTimeInterface $t, string $what): int
    {
        $v = $t instanceof \DateTimeInterface ? $t->getTimestamp() : $t;
        if ($v <= 0 || $v > self::MAX_TIME) {
            throw new XsendfiledException("$what must be Unix seconds (a DateTimeInterface or a positive int)");
        }
        return $v;
    }
}
