//! Load stage, part one: `site.yaml` into a validated [`SiteConfig`].
//!
//! Keys (a contract): `title` and `base_url` (required), `description`, `language` (default
//! `en`), `theme` (default `default`), `output_dir` (default `public`), `strict` (default
//! false), `image`, `search` (default true: the search index and page). Unknown keys are errors
//! with a "did you mean" hint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::lang::is_valid_lang;
use crate::yaml::{self, KeyIndex, YamlDoc};

pub const CONFIG_FILE: &str = "site.yaml";

const KEYS: &[&str] = &[
    "title",
    "base_url",
    "description",
    "language",
    "theme",
    "output_dir",
    "strict",
    "image",
    "search",
];

#[derive(Debug, Deserialize)]
struct RawConfig {
    title: Option<String>,
    base_url: Option<String>,
    description: Option<String>,
    language: Option<String>,
    theme: Option<String>,
    output_dir: Option<String>,
    strict: Option<bool>,
    image: Option<String>,
    search: Option<bool>,
}

/// The site's settings, validated.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub title: String,
    /// Always ends with `/`.
    pub base_url: url::Url,
    pub description: Option<String>,
    pub language: String,
    pub theme: String,
    /// As written (relative to the site root, or absolute).
    pub output_dir: PathBuf,
    pub strict: bool,
    /// The image link previews use (OpenGraph, Twitter cards): an http(s) URL or a path in the
    /// site (`/og.png`), made absolute against `base_url`.
    pub image: Option<String>,
    /// Build the search index and the search page.
    pub search: bool,
    pub file: Arc<SourceText>,
    pub keys: KeyIndex,
}

impl SiteConfig {
    /// The path part of `base_url`, e.g. `/` or `/briefs/`.
    pub fn base_path(&self) -> &str {
        self.base_url.path()
    }

    /// Where `key` is written in `site.yaml`, for diagnostics about its value.
    pub fn key_location(&self, key: &str) -> Diagnostic {
        let range = self.keys.value_span(&self.file.text, key).unwrap_or(0..0);
        Diagnostic::error("").at(&self.file, range)
    }
}

/// Parses and checks a base URL: http(s), with a host; the path gets a trailing `/`.
pub fn parse_base_url(raw: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "`{raw}` must be an http:// or https:// URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{raw}` must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Reads `site.yaml` from `root`.
pub fn load(root: &Path) -> Result<SiteConfig, Vec<Diagnostic>> {
    let path = root.join(CONFIG_FILE);
    let text = match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return Err(vec![
                    Diagnostic::error(format!("{CONFIG_FILE} is not valid UTF-8"))
                        .in_file(CONFIG_FILE)
                        .hint("save the file as UTF-8"),
                ]);
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(vec![
                Diagnostic::error(format!("no {CONFIG_FILE} in {}", root.display()))
                    .hint("run this in a site folder, pass --root DIR, or create one with `sourced init DIR`"),
            ]);
        }
        Err(e) => {
            return Err(vec![
                Diagnostic::error(format!("cannot read {CONFIG_FILE}: {e}")).in_file(CONFIG_FILE),
            ]);
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let file = Arc::new(SourceText::new(PathBuf::from(CONFIG_FILE), text));
    parse(file)
}

/// Parses an already-read `site.yaml`.
pub fn parse(file: Arc<SourceText>) -> Result<SiteConfig, Vec<Diagnostic>> {
    let doc = YamlDoc {
        file: &file,
        range: 0..file.text.len(),
        anchor: 0..0,
        what: CONFIG_FILE,
        keys: KEYS,
    };
    let (parsed, mut diags) = yaml::parse::<RawConfig>(&doc);
    let Some((raw, keys)) = parsed else {
        return Err(diags);
    };
    let at = |key: &str| keys.value_span(&file.text, key).unwrap_or(0..0);

    let title = match raw.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() && t != "~" => t.to_string(),
        _ => {
            diags.push(
                Diagnostic::error(format!("{CONFIG_FILE} needs a `title`"))
                    .at(&file, at("title"))
                    .hint("add a line `title: My Briefs`"),
            );
            String::new()
        }
    };
    let base_url = match raw.base_url.as_deref() {
        None => {
            diags.push(
                Diagnostic::error(format!("{CONFIG_FILE} needs a `base_url`"))
                    .at(&file, 0..0)
                    .hint("add a line `base_url: https://example.org/` (the address the site is published at)"),
            );
            None
        }
        Some(raw_url) => match parse_base_url(raw_url) {
            Ok(u) => Some(u),
            Err(msg) => {
                diags.push(
                    Diagnostic::error(format!("invalid `base_url`: {msg}"))
                        .at(&file, at("base_url"))
                        .hint("write the full address, e.g. `https://example.org/briefs/`"),
                );
                None
            }
        },
    };
    let language = raw.language.unwrap_or_else(|| "en".to_string());
    if !is_valid_lang(&language) {
        diags.push(
            Diagnostic::error(format!(
                "`language: {language}` is not a BCP 47 language tag"
            ))
            .at(&file, at("language"))
            .hint("use a tag such as `en`, `en-GB` or `zh-Hant`"),
        );
    }
    let theme = raw.theme.unwrap_or_else(|| "default".to_string());
    if theme.is_empty()
        || !theme
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
        || theme.starts_with('.')
    {
        diags.push(
            Diagnostic::error(format!("`theme: {theme}` is not a theme name"))
                .at(&file, at("theme"))
                .hint("name a folder under themes/, e.g. `theme: default`"),
        );
    }
    let output_dir = raw.output_dir.unwrap_or_else(|| "public".to_string());
    if output_dir.trim().is_empty() {
        diags.push(
            Diagnostic::error("`output_dir` is empty")
                .at(&file, at("output_dir"))
                .hint("leave it out for `public`, or name a folder"),
        );
    }
    if let Some(img) = raw.image.as_deref()
        && crate::urls::scheme_of(img).is_some_and(|s| s != "http" && s != "https")
    {
        diags.push(
            Diagnostic::error(format!(
                "`image: {img}` must be an http(s) URL or a path in the site"
            ))
            .at(&file, at("image"))
            .hint("e.g. `image: /og.png` with the file in static/"),
        );
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let Some(base_url) = base_url else {
        return Err(diags);
    };
    Ok(SiteConfig {
        title,
        base_url,
        description: raw.description.filter(|d| !d.trim().is_empty()),
        language,
        theme,
        output_dir: PathBuf::from(output_dir),
        strict: raw.strict.unwrap_or(false),
        search: raw.search.unwrap_or(true),
        image: raw
            .image
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty()),
        file,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<SiteConfig, Vec<Diagnostic>> {
        parse(Arc::new(SourceText::new(
            PathBuf::from("site.yaml"),
            s.to_string(),
        )))
    }

    #[test]
    fn defaults_and_trailing_slash() {
        let c = parse_str("title: T\nbase_url: https://example.org/briefs\n").unwrap();
        assert_eq!(c.base_path(), "/briefs/");
        assert_eq!(c.language, "en");
        assert_eq!(c.theme, "default");
        assert_eq!(c.output_dir, PathBuf::from("public"));
        assert!(!c.strict);
    }

    #[test]
    fn unknown_key_has_position_and_hint() {
        let errs = parse_str("title: T\nbase_url: https://e.org/\ntitel: x\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].position().unwrap(), "site.yaml:3:1");
        assert!(errs[0].hint.as_deref().unwrap().contains("title"));
    }

    #[test]
    fn rejects_non_http_base_url() {
        let errs = parse_str("title: T\nbase_url: javascript:alert(1)\n").unwrap_err();
        assert!(errs[0].message.contains("base_url"));
        assert_eq!(errs[0].position().unwrap(), "site.yaml:2:11");
    }
}
