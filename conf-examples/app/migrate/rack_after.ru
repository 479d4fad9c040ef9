# After: the same app handing its send_file to xsendfiled (docs/migrate-rack.md).
require "sinatra/base"
require "xsendfiled"

class Downloads < Sinatra::Base
  FILES = ENV.fetch("FILES_ROOT")

  use Xsendfiled::Rack::Sendfile, root: FILES, internal_prefix: "/_xsendfiled"

  get "/download" do
    file = params.fetch("file", "")
    send_file File.join(FILES, file), filename: "Report of #{File.basename(file)}"
  end
end

run Downloads
