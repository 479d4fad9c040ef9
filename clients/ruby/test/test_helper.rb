# frozen_string_literal: true

require "minitest/autorun"
require "json"
require "xsendfiled"

# The shared SDL1 vectors (clients/vectors/sdl1.json), made by the real `xsendfiled sign`.
module Vectors
  PATH = File.expand_path("../../vectors/sdl1.json", __dir__)

  def self.doc
    @doc ||= JSON.parse(File.read(PATH, encoding: "UTF-8"))
  end

  def self.secret(kid)
    [doc.fetch("keys").find { |k| k["kid"] == kid }.fetch("secret_hex")].pack("H*")
  end
end
