# frozen_string_literal: true

require_relative "../delegate"
require_relative "../content_disposition"

module Xsendfiled
  module Rack
    # Replaces Rack::Sendfile for an app behind nginx and xsendfiled. A response whose body is a
    # file (responds to +to_path+, as send_file and Rack::Files answer) under +root+ becomes
    # `X-Accel-Redirect: <internal_prefix>/<path below root>?filename=...&disposition=...`, and
    # xsendfiled checks the path and names the file. Unlike Rack::Sendfile:
    #
    # - nothing comes from the request: no X-Sendfile-Type, no X-Accel-Mapping (CVE-2025-61780),
    #   no sendfile.type; the mapping is +root+ and +internal_prefix+, fixed here;
    # - +root+ is compared by whole path components (/srv/files never covers /srv/files-private),
    #   not as a case-insensitive regular expression;
    # - the path is percent-encoded byte by byte, `%`, `?` and `#` included;
    # - only 200 and 206 answers are offloaded (an error page read from a file stays what it is);
    # - the app answers HEAD as GET and never sees Range or If-Range, so HEAD and ranges of a file
    #   are nginx's to answer too (a HEAD that is not offloaded gets an empty body, as Rack::Head
    #   gives it);
    # - the app's Content-Disposition is read (filename* or filename, and its type) and handed to
    #   xsendfiled in the trusted query, so the client gets exactly one, encoded by xsendfiled; a
    #   header it cannot read exactly is left as the app wrote it (the delegation location passes
    #   it on as XSENDFILED_APP_DISPOSITION and xsendfiled then adds none);
    # - a file outside +root+ is refused with 404 (+outside: :pass+ lets the app send it itself,
    #   as Rack::Sendfile does without a mapping).
    #
    # Place it anywhere in front of the app (first in config.ru, or `use` in a Sinatra class).
    class Sendfile
      OFFLOADED = [200, 206].freeze

      def initialize(app, root:, internal_prefix: "/_xsendfiled", outside: :refuse)
        raise Error, "outside must be :refuse or :pass" unless %i[refuse pass].include?(outside)

        @app = app
        @root = ::File.expand_path(root.to_s)
        raise Error, "root #{root.inspect} must be a directory" unless ::File.directory?(@root)

        @real_root = ::File.realpath(@root)
        @internal_prefix = internal_prefix
        @outside = outside
        Delegate.uri("x", internal_prefix: internal_prefix) # fails early on a bad prefix
      end

      # Request fields the app must not act on when nginx will send the file: the range is nginx's
      # to answer on the file it sends (Rack::Files would answer it with a body that is no longer a
      # file, and send the bytes itself).
      HIDDEN = %w[HTTP_RANGE HTTP_IF_RANGE].freeze

      def call(env)
        status, headers, body = app_call(env)
        unless body.respond_to?(:to_path) && OFFLOADED.include?(status.to_i)
          return [status, headers, env["REQUEST_METHOD"] == "HEAD" ? Closing.new(body) : body]
        end

        rel = relative(body.to_path)
        if rel.nil?
          return [status, headers, body] if @outside == :pass

          warn_to(env, "xsendfiled: #{body.to_path.inspect} is outside #{@root}: refused (404)")
          close(body)
          return [404, { "content-type" => "text/plain", "content-length" => "10" }, ["Not Found\n"]]
        end
        opts = { internal_prefix: @internal_prefix }
        own = header(headers, "content-disposition")
        if own
          parsed = ContentDisposition.parse(own)
          if parsed
            opts[:disposition], opts[:filename] = parsed
            delete(headers, "content-disposition")
          end
        end
        %w[content-range content-length content-type x-accel-redirect].each { |name| delete(headers, name) }
        Delegate.headers(rel, **opts).each { |name, value| headers[name] = value }
        headers["content-length"] = "0"
        [200, headers, Closing.new(body)]
      end

      private

      # The app answers a HEAD as a GET (Rack::Files answers HEAD with an empty body that is no file)
      # and sees no Range; the request is restored for the middleware around this one.
      def app_call(env)
        saved = HIDDEN.to_h { |k| [k, env.delete(k)] }.compact
        head = env["REQUEST_METHOD"] == "HEAD"
        env["REQUEST_METHOD"] = "GET" if head
        begin
          @app.call(env)
        ensure
          env["REQUEST_METHOD"] = "HEAD" if head
          env.merge!(saved)
        end
      end

      # The path of +file+ below the root, or nil when it is not below it.
      def relative(file)
        path = ::File.expand_path(file.to_s)
        rel = below(path, @root)
        return rel if rel

        below(::File.realpath(path), @real_root)
      rescue SystemCallError
        nil
      end

      def below(path, root)
        return nil unless path.start_with?("#{root.chomp('/')}/")

        rel = path[(root.chomp("/").length + 1)..]
        rel.empty? ? nil : rel
      end

      def header(headers, name)
        key = headers.keys.find { |k| k.to_s.downcase == name }
        key && headers[key]
      end

      def delete(headers, name)
        headers.keys.each { |k| headers.delete(k) if k.to_s.downcase == name }
      end

      def close(body)
        body.close if body.respond_to?(:close)
      end

      def warn_to(env, message)
        (env["rack.errors"] || $stderr).puts(message)
      end

      # An empty body that closes the app's file body when the server closes it.
      class Closing
        def initialize(body)
          @body = body
        end

        def each; end

        def close
          @body.close if @body.respond_to?(:close)
        end
      end
    end
  end
end
