# frozen_string_literal: true

require_relative "xsendfiled/version"
require_relative "xsendfiled/sdl1"
require_relative "xsendfiled/delegate"
require_relative "xsendfiled/content_disposition"
require_relative "xsendfiled/rack/sendfile"
require_relative "xsendfiled/client"

# Client helpers for xsendfiled, the download guard beside nginx: SDL1 signed links
# (Xsendfiled.sign), delegation headers (Xsendfiled.delegate) and a Rack middleware that replaces
# Rack::Sendfile (Xsendfiled::Rack::Sendfile). Standard library only.
module Xsendfiled
  module_function

  # A signed, expiring link for +path+ (the public path a browser requests, mount prefix included,
  # not percent-encoded), byte-identical to `xsendfiled sign`. Returns "path?query"; append it to
  # the site's origin.
  #
  #   key:          the secret as bytes (Xsendfiled.secret("hex:...") reads a key-file spelling)
  #   kid:          its key id
  #   expires_at:   Time or Unix seconds; or expires_in: seconds from now (default 3600)
  #   not_before:   Time or Unix seconds (optional)
  #   prefix:       sign this prefix of path (ending in /): one link for a directory
  #   network:      bind to the client's network, "203.0.113.0/24", "2001:db8::/64" or an address
  #   filename:     the download name, signed
  #   disposition:  "attachment" or "inline", signed
  #   link_id:      a name to revoke the link by (1-64 of A-Z a-z 0-9 _ -)
  #   uses:         how many times a daemon with --state lets it be used (needs link_id)
  #   grant_window: seconds one use stays open for its client (needs uses)
  def sign(path, **opts)
    SDL1.sign(path, **opts)
  end

  # Headers that hand +path+ (below xsendfiled's root) to xsendfiled: X-Accel-Redirect to
  # +internal_prefix+ with the trusted query (filename, disposition: auto|inline|attachment|none,
  # cache_control, expires, limit_rate, buffering, accel_expires), and a Content-Type without charset.
  def delegate(path, **opts)
    Delegate.headers(path, **opts)
  end

  # The bytes of a secret written as in xsendfiled's key file: "hex:..." or "b64:..." (base64url).
  def secret(text)
    case text
    when /\Ahex:((?:[0-9A-Fa-f]{2})+)\z/ then [Regexp.last_match(1)].pack("H*")
    when /\Ab64:([A-Za-z0-9_-]+)\z/
      b = Regexp.last_match(1)
      (b + "=" * ((4 - b.length % 4) % 4)).tr("-_", "+/").unpack1("m0")
    else raise Error, "a secret is written hex:... or b64:..."
    end
  end
end
