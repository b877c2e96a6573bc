//! The integration suite: one test binary, a module per feature. Each test builds a small
//! fixture site into a temp dir with the real `sourced` binary and checks what a user sees:
//! parsed HTML, the exit code and the diagnostics. See `support` for the harness.

mod support;

mod bad;
mod browser;
mod build;
mod citations;
mod claims;
mod demo;
mod errors;
mod i18n;
mod init;
mod links;
mod output;
mod serve;
mod themes;
