# frozen_string_literal: true

module Xsendfiled
  VERSION = "0.1.0"
end
