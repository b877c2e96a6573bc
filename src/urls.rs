//! URLs: slugs, the pretty URL of each page, joining with `base_url` (which may carry a
//! subpath), and resolving a relative `.md` link against the file that contains it.
//!
//! A page's *path* is relative to the site root with a trailing slash (`briefs/chip/`; the
//! home page is ``). Its *url* is root-relative and includes the base path (`/briefs/chip/`
//! or `/sub/briefs/chip/`); its *permalink* is absolute (`https://example.org/sub/briefs/chip/`).

use std::path::{Component, Path, PathBuf};

/// A URL-safe segment from a file name, title or tag: lowercase letters and digits of any
/// script (CJK kept), `-`, `_` and `.`; anything else becomes `-`; runs of `-` collapse.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in unicode_normalization::UnicodeNormalization::nfc(s) {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c == '_' || c == '.') && !out.is_empty() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with(['-', '.']) {
        out.pop();
    }
    out
}

/// Is `s` acceptable as an explicit `slug:`? (One segment, no dots-only, no separators.)
pub fn is_valid_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !s.contains("..")
}

/// Joins a site-relative page path with the base path: `("/sub/", "a/b/")` -> `/sub/a/b/`,
/// percent-encoding what a URL path cannot hold.
pub fn url_for(base_url: &url::Url, path: &str) -> String {
    if appends_plainly(base_url, path) {
        return [base_url.path(), path].concat();
    }
    match base_url.join(path) {
        Ok(u) => u.path().to_string(),
        Err(_) => format!("{}{}", base_url.path(), path),
    }
}

/// The absolute URL of a site-relative page path.
pub fn permalink_for(base_url: &url::Url, path: &str) -> String {
    if appends_plainly(base_url, path) {
        return [base_url.as_str(), path].concat();
    }
    match base_url.join(path) {
        Ok(u) => u.to_string(),
        Err(_) => format!("{base_url}{path}"),
    }
}

/// Does joining `path` to `base_url` just append it? True for the paths of most pages
/// (`briefs/chip/`: ASCII letters, digits, `-`, `_`, and `/` between non-dot segments) under a
/// base ending in `/` with no query or fragment. Parsing a URL per join was 1% of a build
/// (a page links to many others); the result is the same (tested against the join).
fn appends_plainly(base_url: &url::Url, path: &str) -> bool {
    let base_ok = base_url.as_str().ends_with('/')
        && base_url.query().is_none()
        && base_url.fragment().is_none()
        && !base_url.cannot_be_a_base();
    if !base_ok {
        return false;
    }
    if path.is_empty() {
        return true;
    }
    let body = path.strip_suffix('/').unwrap_or(path);
    !body.is_empty()
        && body.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.bytes().all(|b| b == b'.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

/// Resolves `target` (a link destination's path part, percent-decoded) against the folder of
/// `from` (a content-relative file path). Returns a normalised content-relative path, or
/// `None` when it climbs out of `content/`.
pub fn resolve_relative(from: &Path, target: &str) -> Option<PathBuf> {
    let base = if target.starts_with('/') {
        PathBuf::new()
    } else {
        from.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut parts: Vec<String> = base
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s.to_string()),
        }
    }
    Some(parts.iter().collect())
}

/// A content-relative path with `/` separators on every platform.
pub fn to_slash(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The order of two relative paths as `Path`'s own (component by component), compared as
/// bytes with each separator taken as lower than any other byte: the same for paths as walked
/// (no `.`, `..` or doubled separators), without splitting either into components.
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |c: u8| {
        if c.is_ascii() && std::path::is_separator(c as char) {
            0
        } else {
            c
        }
    };
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    a.iter().map(|&c| key(c)).cmp(b.iter().map(|&c| key(c)))
}

/// Decodes `%xx` escapes. `None` when an escape is malformed or the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Does a link destination carry a scheme (`https:`, `mailto:`, `javascript:`)?
pub fn scheme_of(dest: &str) -> Option<String> {
    let cleaned: String = dest
        .trim()
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect();
    let colon = cleaned.find(':')?;
    let scheme = &cleaned[..colon];
    let first_sep = cleaned.find(['/', '?', '#']).unwrap_or(cleaned.len());
    if colon < first_sep
        && !scheme.is_empty()
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    {
        Some(scheme.to_ascii_lowercase())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_order_is_paths_own_order() {
        let names = [
            "a",
            "a/b",
            "a/b.md",
            "a-b",
            "a-b/c",
            "a.md",
            "a b",
            "a/a",
            "ab",
            "a/b/c",
            "b",
            "A",
            "é",
            "é/a",
            "a/é",
            "a!/b",
            "a/!",
            "2024/x.md",
            "2024-01/x.md",
            "z",
            "",
        ];
        for x in names {
            for y in names {
                let (px, py) = (Path::new(x), Path::new(y));
                assert_eq!(path_order(px, py), px.cmp(py), "{x:?} vs {y:?}");
            }
        }
    }

    /// The quick join agrees with parsing: every path against bases with and without a subpath.
    #[test]
    fn plain_paths_join_like_the_url_parser() {
        let bases = [
            "https://example.org/",
            "https://example.org/sub/",
            "https://example.org/a/b/",
            "http://localhost:1111/",
            "https://example.org/sub",
            "https://example.org/sub/?q=1",
        ];
        let parts = [
            "",
            "/",
            "a",
            "a/",
            "briefs/chip/",
            "sources/iea-2023_x.y/",
            ".",
            "..",
            "./",
            "../",
            "a/../b/",
            "a/./b/",
            "a//b/",
            "//evil.example/",
            "a b/",
            "a%20b/",
            "晶片/",
            "a?x/",
            "a#b/",
            "c:d/",
            "...",
            ".../",
            ".a./",
            "-/",
            "index.html",
            "feed.xml",
        ];
        for base in bases {
            let base = url::Url::parse(base).unwrap();
            for p in parts {
                let slow_url = match base.join(p) {
                    Ok(u) => u.path().to_string(),
                    Err(_) => format!("{}{}", base.path(), p),
                };
                let slow_link = match base.join(p) {
                    Ok(u) => u.to_string(),
                    Err(_) => format!("{base}{p}"),
                };
                assert_eq!(url_for(&base, p), slow_url, "{base} + {p:?}");
                assert_eq!(permalink_for(&base, p), slow_link, "{base} + {p:?}");
            }
        }
    }

    #[test]
    fn slugs() {
        for (input, want) in [
            ("Chip Controls", "chip-controls"),
            ("chip-controls", "chip-controls"),
            ("五年計畫", "五年計畫"),
            ("  Rare earths & gallium!  ", "rare-earths-gallium"),
            ("US_2024.v2", "us_2024.v2"),
            ("---", ""),
        ] {
            assert_eq!(slugify(input), want, "{input}");
        }
    }

    #[test]
    fn joins_subpaths() {
        let base = url::Url::parse("https://example.org/briefs/").unwrap();
        assert_eq!(url_for(&base, "a/b/"), "/briefs/a/b/");
        assert_eq!(url_for(&base, ""), "/briefs/");
        assert_eq!(permalink_for(&base, "a/"), "https://example.org/briefs/a/");
        assert_eq!(url_for(&base, "稀土/"), "/briefs/%E7%A8%80%E5%9C%9F/");
    }

    #[test]
    fn resolves_relative_links() {
        let from = Path::new("briefs/a.md");
        assert_eq!(
            resolve_relative(from, "../b.md"),
            Some(PathBuf::from("b.md"))
        );
        assert_eq!(
            resolve_relative(from, "c.md"),
            Some(PathBuf::from("briefs/c.md"))
        );
        assert_eq!(resolve_relative(from, "../../x.md"), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2F").as_deref(), Some("a b/"));
        assert_eq!(percent_decode("%E7%A8%80").as_deref(), Some("稀"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn schemes() {
        assert_eq!(scheme_of("https://x").as_deref(), Some("https"));
        assert_eq!(
            scheme_of("java\tscript:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(scheme_of("../a.md"), None);
        assert_eq!(scheme_of("a.md#x:y"), None);
    }
}
