//! Quantitative claims: detection in prose (`detect`) and the `claims detect` JSON-lines
//! contract.

pub mod bindings;
pub mod detect;

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Input {
    id: serde_json::Value,
    #[serde(default)]
    text: String,
}

#[derive(Serialize)]
struct Span<'a> {
    start: usize,
    end: usize,
    text: String,
    kind: detect::Kind,
    value: detect::Value,
    unit: &'a str,
}

#[derive(Serialize)]
struct Output<'a> {
    id: &'a serde_json::Value,
    spans: Vec<Span<'a>>,
}

/// `sourced claims detect`: one JSON line in (`{"id", "lang", "text"}`), one line out per input
/// (`{"id", "spans": [{"start", "end", "text", "kind", "value", "unit"}]}`), offsets in code
/// points. A line that is not valid JSON gets `{"id": null, "spans": [], "error": ...}`.
pub fn detect_jsonl(input: impl BufRead, mut output: impl Write) -> std::io::Result<usize> {
    let mut n = 0;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        n += 1;
        match serde_json::from_str::<Input>(&line) {
            Ok(inp) => {
                let qs = detect::detect(&inp.text);
                let chars: Vec<char> = inp.text.chars().collect();
                let spans = qs
                    .iter()
                    .map(|q| Span {
                        start: q.start,
                        end: q.end,
                        text: chars[q.start..q.end].iter().collect(),
                        kind: q.kind,
                        value: q.value,
                        unit: &q.unit,
                    })
                    .collect();
                serde_json::to_writer(&mut output, &Output { id: &inp.id, spans })?;
            }
            Err(e) => {
                serde_json::to_writer(
                    &mut output,
                    &serde_json::json!({"id": null, "spans": [], "error": format!("line {n}: {e}")}),
                )?;
            }
        }
        output.write_all(b"\n")?;
    }
    Ok(n)
}
