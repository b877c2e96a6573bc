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
    text: SnippetText,
    /// The header's column, 0-based, in characters of the line as written.
    column: usize,
}

/// The text a snippet is drawn from: the file itself, or its start with long lines cut
/// ([`cut_long_lines`]).
enum SnippetText {
    File(Arc<SourceText>),
    Cut(String),
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let bytes = match &self.text {
            SnippetText::File(file) => file.text.as_bytes(),
            SnippetText::Cut(text) => text.as_bytes(),
        };
        let inner = bytes.read_span(span, context_lines_before, context_lines_after)?;
        // miette gives a column only when reading without lines before (the header's read);
        // with lines before, the contents start at a line's start (column 0).
        let column = if context_lines_before == 0 {
            self.column
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

/// A snippet shows a line whole up to this many columns (a Chinese character takes two); a
/// longer line (a paragraph written on one line) is cut to about this many around the
/// marked span, as rustc does.
const SNIPPET_WIDTH: usize = 100;

/// Columns of a cut line kept before the marked span.
const SNIPPET_BEFORE: usize = 40;

/// Columns `c` takes in a terminal, as miette counts them when it draws the marker.
fn columns(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
}

/// Where `line` goes past `width` columns (a byte index); None when it fits.
fn past(line: &str, width: usize) -> Option<usize> {
    let mut w = 0;
    line.char_indices().find_map(|(i, c)| {
        w += columns(c);
        (w > width).then_some(i)
    })
}

/// The start of `text` up to the line after the one holding `range`, with that line and the
/// one on each side (the lines a snippet shows) cut to [`SNIPPET_WIDTH`]: the marked line
/// around the span, the others after their start, an ellipsis where something was left
/// out. Gives the span's range in the result; None when no line is that long, or when the
/// span runs over more than one line.
fn cut_long_lines(
    text: &str,
    range: std::ops::Range<usize>,
) -> Option<(String, std::ops::Range<usize>)> {
    let marked = text.get(range.clone())?;
    if marked.contains(['\n', '\r']) {
        return None;
    }
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[range.end..]
        .find('\n')
        .map_or(text.len(), |i| range.end + i);
    let prev_start = match line_start {
        0 => 0,
        _ => text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1),
    };
    let next_end = match text.get(line_end + 1..) {
        Some(rest) => rest.find('\n').map_or(text.len(), |i| line_end + 1 + i),
        None => text.len(),
    };
    let long = |line: &str| past(line, SNIPPET_WIDTH).is_some();
    let prev = (prev_start < line_start).then(|| &text[prev_start..line_start - 1]);
    let line = &text[line_start..line_end];
    let next = (line_end < next_end).then(|| &text[line_end + 1..next_end]);
    if !long(line) && !prev.is_some_and(long) && !next.is_some_and(long) {
        return None;
    }
    // The start of a line, cut after SNIPPET_WIDTH columns.
    let head = |out: &mut String, line: &str| match past(line, SNIPPET_WIDTH) {
        Some(at) => {
            out.push_str(&line[..at]);
            out.push('…');
        }
        None => out.push_str(line),
    };
    let mut out = String::with_capacity(prev_start + 12 * SNIPPET_WIDTH);
    out.push_str(&text[..prev_start]);
    if let Some(prev) = prev {
        head(&mut out, prev);
        out.push('\n');
    }
    // The marked line: from SNIPPET_BEFORE columns before the span, to SNIPPET_WIDTH columns
    // in all or the span's end, whichever is later.
    let (s, e) = (range.start - line_start, range.end - line_start);
    let from = if long(line) {
        let mut w = 0;
        line[..s]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| {
                w += columns(c);
                w <= SNIPPET_BEFORE
            })
            .last()
            .map_or(s, |(i, _)| i)
    } else {
        0
    };
    let to = past(&line[from..], SNIPPET_WIDTH)
        .map_or(line.len(), |i| from + i)
        .max(e);
    if from > 0 {
        out.push('…');
    }
    let start = out.len() + (s - from);
    out.push_str(&line[from..to]);
    if to < line.len() {
        out.push('…');
    }
    if let Some(next) = next {
        out.push('\n');
        head(&mut out, next);
    }
    Some((out, start..start + (e - s)))
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
    let (line, col) = loc.line_col();
    let (text, span) = match cut_long_lines(&loc.file.text, loc.range.clone()) {
        Some((cut, span)) => (SnippetText::Cut(cut), span),
        None => (SnippetText::File(loc.file.clone()), loc.range.clone()),
    };
    let mut md = MietteDiagnostic::new(d.message.clone()).with_severity(severity);
    md = md.with_label(LabeledSpan::new_primary_with_span(
        Some(d.label.clone().unwrap_or_else(|| "here".to_string())),
        (span.start, span.len()),
    ));
    if let Some(h) = &d.hint {
        md = md.with_help(h.clone());
    }
    let name = loc.file.display_path.display().to_string();
    let report = miette::Report::new(md).with_source_code(Snippet {
        name,
        text,
        column: col - 1,
    });
    let mut out = String::new();
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

#[cfg(test)]
mod tests {
    use super::{SNIPPET_WIDTH, columns, cut_long_lines};

    /// Cuts `text` around `marked` (its first occurrence): the result, and what its span
    /// holds.
    fn cut(text: &str, marked: &str) -> Option<(String, String)> {
        let at = text.find(marked).unwrap();
        cut_long_lines(text, at..at + marked.len()).map(|(t, r)| {
            let span = t[r].to_string();
            (t, span)
        })
    }

    fn width(line: &str) -> usize {
        line.chars().map(columns).sum()
    }

    #[test]
    fn short_lines_and_spans_over_lines_are_left_whole() {
        assert_eq!(cut("a\nshort line with 60%\nb\n", "60%"), None);
        let long = "x ".repeat(80);
        assert_eq!(cut(&format!("{long}60\n%{long}\n"), "60\n%"), None);
    }

    #[test]
    fn a_long_line_is_cut_around_the_span_with_ellipses() {
        let before = "word ".repeat(40);
        let after = " more".repeat(40);
        let text = format!("first\n{before}17 times{after}\nlast\n");
        let (cut, span) = cut(&text, "17 times").unwrap();
        assert_eq!(span, "17 times");
        let lines: Vec<&str> = cut.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "first");
        assert!(
            lines[1].starts_with('…') && lines[1].ends_with('…'),
            "{}",
            lines[1]
        );
        assert!(width(lines[1]) <= SNIPPET_WIDTH + 2, "{}", lines[1]);
        // About SNIPPET_BEFORE columns of context before the span.
        let shown_before = lines[1].split("17 times").next().unwrap();
        assert!((38..=42).contains(&width(shown_before)), "{shown_before:?}");
        assert_eq!(lines[2], "last");
    }

    #[test]
    fn chinese_is_cut_by_columns_and_long_context_lines_after_their_start() {
        let line = format!(
            "{}達到 60%。{}",
            "中國的晶片進口增加，".repeat(10),
            "很長的段落，".repeat(20)
        );
        let context = "上下文".repeat(60);
        let text = format!("{context}\r\n{line}\r\n{context}\r\nend\r\n");
        let (cut, span) = cut(&text, "60%").unwrap();
        assert_eq!(span, "60%");
        let lines: Vec<&str> = cut.lines().collect();
        assert_eq!(lines.len(), 3, "{cut}");
        for l in &lines {
            assert!(width(l) <= SNIPPET_WIDTH + 2, "{l}");
        }
        assert!(lines[0].starts_with("上下文") && lines[0].ends_with('…'));
        assert!(lines[1].starts_with('…') && lines[1].contains("達到 60%。"));
        assert!(lines[2].starts_with("上下文") && lines[2].ends_with('…'));
    }

    #[test]
    fn a_span_at_either_end_of_a_long_line_is_kept_whole() {
        let long = "y".repeat(300);
        let (_, span) = cut(&format!("42% {long}\n"), "42%").unwrap();
        assert_eq!(span, "42%");
        let text = format!("{long} 42%");
        let (shown, span) = cut(&text, "42%").unwrap();
        assert_eq!(span, "42%");
        assert!(shown.ends_with("42%") && shown.starts_with('…'));
        // A marked span wider than a line is shown whole.
        let wide = "9".repeat(250);
        let (_, span) = cut(&format!("{long} {wide} {long}\n"), &wide).unwrap();
        assert_eq!(span, wide);
    }
}
