# frozen_string_literal: true

require "socket"
require_relative "delegate"

module Xsendfiled
  # Asking xsendfiled over its app socket (`xsendfiled --app-socket PATH`): the app sends the path
  # it would put in X-Accel-Redirect, with the same trusted query, and gets the decision and the
  # exact offload reply (status and headers) to inspect, adjust and return as its own response.
  #
  #   client = Xsendfiled::Client.new("/run/xsendfiled/app.sock")
  #   answer = client.ask("reports/Q3.pdf", filename: "Q3 report.pdf", disposition: "attachment")
  #   answer.send?   # => true; answer.size, answer.mtime, answer.file
  #   answer.to_rack # => [200, {"x-accel-redirect" => "...", "content-disposition" => "..."}, []]
  class Client
    METHODS = %w[GET HEAD].freeze
    # Bounds on what is read back: the answer is a head without a body.
    MAX_ANSWER = 64 * 1024

    attr_reader :socket_path, :timeout

    # +timeout+: seconds for connecting, writing and reading the whole answer.
    def initialize(socket_path, timeout: 5)
      @socket_path = socket_path.to_s
      @timeout = timeout
    end

    # Asks about +path+ (below xsendfiled's root, not percent-encoded); +filename+, +disposition+
    # and the other keywords of Xsendfiled::Delegate.target (cache_control, expires, limit_rate,
    # buffering, accel_expires, root) travel in the trusted query. +method+ is "GET" or "HEAD".
    # Returns an Answer; raises Xsendfiled::Error when the socket cannot be asked.
    def ask(path, filename: nil, disposition: nil, method: "GET", **query)
      m = method.to_s.upcase
      raise Error, "method must be one of #{METHODS.join(', ')}" unless METHODS.include?(m)

      target = Delegate.target(path, filename: filename, disposition: disposition, **query)
      Answer.parse(exchange("#{m} #{target} HTTP/1.1\r\nHost: xsendfiled\r\nConnection: close\r\n\r\n"))
    end

    private

    def exchange(request)
      deadline = monotonic + timeout
      sock = begin
        UNIXSocket.new(socket_path)
      rescue SystemCallError => e
        raise Error, "xsendfiled app socket #{socket_path}: #{e.message}"
      end
      begin
        sock.write(request)
        read_head(sock, deadline)
      rescue SystemCallError, IOError => e
        raise Error, "xsendfiled app socket #{socket_path}: #{e.message}"
      ensure
        sock.close
      end
    end

    # Reads until the end of the head (the answer has no body) or the connection closes.
    def read_head(sock, deadline)
      buf = +"".b
      until buf.include?("\r\n\r\n")
        left = deadline - monotonic
        raise Error, "xsendfiled app socket #{socket_path}: no answer within #{timeout}s" if left <= 0
        raise Error, "xsendfiled app socket #{socket_path}: answer over #{MAX_ANSWER} bytes" if buf.bytesize > MAX_ANSWER

        next unless sock.wait_readable(left)

        chunk = sock.read_nonblock(4096, exception: false)
        break if chunk.nil?

        buf << chunk unless chunk == :wait_readable
      end
      buf
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end

  # xsendfiled's answer to an ask.
  #
  #   status    the HTTP status to answer (200 with the offload header, or 400/403/404/405/410...)
  #   headers   [[name, value], ...] to forward, as xsendfiled wrote them: everything but the
  #             Xsendfiled-* fields, Content-Length, Connection and Date
  #   decision  "send" or "refuse"
  #   reason    the log reason of a refusal (nil on send)
  #   file      on send: the file's path relative to its root (decoded); size (bytes), mtime (Unix s)
  class Answer
    NOT_FORWARDED = %w[content-length connection date].freeze

    attr_reader :status, :headers, :decision, :reason, :file, :size, :mtime, :fields

    def self.parse(raw)
      head = raw.split("\r\n\r\n", 2).first.to_s
      lines = head.split("\r\n")
      status_line = lines.shift.to_s
      match = status_line.match(%r{\AHTTP/1\.[01] (\d{3})(?: |\z)})
      raise Error, "xsendfiled app socket: not an HTTP answer: #{status_line.inspect}" unless match

      fields = lines.map do |l|
        name, value = l.split(":", 2)
        raise Error, "xsendfiled app socket: bad header line #{l.inspect}" if value.nil?

        [name.strip, value.strip.force_encoding(Encoding::UTF_8)]
      end
      new(match[1].to_i, fields)
    end

    # +fields+: every header field of the answer, in order.
    def initialize(status, fields)
      @status = status
      @fields = fields
      info = fields.select { |n, _| n.downcase.start_with?("xsendfiled-") }.to_h { |n, v| [n.downcase, v] }
      @headers = fields.reject { |n, _| n.downcase.start_with?("xsendfiled-") || NOT_FORWARDED.include?(n.downcase) }
      @decision = info["xsendfiled-decision"]
      raise Error, "xsendfiled app socket: no Xsendfiled-Decision in the answer" unless @decision

      @reason = info["xsendfiled-reason"]
      @file = info["xsendfiled-file"]&.b&.gsub(/%([0-9A-Fa-f]{2})/n) { Regexp.last_match(1).hex.chr }
                                     &.force_encoding(Encoding::UTF_8)
      @size = info["xsendfiled-size"]&.to_i
      @mtime = info["xsendfiled-mtime"]&.to_i
    end

    # The file may be sent.
    def send?
      decision == "send"
    end

    # The value of header +name+ to forward (the first, case-insensitive), or nil.
    def [](name)
      headers.find { |n, _| n.casecmp?(name) }&.last
    end

    # A Rack response: [status, headers (lower-case names; a repeated field as an Array under
    # Rack 3, joined by "\n" under Rack 2), []]. Without a body: nginx sends the file on a 200, and
    # a refusal is answered with its status.
    def to_rack
      grouped = {}
      headers.each { |n, v| (grouped[n.downcase] ||= []) << v }
      rack3 = defined?(::Rack::RELEASE) && ::Rack::RELEASE.to_i >= 3
      [status, grouped.transform_values { |vs| vs.length == 1 ? vs.first : (rack3 ? vs : vs.join("\n")) }, []]
    end
  end
end
