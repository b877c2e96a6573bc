//! Diagnostics: the error and warning values every stage returns.
//!
//! A [`Diagnostic`] is plain data: a severity, a message, an optional hint and an optional
//! [`Location`] (a file's display path, its whole text, and a byte range into that text).
//! Line and column are computed only when asked ([`Location::line_col`]), so stages keep exact
//! byte offsets into the original file. Nothing here touches a terminal: `report` renders.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How bad a diagnostic is. Warnings become errors under `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A file as read from disk: the path shown to the user (relative to the site root) and its text.
#[derive(Debug)]
pub struct SourceText {
    pub display_path: PathBuf,
    pub text: String,
    /// Byte offsets where lines start, made when a position is first asked for.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceText {
    pub fn new(display_path: impl Into<PathBuf>, text: impl Into<String>) -> SourceText {
        SourceText {
            display_path: display_path.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// 1-based line and character column of byte `offset`, from an index of line starts made
    /// once, not by scanning the text from its start each time (a brief may have hundreds of
    /// warnings).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = &self.text;
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line.saturating_sub(1)];
        (line, text[start..offset].chars().count() + 1)
    }
}

/// Where a diagnostic points: a byte range in a file's text.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: Arc<SourceText>,
    pub range: Range<usize>,
}

impl Location {
    pub fn new(file: &Arc<SourceText>, range: Range<usize>) -> Self {
        let len = file.text.len();
        let start = floor_char_boundary(&file.text, range.start.min(len));
        let end = floor_char_boundary(&file.text, range.end.clamp(start, len));
        Location {
            file: Arc::clone(file),
            range: start..end,
        }
    }

    /// 1-based line and column (column counted in characters) of the range's start.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.range.start)
    }
}

/// Byte offset of 1-based `line` and 0-based byte `col` in `text`, clamped to the text.
pub fn offset_of_line(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(i, _)| i + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One problem found in a run.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Box<Location>>,
    /// A label shown under the marked span ("here", "unknown key").
    pub label: Option<String>,
    /// How to fix it.
    pub hint: Option<String>,
    /// A file named without a position (an unreadable file, an output folder).
    pub path: Option<PathBuf>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            label: None,
            hint: None,
            path: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn at(mut self, file: &Arc<SourceText>, range: Range<usize>) -> Self {
        self.location = Some(Box::new(Location::new(file, range)));
        self
    }

    pub fn at_location(mut self, location: Location) -> Self {
        self.location = Some(Box::new(location));
        self
    }

    pub fn in_file(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`, or `file`, or nothing.
    pub fn position(&self) -> Option<String> {
        if let Some(loc) = &self.location {
            let (line, col) = loc.line_col();
            Some(format!("{}:{line}:{col}", loc.file.display_path.display()))
        } else {
            self.path.as_ref().map(|p| p.display().to_string())
        }
    }

    /// Sort key: file, then offset, then message, so reports are stable.
    fn sort_key(&self) -> (&Path, usize, Severity, &str) {
        match &self.location {
            Some(loc) => (
                &loc.file.display_path,
                loc.range.start,
                self.severity,
                &self.message,
            ),
            None => (
                self.path.as_deref().unwrap_or(Path::new("")),
                0,
                self.severity,
                &self.message,
            ),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.position() {
            Some(pos) => write!(f, "{pos}: {kind}: {}", self.message)?,
            None => write!(f, "{kind}: {}", self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// All diagnostics of a run, collected from every stage.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// Warnings dropped by [`Diagnostics::limit_warnings`], counted only.
    hidden: usize,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Warnings, including those only counted (see [`Diagnostics::limit_warnings`]).
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count() + self.hidden
    }

    /// How many warnings [`Diagnostics::limit_warnings`] dropped.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Keeps every error and the first `keep` warnings in sorted order, and only counts the
    /// rest: a build shows its first warnings, and on a large site the others (100,000 on
    /// 10,000 briefs) would take a tenth of its memory. The result sorts the same as if all
    /// were kept, as long as warnings added later are not duplicates of dropped ones.
    pub fn limit_warnings(&mut self, keep: usize) {
        let mut warnings = 0;
        for d in sorted(std::mem::take(&mut self.items)) {
            if !d.is_error() {
                warnings += 1;
                if warnings > keep {
                    self.hidden += 1;
                    continue;
                }
            }
            self.items.push(d);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Under `--strict`, every warning is an error.
    pub fn promote_warnings(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
    }

    /// Sorted by file and position, duplicates removed.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        sorted(self.items)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

/// `items` sorted by file and position, duplicates removed.
fn sorted(items: Vec<Diagnostic>) -> Vec<Diagnostic> {
    use rayon::slice::ParallelSliceMut;
    // A large site can have 100,000 warnings in 10,000 files: comparing paths (component by
    // component) in every comparison of the sort was most of its time. Each distinct path
    // gets its rank once, and the sort compares ranks; the order is the same.
    let mut paths: Vec<&Path> = items.iter().map(|d| d.sort_key().0).collect();
    // A file's problems mostly come together: drop those repeats before sorting.
    paths.dedup();
    paths.sort_unstable();
    paths.dedup();
    let rank: std::collections::HashMap<&Path, usize, crate::FastHasher> =
        paths.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let ranks: Vec<usize> = items
        .iter()
        .map(|d| rank.get(d.sort_key().0).copied().unwrap_or(0))
        .collect();
    drop(rank);
    let mut keyed: Vec<(usize, Diagnostic)> = ranks.into_iter().zip(items).collect();
    // Stable, like `sort_by`.
    keyed.par_sort_by(|(ra, a), (rb, b)| {
        let (_, sa, va, ma) = a.sort_key();
        let (_, sb, vb, mb) = b.sort_key();
        (ra, sa, va, ma).cmp(&(rb, sb, vb, mb))
    });
    keyed.dedup_by(|(ra, a), (rb, b)| {
        let (_, sa, va, ma) = a.sort_key();
        let (_, sb, vb, mb) = b.sort_key();
        (ra, sa, va, ma) == (rb, sb, vb, mb)
    });
    keyed.into_iter().map(|(_, d)| d).collect()
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(items: Vec<Diagnostic>) -> Self {
        Diagnostics { items, hidden: 0 }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// "did you mean `x`?" for a misspelt key, from a list of valid ones.
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(unknown, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_diagnostics_follow_path_order_then_offset_then_severity_then_message() {
        let files: Vec<Arc<SourceText>> = ["a/b.md", "a.b.md", "a/a.md", "b.md", "a/b.md"]
            .iter()
            .map(|p| Arc::new(SourceText::new(*p, "0123456789\n0123456789\n")))
            .collect();
        let mut items = Vec::new();
        for (i, f) in files.iter().enumerate() {
            for off in [9, 4, 15] {
                items.push(Diagnostic::warning(format!("w{}", off % 2)).at(f, off..off + 1));
                items.push(Diagnostic::error("e").at(f, off..off + 1));
                // Duplicates (also from a second text of the same path) are reported once.
                items.push(Diagnostic::warning("w1").at(f, off..off + 1));
            }
            items.push(Diagnostic::error(format!("unreadable {i}")).in_file("a/b.md"));
        }
        items.push(Diagnostic::error("no place"));
        let describe = |ds: &[Diagnostic]| -> Vec<String> {
            ds.iter()
                .map(|d| {
                    let (p, o, s, m) = d.sort_key();
                    format!("{} {o} {s:?} {m}", p.display())
                })
                .collect()
        };
        let mut expected = items.clone();
        expected.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        expected.dedup_by(|a, b| a.sort_key() == b.sort_key());
        let sorted = Diagnostics::from(items).into_sorted();
        assert_eq!(describe(&sorted), describe(&expected));
        assert_eq!(sorted.len(), 1 + 5 + 4 * 7, "{:#?}", describe(&sorted));
    }

    /// Line and column by scanning the text from its start: what the index must agree with.
    fn line_col(text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    #[test]
    fn line_col_counts_chars_not_bytes() {
        let text = "ab\n五年計畫 x\n";
        let off = text.find('x').unwrap();
        let file = SourceText::new("a.md", text);
        assert_eq!(file.line_col(off), (2, 6));
        assert_eq!(file.line_col(0), (1, 1));
    }

    #[test]
    fn a_files_line_index_gives_the_same_positions_as_scanning() {
        let text = "ab\r\n五年計畫 x\n\n\nlast line é\u{301}z";
        let file = SourceText::new("a.md", text);
        for off in 0..=text.len() + 2 {
            assert_eq!(file.line_col(off), line_col(text, off), "offset {off}");
        }
        assert_eq!(SourceText::new("e.md", "").line_col(0), (1, 1));
    }

    #[test]
    fn offset_of_line_finds_line_starts() {
        let text = "a\nbb\nccc";
        assert_eq!(offset_of_line(text, 1), 0);
        assert_eq!(offset_of_line(text, 2), 2);
        assert_eq!(offset_of_line(text, 3), 5);
        assert_eq!(offset_of_line(text, 9), text.len());
    }

    #[test]
    fn suggests_close_keys() {
        assert_eq!(did_you_mean("titel", ["title", "date"]), Some("title"));
        assert_eq!(did_you_mean("zzz", ["title", "date"]), None);
    }
}
