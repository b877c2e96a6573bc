//! Load stage for sources: the records a brief can cite, from each brief's `sources:` front
//! matter, the site-wide `content/sources.yaml`, and CSL-JSON `content/sources.json` (as
//! Zotero and other reference managers export it), gathered into one [`Bibliography`].
//!
//! In: YAML values (with their key positions) and file texts. Out: validated [`Source`]
//! records, each with the place it is defined. Keys are global: one key defined in two places
//! must describe the same source, or it is an error naming both places.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_yaml::Value;

use crate::citations::is_valid_key;
use crate::diagnostics::{Diagnostic, Location, SourceText, did_you_mean};
use crate::yaml::KeyIndex;

/// What kind of document a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Report,
    Dataset,
    Article,
    Law,
    Statement,
    Book,
    Other,
}

const KINDS: &[(&str, SourceKind)] = &[
    ("report", SourceKind::Report),
    ("dataset", SourceKind::Dataset),
    ("article", SourceKind::Article),
    ("law", SourceKind::Law),
    ("statement", SourceKind::Statement),
    ("book", SourceKind::Book),
    ("other", SourceKind::Other),
];

impl SourceKind {
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("other", |(n, _)| n)
    }
}

/// A date as precise as the source gives it: a year, a year and month, or a full date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartialDate {
    pub year: i16,
    pub month: Option<i8>,
    pub day: Option<i8>,
}

impl PartialDate {
    /// Parses `2020`, `2020-03` or `2020-03-14`, checking that the date exists.
    pub fn parse(s: &str) -> Option<PartialDate> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('-').collect();
        let num = |p: &str, len: usize| {
            (p.len() == len && p.chars().all(|c| c.is_ascii_digit()))
                .then(|| p.parse::<i16>().ok())
                .flatten()
        };
        match parts.as_slice() {
            [y] => Some(PartialDate {
                year: num(y, 4)?,
                month: None,
                day: None,
            }),
            [y, m] => {
                let (year, month) = (num(y, 4)?, num(m, 2)?);
                (1..=12).contains(&month).then_some(PartialDate {
                    year,
                    month: Some(month as i8),
                    day: None,
                })
            }
            [_, _, _] => {
                let d: jiff::civil::Date = s.parse().ok()?;
                Some(PartialDate {
                    year: d.year(),
                    month: Some(d.month()),
                    day: Some(d.day()),
                })
            }
            _ => None,
        }
    }

    /// As written in the reference list: `2020`, `March 2020`, `14 March 2020`.
    ///
    /// Built by hand, not with `format!`: every note and reference entry shows its date
    /// (33,000 on a 1,000-brief site).
    pub fn display(&self) -> String {
        let mut out = String::with_capacity(20);
        self.push_display(&mut out);
        out
    }

    /// Appends [`PartialDate::display`]'s text (letters, digits and spaces: nothing to escape).
    pub fn push_display(&self, out: &mut String) {
        use crate::lang::MONTHS;
        let month = self.month.map(|m| MONTHS[(m as usize).clamp(1, 12) - 1]);
        if let (Some(month), Some(d)) = (month, self.day) {
            crate::html::push_int(out, i64::from(d));
            out.push(' ');
            out.push_str(month);
            out.push(' ');
        } else if let Some(month) = month {
            out.push_str(month);
            out.push(' ');
        }
        crate::html::push_int(out, i64::from(self.year));
    }

    /// Appends the date as its `Display` writes it (`2020`, `2020-03`, `2020-03-14`), by hand.
    pub fn push_iso(&self, out: &mut String) {
        let parts = [self.month, self.day];
        if self.year < 0 || parts.iter().flatten().any(|p| *p < 0) {
            use std::fmt::Write;
            let _ = write!(out, "{self}");
            return;
        }
        crate::html::push_padded(out, self.year.unsigned_abs().into(), 4);
        for part in parts.into_iter().flatten() {
            out.push('-');
            crate::html::push_padded(out, part.unsigned_abs().into(), 2);
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

/// A source as the reader sees it. Equality is what "the same source" means for duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<PartialDate>,
    pub url: Option<String>,
    pub archived_url: Option<String>,
    pub accessed: Option<jiff::civil::Date>,
    pub kind: SourceKind,
    pub note: Option<String>,
}

/// Where a source is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `content/sources.yaml`, `.json` or `.bib`.
    SiteWide,
    /// A brief's front matter (its content-relative path).
    Brief(String),
}

/// One definition of a source.
#[derive(Debug, Clone)]
pub struct Definition {
    pub source: Source,
    pub at: Location,
    pub origin: Origin,
}

/// Every source of the site by key (the first definition of each), plus the definitions that
/// repeat a key (identical, or reported as conflicting).
#[derive(Debug, Default)]
pub struct Bibliography {
    /// In key order (as a sorted map), looked up by hashing: every citation, claim row and
    /// source page looks its source up, and a sorted map of 45,000 keys sharing prefixes
    /// (`imf2014-00002`) spent 3% of a build comparing them.
    pub sources: indexmap::IndexMap<String, Definition, crate::FastHasher>,
    pub repeats: Vec<Definition>,
}

impl Bibliography {
    /// Gathers definitions; a key defined twice with different metadata is an error.
    pub fn build(defs: Vec<Definition>) -> (Bibliography, Vec<Diagnostic>) {
        let mut bib = Bibliography::default();
        let mut diags = Vec::new();
        let mut folded: std::collections::HashMap<String, String, crate::FastHasher> =
            Default::default();
        for def in defs {
            let key = def.source.key.clone();
            if let Some(first) = bib.sources.get(&key) {
                if first.source != def.source {
                    let (line, col) = first.at.line_col();
                    diags.push(
                        Diagnostic::error(format!(
                            "source `{key}` is defined differently in {}:{line}:{col}",
                            first.at.file.display_path.display()
                        ))
                        .at_location(def.at.clone())
                        .label("second definition")
                        .hint(format!(
                            "source keys are site-wide: give one of them another key, or make both definitions identical ({})",
                            differences(&first.source, &def.source).join(", ")
                        )),
                    );
                }
                bib.repeats.push(def);
                continue;
            }
            let lower = key.to_lowercase();
            if let Some(other) = folded.get(&lower) {
                diags.push(
                    Diagnostic::error(format!("source keys `{other}` and `{key}` differ only in case"))
                        .at_location(def.at.clone())
                        .hint("their pages would share one URL on case-insensitive file systems; rename one"),
                );
                continue;
            }
            folded.insert(lower, key.clone());
            bib.sources.insert(key, def);
        }
        bib.sources.sort_unstable_keys();
        (bib, diags)
    }

    pub fn get(&self, key: &str) -> Option<&Source> {
        self.sources.get(key).map(|d| &d.source)
    }

    /// The source defined at position `i` (as [`indexmap::IndexMap::get_index_of`] gives it).
    pub fn at(&self, i: usize) -> Option<&Source> {
        self.sources.get_index(i).map(|(_, d)| &d.source)
    }
}

fn differences(a: &Source, b: &Source) -> Vec<&'static str> {
    [
        ("title", a.title != b.title),
        ("publisher", a.publisher != b.publisher),
        ("authors", a.authors != b.authors),
        ("date", a.date != b.date),
        ("url", a.url != b.url),
        ("archived_url", a.archived_url != b.archived_url),
        ("accessed", a.accessed != b.accessed),
        ("kind", a.kind != b.kind),
        ("note", a.note != b.note),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

/// The keys a source record may have.
pub const SOURCE_KEYS: &[&str] = &[
    "title",
    "publisher",
    "author",
    "authors",
    "date",
    "url",
    "archived_url",
    "accessed",
    "kind",
    "note",
];

/// Checks a URL for a source: http or https, with a host, no spaces or control characters.
pub fn check_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{trimmed}` contains spaces or control characters"));
    }
    let url = url::Url::parse(trimmed).map_err(|e| format!("`{trimmed}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{trimmed}` is not an http:// or https:// URL"));
    }
    Ok(trimmed.to_string())
}

/// Reads source records from a YAML mapping `key -> record`.
///
/// `prefix` is the key path of the mapping in `keys` (`sources.` in front matter, empty in
/// `sources.yaml`); `anchor` is where to point when nothing better is known.
pub fn from_yaml(
    file: &Arc<SourceText>,
    value: &Value,
    keys: &KeyIndex,
    prefix: &str,
    anchor: std::ops::Range<usize>,
    origin: &Origin,
) -> (Vec<Definition>, Vec<Diagnostic>) {
    let mut defs = Vec::new();
    let mut diags = Vec::new();
    let span = |path: &str| keys.get(path).unwrap_or(anchor.clone());
    let value_span = |path: &str| keys.value_span(&file.text, path).unwrap_or(anchor.clone());
    let map = match value {
        Value::Mapping(m) => m,
        Value::Null => return (defs, diags),
        _ => {
            let at = if prefix.is_empty() {
                anchor.clone()
            } else {
                value_span(prefix.trim_end_matches('.'))
            };
            diags.push(
                Diagnostic::error("sources must be a mapping of `key:` to a source record")
                    .at(file, at)
                    .hint("write each source as `key:` followed by indented `title:`, `url:` ... lines"),
            );
            return (defs, diags);
        }
    };
    for (k, record) in map {
        let key = scalar(k).unwrap_or_default();
        let path = format!("{prefix}{key}");
        if !is_valid_key(&key) {
            diags.push(
                Diagnostic::error(format!("`{key}` is not a valid source key"))
                    .at(file, span(&path))
                    .hint("use letters, digits, `_`, `-`, `.` and `:` (e.g. `bcg2020`), starting with a letter or digit"),
            );
            continue;
        }
        let Value::Mapping(fields) = record else {
            diags.push(
                Diagnostic::error(format!("source `{key}` must be a mapping of fields"))
                    .at(file, span(&path))
                    .hint("give it indented lines such as `title: ...` and `url: ...`"),
            );
            continue;
        };
        let mut errors = Vec::new();
        for f in fields.keys() {
            let name = scalar(f).unwrap_or_default();
            if !SOURCE_KEYS.contains(&name.as_str()) {
                let mut d = Diagnostic::error(format!("unknown key `{name}` in source `{key}`"))
                    .at(file, span(&format!("{path}.{name}")))
                    .label("unknown key");
                d = match did_you_mean(&name, SOURCE_KEYS.iter().copied()) {
                    Some(s) => d.hint(format!("did you mean `{s}`?")),
                    None => d.hint(format!("valid keys are: {}", SOURCE_KEYS.join(", "))),
                };
                errors.push(d);
            }
        }
        let mut get = |name: &str| -> Option<String> {
            let v = fields.get(name)?;
            match scalar(v) {
                Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Some(_) => None,
                None => {
                    errors.push(
                        Diagnostic::error(format!("`{name}` of source `{key}` must be text"))
                            .at(file, value_span(&format!("{path}.{name}")))
                            .hint("write a single value on the line, quoted if it contains `: `"),
                    );
                    None
                }
            }
        };
        let title = get("title");
        let publisher = get("publisher");
        let author = get("author");
        let date = get("date");
        let url = get("url");
        let archived = get("archived_url");
        let accessed = get("accessed");
        let kind = get("kind");
        let note = get("note");
        let mut authors: Vec<String> = author.into_iter().collect();
        match fields.get("authors") {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(seq)) => authors.extend(
                seq.iter()
                    .filter_map(scalar)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            ),
            Some(v) => match scalar(v) {
                Some(s) => authors.push(s.trim().to_string()),
                None => errors.push(
                    Diagnostic::error(format!(
                        "`authors` of source `{key}` must be a list of names"
                    ))
                    .at(file, value_span(&format!("{path}.authors")))
                    .hint("write `authors: [\"A. Author\", \"B. Author\"]`"),
                ),
            },
        }
        let record = SourceFields {
            title,
            publisher,
            authors,
            date,
            url,
            archived,
            accessed,
            kind,
            note,
        };
        match validate(
            &key,
            record,
            &mut |field: &str| value_span(&format!("{path}.{field}")),
            file,
            span(&path),
        ) {
            Ok(source) if errors.is_empty() => defs.push(Definition {
                source,
                at: Location::new(file, span(&path)),
                origin: origin.clone(),
            }),
            Ok(_) => diags.append(&mut errors),
            Err(mut es) => {
                diags.append(&mut errors);
                diags.append(&mut es);
            }
        }
    }
    (defs, diags)
}

/// A record's raw fields, from YAML or CSL-JSON.
struct SourceFields {
    title: Option<String>,
    publisher: Option<String>,
    authors: Vec<String>,
    date: Option<String>,
    url: Option<String>,
    archived: Option<String>,
    accessed: Option<String>,
    kind: Option<String>,
    note: Option<String>,
}

/// Validates one entry of a site-wide CSL-JSON or BibTeX file, known by its record's span
/// only, and adds it (or its problems).
fn add_site_wide(
    key: &str,
    fields: SourceFields,
    file: &Arc<SourceText>,
    span: std::ops::Range<usize>,
    defs: &mut Vec<Definition>,
    diags: &mut Vec<Diagnostic>,
) {
    match validate(key, fields, &mut |_| span.clone(), file, span.clone()) {
        Ok(source) => defs.push(Definition {
            source,
            at: Location::new(file, span),
            origin: Origin::SiteWide,
        }),
        Err(es) => diags.extend(es),
    }
}

fn validate(
    key: &str,
    f: SourceFields,
    at: &mut dyn FnMut(&str) -> std::ops::Range<usize>,
    file: &Arc<SourceText>,
    record_span: std::ops::Range<usize>,
) -> Result<Source, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if f.title.is_none() {
        diags.push(
            Diagnostic::error(format!("source `{key}` has no `title`"))
                .at(file, record_span)
                .hint("add `title: ...` with the document's own title"),
        );
    }
    let date = f.date.as_deref().and_then(|d| {
        let parsed = PartialDate::parse(d);
        if parsed.is_none() {
            diags.push(
                Diagnostic::error(format!("`date: {d}` of source `{key}` is not a date"))
                    .at(file, at("date"))
                    .hint("write `2020`, `2020-03` or `2020-03-14`"),
            );
        }
        parsed
    });
    let accessed =
        f.accessed
            .as_deref()
            .and_then(|d| match d.trim().parse::<jiff::civil::Date>() {
                Ok(d) => Some(d),
                Err(_) => {
                    diags.push(
                        Diagnostic::error(format!(
                            "`accessed: {d}` of source `{key}` is not a date"
                        ))
                        .at(file, at("accessed"))
                        .hint("write the full date you read it, e.g. `2024-11-01`"),
                    );
                    None
                }
            });
    let mut check = |name: &str, v: Option<String>, diags: &mut Vec<Diagnostic>| {
        v.and_then(|u| match check_url(&u) {
            Ok(u) => Some(u),
            Err(msg) => {
                diags.push(
                    Diagnostic::error(format!("`{name}` of source `{key}`: {msg}"))
                        .at(file, at(name))
                        .hint("only http:// and https:// links are allowed"),
                );
                None
            }
        })
    };
    let url = check("url", f.url, &mut diags);
    let archived_url = check("archived_url", f.archived, &mut diags);
    let kind = match f.kind.as_deref() {
        None => SourceKind::Other,
        Some(k) => match KINDS.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
            Some((_, kind)) => *kind,
            None => {
                let names: Vec<&str> = KINDS.iter().map(|(n, _)| *n).collect();
                let mut d =
                    Diagnostic::error(format!("`kind: {k}` of source `{key}` is not a kind"))
                        .at(file, at("kind"));
                d = match did_you_mean(&k.to_lowercase(), names.iter().copied()) {
                    Some(s) => d.hint(format!("did you mean `{s}`? Kinds: {}", names.join(", "))),
                    None => d.hint(format!("kinds: {}", names.join(", "))),
                };
                diags.push(d);
                SourceKind::Other
            }
        },
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Source {
        key: key.to_string(),
        title: f.title.unwrap_or_default(),
        publisher: f.publisher,
        authors: f.authors,
        date,
        url,
        archived_url,
        accessed,
        kind,
        note: f.note,
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads `content/sources.yaml`.
pub fn load_yaml_file(file: &Arc<SourceText>) -> (Vec<Definition>, Vec<Diagnostic>) {
    let doc = crate::yaml::YamlDoc {
        file,
        range: 0..file.text.len(),
        anchor: 0..0,
        what: "the bibliography",
        keys: &[],
    };
    let (parsed, mut diags) = crate::yaml::parse::<Value>(&doc);
    let Some((value, keys)) = parsed else {
        return (Vec::new(), diags);
    };
    let (defs, more) = from_yaml(file, &value, &keys, "", 0..0, &Origin::SiteWide);
    diags.extend(more);
    (defs, diags)
}

/// Reads CSL-JSON (`content/sources.json`): an array of items as reference managers export.
pub fn load_csl_json(file: &Arc<SourceText>) -> (Vec<Definition>, Vec<Diagnostic>) {
    let mut defs = Vec::new();
    let mut diags = Vec::new();
    let items: Vec<serde_json::Value> = match serde_json::from_str(&file.text) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(_) => {
            diags.push(
                Diagnostic::error("CSL-JSON must be an array of items")
                    .at(file, 0..0)
                    .hint("export the library as CSL JSON: a list `[ {\"id\": ..., \"title\": ...}, ... ]`"),
            );
            return (defs, diags);
        }
        Err(e) => {
            let offset = crate::diagnostics::offset_of_line(&file.text, e.line())
                + e.column().saturating_sub(1);
            diags.push(
                Diagnostic::error(format!("invalid JSON: {e}"))
                    .at(file, offset..offset + 1)
                    .hint("re-export the file from the reference manager"),
            );
            return (defs, diags);
        }
    };
    let mut search_from = 0;
    for item in items {
        let id = match item.get("id") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        // Point at the item's `"id"` in the file.
        let needle = format!("\"{id}\"");
        let pos = file.text[search_from..]
            .find(&needle)
            .map(|i| search_from + i);
        let span = pos.map_or(0..0, |p| p..p + needle.len());
        if let Some(p) = pos {
            search_from = p + needle.len();
        }
        if !is_valid_key(&id) {
            diags.push(
                Diagnostic::error(format!("CSL-JSON item id `{id}` is not a valid source key"))
                    .at(file, span)
                    .hint("set the item's citation key to letters, digits, `_`, `-`, `.` or `:`"),
            );
            continue;
        }
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_str())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let authors: Vec<String> = item
            .get("author")
            .and_then(|a| a.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|a| {
                        if let Some(l) = a.get("literal").and_then(|l| l.as_str()) {
                            return Some(l.to_string());
                        }
                        let family = a.get("family").and_then(|f| f.as_str()).unwrap_or("");
                        let given = a.get("given").and_then(|g| g.as_str()).unwrap_or("");
                        let name = format!("{given} {family}").trim().to_string();
                        (!name.is_empty()).then_some(name)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let kind = item.get("type").and_then(|t| t.as_str()).map(|t| {
            match t {
                "report" => "report",
                "dataset" => "dataset",
                "article" | "article-journal" | "article-newspaper" | "article-magazine"
                | "webpage" | "post-weblog" | "post" => "article",
                "legislation" | "bill" | "legal_case" | "regulation" | "treaty" => "law",
                "speech" | "interview" | "personal_communication" => "statement",
                "book" | "chapter" => "book",
                _ => "other",
            }
            .to_string()
        });
        let fields = SourceFields {
            title: text("title"),
            publisher: text("publisher").or_else(|| text("container-title")),
            authors,
            date: item.get("issued").and_then(csl_date),
            url: text("URL"),
            archived: text("archive_url"),
            accessed: item.get("accessed").and_then(csl_date),
            kind,
            note: text("note"),
        };
        add_site_wide(&id, fields, file, span.clone(), &mut defs, &mut diags);
    }
    (defs, diags)
}

/// A CSL date (`{"date-parts": [[2020, 3]]}` or `{"raw": "2020-03"}`) as `YYYY[-MM[-DD]]`.
fn csl_date(v: &serde_json::Value) -> Option<String> {
    if let Some(parts) = v
        .get("date-parts")
        .and_then(|p| p.get(0))
        .and_then(|p| p.as_array())
    {
        let nums: Vec<i64> = parts
            .iter()
            .filter_map(|n| {
                n.as_i64()
                    .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
            })
            .collect();
        return match nums.as_slice() {
            [y] => Some(format!("{y:04}")),
            [y, m] => Some(format!("{y:04}-{m:02}")),
            [y, m, d, ..] => Some(format!("{y:04}-{m:02}-{d:02}")),
            _ => None,
        };
    }
    v.get("raw").and_then(|r| r.as_str()).map(str::to_string)
}

/// Reads BibTeX/BibLaTeX (`content/sources.bib`): title, author/editor, publisher (or
/// organization, institution, journal), date (or year and month), url, urldate, note, and the
/// entry type mapped onto `kind`.
pub fn load_bibtex(file: &Arc<SourceText>) -> (Vec<Definition>, Vec<Diagnostic>) {
    use biblatex::ChunksExt;
    let mut defs = Vec::new();
    let mut diags = Vec::new();
    let bib = match biblatex::Bibliography::parse(&file.text) {
        Ok(b) => b,
        Err(e) => {
            diags.push(
                Diagnostic::error(format!("invalid BibTeX: {}", e.kind))
                    .at(file, e.span.clone())
                    .hint("re-export the library from the reference manager"),
            );
            return (defs, diags);
        }
    };
    for entry in bib.iter() {
        let key = entry.key.clone();
        let needle = format!("{{{key},");
        let span = file
            .text
            .find(&needle)
            .map_or(0..0, |p| p + 1..p + 1 + key.len());
        if !is_valid_key(&key) {
            diags.push(
                Diagnostic::error(format!("BibTeX key `{key}` is not a valid source key"))
                    .at(file, span)
                    .hint("use letters, digits, `_`, `-`, `.` and `:`"),
            );
            continue;
        }
        let field = |name: &str| {
            entry
                .fields
                .get(name)
                .map(|c| c.format_verbatim().trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let authors: Vec<String> = field("author")
            .or_else(|| field("editor"))
            .map(|a| {
                a.split(" and ")
                    .map(|p| match p.split_once(',') {
                        Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
                        None => p.trim().to_string(),
                    })
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let month = field("month").and_then(|m| {
            let m = m.to_lowercase();
            crate::lang::MONTHS
                .iter()
                .position(|name| name.to_lowercase().starts_with(&m[..m.len().min(3)]))
                .map(|i| i + 1)
                .or_else(|| m.parse::<usize>().ok())
        });
        let date = field("date").or_else(|| {
            field("year").map(|y| match month {
                Some(m) => format!("{y}-{m:02}"),
                None => y,
            })
        });
        let kind = match entry.entry_type.to_string().to_lowercase().as_str() {
            "report" | "techreport" => "report",
            "dataset" | "data" => "dataset",
            "article" | "online" | "misc" | "periodical" => "article",
            "book" | "inbook" | "incollection" | "mvbook" => "book",
            "legislation" | "legal" | "jurisdiction" | "standard" => "law",
            _ => "other",
        };
        let fields = SourceFields {
            title: field("title"),
            publisher: field("publisher")
                .or_else(|| field("organization"))
                .or_else(|| field("institution"))
                .or_else(|| field("journaltitle"))
                .or_else(|| field("journal")),
            authors,
            date,
            url: field("url"),
            archived: None,
            accessed: field("urldate"),
            kind: Some(kind.to_string()),
            note: field("note"),
        };
        add_site_wide(&key, fields, file, span.clone(), &mut defs, &mut diags);
    }
    (defs, diags)
}

/// Reads whichever site-wide bibliography files exist under `content/`.
pub fn load_site_wide(
    root: &Path,
    files: &[crate::discover::Entry],
) -> (Vec<Definition>, Vec<Diagnostic>) {
    let mut defs = Vec::new();
    let mut diags = Vec::new();
    for entry in files {
        let file = match crate::discover::read_text(root, &entry.abs) {
            Ok(f) => f,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let name = entry.rel.to_string_lossy();
        let (d, e) = if name.ends_with(".json") {
            load_csl_json(&file)
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            load_yaml_file(&file)
        } else {
            load_bibtex(&file)
        };
        defs.extend(d);
        diags.extend(e);
    }
    (defs, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written ISO form is what `Display` writes, for every shape of date.
    #[test]
    fn partial_dates_are_written_as_display_writes_them() {
        for year in [-1i16, 0, 7, 999, 2020, 9999] {
            for month in [None, Some(-1i8), Some(1), Some(12)] {
                for day in [None, Some(-3i8), Some(1), Some(31)] {
                    let d = PartialDate { year, month, day };
                    let mut out = String::from("x");
                    d.push_iso(&mut out);
                    assert_eq!(out, format!("x{d}"));
                }
            }
        }
    }

    #[test]
    fn partial_dates() {
        assert_eq!(PartialDate::parse("2020").unwrap().to_string(), "2020");
        assert_eq!(
            PartialDate::parse("2020-03").unwrap().display(),
            "March 2020"
        );
        assert_eq!(
            PartialDate::parse("2024-11-02").unwrap().display(),
            "2 November 2024"
        );
        // Written out by hand: the same text as formatting each number.
        for year in [i16::MIN, -1, 0, 7, 999, 2020, i16::MAX] {
            for (month, day) in [
                (None, None),
                (Some(12), None),
                (Some(1), Some(31)),
                (None, Some(9)),
            ] {
                let d = PartialDate { year, month, day };
                let expected = match (month, day) {
                    (Some(m), Some(dd)) => {
                        format!("{dd} {} {year}", crate::lang::MONTHS[m as usize - 1])
                    }
                    (Some(m), None) => format!("{} {year}", crate::lang::MONTHS[m as usize - 1]),
                    _ => year.to_string(),
                };
                assert_eq!(d.display(), expected);
            }
        }
        assert!(PartialDate::parse("2020-13").is_none());
        assert!(PartialDate::parse("2024-02-30").is_none());
        assert!(PartialDate::parse("soon").is_none());
    }

    #[test]
    fn urls() {
        assert!(check_url("https://www.bcg.com/x").is_ok());
        assert!(check_url("javascript:alert(1)").is_err());
        assert!(check_url("data:text/html,x").is_err());
        assert!(check_url("java\tscript:alert(1)").is_err());
        assert!(check_url("https://").is_err());
    }

    fn file(text: &str) -> Arc<SourceText> {
        Arc::new(SourceText::new("content/sources.json", text.to_string()))
    }

    #[test]
    fn csl_json_maps_onto_sources() {
        let f = file(
            r#"[{"id": "bcg2020", "type": "report", "title": "T", "author": [{"family": "Varas", "given": "Antonio"}, {"literal": "BCG"}], "issued": {"date-parts": [[2020, 3]]}, "URL": "https://www.bcg.com/x", "accessed": {"date-parts": [[2024, 11, 1]]}, "note": "n"}]"#,
        );
        let (defs, diags) = load_csl_json(&f);
        assert!(diags.is_empty(), "{diags:?}");
        let s = &defs[0].source;
        assert_eq!(s.key, "bcg2020");
        assert_eq!(s.authors, ["Antonio Varas", "BCG"]);
        assert_eq!(s.date.unwrap().to_string(), "2020-03");
        assert_eq!(s.kind, SourceKind::Report);
        assert_eq!(s.accessed.unwrap().to_string(), "2024-11-01");
    }

    #[test]
    fn bibtex_maps_onto_sources() {
        let f = Arc::new(SourceText::new("content/sources.bib", "@techreport{bcg2020,\n  title = {How Restricting Trade with {China} Could End {US} Leadership},\n  author = {Varas, Antonio and Varadarajan, Raj},\n  institution = {Boston Consulting Group},\n  year = {2020},\n  month = mar,\n  url = {https://www.bcg.com/x},\n  urldate = {2024-11-01},\n}\n@misc{bad,\n  title = {No},\n  url = {javascript:alert(1)},\n}\n".to_string()));
        let (defs, diags) = load_bibtex(&f);
        let s = &defs[0].source;
        assert_eq!(s.key, "bcg2020");
        assert_eq!(
            s.title,
            "How Restricting Trade with China Could End US Leadership"
        );
        assert_eq!(s.authors, ["Antonio Varas", "Raj Varadarajan"]);
        assert_eq!(s.publisher.as_deref(), Some("Boston Consulting Group"));
        assert_eq!(s.date.unwrap().to_string(), "2020-03");
        assert_eq!(s.kind, SourceKind::Report);
        assert_eq!(s.accessed.unwrap().to_string(), "2024-11-01");
        assert_eq!(defs[0].at.line_col(), (1, 13));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].position().unwrap(), "content/sources.bib:10:7");
    }

    #[test]
    fn csl_json_errors_have_positions() {
        let f = file(
            "[{\"id\": \"a\"},\n {\"id\": \"b\", \"title\": \"T\", \"URL\": \"javascript:x\"}]",
        );
        let (_, diags) = load_csl_json(&f);
        let pos: Vec<String> = diags.iter().map(|d| d.position().unwrap()).collect();
        assert_eq!(
            pos,
            ["content/sources.json:1:9", "content/sources.json:2:9"]
        );
    }
}
