//! `sourced init DIR`: writes a small working site (site.yaml, a home intro, one sample
//! brief) into an empty or absent folder. The default theme is embedded in the binary, so the
//! new site builds without any theme files of its own.

use std::path::Path;

use crate::diagnostics::Diagnostic;

const SAMPLE_BRIEF: &str = r#"---
title: "A sample brief"
date: 2024-11-02
summary: "What a brief looks like: front matter, headings, links between briefs."
authors: ["Your Name"]
tags: [sample]
---

This is a brief. Its front matter (between the `---` lines) gives its title, date and
summary; the rest is Markdown.

## Key findings

- Write each finding as one sentence.
- Link to other briefs by their file: [the about page](../about.md).

## Context

Headings get stable ids, so other briefs can link to [this section](#context).
"#;

const ABOUT: &str = r#"---
title: "About these briefs"
date: 2024-11-01
summary: "Who writes these briefs and how they are sourced."
---

Replace this page with a description of your organisation.
"#;

const HOME: &str = r#"---
title: "Policy Briefs"
---

Short, sourced analysis. Every figure links to where it comes from.
"#;

/// Creates the site; refuses a folder that has anything in it.
pub fn init(dir: &Path, title: &str, base_url: &str) -> Result<(), Diagnostic> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(
                Diagnostic::error(format!("{} exists and is not empty", dir.display()))
                    .in_file(dir)
                    .hint("choose a new folder name; sourced init never overwrites files"),
            );
        }
    }
    if crate::config::parse_base_url(base_url).is_err() {
        return Err(
            Diagnostic::error(format!("`{base_url}` is not an http(s) URL"))
                .hint("pass --base-url https://example.org/"),
        );
    }
    let yaml_title = title.replace('\\', "\\\\").replace('"', "\\\"");
    let site_yaml = format!(
        "# Site settings. See the README for every key.\ntitle: \"{yaml_title}\"\nbase_url: \"{base_url}\"\ndescription: \"Sourced policy briefs.\"\nlanguage: en\n"
    );
    let home = HOME.replace("Policy Briefs", &yaml_title);
    let files: [(&str, &str); 5] = [
        ("site.yaml", &site_yaml),
        ("content/_index.md", &home),
        ("content/briefs/sample-brief.md", SAMPLE_BRIEF),
        ("content/about.md", ABOUT),
        (".gitignore", "/public/\n"),
    ];
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Diagnostic::error(format!("cannot create {}: {e}", parent.display()))
                    .in_file(parent)
            })?;
        }
        std::fs::write(&path, text).map_err(|e| {
            Diagnostic::error(format!("cannot write {}: {e}", path.display())).in_file(&path)
        })?;
    }
    Ok(())
}
