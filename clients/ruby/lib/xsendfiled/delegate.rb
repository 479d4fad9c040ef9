# frozen_string_literal: true

require "uri"
require_relative "sdl1"

module Xsendfiled
  # Handing a download to xsendfiled: the app answers nginx with X-Accel-Redirect to the internal
  # location that fastcgi_passes to xsendfiled (conf-examples/nginx-app-delegation*.conf), where
  # the query string is trusted policy.
  module Delegate
    DISPOSITIONS = %w[auto inline attachment none].freeze
    BUFFERING = %w[yes no].freeze

    module_function

    # The X-Accel-Redirect value: the internal prefix, the path below the root percent-encoded
    # byte by byte, then the trusted query, form-encoded as xsendfiled reads it.
    def uri(path, internal_prefix: "/_xsendfiled", **opts)
      prefix = internal_prefix.to_s.chomp("/")
      raise Error, "internal_prefix #{internal_prefix.inspect} must start with /" unless prefix.start_with?("/")

      "#{prefix}#{target(path, **opts)}"
    end

    # "/<path percent-encoded>?<trusted query>": what follows the internal prefix in uri(), and the
    # request target of an ask (Xsendfiled::Client). `root` names one of xsendfiled's roots.
    def target(path, filename: nil, disposition: nil, cache_control: nil, expires: nil, limit_rate: nil,
               buffering: nil, accel_expires: nil, root: nil)
      raise Error, "path must be a String" unless path.is_a?(String)

      rel = path.start_with?("/") ? path[1..] : path
      raise Error, "empty path" if rel.empty?

      query = []
      query << ["filename", SDL1.check_filename(filename)] unless filename.nil?
      unless disposition.nil?
        d = disposition.to_s
        raise Error, "disposition #{disposition.inspect} is not one of #{DISPOSITIONS.join(', ')}" unless DISPOSITIONS.include?(d)

        query << ["disposition", d]
      end
      { "cache_control" => cache_control, "root" => root }.each do |k, v|
        next if v.nil?
        raise Error, "#{k} must be one line" if v.to_s.match?(/[\u0000-\u001f\u007f]/)

        query << [k, v.to_s]
      end
      { "expires" => expires, "limit_rate" => limit_rate, "accel_expires" => accel_expires }.each do |k, v|
        next if v.nil?
        raise Error, "#{k} must be a non-negative Integer" unless v.is_a?(Integer) && !v.negative?

        query << [k, v.to_s]
      end
      unless buffering.nil?
        b = { true => "yes", false => "no" }.fetch(buffering, buffering.to_s)
        raise Error, "buffering must be yes or no" unless BUFFERING.include?(b)

        query << ["buffering", b]
      end
      out = "/#{SDL1.encode_path(rel)}"
      query.empty? ? out : "#{out}?#{URI.encode_www_form(query)}"
    end

    # The response headers (lower-case names: Rack 2 and 3 alike). Content-Type has no charset,
    # which nginx would otherwise keep on the file it sends.
    def headers(path, **opts)
      { "x-accel-redirect" => uri(path, **opts), "content-type" => "application/octet-stream" }
    end
  end
end
