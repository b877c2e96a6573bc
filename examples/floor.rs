//! The floor for build-time benchmarks (`bench/compare.py`): the least any generator must do
//! with a corpus, and nothing more. Walk `content/` (walkdir), parse each file's YAML front
//! matter (serde_yaml) and Markdown body (pulldown-cmark), and write one HTML page per file
//! at a pretty URL, in parallel (rayon). No templates, no indexes, no citations or claims.
//!
//! Usage: cargo run --release --example floor -- SITE_DIR OUTPUT_DIR

use std::path::{Path, PathBuf};

use rayon::prelude::*;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(site), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: floor SITE_DIR OUTPUT_DIR");
        return std::process::ExitCode::from(2);
    };
    let content = Path::new(site).join("content");
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&content)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect();
    let out = Path::new(out);
    let failures: usize = files
        .par_iter()
        .map(|path| match page(&content, out, path) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                1
            }
        })
        .sum();
    if failures == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

fn page(content: &Path, out: &Path, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let (front, body) = match text
        .strip_prefix("---\n")
        .and_then(|t| t.split_once("\n---\n"))
    {
        Some((front, body)) => (front, body),
        None => ("", text.as_str()),
    };
    let meta: serde_yaml::Value = serde_yaml::from_str(front)?;
    let title = meta.get("title").and_then(|t| t.as_str()).unwrap_or("");
    let mut html = String::with_capacity(body.len() * 3 / 2 + 256);
    html.push_str("<!doctype html><title>");
    html.push_str(&title.replace('&', "&amp;").replace('<', "&lt;"));
    html.push_str("</title><main>");
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(body));
    html.push_str("</main>\n");
    let rel = path.strip_prefix(content)?.with_extension("");
    let dir = out.join(rel);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("index.html"), html)?;
    Ok(())
}
