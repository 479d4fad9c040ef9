# frozen_string_literal: true

require "openssl"

module Xsendfiled
  # Raised for an argument that xsendfiled would refuse (a link it could never verify, a header it
  # would not accept). Never repaired silently.
  class Error < ArgumentError; end

  # SDL1 signed, expiring links (docs/sdl1.md): the same bytes as `xsendfiled sign`.
  module SDL1
    LABEL = "SDL1-HMAC-SHA256"
    # Shortest secret the daemon accepts for SDL1 (it wants 32 random bytes).
    MIN_SECRET_BYTES = 16
    # Largest exp/nbf the daemon reads (at most 11 digits).
    MAX_TIME = 99_999_999_999
    MAX_FILENAME_BYTES = 255
    DISPOSITIONS = %w[attachment inline].freeze
    KID = /\A[A-Za-z0-9_-]{1,32}\z/.freeze
    LINK_ID = /\A[A-Za-z0-9_-]{1,64}\z/.freeze
    # Unicode control characters (general category Cc), `/` and `\`: never in a download name.
    BAD_NAME_CHAR = %r{[\u0000-\u001f\u007f-\u009f/\\]}.freeze
    UNRESERVED = /[A-Za-z0-9\-._~\/]/.freeze

    module_function

    # The signed link (`path?query`) for `path`, the public path a browser requests (mount prefix
    # included, not percent-encoded). See Xsendfiled.sign for the options.
    def sign(path, key:, kid:, expires_at: nil, expires_in: nil, not_before: nil, prefix: nil, network: nil,
             filename: nil, disposition: nil, link_id: nil, uses: nil, grant_window: nil, now: nil)
      raise Error, "kid #{kid.inspect} is not 1-32 of A-Z a-z 0-9 _ -" unless kid.is_a?(String) && KID.match?(kid)

      key = key.to_s.b
      raise Error, "the key is shorter than #{MIN_SECRET_BYTES} bytes (SDL1 wants 32 random bytes)" if key.bytesize < MIN_SECRET_BYTES

      path = utf8(path, "path")
      raise Error, "path #{path.inspect} is not canonical" unless canonical?(path) && !path.end_with?("/")

      exp = expiry(expires_at, expires_in, now)
      nbf = not_before.nil? ? nil : unix_time(not_before, "not_before")
      raise Error, "the link would never work: not_before is not before the expiry" if nbf && nbf >= exp

      unless prefix.nil?
        prefix = utf8(prefix, "prefix")
        unless canonical?(prefix) && prefix.end_with?("/") && path.start_with?(prefix)
          raise Error, "prefix #{prefix.inspect} must end with / and be a prefix of the path"
        end
      end
      net, bits = network.nil? ? [nil, nil] : Network.parse(network)
      fname = filename.nil? ? nil : b64(check_filename(filename))
      disp = disposition.nil? ? nil : disposition.to_s
      raise Error, "disposition #{disposition.inspect} is not attachment or inline" if disp && !DISPOSITIONS.include?(disp)

      limit = check_limit(link_id, uses, grant_window)
      text = canonical(kid: kid, exp: exp, nbf: nbf, network: net, fname: fname, disp: disp, prefix: prefix, path: path,
                       **limit)
      sig = b64(OpenSSL::HMAC.digest("SHA256", key, text))
      query = +"exp=#{exp}&kid=#{kid}"
      query << "&nbf=#{nbf}" if nbf
      query << "&pfx=#{b64(prefix)}" if prefix
      query << "&ipm=#{bits}" if bits
      query << "&fn=#{fname}" if fname
      query << "&disp=#{disp}" if disp
      limit.each { |name, value| query << "&#{name}=#{value}" unless value.nil? }
      "#{encode_path(path)}?#{query}&sig=#{sig}"
    end

    # The canonical string the MAC covers; `fname` is the base64url value of the `fn` parameter.
    def canonical(kid:, exp:, nbf:, network:, fname:, disp:, prefix:, path:, id: nil, uses: nil, gw: nil)
      out = +"#{LABEL}\n#{kid}\n#{exp}\n#{nbf}\n#{network}\n"
      out << "fn\n#{fname}\n" if fname
      out << "disp\n#{disp}\n" if disp
      { "id" => id, "uses" => uses, "gw" => gw }.each { |label, value| out << "#{label}\n#{value}\n" unless value.nil? }
      out << (prefix ? "prefix\n#{prefix}" : "path\n#{path}")
      out.b
    end

    # The link id (1-64 of A-Z a-z 0-9 _ -), uses (1-999999, needs the id) and grant window
    # (1-9999999 s, needs uses), as the claims id, uses and gw; refused as the daemon refuses them.
    def check_limit(link_id, uses, grant_window)
      raise Error, "link_id #{link_id.inspect} is not 1-64 of A-Z a-z 0-9 _ -" if !link_id.nil? && !(link_id.is_a?(String) && LINK_ID.match?(link_id))

      { "uses" => [uses, 999_999], "grant_window" => [grant_window, 9_999_999] }.each do |what, (value, top)|
        next if value.nil?
        raise Error, "#{what} must be a whole number from 1 to #{top}" unless value.is_a?(Integer) && value.between?(1, top)
      end
      raise Error, "uses needs a link_id" if !uses.nil? && link_id.nil?
      raise Error, "grant_window needs uses" if !grant_window.nil? && uses.nil?

      { id: link_id, uses: uses, gw: grant_window }
    end

    # Every byte but A-Z a-z 0-9 - . _ ~ / as %XX (upper case), as the daemon writes paths.
    def encode_path(path)
      path.b.gsub(/[^A-Za-z0-9\-._~\/]/n) { |c| format("%%%02X", c.ord) }
    end

    def b64(bytes)
      [bytes].pack("m0").tr("+/", "-_").delete("=")
    end

    # Absolute, valid UTF-8, no control characters or backslash, no empty (but a last), `.` or `..`
    # segment.
    def canonical?(path)
      return false unless path.start_with?("/") && !path.match?(/[\u0000-\u001f\u007f\\]/)

      segments = path[1..].split("/", -1)
      segments.each_with_index.none? do |s, i|
        (s.empty? && i + 1 < segments.length) || s == "." || s == ".."
      end
    end

    def check_filename(name)
      name = utf8(name, "filename")
      if name.empty? || name.bytesize > MAX_FILENAME_BYTES || name.match?(BAD_NAME_CHAR)
        raise Error, "download name #{name.inspect} must be 1-255 bytes without control characters, / or \\"
      end

      name
    end

    def utf8(value, what)
      raise Error, "#{what} must be a String" unless value.is_a?(String)

      s = value.dup.force_encoding(Encoding::UTF_8)
      raise Error, "#{what} is not valid UTF-8" unless s.valid_encoding?

      s
    end

    def expiry(expires_at, expires_in, now)
      raise Error, "give expires_at or expires_in, not both" if expires_at && expires_in
      return unix_time(expires_at, "expires_at") if expires_at

      secs = expires_in.nil? ? 3600 : expires_in
      raise Error, "expires_in must be a positive number of seconds" unless secs.is_a?(Integer) && secs.positive?

      unix_time((now || Time.now).to_i + secs, "expires_in")
    end

    def unix_time(value, what)
      value = value.to_i if value.is_a?(Time)
      unless value.is_a?(Integer) && value.positive? && value <= MAX_TIME
        raise Error, "#{what} must be Unix seconds (a Time or a positive Integer)"
      end

      value
    end
  end

  # The client network a link is bound to: "ADDRESS/BITS" or "ADDRESS" (its /32 or /128), masked
  # and written as the daemon writes it (IPv6 in RFC 5952 form; an IPv4-mapped address is IPv4).
  module Network
    module_function

    # [canonical text, bits]
    def parse(text)
      raise Error, "network must be a String like 203.0.113.0/24" unless text.is_a?(String)

      addr, bits = text.split("/", 2)
      family, value = address(addr.to_s) || raise(Error, "network #{text.inspect}: not an IP address")
      if family == 6 && (value >> 32) == 0xffff
        family = 4
        value &= 0xffff_ffff
      end
      width = family == 4 ? 32 : 128
      if bits.nil?
        bits = width
      else
        raise Error, "network #{text.inspect}: bad prefix length" unless bits.match?(/\A[0-9]{1,3}\z/)

        bits = bits.to_i
      end
      raise Error, "network #{text.inspect}: prefix length must be 1-#{width}" unless (1..width).cover?(bits)

      masked = value & (((1 << width) - 1) ^ ((1 << (width - bits)) - 1))
      ["#{family == 4 ? v4_text(masked) : v6_text(masked)}/#{bits}", bits]
    end

    def address(s)
      if s.match?(/\A[0-9.]+\z/)
        v = v4(s)
        return v && [4, v]
      end
      v = v6(s)
      v && [6, v]
    end

    # Dotted quad, no leading zeros.
    def v4(s)
      parts = s.split(".", -1)
      return nil unless parts.length == 4 && parts.all? { |p| p.match?(/\A(0|[1-9][0-9]{0,2})\z/) && p.to_i <= 255 }

      parts.inject(0) { |acc, p| (acc << 8) | p.to_i }
    end

    def v6(s)
      return nil unless s.match?(/\A[0-9A-Fa-f:.]+\z/)

      head, tail = s.split("::", -1).then { |a| a.length > 2 ? (return nil) : a }
      groups = ->(part) { part.nil? || part.empty? ? [] : part.split(":", -1) }
      left = groups.call(head)
      right = tail.nil? ? [] : groups.call(tail)
      words = ->(list) do
        list.flat_map.with_index do |g, i|
          if g.include?(".")
            return nil unless i == list.length - 1 && (v = v4(g))

            [v >> 16, v & 0xffff]
          else
            return nil unless g.match?(/\A[0-9A-Fa-f]{1,4}\z/)

            [g.to_i(16)]
          end
        end
      end
      # An embedded IPv4 address may only end the address.
      return nil if !right.empty? && left.any? { |g| g.include?(".") }

      lw = words.call(left) or return nil
      rw = words.call(right) or return nil
      if tail.nil?
        return nil unless lw.length == 8
      else
        return nil unless lw.length + rw.length <= 7

        lw += [0] * (8 - lw.length - rw.length) + rw
      end
      lw.inject(0) { |acc, w| (acc << 16) | w }
    end

    def v4_text(v)
      [24, 16, 8, 0].map { |s| (v >> s) & 0xff }.join(".")
    end

    # RFC 5952: lower-case hex, the leftmost longest run of two or more zero groups as `::`.
    def v6_text(v)
      w = 7.downto(0).map { |i| (v >> (16 * i)) & 0xffff }
      best_at, best_len, at, len = 0, 0, 0, 0
      w.each_with_index do |g, i|
        if g.zero?
          at = i if len.zero?
          len += 1
          best_at, best_len = at, len if len > best_len
        else
          len = 0
        end
      end
      hex = w.map { |g| g.to_s(16) }
      return hex.join(":") if best_len < 2

      "#{hex[0...best_at].join(':')}::#{hex[(best_at + best_len)..].join(':')}"
    end
  end
end
