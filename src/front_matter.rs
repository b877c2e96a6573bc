//! Load stage, part two: split a `.md` file into its YAML front matter and Markdown body, and
//! deserialise the front matter into [`BriefMeta`] or [`SectionMeta`].
//!
//! In: a file's text. Out: typed metadata plus the body's byte range in the same text, so
//! every later position (Markdown links, citations, claims) is still an offset into the file.
//! Front matter is the YAML between a first line `---` and the next `---` line (CRLF and a
//! UTF-8 BOM are accepted).

use std::ops::Range;
use std::sync::Arc;

use jiff::civil::Date;
use serde::Deserialize;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::lang::is_valid_lang;
use crate::yaml::{self, KeyIndex, YamlDoc};

/// Largest front matter accepted: bounds serde_yaml's alias expansion (see RELIABILITY).
pub const MAX_FRONT_MATTER: usize = 64 * 1024;

/// Where the front matter and the body are in a file.
#[derive(Debug, Clone)]
pub struct Split {
    /// The opening `---` line (what a "missing key" error points at).
    pub opening: Range<usize>,
    /// The YAML text between the fences.
    pub yaml: Range<usize>,
    /// The Markdown after the closing fence.
    pub body: Range<usize>,
}

fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |l| {
        let start = offset;
        offset += l.len();
        (start, l)
    })
}

fn is_fence(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r']).trim_end() == "---"
}

/// Finds the front matter. `Ok(None)`: the file has none. `Err`: it is opened but not closed.
pub fn split(file: &Arc<SourceText>) -> Result<Option<Split>, Diagnostic> {
    let text = &file.text;
    let mut lines = lines_with_offsets(text);
    let Some((_, first)) = lines.next() else {
        return Ok(None);
    };
    if !is_fence(first) {
        return Ok(None);
    }
    let opening = 0..first.trim_end_matches(['\n', '\r']).len();
    for (start, line) in lines {
        if is_fence(line) {
            let yaml = first.len()..start;
            if yaml.len() > MAX_FRONT_MATTER {
                return Err(Diagnostic::error(format!(
                    "front matter is {} KiB; the limit is {} KiB",
                    yaml.len() / 1024,
                    MAX_FRONT_MATTER / 1024
                ))
                .at(file, opening)
                .hint("move long material into the body or into content/sources.yaml"));
            }
            return Ok(Some(Split {
                opening,
                yaml,
                body: start + line.len()..text.len(),
            }));
        }
    }
    Err(Diagnostic::error("front matter is not closed")
        .at(file, opening)
        .label("opened here")
        .hint("add a line `---` after the last front-matter key"))
}

const BRIEF_KEYS: &[&str] = &[
    "title",
    "date",
    "updated",
    "authors",
    "summary",
    "tags",
    "lang",
    "translation_key",
    "draft",
    "slug",
    "weight",
    "sources",
    "claims",
    "not_claims",
];

#[derive(Debug, Deserialize)]
struct RawBrief {
    title: Option<String>,
    date: Option<String>,
    updated: Option<String>,
    authors: Option<Vec<String>>,
    summary: Option<String>,
    tags: Option<Vec<String>>,
    lang: Option<String>,
    translation_key: Option<String>,
    draft: Option<bool>,
    slug: Option<String>,
    weight: Option<i64>,
    sources: Option<serde_yaml::Value>,
    claims: Option<serde_yaml::Value>,
    not_claims: Option<serde_yaml::Value>,
}

/// A brief's front matter, validated.
#[derive(Debug, Clone)]
pub struct BriefMeta {
    pub title: String,
    pub date: Date,
    pub updated: Option<Date>,
    pub authors: Vec<String>,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub lang: Option<String>,
    pub translation_key: Option<String>,
    pub draft: bool,
    pub slug: Option<String>,
    pub weight: Option<i64>,
    /// Kept for the citations stage.
    pub sources: Option<serde_yaml::Value>,
    /// Kept for the claims stage.
    pub claims: Option<serde_yaml::Value>,
    /// Texts in the body that are not claims.
    pub not_claims: Option<serde_yaml::Value>,
    pub keys: KeyIndex,
    /// Byte range of the YAML text in the file.
    pub yaml: Range<usize>,
}

const SECTION_KEYS: &[&str] = &["title", "summary", "weight", "lang", "draft"];

#[derive(Debug, Deserialize)]
struct RawSection {
    title: Option<String>,
    summary: Option<String>,
    weight: Option<i64>,
    lang: Option<String>,
    draft: Option<bool>,
}

/// An `_index.md`'s front matter (all optional).
#[derive(Debug, Clone, Default)]
pub struct SectionMeta {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub weight: Option<i64>,
    pub lang: Option<String>,
    pub keys: KeyIndex,
}

/// Parses a date as written in front matter: `2024-11-02`, or a full RFC 3339 timestamp
/// (`2024-11-02T09:30:00Z`), of which the calendar date is kept.
pub fn parse_date(raw: &str) -> Result<Date, String> {
    let raw = raw.trim();
    if let Ok(d) = raw.parse::<Date>() {
        return Ok(d);
    }
    if raw.len() > 10
        && raw.is_char_boundary(10)
        && raw
            .as_bytes()
            .get(10)
            .is_some_and(|b| *b == b'T' || *b == b' ')
    {
        if let Ok(ts) = raw.parse::<jiff::Timestamp>() {
            let _ = ts;
            if let Ok(d) = raw[..10].parse::<Date>() {
                return Ok(d);
            }
        }
        if let Ok(dt) = raw.parse::<jiff::civil::DateTime>() {
            return Ok(dt.date());
        }
    }
    Err(format!("`{raw}` is not a valid date"))
}

fn date_error(file: &Arc<SourceText>, keys: &KeyIndex, key: &str, msg: String) -> Diagnostic {
    let span = keys.value_span(&file.text, key).unwrap_or(0..0);
    Diagnostic::error(format!("`{key}`: {msg}"))
        .at(file, span)
        .hint("write an ISO 8601 date such as `2024-11-02` (year-month-day)")
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s != "~")
}

/// Parses a brief's front matter. `split` is `None` when the file has none (an error).
pub fn parse_brief(
    file: &Arc<SourceText>,
    split: Option<&Split>,
) -> Result<BriefMeta, Vec<Diagnostic>> {
    let Some(split) = split else {
        return Err(vec![Diagnostic::error("brief has no front matter")
            .at(file, 0..0)
            .hint("start the file with a line `---`, then `title: ...` and `date: YYYY-MM-DD`, then a line `---`")]);
    };
    let doc = YamlDoc {
        file,
        range: split.yaml.clone(),
        anchor: split.opening.clone(),
        what: "front matter",
        keys: BRIEF_KEYS,
    };
    let (parsed, mut diags) = yaml::parse::<RawBrief>(&doc);
    let Some((raw, keys)) = parsed else {
        return Err(diags);
    };
    let value_at = |key: &str| {
        keys.value_span(&file.text, key)
            .unwrap_or(split.opening.clone())
    };

    let title = non_empty(raw.title.clone());
    if title.is_none() {
        let span = if keys.get("title").is_some() {
            value_at("title")
        } else {
            split.opening.clone()
        };
        diags.push(
            Diagnostic::error("brief needs a `title`")
                .at(file, span)
                .hint("add a line `title: ...` to the front matter"),
        );
    }
    let date = match raw.date.as_deref() {
        None => {
            diags.push(
                Diagnostic::error("brief needs a `date`")
                    .at(file, split.opening.clone())
                    .hint(
                        "add a line `date: YYYY-MM-DD` (the publication date) to the front matter",
                    ),
            );
            None
        }
        Some(s) => match parse_date(s) {
            Ok(d) => Some(d),
            Err(m) => {
                diags.push(date_error(file, &keys, "date", m));
                None
            }
        },
    };
    let updated = match raw.updated.as_deref() {
        None => None,
        Some(s) => match parse_date(s) {
            Ok(d) => Some(d),
            Err(m) => {
                diags.push(date_error(file, &keys, "updated", m));
                None
            }
        },
    };
    if let (Some(d), Some(u)) = (date, updated)
        && u < d
    {
        diags.push(
            Diagnostic::error(format!("`updated` ({u}) is before `date` ({d})"))
                .at(file, value_at("updated"))
                .hint("`updated` is the date of the last revision; it cannot precede publication"),
        );
    }
    let lang = non_empty(raw.lang);
    if let Some(l) = &lang
        && !is_valid_lang(l)
    {
        diags.push(
            Diagnostic::error(format!("`lang: {l}` is not a BCP 47 language tag"))
                .at(file, value_at("lang"))
                .hint("use a tag such as `en` or `zh-Hant`"),
        );
    }
    let tags: Vec<String> = raw
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.trim().to_string())
        .collect();
    if tags.iter().any(String::is_empty) {
        diags.push(
            Diagnostic::error("empty tag")
                .at(file, value_at("tags"))
                .hint("remove the empty entry from `tags`"),
        );
    }
    let authors: Vec<String> = raw
        .authors
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    if !diags.is_empty() {
        return Err(diags);
    }
    let (Some(title), Some(date)) = (title, date) else {
        return Err(diags);
    };
    Ok(BriefMeta {
        title,
        date,
        updated,
        authors,
        summary: non_empty(raw.summary),
        tags,
        lang,
        translation_key: non_empty(raw.translation_key),
        draft: raw.draft.unwrap_or(false),
        slug: raw.slug,
        weight: raw.weight,
        sources: raw.sources,
        claims: raw.claims,
        not_claims: raw.not_claims,
        keys,
        yaml: split.yaml.clone(),
    })
}

/// Parses an `_index.md`'s front matter, if it has one.
pub fn parse_section(
    file: &Arc<SourceText>,
    split: Option<&Split>,
) -> Result<SectionMeta, Vec<Diagnostic>> {
    let Some(split) = split else {
        return Ok(SectionMeta::default());
    };
    let doc = YamlDoc {
        file,
        range: split.yaml.clone(),
        anchor: split.opening.clone(),
        what: "section front matter",
        keys: SECTION_KEYS,
    };
    let (parsed, diags) = yaml::parse::<RawSection>(&doc);
    let Some((raw, keys)) = parsed else {
        return Err(diags);
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    let lang = non_empty(raw.lang);
    if let Some(l) = &lang
        && !is_valid_lang(l)
    {
        let span = keys.value_span(&file.text, "lang").unwrap_or(0..0);
        return Err(vec![
            Diagnostic::error(format!("`lang: {l}` is not a BCP 47 language tag"))
                .at(file, span)
                .hint("use a tag such as `en` or `zh-Hant`"),
        ]);
    }
    let _ = raw.draft;
    Ok(SectionMeta {
        title: non_empty(raw.title),
        summary: non_empty(raw.summary),
        weight: raw.weight,
        lang,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(s: &str) -> Arc<SourceText> {
        Arc::new(SourceText::new(
            PathBuf::from("content/a.md"),
            s.to_string(),
        ))
    }

    #[test]
    fn splits_and_keeps_offsets() {
        let f = file("---\ntitle: A\ndate: 2024-11-02\n---\nBody\n");
        let s = split(&f).unwrap().unwrap();
        assert_eq!(&f.text[s.body.clone()], "Body\n");
        let m = parse_brief(&f, Some(&s)).unwrap();
        assert_eq!(m.title, "A");
        assert_eq!(m.date, jiff::civil::date(2024, 11, 2));
    }

    #[test]
    fn crlf_front_matter() {
        let f = file("---\r\ntitle: A\r\ndate: 2024-11-02\r\n---\r\nBody\r\n");
        let s = split(&f).unwrap().unwrap();
        let m = parse_brief(&f, Some(&s)).unwrap();
        assert_eq!(m.title, "A");
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        let f = file("---\ntitle: A\n");
        let e = split(&f).unwrap_err();
        assert_eq!(e.position().unwrap(), "content/a.md:1:1");
    }

    #[test]
    fn errors_point_into_the_md_file() {
        let f = file("---\ntitle: A\ndate: 2024-13-45\ntitel: x\n---\n");
        let s = split(&f).unwrap().unwrap();
        let errs = parse_brief(&f, Some(&s)).unwrap_err();
        let mut pos: Vec<String> = errs.iter().map(|e| e.position().unwrap()).collect();
        pos.sort();
        assert_eq!(
            pos,
            vec!["content/a.md:3:7", "content/a.md:4:1"],
            "{errs:?}"
        );
        let f = file("---\ntitle: A\ndate: 2024-13-45\n---\n");
        let s = split(&f).unwrap().unwrap();
        let errs = parse_brief(&f, Some(&s)).unwrap_err();
        assert_eq!(errs[0].position().unwrap(), "content/a.md:3:7");
    }

    #[test]
    fn null_title_and_missing_date() {
        let f = file("---\ntitle: ~\n---\n");
        let s = split(&f).unwrap().unwrap();
        let errs = parse_brief(&f, Some(&s)).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    #[test]
    fn dates() {
        assert!(parse_date("2024-11-02").is_ok());
        assert!(parse_date("2024-11-02T09:30:00Z").is_ok());
        assert!(parse_date("2024-13-45").is_err());
        assert!(parse_date("yesterday").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn yamlish() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "---\n",
            "title: ",
            "date: ",
            "2024-01-01",
            "2024-13-45",
            "~",
            "tags: [",
            "]",
            "- ",
            "  ",
            "\n",
            ":",
            "\"",
            "'",
            "&a ",
            "*a",
            "{",
            "}",
            "sources:\n",
            "  k:\n",
            "    title: T\n",
            "|\n",
            ">-\n",
            "#",
            "é",
            "\u{feff}",
            "\r\n",
            "\t",
            "null",
            "true",
            "1e999",
            "!!binary ",
            "? ",
            "%YAML 1.2\n",
            "claims:\n",
            "  - match: \"60%\"\n",
            "titel: x\n",
        ]);
        prop::collection::vec(pieces, 0..50).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Any front matter: no panic; every diagnostic points inside the file.
        #[test]
        fn front_matter_never_panics(text in yamlish()) {
            let file = Arc::new(SourceText::new(PathBuf::from("content/a.md"), text.clone()));
            match split(&file) {
                Err(d) => prop_assert!(d.location.is_some()),
                Ok(s) => {
                    if let Err(ds) = parse_brief(&file, s.as_ref()) {
                        for d in ds {
                            let loc = d.location.expect("front-matter errors have a position");
                            prop_assert!(loc.range.end <= text.len() && text.is_char_boundary(loc.range.start));
                        }
                    }
                }
            }
        }
    }
}
