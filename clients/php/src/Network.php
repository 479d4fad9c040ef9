<?php

declare(strict_types=1);

namespace Xsendfiled;

/**
 * The client network a link is bound to: "ADDRESS/BITS" or "ADDRESS" (its /32 or /128), masked
 * and written as the daemon writes it (IPv6 in RFC 5952 form; an IPv4-mapped address is IPv4).
 */
final class Network
{
    /** @return array{0: string, 1: int} the canonical text and the prefix length */
    public static function parse(string $text): array
    {
        $parts = explode('/', $text, 2);
        $bytes = @inet_pton($parts[0]);
        if ($bytes === false || !preg_match('/\A[0-9A-Fa-f:.]+\z/', $parts[0])) {
            throw new XsendfiledException("network \"$text\": not an IP address");
        }
        if (strlen($bytes) === 16 && substr($bytes, 0, 12) === str_repeat("\0", 10) . "\xff\xff") {
            $bytes = substr($bytes, 12);
        }
        $width = strlen($bytes) * 8;
        if (count($parts) === 1) {
            $bits = $width;
        } elseif (preg_match('/\A[0-9]{1,3}\z/', $parts[1])) {
            $bits = (int) $parts[1];
        } else {
            throw new XsendfiledException("network \"$text\": bad prefix length");
        }
        if ($bits < 1 || $bits > $width) {
            throw new XsendfiledException("network \"$text\": prefix length must be 1-$width");
        }
        $masked = '';
        for ($i = 0; $i < strlen($bytes); $i++) {
            $keep = max(0, min(8, $bits - 8 * $i));
            $masked .= chr(ord($bytes[$i]) & ((0xff << (8 - $keep)) & 0xff));
        }
        return [(strlen($masked) === 4 ? implode('.', array_map('ord', str_split($masked))) : self::v6($masked)) . "/$bits", $bits];
    }

    /** RFC 5952: lower-case hex, the leftmost longest run of two or more zero groups as `::`. */
    private static function v6(string $bytes): string
    {
        $w = array_values(unpack('n8', $bytes));
        [$bestAt, $bestLen, $at, $len] = [0, 0, 0, 0];
        foreach ($w as $i => $g) {
            if ($g === 0) {
                if ($len === 0) {
                    $at = $i;
                }
                $len++;
                if ($len > $bestLen) {
                    [$bestAt, $bestLen] = [$at, $len];
                }
            } else {
                $len = 0;
            }
        }
        $hex = array_map('dechex', $w);
        if ($bestLen < 2) {
            return implode(':', $hex);
        }
        return implode(':', array_slice($hex, 0, $bestAt)) . '::' . implode(':', array_slice($hex, $bestAt + $bestLen));
    }
}
