//! YAML inside a larger file (front matter in a `.md`, or the whole `site.yaml`) into typed
//! values, with every error pointing at its `file:line:col` in the *containing* file.
//!
//! serde_yaml reports positions inside the YAML snippet, gives no useful position for missing
//! or duplicate keys, and lets a duplicate map key silently win. So before deserialising, a
//! light line scanner ([`scan_keys`]) records where each mapping key stands (by dotted path)
//! and reports duplicates; serde errors are then re-anchored in the containing file and
//! reworded with a "did you mean" hint.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diagnostics::{Diagnostic, SourceText, did_you_mean};

/// Byte ranges (in the containing file) of mapping keys, by dotted path (`sources.bcg2020.url`).
#[derive(Debug, Default, Clone)]
pub struct KeyIndex {
    keys: BTreeMap<String, Range<usize>>,
}

impl KeyIndex {
    /// The span of the key at `path`, e.g. `"slug"` or `"sources.bcg2020.url"`.
    pub fn get(&self, path: &str) -> Option<Range<usize>> {
        self.keys.get(path).cloned()
    }

    /// Forgets the keys below the top level (`sources.bcg2020.url`), once the values they
    /// point into have been read and checked.
    pub fn keep_top_level(&mut self) {
        self.keys.retain(|path, _| !path.contains('.'));
    }

    /// The span of the *value* after `path:` on the key's line, falling back to the key.
    pub fn value_span(&self, text: &str, path: &str) -> Option<Range<usize>> {
        let key = self.get(path)?;
        let line_end = text[key.end..]
            .find('\n')
            .map_or(text.len(), |i| key.end + i);
        let rest = &text[key.end..line_end];
        let after_colon = rest.find(':').map_or(0, |i| i + 1);
        let value = &rest[after_colon..];
        let lead = value.len() - value.trim_start().len();
        let start = key.end + after_colon + lead;
        let trimmed = value.trim();
        if trimmed.is_empty() {
            Some(key)
        } else {
            Some(start..start + trimmed.len())
        }
    }
}

/// A top-level key seen twice.
struct Duplicate {
    path: String,
    first: Range<usize>,
    second: Range<usize>,
}

/// Scans YAML block mappings line by line: records each key's span by dotted path, and every
/// key that appears twice in the same mapping. Flow collections and block scalars are skipped
/// over, not interpreted; serde_yaml remains the parser of record.
fn scan_keys(text: &str, range: Range<usize>) -> (KeyIndex, Vec<Duplicate>) {
    let mut index = KeyIndex::default();
    let mut dups = Vec::new();
    // Stack of (indent, key path) for open mappings.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut block_scalar_indent: Option<usize> = None;
    let mut item_counter = 0usize;
    let mut offset = range.start;
    for line in text[range.clone()].split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let indent = content.len() - content.trim_start_matches(' ').len();
        let trimmed = content.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(bi) = block_scalar_indent {
            if indent > bi {
                continue;
            }
            block_scalar_indent = None;
        }
        // A list item `- key: value` opens a fresh mapping at the item's content column.
        let (indent, trimmed) = match trimmed.strip_prefix("- ").or(trimmed.strip_prefix("-\t")) {
            Some(rest) => {
                let dash_indent = indent;
                while stack.last().is_some_and(|(i, _)| *i >= dash_indent) {
                    stack.pop();
                }
                item_counter += 1;
                let parent = stack.last().map(|(_, p)| p.clone()).unwrap_or_default();
                stack.push((dash_indent, format!("{parent}[{item_counter}]")));
                let rest_trim = rest.trim_start_matches(' ');
                (indent + 2 + (rest.len() - rest_trim.len()), rest_trim)
            }
            None => (indent, trimmed),
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let Some((key, key_len)) = mapping_key(trimmed) else {
            continue;
        };
        let path = match stack.last() {
            Some((_, parent)) if !parent.is_empty() => {
                // Not `format!`: 27,000 keys on a 1,000-brief site.
                let mut path = String::with_capacity(parent.len() + 1 + key.len());
                path.push_str(parent);
                path.push('.');
                path.push_str(&key);
                path
            }
            _ => key,
        };
        let key_start = line_start + (content.len() - trimmed.len());
        let span = key_start..key_start + key_len;
        // The index keeps each path's first place; a path seen before is a duplicate.
        if let Some(first) = index.keys.get(&path) {
            dups.push(Duplicate {
                path: path.clone(),
                first: first.clone(),
                second: span.clone(),
            });
        } else {
            index.keys.insert(path.clone(), span);
        }
        let value = trimmed[key_len..].trim_start_matches([' ', ':']).trim_end();
        let value = strip_comment(value);
        if value.starts_with('|') || value.starts_with('>') {
            block_scalar_indent = Some(indent);
        }
        stack.push((indent, path));
    }
    (index, dups)
}

fn strip_comment(value: &str) -> &str {
    match value.find(" #") {
        Some(i) if !value.starts_with(['"', '\'']) => value[..i].trim_end(),
        _ => value,
    }
}

/// If `line` (without indentation) starts with a mapping key, the key and its length in bytes.
fn mapping_key(line: &str) -> Option<(String, usize)> {
    if let Some(q) = line.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let close = line[1..].find(q)? + 1;
        let after = &line[close + 1..];
        if after.trim_start().starts_with(':') {
            return Some((line[1..close].to_string(), close + 1));
        }
        return None;
    }
    if line.starts_with(['[', '{', '&', '*', '!', '|', '>', '%', '@', '`']) {
        return None;
    }
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ' || bytes[i + 1] == b'\t') {
            let key = line[..i].trim_end();
            if key.is_empty() || key.contains(" #") {
                return None;
            }
            return Some((key.to_string(), key.len()));
        }
        if b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return None;
        }
    }
    None
}

/// Anchors (`&a`) and aliases (`*a`) in YAML block text, skipping quoted strings, comments and
/// block scalars. They are refused: the schema never needs them, and alias expansion is how a
/// small file becomes gigabytes (RELIABILITY.md, finding 2).
fn find_aliases(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    // Every anchor and alias starts with one of these bytes; most front matter has neither.
    if memchr::memchr2(b'&', b'*', &text.as_bytes()[range.clone()]).is_none() {
        return out;
    }
    let mut offset = range.start;
    let mut block_indent: Option<usize> = None;
    for line in text[range].split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let indent = content.len() - content.trim_start_matches(' ').len();
        if content.trim().is_empty() {
            continue;
        }
        if let Some(bi) = block_indent {
            if indent > bi {
                continue;
            }
            block_indent = None;
        }
        let bytes = content.as_bytes();
        let mut i = 0;
        let mut quote: Option<u8> = None;
        let mut prev = b' ';
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) => {
                    if b == q {
                        quote = None;
                    }
                }
                None => {
                    if (b == b'"' || b == b'\'')
                        && matches!(prev, b' ' | b'[' | b'{' | b',' | b':' | b'-')
                    {
                        quote = Some(b);
                    } else if b == b'#' && prev == b' ' {
                        break;
                    } else if (b == b'&' || b == b'*')
                        && matches!(prev, b' ' | b'[' | b'{' | b',')
                        && bytes
                            .get(i + 1)
                            .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'_' || *n == b'-')
                    {
                        let len = bytes[i + 1..]
                            .iter()
                            .take_while(|n| n.is_ascii_alphanumeric() || **n == b'_' || **n == b'-')
                            .count();
                        out.push(line_start + i..line_start + i + 1 + len);
                    } else if (b == b'|' || b == b'>')
                        && matches!(prev, b' ')
                        && content[i + 1..]
                            .trim()
                            .trim_start_matches(['-', '+'])
                            .chars()
                            .all(|c| c.is_ascii_digit())
                    {
                        block_indent = Some(indent);
                    }
                }
            }
            prev = b;
            i += 1;
        }
    }
    out
}

/// What the YAML is, for messages: "front matter" or "site.yaml".
pub struct YamlDoc<'a> {
    pub file: &'a Arc<SourceText>,
    /// Byte range of the YAML text inside the file.
    pub range: Range<usize>,
    /// Where to point when the whole block is at fault (a missing key): the opening `---`.
    pub anchor: Range<usize>,
    pub what: &'a str,
    /// Valid top-level keys, for "did you mean".
    pub keys: &'a [&'a str],
}

/// Deserialises `doc` into `T`. Returns the value when it could be read at all, and every
/// problem found (duplicate keys, unknown top-level keys, the first type error), each at its
/// place in the file. Unknown keys are found here, not by serde, so one misspelt key does not
/// hide the other problems of the same block.
pub fn parse<T: DeserializeOwned>(doc: &YamlDoc<'_>) -> (Option<(T, KeyIndex)>, Vec<Diagnostic>) {
    let text = &doc.file.text[doc.range.clone()];
    let (index, dups) = scan_keys(&doc.file.text, doc.range.clone());
    let aliases = find_aliases(&doc.file.text, doc.range.clone());
    if !aliases.is_empty() {
        let diags = aliases
            .into_iter()
            .map(|r| {
                Diagnostic::error(format!(
                    "YAML anchors and aliases (`{}`) are not allowed in {}",
                    &doc.file.text[r.clone()],
                    doc.what
                ))
                .at(doc.file, r)
                .hint("write the value out in full; if it is text, quote it (\"*note*\")")
            })
            .collect();
        return (None, diags);
    }
    let mut diags: Vec<Diagnostic> = dups
        .into_iter()
        .map(|d| {
            let (line, _) = doc.file.line_col(d.first.start);
            Diagnostic::error(format!("duplicate key `{}` in {}", d.path, doc.what))
                .at(doc.file, d.second)
                .label("defined again here")
                .hint(format!(
                    "`{}` is first defined on line {line}; keep one of the two",
                    d.path
                ))
        })
        .collect();
    let text = if text.trim().is_empty() { "{}" } else { text };
    let value = match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Ok(serde_yaml::Value::Mapping(map)) => {
            for key in map.keys() {
                let name = match key {
                    serde_yaml::Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                if doc.keys.is_empty() || doc.keys.contains(&name.as_str()) {
                    continue;
                }
                let mut d = Diagnostic::error(format!("unknown key `{name}` in {}", doc.what))
                    .label("unknown key");
                d = match did_you_mean(&name, doc.keys.iter().copied()) {
                    Some(s) => d.hint(format!("did you mean `{s}`?")),
                    None => d.hint(format!("valid keys are: {}", doc.keys.join(", "))),
                };
                diags.push(d.at(doc.file, index.get(&name).unwrap_or(doc.anchor.clone())));
            }
            Some(serde_yaml::Value::Mapping(map))
        }
        Ok(serde_yaml::Value::Null) => None,
        Ok(_) => {
            diags.push(
                Diagnostic::error(format!(
                    "{} must be a mapping of `key: value` lines",
                    doc.what
                ))
                .at(doc.file, doc.anchor.clone())
                .hint("write one `key: value` per line"),
            );
            return (None, diags);
        }
        Err(e) => {
            if !e.to_string().contains("duplicate entry") || diags.is_empty() {
                diags.push(convert_error(doc, &index, &e));
            }
            return (None, diags);
        }
    };
    // Typed from the value already parsed. A value typed differently from the text (`title:
    // 2024` read as a number, not the string "2024") or a type error is read again from the
    // text, which gives the same result as reading it from the text alone and a position.
    if let Some(value) = value
        && let Ok(v) = serde_yaml::from_value::<T>(value)
    {
        return (Some((v, index)), diags);
    }
    let text = if text.trim() == "null" || text.trim() == "~" {
        "{}"
    } else {
        text
    };
    match serde_yaml::from_str::<T>(text) {
        Ok(v) => (Some((v, index)), diags),
        Err(e) => {
            let converted = convert_error(doc, &index, &e);
            // What serde reports about a duplicate or unknown key is already reported.
            let known = converted.message.starts_with("duplicate")
                || converted.message.starts_with("unknown key");
            if !known || diags.is_empty() {
                diags.push(converted);
            }
            (None, diags)
        }
    }
}

fn convert_error(doc: &YamlDoc<'_>, index: &KeyIndex, e: &serde_yaml::Error) -> Diagnostic {
    let raw = e.to_string();
    // serde_yaml appends " at line L column C"; we give our own position.
    let msg = match raw.find(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.clone(),
    };
    let pos = e
        .location()
        .map(|l| doc.range.start + l.index())
        .filter(|p| *p > doc.range.start || e.location().is_some_and(|l| l.line() > 1));
    let (path_prefix, body) = split_path(&msg);
    if let Some(field) = between(body, "unknown field `", "`") {
        let valid: Vec<&str> = if path_prefix.is_empty() {
            doc.keys.to_vec()
        } else {
            expected_list(body)
        };
        let mut d = Diagnostic::error(format!(
            "unknown key `{field}` in {}{}",
            doc.what,
            in_path(path_prefix)
        ))
        .label("unknown key");
        d = match did_you_mean(field, valid.iter().copied()) {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!("valid keys are: {}", valid.join(", "))),
        };
        let full = if path_prefix.is_empty() {
            field.to_string()
        } else {
            format!("{path_prefix}.{field}")
        };
        let span = index
            .get(&full)
            .or_else(|| pos.map(|p| p..p + field.len()))
            .unwrap_or(doc.anchor.clone());
        return d.at(doc.file, span);
    }
    if let Some(field) = between(body, "missing field `", "`") {
        let span = if path_prefix.is_empty() {
            doc.anchor.clone()
        } else {
            index.get(path_prefix).unwrap_or(doc.anchor.clone())
        };
        return Diagnostic::error(format!(
            "missing required key `{field}` in {}{}",
            doc.what,
            in_path(path_prefix)
        ))
        .at(doc.file, span)
        .label("this mapping")
        .hint(format!("add a line `{field}: ...`"));
    }
    if let Some(field) = between(body, "duplicate field `", "`") {
        let full = if path_prefix.is_empty() {
            field.to_string()
        } else {
            format!("{path_prefix}.{field}")
        };
        let span = index.get(&full).unwrap_or(doc.anchor.clone());
        return Diagnostic::error(format!("duplicate key `{full}` in {}", doc.what))
            .at(doc.file, span)
            .hint("keep only one of the two");
    }
    let mut hint = "check the YAML syntax: `key: value`, one per line; quote values that contain `: ` or start with a special character".to_string();
    let message = if body.starts_with("invalid type") {
        hint = if path_prefix.is_empty() {
            "check the value's type (text, list, true/false, number)".to_string()
        } else {
            format!("check the type of `{path_prefix}`")
        };
        format!(
            "wrong type in {}{}: {}",
            doc.what,
            in_path(path_prefix),
            body.replace("invalid type: ", "")
        )
    } else {
        format!("invalid YAML in {}: {body}", doc.what)
    };
    let span = pos
        .map(|p| p..p + 1)
        .or_else(|| {
            (!path_prefix.is_empty())
                .then(|| index.value_span(&doc.file.text, path_prefix))
                .flatten()
        })
        .unwrap_or(doc.anchor.clone());
    Diagnostic::error(message).at(doc.file, span).hint(hint)
}

fn in_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (under `{path}`)")
    }
}

/// serde_yaml prefixes errors with the key path: `sources.bcg: unknown field ...`.
fn split_path(msg: &str) -> (&str, &str) {
    match msg.find(": ") {
        Some(i)
            if !msg[..i].contains(' ')
                && !msg[..i].is_empty()
                && !msg.starts_with("unknown")
                && !msg.starts_with("missing")
                && !msg.starts_with("invalid") =>
        {
            (&msg[..i], &msg[i + 2..])
        }
        _ => ("", msg),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

fn expected_list(body: &str) -> Vec<&str> {
    body.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .skip(1)
        .map(|(_, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_nested_keys_and_duplicates() {
        let text = "title: a\nsources:\n  bcg:\n    title: x\n    url: y\n  usgs:\n    title: z\ntitle: b\n";
        let (index, dups) = scan_keys(text, 0..text.len());
        assert_eq!(index.get("title"), Some(0..5));
        assert!(index.get("sources.bcg.url").is_some());
        assert!(index.get("sources.usgs.title").is_some());
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].path, "title");
    }

    #[test]
    fn aliases_are_found_outside_quotes_and_block_scalars() {
        let text = "a: &x [1]\nb: *x\nc: \"*not*\"\nd: |\n  *text\ne: [*x, 2]\nf: a*b # *c\n";
        let found: Vec<&str> = find_aliases(text, 0..text.len())
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(found, ["&x", "*x", "*x"]);
    }

    #[test]
    fn block_scalars_are_skipped() {
        let text = "summary: |\n  title: not a key\ntitle: a\n";
        let (_, dups) = scan_keys(text, 0..text.len());
        assert!(dups.is_empty());
    }

    #[test]
    fn list_items_are_separate_mappings() {
        let text = "claims:\n  - text: a\n    source: x\n  - text: b\n    source: y\n";
        let (_, dups) = scan_keys(text, 0..text.len());
        assert!(
            dups.is_empty(),
            "{:?}",
            dups.iter().map(|d| &d.path).collect::<Vec<_>>()
        );
    }

    #[test]
    fn scalars_typed_as_text_keep_their_spelling() {
        #[derive(serde::Deserialize)]
        struct Meta {
            title: Option<String>,
            weight: Option<i64>,
            draft: Option<bool>,
        }
        let read = |text: &str| {
            let file = Arc::new(SourceText::new("x.md", text.to_string()));
            let doc = YamlDoc {
                file: &file,
                range: 0..text.len(),
                anchor: 0..0,
                what: "front matter",
                keys: &["title", "weight", "draft"],
            };
            let (meta, diags) = parse::<Meta>(&doc);
            let messages: Vec<String> = diags.into_iter().map(|d| d.message).collect();
            (meta.map(|(m, _)| (m.title, m.weight, m.draft)), messages)
        };
        assert_eq!(
            read("title: 1.50\nweight: 2\ndraft: true\n"),
            (Some((Some("1.50".into()), Some(2), Some(true))), vec![])
        );
        assert_eq!(
            read("title: \"x\"\nweight: ~\n"),
            (Some((Some("x".into()), None, None)), vec![])
        );
        let (meta, messages) = read("title: x\ndraft: yes\n");
        assert!(meta.is_none());
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("draft"), "{messages:?}");
    }
}
