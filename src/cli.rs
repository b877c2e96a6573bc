//! Command-line interface: clap types only, resolved into `pipeline::Options`.
//!
//! Exit codes (a contract): 0 success; 1 the content has errors (or warnings under
//! `--strict`); 2 a usage error.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// sourced: a static-site generator for annotated policy briefs, where every quantitative
/// claim carries its source.
#[derive(Debug, Parser)]
#[command(name = "sourced", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site into its output folder (default `public/`).
    Build(BuildArgs),
    /// Check the site (front matter, links, anchors, templates) without writing anything.
    Check(CheckArgs),
    /// Preview the site locally: build, serve on loopback, rebuild and reload on every save.
    Serve(ServeArgs),
    /// Create a new site with one sample brief in DIR (which must be empty or absent).
    Init(InitArgs),
    /// Quantitative claims: detect them in text, or list the site's.
    #[command(subcommand)]
    Claims(ClaimsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ClaimsCommand {
    /// Read JSON lines `{"id", "lang", "text"}` on stdin; write one line per input with the
    /// quantity spans found (`{"id", "spans": [{"start", "end", "text", "kind", "value", "unit"}]}`,
    /// code-point offsets, end exclusive).
    Detect,
    /// List every claim of the site with its status (sourced / unsourced / not a claim) and
    /// source.
    List(ClaimsListArgs),
}

#[derive(Debug, Args)]
pub struct ClaimsListArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Print JSON (the same records as the site's claims.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The site's root folder (holding site.yaml and content/).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// Include briefs marked `draft: true`.
    #[arg(long)]
    pub drafts: bool,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Write the site here instead of site.yaml's `output_dir`.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Use this base URL instead of site.yaml's `base_url` (e.g. for a preview deploy).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Skip the search index and the search page (as `search: false` in site.yaml).
    #[arg(long)]
    pub no_search: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The site's root folder (holding site.yaml and content/).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 1111)]
    pub port: u16,
    /// Address to listen on. Anything but loopback exposes the preview to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Include briefs marked `draft: true`.
    #[arg(long)]
    pub drafts: bool,
    /// Open the site in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Write the preview into this folder instead of a temporary one (it is kept up to date,
    /// with local URLs; not for publishing).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub site: SiteArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to create the site in.
    pub dir: PathBuf,
    /// The new site's title.
    #[arg(long, default_value = "Policy Briefs")]
    pub title: String,
    /// The address the site will be published at.
    #[arg(long, default_value = "https://example.org/")]
    pub base_url: String,
}
