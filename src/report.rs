//! Report: diagnostics to the terminal. The only user of miette.
//!
//! Each diagnostic with a location is drawn as a snippet (`file:line:col`, the offending line,
//! a marker under the span, and the hint); colour only when stderr is a terminal and
//! `NO_COLOR` is unset.

use std::io::IsTerminal;

use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostics::{Diagnostic, Severity, SourceText};

/// A file's text as miette reads it, with the column of the snippet's header
/// (`╭─[file:line:col]`) counted in characters, as our first line counts it: miette counts
/// bytes, so a position after Chinese text read `38:394` in the header and `38:154` above it.
struct Snippet {
    name: String,
    file: Arc<SourceText>,
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.file
                .text
                .as_bytes()
                .read_span(span, context_lines_before, context_lines_after)?;
        // miette gives a column only when reading without lines before (the header's read);
        // with lines before, the contents start at a line's start (column 0).
        let column = if context_lines_before == 0 {
            self.file.line_col(span.offset()).1 - 1
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

fn handler() -> GraphicalReportHandler {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1)
        .with_links(false)
}

/// Renders one diagnostic as text (ending with a newline).
pub fn render(d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let Some(loc) = &d.location else {
        let kind = if d.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        let mut out = match &d.path {
            Some(p) => format!("{kind}: {}\n  --> {}\n", d.message, p.display()),
            None => format!("{kind}: {}\n", d.message),
        };
        if let Some(h) = &d.hint {
            out.push_str(&format!("  help: {h}\n"));
        }
        return out;
    };
    let mut md = MietteDiagnostic::new(d.message.clone()).with_severity(severity);
    let len = loc.range.len();
    md = md.with_label(LabeledSpan::new_primary_with_span(
        Some(d.label.clone().unwrap_or_else(|| "here".to_string())),
        (loc.range.start, len),
    ));
    if let Some(h) = &d.hint {
        md = md.with_help(h.clone());
    }
    let name = loc.file.display_path.display().to_string();
    let report = miette::Report::new(md).with_source_code(Snippet {
        name,
        file: loc.file.clone(),
    });
    let mut out = String::new();
    let (line, col) = loc.line_col();
    if handler().render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{}\n", d);
    }
    // A plain first line keeps the position greppable whatever the snippet looks like.
    let kind = if d.severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    format!(
        "{kind}: {}:{line}:{col}: {}\n{out}",
        loc.file.display_path.display(),
        d.message
    )
}

/// `build` lists every error but only this many warnings (`check` lists them all).
pub const BUILD_WARNINGS_SHOWN: usize = 100;

/// Warnings drawn with a snippet; the ones after are one line each (`file:line:col: message`),
/// so a site with thousands of warnings is listed in seconds and stays greppable.
pub const FULL_WARNINGS: usize = 200;

/// One line for a diagnostic: `warning: file:line:col: message`.
pub fn render_line(d: &Diagnostic) -> String {
    let kind = if d.severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    match (&d.location, &d.path) {
        (Some(loc), _) => {
            let (line, col) = loc.line_col();
            format!(
                "{kind}: {}:{line}:{col}: {}\n",
                loc.file.display_path.display(),
                d.message
            )
        }
        (None, Some(p)) => format!("{kind}: {}: {}\n", p.display(), d.message),
        (None, None) => format!("{kind}: {}\n", d.message),
    }
}

/// Prints every diagnostic to stderr, in order: errors and the first [`FULL_WARNINGS`]
/// warnings with their snippets (drawn in parallel), later warnings one line each.
pub fn print_all(diags: &[Diagnostic]) {
    use rayon::prelude::*;
    use std::io::Write;
    let stderr = std::io::stderr();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stderr.lock());
    let mut warnings = 0;
    let full: Vec<bool> = diags
        .iter()
        .map(|d| {
            if d.is_error() {
                return true;
            }
            warnings += 1;
            warnings <= FULL_WARNINGS
        })
        .collect();
    let mut short = 0;
    for (chunk, full) in diags.chunks(4096).zip(full.chunks(4096)) {
        let texts: Vec<String> = chunk
            .par_iter()
            .zip(full)
            .map(|(d, &full)| {
                if full {
                    render(d) + "\n"
                } else {
                    render_line(d)
                }
            })
            .collect();
        short += full.iter().filter(|f| !**f).count();
        for t in texts {
            if out.write_all(t.as_bytes()).is_err() {
                return;
            }
        }
    }
    if short > 0 {
        let _ = writeln!(
            out,
            "({short} warnings after the first {FULL_WARNINGS} are shown one per line)"
        );
    }
    let _ = out.flush();
}
