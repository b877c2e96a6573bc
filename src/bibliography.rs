//! Bibliography formatting: a source as note content (beside the claim) and as a reference
//! entry (the brief's Sources list and the source's own page). HTML strings, every field
//! escaped.

use crate::citations::CiteItem;
use crate::html::escape_into;
use crate::sources::Source;

/// Authors if there are any, else the publisher.
fn creator(s: &Source) -> Option<String> {
    if !s.authors.is_empty() {
        Some(join_names(&s.authors))
    } else {
        s.publisher.clone()
    }
}

fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// Appends the source's title, linked to its URL when it has one.
fn push_title(out: &mut String, s: &Source) {
    out.push_str("<cite class=\"source-title\">");
    if let Some(u) = &s.url {
        out.push_str("<a href=\"");
        escape_into(out, u);
        out.push_str("\">");
        escape_into(out, &s.title);
        out.push_str("</a>");
    } else {
        escape_into(out, &s.title);
    }
    out.push_str("</cite>");
}

/// The content of one cited item inside a note: who, title, date, locator, the source's note,
/// the archived copy and a link to the source's page on this site.
pub fn note_item(s: &Source, item: &CiteItem, source_page: &str) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<span class=\"note-item\">");
    if !item.prefix.is_empty() {
        escape_into(&mut out, &item.prefix);
        out.push(' ');
    }
    if let Some(c) = creator(s) {
        out.push_str("<span class=\"source-creator\">");
        escape_into(&mut out, &c);
        out.push_str("</span>, ");
    }
    push_title(&mut out, s);
    if let Some(d) = &s.date {
        out.push_str(" (<time datetime=\"");
        d.push_iso(&mut out);
        out.push_str("\">");
        d.push_display(&mut out);
        out.push_str("</time>)");
    }
    if !item.locator.is_empty() {
        out.push_str(", <span class=\"locator\">");
        escape_into(&mut out, &item.locator);
        out.push_str("</span>");
    }
    out.push('.');
    if let Some(n) = &s.note {
        out.push_str(" <span class=\"source-note\">");
        escape_into(&mut out, n);
        out.push_str("</span>");
    }
    out.push_str(" <span class=\"source-links\">");
    if let Some(a) = &s.archived_url {
        out.push_str("<a class=\"source-archive\" href=\"");
        escape_into(&mut out, a);
        out.push_str("\">Archived copy</a> · ");
    }
    out.push_str("<a class=\"source-page\" href=\"");
    escape_into(&mut out, source_page);
    out.push_str("\">About this source</a></span></span>");
    out
}

/// A full reference entry: `Creator. Title. Publisher, date. URL. Accessed date.`
///
/// Written into one buffer: every brief page and source page formats its sources' entries
/// (13,000 entries on a 1,000-brief site), and a `format!` per part cost more than the text.
pub fn reference(s: &Source) -> String {
    let mut out = String::with_capacity(256);
    if !s.authors.is_empty() {
        out.push_str("<span class=\"source-creator\">");
        escape_into(&mut out, &join_names(&s.authors));
        out.push_str("</span>. ");
    }
    push_title(&mut out, s);
    if s.publisher.is_some() || s.date.is_some() {
        out.push_str(". ");
    }
    if let Some(p) = &s.publisher {
        escape_into(&mut out, p);
        if s.date.is_some() {
            out.push_str(", ");
        }
    }
    if let Some(d) = &s.date {
        out.push_str("<time datetime=\"");
        d.push_iso(&mut out);
        out.push_str("\">");
        d.push_display(&mut out);
        out.push_str("</time>");
    }
    if let Some(u) = &s.url {
        out.push_str(". <a class=\"source-url\" href=\"");
        escape_into(&mut out, u);
        out.push_str("\">");
        escape_into(&mut out, u);
        out.push_str("</a>");
    }
    if let Some(a) = &s.accessed {
        out.push_str(". Accessed <time datetime=\"");
        crate::lang::push_iso_date(&mut out, *a);
        out.push_str("\">");
        out.push_str(&crate::lang::format_date(*a, "en"));
        out.push_str("</time>");
    }
    if let Some(a) = &s.archived_url {
        out.push_str(". <a class=\"source-archive\" href=\"");
        escape_into(&mut out, a);
        out.push_str("\">Archived copy</a>");
    }
    out.push('.');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{PartialDate, SourceKind};

    fn source() -> Source {
        Source {
            key: "bcg2020".into(),
            title: "How <Restricting> Trade".into(),
            publisher: Some("Boston Consulting Group".into()),
            authors: vec![],
            date: PartialDate::parse("2020-03"),
            url: Some("https://www.bcg.com/x?a=1&b=2".into()),
            archived_url: None,
            accessed: None,
            kind: SourceKind::Report,
            note: Some("Scenario estimates.".into()),
        }
    }

    #[test]
    fn note_item_escapes_and_links() {
        let item = CiteItem {
            prefix: "see".into(),
            key: "bcg2020".into(),
            locator: "p. 4".into(),
            at: 0,
        };
        let html = note_item(&source(), &item, "/sources/bcg2020/");
        assert!(html.contains("How &lt;Restricting&gt; Trade"));
        assert!(html.contains("href=\"https://www.bcg.com/x?a=1&amp;b=2\""));
        assert!(html.contains("<span class=\"locator\">p. 4</span>"));
        assert!(html.starts_with("<span class=\"note-item\">see "));
        assert!(html.contains("href=\"/sources/bcg2020/\""));
    }

    #[test]
    fn reference_entry() {
        let html = reference(&source());
        assert!(
            html.contains("Boston Consulting Group, <time datetime=\"2020-03\">March 2020</time>")
        );
    }

    /// The entry is its present parts joined by ". ", whichever fields a source has (all 64
    /// combinations of the optional ones, checked against that rule written out plainly).
    #[test]
    fn reference_joins_the_parts_a_source_has() {
        fn by_parts(s: &Source) -> String {
            let mut parts: Vec<String> = Vec::new();
            if !s.authors.is_empty() {
                parts.push(format!(
                    "<span class=\"source-creator\">{}</span>",
                    crate::html::escape(&join_names(&s.authors))
                ));
            }
            let mut title = String::new();
            push_title(&mut title, s);
            parts.push(title);
            let mut published = Vec::new();
            if let Some(p) = &s.publisher {
                published.push(crate::html::escape(p));
            }
            if let Some(d) = &s.date {
                published.push(format!(
                    "<time datetime=\"{d}\">{}</time>",
                    crate::html::escape(&d.display())
                ));
            }
            if !published.is_empty() {
                parts.push(published.join(", "));
            }
            if let Some(u) = &s.url {
                let u = crate::html::escape(u);
                parts.push(format!("<a class=\"source-url\" href=\"{u}\">{u}</a>"));
            }
            if let Some(a) = &s.accessed {
                parts.push(format!(
                    "Accessed <time datetime=\"{a}\">{}</time>",
                    crate::lang::format_date(*a, "en")
                ));
            }
            if let Some(a) = &s.archived_url {
                parts.push(format!(
                    "<a class=\"source-archive\" href=\"{}\">Archived copy</a>",
                    crate::html::escape(a)
                ));
            }
            parts.join(". ") + "."
        }
        for mask in 0..64u32 {
            let has = |bit: u32| mask & (1 << bit) != 0;
            let s = Source {
                authors: if has(0) {
                    vec!["Ann <A>".into(), "Bo".into(), "Cy".into()]
                } else {
                    vec![]
                },
                publisher: has(1).then(|| "P & Q".into()),
                date: if has(2) {
                    PartialDate::parse("2020-03-04")
                } else {
                    None
                },
                url: has(3).then(|| "https://x.example/?a=1&b=2".into()),
                accessed: if has(4) {
                    "2021-05-06".parse().ok()
                } else {
                    None
                },
                archived_url: has(5).then(|| "https://archive.example/x\"y".into()),
                ..source()
            };
            assert_eq!(reference(&s), by_parts(&s), "fields {mask:06b}");
        }
    }
}
