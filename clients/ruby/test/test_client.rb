# frozen_string_literal: true

require_relative "test_helper"
require "fileutils"
require "tmpdir"

# Xsendfiled::Client against a real xsendfiled with --app-socket: $XSENDFILED_BIN, else the repo's
# target/debug/xsendfiled (cargo build). Fails when there is none.
class TestClient < Minitest::Test
  BIN = ENV.fetch("XSENDFILED_BIN") { File.expand_path("../../../target/debug/xsendfiled", __dir__) }

  def setup
    raise "no xsendfiled at #{BIN}: run cargo build (or set XSENDFILED_BIN)" unless File.executable?(BIN)

    @dir = Dir.mktmpdir("xsf-ruby-ask")
    root = File.join(@dir, "root")
    FileUtils.mkdir_p(File.join(root, "dir with space"))
    FileUtils.mkdir_p(File.join(@dir, "outside"))
    File.write(File.join(root, "plain.txt"), "plain\n")
    File.write(File.join(root, "dir with space", "ä ö.txt"), "nested unicode\n")
    File.write(File.join(root, "100%.txt"), "percent\n")
    File.write(File.join(root, ".hidden"), "hidden\n")
    File.write(File.join(@dir, "outside", "secret.txt"), "SECRET\n")
    File.symlink(File.join(@dir, "outside", "secret.txt"), File.join(root, "link-out.txt"))
    @sock = File.join(@dir, "app.sock")
    @pid = spawn(BIN, "--root", root, "--internal-prefix", "/_protected", "--app-socket", @sock,
                 out: File.join(@dir, "out.log"), err: File.join(@dir, "err.log"))
    200.times do
      break if File.socket?(@sock)
      if Process.wait(@pid, Process::WNOHANG)
        @pid = nil
        raise "xsendfiled exited: #{File.read(File.join(@dir, 'err.log'))}"
      end

      sleep 0.05
    end
    raise "xsendfiled did not create #{@sock}: #{File.read(File.join(@dir, 'err.log'))}" unless File.socket?(@sock)

    @client = Xsendfiled::Client.new(@sock)
  end

  def teardown
    if @pid
      Process.kill("TERM", @pid)
      Process.wait(@pid)
    end
    FileUtils.rm_rf(@dir) if @dir
  end

  def test_send_carries_the_offload_reply_and_the_file_facts
    a = @client.ask("dir with space/ä ö.txt", filename: "Alice's ä.txt", disposition: "attachment")
    assert a.send?
    assert_equal [200, "send", nil], [a.status, a.decision, a.reason]
    assert_equal "/_protected/dir%20with%20space/%C3%A4%20%C3%B6.txt", a["X-Accel-Redirect"]
    assert_equal "text/plain", a["content-type"]
    assert_equal "attachment; filename=\"Alice's _.txt\"; filename*=UTF-8''Alice%27s%20%C3%A4.txt",
                 a["Content-Disposition"]
    assert_equal ["dir with space/ä ö.txt", 15], [a.file, a.size]
    assert_in_delta File.mtime(File.join(@dir, "root", "dir with space", "ä ö.txt")).to_i, a.mtime, 1
    names = a.headers.map { |n, _| n.downcase }
    assert names.none? { |n| n.start_with?("xsendfiled-") || %w[content-length connection date].include?(n) }, names
    assert_equal 1, names.count("content-disposition")
  end

  def test_to_rack_is_a_response_without_body
    status, headers, body = @client.ask("100%.txt").to_rack
    assert_equal [200, []], [status, body]
    assert_equal "/_protected/100%25.txt", headers["x-accel-redirect"]
    assert_equal headers.keys.map(&:downcase), headers.keys
    refute headers.key?("xsendfiled-decision")
  end

  def test_refusals_are_answers_with_their_reasons
    [".hidden", "link-out.txt", "missing.txt", "../outside/secret.txt"].each do |path|
      a = @client.ask(path)
      refute a.send?, path
      assert_equal [404, "refuse"], [a.status, a.decision], path
      refute_nil a.reason, path
      assert_nil a.file, path
      assert_nil a["X-Accel-Redirect"], path
      assert_equal "no-store", a["Cache-Control"], path
      status, headers, body = a.to_rack
      assert_equal [404, []], [status, body]
      refute headers.key?("xsendfiled-reason")
    end
  end

  def test_head_is_asked_as_head
    a = @client.ask("plain.txt", method: "HEAD")
    assert_equal [200, "plain.txt", 6], [a.status, a.file, a.size]
  end

  def test_a_rack_app_answers_with_the_answer
    require "rack"
    app = lambda do |env|
      file = Rack::Request.new(env).params.fetch("file")
      a = @client.ask(file, filename: "Report of #{File.basename(file)}")
      next [404, { "content-type" => "text/plain" }, ["no such report\n"]] unless a.send?

      a.to_rack
    end
    r = Rack::MockRequest.new(app).get("/?file=plain.txt")
    assert_equal 200, r.status
    assert_equal "/_protected/plain.txt", r.headers["x-accel-redirect"]
    assert_equal "", r.body
    r = Rack::MockRequest.new(app).get("/?file=.hidden")
    assert_equal [404, "no such report\n"], [r.status, r.body]
  end

  def test_bad_arguments_and_a_missing_socket
    assert_raises(Xsendfiled::Error) { @client.ask("plain.txt", method: "POST") }
    assert_raises(Xsendfiled::Error) { @client.ask("plain.txt", disposition: "download") }
    assert_raises(Xsendfiled::Error) { Xsendfiled::Client.new(File.join(@dir, "nope.sock")).ask("plain.txt") }
  end
end
