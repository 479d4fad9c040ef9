# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xsendfiled_global_optspecs
    string join \n config= root= map= backend= internal-prefix= strip-prefix= allow-hidden disposition= cache-control= expires= accel-expires= limit-rate= buffering= access-log= keys= allow-readable-keys require-signature max-link-lifetime= state= state-timeout= grant-window= token-scheme= token-timeout= token-algorithm= token-ip-binding secure-link-template= secdownload-path-segments= secdownload-hash-querystr listen= app-socket= metrics-listen= ping-path= status-path= socket-mode= socket-owner= socket-group= user= group= max-connections= max-params-bytes= max-params= max-stdin-bytes= idle-timeout= request-timeout= drain-timeout= storage-timeout= storage-threads= s3-endpoint= s3-region= s3-path-style s3-internal-prefix= s3-presign-lifetime= s3-head-ttl= s3-head-cache= s3-timeout= threads= log-level= v/verbose q/quiet h/help V/version
end

function __fish_xsendfiled_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_xsendfiled_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_xsendfiled_using_subcommand
    set -l cmd (__fish_xsendfiled_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l config -d 'Configuration file (TOML): one key per option, named as the long option without its dashes (`internal-prefix = "/_protected"`), a flag as true or false, a repeatable option as an array (`root = ["/srv/a", "/srv/b"]`). Precedence: file < environment < command line; `check --show-config` shows where each value came from. Re-read on SIGHUP' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l root -d 'Directory whose regular files may be sent; nothing outside the roots ever is. Repeat for several roots (the first is the default; the environment variable separates them with `:`)' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l map -d 'Redirect map FS_PREFIX=URI_PREFIX[,...]: the internal URI prefix for files under each file-system prefix (most specific wins; a prefix given twice is an error); needed for every root after the first' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l backend -d 'Offload mechanism of the web server in front' -r -f -a "nginx\t'`X-Accel-Redirect` to an `internal` location that aliases the root'
apache\t'`X-Sendfile` with the absolute path as raw bytes, for Apache mod_xsendfile (0.12, or 1.0 with `XSendFileUnescape Off`)'
lighttpd\t'`X-Sendfile` with the absolute path percent-encoded, for lighttpd'
local-redirect\t'An RFC 3875 CGI local redirect (`Location: <internal-prefix>/<path>`), for Apache mod_fcgid and mod_cgi; for an s3:// object, to the presigned path under --s3-internal-prefix'
caddy\t'`X-Accel-Redirect: /<path>` for Caddy\'s `handle_response` + `rewrite` + `file_server`'
serve\t'xsendfiled sends the bytes itself, with Range and conditional requests, from a local file or an s3:// object (servers without offload, development)'
authorizer\t'Only allow or deny (200/403), for servers that send the file themselves after asking (nginx auth_request, FastCGI authorizers)'"
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l internal-prefix -d 'URI of the location that aliases --root: nginx `internal` location, or the Apache `Alias` target of a local redirect (e.g. /_protected)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l strip-prefix -d 'Public URL prefix removed from the request path before resolving (must match whole segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l disposition -d 'Content-Disposition: auto (attachment for HTML, SVG, any XML or +xml type, JavaScript and unknown types, inline otherwise), inline, attachment, or none (only when a signed link or the server asks)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l cache-control -d 'Cache-Control for downloads (downloads allowed by a signed link are always private)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l expires -d 'Send `Expires` this long after each response (e.g. 1h; at most 3650d)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l accel-expires -d 'nginx: X-Accel-Expires seconds (caching of xsendfiled\'s reply by fastcgi_cache)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l limit-rate -d 'Bandwidth limit per download in bytes/s (nginx X-Accel-Limit-Rate, lighttpd KBytes-per-second)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l buffering -d 'nginx: X-Accel-Buffering yes|no (matters when xsendfiled sends the bytes itself)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l access-log -d 'Log every decision as one JSON line to FILE (reopened on SIGHUP), or to stderr with `-`' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l keys -d 'Key ring for signed links: one `KID hex:SECRET` or `KID b64:SECRET` per line; reloaded on SIGHUP. Up to 10,000 keys for sdl1; 16 for compatibility schemes, whose links name no key' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l max-link-lifetime -d 'Longest lifetime a signed link may have left; longer ones are refused (403)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l state -d 'Where limited-use links (signed `uses`) are counted and revocations kept: a SQLite FILE (created if missing; several processes may share it) or redis://HOST:PORT[/DB] for several nodes. Without it, a link with `uses` is refused (503)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l state-timeout -d 'Longest wait for the state store; a limited-use link it does not answer in time is refused (503), failing closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l grant-window -d 'How long one use of a limited-use link stays open for its client address (Range requests, parallel segments and resumed downloads in it are the same use); a signed `gw` wins' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l token-scheme -d 'Signed-link scheme: sdl1, or a compatibility scheme for links issued for another module' -r -f -a "sdl1\t'HMAC-SHA256 links with key ids, expiry, prefix scope, network binding and signed claims'
mod-auth-token\t'Apache mod_auth_token: /PREFIX/<md5>/<hex time>/path'
wsgi-xsendfile\t'wsgi-xsendfile AuthTokenApplication: /<digest>-<hex time>/path'
secdownload\t'lighttpd mod_secdownload: /PREFIX/<mac>/<hex time>/path'
secure-link\t'nginx secure_link: ?md5=<b64url>&expires=<unix>'
secure-link-secret\t'nginx secure_link_secret: /PREFIX/<md5>/link (no expiry)'"
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l token-timeout -d 'Compatibility schemes: how long a link lives after its issue time (default: 60 for mod-auth-token and secdownload, 120 for wsgi-xsendfile)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l token-algorithm -d 'wsgi-xsendfile: md5 (default), sha1, sha224, sha256, sha384, sha512; secdownload: md5, hmac-sha1, hmac-sha256 (required)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l secure-link-template -d 'secure-link: the secure_link_md5 expression, with {expires} {uri} {request_uri} {remote_addr} {secret} {arg:NAME}; the link carries ?md5=...&expires=....' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l secdownload-path-segments -d 'secdownload: sign only the first N path segments (secdownload.path-segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l listen -d 'Where to listen: HOST:PORT, [V6]:PORT, unix:PATH or fd:N (FastCGI); http://HOST:PORT (HTTP/1.1 listener for nginx proxy_pass with upstream keepalive, or auth_request)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l app-socket -d 'HTTP/1.1 on a Unix socket at PATH for applications that ask xsendfiled directly (the "ask" way): trusted like an `internal` location (the query is the trusted query), answered with the web server\'s reply plus `Xsendfiled-*` fields and no body. Created like --listen unix:PATH (--socket-mode, --socket-owner, --socket-group), removed on exit; alone or with any --listen. Not with --backend serve' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l metrics-listen -d 'Serve GET /metrics (Prometheus text, or OpenMetrics when asked), /healthz and /readyz on HOST:PORT or unix:PATH (off by default; keep it on loopback or a Unix socket). The series carry counts, never paths' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l ping-path -d 'Answer `pong` to a FastCGI request for this path (php-fpm\'s ping.path), e.g. /ping' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l status-path -d 'Answer the status page to a FastCGI request for this path (php-fpm\'s pm.status_path), e.g. /status: plain text, `?json` or `?openmetrics`. Expose it only to trusted clients' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l socket-mode -d 'Permissions of the Unix sockets created by --listen unix:PATH and --app-socket (octal)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l socket-owner -d 'Owner of those Unix sockets, USER or USER:GROUP (names or numeric ids; changing the owner needs root). Default: the user that starts xsendfiled' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l socket-group -d 'Group of those Unix sockets (name or numeric id): the web server\'s, e.g. www-data, so that its workers may connect with --socket-mode 0660' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l user -d 'When started as root: run as USER (name or numeric id) once the socket is bound and the root, key file and access log are open, with USER\'s supplementary groups' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l group -d 'With --user: run with this primary group (name or numeric id) instead of USER\'s' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l max-connections -d 'Connections served at once (further ones wait in the listen backlog)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l max-params-bytes -d 'Largest FastCGI PARAMS stream of one request, in bytes' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l max-params -d 'Most name-value pairs in one request' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l max-stdin-bytes -d 'Request body bytes drained before answering; past it the reply is sent and the connection closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l idle-timeout -d 'Close a connection idle between requests for this long (e.g. 60s, 500ms, 2m)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l request-timeout -d 'Close a connection whose request is not complete this long after it began' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l drain-timeout -d 'On SIGTERM/SIGINT, wait this long for requests in progress before exiting' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l storage-timeout -d 'Longest a file lookup may wait for storage (a hung NFS or FUSE mount): past it, 504. The default is far beyond a healthy disk or NFS lookup and well inside nginx\'s 60 s' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l storage-threads -d 'Lookups that may wait for storage at once, a thread each (one root may use half of them)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-endpoint -d 'Object-store roots (`--root s3://BUCKET[/PREFIX]`): the S3 endpoint, e.g. http://127.0.0.1:9000 (MinIO, Ceph RGW, Garage) or https://s3.eu-west-1.amazonaws.com. Default: AWS for --s3-region. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) with AWS_PROFILE; never from the command line. An https:// endpoint is verified against the system\'s CA store, or SSL_CERT_FILE / SSL_CERT_DIR when set' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-region -d 'The region requests to the object store are signed for' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-internal-prefix -d 'The web server\'s internal location that fetches an object from the presigned URL in `X-Xsendfiled-Url` (nginx: conf-examples/nginx-s3.conf)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-presign-lifetime -d 'How long a presigned URL handed to the web server stays valid (1s to 1h)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-head-ttl -d 'How long the answer of a HEAD (an object and its size, or "no such key") is trusted; 0 asks the store on every request' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-head-cache -d 'At most this many keys in the HEAD cache of each bucket' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-timeout -d 'A HEAD to the object store that takes longer fails with 504 (connection refused: 502). The HEAD runs on the storage pool, whose --storage-timeout bounds it too: raise both' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l threads -d 'Worker threads (1 runs everything on one thread, the fastest on small machines)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l log-level -d 'Log level: error, warn, info, debug, trace (RUST_LOG, when set, takes precedence)' -r
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l allow-hidden -d 'Serve files and directories whose names start with a dot (refused with 404 by default)'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l allow-readable-keys -d 'Accept a key file that group or other users can read'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l require-signature -d 'Every download needs a valid signed link (the server may decide per location with the trusted parameter XSENDFILED_AUTH=signed|none)'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l token-ip-binding -d 'mod-auth-token: the client address is part of the token (AuthTokenLimitByIp)'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l secdownload-hash-querystr -d 'secdownload: the query string is part of the MAC (secdownload.hash-querystr)'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -l s3-path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY (MinIO and most self-hosted stores) rather than BUCKET.ENDPOINT/KEY'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -s v -l verbose -d 'More log output (repeatable); added to --log-level'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -s q -l quiet -d 'Less log output (repeatable)'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -s V -l version -d 'Print version'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -f -a "serve" -d 'Run the FastCGI responder (or answer one CGI request); the default'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -f -a "sign" -d 'Print a signed link (path and query) for PATH, ready to append to the site\'s origin'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -f -a "check" -d 'Validate the configuration (every problem at once), and explain, step by step, what would be answered for each URI given'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -f -a "revoke" -d 'Revoke one signed link (--id) or every link of a key (--kid) in the state store: every daemon using that store refuses them (403) within a second'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -f -a "doctor" -d 'Ask the live web server for URL like a client, compare with what xsendfiled decides for the same path, and name the likely cause of a difference (exit 1) and its fix'
complete -c xsendfiled -n "__fish_xsendfiled_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l config -d 'Configuration file (TOML): one key per option, named as the long option without its dashes (`internal-prefix = "/_protected"`), a flag as true or false, a repeatable option as an array (`root = ["/srv/a", "/srv/b"]`). Precedence: file < environment < command line; `check --show-config` shows where each value came from. Re-read on SIGHUP' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l root -d 'Directory whose regular files may be sent; nothing outside the roots ever is. Repeat for several roots (the first is the default; the environment variable separates them with `:`)' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l map -d 'Redirect map FS_PREFIX=URI_PREFIX[,...]: the internal URI prefix for files under each file-system prefix (most specific wins; a prefix given twice is an error); needed for every root after the first' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l backend -d 'Offload mechanism of the web server in front' -r -f -a "nginx\t'`X-Accel-Redirect` to an `internal` location that aliases the root'
apache\t'`X-Sendfile` with the absolute path as raw bytes, for Apache mod_xsendfile (0.12, or 1.0 with `XSendFileUnescape Off`)'
lighttpd\t'`X-Sendfile` with the absolute path percent-encoded, for lighttpd'
local-redirect\t'An RFC 3875 CGI local redirect (`Location: <internal-prefix>/<path>`), for Apache mod_fcgid and mod_cgi; for an s3:// object, to the presigned path under --s3-internal-prefix'
caddy\t'`X-Accel-Redirect: /<path>` for Caddy\'s `handle_response` + `rewrite` + `file_server`'
serve\t'xsendfiled sends the bytes itself, with Range and conditional requests, from a local file or an s3:// object (servers without offload, development)'
authorizer\t'Only allow or deny (200/403), for servers that send the file themselves after asking (nginx auth_request, FastCGI authorizers)'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l internal-prefix -d 'URI of the location that aliases --root: nginx `internal` location, or the Apache `Alias` target of a local redirect (e.g. /_protected)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l strip-prefix -d 'Public URL prefix removed from the request path before resolving (must match whole segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l disposition -d 'Content-Disposition: auto (attachment for HTML, SVG, any XML or +xml type, JavaScript and unknown types, inline otherwise), inline, attachment, or none (only when a signed link or the server asks)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l cache-control -d 'Cache-Control for downloads (downloads allowed by a signed link are always private)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l expires -d 'Send `Expires` this long after each response (e.g. 1h; at most 3650d)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l accel-expires -d 'nginx: X-Accel-Expires seconds (caching of xsendfiled\'s reply by fastcgi_cache)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l limit-rate -d 'Bandwidth limit per download in bytes/s (nginx X-Accel-Limit-Rate, lighttpd KBytes-per-second)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l buffering -d 'nginx: X-Accel-Buffering yes|no (matters when xsendfiled sends the bytes itself)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l access-log -d 'Log every decision as one JSON line to FILE (reopened on SIGHUP), or to stderr with `-`' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l keys -d 'Key ring for signed links: one `KID hex:SECRET` or `KID b64:SECRET` per line; reloaded on SIGHUP. Up to 10,000 keys for sdl1; 16 for compatibility schemes, whose links name no key' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l max-link-lifetime -d 'Longest lifetime a signed link may have left; longer ones are refused (403)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l state -d 'Where limited-use links (signed `uses`) are counted and revocations kept: a SQLite FILE (created if missing; several processes may share it) or redis://HOST:PORT[/DB] for several nodes. Without it, a link with `uses` is refused (503)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l state-timeout -d 'Longest wait for the state store; a limited-use link it does not answer in time is refused (503), failing closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l grant-window -d 'How long one use of a limited-use link stays open for its client address (Range requests, parallel segments and resumed downloads in it are the same use); a signed `gw` wins' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l token-scheme -d 'Signed-link scheme: sdl1, or a compatibility scheme for links issued for another module' -r -f -a "sdl1\t'HMAC-SHA256 links with key ids, expiry, prefix scope, network binding and signed claims'
mod-auth-token\t'Apache mod_auth_token: /PREFIX/<md5>/<hex time>/path'
wsgi-xsendfile\t'wsgi-xsendfile AuthTokenApplication: /<digest>-<hex time>/path'
secdownload\t'lighttpd mod_secdownload: /PREFIX/<mac>/<hex time>/path'
secure-link\t'nginx secure_link: ?md5=<b64url>&expires=<unix>'
secure-link-secret\t'nginx secure_link_secret: /PREFIX/<md5>/link (no expiry)'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l token-timeout -d 'Compatibility schemes: how long a link lives after its issue time (default: 60 for mod-auth-token and secdownload, 120 for wsgi-xsendfile)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l token-algorithm -d 'wsgi-xsendfile: md5 (default), sha1, sha224, sha256, sha384, sha512; secdownload: md5, hmac-sha1, hmac-sha256 (required)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l secure-link-template -d 'secure-link: the secure_link_md5 expression, with {expires} {uri} {request_uri} {remote_addr} {secret} {arg:NAME}; the link carries ?md5=...&expires=....' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l secdownload-path-segments -d 'secdownload: sign only the first N path segments (secdownload.path-segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l listen -d 'Where to listen: HOST:PORT, [V6]:PORT, unix:PATH or fd:N (FastCGI); http://HOST:PORT (HTTP/1.1 listener for nginx proxy_pass with upstream keepalive, or auth_request)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l app-socket -d 'HTTP/1.1 on a Unix socket at PATH for applications that ask xsendfiled directly (the "ask" way): trusted like an `internal` location (the query is the trusted query), answered with the web server\'s reply plus `Xsendfiled-*` fields and no body. Created like --listen unix:PATH (--socket-mode, --socket-owner, --socket-group), removed on exit; alone or with any --listen. Not with --backend serve' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l metrics-listen -d 'Serve GET /metrics (Prometheus text, or OpenMetrics when asked), /healthz and /readyz on HOST:PORT or unix:PATH (off by default; keep it on loopback or a Unix socket). The series carry counts, never paths' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l ping-path -d 'Answer `pong` to a FastCGI request for this path (php-fpm\'s ping.path), e.g. /ping' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l status-path -d 'Answer the status page to a FastCGI request for this path (php-fpm\'s pm.status_path), e.g. /status: plain text, `?json` or `?openmetrics`. Expose it only to trusted clients' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l socket-mode -d 'Permissions of the Unix sockets created by --listen unix:PATH and --app-socket (octal)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l socket-owner -d 'Owner of those Unix sockets, USER or USER:GROUP (names or numeric ids; changing the owner needs root). Default: the user that starts xsendfiled' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l socket-group -d 'Group of those Unix sockets (name or numeric id): the web server\'s, e.g. www-data, so that its workers may connect with --socket-mode 0660' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l user -d 'When started as root: run as USER (name or numeric id) once the socket is bound and the root, key file and access log are open, with USER\'s supplementary groups' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l group -d 'With --user: run with this primary group (name or numeric id) instead of USER\'s' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l max-connections -d 'Connections served at once (further ones wait in the listen backlog)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l max-params-bytes -d 'Largest FastCGI PARAMS stream of one request, in bytes' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l max-params -d 'Most name-value pairs in one request' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l max-stdin-bytes -d 'Request body bytes drained before answering; past it the reply is sent and the connection closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l idle-timeout -d 'Close a connection idle between requests for this long (e.g. 60s, 500ms, 2m)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l request-timeout -d 'Close a connection whose request is not complete this long after it began' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l drain-timeout -d 'On SIGTERM/SIGINT, wait this long for requests in progress before exiting' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l storage-timeout -d 'Longest a file lookup may wait for storage (a hung NFS or FUSE mount): past it, 504. The default is far beyond a healthy disk or NFS lookup and well inside nginx\'s 60 s' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l storage-threads -d 'Lookups that may wait for storage at once, a thread each (one root may use half of them)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-endpoint -d 'Object-store roots (`--root s3://BUCKET[/PREFIX]`): the S3 endpoint, e.g. http://127.0.0.1:9000 (MinIO, Ceph RGW, Garage) or https://s3.eu-west-1.amazonaws.com. Default: AWS for --s3-region. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) with AWS_PROFILE; never from the command line. An https:// endpoint is verified against the system\'s CA store, or SSL_CERT_FILE / SSL_CERT_DIR when set' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-region -d 'The region requests to the object store are signed for' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-internal-prefix -d 'The web server\'s internal location that fetches an object from the presigned URL in `X-Xsendfiled-Url` (nginx: conf-examples/nginx-s3.conf)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-presign-lifetime -d 'How long a presigned URL handed to the web server stays valid (1s to 1h)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-head-ttl -d 'How long the answer of a HEAD (an object and its size, or "no such key") is trusted; 0 asks the store on every request' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-head-cache -d 'At most this many keys in the HEAD cache of each bucket' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-timeout -d 'A HEAD to the object store that takes longer fails with 504 (connection refused: 502). The HEAD runs on the storage pool, whose --storage-timeout bounds it too: raise both' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l threads -d 'Worker threads (1 runs everything on one thread, the fastest on small machines)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l log-level -d 'Log level: error, warn, info, debug, trace (RUST_LOG, when set, takes precedence)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l allow-hidden -d 'Serve files and directories whose names start with a dot (refused with 404 by default)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l allow-readable-keys -d 'Accept a key file that group or other users can read'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l require-signature -d 'Every download needs a valid signed link (the server may decide per location with the trusted parameter XSENDFILED_AUTH=signed|none)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l token-ip-binding -d 'mod-auth-token: the client address is part of the token (AuthTokenLimitByIp)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l secdownload-hash-querystr -d 'secdownload: the query string is part of the MAC (secdownload.hash-querystr)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -l s3-path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY (MinIO and most self-hosted stores) rather than BUCKET.ENDPOINT/KEY'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -s v -l verbose -d 'More log output (repeatable); added to --log-level'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -s q -l quiet -d 'Less log output (repeatable)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l keys -d 'The key ring (the same file the daemon uses)' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l kid -d 'Key id to sign with (default: the first key in the file)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l expires-at -d 'When the link expires, as a point in time: Unix seconds (1796083944) or RFC 3339 UTC (2026-12-31T23:59:59Z)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l expires-in -d 'When the link expires, as a duration from now: 90s, 10m, 2h, 7d [default: 1h]. A link that lives longer than the daemon\'s --max-link-lifetime (default 7d) is refused until it has that long left; sign warns' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l expires -d 'Old, ambiguous spelling: a duration with its unit, @UNIX-SECONDS or RFC 3339; a bare number is refused (use --expires-at or --expires-in)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l not-before-at -d 'When the link starts to work, as a point in time (as --expires-at)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l not-before-in -d 'When the link starts to work, as a duration from now (as --expires-in)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l not-before -d 'Old, ambiguous spelling of --not-before-at / --not-before-in (as --expires)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l prefix -d 'Sign this prefix of PATH (ending with /) instead: one link for every file below it' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l ip -d 'Bind the link to a client network: ADDRESS/BITS (203.0.113.0/24, 2001:db8::/64) or an address (its /32 or /128)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l filename -d 'The name the browser saves the file under (signed into the link)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l disposition -d 'Signed Content-Disposition type' -r -f -a "attachment\t'Make the browser download the file'
inline\t'Let the browser display it'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l uses -d 'Limit the link to N uses (a daemon with --state counts them); sign chooses a random link id and prints it on stderr ("id ID")' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l grant-window -d 'How long one use stays open for its client (signed `gw`), e.g. 30m; default: the daemon\'s --grant-window. Needs --uses' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l id -d 'Give the link this id (1-64 of A-Z a-z 0-9 _ -) instead of a random one; with or without --uses, the link can then be revoked by id' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -l allow-readable-keys -d 'Accept a key file that group or other users can read'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l config -d 'Configuration file (TOML): one key per option, named as the long option without its dashes (`internal-prefix = "/_protected"`), a flag as true or false, a repeatable option as an array (`root = ["/srv/a", "/srv/b"]`). Precedence: file < environment < command line; `check --show-config` shows where each value came from. Re-read on SIGHUP' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l root -d 'Directory whose regular files may be sent; nothing outside the roots ever is. Repeat for several roots (the first is the default; the environment variable separates them with `:`)' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l map -d 'Redirect map FS_PREFIX=URI_PREFIX[,...]: the internal URI prefix for files under each file-system prefix (most specific wins; a prefix given twice is an error); needed for every root after the first' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l backend -d 'Offload mechanism of the web server in front' -r -f -a "nginx\t'`X-Accel-Redirect` to an `internal` location that aliases the root'
apache\t'`X-Sendfile` with the absolute path as raw bytes, for Apache mod_xsendfile (0.12, or 1.0 with `XSendFileUnescape Off`)'
lighttpd\t'`X-Sendfile` with the absolute path percent-encoded, for lighttpd'
local-redirect\t'An RFC 3875 CGI local redirect (`Location: <internal-prefix>/<path>`), for Apache mod_fcgid and mod_cgi; for an s3:// object, to the presigned path under --s3-internal-prefix'
caddy\t'`X-Accel-Redirect: /<path>` for Caddy\'s `handle_response` + `rewrite` + `file_server`'
serve\t'xsendfiled sends the bytes itself, with Range and conditional requests, from a local file or an s3:// object (servers without offload, development)'
authorizer\t'Only allow or deny (200/403), for servers that send the file themselves after asking (nginx auth_request, FastCGI authorizers)'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l internal-prefix -d 'URI of the location that aliases --root: nginx `internal` location, or the Apache `Alias` target of a local redirect (e.g. /_protected)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l strip-prefix -d 'Public URL prefix removed from the request path before resolving (must match whole segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l disposition -d 'Content-Disposition: auto (attachment for HTML, SVG, any XML or +xml type, JavaScript and unknown types, inline otherwise), inline, attachment, or none (only when a signed link or the server asks)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l cache-control -d 'Cache-Control for downloads (downloads allowed by a signed link are always private)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l expires -d 'Send `Expires` this long after each response (e.g. 1h; at most 3650d)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l accel-expires -d 'nginx: X-Accel-Expires seconds (caching of xsendfiled\'s reply by fastcgi_cache)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l limit-rate -d 'Bandwidth limit per download in bytes/s (nginx X-Accel-Limit-Rate, lighttpd KBytes-per-second)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l buffering -d 'nginx: X-Accel-Buffering yes|no (matters when xsendfiled sends the bytes itself)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l access-log -d 'Log every decision as one JSON line to FILE (reopened on SIGHUP), or to stderr with `-`' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l keys -d 'Key ring for signed links: one `KID hex:SECRET` or `KID b64:SECRET` per line; reloaded on SIGHUP. Up to 10,000 keys for sdl1; 16 for compatibility schemes, whose links name no key' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l max-link-lifetime -d 'Longest lifetime a signed link may have left; longer ones are refused (403)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l state -d 'Where limited-use links (signed `uses`) are counted and revocations kept: a SQLite FILE (created if missing; several processes may share it) or redis://HOST:PORT[/DB] for several nodes. Without it, a link with `uses` is refused (503)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l state-timeout -d 'Longest wait for the state store; a limited-use link it does not answer in time is refused (503), failing closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l grant-window -d 'How long one use of a limited-use link stays open for its client address (Range requests, parallel segments and resumed downloads in it are the same use); a signed `gw` wins' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l token-scheme -d 'Signed-link scheme: sdl1, or a compatibility scheme for links issued for another module' -r -f -a "sdl1\t'HMAC-SHA256 links with key ids, expiry, prefix scope, network binding and signed claims'
mod-auth-token\t'Apache mod_auth_token: /PREFIX/<md5>/<hex time>/path'
wsgi-xsendfile\t'wsgi-xsendfile AuthTokenApplication: /<digest>-<hex time>/path'
secdownload\t'lighttpd mod_secdownload: /PREFIX/<mac>/<hex time>/path'
secure-link\t'nginx secure_link: ?md5=<b64url>&expires=<unix>'
secure-link-secret\t'nginx secure_link_secret: /PREFIX/<md5>/link (no expiry)'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l token-timeout -d 'Compatibility schemes: how long a link lives after its issue time (default: 60 for mod-auth-token and secdownload, 120 for wsgi-xsendfile)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l token-algorithm -d 'wsgi-xsendfile: md5 (default), sha1, sha224, sha256, sha384, sha512; secdownload: md5, hmac-sha1, hmac-sha256 (required)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l secure-link-template -d 'secure-link: the secure_link_md5 expression, with {expires} {uri} {request_uri} {remote_addr} {secret} {arg:NAME}; the link carries ?md5=...&expires=....' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l secdownload-path-segments -d 'secdownload: sign only the first N path segments (secdownload.path-segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l listen -d 'Where to listen: HOST:PORT, [V6]:PORT, unix:PATH or fd:N (FastCGI); http://HOST:PORT (HTTP/1.1 listener for nginx proxy_pass with upstream keepalive, or auth_request)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l app-socket -d 'HTTP/1.1 on a Unix socket at PATH for applications that ask xsendfiled directly (the "ask" way): trusted like an `internal` location (the query is the trusted query), answered with the web server\'s reply plus `Xsendfiled-*` fields and no body. Created like --listen unix:PATH (--socket-mode, --socket-owner, --socket-group), removed on exit; alone or with any --listen. Not with --backend serve' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l metrics-listen -d 'Serve GET /metrics (Prometheus text, or OpenMetrics when asked), /healthz and /readyz on HOST:PORT or unix:PATH (off by default; keep it on loopback or a Unix socket). The series carry counts, never paths' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l ping-path -d 'Answer `pong` to a FastCGI request for this path (php-fpm\'s ping.path), e.g. /ping' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l status-path -d 'Answer the status page to a FastCGI request for this path (php-fpm\'s pm.status_path), e.g. /status: plain text, `?json` or `?openmetrics`. Expose it only to trusted clients' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l socket-mode -d 'Permissions of the Unix sockets created by --listen unix:PATH and --app-socket (octal)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l socket-owner -d 'Owner of those Unix sockets, USER or USER:GROUP (names or numeric ids; changing the owner needs root). Default: the user that starts xsendfiled' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l socket-group -d 'Group of those Unix sockets (name or numeric id): the web server\'s, e.g. www-data, so that its workers may connect with --socket-mode 0660' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l user -d 'When started as root: run as USER (name or numeric id) once the socket is bound and the root, key file and access log are open, with USER\'s supplementary groups' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l group -d 'With --user: run with this primary group (name or numeric id) instead of USER\'s' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l max-connections -d 'Connections served at once (further ones wait in the listen backlog)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l max-params-bytes -d 'Largest FastCGI PARAMS stream of one request, in bytes' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l max-params -d 'Most name-value pairs in one request' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l max-stdin-bytes -d 'Request body bytes drained before answering; past it the reply is sent and the connection closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l idle-timeout -d 'Close a connection idle between requests for this long (e.g. 60s, 500ms, 2m)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l request-timeout -d 'Close a connection whose request is not complete this long after it began' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l drain-timeout -d 'On SIGTERM/SIGINT, wait this long for requests in progress before exiting' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l storage-timeout -d 'Longest a file lookup may wait for storage (a hung NFS or FUSE mount): past it, 504. The default is far beyond a healthy disk or NFS lookup and well inside nginx\'s 60 s' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l storage-threads -d 'Lookups that may wait for storage at once, a thread each (one root may use half of them)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-endpoint -d 'Object-store roots (`--root s3://BUCKET[/PREFIX]`): the S3 endpoint, e.g. http://127.0.0.1:9000 (MinIO, Ceph RGW, Garage) or https://s3.eu-west-1.amazonaws.com. Default: AWS for --s3-region. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) with AWS_PROFILE; never from the command line. An https:// endpoint is verified against the system\'s CA store, or SSL_CERT_FILE / SSL_CERT_DIR when set' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-region -d 'The region requests to the object store are signed for' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-internal-prefix -d 'The web server\'s internal location that fetches an object from the presigned URL in `X-Xsendfiled-Url` (nginx: conf-examples/nginx-s3.conf)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-presign-lifetime -d 'How long a presigned URL handed to the web server stays valid (1s to 1h)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-head-ttl -d 'How long the answer of a HEAD (an object and its size, or "no such key") is trusted; 0 asks the store on every request' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-head-cache -d 'At most this many keys in the HEAD cache of each bucket' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-timeout -d 'A HEAD to the object store that takes longer fails with 504 (connection refused: 502). The HEAD runs on the storage pool, whose --storage-timeout bounds it too: raise both' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l threads -d 'Worker threads (1 runs everything on one thread, the fastest on small machines)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l log-level -d 'Log level: error, warn, info, debug, trace (RUST_LOG, when set, takes precedence)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l method -d 'Request method of the explained URIs' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l client -d 'Client address of the explained URIs (REMOTE_ADDR)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l param -d 'A parameter the web server would set, NAME=VALUE (repeatable), e.g. XSENDFILED_AUTH=signed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l allow-hidden -d 'Serve files and directories whose names start with a dot (refused with 404 by default)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l allow-readable-keys -d 'Accept a key file that group or other users can read'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l require-signature -d 'Every download needs a valid signed link (the server may decide per location with the trusted parameter XSENDFILED_AUTH=signed|none)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l token-ip-binding -d 'mod-auth-token: the client address is part of the token (AuthTokenLimitByIp)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l secdownload-hash-querystr -d 'secdownload: the query string is part of the MAC (secdownload.hash-querystr)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l s3-path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY (MinIO and most self-hosted stores) rather than BUCKET.ENDPOINT/KEY'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -s v -l verbose -d 'More log output (repeatable); added to --log-level'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -s q -l quiet -d 'Less log output (repeatable)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -l show-config -d 'Print every option of `serve` with its effective value and where it came from (default, file, environment, flag); secrets are hidden'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l state -d 'The state store the daemons use: a SQLite FILE or redis://HOST:PORT[/DB]' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l id -d 'The link id to revoke (printed by `sign --uses`, the `id=` of the link)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l kid -d 'Revoke every link signed with this key id' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l lasting -d 'How long the revocation lasts, as a duration from now; it must cover the links it names. Default: the daemons\' link lifetime cap (--max-link-lifetime, else the `max-link-lifetime` of --config, else 7d), within which every link still usable expires. A shorter one is refused: the links would be accepted again when it ends' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l max-link-lifetime -d 'The daemons\' --max-link-lifetime, when not the default (7d): the revocation lasts as long' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l config -d 'The daemons\' configuration file, read for its `max-link-lifetime` only' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -l until -d 'Until when the revocation lasts, as a point in time: Unix seconds or RFC 3339 UTC (for a link signed to expire later than --max-link-lifetime from now)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l config -d 'Configuration file (TOML): one key per option, named as the long option without its dashes (`internal-prefix = "/_protected"`), a flag as true or false, a repeatable option as an array (`root = ["/srv/a", "/srv/b"]`). Precedence: file < environment < command line; `check --show-config` shows where each value came from. Re-read on SIGHUP' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l root -d 'Directory whose regular files may be sent; nothing outside the roots ever is. Repeat for several roots (the first is the default; the environment variable separates them with `:`)' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l map -d 'Redirect map FS_PREFIX=URI_PREFIX[,...]: the internal URI prefix for files under each file-system prefix (most specific wins; a prefix given twice is an error); needed for every root after the first' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l backend -d 'Offload mechanism of the web server in front' -r -f -a "nginx\t'`X-Accel-Redirect` to an `internal` location that aliases the root'
apache\t'`X-Sendfile` with the absolute path as raw bytes, for Apache mod_xsendfile (0.12, or 1.0 with `XSendFileUnescape Off`)'
lighttpd\t'`X-Sendfile` with the absolute path percent-encoded, for lighttpd'
local-redirect\t'An RFC 3875 CGI local redirect (`Location: <internal-prefix>/<path>`), for Apache mod_fcgid and mod_cgi; for an s3:// object, to the presigned path under --s3-internal-prefix'
caddy\t'`X-Accel-Redirect: /<path>` for Caddy\'s `handle_response` + `rewrite` + `file_server`'
serve\t'xsendfiled sends the bytes itself, with Range and conditional requests, from a local file or an s3:// object (servers without offload, development)'
authorizer\t'Only allow or deny (200/403), for servers that send the file themselves after asking (nginx auth_request, FastCGI authorizers)'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l internal-prefix -d 'URI of the location that aliases --root: nginx `internal` location, or the Apache `Alias` target of a local redirect (e.g. /_protected)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l strip-prefix -d 'Public URL prefix removed from the request path before resolving (must match whole segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l disposition -d 'Content-Disposition: auto (attachment for HTML, SVG, any XML or +xml type, JavaScript and unknown types, inline otherwise), inline, attachment, or none (only when a signed link or the server asks)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l cache-control -d 'Cache-Control for downloads (downloads allowed by a signed link are always private)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l expires -d 'Send `Expires` this long after each response (e.g. 1h; at most 3650d)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l accel-expires -d 'nginx: X-Accel-Expires seconds (caching of xsendfiled\'s reply by fastcgi_cache)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l limit-rate -d 'Bandwidth limit per download in bytes/s (nginx X-Accel-Limit-Rate, lighttpd KBytes-per-second)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l buffering -d 'nginx: X-Accel-Buffering yes|no (matters when xsendfiled sends the bytes itself)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l access-log -d 'Log every decision as one JSON line to FILE (reopened on SIGHUP), or to stderr with `-`' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l keys -d 'Key ring for signed links: one `KID hex:SECRET` or `KID b64:SECRET` per line; reloaded on SIGHUP. Up to 10,000 keys for sdl1; 16 for compatibility schemes, whose links name no key' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l max-link-lifetime -d 'Longest lifetime a signed link may have left; longer ones are refused (403)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l state -d 'Where limited-use links (signed `uses`) are counted and revocations kept: a SQLite FILE (created if missing; several processes may share it) or redis://HOST:PORT[/DB] for several nodes. Without it, a link with `uses` is refused (503)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l state-timeout -d 'Longest wait for the state store; a limited-use link it does not answer in time is refused (503), failing closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l grant-window -d 'How long one use of a limited-use link stays open for its client address (Range requests, parallel segments and resumed downloads in it are the same use); a signed `gw` wins' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l token-scheme -d 'Signed-link scheme: sdl1, or a compatibility scheme for links issued for another module' -r -f -a "sdl1\t'HMAC-SHA256 links with key ids, expiry, prefix scope, network binding and signed claims'
mod-auth-token\t'Apache mod_auth_token: /PREFIX/<md5>/<hex time>/path'
wsgi-xsendfile\t'wsgi-xsendfile AuthTokenApplication: /<digest>-<hex time>/path'
secdownload\t'lighttpd mod_secdownload: /PREFIX/<mac>/<hex time>/path'
secure-link\t'nginx secure_link: ?md5=<b64url>&expires=<unix>'
secure-link-secret\t'nginx secure_link_secret: /PREFIX/<md5>/link (no expiry)'"
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l token-timeout -d 'Compatibility schemes: how long a link lives after its issue time (default: 60 for mod-auth-token and secdownload, 120 for wsgi-xsendfile)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l token-algorithm -d 'wsgi-xsendfile: md5 (default), sha1, sha224, sha256, sha384, sha512; secdownload: md5, hmac-sha1, hmac-sha256 (required)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l secure-link-template -d 'secure-link: the secure_link_md5 expression, with {expires} {uri} {request_uri} {remote_addr} {secret} {arg:NAME}; the link carries ?md5=...&expires=....' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l secdownload-path-segments -d 'secdownload: sign only the first N path segments (secdownload.path-segments)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l listen -d 'Where to listen: HOST:PORT, [V6]:PORT, unix:PATH or fd:N (FastCGI); http://HOST:PORT (HTTP/1.1 listener for nginx proxy_pass with upstream keepalive, or auth_request)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l app-socket -d 'HTTP/1.1 on a Unix socket at PATH for applications that ask xsendfiled directly (the "ask" way): trusted like an `internal` location (the query is the trusted query), answered with the web server\'s reply plus `Xsendfiled-*` fields and no body. Created like --listen unix:PATH (--socket-mode, --socket-owner, --socket-group), removed on exit; alone or with any --listen. Not with --backend serve' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l metrics-listen -d 'Serve GET /metrics (Prometheus text, or OpenMetrics when asked), /healthz and /readyz on HOST:PORT or unix:PATH (off by default; keep it on loopback or a Unix socket). The series carry counts, never paths' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l ping-path -d 'Answer `pong` to a FastCGI request for this path (php-fpm\'s ping.path), e.g. /ping' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l status-path -d 'Answer the status page to a FastCGI request for this path (php-fpm\'s pm.status_path), e.g. /status: plain text, `?json` or `?openmetrics`. Expose it only to trusted clients' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l socket-mode -d 'Permissions of the Unix sockets created by --listen unix:PATH and --app-socket (octal)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l socket-owner -d 'Owner of those Unix sockets, USER or USER:GROUP (names or numeric ids; changing the owner needs root). Default: the user that starts xsendfiled' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l socket-group -d 'Group of those Unix sockets (name or numeric id): the web server\'s, e.g. www-data, so that its workers may connect with --socket-mode 0660' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l user -d 'When started as root: run as USER (name or numeric id) once the socket is bound and the root, key file and access log are open, with USER\'s supplementary groups' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l group -d 'With --user: run with this primary group (name or numeric id) instead of USER\'s' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l max-connections -d 'Connections served at once (further ones wait in the listen backlog)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l max-params-bytes -d 'Largest FastCGI PARAMS stream of one request, in bytes' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l max-params -d 'Most name-value pairs in one request' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l max-stdin-bytes -d 'Request body bytes drained before answering; past it the reply is sent and the connection closed' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l idle-timeout -d 'Close a connection idle between requests for this long (e.g. 60s, 500ms, 2m)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l request-timeout -d 'Close a connection whose request is not complete this long after it began' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l drain-timeout -d 'On SIGTERM/SIGINT, wait this long for requests in progress before exiting' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l storage-timeout -d 'Longest a file lookup may wait for storage (a hung NFS or FUSE mount): past it, 504. The default is far beyond a healthy disk or NFS lookup and well inside nginx\'s 60 s' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l storage-threads -d 'Lookups that may wait for storage at once, a thread each (one root may use half of them)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-endpoint -d 'Object-store roots (`--root s3://BUCKET[/PREFIX]`): the S3 endpoint, e.g. http://127.0.0.1:9000 (MinIO, Ceph RGW, Garage) or https://s3.eu-west-1.amazonaws.com. Default: AWS for --s3-region. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) with AWS_PROFILE; never from the command line. An https:// endpoint is verified against the system\'s CA store, or SSL_CERT_FILE / SSL_CERT_DIR when set' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-region -d 'The region requests to the object store are signed for' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-internal-prefix -d 'The web server\'s internal location that fetches an object from the presigned URL in `X-Xsendfiled-Url` (nginx: conf-examples/nginx-s3.conf)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-presign-lifetime -d 'How long a presigned URL handed to the web server stays valid (1s to 1h)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-head-ttl -d 'How long the answer of a HEAD (an object and its size, or "no such key") is trusted; 0 asks the store on every request' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-head-cache -d 'At most this many keys in the HEAD cache of each bucket' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-timeout -d 'A HEAD to the object store that takes longer fails with 504 (connection refused: 502). The HEAD runs on the storage pool, whose --storage-timeout bounds it too: raise both' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l threads -d 'Worker threads (1 runs everything on one thread, the fastest on small machines)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l log-level -d 'Log level: error, warn, info, debug, trace (RUST_LOG, when set, takes precedence)' -r
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l nginx-conf -d 'Also read this nginx configuration (through `nginx -T` when nginx accepts it) and flag its location mistakes: an `alias` without the trailing slash of its location, no location for the internal URI, an internal URI\'s location that is not `internal`' -r -F
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l allow-hidden -d 'Serve files and directories whose names start with a dot (refused with 404 by default)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l allow-readable-keys -d 'Accept a key file that group or other users can read'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l require-signature -d 'Every download needs a valid signed link (the server may decide per location with the trusted parameter XSENDFILED_AUTH=signed|none)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l token-ip-binding -d 'mod-auth-token: the client address is part of the token (AuthTokenLimitByIp)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l secdownload-hash-querystr -d 'secdownload: the query string is part of the MAC (secdownload.hash-querystr)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -l s3-path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY (MinIO and most self-hosted stores) rather than BUCKET.ENDPOINT/KEY'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -s v -l verbose -d 'More log output (repeatable); added to --log-level'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -s q -l quiet -d 'Less log output (repeatable)'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand help; and not __fish_seen_subcommand_from serve sign check revoke doctor help" -f -a "serve" -d 'Run the FastCGI responder (or answer one CGI request); the default'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand help; and not __fish_seen_subcommand_from serve sign check revoke doctor help" -f -a "sign" -d 'Print a signed link (path and query) for PATH, ready to append to the site\'s origin'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand help; and not __fish_seen_subcommand_from serve sign check revoke doctor help" -f -a "check" -d 'Validate the configuration (every problem at once), and explain, step by step, what would be answered for each URI given'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand help; and not __fish_seen_subcommand_from serve sign check revoke doctor help" -f -a "revoke" -d 'Revoke one signed link (--id) or every link of a key (--kid) in the state store: every daemon using that store refuses them (403) within a second'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand help; and not __fish_seen_subcommand_from serve sign check revoke doctor help" -f -a "doctor" -d 'Ask the live web server for URL like a client, compare with what xsendfiled decides for the same path, and name the likely cause of a difference (exit 1) and its fix'
complete -c xsendfiled -n "__fish_xsendfiled_using_subcommand help; and not __fish_seen_subcommand_from serve sign check revoke doctor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
