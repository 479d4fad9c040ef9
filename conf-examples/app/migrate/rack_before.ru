# Before: a Sinatra app whose send_file Rack::Sendfile turns into X-Accel-Redirect (docs/migrate-rack.md).
require "sinatra/base"

class Downloads < Sinatra::Base
  FILES = ENV.fetch("FILES_ROOT")

  use Rack::Sendfile, "X-Accel-Redirect", [["#{FILES}/", "/_files/"]]

  get "/download" do
    file = params.fetch("file", "")
    send_file File.join(FILES, file), filename: "Report of #{File.basename(file)}"
  end
end

run Downloads
