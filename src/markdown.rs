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

use pulldown_cmark::{BrokenLink, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::citations::{Bracket, CiteItem, parse_bracket};
use crate::claims::bindings::ClaimRules;
use crate::diagnostics::{Diagnostic, SourceText, did_you_mean};
use crate::sources::Bibliography;
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
    pub excerpt: String,
    pub words: usize,
    /// Citation groups in order; group `i` is note number `i + 1`.
    pub citations: Vec<CitationGroup>,
    /// Quantitative claims in the body, in order; claim `i` has the id `claim-{i + 1}`.
    pub claims: Vec<Claim>,
    /// The items of the "Key findings" list (heading id `key-findings`, or 重點發現), as text.
    pub key_findings: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether and how a claim is backed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Sourced,
    Unsourced,
    NotClaim,
}

/// A quantity found in the prose and what backs it.
#[derive(Debug, Clone)]
/// (Kept for every claim of the site to the end of a build, hence the compact fields: a
/// 10,000-brief site has 280,000 claims.)
pub struct Claim {
    pub number: u32,
    /// The figure's span in the file.
    pub range: Range<usize>,
    pub text: Box<str>,
    pub kind: crate::claims::detect::Kind,
    pub value: crate::claims::detect::Value,
    pub unit: Box<str>,
    /// Half the value of the last digit the prose states, in the value's unit.
    pub tolerance: f64,
    /// The plain text of the sentence the figure stands in.
    pub sentence: Arc<str>,
    pub status: ClaimStatus,
    /// The citation group (index) that follows it in the same sentence.
    pub citation: Option<u32>,
    /// The front-matter binding (index) that names it.
    pub binding: Option<u32>,
}

impl Claim {
    /// Source keys backing the claim, with their locators.
    pub fn sources<'a>(
        &'a self,
        r: &'a Rendered,
        rules: Option<&'a ClaimRules>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        if let Some(g) = self.citation.and_then(|g| r.citations.get(g as usize)) {
            for it in &g.items {
                out.push((&*it.key, &*it.locator));
            }
        }
        if let (Some(b), Some(rules)) = (self.binding, rules)
            && let Some(b) = rules.bindings.get(b as usize)
            && !out.iter().any(|(k, _)| *k == b.source)
        {
            out.push((b.source.as_str(), b.locator.as_deref().unwrap_or("")));
        }
        out
    }
}

/// One `[@...]` bracket: one numbered note citing one or more sources.
#[derive(Debug, Clone)]
pub struct CitationGroup {
    pub number: usize,
    pub items: Vec<CiteItem>,
    /// The bracket's span in the file.
    pub range: Range<usize>,
    /// The plain text of the sentence the citation stands in.
    pub sentence: Arc<str>,
    /// The note's content (the same HTML beside the text and in the Notes list).
    pub note_html: String,
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

fn percent_decode(s: &str) -> String {
    crate::urls::percent_decode(s).unwrap_or_else(|| s.to_string())
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

/// What a body is rendered against: every link target and every source of the site.
pub struct Context<'a> {
    /// What each content-relative `.md` (or asset) path became.
    pub targets: &'a BTreeMap<String, LinkTarget>,
    pub bib: &'a Bibliography,
    pub base_url: &'a url::Url,
    /// Whether to make the body's HTML: `check` needs only what the parse finds.
    pub html: bool,
}

impl Context<'_> {
    /// The root-relative URL of a source's page.
    pub fn source_page(&self, key: &str) -> String {
        crate::urls::url_for(self.base_url, &format!("sources/{key}/"))
    }
}

/// The link destination the broken-link callback gives a `[@...]` bracket.
const CITE_DEST: &str = "sourced-cite:";

/// Renders one body.
pub fn render(
    file: &Arc<SourceText>,
    body: Range<usize>,
    self_path: &Path,
    ctx: &Context<'_>,
    rules: Option<&ClaimRules>,
) -> Rendered {
    let targets = ctx.targets;
    let src = &file.text[body.clone()];
    let base = body.start;
    let self_key = to_slash(self_path);
    let mut out = Rendered::default();
    let mut used_ids: BTreeSet<String> = RESERVED_IDS.iter().map(|s| s.to_string()).collect();
    // Brackets that are not links (`[@key, p. 4]`) reach this callback with their exact span.
    let mut callback = |link: BrokenLink<'_>| {
        link.reference
            .contains('@')
            .then(|| (CowStr::from(CITE_DEST), CowStr::from("")))
    };
    let parser = Parser::new_with_broken_link_callback(src, parser_options(), Some(&mut callback));
    // `[@key]: https://...` would silently turn every `[@key]` into a plain link.
    for (label, def) in parser.reference_definitions().iter() {
        if label.trim_start().starts_with('@') {
            out.diagnostics.push(
                Diagnostic::error(format!(
                    "a link definition named `[{label}]` hides the citation of that key"
                ))
                .at(file, base + def.span.start..base + def.span.end)
                .hint("rename the link definition; `[@key]` is for citations"),
            );
        }
    }
    let mut events: Vec<(Event, Range<usize>)> = Vec::with_capacity(src.len() / 24 + 16);
    events.extend(parser.into_offset_iter());
    // About one event for 40 bytes of Markdown (one for 28 at most in the generated corpus),
    // and 1.4 times as many once claims and citations are marked (1.6 at most): sized so that
    // neither list is copied into a larger one as it grows.
    let mut html_events: Vec<Event> = Vec::with_capacity(events.len() * 8 / 5);
    let mut warned_html = false;
    let mut in_first_para = false;
    let mut excerpt_done = false;
    let mut heading: Option<OpenHeading> = None;
    let mut text_words = 0usize;
    // Plain text of the current block (paragraph, list item, cell, heading) and the citations
    // in it, by offset, for the citing sentence.
    let mut block = String::new();
    let mut block_cites: Vec<(usize, usize)> = Vec::new();
    // Claims in the current block: (offset, length, claim index).
    let mut block_claims: Vec<(usize, usize, usize)> = Vec::new();
    let mut in_citation = false;
    // Inside the section under a "Key findings" heading: (its level).
    let mut in_findings: Option<u8> = None;
    let mut finding = String::new();
    let mut in_image = false;
    let mut in_code = false;

    // Block containers nested deeper than browsers handle are refused.
    const MAX_DEPTH: usize = 100;
    let mut depth = 0usize;
    let mut too_deep = false;
    for (event, range) in events {
        let range = base + range.start..base + range.end;
        match &event {
            Event::Start(
                Tag::BlockQuote(_) | Tag::List(_) | Tag::Item | Tag::FootnoteDefinition(_),
            ) => {
                depth += 1;
                if depth > MAX_DEPTH && !too_deep {
                    too_deep = true;
                    out.diagnostics.push(
                        Diagnostic::error(format!(
                            "blocks are nested more than {MAX_DEPTH} levels deep"
                        ))
                        .at(file, range.start..range.start + 1)
                        .hint("flatten the quotes or lists"),
                    );
                }
            }
            Event::End(
                TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item | TagEnd::FootnoteDefinition,
            ) => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        if in_citation {
            if matches!(event, Event::End(TagEnd::Link | TagEnd::Image)) {
                in_citation = false;
            }
            continue;
        }
        // `![@x]` is not a citation: an unresolved image stays the text it was.
        if let Event::Start(Tag::Image { dest_url, .. }) = &event
            && dest_url.starts_with(CITE_DEST)
        {
            in_citation = true;
            let literal = file.text[range.clone()].to_string();
            block.push_str(&literal);
            push(
                &mut heading,
                &mut html_events,
                Event::Text(CowStr::from(literal)),
            );
            continue;
        }
        if let Event::Start(Tag::Link { dest_url, .. }) = &event
            && dest_url.starts_with(CITE_DEST)
        {
            in_citation = true;
            let html = citation(file, &range, ctx, &mut out);
            if let Some(group) = html.1 {
                block_cites.push((block.len(), group));
                // The marker sits against the word it follows, as note markers do.
                let target = match heading.as_mut() {
                    Some(h) => &mut h.inner,
                    None => &mut html_events,
                };
                if let Some(Event::Text(t)) = target.last_mut()
                    && t.ends_with([' ', '\t'])
                {
                    *t = CowStr::from(t.trim_end().to_string());
                }
            }
            push(&mut heading, &mut html_events, html.0);
            continue;
        }
        // Quantities in prose (not headings, code, image text or raw HTML) become claims.
        let mut claim_events: Option<Vec<Event>> = None;
        match &event {
            Event::Start(Tag::Image { .. }) => in_image = true,
            Event::End(TagEnd::Image) => in_image = false,
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            _ => {}
        }
        match &event {
            Event::Text(t) => {
                if rules.is_some() && heading.is_none() && !in_image && !in_code {
                    claim_events =
                        find_claims(t, file, &range, block.len(), &mut out, &mut block_claims);
                }
                block.push_str(t);
            }
            Event::Code(t) => block.push_str(t),
            Event::SoftBreak | Event::HardBreak => block.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::Heading(_),
            ) => {
                // Sentence bounds once per block; each citation and claim finds its own by
                // binary search, and each sentence's text is tidied once (linear in the block).
                let bounds = if block_cites.is_empty() && block_claims.is_empty() {
                    Vec::new()
                } else {
                    crate::sentences::bounds(&block)
                };
                let sentence_index = |o: usize| {
                    bounds
                        .partition_point(|r| r.end <= o)
                        .min(bounds.len().saturating_sub(1))
                };
                // One copy of each sentence, shared by its figures and notes.
                let mut tidy_cache: BTreeMap<usize, Arc<str>> = BTreeMap::new();
                let mut sentence_text = |i: usize| -> Arc<str> {
                    tidy_cache
                        .entry(i)
                        .or_insert_with(|| {
                            let r = crate::sentences::trim(&block, bounds[i].clone());
                            Arc::from(truncate_chars(&tidy_sentence(&block[r]), 600))
                        })
                        .clone()
                };
                for (offset, group) in block_cites.iter() {
                    out.citations[*group].sentence = sentence_text(sentence_index(*offset));
                }
                if in_findings.is_some() {
                    finding.push_str(&block);
                    finding.push(' ');
                    if matches!(event, Event::End(TagEnd::Item)) {
                        let item = tidy_sentence(&finding);
                        if !item.is_empty() {
                            out.key_findings.push(item);
                        }
                        finding.clear();
                    }
                }
                for (offset, len, ci) in block_claims.drain(..) {
                    let si = sentence_index(offset);
                    let end = bounds[si].end;
                    let claim = &mut out.claims[ci];
                    claim.sentence = sentence_text(si);
                    // The first citation after the figure, if it is still in the sentence.
                    let next = block_cites.partition_point(|(o, _)| *o < offset + len);
                    claim.citation = block_cites
                        .get(next)
                        .filter(|(o, _)| *o <= end)
                        .and_then(|(_, g)| u32::try_from(*g).ok());
                }
                block_cites.clear();
                block.clear();
            }
            _ => {}
        }
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
                    format!(" class=\"{}\"", crate::html::escape(&classes.join(" ")))
                };
                html_events.push(Event::Html(CowStr::from(format!(
                    "<h{n} id=\"{}\"{class_attr}>",
                    crate::html::escape(&id)
                ))));
                html_events.extend(inner);
                html_events.push(Event::Html(CowStr::from(format!("</h{n}>\n"))));
                if in_findings.is_some_and(|l| n <= l) {
                    in_findings = None;
                }
                if id == "key-findings"
                    || matches!(
                        text.trim(),
                        "重點發現" | "重点发现" | "主要發現" | "主要发现"
                    )
                {
                    in_findings = Some(n);
                }
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
            Event::Text(_) if claim_events.is_some() => {
                for e in claim_events.take().unwrap_or_default() {
                    push(&mut heading, &mut html_events, e);
                }
            }
            e => push(&mut heading, &mut html_events, e),
        }
    }
    if let Some(rules) = rules {
        apply_rules(file, body.clone(), ctx, rules, &mut out);
    }
    out.words = text_words;
    out.excerpt = truncate_chars(out.excerpt.trim(), 300);
    if !ctx.html {
        return out;
    }
    let mut html = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, html_events.into_iter());
    out.html = if out.claims.is_empty() {
        html
    } else {
        fill_claim_tags(&html, &out)
    };
    out
}

/// Marks where a claim's opening tag goes until its note is known.
const CLAIM_MARK: char = '\u{E000}';

/// Most figures one brief may state; past it the brief is an error (a runaway or generated file).
pub const MAX_CLAIMS: usize = 20_000;

/// Detects the quantities in one text event: records the claims and returns the events that
/// replace the text (text, claim-open marker, figure, `</span>`, text ...).
fn find_claims<'a>(
    t: &str,
    file: &Arc<SourceText>,
    range: &Range<usize>,
    block_offset: usize,
    out: &mut Rendered,
    block_claims: &mut Vec<(usize, usize, usize)>,
) -> Option<Vec<Event<'a>>> {
    if out.claims.len() >= MAX_CLAIMS {
        return None;
    }
    let mut found = crate::claims::detect::detect(t);
    if found.is_empty() {
        return None;
    }
    if out.claims.len() + found.len() > MAX_CLAIMS {
        found.truncate(MAX_CLAIMS - out.claims.len());
        out.diagnostics.push(
            Diagnostic::error(format!("this brief states more than {MAX_CLAIMS} figures"))
                .at(file, range.start..range.start)
                .hint("split the brief, or move tables of data to a linked file"),
        );
    }
    let source = &file.text[range.clone()];
    // Up to four events a figure and the text after the last.
    let mut events = Vec::with_capacity(found.len() * 4 + 1);
    let mut pos = 0;
    let mut search_from = 0;
    // Code-point offsets are byte offsets in ASCII text; elsewhere each is counted from the
    // start.
    let ascii = t.is_ascii();
    let mut offsets = crate::claims::detect::ByteOffsets::new(t);
    for q in found {
        let r = if ascii {
            q.start.min(t.len())..q.end.clamp(q.start.min(t.len()), t.len())
        } else {
            offsets.range(q.start, q.end)
        };
        let text = &t[r.clone()];
        if r.start > pos {
            events.push(Event::Text(CowStr::from(t[pos..r.start].to_string())));
        }
        let index = out.claims.len();
        let mut mark = String::with_capacity(12);
        mark.push(CLAIM_MARK);
        crate::html::push_uint(&mut mark, index as u64);
        mark.push(CLAIM_MARK);
        events.push(Event::Html(CowStr::from(mark)));
        events.push(Event::Text(CowStr::from(text.to_string())));
        events.push(Event::Html(CowStr::from("</span>")));
        pos = r.end;
        // The figure's place in the file: found in the event's source text when it is there.
        let file_range = match source[search_from.min(source.len())..].find(text) {
            Some(i) => {
                let s = range.start + search_from + i;
                search_from += i + text.len();
                s..s + text.len()
            }
            None => range.start..range.start,
        };
        block_claims.push((block_offset + r.start, text.len(), index));
        out.claims.push(Claim {
            number: u32::try_from(index + 1).unwrap_or(u32::MAX),
            range: file_range,
            text: text.into(),
            kind: q.kind,
            value: q.value,
            unit: q.unit.into_boxed_str(),
            tolerance: q.tolerance,
            sentence: Arc::from(""),
            status: ClaimStatus::Unsourced,
            citation: None,
            binding: None,
        });
    }
    if pos < t.len() {
        events.push(Event::Text(CowStr::from(t[pos..].to_string())));
    }
    Some(events)
}

/// Applies `not_claims` and `claims:` bindings, checks bound values, and reports unsourced
/// figures as warnings.
fn apply_rules(
    file: &Arc<SourceText>,
    body: Range<usize>,
    ctx: &Context<'_>,
    rules: &ClaimRules,
    out: &mut Rendered,
) {
    let text = &file.text[body.clone()];
    let occurrences = |needle: &str| -> Vec<Range<usize>> {
        text.match_indices(needle)
            .map(|(i, m)| body.start + i..body.start + i + m.len())
            .collect()
    };
    let overlaps = |a: &Range<usize>, b: &Range<usize>| a.start < b.end && b.start < a.end;
    for nc in &rules.not_claims {
        for occ in occurrences(nc) {
            for c in out.claims.iter_mut().filter(|c| overlaps(&c.range, &occ)) {
                c.status = ClaimStatus::NotClaim;
            }
        }
    }
    for (bi, b) in rules.bindings.iter().enumerate() {
        if ctx.bib.get(&b.source).is_none() {
            let mut d = Diagnostic::error(format!(
                "the binding for `{}` names unknown source `{}`",
                b.matches, b.source
            ))
            .at(file, b.at.clone());
            d = match did_you_mean(&b.source, ctx.bib.sources.keys().map(String::as_str)) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint("define the source under `sources:` or in content/sources.yaml"),
            };
            out.diagnostics.push(d);
            continue;
        }
        let occ = occurrences(&b.matches);
        let Some(place) = occ.get(b.occurrence - 1) else {
            let msg = if occ.is_empty() {
                format!("`{}` does not occur in the body", b.matches)
            } else {
                format!(
                    "`{}` occurs {} time(s) in the body, not {}",
                    b.matches,
                    occ.len(),
                    b.occurrence
                )
            };
            out.diagnostics.push(
                Diagnostic::error(format!("claim binding: {msg}"))
                    .at(file, b.at.clone())
                    .hint("`match` must be the figure exactly as the body writes it"),
            );
            continue;
        };
        let mut bound = 0;
        for c in out.claims.iter_mut().filter(|c| overlaps(&c.range, place)) {
            bound += 1;
            c.binding = u32::try_from(bi).ok();
            if c.status != ClaimStatus::NotClaim {
                c.status = ClaimStatus::Sourced;
            }
            if let Some(v) = b.value
                && !agrees(c, v)
            {
                out.diagnostics.push(
                    Diagnostic::error(format!(
                        "`{}` ({}) does not agree with the source's figure {}{}",
                        c.text,
                        show_value(c.value, &c.unit),
                        show_number(v),
                        b.unit
                            .as_deref()
                            .map(|u| format!(" {u}"))
                            .unwrap_or_default()
                    ))
                    .at(file, c.range.clone())
                    .label("the prose figure")
                    .hint(format!(
                        "the binding for `{}` gives `value: {}`; correct the prose or the binding",
                        b.matches,
                        show_number(v)
                    )),
                );
            }
            if let Some(u) = &b.unit
                && !units_agree(&c.unit, u)
            {
                out.diagnostics.push(
                    Diagnostic::error(format!(
                        "`{}` is in {} but the binding says `unit: {u}`",
                        c.text,
                        if c.unit.is_empty() {
                            "no unit".to_string()
                        } else {
                            format!("`{}`", c.unit)
                        }
                    ))
                    .at(file, c.range.clone())
                    .hint("make the binding's `unit` match the figure (USD, %, year, GW, ...)"),
                );
            }
        }
        if bound == 0 {
            out.diagnostics.push(
                Diagnostic::error(format!(
                    "claim binding: `{}` contains no figure sourced can detect",
                    b.matches
                ))
                .at(file, b.at.clone())
                .hint("bind the figure itself, e.g. `match: \"60%\"`"),
            );
        }
    }
    for c in out.claims.iter_mut() {
        if c.status == ClaimStatus::Unsourced && c.citation.is_some() {
            c.status = ClaimStatus::Sourced;
        }
    }
    // At most this many unsourced figures are reported one by one per brief; the rest are counted.
    const REPORTED: usize = 50;
    let unsourced = out
        .claims
        .iter()
        .filter(|c| c.status == ClaimStatus::Unsourced)
        .count();
    if unsourced > REPORTED
        && let Some(c) = out
            .claims
            .iter()
            .filter(|c| c.status == ClaimStatus::Unsourced)
            .nth(REPORTED)
    {
        out.diagnostics.push(
            Diagnostic::warning(format!(
                "{} more unsourced figures in this brief",
                unsourced - REPORTED
            ))
            .at(file, c.range.clone())
            .hint("`sourced claims list` lists every figure with its status"),
        );
    }
    for c in out
        .claims
        .iter()
        .filter(|c| c.status == ClaimStatus::Unsourced)
        .take(REPORTED)
    {
        {
            out.diagnostics.push(
                // Joined, not formatted: a large site has a warning like this per figure.
                Diagnostic::warning(["unsourced claim `", &c.text, "`"].concat())
                    .at(file, c.range.clone())
                    .label("no citation follows this figure in its sentence")
                    .hint(
                        [
                            "cite the source after it in the same sentence (`",
                            &c.text,
                            " [@key]`), bind it in front matter (`claims: [{match: \"",
                            &c.text,
                            "\", source: key}]`), or list it under `not_claims` if it is not a claim",
                        ]
                        .concat(),
                    ),
            );
        }
    }
}

/// Does the prose figure agree with `v` to the precision the prose states?
pub fn agrees(c: &Claim, v: f64) -> bool {
    use crate::claims::detect::Value;
    let tol = c.tolerance.max(f64::EPSILON) * 1.000_001;
    match c.value {
        Value::One(x) => (x - v).abs() <= tol,
        Value::Range(lo, hi) => v >= lo - tol && v <= hi + tol,
    }
}

fn units_agree(a: &str, b: &str) -> bool {
    let norm = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "percent" | "%" | "ratio" | "share" => "%".to_string(),
        "years" | "yr" | "yrs" => "year".to_string(),
        "usd" | "us$" | "$" | "dollars" => "usd".to_string(),
        other => other.to_string(),
    };
    norm(a) == norm(b) || a.is_empty() && b.is_empty()
}

/// A number as a reader writes it: `8.3e10`, `0.6`, `124000`.
pub fn show_number(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-4) {
        format!("{v:e}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn show_value(v: crate::claims::detect::Value, unit: &str) -> String {
    use crate::claims::detect::Value;
    let n = match v {
        Value::One(x) => show_number(x),
        Value::Range(a, b) => format!("{} to {}", show_number(a), show_number(b)),
    };
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

/// Replaces each claim marker with the claim's opening tag, now that its note is known.
fn fill_claim_tags(html: &str, out: &Rendered) -> String {
    let mut result = String::with_capacity(html.len() + out.claims.len() * 80);
    let mut rest = html;
    while let Some(i) = rest.find(CLAIM_MARK) {
        result.push_str(&rest[..i]);
        let after = &rest[i + CLAIM_MARK.len_utf8()..];
        let Some(j) = after.find(CLAIM_MARK) else {
            result.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let index: usize = after[..j].parse().unwrap_or(usize::MAX);
        if let Some(c) = out.claims.get(index) {
            let status = match c.status {
                ClaimStatus::Sourced => "sourced",
                ClaimStatus::Unsourced => "unsourced",
                ClaimStatus::NotClaim => "not-claim",
            };
            let note = c
                .citation
                .and_then(|g| out.citations.get(g as usize))
                .map(|g| g.number);
            result.push_str("<span class=\"claim claim-");
            result.push_str(status);
            result.push_str("\" id=\"claim-");
            crate::html::push_uint(&mut result, u64::from(c.number));
            match note {
                Some(n) => {
                    result.push_str("\" data-note=\"");
                    crate::html::push_uint(&mut result, n as u64);
                    result.push_str("\" tabindex=\"0\" aria-describedby=\"sidenote-");
                    crate::html::push_uint(&mut result, n as u64);
                    result.push_str("\">");
                }
                None => result.push_str("\">"),
            }
        }
        rest = &after[j + CLAIM_MARK.len_utf8()..];
    }
    result.push_str(rest);
    result
}

fn push<'a>(heading: &mut Option<OpenHeading<'a>>, html: &mut Vec<Event<'a>>, e: Event<'a>) {
    match heading {
        Some(h) => h.inner.push(e),
        None => html.push(e),
    }
}

/// Collapses white space and drops the space a removed citation leaves before punctuation.
fn tidy_sentence(s: &str) -> String {
    // Whitespace runs collapsed to one space, none before closing punctuation; in one pass
    // (26,000 sentences on a 1,000-brief site).
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        let closes = word.starts_with(['.', ',', ';', ':', '!', '?', ')', '。', '，', '；']);
        if !out.is_empty() && !closes {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Turns a `[@...]` bracket into a note marker with its note beside it, or reports why it
/// cannot. Returns the event to emit and the index of the new citation group.
fn citation<'a>(
    file: &Arc<SourceText>,
    range: &Range<usize>,
    ctx: &Context<'_>,
    out: &mut Rendered,
) -> (Event<'a>, Option<usize>) {
    let raw = &file.text[range.clone()];
    let literal = || Event::Text(CowStr::from(raw.to_string()));
    let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return (literal(), None);
    };
    let items = match parse_bracket(inner) {
        Bracket::NotCitation => return (literal(), None),
        Bracket::Broken(msg) => {
            out.diagnostics.push(
                Diagnostic::error(format!("broken citation: {msg}"))
                    .at(file, range.clone())
                    .hint("write `[@key]`, `[@key, p. 4]` or `[@a; @b]`; escape a literal bracket as `\\[@`"),
            );
            return (literal(), None);
        }
        Bracket::Citation(items) => items,
    };
    // Each source looked up once (a lookup in a large site's table is a few cache misses).
    let found: Vec<Option<&crate::sources::Source>> =
        items.iter().map(|item| ctx.bib.get(&item.key)).collect();
    let mut ok = true;
    for (item, source) in items.iter().zip(&found) {
        if source.is_none() {
            ok = false;
            let at = range.start + 1 + item.at as usize;
            let mut d = Diagnostic::error(format!("citation of unknown source `@{}`", item.key))
                .at(file, at..at + 1 + item.key.len())
                .label("no source has this key");
            d = match did_you_mean(&item.key, ctx.bib.sources.keys().map(String::as_str)) {
                Some(s) => d.hint(format!("did you mean `@{s}`?")),
                None => d.hint(
                    "define it under `sources:` in the front matter or in content/sources.yaml",
                ),
            };
            out.diagnostics.push(d);
        }
    }
    if !ok {
        return (literal(), None);
    }
    let number = out.citations.len() + 1;
    let note_html: Vec<String> = items
        .iter()
        .zip(&found)
        .filter_map(|(item, source)| {
            Some(crate::bibliography::note_item(
                (*source)?,
                item,
                &ctx.source_page(&item.key),
            ))
        })
        .collect();
    let note_html = note_html.join("; ");
    // Written part by part (12,700 notes on a 1,000-brief site).
    let mut marker = String::with_capacity(400 + note_html.len());
    let n = number as u64;
    // Each of these is followed by the note's number.
    for part in [
        "<span class=\"citation\"><a class=\"note-ref\" id=\"ref-",
        "\" href=\"#note-",
        "\" role=\"doc-noteref\" aria-describedby=\"sidenote-",
        "\"><sup>",
        "</sup></a><span class=\"sidenote\" id=\"sidenote-",
        "\" role=\"note\"><span class=\"sidenote-number\">",
    ] {
        marker.push_str(part);
        crate::html::push_uint(&mut marker, n);
    }
    marker.push_str("</span> ");
    marker.push_str(&note_html);
    marker.push_str("</span></span>");
    out.citations.push(CitationGroup {
        number,
        items,
        range: range.clone(),
        sentence: Arc::from(""),
        note_html,
    });
    (Event::Html(CowStr::from(marker)), Some(number - 1))
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
        Some(LinkTarget::Page(url)) => match frag {
            Some(f) if !f.is_empty() => {
                out.anchor_refs.push(AnchorRef {
                    target: key,
                    anchor: percent_decode(f),
                    range: range.clone(),
                });
                format!("{url}#{f}")
            }
            _ => url.clone(),
        },
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
    // ASCII text (most of it) by bytes: no CJK there, and a char is alphanumeric exactly when
    // its byte is.
    if t.is_ascii() {
        let mut n = 0;
        let mut in_word = false;
        for b in t.bytes() {
            let word = b.is_ascii_alphanumeric();
            n += usize::from(word && !in_word);
            in_word = word;
        }
        return n;
    }
    count_words_by_char(t)
}

/// [`count_words`] for any text: a CJK character is a word, and so is each run of other
/// letters and digits.
fn count_words_by_char(t: &str) -> usize {
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

    /// The ASCII path counts as the character path does, and CJK characters count one each.
    #[test]
    fn words_are_counted_alike_on_both_paths() {
        for (text, words) in [
            ("", 0),
            ("   ", 0),
            ("one", 1),
            ("Spending rose 4.9% in 2021, to $83bn.", 8),
            ("a-b c_d e'f  (g) [h]", 8),
            ("x\n\ty\n", 2),
            ("U.S. 124,000 jobs", 5),
        ] {
            assert!(text.is_ascii());
            assert_eq!(count_words(text), words, "{text}");
            assert_eq!(count_words_by_char(text), words, "{text}");
        }
        assert_eq!(count_words("新台幣90億 rose"), 6);
        assert_eq!(count_words("café au lait"), 3);
    }

    #[test]
    fn sentences_are_tidied() {
        for (raw, tidy) in [
            ("", ""),
            ("  \n ", ""),
            ("Rose  by\n 5% .", "Rose by 5%."),
            (
                " Jobs  ( 124,000 ) , mostly ;  new ! ",
                "Jobs ( 124,000), mostly; new!",
            ),
            (". Starts with a stop", ". Starts with a stop"),
            ("成長 。 三成 ， 五年 ；", "成長。 三成， 五年；"),
            ("tab\there\u{a0}nbsp", "tab here nbsp"),
        ] {
            assert_eq!(tidy_sentence(raw), tidy, "{raw:?}");
        }
    }

    fn run(body: &str, targets: &[(&str, LinkTarget)]) -> Rendered {
        run_with(body, targets, &Bibliography::default())
    }

    fn run_with(body: &str, targets: &[(&str, LinkTarget)], bib: &Bibliography) -> Rendered {
        let file = Arc::new(SourceText::new(
            PathBuf::from("content/briefs/a.md"),
            body.to_string(),
        ));
        let targets = targets
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let base = url::Url::parse("https://example.org/").unwrap();
        let ctx = Context {
            targets: &targets,
            bib,
            base_url: &base,
            html: true,
        };
        render(&file, 0..body.len(), Path::new("briefs/a.md"), &ctx, None)
    }

    fn bib() -> Bibliography {
        let text = "bcg2020:\n  title: How Restricting Trade\n  publisher: BCG\n  url: https://www.bcg.com/x\nusgs:\n  title: Mineral Commodity Summaries\n";
        let file = Arc::new(SourceText::new(
            PathBuf::from("content/sources.yaml"),
            text.to_string(),
        ));
        let (defs, diags) = crate::sources::load_yaml_file(&file);
        assert!(diags.is_empty(), "{diags:?}");
        Bibliography::build(defs).0
    }

    #[test]
    fn citations_become_numbered_notes_with_their_sentence() {
        let r = run_with(
            "Costs rose. China's share fell to 60% [@bcg2020, p. 4]. See also [@usgs; @bcg2020].\n\n`[@notacite]` and \\[@literal].\n",
            &[],
            &bib(),
        );
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(r.citations.len(), 2);
        assert_eq!(&*r.citations[0].items[0].locator, "p. 4");
        assert_eq!(
            &*r.citations[0].sentence,
            "China\u{2019}s share fell to 60%."
        );
        assert_eq!(r.citations[1].items.len(), 2);
        assert!(r.html.contains("id=\"ref-1\" href=\"#note-1\""));
        assert!(r.html.contains("aria-describedby=\"sidenote-2\""));
        assert!(r.html.contains("<code>[@notacite]</code>"));
        assert!(r.html.contains("[@literal]"));
    }

    #[test]
    fn an_image_bracket_with_at_is_not_a_citation() {
        let r = run_with("See ![@x] here.\n", &[], &bib());
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert!(r.html.contains("![@x]"), "{}", r.html);
        assert!(r.citations.is_empty());
    }

    #[test]
    fn unknown_and_empty_citations_are_errors() {
        let r = run_with("A [@bcg202] and [@] here.\n", &[], &bib());
        let msgs: Vec<String> = r
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.position().unwrap(), d.message))
            .collect();
        assert_eq!(
            msgs,
            [
                "content/briefs/a.md:1:4 citation of unknown source `@bcg202`",
                "content/briefs/a.md:1:17 broken citation: empty citation: `@` is not followed by a source key",
            ]
        );
        assert_eq!(
            r.diagnostics[0].hint.as_deref(),
            Some("did you mean `@bcg2020`?")
        );
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn markdown() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "# ",
            "## H {#x onclick=alert(1)}\n",
            "> ",
            "- ",
            "1. ",
            "\n",
            "\n\n",
            "`",
            "```\n",
            "[",
            "]",
            "(",
            ")",
            "[@",
            "@",
            "k",
            "k2",
            ", p. 4",
            ";",
            "\\[@",
            "![",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "javascript:alert(1)",
            "&#106;avascript:x",
            "data:text/html,x",
            "[x](javascript:alert(1))",
            "<a href=\"javascript:x\">",
            "60%",
            "830億美元",
            "五年",
            "[^1]",
            "[^1]: n\n",
            "| a | b |\n|---|---|\n",
            "*",
            "_",
            " ",
            "。",
            ".",
            "é",
            "🙂",
            "\u{feff}",
            "\r\n",
            "\t",
            "<!-- c -->",
            "[@k]: https://e.org\n",
        ]);
        prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Any Markdown: no panic, claim and citation spans on character boundaries, and no
        /// script, event handler or script URL from the input in the HTML.
        #[test]
        fn render_is_safe(body in markdown()) {
            let file = Arc::new(SourceText::new(PathBuf::from("content/a.md"), body.clone()));
            let text = "k:\n  title: K\n";
            let sources = Arc::new(SourceText::new(PathBuf::from("content/sources.yaml"), text.to_string()));
            let (defs, _) = crate::sources::load_yaml_file(&sources);
            let bib = Bibliography::build(defs).0;
            let targets = BTreeMap::new();
            let base = url::Url::parse("https://example.org/").unwrap();
            let ctx = Context {
                targets: &targets,
                bib: &bib,
                base_url: &base,
                html: true,
            };
            let rules = ClaimRules::default();
            let r = render(&file, 0..body.len(), Path::new("a.md"), &ctx, Some(&rules));
            for c in &r.claims {
                prop_assert!(body.is_char_boundary(c.range.start) && body.is_char_boundary(c.range.end));
            }
            let html = scraper::Html::parse_fragment(&r.html);
            for el in html.root_element().descendants().filter_map(scraper::ElementRef::wrap) {
                let name = el.value().name();
                prop_assert!(name != "script" && name != "img" || name == "img" && el.value().attr("onerror").is_none(), "{name} in {body:?}");
                for (attr, value) in el.value().attrs() {
                    prop_assert!(!attr.starts_with("on"), "{attr} in {body:?}");
                    if matches!(attr, "href" | "src" | "action" | "formaction" | "xlink:href") {
                        let v = value.to_ascii_lowercase();
                        prop_assert!(!v.trim().starts_with("javascript:") && !v.trim().starts_with("data:"), "{attr}={value} in {body:?}");
                    }
                }
            }
        }
    }
}
