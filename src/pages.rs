//! Render stage: each page of the assembled [`Site`] through its template, to a string.
//!
//! In: the read-only site and the compiled templates. Out: `(output path, bytes)` per page.
//! [`jobs`] lists every page; [`render`] renders one from borrowed data only, so pages render
//! in parallel and `serve` can re-render one. Context values are built here from sorted
//! vectors (never hash maps), so output is deterministic.

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::lang::format_date;
use crate::markdown::Heading;
use crate::site::{Address, Brief, Site};
use crate::templates::Templates;

/// One page to render.
#[derive(Debug, Clone, Copy)]
pub enum Job {
    Brief(usize),
    Section(usize),
    Tags,
    Tag(usize),
    /// One page of the source index (0 is `/sources/`).
    Sources(usize),
    Source(usize),
    /// One page of the claims table (0 is `/claims/`).
    Claims(usize),
    ClaimsJson,
    Search,
    NotFound,
    Feed,
    /// One file of the sitemap (the only one, `sitemap.xml`, on most sites).
    Sitemap(usize),
    /// `sitemap.xml` as the index of the sitemap's files, when there are several.
    SitemapIndex,
    Robots,
}

/// Every page of the site, in a fixed order.
pub fn jobs(site: &Site) -> Vec<Job> {
    let mut jobs: Vec<Job> = (0..site.briefs.len()).map(Job::Brief).collect();
    jobs.extend((0..site.sections.len()).map(Job::Section));
    jobs.push(Job::Tags);
    jobs.extend((0..site.tags.len()).map(Job::Tag));
    jobs.extend(sources_jobs(site));
    jobs.extend(claims_jobs(site));
    if site.config.search {
        jobs.push(Job::Search);
    }
    jobs.extend((0..site.sources.len()).map(Job::Source));
    jobs.extend([Job::NotFound, Job::Feed]);
    jobs.extend(sitemap_jobs(site));
    jobs.push(Job::Robots);
    jobs
}

/// Rows per page of the claims table: a page stays light enough to load and filter on a
/// phone, and the pages render in parallel.
pub const CLAIMS_PER_PAGE: usize = 1000;

/// How many pages the claims table has (one, even when empty).
fn claim_pages(site: &Site) -> usize {
    site.claims().total.div_ceil(CLAIMS_PER_PAGE).max(1)
}

/// The order to start `jobs` in on the worker threads. Pages that take long (claims.json, the
/// sources index, listings, feed, sitemap) must not start last: one core would idle behind
/// them.
pub fn schedule(jobs: &[Job]) -> Vec<usize> {
    let weight = |job: &Job| match job {
        Job::ClaimsJson => 0,
        Job::Brief(_) => 1,
        Job::Sources(_)
        | Job::Section(_)
        | Job::Sitemap(_)
        | Job::Feed
        | Job::Tags
        | Job::Search => 2,
        Job::Tag(_) | Job::Claims(_) | Job::NotFound | Job::Robots | Job::SitemapIndex => 3,
        Job::Source(_) => 4,
    };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| weight(&jobs[i]));
    order
}

/// Sources per page of the source index, as for the claims table: a page of a large site's
/// index stays light to load, and the pages render in parallel.
pub const SOURCES_PER_PAGE: usize = 1000;

/// The source index's pages (one, even when empty).
pub fn sources_jobs(site: &Site) -> impl Iterator<Item = Job> {
    (0..site.sources.len().div_ceil(SOURCES_PER_PAGE).max(1)).map(Job::Sources)
}

/// URLs per sitemap file. The protocol allows 50,000; a site with more URLs than this gets
/// `sitemap1.xml`, `sitemap2.xml`, ... and `sitemap.xml` becomes their index (as Zola does,
/// with smaller files: each renders on its own core, and less is in memory at once).
pub const SITEMAP_URLS_PER_FILE: usize = 10_000;

/// One `<url>` of the sitemap.
#[derive(Serialize)]
struct Url<'a> {
    loc: &'a str,
    lastmod: Option<String>,
    alternates: Vec<Alternate<'a>>,
}

/// What a sitemap URL is the address of: (0 a section, 1 a brief, 2 the source index, 3 a
/// source, 4 the tag index, 5 a tag; index in its list).
type SitemapEntry = (u8, u32);

/// Every page the sitemap lists, in the order of their URLs.
fn sitemap_order(site: &Site) -> Vec<SitemapEntry> {
    let n = |len: usize| 0..u32::try_from(len).unwrap_or(u32::MAX);
    let mut entries: Vec<SitemapEntry> = n(site.sections.len())
        .map(|i| (0, i))
        .chain(n(site.briefs.len()).map(|i| (1, i)))
        .chain([(2, 0)])
        .chain(n(site.sources.len()).map(|i| (3, i)))
        .chain([(4, 0)])
        .chain(n(site.tags.len()).map(|i| (5, i)))
        .collect();
    entries.sort_by(|&a, &b| sitemap_loc(site, a).cmp(sitemap_loc(site, b)));
    entries
}

fn sitemap_loc(site: &Site, (kind, i): SitemapEntry) -> &str {
    let i = i as usize;
    match kind {
        0 => &site.sections[i].address.permalink,
        1 => &site.briefs[i].address.permalink,
        2 => &site.sources_address.permalink,
        3 => &site.sources[i].address.permalink,
        4 => &site.tags_address.permalink,
        _ => &site.tags[i].address.permalink,
    }
}

/// The `<url>` of a sitemap entry: briefs have a date and their translations.
fn sitemap_url(site: &Site, entry: SitemapEntry) -> Url<'_> {
    let loc = sitemap_loc(site, entry);
    let (1, i) = entry else {
        return Url {
            loc,
            lastmod: None,
            alternates: Vec::new(),
        };
    };
    let b = &site.briefs[i as usize];
    let mut alternates: Vec<Alternate> = Vec::new();
    if !b.translations.is_empty() {
        alternates.push(Alternate {
            lang: &b.lang,
            permalink: &b.address.permalink,
        });
        for &t in &b.translations {
            alternates.push(Alternate {
                lang: &site.briefs[t].lang,
                permalink: &site.briefs[t].address.permalink,
            });
        }
        alternates.sort_by(|x, y| x.lang.cmp(y.lang));
    }
    Url {
        loc,
        lastmod: Some(b.meta.updated.unwrap_or(b.meta.date).to_string()),
        alternates,
    }
}

/// How many URLs the sitemap lists (as [`sitemap_order`], without sorting them).
fn sitemap_len(site: &Site) -> usize {
    site.sections.len() + site.briefs.len() + 1 + site.sources.len() + 1 + site.tags.len()
}

/// How many sitemap files the URLs fill.
fn sitemap_files(site: &Site) -> usize {
    sitemap_len(site).div_ceil(SITEMAP_URLS_PER_FILE).max(1)
}

/// The output path of sitemap file `k`: `sitemap.xml` when it is the only one.
fn sitemap_file(site: &Site, k: usize) -> String {
    if sitemap_files(site) == 1 {
        "sitemap.xml".to_string()
    } else {
        format!("sitemap{}.xml", k + 1)
    }
}

/// The sitemap's jobs: its files, and their index when there are several.
pub fn sitemap_jobs(site: &Site) -> Vec<Job> {
    let n = sitemap_files(site);
    let mut jobs: Vec<Job> = (0..n).map(Job::Sitemap).collect();
    if n > 1 {
        jobs.push(Job::SitemapIndex);
    }
    jobs
}

/// The claims table's pages and `claims.json`.
pub fn claims_jobs(site: &Site) -> Vec<Job> {
    let pages = claim_pages(site);
    let mut jobs: Vec<Job> = (0..pages).map(Job::Claims).collect();
    jobs.push(Job::ClaimsJson);
    jobs
}

/// The claims pages that show the claims of `briefs`, and `claims.json`: when those briefs
/// still have as many claims as before (`same_counts`), only the pages holding their rows;
/// otherwise every page from the first of them on, since later rows have moved.
pub fn claims_jobs_for(site: &Site, briefs: &[usize], same_counts: bool) -> Vec<Job> {
    let index = site.claims();
    let pages = claim_pages(site);
    let mut wanted = std::collections::BTreeSet::new();
    for &b in briefs {
        let start = index.start.get(b).copied().unwrap_or(0);
        let n = site.briefs.get(b).map_or(0, |x| x.rendered.claims.len());
        let first = start / CLAIMS_PER_PAGE;
        let last = if same_counts {
            (start + n.max(1) - 1) / CLAIMS_PER_PAGE
        } else {
            pages - 1
        };
        wanted.extend(first..=last.min(pages - 1));
    }
    let mut jobs: Vec<Job> = wanted.into_iter().map(Job::Claims).collect();
    jobs.push(Job::ClaimsJson);
    jobs
}

/// Where [`write_claims_json`] goes in the output.
pub const CLAIMS_JSON: &str = "claims.json";

/// `claims.json`: every claim as a pretty-printed JSON array, the same as serialising
/// [`claim_rows`] at once, but written in batches of per-brief parts made in parallel (so
/// the file is never whole in memory; in `serve` the parts are kept, so an edit redoes only
/// its brief's part).
pub fn write_claims_json(site: &Site, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    use std::borrow::Cow;
    const BATCH: usize = 256;
    let index = site.claims();
    let part = |i: usize| -> std::io::Result<String> {
        let start = index.start[i];
        let rows = claim_rows_in(site, start..start + site.briefs[i].rendered.claims.len());
        if rows.is_empty() {
            return Ok(String::new());
        }
        // Sized above a typical row (about 550 bytes) so the buffer rarely grows (each growth
        // copies it).
        let mut json = Vec::with_capacity(rows.len() * 768);
        rows_json(&rows, &mut json)?;
        String::from_utf8(json).map_err(std::io::Error::other)
    };
    let mut first = true;
    out.write_all(b"[")?;
    for from in (0..site.briefs.len()).step_by(BATCH) {
        let parts: Vec<Cow<str>> = (from..(from + BATCH).min(site.briefs.len()))
            .into_par_iter()
            .map(|i| -> std::io::Result<Cow<str>> {
                if !site.keep_fragments {
                    return part(i).map(Cow::Owned);
                }
                if let Some(done) = site.briefs[i].claims_json.get() {
                    return Ok(Cow::Borrowed(done.as_str()));
                }
                let made = part(i)?;
                Ok(Cow::Borrowed(
                    site.briefs[i].claims_json.get_or_init(|| made).as_str(),
                ))
            })
            .collect::<std::io::Result<_>>()?;
        for p in parts.iter().filter(|p| !p.is_empty()) {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            out.write_all(p.as_bytes())?;
            first = false;
        }
    }
    out.write_all(if first { b"]\n" } else { b"\n]\n" })
}

/// `rows` as serde_json pretty-prints them in an array, without the array's brackets (each row
/// indented one level, as inside the whole file's array), written by hand: serialising them
/// through serde was 5.7% of a build, most of it scanning every string for characters to
/// escape. A string with nothing to escape (almost all) is copied as it is; the others, and
/// the numbers and names, still go through serde_json, so the bytes are the same.
fn rows_json(rows: &[ClaimRow<'_>], out: &mut Vec<u8>) -> std::io::Result<()> {
    fn string(out: &mut Vec<u8>, s: &str) -> std::io::Result<()> {
        // One pass with no early exit, which the compiler vectorises.
        let special = s.bytes().fold(false, |any, b| {
            any | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if special {
            return serde_json::to_writer(&mut *out, s).map_err(std::io::Error::other);
        }
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    }
    fn field(out: &mut Vec<u8>, indent: &str, name: &str) {
        out.extend_from_slice(indent.as_bytes());
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": ");
    }
    /// `"name": "value"` lines at `indent`, each ended by `,\n` but the last, ended by `end`.
    fn strings(
        out: &mut Vec<u8>,
        indent: &str,
        fields: &[(&str, &str)],
        end: &[u8],
    ) -> std::io::Result<()> {
        for (j, (name, value)) in fields.iter().enumerate() {
            field(out, indent, name);
            string(out, value)?;
            out.extend_from_slice(if j + 1 < fields.len() { b",\n" } else { end });
        }
        Ok(())
    }
    fn serde(out: &mut Vec<u8>, v: &impl Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, v).map_err(std::io::Error::other)
    }
    const ROW: &str = "    ";
    const SOURCE: &str = "        ";
    for (i, r) in rows.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"  {\n" } else { b",\n  {\n" });
        let head = [
            ("brief", r.brief),
            ("brief_url", r.brief_url),
            ("permalink", r.permalink.as_str()),
            ("lang", r.lang),
            ("id", r.id.as_str()),
            ("text", r.text),
        ];
        strings(out, ROW, &head, b",\n")?;
        field(out, ROW, "kind");
        serde(out, &r.kind)?;
        out.extend_from_slice(b",\n");
        field(out, ROW, "value");
        match r.value {
            crate::claims::detect::Value::One(v) => serde(out, &v)?,
            crate::claims::detect::Value::Range(lo, hi) => {
                out.extend_from_slice(b"[\n      ");
                serde(out, &lo)?;
                out.extend_from_slice(b",\n      ");
                serde(out, &hi)?;
                out.extend_from_slice(b"\n    ]");
            }
        }
        out.extend_from_slice(b",\n");
        strings(
            out,
            ROW,
            &[("unit", r.unit), ("sentence", r.sentence)],
            b",\n",
        )?;
        field(out, ROW, "status");
        serde(out, &r.status)?;
        out.extend_from_slice(b",\n");
        field(out, ROW, "sources");
        if r.sources.is_empty() {
            out.extend_from_slice(b"[]");
        } else {
            out.push(b'[');
            for (k, c) in r.sources.iter().enumerate() {
                out.extend_from_slice(if k == 0 {
                    b"\n      {\n"
                } else {
                    b",\n      {\n"
                });
                let fields = [
                    ("key", c.key),
                    ("title", c.title),
                    ("url", c.url),
                    ("locator", c.locator),
                ];
                strings(out, SOURCE, &fields, b"\n")?;
                out.extend_from_slice(b"      }");
            }
            out.extend_from_slice(b"\n    ]");
        }
        out.extend_from_slice(b"\n  }");
    }
    Ok(())
}

fn claims_json(site: &Site) -> Result<String, Diagnostic> {
    let mut out = Vec::new();
    write_claims_json(site, &mut out)
        .map_err(|e| Diagnostic::error(format!("cannot write claims.json: {e}")))?;
    String::from_utf8(out).map_err(|e| Diagnostic::error(format!("cannot write claims.json: {e}")))
}

/// Page `p` (0-based) of a listing split in `pages` pages of `per` rows, `rows` in all, whose
/// first page is at `first`: its address (`first`, then `first` + `page/2/`, ...), its title
/// (`name`, or "name, page 2 of 5") and its pager.
fn paged(
    first: &Address,
    name: &str,
    p: usize,
    pages: usize,
    per: usize,
    rows: usize,
) -> (Address, String, Pager) {
    let address_of = |k: usize| {
        let tail = if k == 0 {
            String::new()
        } else {
            format!("page/{}/", k + 1)
        };
        Address {
            path: format!("{}{tail}", first.path),
            url: format!("{}{tail}", first.url),
            permalink: format!("{}{tail}", first.permalink),
        }
    };
    let title = if pages > 1 {
        format!("{name}, page {} of {pages}", p + 1)
    } else {
        name.to_string()
    };
    let start = p * per;
    let pager = Pager {
        current: p + 1,
        total: pages,
        prev_url: (p > 0).then(|| address_of(p - 1).url),
        next_url: (p + 1 < pages).then(|| address_of(p + 1).url),
        first: (start + 1).min(rows),
        last: (start + per).min(rows).max(start),
        rows,
    };
    (address_of(p), title, pager)
}

#[derive(Serialize)]
struct Pager {
    /// 1-based.
    current: usize,
    total: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
    /// 1-based positions of the first and last row shown, and the number of rows in all.
    first: usize,
    last: usize,
    rows: usize,
}

#[derive(Serialize)]
struct SiteCtx<'a> {
    title: &'a str,
    description: Option<&'a str>,
    language: &'a str,
    /// Root-relative URL of the home page (ends with `/`): prefix for assets.
    url: String,
    permalink: String,
    feed_url: String,
    tags_url: String,
    sources_url: String,
    claims_url: String,
    search_url: String,
    /// Absolute URL of the link-preview image, when site.yaml sets one.
    image: Option<String>,
}

/// The theme's own words, in the page's language.
#[derive(Serialize)]
struct Labels {
    skip: &'static str,
    briefs: &'static str,
    claims: &'static str,
    sources: &'static str,
    tags: &'static str,
    feed: &'static str,
    updated: &'static str,
    min_read: &'static str,
    contents: &'static str,
    notes: &'static str,
    sources_heading: &'static str,
    related: &'static str,
    cited_elsewhere: &'static str,
    back_to_note: &'static str,
    featured: &'static str,
    key_findings: &'static str,
    read_brief: &'static str,
    more_briefs: &'static str,
    latest_briefs: &'static str,
    sections: &'static str,
    translations: &'static str,
    search: &'static str,
}

fn labels(lang: &str) -> Labels {
    let lower = lang.to_ascii_lowercase();
    if lower.starts_with("zh") {
        let simplified = lower.contains("hans") || lower == "zh-cn" || lower == "zh-sg";
        if simplified {
            return Labels {
                skip: "跳到内容",
                briefs: "简报",
                claims: "数据",
                sources: "资料来源",
                tags: "标签",
                feed: "订阅",
                updated: "更新",
                min_read: "分钟阅读",
                contents: "目录",
                notes: "注释",
                sources_heading: "资料来源",
                related: "相关简报",
                cited_elsewhere: "此来源的其他引用",
                back_to_note: "回到内文注释",
                featured: "精选简报",
                key_findings: "重点发现",
                read_brief: "阅读全文与所有来源",
                more_briefs: "更多简报",
                latest_briefs: "最新简报",
                sections: "栏目",
                translations: "其他语言",
                search: "搜索",
            };
        }
        return Labels {
            skip: "跳到內容",
            briefs: "簡報",
            claims: "數據",
            sources: "資料來源",
            tags: "標籤",
            feed: "訂閱",
            updated: "更新",
            min_read: "分鐘閱讀",
            contents: "目錄",
            notes: "註釋",
            sources_heading: "資料來源",
            related: "相關簡報",
            cited_elsewhere: "此來源的其他引用",
            back_to_note: "回到內文註釋",
            featured: "精選簡報",
            key_findings: "重點發現",
            read_brief: "閱讀全文與所有來源",
            more_briefs: "更多簡報",
            latest_briefs: "最新簡報",
            sections: "欄目",
            translations: "其他語言",
            search: "搜尋",
        };
    }
    Labels {
        skip: "Skip to content",
        briefs: "Briefs",
        claims: "Claims",
        sources: "Sources",
        tags: "Tags",
        feed: "Feed",
        updated: "updated",
        min_read: "min read",
        contents: "Contents",
        notes: "Notes",
        sources_heading: "Sources",
        related: "Related briefs",
        cited_elsewhere: "Where else this source is cited",
        back_to_note: "Back to note",
        featured: "Featured brief",
        key_findings: "Key findings",
        read_brief: "Read the brief, with every source",
        more_briefs: "More briefs",
        latest_briefs: "Latest briefs",
        sections: "Sections",
        translations: "Translations",
        search: "Search",
    }
}

#[derive(Serialize)]
struct Alternate<'a> {
    lang: &'a str,
    permalink: &'a str,
}

#[derive(Serialize)]
struct PageCtx<'a> {
    kind: &'static str,
    title: &'a str,
    description: &'a str,
    lang: &'a str,
    url: &'a str,
    permalink: &'a str,
    alternates: Vec<Alternate<'a>>,
    x_default: Option<&'a str>,
}

#[derive(Serialize)]
struct TagRef<'a> {
    name: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct Translation<'a> {
    lang: &'a str,
    title: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct BriefItem<'a> {
    title: &'a str,
    url: &'a str,
    lang: &'a str,
    date: String,
    date_display: String,
    summary: &'a str,
    tags: Vec<TagRef<'a>>,
    translations: Vec<Translation<'a>>,
}

#[derive(Serialize)]
struct BriefCtx<'a> {
    title: &'a str,
    date: String,
    date_display: String,
    updated: Option<String>,
    updated_display: Option<String>,
    authors: &'a [String],
    summary: Option<&'a str>,
    tags: Vec<TagRef<'a>>,
    content: &'a str,
    toc: &'a [Heading],
    translations: Vec<Translation<'a>>,
    section_title: &'a str,
    section_url: &'a str,
    words: usize,
    reading_minutes: usize,
    notes: Vec<Note<'a>>,
    sources: Vec<SourceRef>,
    /// Listing entries ([`BriefItem`]), shared from [`Shared`].
    related: Vec<tera::Value>,
}

#[derive(Serialize)]
struct Note<'a> {
    number: usize,
    html: &'a str,
}

#[derive(Serialize)]
struct SourceRef {
    key: String,
    url: String,
    /// The formatted reference entry (escaped HTML).
    html: String,
}

#[derive(Serialize)]
struct Link<'a> {
    title: &'a str,
    url: &'a str,
    count: usize,
}

fn tag_refs<'a>(site: &'a Site, b: &'a Brief) -> Vec<TagRef<'a>> {
    b.tags
        .iter()
        .map(|&t| TagRef {
            name: &site.tags[t].name,
            url: &site.tags[t].address.url,
        })
        .collect()
}

fn description<'a>(site: &'a Site, b: &'a Brief) -> &'a str {
    describe(site, b, &b.rendered.excerpt)
}

/// A brief's description: its summary, else the excerpt of its body, else the site's.
fn describe<'a>(site: &'a Site, b: &'a Brief, excerpt: &'a str) -> &'a str {
    b.meta
        .summary
        .as_deref()
        .filter(|s| !s.is_empty())
        .or(Some(excerpt).filter(|s| !s.is_empty()))
        .or(site.config.description.as_deref())
        .unwrap_or(&site.config.title)
}

fn item<'a>(site: &'a Site, i: usize) -> BriefItem<'a> {
    let b = &site.briefs[i];
    BriefItem {
        title: &b.meta.title,
        url: &b.address.url,
        lang: &b.lang,
        date: b.meta.date.to_string(),
        date_display: format_date(b.meta.date, &b.lang),
        summary: b.meta.summary.as_deref().unwrap_or(&b.rendered.excerpt),
        tags: tag_refs(site, b),
        translations: translations(site, b),
    }
}

fn translations<'a>(site: &'a Site, b: &'a Brief) -> Vec<Translation<'a>> {
    b.translations
        .iter()
        .map(|&t| Translation {
            lang: &site.briefs[t].lang,
            title: &site.briefs[t].meta.title,
            url: &site.briefs[t].address.url,
        })
        .collect()
}

/// The home page's featured brief: the lowest `weight` among briefs in the site's language.
fn featured(site: &Site) -> Option<usize> {
    (0..site.briefs.len())
        .filter(|&i| {
            site.briefs[i].meta.weight.is_some()
                && site.briefs[i]
                    .lang
                    .eq_ignore_ascii_case(&site.config.language)
        })
        .min_by_key(|&i| {
            (
                site.briefs[i].meta.weight,
                std::cmp::Reverse(site.briefs[i].meta.date),
                i,
            )
        })
}

#[derive(Serialize)]
struct Featured<'a> {
    #[serde(flatten)]
    item: BriefItem<'a>,
    key_findings: &'a [String],
}

fn site_ctx(site: &Site) -> SiteCtx<'_> {
    let home = &site.sections[0].address;
    SiteCtx {
        title: &site.config.title,
        description: site.config.description.as_deref(),
        language: &site.config.language,
        url: home.url.clone(),
        permalink: home.permalink.clone(),
        feed_url: format!("{}feed.xml", home.url),
        tags_url: site.tags_address.url.clone(),
        sources_url: site.sources_address.url.clone(),
        claims_url: format!("{}claims/", home.url),
        search_url: if site.config.search {
            format!("{}search/", home.url)
        } else {
            String::new()
        },
        image: site.config.image.as_deref().map(|img| {
            if crate::urls::scheme_of(img).is_some() {
                img.to_string()
            } else {
                crate::urls::permalink_for(&site.config.base_url, img.trim_start_matches('/'))
            }
        }),
    }
}

fn simple_page<'a>(
    site: &'a Site,
    kind: &'static str,
    title: &'a str,
    addr: &'a Address,
) -> PageCtx<'a> {
    PageCtx {
        kind,
        title,
        description: site
            .config
            .description
            .as_deref()
            .unwrap_or(&site.config.title),
        lang: &site.config.language,
        url: &addr.url,
        permalink: &addr.permalink,
        alternates: Vec::new(),
        x_default: None,
    }
}

fn source_ref(site: &Site, shared: &Shared, key: &str) -> Option<SourceRef> {
    let i = *site.source_index.get(key)?;
    Some(SourceRef {
        key: key.to_string(),
        url: site.sources[i].address.url.clone(),
        html: shared.reference(site, i)?,
    })
}

/// One row of the claims table and of `claims.json`.
#[derive(Serialize)]
pub struct ClaimRow<'a> {
    pub brief: &'a str,
    pub brief_url: &'a str,
    pub permalink: String,
    pub lang: &'a str,
    pub id: String,
    pub text: &'a str,
    pub kind: crate::claims::detect::Kind,
    pub value: crate::claims::detect::Value,
    pub unit: &'a str,
    pub sentence: &'a str,
    pub status: crate::markdown::ClaimStatus,
    pub sources: Vec<ClaimSource<'a>>,
}

#[derive(Serialize)]
pub struct ClaimSource<'a> {
    pub key: &'a str,
    pub title: &'a str,
    pub url: &'a str,
    pub locator: &'a str,
}

/// Every claim of the site, briefs newest first, claims in reading order.
pub fn claim_rows(site: &Site) -> Vec<ClaimRow<'_>> {
    claim_rows_in(site, 0..usize::MAX)
}

/// The claims at positions `range` of [`claim_rows`].
fn claim_rows_in(site: &Site, range: std::ops::Range<usize>) -> Vec<ClaimRow<'_>> {
    let index = site.claims();
    let range = range.start..range.end.min(index.total);
    let mut rows = Vec::with_capacity(range.len());
    // The last brief whose claims start at or before the range.
    let first = index
        .start
        .partition_point(|&s| s <= range.start)
        .saturating_sub(1);
    for (b, &at) in site.briefs.iter().zip(&index.start).skip(first) {
        if at >= range.end {
            break;
        }
        let n = b.rendered.claims.len();
        let skip = range.start.saturating_sub(at).min(n);
        let take = (range.end - at).min(n) - skip;
        // A brief's claims cite a few sources many times: each looked up once per brief (in
        // the site's tables of tens of thousands, a lookup is a few cache misses).
        let mut seen: Vec<(&str, &str, &str)> = Vec::new();
        for c in b.rendered.claims.iter().skip(skip).take(take) {
            let sources = c
                .sources(&b.rendered, Some(&b.rules))
                .into_iter()
                .map(|(k, loc)| {
                    let (title, url) = match seen.iter().find(|(key, _, _)| *key == k) {
                        Some(&(_, title, url)) => (title, url),
                        None => {
                            let entry = site.source_index.get(k).map(|&i| &site.sources[i]);
                            let source = match entry {
                                Some(e) => site.bib.at(e.definition),
                                None => site.bib.get(k),
                            };
                            let title = source.map_or("", |s| s.title.as_str());
                            let url = entry.map_or("", |e| e.address.url.as_str());
                            seen.push((k, title, url));
                            (title, url)
                        }
                    };
                    ClaimSource {
                        key: k,
                        title,
                        url,
                        locator: loc,
                    }
                })
                .collect();
            // Not `format!`: 28,000 rows on a 1,000-brief site, twice (table and JSON).
            let mut id = String::with_capacity(16);
            id.push_str("claim-");
            crate::html::push_uint(&mut id, u64::from(c.number));
            let mut permalink = String::with_capacity(b.address.permalink.len() + 1 + id.len());
            permalink.push_str(&b.address.permalink);
            permalink.push('#');
            permalink.push_str(&id);
            rows.push(ClaimRow {
                brief: &b.meta.title,
                brief_url: &b.address.url,
                permalink,
                lang: &b.lang,
                id,
                text: &c.text,
                kind: c.kind,
                value: c.value,
                unit: &c.unit,
                sentence: &c.sentence,
                status: c.status,
                sources,
            });
        }
    }
    rows
}

/// RFC 3339 timestamp of a date at midnight UTC (Atom needs a time).
fn rfc3339(d: jiff::civil::Date) -> String {
    format!("{d}T00:00:00Z")
}

fn output_path(page_path: &str) -> String {
    [page_path, "index.html"].concat()
}

/// Template values many pages show, converted to Tera values once per build: Tera's maps
/// and lists are reference-counted, so each page takes them without copying (the site
/// header on every page, a brief's listing entry on the home, section, tag and related
/// lists).
pub struct Shared {
    site: tera::Value,
    items: Vec<tera::Value>,
    /// Theme strings (`t`) by page language.
    labels: std::collections::HashMap<String, tera::Value>,
    /// How many sourced claims rely on each source (by index into `site.sources`), counted
    /// on first use.
    source_claims: std::sync::OnceLock<Vec<usize>>,
    /// The sitemap's pages in order, sorted once for all its files.
    sitemap: std::sync::OnceLock<Vec<SitemapEntry>>,
}

impl Shared {
    pub fn new(site: &Site) -> Result<Shared, Diagnostic> {
        // Each tag's link made once and shared by the listing item of every brief carrying it
        // (40,000 tag links on a 10,000-brief site).
        let tag_values: Vec<tera::Value> = site
            .tags
            .iter()
            .map(|t| {
                to_value(&TagRef {
                    name: &t.name,
                    url: &t.address.url,
                })
            })
            .collect::<Result<_, _>>()?;
        let items = (0..site.briefs.len())
            .map(|i| {
                let mut it = item(site, i);
                it.tags = Vec::new();
                let mut map = to_value(&it)?.into_map().unwrap_or_default();
                let tags: Vec<tera::Value> = site.briefs[i]
                    .tags
                    .iter()
                    .filter_map(|&t| tag_values.get(t).cloned())
                    .collect();
                map.insert("tags".into(), tera::Value::from(tags));
                Ok(tera::Value::from(map))
            })
            .collect::<Result<_, Diagnostic>>()?;
        let mut labels = std::collections::HashMap::new();
        let langs = std::iter::once(&site.config.language)
            .chain(site.briefs.iter().map(|b| &b.lang))
            .chain(site.sections.iter().map(|s| &s.lang));
        for lang in langs {
            if !labels.contains_key(lang) {
                labels.insert(lang.clone(), to_value(&self::labels(lang))?);
            }
        }
        Ok(Shared {
            site: to_value(&site_ctx(site))?,
            items,
            labels,
            source_claims: Default::default(),
            sitemap: Default::default(),
        })
    }

    fn sitemap_order(&self, site: &Site) -> &[SitemapEntry] {
        self.sitemap.get_or_init(|| sitemap_order(site))
    }

    /// Works out now, on all threads, what some pages would each need first: the page that
    /// came first would work it out alone while other threads waiting for it idled.
    pub fn warm(&self, site: &Site) {
        rayon::join(|| self.source_claims(site), || self.sitemap_order(site));
    }

    /// How many sourced claims rely on source `i` of `site.sources`, for each `i`.
    fn source_claims(&self, site: &Site) -> &[usize] {
        use rayon::prelude::*;
        self.source_claims.get_or_init(|| {
            let n = site.sources.len();
            site.briefs
                .par_iter()
                .with_min_len(64)
                .fold(
                    || vec![0; n],
                    |mut counts, b| {
                        for c in &b.rendered.claims {
                            if c.status == crate::markdown::ClaimStatus::Sourced {
                                for (k, _) in c.sources(&b.rendered, Some(&b.rules)) {
                                    if let Some(&i) = site.source_index.get(k) {
                                        counts[i] += 1;
                                    }
                                }
                            }
                        }
                        counts
                    },
                )
                .reduce(
                    || vec![0; n],
                    |mut a, b| {
                        for (x, y) in a.iter_mut().zip(b) {
                            *x += y;
                        }
                        a
                    },
                )
        })
    }

    fn labels(&self, lang: &str) -> tera::Value {
        match self.labels.get(lang) {
            Some(v) => v.clone(),
            None => to_value(&labels(lang)).unwrap_or_else(|_| tera::Value::from(())),
        }
    }

    /// The reference entry of source `i` of `site.sources`, made each time it is shown (a
    /// brief, the source index and the source's own page show it): kept for all sources, the
    /// entries would add a tenth to a large site's memory.
    fn reference(&self, site: &Site, i: usize) -> Option<String> {
        let source = site.bib.at(site.sources.get(i)?.definition)?;
        Some(crate::bibliography::reference(source))
    }

    fn items(&self, briefs: impl Iterator<Item = usize>) -> tera::Value {
        tera::Value::from(briefs.map(|b| self.items[b].clone()).collect::<Vec<_>>())
    }
}

fn to_value<T: Serialize>(v: &T) -> Result<tera::Value, Diagnostic> {
    tera::Value::try_from_serializable(v)
        .map_err(|e| Diagnostic::error(format!("cannot prepare page data: {e}")))
}

/// Renders brief `i`'s page from its parsed body `r` and the keys it cites: from the site's
/// own copy ([`render`]), or straight after parsing, before the brief joins the site (a build
/// writes each brief page as soon as its body is parsed and keeps no body HTML).
pub fn render_brief(
    site: &Site,
    templates: &Templates,
    shared: &Shared,
    i: usize,
    r: &crate::markdown::Rendered,
    cited: &[String],
) -> Result<(String, String), Diagnostic> {
    let page = brief_page(site, shared, i, r, cited)?;
    let html = templates.render(BRIEF_TEMPLATE, &page.ctx, &page.label)?;
    Ok((page.path, html))
}

/// The template of brief pages.
pub const BRIEF_TEMPLATE: &str = "brief.html";

/// A brief page ready for [`BRIEF_TEMPLATE`]: its output path, its name for messages and its
/// template context.
pub struct BriefPage {
    pub path: String,
    pub label: String,
    pub ctx: tera::Context,
}

/// Everything of [`render_brief`] but the rendering, for a caller that streams the page to
/// its file.
pub fn brief_page(
    site: &Site,
    shared: &Shared,
    i: usize,
    r: &crate::markdown::Rendered,
    cited: &[String],
) -> Result<BriefPage, Diagnostic> {
    let mut ctx = tera::Context::new();
    ctx.insert_value("site", shared.site.clone());
    let b = &site.briefs[i];
    let mut alternates: Vec<Alternate> = Vec::new();
    let mut x_default = None;
    if !b.translations.is_empty() {
        let mut group: Vec<&Brief> = b.translations.iter().map(|&t| &site.briefs[t]).collect();
        group.push(b);
        group.sort_by(|x, y| x.lang.cmp(&y.lang));
        for m in &group {
            alternates.push(Alternate {
                lang: &m.lang,
                permalink: &m.address.permalink,
            });
            if m.lang.eq_ignore_ascii_case(&site.config.language) {
                x_default = Some(m.address.permalink.as_str());
            }
        }
    }
    ctx.insert(
        "page",
        &PageCtx {
            kind: "brief",
            title: &b.meta.title,
            description: describe(site, b, &r.excerpt),
            lang: &b.lang,
            url: &b.address.url,
            permalink: &b.address.permalink,
            alternates,
            x_default,
        },
    );
    let section = &site.sections[b.section];
    ctx.insert(
        "brief",
        &BriefCtx {
            title: &b.meta.title,
            date: b.meta.date.to_string(),
            date_display: format_date(b.meta.date, &b.lang),
            updated: b.meta.updated.map(|u| u.to_string()),
            updated_display: b.meta.updated.map(|u| format_date(u, &b.lang)),
            authors: &b.meta.authors,
            summary: b.meta.summary.as_deref(),
            tags: tag_refs(site, b),
            content: &r.html,
            toc: &r.headings,
            translations: translations(site, b),
            section_title: &section.title,
            section_url: &section.address.url,
            words: r.words,
            notes: r
                .citations
                .iter()
                .map(|c| Note {
                    number: c.number,
                    html: &c.note_html,
                })
                .collect(),
            sources: cited
                .iter()
                .filter_map(|k| source_ref(site, shared, k))
                .collect(),
            related: b.related.iter().map(|&r| shared.items[r].clone()).collect(),
            reading_minutes: r
                .words
                .div_ceil(if crate::lang::is_cjk(&b.lang) {
                    400
                } else {
                    220
                })
                .max(1),
        },
    );
    let label = b.file.display_path.display().to_string();
    ctx.insert_value("t", shared.labels(&b.lang));
    Ok(BriefPage {
        path: output_path(&b.address.path),
        label,
        ctx,
    })
}

/// Renders one page: its output path (relative to the output folder) and contents.
pub fn render(
    site: &Site,
    templates: &Templates,
    shared: &Shared,
    job: Job,
) -> Result<(String, String), Diagnostic> {
    match prepare(site, templates, shared, job)? {
        Prepared::Done { path, html } => Ok((path, html)),
        Prepared::Template {
            template,
            path,
            label,
            ctx,
        } => Ok((path, templates.render(template, &ctx, &label)?)),
    }
}

/// A page made ready for its template, or already rendered.
pub enum Prepared {
    Done {
        path: String,
        html: String,
    },
    /// The template, the output path, the page's name for messages, and the context: the
    /// caller renders it to a string or streams it to a file (a listing of every brief is a
    /// few MB).
    Template {
        template: &'static str,
        path: String,
        label: String,
        ctx: tera::Context,
    },
}

/// Everything of [`render`] but the rendering of the template itself (brief pages come back
/// rendered).
pub fn prepare(
    site: &Site,
    templates: &Templates,
    shared: &Shared,
    job: Job,
) -> Result<Prepared, Diagnostic> {
    let mut ctx = tera::Context::new();
    ctx.insert_value("site", shared.site.clone());
    let home_addr = &site.sections[0].address;
    let (template, out, label) = match job {
        Job::Brief(i) => {
            let b = &site.briefs[i];
            let (path, html) = render_brief(site, templates, shared, i, &b.rendered, &b.cited)?;
            return Ok(Prepared::Done { path, html });
        }
        Job::Section(i) => {
            let s = &site.sections[i];
            let mut page = simple_page(
                site,
                if i == 0 { "home" } else { "section" },
                &s.title,
                &s.address,
            );
            page.lang = &s.lang;
            if let Some(summary) = s.summary.as_deref() {
                page.description = summary;
            }
            ctx.insert("page", &page);
            ctx.insert("intro", &s.rendered.html);
            if i == 0 {
                // The home page: the featured brief with its key findings, then every other
                // brief newest first (a translation is reached through its original's switch).
                let feature = featured(site);
                if let Some(f) = feature {
                    ctx.insert(
                        "featured",
                        &Featured {
                            item: item(site, f),
                            key_findings: &site.briefs[f].rendered.key_findings,
                        },
                    );
                } else {
                    ctx.insert("featured", &None::<()>);
                }
                let shown = |b: usize| {
                    let x = &site.briefs[b];
                    Some(b) != feature
                        && (x.lang.eq_ignore_ascii_case(&site.config.language)
                            || !x.translations.iter().any(|&t| {
                                site.briefs[t]
                                    .lang
                                    .eq_ignore_ascii_case(&site.config.language)
                            }))
                        && !(feature.is_some_and(|f| site.briefs[f].translations.contains(&b)))
                };
                ctx.insert_value(
                    "briefs",
                    shared.items((0..site.briefs.len()).filter(|&b| shown(b))),
                );
            } else {
                ctx.insert_value("briefs", shared.items(s.briefs.iter().copied()));
            }
            let subs: Vec<Link> = s
                .subsections
                .iter()
                .map(|&c| Link {
                    title: &site.sections[c].title,
                    url: &site.sections[c].address.url,
                    count: site.sections[c].briefs.len(),
                })
                .collect();
            ctx.insert("sections", &subs);
            let template = if i == 0 { "index.html" } else { "section.html" };
            (
                template,
                output_path(&s.address.path),
                format!("section /{}", s.address.path),
            )
        }
        Job::Tags => {
            ctx.insert(
                "page",
                &simple_page(site, "tags", "Tags", &site.tags_address),
            );
            let tags: Vec<Link> = site
                .tags
                .iter()
                .map(|t| Link {
                    title: &t.name,
                    url: &t.address.url,
                    count: t.briefs.len(),
                })
                .collect();
            ctx.insert("tags", &tags);
            (
                "tags.html",
                output_path(&site.tags_address.path),
                "the tag index".to_string(),
            )
        }
        Job::Tag(i) => {
            let t = &site.tags[i];
            ctx.insert("page", &simple_page(site, "tag", &t.name, &t.address));
            ctx.insert("tag", &t.name);
            ctx.insert_value("briefs", shared.items(t.briefs.iter().copied()));
            (
                "tag.html",
                output_path(&t.address.path),
                format!("tag {}", t.name),
            )
        }
        Job::Sources(p) => {
            let pages = site.sources.len().div_ceil(SOURCES_PER_PAGE).max(1);
            let start = p * SOURCES_PER_PAGE;
            let end = (start + SOURCES_PER_PAGE).min(site.sources.len());
            let claim_counts = shared.source_claims(site);
            // Rows built as template values directly: each shares its reference entry's text
            // instead of copying it.
            let rows: Vec<tera::Value> = (start..end)
                .filter_map(|i| {
                    let e = &site.sources[i];
                    let s = site.bib.at(e.definition)?;
                    let count = |n: usize| tera::Value::from(n as u64);
                    let mut row = tera::Map::default();
                    row.insert("key".into(), e.key.as_str().into());
                    row.insert("title".into(), s.title.as_str().into());
                    row.insert("url".into(), e.address.url.as_str().into());
                    row.insert("kind".into(), s.kind.name().into());
                    row.insert("html".into(), shared.reference(site, i)?.into());
                    row.insert("briefs".into(), count(e.brief_count));
                    row.insert("citations".into(), count(e.citations.len()));
                    row.insert("claims".into(), count(claim_counts[i]));
                    Some(tera::Value::from(row))
                })
                .collect();
            let (addr, title, pager) = paged(
                &site.sources_address,
                "Sources",
                p,
                pages,
                SOURCES_PER_PAGE,
                site.sources.len(),
            );
            let page = simple_page(site, "sources", &title, &addr);
            ctx.insert("page", &page);
            ctx.insert("pager", &pager);
            ctx.insert_value("sources", tera::Value::from(rows));
            (
                "sources.html",
                output_path(&addr.path),
                "the source index".to_string(),
            )
        }
        Job::Source(i) => {
            let e = &site.sources[i];
            let Some(s) = site.bib.at(e.definition) else {
                return Err(Diagnostic::error(format!("source `{}` vanished", e.key)));
            };
            #[derive(Serialize)]
            struct Citing<'a> {
                sentence: &'a str,
                url: String,
                number: usize,
                locators: Vec<&'a str>,
            }
            #[derive(Serialize)]
            struct CitingBrief<'a> {
                title: &'a str,
                url: &'a str,
                lang: &'a str,
                date: String,
                date_display: String,
                citations: Vec<Citing<'a>>,
            }
            let mut cited_in: Vec<CitingBrief> = Vec::new();
            for &(bi, gi) in &e.citations {
                let b = &site.briefs[bi];
                let g = &b.rendered.citations[gi];
                let mut url = String::with_capacity(b.address.url.len() + 12);
                url.push_str(&b.address.url);
                url.push_str("#ref-");
                crate::html::push_uint(&mut url, g.number as u64);
                let citing = Citing {
                    sentence: &g.sentence,
                    url,
                    number: g.number,
                    locators: g
                        .items
                        .iter()
                        .filter(|it| *it.key == *e.key && !it.locator.is_empty())
                        .map(|it| &*it.locator)
                        .collect(),
                };
                match cited_in.last_mut() {
                    Some(last) if last.url == b.address.url => last.citations.push(citing),
                    _ => cited_in.push(CitingBrief {
                        title: &b.meta.title,
                        url: &b.address.url,
                        lang: &b.lang,
                        date: b.meta.date.to_string(),
                        date_display: format_date(b.meta.date, &b.lang),
                        citations: vec![citing],
                    }),
                }
            }
            #[derive(Serialize)]
            struct SourceCtx<'a> {
                key: &'a str,
                title: &'a str,
                kind: &'static str,
                publisher: Option<&'a str>,
                authors: &'a [String],
                date: Option<String>,
                date_display: Option<String>,
                url: Option<&'a str>,
                archived_url: Option<&'a str>,
                accessed: Option<String>,
                note: Option<&'a str>,
                reference: String,
                cited_in: Vec<CitingBrief<'a>>,
            }
            let mut page = simple_page(site, "source", &s.title, &e.address);
            let description = format!("{} and the briefs that cite it", s.title);
            page.description = &description;
            ctx.insert("page", &page);
            ctx.insert(
                "source",
                &SourceCtx {
                    key: &e.key,
                    title: &s.title,
                    kind: s.kind.name(),
                    publisher: s.publisher.as_deref(),
                    authors: &s.authors,
                    date: s.date.map(|d| d.to_string()),
                    date_display: s.date.map(|d| d.display()),
                    url: s.url.as_deref(),
                    archived_url: s.archived_url.as_deref(),
                    accessed: s.accessed.map(|a| format_date(a, "en")),
                    note: s.note.as_deref(),
                    reference: shared.reference(site, i).unwrap_or_default(),
                    cited_in,
                },
            );
            (
                "source.html",
                output_path(&e.address.path),
                format!("source {}", e.key),
            )
        }
        Job::Claims(i) => {
            let index = site.claims();
            let rows_total = index.total;
            let pages = claim_pages(site);
            let start = i * CLAIMS_PER_PAGE;
            let rows = claim_rows_in(site, start..start + CLAIMS_PER_PAGE);
            let home = &site.sections[0].address;
            let first = crate::site::Address {
                path: "claims/".to_string(),
                url: format!("{}claims/", home.url),
                permalink: format!("{}claims/", home.permalink),
            };
            let (addr, title, pager) =
                paged(&first, "Claims", i, pages, CLAIMS_PER_PAGE, rows_total);
            let page = simple_page(site, "claims", &title, &addr);
            ctx.insert("page", &page);
            ctx.insert("claims", &rows);
            ctx.insert("pager", &pager);
            ctx.insert("sourced_count", &index.sourced);
            ctx.insert("unsourced_count", &index.unsourced);
            ctx.insert("json_url", &format!("{}claims.json", home.url));
            ctx.insert("t", &labels(&site.config.language));
            // Not rendered here: the caller streams it (no search index reads it; 1 MB each).
            return Ok(Prepared::Template {
                template: "claims.html",
                path: output_path(&addr.path),
                label: "the claims table".to_string(),
                ctx,
            });
        }
        Job::ClaimsJson => {
            return Ok(Prepared::Done {
                path: CLAIMS_JSON.to_string(),
                html: claims_json(site)?,
            });
        }
        Job::Search => {
            let home = &site.sections[0].address;
            let addr = crate::site::Address {
                path: "search/".to_string(),
                url: format!("{}search/", home.url),
                permalink: format!("{}search/", home.permalink),
            };
            let mut page = simple_page(site, "search", "Search", &addr);
            page.url = &addr.url;
            page.permalink = &addr.permalink;
            ctx.insert("page", &page);
            ctx.insert("t", &labels(&site.config.language));
            let html = templates.render("search.html", &ctx, "the search page")?;
            return Ok(Prepared::Done {
                path: "search/index.html".to_string(),
                html,
            });
        }
        Job::NotFound => {
            let mut page = simple_page(site, "404", "Page not found", home_addr);
            page.permalink = &home_addr.permalink;
            ctx.insert("page", &page);
            ("404.html", "404.html".to_string(), "404.html".to_string())
        }
        Job::Feed => {
            #[derive(Serialize)]
            struct Entry<'a> {
                title: &'a str,
                permalink: &'a str,
                lang: &'a str,
                published: String,
                updated: String,
                summary: &'a str,
                authors: &'a [String],
            }
            let entries: Vec<Entry> = site
                .briefs
                .iter()
                .map(|b| Entry {
                    title: &b.meta.title,
                    permalink: &b.address.permalink,
                    lang: &b.lang,
                    published: rfc3339(b.meta.date),
                    updated: rfc3339(b.meta.updated.unwrap_or(b.meta.date)),
                    summary: description(site, b),
                    authors: &b.meta.authors,
                })
                .collect();
            let updated = site
                .briefs
                .iter()
                .map(|b| b.meta.updated.unwrap_or(b.meta.date))
                .max()
                .map(rfc3339)
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
            ctx.insert(
                "page",
                &simple_page(site, "feed", &site.config.title, home_addr),
            );
            ctx.insert(
                "feed_permalink",
                &format!("{}feed.xml", home_addr.permalink),
            );
            ctx.insert("updated", &updated);
            ctx.insert("entries", &entries);
            ("feed.xml", "feed.xml".to_string(), "feed.xml".to_string())
        }
        Job::Sitemap(k) => {
            let order = shared.sitemap_order(site);
            let from = k * SITEMAP_URLS_PER_FILE;
            let to = (from + SITEMAP_URLS_PER_FILE).min(order.len());
            let urls: Vec<Url> = order[from.min(to)..to]
                .iter()
                .map(|&e| sitemap_url(site, e))
                .collect();
            ctx.insert(
                "page",
                &simple_page(site, "sitemap", &site.config.title, home_addr),
            );
            ctx.insert("urls", &urls);
            let file = sitemap_file(site, k);
            ("sitemap.xml", file.clone(), file)
        }
        Job::SitemapIndex => {
            let sitemaps: Vec<String> = (0..sitemap_files(site))
                .map(|k| format!("{}{}", home_addr.permalink, sitemap_file(site, k)))
                .collect();
            ctx.insert(
                "page",
                &simple_page(site, "sitemap", &site.config.title, home_addr),
            );
            ctx.insert("sitemaps", &sitemaps);
            (
                "split_sitemap_index.xml",
                "sitemap.xml".to_string(),
                "sitemap.xml".to_string(),
            )
        }
        Job::Robots => {
            ctx.insert(
                "page",
                &simple_page(site, "robots", &site.config.title, home_addr),
            );
            ctx.insert(
                "sitemap_url",
                &format!("{}sitemap.xml", home_addr.permalink),
            );
            (
                "robots.txt",
                "robots.txt".to_string(),
                "robots.txt".to_string(),
            )
        }
    };
    // (Brief pages returned above, from `render_brief`.)
    let lang = match job {
        Job::Section(i) => site.sections[i].lang.as_str(),
        _ => site.config.language.as_str(),
    };
    ctx.insert_value("t", shared.labels(lang));
    Ok(Prepared::Template {
        template,
        path: out,
        label,
        ctx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::detect::{Kind, Value};
    use crate::markdown::ClaimStatus;

    /// The hand-written rows are what serde_json's pretty printer writes for them: strings with
    /// quotes, backslashes, control characters and non-ASCII text, ranges, numbers that are not
    /// finite, and rows with no, one and two sources.
    #[test]
    fn claim_rows_are_written_as_serde_json_pretty_prints_them() {
        let source = |key: &'static str, title: &'static str, locator| ClaimSource {
            key,
            title,
            url: match key {
                "bis2023" => "/sources/bis2023/",
                "a" => "/sources/a/",
                _ => "/sources/b/",
            },
            locator,
        };
        let row = |text, value, sentence, status, sources| ClaimRow {
            brief: "Chips \"and\" export\\controls",
            brief_url: "/briefs/chips/",
            permalink: "https://example.org/briefs/chips/#claim-1".to_string(),
            lang: "zh-Hant",
            id: "claim-1".to_string(),
            text,
            kind: Kind::Money,
            value,
            unit: "USD",
            sentence,
            status,
            sources,
        };
        let rows = [
            row(
                "$83 billion",
                Value::One(83e9),
                "Sales fell to $83 billion.",
                ClaimStatus::Sourced,
                vec![source("bis2023", "Annual report", "p. 4")],
            ),
            row(
                "830億美元",
                Value::Range(0.744, 1.0e-7),
                "營收\t830億美元\n（新台幣）\u{1}\u{1f}",
                ClaimStatus::Unsourced,
                vec![],
            ),
            row(
                "24 times",
                Value::One(f64::NAN),
                "",
                ClaimStatus::NotClaim,
                vec![
                    source("a", "Title with \"quotes\"", ""),
                    source("b", "Back\\slash\r\u{8}\u{c}", "pp. 1–2"),
                ],
            ),
        ];
        for n in 0..=rows.len() {
            let mut ours = Vec::new();
            rows_json(&rows[..n], &mut ours).unwrap();
            let mut theirs = serde_json::to_vec_pretty(&rows[..n]).unwrap();
            if n > 0 {
                theirs.truncate(theirs.len() - 2);
                theirs.drain(..2);
            } else {
                theirs.clear();
            }
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "{n} rows"
            );
        }
    }
}
