//! The pipeline: load -> parse -> assemble -> check -> render -> write.
//!
//! [`build`] is the only function that sequences the stages and the only place that decides to
//! stop. Every stage's diagnostics are collected; whenever any is an error (or, under
//! `--strict`, a warning) the run stops before the output changes: a one-off build writes into
//! a staging folder, put in place only on success, so it can write each brief page as soon as
//! the brief is parsed (see [`stream`]) and hold no page in memory.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::{self, SiteConfig};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::discover;
use crate::front_matter;
use crate::markdown;
use crate::output::{self, Staging};
use crate::pages;
use crate::site::{self, LoadedBrief, LoadedSection, Site};
use crate::sources;
use crate::templates::Templates;
use crate::theme::{self, StaticSource};

/// `SOURCED_TIMINGS=1`: prints how long each step took, to stderr.
struct Timer {
    on: bool,
    since: Instant,
    /// CPU time of the process at `since`, in clock ticks (Linux).
    cpu_since: Option<u64>,
    indent: &'static str,
}

impl Timer {
    fn new(indent: &'static str) -> Timer {
        let on = std::env::var_os("SOURCED_TIMINGS").is_some();
        Timer {
            on,
            since: Instant::now(),
            cpu_since: if on { cpu_ticks() } else { None },
            indent,
        }
    }

    /// Reports the time since the last step (or the start) as `name`, with the CPU used
    /// meanwhile as a share of one core.
    fn step(&mut self, name: &str) {
        if self.on {
            let wall = self.since.elapsed().as_secs_f64();
            let cpu = cpu_ticks();
            let busy = match (self.cpu_since, cpu) {
                // Clock ticks are 1/100 s on Linux.
                (Some(a), Some(b)) if wall > 0.0 => {
                    format!(", CPU {:.0}%", (b - a) as f64 / 100.0 / wall * 100.0)
                }
                _ => String::new(),
            };
            eprintln!(
                "timing: {}{name} {:.1} ms{busy}{}",
                self.indent,
                wall * 1000.0,
                memory()
            );
            self.cpu_since = cpu;
        }
        self.since = Instant::now();
    }
}

/// The process's user + system CPU time in clock ticks, where the OS tells (Linux).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The process's resident and peak memory where the OS tells (Linux), for SOURCED_TIMINGS.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(peak)) => format!(" (memory {rss}, peak {peak})"),
        _ => String::new(),
    }
}

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
    /// Skip the search index and page (`--no-search`), whatever `site.yaml` says.
    pub no_search: bool,
    /// Keep each brief's diagnostics with it, for `serve`'s partial rebuilds (a one-off build
    /// moves them into the run's list instead of copying them).
    pub partial_rebuilds: bool,
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
    /// Warnings in the run (some may not be in `diagnostics` after a partial rebuild).
    pub warning_count: usize,
    /// Warnings a build only counted, beyond the first ones it shows (not in `diagnostics`).
    pub hidden_warnings: usize,
    pub ok: bool,
    pub stats: Stats,
}

fn finish(mut diags: Diagnostics, strict: bool, stats: Stats) -> Outcome {
    if strict {
        diags.promote_warnings();
    }
    let ok = !diags.has_errors();
    let warning_count = diags.warning_count();
    let hidden_warnings = diags.hidden();
    Outcome {
        hidden_warnings,
        diagnostics: diags.into_sorted(),
        warning_count,
        ok,
        stats,
    }
}

/// Loads the site and renders every body: everything short of templates and output.
pub fn load(opts: &Options, diags: &mut Diagnostics) -> Option<Site> {
    let (site, bib) = load_front(opts, diags)?;
    Some(parse_bodies(site, bib, opts, opts.partial_rebuilds, diags))
}

/// Loads the site up to its bodies: config, files, front matter, the bibliography, and every
/// page's address (the link targets bodies are rendered with are in `site.link_targets`).
fn load_front(opts: &Options, diags: &mut Diagnostics) -> Option<(Site, sources::Bibliography)> {
    let mut config = match config::load(&opts.root) {
        Ok(c) => c,
        Err(ds) => {
            diags.extend(ds);
            return None;
        }
    };
    if opts.no_search {
        config.search = false;
    }
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
    let mut timer = Timer::new("  ");
    let mut step = |name: &str| timer.step(name);
    let (content, walk_diags) = discover::content(&opts.root);
    diags.extend(walk_diags);
    step("discover");

    // Read and parse front matter, in parallel, keeping every problem.
    let root = &opts.root;
    // A one-off build reads each body again when it parses it (a page at a time), so that
    // the texts of all briefs are never in memory at once; `check` and `serve` keep them.
    let drop_bodies = opts.mode == Mode::Build && !opts.partial_rebuilds;
    let briefs: Vec<Result<LoadedBrief, Vec<Diagnostic>>> = content
        .briefs
        .par_iter()
        .map(|e| {
            let file = discover::read_text(root, &e.abs).map_err(|d| vec![d])?;
            let split = front_matter::split(&file).map_err(|d| vec![d])?;
            let mut meta = front_matter::parse_brief(&file, split.as_ref())?;
            let body = split.map_or(0..file.text.len(), |s| s.body);
            // Sources defined here point into the front matter: they hold only that part of
            // the text (and the line after it, shown around a problem), so that a build can
            // let the body go as soon as it is parsed. A one-off build keeps no more of the
            // brief either, and the raw text's citation keys (to relate briefs before parsing).
            let front = if (drop_bodies || meta.sources.is_some()) && body.end > body.start {
                let end = file.text[body.start..]
                    .find('\n')
                    .map_or(file.text.len(), |i| body.start + i + 1);
                Arc::new(SourceText::new(
                    file.display_path.clone(),
                    &file.text[..end],
                ))
            } else {
                file.clone()
            };
            let (sources, rules) = brief_extras(&front, &meta, &crate::urls::to_slash(&e.rel))?;
            if !opts.partial_rebuilds {
                // Read into `sources` and `rules` now. The front matter as YAML is only
                // compared again by `serve`; the planner needs only the top-level keys'
                // places.
                meta.sources = None;
                meta.claims = None;
                meta.not_claims = None;
                meta.keys.keep_top_level();
            }
            let (file, cited) = if drop_bodies {
                let cited = crate::citations::keys_in_text(&file.text[body.clone()]);
                (front, cited)
            } else {
                (file, Vec::new())
            };
            Ok(LoadedBrief {
                file,
                rel: e.rel.clone(),
                meta,
                body,
                sources,
                rules,
                cited,
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
    let mut briefs = keep_ok(briefs, diags);
    let sections = keep_ok(sections, diags);
    step("read + front matter");

    // Every source of the site: the site-wide bibliography, then each published brief's own
    // (moved into it unless `serve` needs them again for a partial rebuild).
    let (site_wide_defs, bib_diags) = sources::load_site_wide(root, &content.data);
    diags.extend(bib_diags);
    let mut defs = site_wide_defs.clone();
    for b in &mut briefs {
        if opts.drafts || !b.meta.draft {
            if opts.partial_rebuilds {
                defs.extend(b.sources.iter().cloned());
            } else {
                defs.append(&mut b.sources);
            }
        }
    }
    // The bibliography and the plan (URLs, sections, tags) need nothing of each other: each
    // runs on its own core.
    let ((bib, conflicts), (plan, plan_diags)) = rayon::join(
        || sources::Bibliography::build(defs),
        || site::plan(config, briefs, sections, &content.assets, opts.drafts),
    );
    diags.extend(conflicts);
    diags.extend(plan_diags);
    step("bibliography + plan");
    let mut site = plan.site;
    site.keep_fragments = opts.partial_rebuilds;
    site.site_wide_defs = site_wide_defs;
    if opts.partial_rebuilds {
        site.load_diags = diags.iter().cloned().collect();
    }
    site.link_targets = plan.link_targets;
    if !opts.partial_rebuilds {
        // Where each front-matter key stands is only needed to report problems of the front
        // matter, all found by now.
        for b in &mut site.briefs {
            b.meta.keys = Default::default();
        }
    }
    step("site");
    Some((site, bib))
}

/// Renders every body (Markdown and claims), then checks and links what spans pages:
/// anchors, sources and their citing briefs, related briefs, translations.
fn parse_bodies(
    mut site: Site,
    bib: sources::Bibliography,
    opts: &Options,
    keep_html: bool,
    diags: &mut Diagnostics,
) -> Site {
    let mut timer = Timer::new("  ");
    let mut step = |name: &str| timer.step(name);
    let base_url = site.config.base_url.clone();
    let ctx = markdown::Context {
        targets: &site.link_targets,
        bib: &bib,
        base_url: &base_url,
        html: keep_html,
    };
    // Parse every body in parallel; each depends only on its own text and the link targets.
    // Only `serve` renders pages from these parses (`keep_html`): `check`, `claims list` and a
    // build that cannot go ahead let each body's HTML go at once.
    let rendered: Vec<markdown::Rendered> = site
        .briefs
        .par_iter()
        .map(|b| {
            let rel = PathBuf::from(&b.key);
            let r = match b.body_text(&opts.root) {
                Ok((file, body)) => markdown::render(&file, body, &rel, &ctx, Some(&b.rules)),
                Err(d) => markdown::Rendered {
                    diagnostics: vec![d],
                    ..Default::default()
                },
            };
            if keep_html { r } else { without_html(r) }
        })
        .collect();
    // For `serve`, each body keeps its own diagnostics, so a rebuild of one brief can report
    // them all.
    for (b, mut r) in site.briefs.iter_mut().zip(rendered) {
        if opts.partial_rebuilds {
            diags.extend(r.diagnostics.iter().cloned());
        } else {
            diags.extend(std::mem::take(&mut r.diagnostics));
        }
        b.rendered = r;
    }
    render_sections(&mut site, &bib, diags);
    step("markdown + claims");
    diags.extend(site::check_anchors(&site));
    site.attach_diags = site::attach_sources(&mut site, bib, site::Placed::Unknown);
    diags.extend(site.attach_diags.iter().cloned());
    step("anchors + attach sources");
    // Related briefs are shown on pages only: `check` and `claims` make none.
    if keep_html {
        site::relate(&mut site);
    }
    diags.extend(site::check_translations(&site));
    step("related + translations");
    site
}

/// Renders the sections' `_index.md` bodies.
fn render_sections(site: &mut Site, bib: &sources::Bibliography, diags: &mut Diagnostics) {
    let base_url = site.config.base_url.clone();
    let ctx = markdown::Context {
        targets: &site.link_targets,
        bib,
        base_url: &base_url,
        html: true,
    };
    for s in &mut site.sections {
        if let Some((file, body)) = &s.index_file {
            let rel = file
                .display_path
                .strip_prefix("content")
                .unwrap_or(&file.display_path)
                .to_path_buf();
            let r = markdown::render(file, body.clone(), &rel, &ctx, None);
            diags.extend(r.diagnostics.iter().cloned());
            s.rendered = r;
        }
    }
}

/// Indexes `pages` for search and writes the index files.
fn write_search_index(
    writer: &dyn output::Writer,
    pages: Vec<(String, String)>,
    diags: &mut Diagnostics,
) {
    match crate::search::index(pages) {
        Ok(files) => {
            for (path, bytes) in files {
                if let Err(d) = writer.write(&path, &bytes) {
                    diags.push(d);
                }
            }
        }
        Err(d) => diags.push(d),
    }
}

/// Pages the search index covers: briefs and sources, when search is on.
fn searchable(site: &Site, job: pages::Job) -> bool {
    site.config.search && matches!(job, pages::Job::Brief(_) | pages::Job::Source(_))
}

/// The root-relative URL of an output path (`briefs/x/index.html` -> `/base/briefs/x/`).
fn page_url(site: &Site, path: &str) -> String {
    crate::urls::url_for(
        &site.config.base_url,
        path.strip_suffix("index.html").unwrap_or(path),
    )
}

/// A brief's own `sources:` and claim rules, validated with their positions.
fn brief_extras(
    file: &std::sync::Arc<crate::diagnostics::SourceText>,
    meta: &front_matter::BriefMeta,
    key: &str,
) -> Result<
    (
        Vec<sources::Definition>,
        crate::claims::bindings::ClaimRules,
    ),
    Vec<Diagnostic>,
> {
    let (defs, mut problems) = match &meta.sources {
        Some(v) => {
            let anchor = meta.keys.get("sources").unwrap_or(0..0);
            let origin = sources::Origin::Brief(key.to_string());
            sources::from_yaml(file, v, &meta.keys, "sources.", anchor, &origin)
        }
        None => (Vec::new(), Vec::new()),
    };
    let (rules, rule_diags) = crate::claims::bindings::parse(
        file,
        meta.yaml.clone(),
        meta.claims.as_ref(),
        meta.not_claims.as_ref(),
        meta.keys.get("claims").unwrap_or(0..0),
    );
    problems.extend(rule_diags);
    if problems.is_empty() {
        Ok((defs, rules))
    } else {
        Err(problems)
    }
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
    build_into(opts, None).0
}

/// [`build`] for a process that exits right after: the site's memory is left to the
/// operating system instead of being freed piece by piece (half a second on 10,000 briefs).
pub fn build_then_exit(opts: &Options) -> Outcome {
    let (outcome, kept) = build_into(opts, None);
    std::mem::forget(kept);
    outcome
}

/// Builds into a folder kept up to date across rebuilds (`serve`): only changed files are
/// written. The output-folder checks and the atomic swap do not apply.
pub fn build_incremental(
    opts: &Options,
    dir: &output::IncrementalDir,
) -> (Outcome, Option<(Site, Templates)>) {
    dir.begin();
    let (outcome, kept) = build_into(opts, Some(dir));
    if outcome.ok {
        dir.finish();
    } else {
        dir.abandon();
    }
    (outcome, kept)
}

fn build_into(
    opts: &Options,
    incremental: Option<&output::IncrementalDir>,
) -> (Outcome, Option<(Site, Templates)>) {
    let started = Instant::now();
    let mut diags = Diagnostics::new();
    let mut stats = Stats::default();
    let mut timer = Timer::new("");
    let Some((site, bib)) = load_front(opts, &mut diags) else {
        return (finish(diags, opts.strict, stats), None);
    };
    let strict = opts.strict || site.config.strict;
    stats.briefs = site.briefs.len();
    // Problems of the output folder, theme and templates are reported after the bodies'.
    let mut setup = Diagnostics::new();
    let output_dir = match incremental {
        Some(dir) => Some(dir.root().to_path_buf()),
        None => match resolve_output(opts, &site.config) {
            Ok(p) => Some(p),
            Err(d) => {
                if opts.mode == Mode::Build {
                    setup.push(d);
                }
                None
            }
        },
    };
    let (theme, theme_diags) = theme::resolve(&opts.root, &site.config);
    setup.extend(theme_diags);
    let templates = match Templates::new(&theme) {
        Ok(t) => Some(t),
        Err(ds) => {
            setup.extend(ds);
            None
        }
    };
    let stop = |d: &Diagnostics| d.has_errors() || (strict && !d.is_empty());
    // A one-off build that can go ahead renders and writes each brief page as soon as its
    // body is parsed; everything else parses every body first.
    let ready = match (templates, output_dir) {
        (Some(t), Some(dir))
            if opts.mode == Mode::Build
                && incremental.is_none()
                && !stop(&diags)
                && !stop(&setup) =>
        {
            match Staging::new(&dir) {
                Ok(staging) => Ok((staging, t, dir)),
                Err(d) => {
                    setup.push(d);
                    Err((Some(t), Some(dir)))
                }
            }
        }
        other => Err(other),
    };
    let templates = match ready {
        Err((templates, _)) => templates,
        Ok((staging, templates, output_dir)) => {
            timer.step("load");
            let streamed = stream(
                &opts.root, site, bib, &templates, &staging, strict, &mut diags,
            );
            diags.extend(setup);
            timer.step("bodies and brief pages");
            let Some((site, shared, brief_pages)) = streamed.filter(|_| !stop(&diags)) else {
                return (finish(diags, strict, stats), None);
            };
            stats.pages = write_rest(
                &site,
                &templates,
                &shared,
                &staging,
                brief_pages,
                &mut diags,
            );
            timer.step("other pages");
            stats.files = stats.pages + copy_static(&site, &theme, &staging, &mut diags);
            if stop(&diags) {
                return (finish(diags, strict, stats), None);
            }
            timer.step("static files");
            if let Err(d) = staging.commit() {
                diags.push(d);
            }
            timer.step("commit");
            stats.output_dir = Some(output_dir);
            stats.seconds = started.elapsed().as_secs_f64();
            let outcome = finish(diags, strict, stats);
            timer.step("sort diagnostics");
            return (outcome, Some((site, templates)));
        }
    };
    let site = parse_bodies(site, bib, opts, incremental.is_some(), &mut diags);
    diags.extend(setup);
    if opts.mode == Mode::Check {
        stats.seconds = started.elapsed().as_secs_f64();
        // Handed back so that `build_then_exit` can skip freeing it.
        return (finish(diags, strict, stats), templates.map(|t| (site, t)));
    }
    let (Some(templates), Some(dir)) = (templates, incremental) else {
        return (finish(diags, strict, stats), None);
    };
    if stop(&diags) {
        return (finish(diags, strict, stats), None);
    }
    timer.step("load+parse+assemble");
    // `serve` renders every page before writing any, so a failing template never leaves the
    // preview half old, half new.
    let jobs = pages::jobs(&site);
    let shared = match pages::Shared::new(&site) {
        Ok(s) => s,
        Err(d) => {
            diags.push(d);
            return (finish(diags, strict, stats), None);
        }
    };
    let rendered: Vec<Result<(String, String), Diagnostic>> = jobs
        .par_iter()
        .map(|&job| pages::render(&site, &templates, &shared, job))
        .collect();
    let mut outputs = Vec::with_capacity(rendered.len());
    for r in rendered {
        match r {
            Ok(o) => outputs.push(o),
            Err(d) => diags.push(d),
        }
    }
    if stop(&diags) {
        return (finish(diags, strict, stats), None);
    }
    timer.step("render pages");
    let write_results: Vec<Result<(), Diagnostic>> = outputs
        .par_iter()
        .map(|(path, text)| output::Writer::write(dir, path, text.as_bytes()))
        .collect();
    diags.extend(write_results.into_iter().filter_map(Result::err));
    let to_index: Vec<(String, String)> = jobs
        .iter()
        .zip(outputs)
        .filter(|(job, _)| searchable(&site, **job))
        .map(|(_, (path, text))| (page_url(&site, &path), text))
        .collect();
    if site.config.search {
        write_search_index(dir, to_index, &mut diags);
    }
    stats.pages = jobs.len();
    stats.files = jobs.len() + copy_static(&site, &theme, dir, &mut diags);
    if diags.has_errors() {
        return (finish(diags, strict, stats), None);
    }
    timer.step("write");
    stats.output_dir = Some(dir.root().to_path_buf());
    stats.seconds = started.elapsed().as_secs_f64();
    (finish(diags, strict, stats), Some((site, templates)))
}

/// Static files: the theme's and the site's, then content assets beside their pages. Returns
/// how many files were copied or written.
fn copy_static(
    site: &Site,
    theme: &theme::Theme,
    writer: &dyn output::Writer,
    diags: &mut Diagnostics,
) -> usize {
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
    copies.len()
}

/// A page for the search index: its URL and HTML.
type SearchPage = (String, String);

/// A written brief page: for the search index when search is on, or why it failed.
type Page = Result<Option<SearchPage>, Diagnostic>;

/// A one-off build's body stage: parses each brief and writes its page at once, keeping only
/// what other pages show of it (claims, citations, headings, excerpt), never its HTML; then
/// the checks across pages, as [`parse_bodies`] does. Returns the site, the data pages share,
/// and, when search is on, each brief page's URL and text for the index.
///
/// A brief page lists related briefs, which depend on the sources every brief cites: these
/// are read first from the raw text ([`crate::citations::keys_in_text`]) and compared with
/// the parse afterwards. Where they differ, related briefs are worked out again and every
/// brief whose list changed is rendered again, so the output is always that of parsing
/// every body first.
fn stream(
    root: &std::path::Path,
    mut site: Site,
    bib: sources::Bibliography,
    templates: &Templates,
    writer: &dyn output::Writer,
    strict: bool,
    diags: &mut Diagnostics,
) -> Option<(Site, pages::Shared, Vec<SearchPage>)> {
    let mut timer = Timer::new("  ");
    let base_url = site.config.base_url.clone();
    // The sources each brief cites, from its raw text. A brief without a summary is parsed
    // now: other pages list it with its excerpt. Its text is kept, as the pass below keeps
    // others', if a check after the pass may point into its body.
    type Text = (Arc<SourceText>, std::ops::Range<usize>);
    type Early = (Vec<String>, Option<(markdown::Rendered, Option<Text>)>);
    let early: Vec<Early> = {
        let ctx = markdown::Context {
            targets: &site.link_targets,
            bib: &bib,
            base_url: &base_url,
            html: true,
        };
        site.briefs
            .par_iter()
            .map(|b| {
                let mut keys = if b.has_body() {
                    crate::citations::keys_in_text(&b.file.text[b.body.clone()])
                } else {
                    b.cited.clone()
                };
                keys.extend(b.rules.bindings.iter().map(|x| x.source.clone()));
                keys.sort_unstable();
                keys.dedup();
                let parsed = b.meta.summary.is_none().then(|| {
                    let rel = PathBuf::from(&b.key);
                    match b.body_text(root) {
                        Ok((file, body)) => {
                            let r =
                                markdown::render(&file, body.clone(), &rel, &ctx, Some(&b.rules));
                            let keep = !r.anchor_refs.is_empty() || !b.translations.is_empty();
                            (r, keep.then_some((file, body)))
                        }
                        Err(d) => {
                            let r = markdown::Rendered {
                                diagnostics: vec![d],
                                ..Default::default()
                            };
                            (r, None)
                        }
                    }
                });
                (keys, parsed)
            })
            .collect()
    };
    // Sources get their addresses and order (the same the full attach gives them below).
    site::place_sources(&mut site, bib);
    let mut guessed = Vec::with_capacity(early.len());
    let mut parsed_early = vec![false; early.len()];
    let mut early_diags: Vec<Vec<Diagnostic>> = Vec::new();
    for (i, (keys, parsed)) in early.into_iter().enumerate() {
        site.briefs[i].cited = keys.clone();
        guessed.push(keys);
        if let Some((mut r, text)) = parsed {
            early_diags.resize_with(i + 1, Vec::new);
            early_diags[i] = std::mem::take(&mut r.diagnostics);
            site.briefs[i].rendered = r;
            parsed_early[i] = true;
            if let Some((file, body)) = text {
                site.briefs[i].file = file;
                site.briefs[i].body = body;
            }
        }
    }
    site::relate(&mut site);
    timer.step("cited sources + related");
    let shared = match pages::Shared::new(&site) {
        Ok(s) => s,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    // A build that shows only its first warnings keeps only those (see `limit_warnings`).
    let limit = (!strict).then_some(crate::report::BUILD_WARNINGS_SHOWN);
    let n = site.briefs.len();
    let mut pages_out: Vec<Option<SearchPage>> = vec![None; n];
    let mut page_errors = Vec::new();
    let mut parsed: Vec<Option<markdown::Rendered>> = Vec::with_capacity(n);
    // Each brief's text, read by the pass and let go once its page is written, unless a
    // check after the pass may point into its body (a link to an anchor, a translation).
    let mut kept: Vec<(usize, Text)> = Vec::new();
    {
        let ctx = markdown::Context {
            targets: &site.link_targets,
            bib: &site.bib,
            base_url: &base_url,
            html: true,
        };
        // Parse, render and write; keep the parse without its HTML. In chunks, so that each
        // chunk's warnings are merged (and cut down) before the next is parsed; a chunk is
        // merged while the next one is made, so that no core waits for the merge.
        const CHUNK: usize = 1024;
        type Parsed = (Option<markdown::Rendered>, Page, Option<Text>);
        let make = |start: usize| -> Vec<Parsed> {
            (start..(start + CHUNK).min(n))
                .into_par_iter()
                .map(|i| {
                    let b = &site.briefs[i];
                    let (fresh, text) = if parsed_early[i] {
                        (None, None)
                    } else {
                        match b.body_text(root) {
                            Ok((file, body)) => {
                                let rel = PathBuf::from(&b.key);
                                let r = markdown::render(
                                    &file,
                                    body.clone(),
                                    &rel,
                                    &ctx,
                                    Some(&b.rules),
                                );
                                (Some(r), Some((file, body)))
                            }
                            Err(d) => return (None, Err(d), None),
                        }
                    };
                    let r = fresh.as_ref().unwrap_or(&b.rendered);
                    let cited = site::cited_keys(r, &b.rules);
                    let written = write_brief(&site, templates, &shared, writer, i, r, &cited);
                    let keep = !r.anchor_refs.is_empty() || !b.translations.is_empty();
                    (fresh.map(without_html), written, text.filter(|_| keep))
                })
                .collect()
        };
        let mut merge = |start: usize, pass: Vec<Parsed>| {
            for (i, (mut fresh, written, text)) in (start..).zip(pass) {
                kept.extend(text.map(|t| (i, t)));
                match &mut fresh {
                    Some(r) => diags.extend(std::mem::take(&mut r.diagnostics)),
                    None => diags.extend(
                        early_diags
                            .get_mut(i)
                            .map(std::mem::take)
                            .unwrap_or_default(),
                    ),
                }
                parsed.push(fresh);
                match written {
                    Ok(p) => pages_out[i] = p,
                    Err(d) => page_errors.push(d),
                }
            }
            if let Some(keep) = limit {
                diags.limit_warnings(keep);
            }
        };
        let mut made: Option<(usize, Vec<Parsed>)> = None;
        for start in (0..n).step_by(CHUNK) {
            let (pass, ()) = rayon::join(
                || make(start),
                || {
                    if let Some((at, pass)) = made.take() {
                        merge(at, pass);
                    }
                },
            );
            made = Some((start, pass));
        }
        if let Some((at, pass)) = made {
            merge(at, pass);
        }
    }
    for (b, fresh) in site.briefs.iter_mut().zip(parsed) {
        b.rendered = without_html(fresh.unwrap_or_else(|| std::mem::take(&mut b.rendered)));
    }
    for (i, (file, body)) in kept {
        site.briefs[i].file = file;
        site.briefs[i].body = body;
    }
    timer.step("markdown + claims + brief pages");

    let bib = std::mem::take(&mut site.bib);
    render_sections(&mut site, &bib, diags);
    diags.extend(site::check_anchors(&site));
    timer.step("sections + anchors");
    // `place_sources` placed them from this bibliography, above.
    diags.extend(site::attach_sources(
        &mut site,
        bib,
        site::Placed::FromThisBibliography,
    ));
    timer.step("attach sources");
    let differs = site.briefs.iter().zip(&guessed).any(|(b, g)| {
        let mut cited = b.cited.clone();
        cited.sort_unstable();
        cited != *g
    });
    if differs {
        // The raw text named other sources than the parse did (a key in code, a link that
        // looks like a citation): redo related briefs and the pages whose list changed.
        let before: Vec<Vec<usize>> = site
            .briefs
            .iter_mut()
            .map(|b| std::mem::take(&mut b.related))
            .collect();
        site::relate(&mut site);
        let ctx = markdown::Context {
            targets: &site.link_targets,
            bib: &site.bib,
            base_url: &base_url,
            html: true,
        };
        let again: Vec<(usize, Page)> = (0..site.briefs.len())
            .into_par_iter()
            .filter(|&i| site.briefs[i].related != before[i])
            .map(|i| {
                let b = &site.briefs[i];
                let written = reparse(root, b, &ctx)
                    .and_then(|r| write_brief(&site, templates, &shared, writer, i, &r, &b.cited));
                (i, written)
            })
            .collect();
        for (i, written) in again {
            match written {
                Ok(p) => pages_out[i] = p,
                Err(d) => page_errors.push(d),
            }
        }
    }
    timer.step("related again");
    diags.extend(site::check_translations(&site));
    diags.extend(page_errors);
    if let Some(keep) = limit {
        diags.limit_warnings(keep);
        // Problems are all found: the remaining pages need no file's text, only its path, so
        // the texts are let go (the few diagnostics kept hold their own).
        forget_texts(&mut site);
    }
    timer.step("translations");
    Some((site, shared, pages_out.into_iter().flatten().collect()))
}

/// Renders brief `i`'s page from its parse `r` and writes it: its URL and text for the search
/// index when search is on.
fn write_brief(
    site: &Site,
    templates: &Templates,
    shared: &pages::Shared,
    writer: &dyn output::Writer,
    i: usize,
    r: &markdown::Rendered,
    cited: &[String],
) -> Page {
    if site.config.search {
        let (path, text) = pages::render_brief(site, templates, shared, i, r, cited)?;
        writer.write(&path, text.as_bytes())?;
        return Ok(Some((page_url(site, &path), text)));
    }
    // Nothing indexes the page: streamed to its file, never whole in memory.
    let page = pages::brief_page(site, shared, i, r, cited)?;
    stream_template(
        templates,
        writer,
        pages::BRIEF_TEMPLATE,
        &page.path,
        &page.label,
        &page.ctx,
    )?;
    Ok(None)
}

/// Renders `template` with `ctx` straight into the file at `path` of the output (`label`
/// names the page in messages).
fn stream_template(
    templates: &Templates,
    writer: &dyn output::Writer,
    template: &str,
    path: &str,
    label: &str,
    ctx: &tera::Context,
) -> Result<(), Diagnostic> {
    let mut failed = None;
    let written = {
        let mut produce = |w: &mut dyn std::io::Write| {
            templates
                .render_into(template, ctx, label, w)
                .unwrap_or_else(|d| {
                    failed = Some(d);
                    Err(std::io::Error::other("the template failed"))
                })
        };
        writer.write_with(path, &mut produce)
    };
    match failed {
        Some(d) => Err(d),
        None => written,
    }
}

/// Replaces the text of every brief, and of every file a source is defined in, with nothing
/// (keeping the paths): about a tenth of a large site's memory.
fn forget_texts(site: &mut Site) {
    // One blank per file, by the text's address; each text is held here until the end so
    // that no address is reused meanwhile.
    type Blanks = std::collections::HashMap<*const SourceText, (Arc<SourceText>, Arc<SourceText>)>;
    let mut blank: Blanks = std::collections::HashMap::new();
    let mut forget = |file: &mut Arc<SourceText>| {
        let (_, empty) = blank.entry(Arc::as_ptr(file)).or_insert_with(|| {
            let empty = Arc::new(SourceText::new(file.display_path.clone(), String::new()));
            (Arc::clone(file), empty)
        });
        *file = Arc::clone(empty);
    };
    for b in &mut site.briefs {
        forget(&mut b.file);
    }
    let bib = &mut site.bib;
    for def in bib.sources.values_mut().chain(bib.repeats.iter_mut()) {
        forget(&mut def.at.file);
    }
}

/// Brief `b` parsed again for its page, from the text the build let go of: read again, and
/// refused if what the rest of the site shows of it (its claims and citations) changed
/// since it was first parsed.
fn reparse(
    root: &std::path::Path,
    b: &site::Brief,
    ctx: &markdown::Context<'_>,
) -> Result<markdown::Rendered, Diagnostic> {
    let (file, body) = b.body_text(root)?;
    let r = markdown::render(&file, body, &PathBuf::from(&b.key), ctx, Some(&b.rules));
    let old = &b.rendered;
    let same = r.claims.len() == old.claims.len()
        && r.citations.len() == old.citations.len()
        && r.claims
            .iter()
            .zip(&old.claims)
            .all(|(x, y)| x.range == y.range && x.text == y.text)
        && r.citations
            .iter()
            .zip(&old.citations)
            .all(|(x, y)| x.range == y.range && x.items == y.items);
    if !same {
        return Err(site::changed_while_building(&b.file.display_path));
    }
    Ok(r)
}

/// Renders and writes one page of [`write_rest`]: its URL and text for the search index when
/// it is searchable.
fn render_rest(
    site: &Site,
    templates: &Templates,
    shared: &pages::Shared,
    writer: &dyn output::Writer,
    job: pages::Job,
) -> Result<Option<(String, String)>, Diagnostic> {
    if let pages::Job::ClaimsJson = job {
        // Streamed: 150 MB on a 10,000-brief site.
        let mut produce = |w: &mut dyn std::io::Write| pages::write_claims_json(site, w);
        writer.write_with(pages::CLAIMS_JSON, &mut produce)?;
        return Ok(None);
    }
    let (template, path, label, ctx) = match pages::prepare(site, templates, shared, job)? {
        pages::Prepared::Done { path, html } => {
            writer.write(&path, html.as_bytes())?;
            return Ok(searchable(site, job).then(|| (page_url(site, &path), html)));
        }
        pages::Prepared::Template {
            template,
            path,
            label,
            ctx,
        } => (template, path, label, ctx),
    };
    if searchable(site, job) {
        let html = templates.render(template, &ctx, &label)?;
        writer.write(&path, html.as_bytes())?;
        return Ok(Some((page_url(site, &path), html)));
    }
    // Streamed to its file: the home page and a section listing 10,000 briefs are 5 MB each.
    stream_template(templates, writer, template, &path, &label, &ctx).map(|()| None)
}

/// A parsed body without what only its own page shows (the HTML and the notes' HTML).
/// Its lists are cut to their length too: the parse of every brief is kept to the end.
fn without_html(mut r: markdown::Rendered) -> markdown::Rendered {
    r.html = String::new();
    for c in &mut r.citations {
        c.note_html = String::new();
        c.items.shrink_to_fit();
    }
    r.citations.shrink_to_fit();
    r.claims.shrink_to_fit();
    // Other pages check links to its headings' ids; their text was for its own contents list.
    for h in &mut r.headings {
        h.text = String::new();
    }
    r.headings.shrink_to_fit();
    r.anchor_refs.shrink_to_fit();
    r.key_findings.shrink_to_fit();
    r
}

/// A site-wide page's outcome: the page to index for search (address, text), if any.
type RestResult = Result<Option<(String, String)>, Diagnostic>;

/// Renders and writes every page but the briefs' (written by [`stream`]), in one parallel
/// pass keeping no page in memory, then the search index over `brief_pages` and the source
/// pages. Returns how many pages the site has, briefs' included.
fn write_rest(
    site: &Site,
    templates: &Templates,
    shared: &pages::Shared,
    writer: &dyn output::Writer,
    brief_pages: Vec<(String, String)>,
    diags: &mut Diagnostics,
) -> usize {
    let jobs = pages::jobs(site);
    shared.warm(site);
    let order: Vec<usize> = pages::schedule(&jobs)
        .into_iter()
        .filter(|&i| !matches!(jobs[i], pages::Job::Brief(_)))
        .collect();
    // SOURCED_TIMINGS: the pages that took long, with when they started and ended, and the
    // time per kind of page.
    let traced = std::env::var_os("SOURCED_TIMINGS").is_some();
    let t0 = Instant::now();
    let spans: std::sync::Mutex<Vec<(f64, f64, pages::Job)>> = Default::default();
    // Each worker takes the next job in `order` as it becomes free, so the long pages start
    // first and the short ones fill in at the end. (A parallel iterator splits `order` into
    // halves up front, and one core did the half holding the claims table alone while the
    // other sat idle: 30% of this stage's time at 10,000 briefs.)
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, RestResult)> = (0..rayon::current_num_threads())
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut done = Vec::new();
            while let Some(&i) = order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
            {
                let job = jobs[i];
                let started = t0.elapsed().as_secs_f64();
                let r = render_rest(site, templates, shared, writer, job);
                let ended = t0.elapsed().as_secs_f64();
                if traced && let Ok(mut s) = spans.lock() {
                    s.push((started, ended, job));
                }
                done.push((i, r));
            }
            done
        })
        .collect();
    // Per kind of page: how many, and the worker threads' time they took together.
    let mut by_kind: std::collections::BTreeMap<String, (usize, f64)> = Default::default();
    for (from, to, job) in spans.into_inner().unwrap_or_default() {
        let kind = format!("{job:?}");
        let kind = kind.split('(').next().unwrap_or_default().to_string();
        let e = by_kind.entry(kind).or_default();
        e.0 += 1;
        e.1 += to - from;
        if to - from > 0.05 {
            eprintln!(
                "timing:     {job:?} {:.0}..{:.0} ms",
                from * 1000.0,
                to * 1000.0
            );
        }
    }
    for (kind, (n, secs)) in by_kind {
        eprintln!(
            "timing:     {kind}: {n} pages, {:.0} ms of threads' time",
            secs * 1000.0
        );
    }
    // Back in the jobs' order, for the search index and the order of problems.
    results.sort_unstable_by_key(|(i, _)| *i);
    let mut to_index = brief_pages;
    for (_, r) in results {
        match r {
            Ok(Some(page)) => to_index.push(page),
            Ok(None) => {}
            Err(d) => diags.push(d),
        }
    }
    if site.config.search && !diags.has_errors() {
        write_search_index(writer, to_index, diags);
    }
    jobs.len()
}

/// The result of trying to rebuild only what some edited briefs affect.
pub enum Partial {
    /// Done: the outcome, and how many pages were re-rendered.
    Done(Outcome, usize),
    /// The edit changes more than bodies (front matter, new or removed files, a failing
    /// parse): a full build is needed.
    NeedFull,
}

/// Does an edit keep everything other briefs and listings read from this brief's front matter?
fn same_structure(a: &front_matter::BriefMeta, b: &front_matter::BriefMeta) -> bool {
    a.title == b.title
        && a.date == b.date
        && a.updated == b.updated
        && a.authors == b.authors
        && a.summary == b.summary
        && a.tags == b.tags
        && a.lang == b.lang
        && a.translation_key == b.translation_key
        && a.draft == b.draft
        && a.slug == b.slug
        && a.weight == b.weight
        && a.sources == b.sources
        && a.claims == b.claims
        && a.not_claims == b.not_claims
}

/// What other pages show of a brief's body: [listing (excerpt, key findings), claims,
/// citations, the sources each claim and note counts for on the source index].
fn fingerprints(b: &site::Brief) -> [u64; 4] {
    use std::hash::{Hash, Hasher};
    let hash = |s: String| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    };
    let r = &b.rendered;
    let claims: Vec<String> = r
        .claims
        .iter()
        .map(|c| {
            format!(
                "{}|{}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}",
                c.number,
                c.text,
                c.kind,
                c.value,
                c.unit,
                c.sentence,
                c.status,
                c.citation,
                c.binding
            )
        })
        .collect();
    let cites: Vec<String> = r
        .citations
        .iter()
        .map(|g| format!("{}|{:?}|{}|{}", g.number, g.items, g.sentence, g.note_html))
        .collect();
    // What the source index counts: the sources of each sourced claim and of each note.
    let counted: Vec<String> = r
        .claims
        .iter()
        .filter(|c| c.status == markdown::ClaimStatus::Sourced)
        .map(|c| {
            let keys: Vec<&str> = c.sources(r, Some(&b.rules)).iter().map(|s| s.0).collect();
            keys.join(",")
        })
        .chain(r.citations.iter().map(|g| {
            let keys: Vec<&str> = g.items.iter().map(|i| &*i.key).collect();
            format!("@{}", keys.join(","))
        }))
        .collect();
    [
        hash(format!("{}|{:?}", r.excerpt, r.key_findings)),
        hash(claims.join("\n")),
        hash(cites.join("\n")),
        hash(counted.join("\n")),
    ]
}

/// Re-parses the briefs at `changed` (content-relative keys) whose bodies alone changed,
/// recomputes the site-wide checks, and re-renders only the pages that can show what changed:
/// the briefs themselves and their translations, the home page and their sections, their tag
/// pages, the pages of every source they cite (before or after the edit), the source index,
/// the claims table and claims.json, the feed, and every brief whose related list changed or
/// names them. The result is the same as a full build of the same files (tested).
pub fn rebuild_briefs(
    site: &mut Site,
    templates: &Templates,
    opts: &Options,
    changed: &[String],
    dir: &output::IncrementalDir,
) -> Partial {
    let mut timer = Timer::new("");
    let mut indexes = Vec::new();
    let mut bib_changed = false;
    for key in changed {
        let Some(i) = site.briefs.iter().position(|b| &b.key == key) else {
            return Partial::NeedFull;
        };
        let path = opts.root.join("content").join(key);
        let Ok(file) = discover::read_text(&opts.root, &path) else {
            return Partial::NeedFull;
        };
        let Ok(split) = front_matter::split(&file) else {
            return Partial::NeedFull;
        };
        let Ok(meta) = front_matter::parse_brief(&file, split.as_ref()) else {
            return Partial::NeedFull;
        };
        if !same_structure(&site.briefs[i].meta, &meta) {
            return Partial::NeedFull;
        }
        let body = split.map_or(0..file.text.len(), |s| s.body);
        // Front matter byte-identical: its sources and rules (with their positions) stand.
        let old = &site.briefs[i];
        if old.file.text[old.meta.yaml.clone()] == file.text[meta.yaml.clone()]
            && old.meta.yaml == meta.yaml
        {
            let b = &mut site.briefs[i];
            b.file = file;
            b.meta = meta;
            b.body = body;
            indexes.push(i);
            continue;
        }
        bib_changed = true;
        let Ok((defs, rules)) = brief_extras(&file, &meta, key) else {
            return Partial::NeedFull;
        };
        let b = &mut site.briefs[i];
        b.file = file;
        b.meta = meta;
        b.body = body;
        b.sources = defs;
        b.rules = rules;
        indexes.push(i);
    }
    let claim_pages = pages::claims_jobs(site).len();
    let claim_counts: Vec<usize> = indexes
        .iter()
        .map(|&i| site.briefs[i].rendered.claims.len())
        .collect();
    let before: Vec<[u64; 4]> = indexes
        .iter()
        .map(|&i| fingerprints(&site.briefs[i]))
        .collect();
    // The bibliography, from the same definitions a full build would read.
    let bib = if bib_changed {
        let mut defs = site.site_wide_defs.clone();
        for b in &site.briefs {
            defs.extend(b.sources.iter().cloned());
        }
        let (bib, conflicts) = sources::Bibliography::build(defs);
        if !conflicts.is_empty() {
            return Partial::NeedFull;
        }
        bib
    } else {
        std::mem::take(&mut site.bib)
    };
    let base_url = site.config.base_url.clone();
    let targets = std::mem::take(&mut site.link_targets);
    {
        let ctx = markdown::Context {
            targets: &targets,
            bib: &bib,
            base_url: &base_url,
            html: true,
        };
        for &i in &indexes {
            let b = &site.briefs[i];
            let rel = PathBuf::from(&b.key);
            let r = markdown::render(&b.file, b.body.clone(), &rel, &ctx, Some(&b.rules));
            site.briefs[i].rendered = r;
            site.briefs[i].claims_json = Default::default();
        }
    }
    site.link_targets = targets;
    site.claim_index = Default::default();
    if pages::claims_jobs(site).len() != claim_pages {
        // The claims table gained or lost a page: a full build removes the one gone.
        return Partial::NeedFull;
    }
    timer.step("reparse");
    let after: Vec<[u64; 4]> = indexes
        .iter()
        .map(|&i| fingerprints(&site.briefs[i]))
        .collect();
    let listing_same = before.iter().zip(&after).all(|(a, b)| a[0] == b[0]);
    let claims_same = before.iter().zip(&after).all(|(a, b)| a[1] == b[1]);
    let cites_same = before.iter().zip(&after).all(|(a, b)| a[2] == b[2]);
    let counts_same = before.iter().zip(&after).all(|(a, b)| a[3] == b[3]);
    let old_related: Vec<Vec<usize>> = site.briefs.iter().map(|b| b.related.clone()).collect();
    let old_cited: Vec<String> = indexes
        .iter()
        .flat_map(|&i| site.briefs[i].cited.clone())
        .collect();

    // Warnings of unchanged files are counted, not copied, unless strict makes them errors.
    let strict = opts.strict || site.config.strict;
    let mut diags = Diagnostics::new();
    let mut kept_warnings = 0;
    let all = site
        .load_diags
        .iter()
        .chain(
            site.briefs
                .iter()
                .flat_map(|b| b.rendered.diagnostics.iter()),
        )
        .chain(
            site.sections
                .iter()
                .flat_map(|s| s.rendered.diagnostics.iter()),
        );
    for d in all {
        if strict || d.is_error() {
            diags.push(d.clone());
        } else {
            kept_warnings += 1;
        }
    }
    diags.extend(site::check_anchors(site));
    // Same cited keys in the same notes and the same bibliography: the source entries and
    // related briefs stand (source pages read the citing sentences from the briefs).
    if bib_changed || !counts_same {
        site.attach_diags = site::attach_sources(site, bib, site::Placed::Unknown);
        site::relate(site);
    } else {
        site.bib = bib;
    }
    diags.extend(site.attach_diags.iter().cloned());
    diags.extend(site::check_translations(site));
    let stats = Stats {
        briefs: site.briefs.len(),
        ..Stats::default()
    };
    timer.step("site checks");
    if diags.has_errors() || (strict && !diags.is_empty()) {
        let mut outcome = finish(diags, strict, stats);
        outcome.warning_count += kept_warnings;
        return Partial::Done(outcome, 0);
    }

    // The pages that can show what changed.
    let mut dirty: BTreeSet<(u8, usize)> = BTreeSet::new();
    let mut cited: BTreeSet<String> = old_cited.into_iter().collect();
    // Pages that list a brief show its excerpt and key findings; source pages its citing
    // sentences; the claims table its claims. Each is redone only when what it shows changed.
    for &i in &indexes {
        let b = &site.briefs[i];
        dirty.insert((0, i));
        dirty.extend(b.translations.iter().map(|&t| (0, t)));
        if !listing_same {
            dirty.insert((1, 0));
            let mut s = Some(b.section);
            while let Some(si) = s {
                dirty.insert((1, si));
                s = site.sections[si].parent;
            }
            dirty.extend(b.tags.iter().map(|&t| (2, t)));
        }
        cited.extend(b.cited.iter().cloned());
    }
    for (j, b) in site.briefs.iter().enumerate() {
        if b.related != old_related[j]
            || (!listing_same && b.related.iter().any(|r| indexes.contains(r)))
        {
            dirty.insert((0, j));
        }
    }
    if !cites_same {
        for (e, entry) in site.sources.iter().enumerate() {
            if cited.contains(&entry.key) {
                dirty.insert((3, e));
            }
        }
    }
    let mut jobs: Vec<pages::Job> = dirty
        .into_iter()
        .map(|(kind, i)| match kind {
            0 => pages::Job::Brief(i),
            1 => pages::Job::Section(i),
            2 => pages::Job::Tag(i),
            _ => pages::Job::Source(i),
        })
        .collect();
    if !counts_same {
        jobs.extend(pages::sources_jobs(site));
    }
    if !claims_same {
        let same_counts = indexes
            .iter()
            .zip(&claim_counts)
            .all(|(&i, &n)| site.briefs[i].rendered.claims.len() == n);
        jobs.extend(pages::claims_jobs_for(site, &indexes, same_counts));
    }
    if !listing_same {
        jobs.push(pages::Job::Feed);
    }
    let site_ref: &Site = site;
    let shared = match pages::Shared::new(site_ref) {
        Ok(s) => s,
        Err(_) => return Partial::NeedFull,
    };
    let rendered: Vec<Result<(String, String), Diagnostic>> = jobs
        .par_iter()
        .map(|&job| {
            let t0 = Instant::now();
            let r = pages::render(site_ref, templates, &shared, job);
            if timer.on {
                eprintln!(
                    "timing:   {job:?} {:.1} ms",
                    t0.elapsed().as_secs_f64() * 1000.0
                );
            }
            r
        })
        .collect();
    timer.step(&format!("render {} pages", jobs.len()));
    dir.begin_partial();
    for r in &rendered {
        match r {
            Ok((path, text)) => {
                if let Err(d) = output::Writer::write(dir, path, text.as_bytes()) {
                    diags.push(d);
                }
            }
            Err(d) => diags.push(d.clone()),
        }
    }
    dir.settle_partial();
    timer.step("write");
    let count = jobs.len();
    let mut outcome = finish(diags, strict, stats);
    outcome.warning_count += kept_warnings;
    Partial::Done(outcome, count)
}
