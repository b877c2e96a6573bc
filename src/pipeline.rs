//! The pipeline: load -> parse -> assemble -> check -> render -> write.
//!
//! [`build`] is the only function that sequences the stages and the only place that decides to
//! stop. Every stage's diagnostics are collected; the run stops before *writing* whenever any
//! is an error (or, under `--strict`, a warning), so a failed build never touches the output.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::{self, SiteConfig};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::discover;
use crate::front_matter;
use crate::markdown;
use crate::output::{self, Staging};
use crate::pages;
use crate::site::{self, LoadedBrief, LoadedSection, Site};
use crate::sources;
use crate::templates::Templates;
use crate::theme::{self, StaticSource};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything, written to the output folder.
    Build,
    /// Load, parse and check only: nothing rendered or written.
    Check,
}

/// A run's settings, resolved from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub root: PathBuf,
    pub output: Option<PathBuf>,
    pub base_url: Option<String>,
    pub drafts: bool,
    pub strict: bool,
    pub mode: Mode,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub briefs: usize,
    pub pages: usize,
    pub files: usize,
    pub output_dir: Option<PathBuf>,
    pub seconds: f64,
}

/// The result of a run: diagnostics (sorted) and, on success, counts.
#[derive(Debug)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub ok: bool,
    pub stats: Stats,
}

fn finish(mut diags: Diagnostics, strict: bool, stats: Stats) -> Outcome {
    if strict {
        diags.promote_warnings();
    }
    let ok = !diags.has_errors();
    Outcome {
        diagnostics: diags.into_sorted(),
        ok,
        stats,
    }
}

/// Loads the site and renders every body: everything short of templates and output.
pub fn load(opts: &Options, diags: &mut Diagnostics) -> Option<Site> {
    let mut config = match config::load(&opts.root) {
        Ok(c) => c,
        Err(ds) => {
            diags.extend(ds);
            return None;
        }
    };
    if let Some(raw) = &opts.base_url {
        match config::parse_base_url(raw) {
            Ok(u) => config.base_url = u,
            Err(msg) => {
                diags.push(
                    Diagnostic::error(format!("invalid --base-url: {msg}"))
                        .hint("pass a full address, e.g. --base-url https://preview.example.org/"),
                );
                return None;
            }
        }
    }
    let (content, walk_diags) = discover::content(&opts.root);
    diags.extend(walk_diags);

    // Read and parse front matter, in parallel, keeping every problem.
    let root = &opts.root;
    let briefs: Vec<Result<LoadedBrief, Vec<Diagnostic>>> = content
        .briefs
        .par_iter()
        .map(|e| {
            let file = discover::read_text(root, &e.abs).map_err(|d| vec![d])?;
            let split = front_matter::split(&file).map_err(|d| vec![d])?;
            let meta = front_matter::parse_brief(&file, split.as_ref())?;
            let body = split.map_or(0..file.text.len(), |s| s.body);
            // The brief's own `sources:`, validated here (in parallel) with their positions.
            let (sources, source_diags) = match &meta.sources {
                Some(v) => {
                    let anchor = meta.keys.get("sources").unwrap_or(0..0);
                    let origin = sources::Origin::Brief(crate::urls::to_slash(&e.rel));
                    sources::from_yaml(&file, v, &meta.keys, "sources.", anchor, &origin)
                }
                None => (Vec::new(), Vec::new()),
            };
            let (rules, rule_diags) = crate::claims::bindings::parse(
                &file,
                meta.yaml.clone(),
                meta.claims.as_ref(),
                meta.not_claims.as_ref(),
                meta.keys.get("claims").unwrap_or(0..0),
            );
            let mut problems = source_diags;
            problems.extend(rule_diags);
            if !problems.is_empty() {
                return Err(problems);
            }
            Ok(LoadedBrief {
                file,
                rel: e.rel.clone(),
                meta,
                body,
                sources,
                rules,
            })
        })
        .collect();
    let sections: Vec<Result<LoadedSection, Vec<Diagnostic>>> = content
        .sections
        .par_iter()
        .map(|e| {
            let file = discover::read_text(root, &e.abs).map_err(|d| vec![d])?;
            let split = front_matter::split(&file).map_err(|d| vec![d])?;
            let meta = front_matter::parse_section(&file, split.as_ref())?;
            let body = split.map_or(0..file.text.len(), |s| s.body);
            Ok(LoadedSection {
                file,
                rel: e.rel.clone(),
                meta,
                body,
            })
        })
        .collect();
    let briefs = keep_ok(briefs, diags);
    let sections = keep_ok(sections, diags);

    // Every source of the site: the site-wide bibliography, then each published brief's own.
    let (mut defs, bib_diags) = sources::load_site_wide(root, &content.data);
    diags.extend(bib_diags);
    for b in &briefs {
        if opts.drafts || !b.meta.draft {
            defs.extend(b.sources.iter().cloned());
        }
    }
    let (bib, conflicts) = sources::Bibliography::build(defs);
    diags.extend(conflicts);

    let (plan, plan_diags) = site::plan(config, briefs, sections, &content.assets, opts.drafts);
    diags.extend(plan_diags);
    let mut site = plan.site;
    let base_url = site.config.base_url.clone();
    let ctx = markdown::Context {
        targets: &plan.link_targets,
        bib: &bib,
        base_url: &base_url,
    };

    // Parse every body in parallel; each depends only on its own text and the link targets.
    let rendered: Vec<markdown::Rendered> = site
        .briefs
        .par_iter()
        .map(|b| {
            let rel = PathBuf::from(&b.key);
            markdown::render(&b.file, b.body.clone(), &rel, &ctx, Some(&b.rules))
        })
        .collect();
    for (b, mut r) in site.briefs.iter_mut().zip(rendered) {
        diags.extend(std::mem::take(&mut r.diagnostics));
        b.rendered = r;
    }
    for s in &mut site.sections {
        if let Some((file, body)) = &s.index_file {
            let rel = file
                .display_path
                .strip_prefix("content")
                .unwrap_or(&file.display_path)
                .to_path_buf();
            let mut r = markdown::render(file, body.clone(), &rel, &ctx, None);
            diags.extend(std::mem::take(&mut r.diagnostics));
            s.rendered = r;
        }
    }
    diags.extend(site::check_anchors(&site));
    diags.extend(site::attach_sources(&mut site, bib));
    site::relate(&mut site);
    diags.extend(site::check_translations(&site));
    Some(site)
}

fn keep_ok<T>(items: Vec<Result<T, Vec<Diagnostic>>>, diags: &mut Diagnostics) -> Vec<T> {
    let mut ok = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Ok(v) => ok.push(v),
            Err(ds) => diags.extend(ds),
        }
    }
    ok
}

fn resolve_output(opts: &Options, config: &SiteConfig) -> Result<PathBuf, Diagnostic> {
    let (raw, from_flag) = match &opts.output {
        Some(o) => (o.clone(), true),
        None => (config.output_dir.clone(), false),
    };
    let path = if raw.is_absolute() || from_flag {
        raw.clone()
    } else {
        opts.root.join(&raw)
    };
    output::check_output_dir(&opts.root, &path).map_err(|msg| {
        let d = Diagnostic::error(format!("refusing this output folder: {msg}"))
            .hint("a build replaces its output folder; choose a dedicated folder such as `public`, or empty this one yourself");
        if from_flag {
            d
        } else {
            let span = config
                .keys
                .value_span(&config.file.text, "output_dir")
                .unwrap_or(0..0);
            d.at(&config.file, span)
        }
    })
}

/// Runs the whole build (or check) into the output folder, replacing it only on success.
pub fn build(opts: &Options) -> Outcome {
    build_into(opts, None)
}

/// Builds into a folder kept up to date across rebuilds (`serve`): only changed files are
/// written. The output-folder checks and the atomic swap do not apply.
pub fn build_incremental(opts: &Options, dir: &output::IncrementalDir) -> Outcome {
    dir.begin();
    let outcome = build_into(opts, Some(dir));
    if outcome.ok {
        dir.finish();
    } else {
        dir.abandon();
    }
    outcome
}

fn build_into(opts: &Options, incremental: Option<&output::IncrementalDir>) -> Outcome {
    let started = Instant::now();
    let mut diags = Diagnostics::new();
    let mut stats = Stats::default();
    let timings = std::env::var_os("SOURCED_TIMINGS").is_some();
    let phase = |name: &str, t: &mut Instant| {
        if timings {
            eprintln!("timing: {name} {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
        }
        *t = Instant::now();
    };
    let mut t = Instant::now();
    let Some(site) = load(opts, &mut diags) else {
        return finish(diags, opts.strict, stats);
    };
    let strict = opts.strict || site.config.strict;
    stats.briefs = site.briefs.len();
    let output_dir = match incremental {
        Some(dir) => Some(dir.root().to_path_buf()),
        None => match resolve_output(opts, &site.config) {
            Ok(p) => Some(p),
            Err(d) => {
                if opts.mode == Mode::Build {
                    diags.push(d);
                }
                None
            }
        },
    };
    let (theme, theme_diags) = theme::resolve(&opts.root, &site.config);
    diags.extend(theme_diags);
    let templates = match Templates::new(&theme) {
        Ok(t) => Some(t),
        Err(ds) => {
            diags.extend(ds);
            None
        }
    };
    if opts.mode == Mode::Check {
        stats.seconds = started.elapsed().as_secs_f64();
        return finish(diags, strict, stats);
    }
    let stop = |d: &Diagnostics| d.has_errors() || (strict && !d.is_empty());
    let (Some(templates), Some(output_dir)) = (templates, output_dir) else {
        return finish(diags, strict, stats);
    };
    if stop(&diags) {
        return finish(diags, strict, stats);
    }

    phase("load+parse+assemble", &mut t);
    // Render every page in parallel (order-preserving), collecting every failure.
    let jobs = pages::jobs(&site);
    let rendered: Vec<Result<(String, String), Diagnostic>> = jobs
        .par_iter()
        .map(|&job| pages::render(&site, &templates, job))
        .collect();
    let mut outputs = Vec::with_capacity(rendered.len());
    for r in rendered {
        match r {
            Ok(o) => outputs.push(o),
            Err(d) => diags.push(d),
        }
    }
    if stop(&diags) {
        return finish(diags, strict, stats);
    }

    phase("render pages", &mut t);
    let staging = if incremental.is_some() {
        None
    } else {
        match Staging::new(&output_dir) {
            Ok(s) => Some(s),
            Err(d) => {
                diags.push(d);
                return finish(diags, strict, stats);
            }
        }
    };
    let writer: &dyn output::Writer = match (&staging, incremental) {
        (Some(s), _) => s,
        (None, Some(dir)) => dir,
        (None, None) => return finish(diags, strict, stats),
    };
    let write_results: Vec<Result<(), Diagnostic>> = outputs
        .par_iter()
        .map(|(path, text)| writer.write(path, text.as_bytes()))
        .collect();
    diags.extend(write_results.into_iter().filter_map(Result::err));
    // Static files: the theme's and the site's, then content assets beside their pages.
    let mut copies: Vec<(String, PathBuf)> = Vec::new();
    for (rel, src) in &theme.static_files {
        let rel = crate::urls::to_slash(rel);
        let res = match src {
            StaticSource::Disk(p) => {
                copies.push((rel, p.clone()));
                Ok(())
            }
            StaticSource::Embedded(bytes) => writer.write(&rel, bytes),
        };
        if let Err(d) = res {
            diags.push(d);
        }
    }
    for (rel, from) in &site.assets {
        copies.push((rel.clone(), from.clone()));
    }
    let copy_results: Vec<Result<(), Diagnostic>> = copies
        .par_iter()
        .map(|(rel, from)| writer.copy(rel, from))
        .collect();
    diags.extend(copy_results.into_iter().filter_map(Result::err));
    if diags.has_errors() {
        return finish(diags, strict, stats);
    }
    phase("write", &mut t);
    stats.pages = outputs.len();
    stats.files = outputs.len() + copies.len();
    if let Some(staging) = staging
        && let Err(d) = staging.commit()
    {
        diags.push(d);
    }
    stats.output_dir = Some(output_dir);
    stats.seconds = started.elapsed().as_secs_f64();
    finish(diags, strict, stats)
}
