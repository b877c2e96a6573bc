//! Claim-detection throughput: `cargo bench --bench detect`.
//!
//! Builds ~32 MB of prose from the development sentences beside this repository
//! (`../shared/claims-dev/*.jsonl`, or a built-in paragraph when they are absent), runs the
//! detector over it on one thread, and prints MB/s per language.

use std::time::Instant;

fn corpus(lang: &str) -> String {
    let path = format!(
        "{}/../shared/claims-dev/claims-dev-{lang}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    if let Ok(data) = std::fs::read_to_string(&path) {
        for line in data.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
                && let Some(t) = v.get("text").and_then(|t| t.as_str())
            {
                text.push_str(t);
                text.push('\n');
            }
        }
    }
    if text.is_empty() {
        text = if lang == "en" {
            "China's share fell to 60% in 2023, and US firms could lose $83 billion and 124,000 jobs over five years.\n".into()
        } else {
            "美國的出口管制使企業損失830億美元，市占率下降六成，五年內減少12.4萬個工作。\n".into()
        };
    }
    let mut out = String::with_capacity(33 << 20);
    while out.len() < 32 << 20 {
        out.push_str(&text);
    }
    out
}

fn main() {
    for lang in ["en", "zh"] {
        let text = corpus(lang);
        // Detect paragraph by paragraph, as the build does.
        let paragraphs: Vec<&str> = text.lines().collect();
        let mut best = f64::MAX;
        let mut spans = 0;
        for _ in 0..3 {
            let t0 = Instant::now();
            spans = 0;
            for p in &paragraphs {
                spans += sourced::claims::detect::detect(p).len();
            }
            best = best.min(t0.elapsed().as_secs_f64());
        }
        let mb = text.len() as f64 / 1e6;
        println!(
            "{lang}: {mb:.1} MB, {spans} spans, best of 3: {best:.3} s = {:.1} MB/s on one thread",
            mb / best
        );
    }
}
