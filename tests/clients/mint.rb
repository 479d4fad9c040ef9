# Mints SDL1 links with the Ruby gem for tests/client_packages.rs: reads {"key_hex", "kid", "cases":
# [{"path", "exp", "nbf", "prefix", "network", "filename", "disposition"}]} on stdin, prints the
# links as a JSON array. Run with RUBYLIB=clients/ruby/lib.
require "json"
require "xsendfiled"

spec = JSON.parse($stdin.read)
key = Xsendfiled.secret("hex:#{spec.fetch('key_hex')}")
links = spec.fetch("cases").map do |c|
  opts = { key: key, kid: spec.fetch("kid"), expires_at: c.fetch("exp") }
  { not_before: "nbf", prefix: "prefix", network: "network", filename: "filename", disposition: "disposition" }
    .each { |opt, field| opts[opt] = c[field] unless c[field].nil? }
  Xsendfiled.sign(c.fetch("path"), **opts)
end
puts JSON.generate(links)
