//! Load stage for claim rules written in a brief's front matter: `claims:` bindings (a figure
//! in the body tied to a source, optionally with the source's own value) and `not_claims:`
//! (numbers in the body that are not claims, such as `Section 301`).
//!
//! In: the YAML values and the front matter's text. Out: validated [`ClaimRules`] with the
//! position of each binding, for errors at `file:line:col`.

use std::ops::Range;
use std::sync::Arc;

use serde_yaml::Value;

use crate::diagnostics::{Diagnostic, SourceText, did_you_mean};

/// One `claims:` entry.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The text as it appears in the body.
    pub matches: String,
    /// Which occurrence (1-based).
    pub occurrence: usize,
    pub source: String,
    pub locator: Option<String>,
    pub quote: Option<String>,
    /// The source's own figure, normalised like detected values (60% -> 0.6, $83bn -> 8.3e10).
    pub value: Option<f64>,
    pub unit: Option<String>,
    /// Where the entry's `match:` value is in the file.
    pub at: Range<usize>,
}

/// A brief's claim rules.
#[derive(Debug, Clone, Default)]
pub struct ClaimRules {
    pub bindings: Vec<Binding>,
    pub not_claims: Vec<String>,
}

const BINDING_KEYS: &[&str] = &[
    "match",
    "occurrence",
    "source",
    "locator",
    "quote",
    "value",
    "unit",
];

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Finds `needle` as a YAML value in `range` of the file, from `from` on: its byte range.
fn locate(
    file: &SourceText,
    range: &Range<usize>,
    from: usize,
    needle: &str,
) -> Option<Range<usize>> {
    let hay = &file.text[from.max(range.start)..range.end];
    hay.find(needle).map(|i| {
        let s = from.max(range.start) + i;
        s..s + needle.len()
    })
}

/// Reads `claims:` and `not_claims:`. `yaml` is the front matter's byte range.
pub fn parse(
    file: &Arc<SourceText>,
    yaml: Range<usize>,
    claims: Option<&Value>,
    not_claims: Option<&Value>,
    anchor: Range<usize>,
) -> (ClaimRules, Vec<Diagnostic>) {
    let mut rules = ClaimRules::default();
    let mut diags = Vec::new();
    let mut cursor = yaml.start;
    match claims {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) => {
            for item in items {
                let Value::Mapping(map) = item else {
                    diags.push(
                        Diagnostic::error("each `claims:` entry must be a mapping")
                            .at(file, anchor.clone())
                            .hint("write `- match: \"830億美元\"` then `  source: key` on the next line"),
                    );
                    continue;
                };
                let matches = map.get("match").and_then(text_of).unwrap_or_default();
                let at = locate(file, &yaml, cursor, &matches).unwrap_or(anchor.clone());
                cursor = at.end;
                for k in map.keys() {
                    let name = text_of(k).unwrap_or_default();
                    if !BINDING_KEYS.contains(&name.as_str()) {
                        let mut d =
                            Diagnostic::error(format!("unknown key `{name}` in a `claims:` entry"))
                                .at(
                                    file,
                                    locate(
                                        file,
                                        &yaml,
                                        at.start.saturating_sub(200),
                                        &format!("{name}:"),
                                    )
                                    .unwrap_or(at.clone()),
                                );
                        d = match did_you_mean(&name, BINDING_KEYS.iter().copied()) {
                            Some(s) => d.hint(format!("did you mean `{s}`?")),
                            None => d.hint(format!("valid keys are: {}", BINDING_KEYS.join(", "))),
                        };
                        diags.push(d);
                    }
                }
                if matches.trim().is_empty() {
                    diags.push(
                        Diagnostic::error(
                            "a `claims:` entry needs `match:` (the figure as written in the body)",
                        )
                        .at(file, at.clone())
                        .hint("add `match: \"60%\"`"),
                    );
                    continue;
                }
                let Some(source) = map.get("source").and_then(text_of) else {
                    diags.push(
                        Diagnostic::error(format!(
                            "the `claims:` entry for `{matches}` needs `source:`"
                        ))
                        .at(file, at.clone())
                        .hint("name the key of the source that states this figure"),
                    );
                    continue;
                };
                let value = match map.get("value") {
                    None | Some(Value::Null) => None,
                    Some(Value::Number(n)) => n.as_f64(),
                    Some(Value::String(s)) => match s.trim().replace('_', "").parse::<f64>() {
                        Ok(v) => Some(v),
                        Err(_) => {
                            diags.push(
                                Diagnostic::error(format!("`value: {s}` is not a number"))
                                    .at(file, locate(file, &yaml, at.start, s).unwrap_or(at.clone()))
                                    .hint("write the source's figure as a number: `83e9`, `0.6` for 60%"),
                            );
                            None
                        }
                    },
                    Some(_) => {
                        diags.push(
                            Diagnostic::error("`value` must be a number")
                                .at(file, at.clone())
                                .hint(
                                    "write the source's figure as a number: `83e9`, `0.6` for 60%",
                                ),
                        );
                        None
                    }
                };
                let occurrence = match map.get("occurrence") {
                    None => 1,
                    Some(Value::Number(n)) if n.as_u64().is_some_and(|o| o >= 1) => {
                        n.as_u64().unwrap_or(1) as usize
                    }
                    Some(_) => {
                        diags.push(
                            Diagnostic::error("`occurrence` must be a whole number from 1")
                                .at(file, at.clone())
                                .hint("`occurrence: 2` binds the second place the text appears"),
                        );
                        1
                    }
                };
                rules.bindings.push(Binding {
                    matches,
                    occurrence,
                    source,
                    locator: map.get("locator").and_then(text_of),
                    quote: map.get("quote").and_then(text_of),
                    value,
                    unit: map.get("unit").and_then(text_of),
                    at,
                });
            }
        }
        Some(_) => diags.push(
            Diagnostic::error("`claims` must be a list of bindings")
                .at(file, anchor.clone())
                .hint("write `claims:` then lines `  - match: \"60%\"` and `    source: key`"),
        ),
    }
    match not_claims {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) => {
            for item in items {
                match text_of(item) {
                    Some(s) if !s.trim().is_empty() => rules.not_claims.push(s),
                    _ => diags.push(
                        Diagnostic::error("`not_claims` entries must be text")
                            .at(file, anchor.clone())
                            .hint("list the text as it appears in the body: `not_claims: [\"Section 301\"]`"),
                    ),
                }
            }
        }
        Some(_) => diags.push(
            Diagnostic::error("`not_claims` must be a list of texts")
                .at(file, anchor.clone())
                .hint("write `not_claims: [\"Section 301\", \"2,000\"]`"),
        ),
    }
    (rules, diags)
}
