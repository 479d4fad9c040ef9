//! The process and end-to-end tests: the `xsendfiled` binary started as a daemon, as a CGI program
//! and as a command, alone or behind real servers (nginx, Apache, lighttpd, Caddy, HAProxy,
//! spawn-fcgi, fcgiwrap, systemd socket activation) and a real browser. One binary
//! (`cargo test --test e2e`), one module per file beside this one; run one module with e.g.
//! `cargo test --test e2e e2e_nginx::`. The load tests (`load.rs`) and the allocation test
//! (`allocations.rs`) are binaries of their own.

mod support;

mod access_log;
mod app_delegation;
mod app_delegation_proxy;
mod app_socket;
mod authorizer;
mod browser;
mod check;
mod check_agrees;
mod cli;
mod client_browser;
mod client_migrations;
mod client_packages;
mod clients_python;
mod config_file;
mod dates;
mod doctor;
mod e2e_haproxy;
mod e2e_nginx;
mod e2e_s3;
mod e2e_s3_apache;
mod e2e_s3_serve;
mod e2e_s3_tls;
mod e2e_servers;
mod faults;
mod fcgi_wire;
mod http_limits;
mod launchers;
mod limited_links;
mod metrics;
mod narrowed_root;
mod package;
mod privileges;
mod sdl1_vectors;
mod serve_backend;
mod signed_links;
mod signing_docs;
