# frozen_string_literal: true

require_relative "test_helper"
require "tmpdir"
require "fileutils"
require "rack"
require "rack/lint"
require "rack/files"
require "rack/head"
require "rack/mock"
require "sinatra/base"

class TestRackSendfile < Minitest::Test
  # A body as send_file answers: a file, closed by the server.
  class FileBody
    attr_reader :closed

    def initialize(path)
      @path = path
    end

    def to_path
      @path
    end

    def each
      yield File.binread(@path)
    end

    def close
      @closed = true
    end
  end

  def setup
    @dir = Dir.mktmpdir("xsfd-rack-")
    @root = File.join(@dir, "files")
    FileUtils.mkdir_p([File.join(@root, "sub"), File.join(@dir, "files-private")])
    File.write(File.join(@root, "a b.txt"), "space\n")
    File.write(File.join(@root, "sub/q?#%41.txt"), "tricky\n")
    File.write(File.join(@dir, "files-private/secret.txt"), "SECRET\n")
  end

  def teardown
    FileUtils.rm_rf(@dir)
  end

  def middleware(status: 200, headers: {}, body: nil, **opts)
    app = ->(_env) { [status, headers.dup, body] }
    Xsendfiled::Rack::Sendfile.new(app, root: @root, **opts)
  end

  def env(extra = {})
    { "REQUEST_METHOD" => "GET", "PATH_INFO" => "/", "rack.errors" => StringIO.new }.merge(extra)
  end

  def test_a_file_under_the_root_becomes_x_accel_redirect_with_the_apps_name
    body = FileBody.new(File.join(@root, "sub/q?#%41.txt"))
    headers = { "Content-Type" => "text/plain;charset=utf-8", "Content-Length" => "7",
                "Content-Disposition" => %(attachment; filename="r_sum_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt) }
    status, h, out = middleware(headers: headers, body: body).call(env)
    assert_equal 200, status
    assert_equal "/_xsendfiled/sub/q%3F%23%2541.txt?filename=r%C3%A9sum%C3%A9.txt&disposition=attachment",
                 h["x-accel-redirect"]
    assert_equal "application/octet-stream", h["content-type"]
    assert_equal "0", h["content-length"]
    refute h.keys.any? { |k| k.downcase == "content-disposition" }, "xsendfiled writes the only one"
    refute h.key?("Content-Type")
    chunks = []
    out.each { |c| chunks << c }
    assert_empty chunks
    refute body.closed
    out.close
    assert body.closed
  end

  def test_no_disposition_from_the_app_lets_xsendfiled_decide
    _, h, = middleware(body: FileBody.new(File.join(@root, "a b.txt"))).call(env)
    assert_equal "/_xsendfiled/a%20b.txt", h["x-accel-redirect"]
  end

  def test_an_unreadable_disposition_stays_as_the_app_wrote_it
    cd = %(attachment; filename*=ISO-8859-1''%E4.txt)
    _, h, = middleware(headers: { "content-disposition" => cd }, body: FileBody.new(File.join(@root, "a b.txt"))).call(env)
    assert_equal cd, h["content-disposition"]
    assert_equal "/_xsendfiled/a%20b.txt", h["x-accel-redirect"]
  end

  def test_client_headers_choose_nothing
    hostile = env("HTTP_X_SENDFILE_TYPE" => "X-Sendfile", "HTTP_X_ACCEL_MAPPING" => "#{@dir}/=/pwn/",
                  "sendfile.type" => "X-Lighttpd-Send-File")
    _, h, = middleware(body: FileBody.new(File.join(@root, "a b.txt"))).call(hostile)
    assert_equal "/_xsendfiled/a%20b.txt", h["x-accel-redirect"]
    refute h.key?("X-Sendfile")
    refute h.key?("X-Lighttpd-Send-File")
    # A file outside the root is not mapped by any header either.
    status, h, = middleware(body: FileBody.new(File.join(@dir, "files-private/secret.txt"))).call(hostile)
    assert_equal 404, status
    refute h.key?("x-accel-redirect")
  end

  def test_the_root_is_compared_by_whole_components
    body = FileBody.new(File.join(@dir, "files-private/secret.txt"))
    e = env
    status, h, out = middleware(body: body).call(e)
    assert_equal [404, nil], [status, h["x-accel-redirect"]]
    assert body.closed
    assert_includes e["rack.errors"].string, "outside"
    refute_includes out.to_a.join, "SECRET"
    ["#{@root}/../files-private/secret.txt", @root, "#{@root}/"].each do |p|
      status, = middleware(body: FileBody.new(p)).call(env)
      assert_equal 404, status, p
    end
    # outside: :pass leaves it to the app, as Rack::Sendfile does without a mapping.
    status, h, out = middleware(body: body, outside: :pass).call(env)
    assert_equal [200, nil, out], [status, h["x-accel-redirect"], body]
  end

  def test_a_root_reached_through_a_symlink
    File.symlink(@root, File.join(@dir, "current"))
    mw = Xsendfiled::Rack::Sendfile.new(->(_) { [200, {}, FileBody.new(File.join(@root, "a b.txt"))] },
                                        root: File.join(@dir, "current"))
    assert_equal "/_xsendfiled/a%20b.txt", mw.call(env)[1]["x-accel-redirect"]
  end

  def test_only_200_and_206_are_offloaded
    [404, 500, 304].each do |code|
      body = FileBody.new(File.join(@root, "a b.txt"))
      status, h, out = middleware(status: code, body: body).call(env)
      assert_equal [code, nil, body], [status, h["x-accel-redirect"], out]
    end
    status, h, = middleware(status: 206, headers: { "content-range" => "bytes 0-1/6" },
                            body: FileBody.new(File.join(@root, "a b.txt"))).call(env)
    assert_equal [200, nil], [status, h["content-range"]]
    assert_equal "/_xsendfiled/a%20b.txt", h["x-accel-redirect"]
    status, h, = middleware(body: ["not a file"]).call(env)
    assert_equal [200, nil], [status, h["x-accel-redirect"]]
  end

  def test_under_rack_lint_with_rack_files_ranges_and_head
    files = Rack::Files.new(@root)
    seen = []
    spy = ->(e) { seen << e.slice("REQUEST_METHOD", "HTTP_RANGE"); files.call(e) }
    app = Rack::Lint.new(Xsendfiled::Rack::Sendfile.new(Rack::Head.new(spy), root: @root))
    req = Rack::MockRequest.new(app)
    r = req.get("/a%20b.txt")
    assert_equal [200, "/_xsendfiled/a%20b.txt", ""], [r.status, r.headers["x-accel-redirect"], r.body]
    r = req.get("/a%20b.txt", "HTTP_RANGE" => "bytes=1-3")
    assert_equal [200, "/_xsendfiled/a%20b.txt", nil], [r.status, r.headers["x-accel-redirect"], r.headers["content-range"]]
    r = req.request("HEAD", "/sub/q%3F%23%2541.txt")
    assert_equal [200, "/_xsendfiled/sub/q%3F%23%2541.txt"], [r.status, r.headers["x-accel-redirect"]]
    r = req.get("/missing.txt")
    assert_equal [404, nil], [r.status, r.headers["x-accel-redirect"]]
    r = req.request("HEAD", "/missing.txt")
    assert_equal [404, nil, ""], [r.status, r.headers["x-accel-redirect"], r.body]
    assert_equal [{ "REQUEST_METHOD" => "GET" }], seen.uniq, "the app saw GET and no Range"
    e = env("REQUEST_METHOD" => "HEAD", "HTTP_RANGE" => "bytes=0-1")
    Xsendfiled::Rack::Sendfile.new(files, root: @root).call(e)
    assert_equal %w[HEAD bytes=0-1], e.values_at("REQUEST_METHOD", "HTTP_RANGE"), "restored for the middleware around"
  end

  def test_sinatra_send_file_with_its_own_name
    root = @root
    app = Class.new(Sinatra::Base) do
      set :environment, :test
      use Xsendfiled::Rack::Sendfile, root: root
      get "/f" do
        send_file File.join(root, params["file"]), filename: params["name"], disposition: params["disp"]
      end
    end
    req = Rack::MockRequest.new(app)
    r = req.get("/f?file=a%20b.txt&name=#{CGI.escape('Q3 "x".txt')}")
    assert_equal 200, r.status
    assert_equal "/_xsendfiled/a%20b.txt?filename=Q3+%22x%22.txt&disposition=attachment",
                 r.headers["x-accel-redirect"], "Sinatra writes a quote as %22"
    assert_nil r.headers["content-disposition"]
    assert_equal "application/octet-stream", r.headers["content-type"]
    r = req.request("HEAD", "/f?file=sub/q%3F%23%2541.txt&disp=inline")
    assert_equal [200, "/_xsendfiled/sub/q%3F%23%2541.txt?filename=q%3F%23%2541.txt&disposition=inline"],
                 [r.status, r.headers["x-accel-redirect"]]
    assert_equal 404, req.get("/f?file=missing.txt").status
    assert_equal 404, req.get("/f?file=../files-private/secret.txt").status
  end
end
