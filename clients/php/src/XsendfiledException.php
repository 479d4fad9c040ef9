<?php

declare(strict_types=1);

namespace Xsendfiled;

/** An argument xsendfiled would refuse (a link it could never verify, a header it would not accept). */
final class XsendfiledException extends \InvalidArgumentException
{
}
