//! sourced: a static-site generator for annotated policy briefs.
//!
//! The modules read in the order data flows through a build:
//!
//! ```text
//! config, discover, front_matter,     load: site.yaml, content/ walk, front matter,
//!   sources, claims::bindings           sources (YAML, CSL-JSON, BibTeX), claim bindings
//!   -> markdown (citations,           parse: bodies to HTML, headings, links, `[@key]` notes,
//!      claims::detect, sentences)       quantities found and attached to their citation
//!   -> site                           assemble: URLs, sections, tags, translations, anchors,
//!                                       source pages, related briefs, translation agreement
//!   -> theme, templates, pages,       render: each page through Tera, in parallel
//!      bibliography
//!   -> output                         write: staging folder swapped in on success
//! ```
//!
//! A one-off `build` runs parse and render together for brief pages: each brief is parsed,
//! its page rendered and written, and only what other pages show of it is kept (no body
//! HTML, no text); the site-wide pages follow. `check` and `serve` parse every body first.
//!
//! `pipeline` sequences the stages (and redoes only what an edit touches, for `serve`);
//! `diagnostics` is the error value every stage returns and `report` draws them. Each module's
//! first doc comment says which stage it owns.

pub mod bibliography;
pub mod citations;
pub mod claims;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod discover;
pub mod front_matter;
pub mod html;
pub mod init;
pub mod lang;
pub mod markdown;
pub mod output;
pub mod pages;
pub mod pipeline;
pub mod report;
pub mod search;
pub mod sentences;
pub mod serve;
pub mod site;
pub mod sources;
pub mod templates;
pub mod theme;
pub mod urls;
pub mod yaml;

/// The hasher of maps and sets keyed by the site's own short strings and paths (source keys,
/// output paths, file names): foldhash with a fixed seed. The standard library's SipHash was
/// 1.7% of a build on such keys; a fixed seed also keeps any iteration order the same from
/// one run to the next.
pub type FastHasher = foldhash::fast::FixedState;
