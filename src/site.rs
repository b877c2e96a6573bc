//! Assemble stage: loaded briefs and section indexes into the read-only [`Site`].
//!
//! In: the config and each file's parsed front matter. Out: every page's URL (pretty URLs,
//! `slug` overrides, collisions refused), sections from folders, tags, translation groups
//! (hreflang), and the newest-first order, all sorted with path tie-breaks so the output is
//! deterministic. Bodies are rendered separately (`markdown`) with the link targets this stage
//! computes ([`Plan::link_targets`]); [`check_anchors`] then verifies `#anchor`s across pages.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::SiteConfig;
use crate::diagnostics::{Diagnostic, SourceText};
use crate::front_matter::{BriefMeta, SectionMeta};
use crate::markdown::{Heading, LinkTarget, Rendered};
use crate::urls::{is_valid_slug, permalink_for, slugify, to_slash, url_for};

/// A brief after loading: file, front matter, body range.
#[derive(Debug)]
pub struct LoadedBrief {
    pub file: Arc<SourceText>,
    /// Content-relative path (`briefs/chip.md`).
    pub rel: PathBuf,
    pub meta: BriefMeta,
    pub body: Range<usize>,
    /// Sources defined in the brief's own front matter.
    pub sources: Vec<crate::sources::Definition>,
    /// `claims:` bindings and `not_claims:`.
    pub rules: crate::claims::bindings::ClaimRules,
    /// Source keys the body seems to cite, read from its raw text when the load let the body
    /// go (see [`Brief::body_text`]); empty otherwise.
    pub cited: Vec<String>,
}

/// An `_index.md` after loading.
#[derive(Debug)]
pub struct LoadedSection {
    pub file: Arc<SourceText>,
    pub rel: PathBuf,
    pub meta: SectionMeta,
    pub body: Range<usize>,
}

/// A page address: site-relative path, root-relative URL and absolute permalink.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Address {
    pub path: String,
    pub url: String,
    pub permalink: String,
}

impl Address {
    fn new(config: &SiteConfig, path: String) -> Self {
        Address {
            url: url_for(&config.base_url, &path),
            permalink: permalink_for(&config.base_url, &path),
            path,
        }
    }
}

/// A brief with its address and place in the site.
#[derive(Debug)]
pub struct Brief {
    pub file: Arc<SourceText>,
    /// Content-relative path with `/` (`briefs/chip.md`), the brief's identity.
    pub key: String,
    pub meta: BriefMeta,
    pub lang: String,
    pub address: Address,
    pub body: Range<usize>,
    pub rendered: Rendered,
    /// Index into [`Site::sections`] of the folder holding the brief.
    pub section: usize,
    /// Indexes of the other briefs in its translation group, sorted by language.
    pub translations: Vec<usize>,
    /// Indexes into [`Site::tags`].
    pub tags: Vec<usize>,
    /// Other briefs sharing sources or tags, the strongest first.
    pub related: Vec<usize>,
    /// This brief's records in `claims.json`, kept between `serve`'s rebuilds (see
    /// [`Site::keep_fragments`]); reset when the brief is re-rendered.
    pub claims_json: std::sync::OnceLock<String>,
    /// Sources defined in the brief's own front matter.
    pub sources: Vec<crate::sources::Definition>,
    /// Keys of the sources the brief cites, in order of first citation.
    pub cited: Vec<String>,
    pub rules: crate::claims::bindings::ClaimRules,
}

/// A source and every place the site cites it.
#[derive(Debug)]
pub struct SourceEntry {
    pub key: String,
    pub address: Address,
    /// (brief index, citation group index), briefs newest first, then in note order.
    pub citations: Vec<(usize, usize)>,
    /// How many distinct briefs cite it.
    pub brief_count: usize,
    /// Where its definition is in the site's bibliography ([`Bibliography::at`]): pages
    /// reach it without hashing the key (45,000 sources on a 10,000-brief site).
    ///
    /// [`Bibliography::at`]: crate::sources::Bibliography::at
    pub definition: usize,
}

/// A folder of content: the home page (key ``) or a section page.
#[derive(Debug)]
pub struct Section {
    /// Content-relative folder with `/` (`briefs`), `` for the root.
    pub key: String,
    pub title: String,
    pub summary: Option<String>,
    pub lang: String,
    pub weight: Option<i64>,
    pub address: Address,
    pub index_file: Option<(Arc<SourceText>, Range<usize>)>,
    pub rendered: Rendered,
    pub parent: Option<usize>,
    /// Briefs directly in this folder, in listing order.
    pub briefs: Vec<usize>,
    pub subsections: Vec<usize>,
}

/// A tag and the briefs carrying it (newest first).
#[derive(Debug)]
pub struct Tag {
    pub name: String,
    pub slug: String,
    pub address: Address,
    pub briefs: Vec<usize>,
}

/// Where the claims of the site's briefs stand in one list (briefs in site order), and how
/// many are sourced.
#[derive(Debug, Default)]
pub struct ClaimIndex {
    /// For each brief, the position of its first claim.
    pub start: Vec<usize>,
    pub total: usize,
    pub sourced: usize,
    pub unsourced: usize,
}

impl ClaimIndex {
    pub fn of(briefs: &[Brief]) -> ClaimIndex {
        use crate::markdown::ClaimStatus;
        let mut index = ClaimIndex::default();
        for b in briefs {
            index.start.push(index.total);
            index.total += b.rendered.claims.len();
            for c in &b.rendered.claims {
                match c.status {
                    ClaimStatus::Sourced => index.sourced += 1,
                    ClaimStatus::Unsourced => index.unsourced += 1,
                    _ => {}
                }
            }
        }
        index
    }
}

impl Brief {
    /// Whether [`Brief::file`] still holds the body (a one-off build keeps only the front
    /// matter from loading to the body's parse; see [`Brief::body_text`]).
    pub fn has_body(&self) -> bool {
        self.file.text.len() >= self.body.end
    }

    /// The brief's whole text and its body's range: the text loaded, or, if the load kept only
    /// the front matter, the file read again ([`read_body`]).
    pub fn body_text(
        &self,
        root: &std::path::Path,
    ) -> Result<(Arc<SourceText>, Range<usize>), Diagnostic> {
        if self.has_body() {
            return Ok((self.file.clone(), self.body.clone()));
        }
        read_body(root, &self.key, &self.file, self.body.start)
    }
}

/// Brief `key` (content-relative) read again for its body, of which `front` holds what the
/// load read before byte `body_start` (the front matter). Refused if that part is no longer
/// the same: everything about the brief but its body was decided from it.
pub fn read_body(
    root: &std::path::Path,
    key: &str,
    front: &SourceText,
    body_start: usize,
) -> Result<(Arc<SourceText>, Range<usize>), Diagnostic> {
    let file = crate::discover::read_text(root, &root.join("content").join(key))?;
    if file.text.as_bytes().get(..body_start) != front.text.as_bytes().get(..body_start) {
        return Err(changed_while_building(&front.display_path));
    }
    let body = body_start..file.text.len();
    Ok((file, body))
}

/// The error for a file that changed between two reads of one build.
pub fn changed_while_building(path: &Path) -> Diagnostic {
    Diagnostic::error(format!(
        "{} changed while the site was being built",
        path.display()
    ))
    .in_file(path)
    .hint("build again")
}

impl Site {
    pub fn claims(&self) -> &ClaimIndex {
        self.claim_index
            .get_or_init(|| ClaimIndex::of(&self.briefs))
    }
}

/// The whole site, read-only once assembled.
#[derive(Debug)]
pub struct Site {
    pub config: SiteConfig,
    /// Newest first (then by path).
    pub briefs: Vec<Brief>,
    /// Index 0 is the root (home page).
    pub sections: Vec<Section>,
    /// Sorted by slug.
    pub tags: Vec<Tag>,
    pub tags_address: Address,
    /// Content assets: (output path, file on disk).
    pub assets: Vec<(String, PathBuf)>,
    /// Every source of the site.
    pub bib: crate::sources::Bibliography,
    /// One entry per source, sorted by title (then key).
    pub sources: Vec<SourceEntry>,
    /// Position of each source key in `sources`.
    pub source_index: std::collections::HashMap<String, usize, crate::FastHasher>,
    /// Claim counts, filled on first use; reset whenever a brief is re-rendered.
    pub claim_index: std::sync::OnceLock<ClaimIndex>,
    /// Keep each brief's rendered fragments of shared pages (`serve`, which re-renders a
    /// brief at a time); a one-off build does not hold them.
    pub keep_fragments: bool,
    pub sources_address: Address,
    /// What each content `.md` (or asset) path became, for link rewriting.
    pub link_targets: BTreeMap<String, LinkTarget>,
    /// Definitions from content/sources.* (kept so a rebuild can redo the bibliography).
    pub site_wide_defs: Vec<crate::sources::Definition>,
    /// Diagnostics of the load stage not tied to one brief's body (kept for rebuilds).
    pub load_diags: Vec<Diagnostic>,
    /// What attaching sources reported (unused definitions), kept for rebuilds.
    pub attach_diags: Vec<Diagnostic>,
}

/// URLs decided, bodies not yet rendered.
pub struct Plan {
    pub site: Site,
    /// What each content `.md` path became, for link rewriting.
    pub link_targets: BTreeMap<String, LinkTarget>,
}

/// Paths generated by the build itself; no brief or section may take them.
const RESERVED: &[&str] = &[
    "tags",
    "sources",
    "claims",
    "claims.json",
    "search",
    "pagefind",
    "404.html",
    "sitemap.xml",
    "feed.xml",
    "robots.txt",
];

fn folder_key(rel: &Path) -> String {
    rel.parent().map(to_slash).unwrap_or_default()
}

/// A path as compared for collisions: Unicode-normalised (`Café` in NFD and in NFC are one
/// URL) and case-folded.
fn fold_path(path: &str) -> String {
    unicode_normalization::UnicodeNormalization::nfc(path)
        .collect::<String>()
        .to_lowercase()
}

/// A brief's output path in the section at `section_path`: its `slug` or its file name as a
/// URL segment, or what is wrong with either.
fn brief_path(b: &LoadedBrief, section_path: &str) -> Result<String, Diagnostic> {
    let stem = b
        .rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let last = match &b.meta.slug {
        Some(slug) => {
            if !is_valid_slug(slug) {
                let span = b.meta.keys.value_span(&b.file.text, "slug").unwrap_or(0..0);
                let suggestion = slugify(slug);
                let d = Diagnostic::error(format!("`slug: {slug}` is not a valid URL segment"))
                    .at(&b.file, span);
                return Err(if suggestion.is_empty() {
                    d.hint("use letters, digits, `-`, `_` and `.`, without `/` or `..`")
                } else {
                    d.hint(format!("use letters, digits, `-`, `_` and `.` without `/` or `..`, e.g. `slug: {suggestion}`"))
                });
            }
            slug.clone()
        }
        None => {
            let s = slugify(&stem);
            if s.is_empty() {
                return Err(
                    Diagnostic::error(format!("file name `{stem}.md` gives an empty URL"))
                        .at(&b.file, 0..0)
                        .hint("rename the file, or set `slug:` in its front matter"),
                );
            }
            s
        }
    };
    Ok(format!("{section_path}{last}/"))
}

/// `items` in the `order` of their indexes (each moved once; an index given twice or out of
/// range is skipped).
fn in_order<T>(items: Vec<T>, order: &[usize]) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| slots.get_mut(i)?.take())
        .collect()
}

/// Slugified folder path of a content-relative folder key, with a trailing `/`.
fn folder_path(key: &str) -> Result<String, String> {
    let mut out = String::new();
    for seg in key.split('/').filter(|s| !s.is_empty()) {
        let s = slugify(seg);
        if s.is_empty() {
            return Err(seg.to_string());
        }
        out.push_str(&s);
        out.push('/');
    }
    Ok(out)
}

fn sort_listing(briefs: &[Brief], ids: &mut [usize]) {
    ids.sort_by(|&a, &b| {
        let (x, y) = (&briefs[a], &briefs[b]);
        let wx = x.meta.weight.unwrap_or(i64::MAX);
        let wy = y.meta.weight.unwrap_or(i64::MAX);
        wx.cmp(&wy)
            .then(y.meta.date.cmp(&x.meta.date))
            .then(x.key.cmp(&y.key))
    });
}

fn humanise(folder: &str) -> String {
    let last = folder.rsplit('/').next().unwrap_or(folder);
    let mut s: String = last.replace(['-', '_'], " ");
    if let Some(first) = s.chars().next() {
        let upper: String = first.to_uppercase().collect();
        s.replace_range(..first.len_utf8(), &upper);
    }
    s
}

/// Decides every page's URL and the site's structure.
pub fn plan(
    config: SiteConfig,
    mut loaded: Vec<LoadedBrief>,
    loaded_sections: Vec<LoadedSection>,
    asset_files: &[crate::discover::Entry],
    drafts: bool,
) -> (Plan, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut link_targets = BTreeMap::new();

    // Drafts leave the build unless asked for; links to them are reported by `markdown`.
    loaded.retain(|b| {
        if b.meta.draft && !drafts {
            link_targets.insert(to_slash(&b.rel), LinkTarget::Draft);
            false
        } else {
            true
        }
    });
    // Newest first, then by path: the order of the home page and the feed. Their places are
    // sorted, then the briefs moved once (a loaded brief is large to move at each step).
    let mut order: Vec<usize> = (0..loaded.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&loaded[a], &loaded[b]);
        b.meta
            .date
            .cmp(&a.meta.date)
            .then_with(|| crate::urls::path_order(&a.rel, &b.rel))
    });
    let loaded = in_order(loaded, &order);

    // Sections: the root, every folder with an _index.md, and every folder holding a brief.
    let mut folder_keys: BTreeSet<String> = BTreeSet::new();
    folder_keys.insert(String::new());
    let mut add_folder = |key: &str| {
        let mut acc = String::new();
        for seg in key.split('/').filter(|s| !s.is_empty()) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(seg);
            folder_keys.insert(acc.clone());
        }
    };
    for b in &loaded {
        add_folder(&folder_key(&b.rel));
    }
    for s in &loaded_sections {
        add_folder(&folder_key(&s.rel));
    }
    let mut index_by_folder: BTreeMap<String, LoadedSection> = loaded_sections
        .into_iter()
        .map(|s| (folder_key(&s.rel), s))
        .collect();

    // Who owns each output path, for collision reports.
    let mut owners: BTreeMap<String, (Arc<SourceText>, Range<usize>, String)> = BTreeMap::new();
    let mut claim_path = |path: &str,
                          folded: String,
                          file: &Arc<SourceText>,
                          span: Range<usize>,
                          what: &str,
                          diags: &mut Vec<Diagnostic>|
     -> bool {
        let first_seg = path.split('/').next().unwrap_or("");
        if RESERVED.contains(&first_seg) {
            diags.push(
                Diagnostic::error(format!(
                    "{what} would be published at /{path}, which the site itself uses"
                ))
                .at(file, span)
                .hint("rename the file or set a different `slug`"),
            );
            return false;
        }
        if let Some((other, _, other_what)) = owners.get(&folded) {
            diags.push(
                Diagnostic::error(format!(
                    "{what} and {other_what} ({}) would both be published at /{path}",
                    other.display_path.display()
                ))
                .at(file, span)
                .hint("rename one of the files or give one a different `slug`"),
            );
            return false;
        }
        owners.insert(folded, (Arc::clone(file), span, what.to_string()));
        true
    };

    let mut sections: Vec<Section> = Vec::new();
    let mut section_index: BTreeMap<String, usize> = BTreeMap::new();
    for key in &folder_keys {
        let index = index_by_folder.remove(key);
        let path = match folder_path(key) {
            Ok(p) => p,
            Err(seg) => {
                let d =
                    Diagnostic::error(format!("folder name `{seg}` gives an empty URL segment"))
                        .in_file(format!("content/{key}"))
                        .hint("rename the folder to contain letters or digits");
                diags.push(d);
                continue;
            }
        };
        if let Some(ix) = &index
            && !key.is_empty()
        {
            claim_path(
                &path,
                fold_path(&path),
                &ix.file,
                0..0,
                "this section",
                &mut diags,
            );
        }
        let meta = index.as_ref().map(|i| i.meta.clone()).unwrap_or_default();
        let title = meta.title.clone().unwrap_or_else(|| {
            if key.is_empty() {
                config.title.clone()
            } else {
                humanise(key)
            }
        });
        let parent = if key.is_empty() {
            None
        } else {
            let parent_key = key
                .rsplit_once('/')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default();
            section_index.get(&parent_key).copied()
        };
        let idx = sections.len();
        if let Some(p) = parent {
            sections[p].subsections.push(idx);
        }
        if let Some(ix) = &index {
            link_targets.insert(
                to_slash(&ix.rel),
                LinkTarget::Page(url_for(&config.base_url, &path)),
            );
        }
        section_index.insert(key.clone(), idx);
        sections.push(Section {
            key: key.clone(),
            title,
            summary: meta.summary.clone(),
            lang: meta.lang.clone().unwrap_or_else(|| config.language.clone()),
            weight: meta.weight,
            address: Address::new(&config, path),
            index_file: index.map(|i| (i.file, i.body)),
            rendered: Rendered::default(),
            parent,
            briefs: Vec::new(),
            subsections: Vec::new(),
        });
    }

    // Each brief's place, in parallel: its URL segment (or what is wrong with it), path and
    // address. Paths are then claimed in order, so a collision names the same two files.
    type Place = Option<Result<(usize, String, Address), Diagnostic>>;
    let placed: Vec<Place> = {
        use rayon::prelude::*;
        loaded
            .par_iter()
            .map(|b| {
                let &section = section_index.get(&folder_key(&b.rel))?;
                Some(brief_path(b, &sections[section].address.path).map(|path| {
                    let folded = fold_path(&path);
                    (section, folded, Address::new(&config, path))
                }))
            })
            .collect()
    };
    let mut briefs: Vec<Brief> = Vec::with_capacity(loaded.len());
    for (b, placed) in loaded.into_iter().zip(placed) {
        let (section, folded, address) = match placed {
            None => continue,
            Some(Err(d)) => {
                diags.push(d);
                continue;
            }
            Some(Ok(p)) => p,
        };
        let key = to_slash(&b.rel);
        let span = b.meta.keys.value_span(&b.file.text, "slug").unwrap_or(0..0);
        if !claim_path(
            &address.path,
            folded,
            &b.file,
            span,
            "this brief",
            &mut diags,
        ) {
            continue;
        }
        link_targets.insert(key.clone(), LinkTarget::Page(address.url.clone()));
        let lang = b
            .meta
            .lang
            .clone()
            .unwrap_or_else(|| config.language.clone());
        briefs.push(Brief {
            file: b.file,
            key,
            meta: b.meta,
            lang,
            address,
            body: b.body,
            rendered: Rendered::default(),
            section,
            translations: Vec::new(),
            tags: Vec::new(),
            related: Vec::new(),
            claims_json: Default::default(),
            cited: b.cited,
            rules: b.rules,
            sources: b.sources,
        });
    }

    // Sections list their own briefs.
    for (i, b) in briefs.iter().enumerate() {
        sections[b.section].briefs.push(i);
    }
    for s in &mut sections {
        sort_listing(&briefs, &mut s.briefs);
    }
    for s in 0..sections.len() {
        let mut subs = std::mem::take(&mut sections[s].subsections);
        subs.sort_by(|&a, &b| {
            let (x, y) = (&sections[a], &sections[b]);
            x.weight
                .unwrap_or(i64::MAX)
                .cmp(&y.weight.unwrap_or(i64::MAX))
                .then(x.key.cmp(&y.key))
        });
        sections[s].subsections = subs;
    }

    // Translation groups.
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, b) in briefs.iter().enumerate() {
        if let Some(k) = &b.meta.translation_key {
            groups.entry(k.as_str()).or_default().push(i);
        }
    }
    let mut translations: Vec<Vec<usize>> = vec![Vec::new(); briefs.len()];
    for members in groups.values() {
        let mut by_lang: BTreeMap<String, usize> = BTreeMap::new();
        for &m in members {
            let lang = briefs[m].lang.to_lowercase();
            if let Some(&other) = by_lang.get(&lang) {
                let b = &briefs[m];
                let span = b
                    .meta
                    .keys
                    .value_span(&b.file.text, "translation_key")
                    .unwrap_or(0..0);
                diags.push(
                    Diagnostic::error(format!(
                        "two briefs in translation group `{}` have language `{}` ({} and {})",
                        b.meta.translation_key.as_deref().unwrap_or(""),
                        b.lang,
                        briefs[other].file.display_path.display(),
                        b.file.display_path.display()
                    ))
                    .at(&b.file, span)
                    .hint("each translation needs its own `lang`; set `lang:` on the translated brief"),
                );
                continue;
            }
            by_lang.insert(lang, m);
        }
        for &m in members {
            let mut others: Vec<usize> = by_lang.values().copied().filter(|&o| o != m).collect();
            others.sort_by(|&a, &b| briefs[a].lang.cmp(&briefs[b].lang));
            translations[m] = others;
        }
    }
    for (b, t) in briefs.iter_mut().zip(translations) {
        b.translations = t;
    }

    // Tags, merged by slug (so `AI` and `ai` are one tag).
    let slugs: Vec<Vec<String>> = {
        use rayon::prelude::*;
        briefs
            .par_iter()
            .map(|b| b.meta.tags.iter().map(|name| slugify(name)).collect())
            .collect()
    };
    let mut tag_map: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    for (i, (b, slugs)) in briefs.iter().zip(slugs).enumerate() {
        for (name, slug) in b.meta.tags.iter().zip(slugs) {
            if slug.is_empty() {
                let span = b.meta.keys.value_span(&b.file.text, "tags").unwrap_or(0..0);
                diags.push(
                    Diagnostic::error(format!("tag `{name}` has no letters or digits"))
                        .at(&b.file, span)
                        .hint("use a tag made of words"),
                );
                continue;
            }
            let entry = tag_map
                .entry(slug)
                .or_insert_with(|| (name.clone(), Vec::new()));
            if entry.1.last() != Some(&i) {
                entry.1.push(i);
            }
        }
    }
    let mut tags = Vec::new();
    for (slug, (name, members)) in tag_map {
        let idx = tags.len();
        for &m in &members {
            briefs[m].tags.push(idx);
        }
        tags.push(Tag {
            address: Address::new(&config, format!("tags/{slug}/")),
            name,
            slug,
            briefs: members,
        });
    }
    let tags_address = Address::new(&config, "tags/".to_string());
    let config_for_sources = config.clone();

    // Assets land in their folder's (slugified) path, under their own file name.
    let mut assets = Vec::new();
    for a in asset_files {
        let folder = folder_key(&a.rel);
        let base = section_index
            .get(&folder)
            .map(|&s| sections[s].address.path.clone())
            .or_else(|| folder_path(&folder).ok())
            .unwrap_or_default();
        let name = a
            .rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = format!("{base}{name}");
        link_targets.insert(
            to_slash(&a.rel),
            LinkTarget::Asset(url_for(&config.base_url, &out)),
        );
        assets.push((out, a.abs.clone()));
    }
    (
        Plan {
            site: Site {
                config,
                briefs,
                sections,
                tags,
                tags_address,
                assets,
                bib: crate::sources::Bibliography::default(),
                sources: Vec::new(),
                link_targets: BTreeMap::new(),
                site_wide_defs: Vec::new(),
                load_diags: Vec::new(),
                attach_diags: Vec::new(),
                source_index: Default::default(),
                claim_index: Default::default(),
                keep_fragments: false,
                sources_address: Address::new(&config_for_sources, "sources/".to_string()),
            },
            link_targets,
        },
        diags,
    )
}

/// Checks every `#anchor` a body links to against the target page's heading ids.
pub fn check_anchors(site: &Site) -> Vec<Diagnostic> {
    let mut ids: BTreeMap<&str, (&Vec<Heading>, &str)> = BTreeMap::new();
    for b in &site.briefs {
        ids.insert(
            b.key.as_str(),
            (
                &b.rendered.headings,
                b.file.display_path.to_str().unwrap_or(""),
            ),
        );
    }
    let mut index_keys: Vec<(String, &Section)> = Vec::new();
    for s in &site.sections {
        if let Some((file, _)) = &s.index_file {
            let key = to_slash(
                file.display_path
                    .strip_prefix("content")
                    .unwrap_or(&file.display_path),
            );
            index_keys.push((key, s));
        }
    }
    for (key, s) in &index_keys {
        ids.insert(key.as_str(), (&s.rendered.headings, ""));
    }
    let mut diags = Vec::new();
    let bodies = site.briefs.iter().map(|b| (&b.file, &b.rendered)).chain(
        site.sections
            .iter()
            .filter_map(|s| s.index_file.as_ref().map(|(f, _)| (f, &s.rendered))),
    );
    for (file, rendered) in bodies {
        for r in &rendered.anchor_refs {
            let Some((headings, _)) = ids.get(r.target.as_str()) else {
                continue;
            };
            if headings.iter().any(|h| h.id == r.anchor) {
                continue;
            }
            let known: Vec<&str> = headings.iter().map(|h| h.id.as_str()).collect();
            let mut d = Diagnostic::error(format!(
                "anchor `#{}` does not exist in content/{}",
                r.anchor, r.target
            ))
            .at(file, r.range.clone());
            d = match crate::diagnostics::did_you_mean(&r.anchor, known.iter().copied()) {
                Some(s) => d.hint(format!("did you mean `#{s}`?")),
                None if known.is_empty() => {
                    d.hint("that page has no headings; link to the page without `#...`")
                }
                None => d.hint(format!(
                    "headings there: {}",
                    known
                        .iter()
                        .map(|k| format!("#{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            diags.push(d);
        }
    }
    diags
}

/// The keys of the sources a body cites, in order of first citation, then those its
/// front-matter bindings name.
pub fn cited_keys(r: &Rendered, rules: &crate::claims::bindings::ClaimRules) -> Vec<String> {
    let mut cited: Vec<String> = Vec::new();
    for item in r.citations.iter().flat_map(|g| &g.items) {
        if !cited.iter().any(|k| **k == *item.key) {
            cited.push(item.key.to_string());
        }
    }
    // Sources named by front-matter bindings are used too.
    for binding in &rules.bindings {
        if !cited.contains(&binding.source) {
            cited.push(binding.source.clone());
        }
    }
    cited
}

/// What [`attach_sources`] may assume of the sources already in the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// Placed by [`place_sources`] from the same bibliography: their order (by title) stands.
    FromThisBibliography,
    /// None yet, or placed from another bibliography (a title may have changed): sorted again.
    Unknown,
}

/// Links sources to the briefs that cite them: each brief's cited keys, each source's citing
/// places, and a warning for every definition nothing cites (an error under `--strict`).
pub fn attach_sources(
    site: &mut Site,
    bib: crate::sources::Bibliography,
    placed_from: Placed,
) -> Vec<Diagnostic> {
    use crate::sources::Origin;
    use rayon::prelude::*;
    use std::collections::HashMap;
    site.briefs
        .par_iter_mut()
        .for_each(|b| b.cited = cited_keys(&b.rendered, &b.rules));
    // A source's number is its place in the bibliography (its keys in order).
    let index = |key: &str| bib.sources.get_index_of(key);
    // For each brief, in parallel: each citation group's sources (each once per group) and
    // the sources the brief uses (citations and bindings; `cited` has no repeats).
    type Uses = (Vec<(usize, usize)>, Vec<usize>);
    let per_brief: Vec<Uses> = site
        .briefs
        .par_iter()
        .map(|b| {
            let mut cites = Vec::new();
            let mut in_group: Vec<usize> = Vec::new();
            for (gi, g) in b.rendered.citations.iter().enumerate() {
                in_group.clear();
                for item in &g.items {
                    if let Some(s) = index(&item.key)
                        && !in_group.contains(&s)
                    {
                        in_group.push(s);
                        cites.push((s, gi));
                    }
                }
            }
            let used = b.cited.iter().filter_map(|k| index(k)).collect();
            (cites, used)
        })
        .collect();
    // Each source's citing places and users, briefs in site order.
    let n = bib.sources.len();
    let mut citations: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (bi, (cites, used)) in per_brief.into_iter().enumerate() {
        for (s, gi) in cites {
            citations[s].push((bi, gi));
        }
        for s in used {
            users[s].push(bi);
        }
    }
    let by_path: HashMap<&str, usize, crate::FastHasher> = site
        .briefs
        .iter()
        .enumerate()
        .map(|(i, b)| (b.key.as_str(), i))
        .collect();
    let defs: Vec<&crate::sources::Definition> = bib.sources.values().chain(&bib.repeats).collect();
    let diags: Vec<Diagnostic> = defs
        .par_iter()
        .enumerate()
        .filter_map(|(d, def)| {
            let key = &def.source.key;
            // The first `n` are the bibliography's own, in its order; then the repeats.
            let s = if d < n { Some(d) } else { index(key) };
            let users = s.map_or(&[][..], |s| &users[s][..]);
            let (used, place) = match &def.origin {
                Origin::SiteWide => (!users.is_empty(), "no brief cites it"),
                Origin::Brief(path) => (
                    by_path
                        .get(path.as_str())
                        .is_some_and(|i| users.binary_search(i).is_ok()),
                    "this brief never cites it",
                ),
            };
            (!used).then(|| {
                Diagnostic::warning(format!("source `{key}` is defined but {place}"))
                    .at_location(def.at.clone())
                    .hint(format!("cite it with `[@{key}]` where the brief relies on it, or remove the definition"))
            })
        })
        .collect();
    // Sources already placed (by `place_sources` or an earlier run) keep their addresses (URL
    // joins are not free) and, when placed from this very bibliography, their order.
    let placed = std::mem::take(&mut site.sources);
    let mut order: Vec<usize> = Vec::with_capacity(placed.len());
    let mut addresses: Vec<Option<Address>> = vec![None; n];
    for e in placed {
        // Placed from this bibliography, an entry knows its number already.
        let known = bib
            .sources
            .get_index(e.definition)
            .is_some_and(|(k, _)| *k == e.key);
        let number = if known {
            Some(e.definition)
        } else {
            index(&e.key)
        };
        if let Some(i) = number {
            order.push(i);
            addresses[i] = Some(e.address);
        }
    }
    let same = placed_from == Placed::FromThisBibliography
        && order.len() == n
        && addresses.iter().all(Option::is_some);
    let mut entries: Vec<SourceEntry> = addresses
        .into_par_iter()
        .zip(citations)
        .zip(&users)
        .enumerate()
        .map(|(i, ((address, citations), users))| {
            let key = bib.sources.get_index(i).map_or("", |(k, _)| k.as_str());
            SourceEntry {
                address: address
                    .unwrap_or_else(|| Address::new(&site.config, format!("sources/{key}/"))),
                key: key.to_string(),
                brief_count: users.len(),
                citations,
                definition: i,
            }
        })
        .collect();
    drop((users, by_path, defs));
    if same {
        // In the order they were placed in: the order `set_sources` would sort them into.
        entries = in_order(entries, &order);
        install_sources(site, bib, entries);
    } else {
        set_sources(site, bib, entries);
    }
    diags
}

/// Gives every source its entry (address, place in the source index) with nothing cited yet:
/// what a brief page needs of the sources before every body is parsed. [`attach_sources`]
/// then fills in the citing places, keeping these addresses and this order.
pub fn place_sources(site: &mut Site, bib: crate::sources::Bibliography) {
    use rayon::prelude::*;
    let keys: Vec<&String> = bib.sources.keys().collect();
    let entries: Vec<SourceEntry> = keys
        .par_iter()
        .map(|key| SourceEntry {
            address: Address::new(&site.config, format!("sources/{key}/")),
            key: key.to_string(),
            brief_count: 0,
            citations: Vec::new(),
            definition: usize::MAX,
        })
        .collect();
    drop(keys);
    set_sources(site, bib, entries);
}

/// Sorts source entries by title (then key) and installs them with their bibliography.
fn set_sources(site: &mut Site, bib: crate::sources::Bibliography, mut entries: Vec<SourceEntry>) {
    use rayon::iter::{IntoParallelRefMutIterator, ParallelIterator};
    use rayon::slice::ParallelSliceMut;
    entries.par_iter_mut().for_each(|e| {
        e.definition = bib.sources.get_index_of(&e.key).unwrap_or(usize::MAX);
    });
    entries.par_sort_by_cached_key(|e| {
        let title = bib
            .at(e.definition)
            .map(|s| s.title.to_lowercase())
            .unwrap_or_default();
        (title, e.key.clone())
    });
    install_sources(site, bib, entries);
}

/// Installs source entries, in the order given, with their bibliography.
fn install_sources(site: &mut Site, bib: crate::sources::Bibliography, entries: Vec<SourceEntry>) {
    site.source_index = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.clone(), i))
        .collect();
    site.sources = entries;
    site.bib = bib;
}

/// How many related briefs a brief lists.
const RELATED: usize = 5;

/// For tags: how many briefs before and after a brief (in site order, newest first) on each
/// of its tags are scored.
const TAG_WINDOW: usize = 200;

/// Related briefs: others sharing sources (2 points each) or tags (1 point each, among the
/// [`TAG_WINDOW`] nearest briefs on that tag either side), not the brief's own translations;
/// at most five, the strongest first, then newest.
pub fn relate(site: &mut Site) {
    let n = site.briefs.len();
    // Hashed, not sorted: keys such as `imf2014-00002` share long prefixes, and only lookups
    // are made (each list is in brief order either way).
    let mut by_source: std::collections::HashMap<&str, Vec<usize>, crate::FastHasher> =
        Default::default();
    for (i, b) in site.briefs.iter().enumerate() {
        for k in &b.cited {
            by_source.entry(k.as_str()).or_default().push(i);
        }
    }
    // Per worker: one score slot per brief, reset through the list of slots touched.
    struct Scratch {
        score: Vec<usize>,
        touched: Vec<usize>,
        ranked: Vec<(usize, usize)>,
    }
    let related: Vec<Vec<usize>> = {
        use rayon::prelude::*;
        let site = &*site;
        let by_source = &by_source;
        site.briefs
            .par_iter()
            .enumerate()
            .map_init(
                || Scratch {
                    score: vec![0usize; n],
                    touched: Vec::new(),
                    ranked: Vec::new(),
                },
                |Scratch {
                     score,
                     touched,
                     ranked,
                 },
                 (i, b)| {
                    let mut add = |o: usize, s: usize| {
                        if score[o] == 0 {
                            touched.push(o);
                        }
                        score[o] += s;
                    };
                    for k in &b.cited {
                        for &o in &by_source[k.as_str()] {
                            add(o, 2);
                        }
                    }
                    for &t in &b.tags {
                        // Sharing a tag is weak evidence; with thousands of briefs on a tag,
                        // only its nearest briefs in time count (keeps this linear).
                        let list = &site.tags[t].briefs;
                        let at = list.partition_point(|&o| o < i);
                        let from = at.saturating_sub(TAG_WINDOW);
                        let to = (at + TAG_WINDOW + 1).min(list.len());
                        for &o in &list[from..to] {
                            add(o, 1);
                        }
                    }
                    score[i] = 0;
                    for &t in &b.translations {
                        score[t] = 0;
                    }
                    ranked.clear();
                    ranked.extend(
                        touched
                            .iter()
                            .filter(|&&o| score[o] > 0)
                            .map(|&o| (o, score[o])),
                    );
                    for &o in touched.iter() {
                        score[o] = 0;
                    }
                    touched.clear();
                    // Briefs are newest first, so a lower index breaks ties toward the newer
                    // brief.
                    let order =
                        |a: &(usize, usize), b: &(usize, usize)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
                    if ranked.len() > RELATED {
                        ranked.select_nth_unstable_by(RELATED, order);
                        ranked.truncate(RELATED);
                    }
                    ranked.sort_by(order);
                    // Copied out, not collected from `ranked`: collecting in place would keep
                    // the whole buffer alive in every brief.
                    ranked.iter().map(|&(o, _)| o).collect()
                },
            )
            .collect()
    };
    for (b, r) in site.briefs.iter_mut().zip(related) {
        b.related = r;
    }
}

/// Can two figures state the same thing? Same kind (money with money, a share with a share),
/// or percentage points written as "points".
fn same_measure(a: &crate::markdown::Claim, b: &crate::markdown::Claim) -> bool {
    let points = |c: &crate::markdown::Claim| matches!(&*c.unit, "pp" | "pt");
    a.kind == b.kind || (points(a) && points(b))
}

/// Translations must agree on their figures: each sourced claim in a brief needs a claim in
/// every translation with a shared source and the same value (to either side's precision).
pub fn check_translations(site: &Site) -> Vec<Diagnostic> {
    use crate::markdown::ClaimStatus;
    let mut diags = Vec::new();
    for a in &site.briefs {
        for &j in &a.translations {
            let b = &site.briefs[j];
            for c in a
                .rendered
                .claims
                .iter()
                .filter(|c| c.status == ClaimStatus::Sourced)
            {
                let keys: Vec<&str> = c
                    .sources(&a.rendered, Some(&a.rules))
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                let found = b.rendered.claims.iter().any(|d| {
                    d.status == ClaimStatus::Sourced
                        && same_measure(c, d)
                        && d.sources(&b.rendered, Some(&b.rules))
                            .iter()
                            .any(|(k, _)| keys.contains(k))
                        && {
                            let tol = c.tolerance.max(d.tolerance) * 1.000_001;
                            (c.value.lo() - d.value.lo()).abs() <= tol
                                && (c.value.hi() - d.value.hi()).abs() <= tol
                        }
                });
                if !found {
                    diags.push(
                        Diagnostic::warning(format!(
                            "`{}` (source {}) has no counterpart in the {} translation, {}",
                            c.text,
                            keys.join(", "),
                            b.lang,
                            b.file.display_path.display()
                        ))
                        .at(&a.file, c.range.clone())
                        .label("this figure")
                        .hint("state the same figure with the same source in the translation, or correct whichever is wrong"),
                    );
                }
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::read_body;
    use crate::diagnostics::SourceText;

    /// A site folder holding `content/briefs/a.md` with `text`.
    fn site_with(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("content/briefs")).unwrap();
        std::fs::write(dir.path().join("content/briefs/a.md"), text).unwrap();
        dir
    }

    const FRONT: &str = "---\ntitle: A\n---\n";

    #[test]
    fn a_body_read_again_is_the_body_on_disk_now() {
        let dir = site_with(&format!("{FRONT}New body.\n"));
        let held = SourceText::new("content/briefs/a.md", format!("{FRONT}Old body.\n"));
        let (file, body) = read_body(dir.path(), "briefs/a.md", &held, FRONT.len()).unwrap();
        assert_eq!(&file.text[body], "New body.\n");
    }

    #[test]
    fn a_front_matter_edited_since_loading_is_refused() {
        let dir = site_with("---\ntitle: B\n---\nBody.\n");
        let held = SourceText::new("content/briefs/a.md", format!("{FRONT}Body.\n"));
        let err = read_body(dir.path(), "briefs/a.md", &held, FRONT.len()).unwrap_err();
        assert_eq!(
            err.message,
            "content/briefs/a.md changed while the site was being built"
        );
        assert_eq!(err.hint.as_deref(), Some("build again"));
    }
}
