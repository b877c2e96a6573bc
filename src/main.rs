//! Entry point: parse the command line, run the command, print diagnostics, exit 0/1/2.

use std::process::ExitCode;

use clap::Parser;

use sourced::cli::{ClaimsCommand, Cli, Command, SiteArgs};
use sourced::pipeline::{self, Mode, Options};
use sourced::{init, report};

// jemalloc, already built for the search index (Pagefind depends on it): a build allocates
// millions of short-lived strings from two threads, where it beats the system allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn options(site: SiteArgs, mode: Mode) -> Options {
    Options {
        root: site.root,
        output: None,
        base_url: None,
        drafts: site.drafts,
        strict: site.strict,
        mode,
        no_search: false,
        partial_rebuilds: false,
    }
}

fn run_pipeline(opts: &Options) -> ExitCode {
    let outcome = pipeline::build_then_exit(opts);
    // `build` lists every error and the first warnings; `check` lists everything.
    if opts.mode == Mode::Build {
        let mut shown = 0;
        let mut hidden = outcome.hidden_warnings;
        let list: Vec<_> = outcome
            .diagnostics
            .iter()
            .filter(|d| {
                if d.is_error() {
                    return true;
                }
                shown += 1;
                if shown > report::BUILD_WARNINGS_SHOWN {
                    hidden += 1;
                    return false;
                }
                true
            })
            .cloned()
            .collect();
        report::print_all(&list);
        if hidden > 0 {
            eprintln!(
                "{hidden} more warning{} not shown (`sourced check` lists them all)",
                if hidden == 1 { "" } else { "s" }
            );
        }
    } else {
        report::print_all(&outcome.diagnostics);
    }
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = outcome.diagnostics.len() - errors + outcome.hidden_warnings;
    if !outcome.ok {
        eprintln!(
            "{} failed: {errors} error{}, {warnings} warning{}{}",
            if opts.mode == Mode::Build {
                "build"
            } else {
                "check"
            },
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
            if opts.mode == Mode::Build {
                "; the output folder was left as it was"
            } else {
                ""
            }
        );
        return ExitCode::from(1);
    }
    let s = &outcome.stats;
    match opts.mode {
        Mode::Build => eprintln!(
            "built {} brief{} ({} pages, {} files) into {} in {:.2} s{}",
            s.briefs,
            if s.briefs == 1 { "" } else { "s" },
            s.pages,
            s.files,
            s.output_dir
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            s.seconds,
            if warnings > 0 {
                format!(
                    ", {warnings} warning{}",
                    if warnings == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        ),
        Mode::Check => eprintln!(
            "checked {} brief{}: no errors{}",
            s.briefs,
            if s.briefs == 1 { "" } else { "s" },
            if warnings > 0 {
                format!(
                    ", {warnings} warning{}",
                    if warnings == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        ),
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build(args) => {
            let mut opts = options(args.site, Mode::Build);
            opts.output = args.output;
            opts.base_url = args.base_url;
            opts.no_search = args.no_search;
            run_pipeline(&opts)
        }
        Command::Check(args) => run_pipeline(&options(args.site, Mode::Check)),
        Command::Serve(args) => ExitCode::from(sourced::serve::run(sourced::serve::ServeOptions {
            root: args.root,
            port: args.port,
            bind: args.bind,
            drafts: args.drafts,
            open: args.open,
            output: args.output,
        })),
        Command::Claims(ClaimsCommand::List(args)) => {
            let json = args.json;
            let opts = options(args.site, Mode::Check);
            let mut diags = sourced::diagnostics::Diagnostics::new();
            let Some(site) = pipeline::load(&opts, &mut diags) else {
                report::print_all(&diags.into_sorted());
                return ExitCode::from(1);
            };
            let errors: Vec<_> = diags
                .into_sorted()
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            if !errors.is_empty() {
                report::print_all(&errors);
                return ExitCode::from(1);
            }
            let mut out = std::io::stdout().lock();
            use std::io::Write;
            if json {
                let rows = sourced::pages::claim_rows(&site);
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                );
            } else {
                for b in &site.briefs {
                    for c in &b.rendered.claims {
                        let loc = sourced::diagnostics::Location::new(&b.file, c.range.clone());
                        let (line, col) = loc.line_col();
                        let status = match c.status {
                            sourced::markdown::ClaimStatus::Sourced => "sourced",
                            sourced::markdown::ClaimStatus::Unsourced => "unsourced",
                            sourced::markdown::ClaimStatus::NotClaim => "not a claim",
                        };
                        let sources: Vec<String> = c
                            .sources(&b.rendered, Some(&b.rules))
                            .into_iter()
                            .map(|(k, l)| {
                                if l.is_empty() {
                                    k.to_string()
                                } else {
                                    format!("{k} ({l})")
                                }
                            })
                            .collect();
                        let _ = writeln!(
                            out,
                            "{}:{line}:{col}\t{status}\t{}\t{}",
                            b.file.display_path.display(),
                            c.text,
                            sources.join("; ")
                        );
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Command::Claims(ClaimsCommand::Detect) => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            match sourced::claims::detect_jsonl(stdin, stdout) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: claims detect: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Init(args) => match init::init(&args.dir, &args.title, &args.base_url) {
            Ok(()) => {
                eprintln!(
                    "created a site in {}\nnext: cd {} && sourced build",
                    args.dir.display(),
                    args.dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(d) => {
                report::print_all(&[d]);
                ExitCode::from(1)
            }
        },
    }
}
