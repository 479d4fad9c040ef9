"""Client for xsendfiled, the download guard beside nginx.

- ``sign()`` mints SDL1 signed links, byte for byte as ``xsendfiled sign``; ``verify()`` checks one
  as the daemon does; ``load_keys()`` reads the daemon's key file.
- ``Client(socket).ask()`` asks the daemon over its app socket and returns an ``Answer`` to inspect
  and return (``to_django()``, ``wsgi()``).
- ``delegate()`` returns the headers with which an application hands a download to xsendfiled.
- ``XSendfileApplication`` (``xsendfiled.wsgi``) is wsgi-xsendfile's call-and-inspect WSGI app.
- ``xsendfiled.django`` is a django-sendfile2 backend (``SENDFILE_BACKEND = "xsendfiled.django"``).

The standard library only; Django is imported by ``xsendfiled.django`` alone.
"""

from .ask import Answer, AskError, Client
from .delegate import delegate, redirect_target
from .sdl1 import (
    MAX_LIFETIME,
    KeyFileError,
    LinkError,
    SigningError,
    Verified,
    load_keys,
    parse_keys,
    sign,
    url_path,
    verify,
)
from .wsgi import BadRootError, BadSenderError, Reply, XSendfileApplication

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "AskError",
    "Client",
    "BadRootError",
    "BadSenderError",
    "KeyFileError",
    "LinkError",
    "MAX_LIFETIME",
    "Reply",
    "SigningError",
    "Verified",
    "XSendfileApplication",
    "delegate",
    "load_keys",
    "parse_keys",
    "redirect_target",
    "sign",
    "url_path",
    "verify",
]
