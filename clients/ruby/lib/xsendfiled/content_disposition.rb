# frozen_string_literal: true

require_relative "sdl1"

module Xsendfiled
  # Reads a Content-Disposition an app wrote (Rails' send_file, Sinatra's attachment, by hand) so
  # that xsendfiled can write the one the client gets. Only what it can read exactly: otherwise nil,
  # and the app's header stays.
  module ContentDisposition
    TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.freeze
    PARAM = /\A\s*;\s*(#{TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(#{TOKEN}))/.freeze

    module_function

    # [disposition, filename or nil] from a header value, or nil.
    def parse(value)
      value = value.to_s.dup.force_encoding(Encoding::UTF_8)
      return nil unless value.valid_encoding?

      m = /\A\s*(#{TOKEN})/.match(value) or return nil
      type = m[1].downcase
      return nil unless %w[attachment inline].include?(type)

      rest = m.post_match
      params = {}
      until rest.strip.empty?
        p = PARAM.match(rest) or return nil
        name = p[1].downcase
        return nil if params.key?(name)

        params[name] = p[2] ? p[2].gsub(/\\(.)/, '\1') : p[3]
        rest = p.post_match
      end
      name = if params.key?("filename*")
               ext_value(params["filename*"])
             elsif params.key?("filename")
               # Sinatra's attachment writes a double quote in the name as %22 (and CR, LF as
               # %0D, %0A, which no download name may hold anyway): read it back as the quote.
               params["filename"].gsub("%22", '"')
             end
      return nil if (params.key?("filename*") || params.key?("filename")) && name.nil?
      return [type, nil] if name.nil?

      SDL1.check_filename(name)
      [type, name]
    rescue Error
      nil
    end

    # RFC 8187 ext-value in UTF-8: UTF-8'lang'pct-encoded.
    def ext_value(v)
      m = /\AUTF-8'[A-Za-z0-9-]*'((?:[!#$&+\-.^_`|~0-9A-Za-z]|%[0-9A-Fa-f]{2})*)\z/i.match(v) or return nil
      s = m[1].b.gsub(/%([0-9A-Fa-f]{2})/n) { Regexp.last_match(1).hex.chr }.force_encoding(Encoding::UTF_8)
      s.valid_encoding? ? s : nil
    end
  end
end
