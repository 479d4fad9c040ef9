# frozen_string_literal: true

require_relative "lib/xsendfiled/version"

Gem::Specification.new do |s|
  s.name = "xsendfiled"
  s.version = Xsendfiled::VERSION
  s.summary = "Client for xsendfiled: SDL1 signed links, delegation headers, a Rack::Sendfile replacement"
  s.description = "Signs SDL1 download links byte-identical to `xsendfiled sign`, builds the X-Accel-Redirect " \
                  "headers that hand a download to xsendfiled behind nginx, and replaces Rack::Sendfile for " \
                  "apps that call send_file. Standard library only."
  s.authors = ["xsendfiled contributors"]
  s.licenses = ["MIT", "Apache-2.0"]
  s.files = Dir["lib/**/*.rb"] + ["README.md"]
  s.require_paths = ["lib"]
  s.required_ruby_version = ">= 2.7"
end
