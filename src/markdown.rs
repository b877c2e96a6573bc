//! Parse stage: a brief's Markdown body into HTML plus what later stages need from it.
//!
//! In: the file, the body's byte range, the file's content-relative path, and the URL of every
//! page a link may name. Out: [`Rendered`]: body HTML, headings with stable unique ids (CJK
//! kept), anchors to check once every page is known, a plain-text excerpt, and diagnostics at
//! `file:line:col`. The one parser factory is [`parser_options`]. Each transformation is a
//! step over the event list with source ranges from `into_offset_iter`.
//!
//! Raw HTML is escaped (shown as text), never passed through; link and image destinations
//! are limited to http, https, mailto, tel and relative URLs.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::diagnostics::{Diagnostic, SourceText};
use crate::urls::{resolve_relative, scheme_of, to_slash};

/// The Markdown dialect: CommonMark plus tables, footnotes, strikethrough, task lists,
/// smart punctuation and `{#id .class}` heading attributes.
pub fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// A heading of the body, for the table of contents and anchor checks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// A link to `#anchor` in a page, checked once all pages' headings are known.
#[derive(Debug, Clone)]
pub struct AnchorRef {
    /// Content-relative path of the target file (`briefs/a.md`).
    pub target: String,
    pub anchor: String,
    pub range: Range<usize>,
}

/// What a link resolver knows about a content file.
#[derive(Debug, Clone)]
pub enum LinkTarget {
    /// A published page at this root-relative URL.
    Page(String),
    /// A draft left out of this build.
    Draft,
    /// A file copied as is (an image, a PDF) at this root-relative URL.
    Asset(String),
}

/// The parse stage's output for one body.
#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub anchor_refs: Vec<AnchorRef>,
    /// Content-relative paths of briefs this body links to.
    pub links_to: BTreeSet<String>,
    pub excerpt: String,
    pub words: usize,
    pub diagnostics: Vec<Diagnostic>,
}

/// An id from heading text: lowercase, letters and digits of any script, `-` and `_`;
/// whitespace becomes `-`. (mdBook's rule, which keeps CJK headings readable.)
pub fn id_from_text(text: &str) -> String {
    let mut id = String::new();
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            id.extend(c.to_lowercase());
        } else if c.is_whitespace() && !id.ends_with('-') {
            id.push('-');
        }
    }
    while id.ends_with('-') {
        id.pop();
    }
    if id.is_empty() {
        "section".to_string()
    } else {
        id
    }
}

/// Makes `id` unique among `used` by appending `-1`, `-2`, ...
pub fn unique_id(id: String, used: &mut BTreeSet<String>) -> String {
    if used.insert(id.clone()) {
        return id;
    }
    let mut n = 1;
    loop {
        let candidate = format!("{id}-{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

fn is_valid_attr_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == ':' || c == '.')
}

fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (
                (bytes[i + 1] as char).to_digit(16),
                (bytes[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A heading being collected: its attributes, span, inner events and text.
struct OpenHeading<'a> {
    level: HeadingLevel,
    custom_id: Option<String>,
    classes: Vec<String>,
    range: Range<usize>,
    inner: Vec<Event<'a>>,
    text: String,
}

/// Ids the theme uses on a brief page; a heading may not take them.
pub const RESERVED_IDS: &[&str] = &["content", "main", "top", "toc"];

/// Renders one body. `targets` maps content-relative `.md` paths to what they became.
pub fn render(
    file: &Arc<SourceText>,
    body: Range<usize>,
    self_path: &Path,
    targets: &BTreeMap<String, LinkTarget>,
) -> Rendered {
    let src = &file.text[body.clone()];
    let base = body.start;
    let self_key = to_slash(self_path);
    let mut out = Rendered::default();
    let mut used_ids: BTreeSet<String> = RESERVED_IDS.iter().map(|s| s.to_string()).collect();
    let events: Vec<(Event, Range<usize>)> = Parser::new_ext(src, parser_options())
        .into_offset_iter()
        .collect();
    let mut html_events: Vec<Event> = Vec::with_capacity(events.len());
    let mut warned_html = false;
    let mut in_first_para = false;
    let mut excerpt_done = false;
    let mut heading: Option<OpenHeading> = None;
    let mut text_words = 0usize;

    for (event, range) in events {
        let range = base + range.start..base + range.end;
        // Raw HTML is escaped, with one warning per brief.
        let event = match event {
            Event::Html(s) | Event::InlineHtml(s) => {
                if !warned_html {
                    warned_html = true;
                    out.diagnostics.push(
                        Diagnostic::warning("raw HTML is shown as text, not passed through")
                            .at(file, range.start..range.start + s.trim_end().len().min(range.len()))
                            .hint("write it in Markdown instead; sourced escapes raw HTML so no brief can inject markup or script"),
                    );
                }
                Event::Text(s)
            }
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            e => e,
        };
        match &event {
            Event::Text(t) | Event::Code(t) => {
                text_words += count_words(t);
                if let Some(h) = heading.as_mut() {
                    h.text.push_str(t);
                } else if in_first_para && !excerpt_done {
                    out.excerpt.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak if in_first_para && !excerpt_done => {
                out.excerpt.push(' ');
            }
            Event::Start(Tag::Paragraph) if !excerpt_done && heading.is_none() => {
                in_first_para = true;
            }
            Event::End(TagEnd::Paragraph) if in_first_para => {
                in_first_para = false;
                if !out.excerpt.trim().is_empty() {
                    excerpt_done = true;
                }
            }
            _ => {}
        }
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs: _,
            }) => {
                heading = Some(OpenHeading {
                    level,
                    custom_id: id.map(|s| s.to_string()),
                    classes: classes.iter().map(|c| c.to_string()).collect(),
                    range,
                    inner: Vec::new(),
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some(OpenHeading {
                    level,
                    custom_id,
                    classes,
                    range: hrange,
                    inner,
                    text,
                }) = heading.take()
                else {
                    continue;
                };
                let id = match custom_id {
                    Some(id) if is_valid_attr_token(&id) => {
                        if !used_ids.insert(id.clone()) {
                            out.diagnostics.push(
                                Diagnostic::error(format!(
                                    "heading id `{id}` is used twice in this brief"
                                ))
                                .at(file, hrange.clone())
                                .hint("give each `{#id}` a different name"),
                            );
                        }
                        id
                    }
                    Some(id) => {
                        out.diagnostics.push(
                            Diagnostic::error(format!("`{id}` is not a valid heading id"))
                                .at(file, hrange.clone())
                                .hint("use letters, digits, `-` and `_` in `{#id}`"),
                        );
                        unique_id(id_from_text(&text), &mut used_ids)
                    }
                    None => unique_id(id_from_text(&text), &mut used_ids),
                };
                let classes: Vec<String> = classes
                    .into_iter()
                    .filter(|c| is_valid_attr_token(c))
                    .collect();
                let n = level as u8;
                let class_attr = if classes.is_empty() {
                    String::new()
                } else {
                    format!(" class=\"{}\"", escape_attr(&classes.join(" ")))
                };
                html_events.push(Event::Html(CowStr::from(format!(
                    "<h{n} id=\"{}\"{class_attr}>",
                    escape_attr(&id)
                ))));
                html_events.extend(inner);
                html_events.push(Event::Html(CowStr::from(format!("</h{n}>\n"))));
                out.headings.push(Heading {
                    level: n,
                    id,
                    text: text.trim().to_string(),
                });
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = rewrite_dest(
                    &dest_url, false, file, &range, &self_key, self_path, targets, &mut out,
                );
                push(
                    &mut heading,
                    &mut html_events,
                    Event::Start(Tag::Link {
                        link_type,
                        dest_url: dest.into(),
                        title,
                        id,
                    }),
                );
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = rewrite_dest(
                    &dest_url, true, file, &range, &self_key, self_path, targets, &mut out,
                );
                push(
                    &mut heading,
                    &mut html_events,
                    Event::Start(Tag::Image {
                        link_type,
                        dest_url: dest.into(),
                        title,
                        id,
                    }),
                );
            }
            e => push(&mut heading, &mut html_events, e),
        }
    }
    out.words = text_words;
    out.excerpt = truncate_chars(out.excerpt.trim(), 300);
    let mut html = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, html_events.into_iter());
    out.html = html;
    out
}

fn push<'a>(heading: &mut Option<OpenHeading<'a>>, html: &mut Vec<Event<'a>>, e: Event<'a>) {
    match heading {
        Some(h) => h.inner.push(e),
        None => html.push(e),
    }
}

/// Checks and rewrites one link or image destination.
#[allow(clippy::too_many_arguments)]
fn rewrite_dest(
    dest: &str,
    image: bool,
    file: &Arc<SourceText>,
    range: &Range<usize>,
    self_key: &str,
    self_path: &Path,
    targets: &BTreeMap<String, LinkTarget>,
    out: &mut Rendered,
) -> String {
    let what = if image { "image" } else { "link" };
    if let Some(scheme) = scheme_of(dest) {
        let allowed: &[&str] = if image {
            &["http", "https"]
        } else {
            &["http", "https", "mailto", "tel"]
        };
        if allowed.contains(&scheme.as_str()) {
            return dest.to_string();
        }
        out.diagnostics.push(
            Diagnostic::error(format!(
                "{what} uses a `{scheme}:` URL, which is not allowed"
            ))
            .at(file, range.clone())
            .hint(format!(
                "use {} or a relative path",
                allowed
                    .iter()
                    .map(|s| format!("{s}:"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
        return "#".to_string();
    }
    let (before_frag, frag) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let path = before_frag.split('?').next().unwrap_or("");
    if path.is_empty() {
        if let Some(f) = frag
            && !f.is_empty()
            && !image
        {
            out.anchor_refs.push(AnchorRef {
                target: self_key.to_string(),
                anchor: percent_decode(f),
                range: range.clone(),
            });
        }
        return dest.to_string();
    }
    let is_md = path.to_ascii_lowercase().ends_with(".md");
    if path.starts_with('/') || path.starts_with("//") {
        return dest.to_string();
    }
    let names_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    if !is_md && !names_file {
        return dest.to_string();
    }
    let decoded = percent_decode(path);
    let Some(resolved) = resolve_relative(self_path, &decoded) else {
        out.diagnostics.push(
            Diagnostic::error(format!("link to `{path}` points outside content/"))
                .at(file, range.clone())
                .hint("link to a brief inside content/, relative to this file"),
        );
        return "#".to_string();
    };
    let key = to_slash(&resolved);
    match targets.get(&key) {
        Some(LinkTarget::Page(url)) => {
            out.links_to.insert(key.clone());
            match frag {
                Some(f) if !f.is_empty() => {
                    out.anchor_refs.push(AnchorRef {
                        target: key,
                        anchor: percent_decode(f),
                        range: range.clone(),
                    });
                    format!("{url}#{f}")
                }
                _ => url.clone(),
            }
        }
        Some(LinkTarget::Draft) => {
            out.diagnostics.push(
                Diagnostic::error(format!("link to `{path}`, a draft that this build leaves out"))
                    .at(file, range.clone())
                    .hint("publish the target (remove `draft: true`), build with --drafts, or remove the link"),
            );
            "#".to_string()
        }
        Some(LinkTarget::Asset(url)) => match frag {
            Some(f) => format!("{url}#{f}"),
            None => url.clone(),
        },
        None => {
            out.diagnostics.push(
                Diagnostic::error(format!("{what} to `{path}`, which does not exist"))
                    .at(file, range.clone())
                    .label(format!("resolves to content/{key}"))
                    .hint(format!(
                        "links are relative to this file (content/{self_key}); check the file name"
                    )),
            );
            "#".to_string()
        }
    }
}

fn count_words(t: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in t.chars() {
        if crate::lang::is_cjk_char(c) {
            n += 1;
            in_word = false;
        } else if c.is_alphanumeric() {
            if !in_word {
                n += 1;
                in_word = true;
            }
        } else {
            in_word = false;
        }
    }
    n
}

/// At most `max` characters, cut at a word boundary where there is one, with an ellipsis.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let at = cut.rfind(' ').filter(|i| *i > max / 2).unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn run(body: &str, targets: &[(&str, LinkTarget)]) -> Rendered {
        let file = Arc::new(SourceText {
            display_path: PathBuf::from("content/briefs/a.md"),
            text: body.to_string(),
        });
        let targets = targets
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        render(&file, 0..body.len(), Path::new("briefs/a.md"), &targets)
    }

    #[test]
    fn heading_ids_are_unique_and_keep_cjk() {
        let r = run(
            "# Key findings\n\n## Key findings\n\n## 五年計畫\n\n## Top\n",
            &[],
        );
        let ids: Vec<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["key-findings", "key-findings-1", "五年計畫", "top-1"]);
        assert!(r.html.contains("<h2 id=\"五年計畫\">五年計畫</h2>"));
    }

    #[test]
    fn heading_attributes_allow_only_id_and_class() {
        let r = run("# T {#x .y onclick=alert(1)}\n", &[]);
        assert!(r.html.contains("<h1 id=\"x\" class=\"y\">"), "{}", r.html);
        assert!(!r.html.contains("onclick"));
    }

    #[test]
    fn md_links_are_rewritten_and_checked() {
        let r = run(
            "See [b](../b.md#intro) and [c](c.md) and [x](missing.md).\n",
            &[
                ("b.md", LinkTarget::Page("/b/".into())),
                ("briefs/c.md", LinkTarget::Page("/briefs/c/".into())),
            ],
        );
        assert!(r.html.contains("href=\"/b/#intro\""));
        assert!(r.html.contains("href=\"/briefs/c/\""));
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(
            r.diagnostics[0].position().unwrap(),
            "content/briefs/a.md:1:42"
        );
        assert_eq!(r.anchor_refs[0].anchor, "intro");
    }

    #[test]
    fn unsafe_schemes_are_refused() {
        let r = run(
            "[x](javascript:alert(1)) ![i](data:image/png;base64,AA)\n",
            &[],
        );
        assert_eq!(r.diagnostics.len(), 2);
        assert!(!r.html.contains("javascript"));
        assert!(!r.html.contains("data:"));
    }

    #[test]
    fn raw_html_is_escaped_with_a_warning() {
        let r = run("<script>alert(1)</script>\n\nText <b>x</b>\n", &[]);
        assert!(!r.html.contains("<script>"));
        assert!(r.html.contains("&lt;script&gt;"));
        assert_eq!(r.diagnostics.len(), 1);
        assert!(!r.diagnostics[0].is_error());
    }

    #[test]
    fn excerpt_is_first_paragraph() {
        let r = run("# T\n\nFirst *para* here.\n\nSecond.\n", &[]);
        assert_eq!(r.excerpt, "First para here.");
    }
}
