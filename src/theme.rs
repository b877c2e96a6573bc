//! Theme lookup: which template and static file each name resolves to.
//!
//! Order, first match wins: the site's own `templates/` (templates only), then
//! `themes/<theme>/` in the site, then the default theme embedded in the binary (so a site made
//! by `sourced init` builds without this repo, and a theme need not provide every template).
//! Static files: the theme's `static/`, then the site's `static/` on top (copied in that order).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::SiteConfig;
use crate::diagnostics::{Diagnostic, SourceText};
use crate::discover;

/// The default theme, embedded: (path inside `themes/default/`, bytes).
pub const EMBEDDED: &[(&str, &[u8])] = &[
    (
        "templates/base.html",
        include_bytes!("../themes/default/templates/base.html"),
    ),
    (
        "templates/index.html",
        include_bytes!("../themes/default/templates/index.html"),
    ),
    (
        "templates/brief.html",
        include_bytes!("../themes/default/templates/brief.html"),
    ),
    (
        "templates/section.html",
        include_bytes!("../themes/default/templates/section.html"),
    ),
    (
        "templates/tags.html",
        include_bytes!("../themes/default/templates/tags.html"),
    ),
    (
        "templates/tag.html",
        include_bytes!("../themes/default/templates/tag.html"),
    ),
    (
        "templates/404.html",
        include_bytes!("../themes/default/templates/404.html"),
    ),
    (
        "templates/brief_list.html",
        include_bytes!("../themes/default/templates/brief_list.html"),
    ),
    (
        "templates/sources.html",
        include_bytes!("../themes/default/templates/sources.html"),
    ),
    (
        "templates/source.html",
        include_bytes!("../themes/default/templates/source.html"),
    ),
    (
        "templates/claims.html",
        include_bytes!("../themes/default/templates/claims.html"),
    ),
    (
        "templates/search.html",
        include_bytes!("../themes/default/templates/search.html"),
    ),
    (
        "templates/feed.xml",
        include_bytes!("../themes/default/templates/feed.xml"),
    ),
    (
        "templates/sitemap.xml",
        include_bytes!("../themes/default/templates/sitemap.xml"),
    ),
    (
        "templates/split_sitemap_index.xml",
        include_bytes!("../themes/default/templates/split_sitemap_index.xml"),
    ),
    (
        "templates/robots.txt",
        include_bytes!("../themes/default/templates/robots.txt"),
    ),
    (
        "static/style.css",
        include_bytes!("../themes/default/static/style.css"),
    ),
];

/// Where a static file's bytes come from.
#[derive(Debug, Clone)]
pub enum StaticSource {
    Disk(PathBuf),
    Embedded(&'static [u8]),
}

/// The resolved theme: every template's text by name, and the static files to copy.
#[derive(Debug, Default)]
pub struct Theme {
    pub templates: BTreeMap<String, Arc<SourceText>>,
    /// Output-relative path -> source, theme first, the site's `static/` overriding.
    pub static_files: BTreeMap<PathBuf, StaticSource>,
}

fn embedded(theme: &mut Theme, diags: &mut Vec<Diagnostic>) {
    for (path, bytes) in EMBEDDED {
        if let Some(name) = path.strip_prefix("templates/") {
            match std::str::from_utf8(bytes) {
                Ok(text) => {
                    theme.templates.insert(
                        name.to_string(),
                        Arc::new(SourceText::new(
                            PathBuf::from(format!("(embedded default theme)/templates/{name}")),
                            text.to_string(),
                        )),
                    );
                }
                Err(_) => diags.push(Diagnostic::error(format!(
                    "embedded template {name} is not UTF-8"
                ))),
            }
        } else if let Some(rel) = path.strip_prefix("static/") {
            theme
                .static_files
                .insert(PathBuf::from(rel), StaticSource::Embedded(bytes));
        }
    }
}

fn from_disk(
    root: &Path,
    dir: &Path,
    theme: &mut Theme,
    diags: &mut Vec<Diagnostic>,
    templates_only: bool,
) {
    let (files, walk_diags) = discover::walk(
        root,
        &dir.join(if templates_only { "" } else { "templates" }),
    );
    diags.extend(walk_diags);
    for f in files {
        let name = crate::urls::to_slash(&f.rel);
        match discover::read_text(root, &f.abs) {
            Ok(text) => {
                theme.templates.insert(name, text);
            }
            Err(d) => diags.push(d),
        }
    }
    if !templates_only {
        let (files, walk_diags) = discover::walk(root, &dir.join("static"));
        diags.extend(walk_diags);
        for f in files {
            theme.static_files.insert(f.rel, StaticSource::Disk(f.abs));
        }
    }
}

/// Resolves the site's theme.
pub fn resolve(root: &Path, config: &SiteConfig) -> (Theme, Vec<Diagnostic>) {
    let mut theme = Theme::default();
    let mut diags = Vec::new();
    embedded(&mut theme, &mut diags);
    let dir = root.join("themes").join(&config.theme);
    if dir.is_dir() {
        if config.theme != "default" {
            // A named theme replaces the default's static files; templates fall back by name.
            theme.static_files.clear();
        }
        from_disk(root, &dir, &mut theme, &mut diags, false);
    } else if config.theme != "default" {
        let span = config
            .keys
            .value_span(&config.file.text, "theme")
            .unwrap_or(0..0);
        diags.push(
            Diagnostic::error(format!("theme `{}` not found", config.theme))
                .at(&config.file, span)
                .hint(format!(
                    "create themes/{}/templates/, or use `theme: default`",
                    config.theme
                )),
        );
    }
    let site_templates = root.join("templates");
    if site_templates.is_dir() {
        from_disk(root, &site_templates, &mut theme, &mut diags, true);
    }
    let (files, walk_diags) = discover::walk(root, &root.join("static"));
    diags.extend(walk_diags);
    for f in files {
        theme.static_files.insert(f.rel, StaticSource::Disk(f.abs));
    }
    (theme, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of themes/default/ is embedded, so `sourced init` sites get the whole theme.
    #[test]
    fn embedded_table_lists_every_theme_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
        let listed: std::collections::BTreeSet<&str> = EMBEDDED.iter().map(|(p, _)| *p).collect();
        for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let rel = crate::urls::to_slash(entry.path().strip_prefix(&dir).unwrap());
                assert!(
                    listed.contains(rel.as_str()),
                    "themes/default/{rel} is not in theme::EMBEDDED"
                );
            }
        }
    }
}
