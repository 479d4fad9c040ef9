# An application delegating a download to xsendfiled, as a bare Rack app (served by puma behind
# nginx proxy_pass; Rails and Sinatra set the same two headers on their response).
#
# It decides *who* may have *which* file, then answers nginx with X-Accel-Redirect to the internal
# /_xsendfiled/ location. xsendfiled checks the path, names the file for nginx and sets
# Content-Type and Content-Disposition. (The test suite runs this file: tests/app_delegation_proxy.rs.)
# Only the standard library: no rack gem needed.

require "erb"
require "uri"

run(lambda do |env|
  cookies = env.fetch("HTTP_COOKIE", "").split(/;\s*/).to_h { |pair| pair.split("=", 2) }
  next [403, { "content-type" => "text/plain" }, ["please log in\n"]] unless cookies["session"] == "alice"

  query = URI.decode_www_form(env.fetch("QUERY_STRING", "")).to_h
  wanted = query.fetch("file", "")
  path = wanted.split("/", -1).map { |segment| ERB::Util.url_encode(segment) }.join("/")
  name = ERB::Util.url_encode("Alice's #{File.basename(wanted)}")
  headers = { "content-type" => "application/octet-stream",
              "x-accel-redirect" => "/_xsendfiled/#{path}?filename=#{name}&disposition=attachment" }
  # An app that names the download itself, as send_file does: nginx passes this header on to
  # xsendfiled as XSENDFILED_APP_DISPOSITION, and xsendfiled adds none.
  headers["content-disposition"] = 'attachment; filename="chosen-by-app.txt"' if query["own"] == "1"
  # No charset: nginx would keep this reply's charset on the file it finally sends.
  [200, headers, []]
end)
