# A Sinatra app delegating downloads with the xsendfiled gem (clients/ruby), under puma behind nginx
# proxy_pass (conf-examples/nginx-app-delegation-proxy.conf). It decides *who* may have *which* file;
# xsendfiled checks the path and names the file; nginx sends it. (The test suite runs this file:
# tests/client_packages.rs, with FILES_ROOT the directory xsendfiled guards.)
#
#   /download?file=F           Xsendfiled.delegate: X-Accel-Redirect with the name the app chose
#   /download?file=F&own=1     the app also writes its own Content-Disposition: the only one sent
#   /download?file=F&via=send_file
#                              Sinatra's own send_file; Xsendfiled::Rack::Sendfile (in place of
#                              Rack::Sendfile) hands it to xsendfiled, with send_file's name
#   /download?file=F&ask=1     asks xsendfiled over its app socket (APP_SOCKET) and returns the
#                              answer as its own response (to_rack); a refused file gets the app's
#                              own 404 page

require "sinatra/base"
require "xsendfiled"

class Downloads < Sinatra::Base
  FILES = ENV.fetch("FILES_ROOT")
  ASKING = ENV["APP_SOCKET"] && Xsendfiled::Client.new(ENV["APP_SOCKET"])

  use Xsendfiled::Rack::Sendfile, root: FILES, internal_prefix: "/_xsendfiled"

  before do
    halt 403, { "content-type" => "text/plain" }, "please log in\n" unless request.cookies["session"] == "alice"
  end

  get "/download" do
    file = params.fetch("file", "")
    if params["via"] == "send_file"
      send_file File.join(FILES, file), filename: "Report of #{File.basename(file)}"
    elsif params["ask"] == "1" && ASKING
      answer = ASKING.ask(file, filename: "Alice's #{File.basename(file)}", disposition: "attachment")
      halt 404, { "content-type" => "text/plain" }, "no such file, said xsendfiled\n" if answer.status == 404
      # Its headers (X-Accel-Redirect, Content-Type, Content-Disposition...) are this response's;
      # nginx follows X-Accel-Redirect and sends the file.
      halt answer.to_rack
    else
      headers Xsendfiled.delegate(file, filename: "Alice's #{File.basename(file)}", disposition: "attachment")
      # An app that names the download itself: nginx passes this header on to xsendfiled as
      # XSENDFILED_APP_DISPOSITION, and xsendfiled adds none.
      headers "content-disposition" => 'attachment; filename="chosen-by-app.txt"' if params["own"] == "1"
      ""
    end
  end
end

run Downloads
