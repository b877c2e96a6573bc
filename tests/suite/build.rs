//! A whole fixture site: pages at pretty URLs, listings, tags, feed, sitemap, Markdown
//! features, drafts, subpath base_url and determinism.

use crate::support::{Page, TestSite, snapshot, text};

fn built() -> TestSite {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    site
}

#[test]
fn every_page_is_at_its_pretty_url() {
    let site = built();
    for f in [
        "public/index.html",
        "public/briefs/index.html",
        "public/briefs/chip-controls/index.html",
        "public/briefs/chip-controls-zh/index.html",
        "public/briefs/notes/index.html",
        "public/briefs/notes/methods/index.html",
        "public/rare-earth-leverage/index.html",
        "public/tags/index.html",
        "public/tags/export-controls/index.html",
        "public/tags/china/index.html",
        "public/404.html",
        "public/feed.xml",
        "public/sitemap.xml",
        "public/robots.txt",
        "public/style.css",
        "public/briefs/chart.png",
    ] {
        assert!(site.exists(f), "{f} missing");
    }
    // A `slug` replaces the file name; drafts are left out.
    assert!(!site.exists("public/rare-earths/index.html"));
    assert!(!site.exists("public/briefs/draft-brief/index.html"));
}

#[test]
fn home_lists_briefs_newest_first_with_date_summary_and_tags() {
    let site = built();
    let home = site.html("public/index.html");
    let titles = home.texts(".brief-item-title");
    // A translation is reached through its original's language switch, not listed twice.
    assert_eq!(
        titles,
        ["Rare earths", "Chip controls & their costs", "Methods"]
    );
    let first = home.all(".brief-item")[0];
    assert_eq!(first.value().attr("lang"), Some("en"));
    let item = Page(scraper::Html::parse_fragment(&first.html()));
    assert_eq!(item.attr("time", "datetime"), "2024-12-01");
    assert_eq!(
        item.texts(".brief-summary"),
        ["Gallium, germanium and the rest."]
    );
    assert_eq!(item.texts("a.tag"), ["export controls", "minerals"]);
    let chips = Page(scraper::Html::parse_fragment(
        &home.all(".brief-item")[1].html(),
    ));
    assert_eq!(chips.attr("a.translation-link", "hreflang"), "zh-Hant");
    assert_eq!(
        chips.attr("a.translation-link", "href"),
        "/briefs/briefs/chip-controls-zh/"
    );
    // The intro from content/_index.md; no featured brief without a `weight`.
    assert_eq!(home.texts(".home-intro strong"), ["fixture"]);
    assert!(home.all(".featured").is_empty());
}

#[test]
fn the_brief_with_the_lowest_weight_is_featured_with_its_key_findings() {
    let site = TestSite::fixture("basic");
    let path = site.path("content/briefs/chip-controls.md");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "translation_key: chips\n",
        "translation_key: chips\nweight: 1\n",
        1,
    );
    std::fs::write(&path, text).unwrap();
    site.build().assert_ok();
    let home = site.html("public/index.html");
    assert_eq!(
        home.texts(".featured-title"),
        ["Chip controls & their costs"]
    );
    assert_eq!(
        home.texts(".featured .key-findings li").len(),
        2,
        "one item per row of the section's list"
    );
    assert!(
        !home
            .texts(".brief-item-title")
            .contains(&"Chip controls & their costs".to_string())
    );
}

#[test]
fn brief_page_has_head_metadata_and_body() {
    let site = built();
    let page = site.html("public/briefs/chip-controls/index.html");
    assert_eq!(page.attr("html", "lang"), "en");
    assert_eq!(
        page.texts("title"),
        ["Chip controls & their costs · Fixture Briefs"]
    );
    assert_eq!(
        page.attr("meta[name=description]", "content"),
        "What the export controls cost, in brief."
    );
    assert_eq!(
        page.attr("link[rel=canonical]", "href"),
        "https://example.org/briefs/briefs/chip-controls/"
    );
    assert_eq!(
        page.texts("h1.brief-title"),
        ["Chip controls & their costs"]
    );
    assert_eq!(
        page.all(".brief-meta time")[0].value().attr("datetime"),
        Some("2024-11-02")
    );
    assert_eq!(page.texts(".authors"), ["A. Analyst, B. Writer"]);
    // Markdown extensions: tables, strikethrough, task lists, footnotes, smart punctuation.
    assert_eq!(page.all(".brief-body table td").len(), 2);
    assert_eq!(page.texts(".brief-body del"), ["slightly"]);
    assert_eq!(page.all(".brief-body input[type=checkbox]").len(), 2);
    assert_eq!(page.all(".brief-body .footnote-definition").len(), 1);
    assert!(
        page.texts(".brief-body p")
            .iter()
            .any(|p| p.starts_with("\u{201c}Quoted\u{201d}"))
    );
    // Duplicate headings get unique ids.
    let ids: Vec<String> = page
        .all(".brief-body h2")
        .iter()
        .map(|h| h.value().attr("id").unwrap().to_string())
        .collect();
    assert_eq!(ids, ["key-findings", "key-findings-1"]);
}

#[test]
fn section_pages_list_their_briefs() {
    let site = built();
    let section = site.html("public/briefs/index.html");
    assert_eq!(section.texts("h1"), ["All briefs"]);
    assert_eq!(
        section.texts(".brief-item-title"),
        ["晶片管制的代價", "Chip controls & their costs"]
    );
    assert_eq!(section.texts(".section-list a"), ["Notes"]);
    assert_eq!(
        section.attr("meta[name=description]", "content"),
        "Every brief in one place."
    );
}

#[test]
fn tags_have_an_index_and_a_page_each() {
    let site = built();
    let index = site.html("public/tags/index.html");
    assert_eq!(
        index.texts(".tag-index a"),
        ["China", "export controls", "method", "minerals"]
    );
    // `Export controls` and `export controls` are one tag.
    let tag = site.html("public/tags/export-controls/index.html");
    assert_eq!(
        tag.texts(".brief-item-title"),
        ["Rare earths", "Chip controls & their costs"]
    );
}

#[test]
fn every_internal_link_resolves_under_the_subpath() {
    let site = built();
    let public = site.path("public");
    let mut checked = 0;
    for (rel, bytes) in snapshot(&public) {
        if rel.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let page = Page(scraper::Html::parse_document(
            &String::from_utf8(bytes).unwrap(),
        ));
        for el in page.all("a[href], link[href], img[src]") {
            let url = el.value().attr("href").or(el.value().attr("src")).unwrap();
            let path = if let Some(p) = url.strip_prefix("https://example.org") {
                p
            } else if url.starts_with('/') {
                url
            } else {
                continue;
            };
            let path = path.split('#').next().unwrap();
            let rest = path
                .strip_prefix("/briefs/")
                .unwrap_or_else(|| panic!("{rel:?}: {url} is outside the base path"));
            let decoded = percent_decode(rest);
            let target = if decoded.is_empty() || decoded.ends_with('/') {
                public.join(&decoded).join("index.html")
            } else {
                public.join(&decoded)
            };
            assert!(
                target.is_file(),
                "{rel:?}: {url} does not resolve to a file"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} links checked");
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn base_url_flag_overrides_for_one_build() {
    let site = TestSite::fixture("basic");
    site.run(&["build", "--base-url", "https://preview.example.net/pr-7"])
        .assert_ok();
    let page = site.html("public/rare-earth-leverage/index.html");
    assert_eq!(
        page.attr("link[rel=canonical]", "href"),
        "https://preview.example.net/pr-7/rare-earth-leverage/"
    );
    assert_eq!(page.attr("link[rel=stylesheet]", "href"), "/pr-7/style.css");
}

#[test]
fn drafts_are_built_only_when_asked() {
    let site = TestSite::fixture("basic");
    site.run(&["build", "--drafts"]).assert_ok();
    let page = site.html("public/briefs/draft-brief/index.html");
    assert_eq!(page.texts("h1.brief-title"), ["Unfinished"]);
    let home = site.html("public/index.html");
    assert!(
        home.texts(".brief-item-title")
            .contains(&"Unfinished".to_string())
    );
}

#[test]
fn feed_is_valid_atom_with_every_brief() {
    let site = built();
    let xml = site.read("public/feed.xml");
    let doc = roxmltree::Document::parse(&xml).expect("feed.xml is well-formed XML");
    let ns = "http://www.w3.org/2005/Atom";
    let feed = doc.root_element();
    assert_eq!(feed.tag_name().name(), "feed");
    assert_eq!(feed.tag_name().namespace(), Some(ns));
    let entries: Vec<_> = feed
        .children()
        .filter(|n| n.has_tag_name((ns, "entry")))
        .collect();
    assert_eq!(entries.len(), 4);
    let child = |e: &roxmltree::Node, name: &str| {
        e.children()
            .find(|n| n.has_tag_name((ns, name)))
            .unwrap()
            .text()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        child(&entries[0], "id"),
        "https://example.org/briefs/rare-earth-leverage/"
    );
    assert_eq!(child(&entries[2], "title"), "Chip controls & their costs");
    assert_eq!(child(&entries[2], "updated"), "2024-11-20T00:00:00Z");
    assert_eq!(child(&entries[2], "published"), "2024-11-02T00:00:00Z");
}

#[test]
fn sitemap_lists_every_page_with_alternates_and_robots_points_to_it() {
    let site = built();
    let xml = site.read("public/sitemap.xml");
    let doc = roxmltree::Document::parse(&xml).expect("sitemap.xml is well-formed XML");
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .filter_map(|n| n.text())
        .collect();
    assert!(locs.contains(&"https://example.org/briefs/briefs/chip-controls/"));
    assert!(locs.contains(&"https://example.org/briefs/"));
    assert!(!locs.iter().any(|l| l.contains("draft")));
    let alternates = doc
        .descendants()
        .filter(|n| n.has_tag_name(("http://www.w3.org/1999/xhtml", "link")))
        .count();
    assert_eq!(alternates, 4, "two translations, each listing both");
    let robots = site.read("public/robots.txt");
    assert!(
        robots
            .lines()
            .any(|l| l == "Sitemap: https://example.org/briefs/sitemap.xml")
    );
}

#[test]
fn not_found_page_uses_root_relative_assets() {
    let site = built();
    let page = site.html("public/404.html");
    assert_eq!(
        page.attr("link[rel=stylesheet]", "href"),
        "/briefs/style.css"
    );
    assert_eq!(page.texts("h1"), ["Page not found"]);
}

#[test]
fn two_builds_are_byte_identical() {
    let a = TestSite::fixture("basic");
    let b = TestSite::fixture("basic");
    a.build().assert_ok();
    b.run(&["build", "--output", b.path("elsewhere").to_str().unwrap()])
        .assert_ok();
    let left = snapshot(&a.path("public"));
    let right = snapshot(&b.path("elsewhere"));
    assert_eq!(left.len(), right.len());
    for ((pa, ba), (pb, bb)) in left.iter().zip(&right) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{pa:?} differs between builds");
    }
}

#[test]
fn a_template_looping_over_a_map_sees_its_keys_in_a_fixed_order() {
    // Each build is a new process; a map that iterated in hash order would give each its own
    // order (and its own bytes).
    let template = "{% extends \"base.html\" %}{% block main %}\
        <ol class=\"site\">{% for k, v in site %}<li>{{ k }}</li>{% endfor %}</ol>\
        <ol class=\"t\">{% for k, v in t %}<li>{{ k }}</li>{% endfor %}</ol>{% endblock main %}";
    let orders: Vec<(Vec<String>, Vec<String>)> = (0..3)
        .map(|_| {
            let site = TestSite::fixture("basic");
            site.write("templates/404.html", template);
            site.build().assert_ok();
            let page = site.html("public/404.html");
            (page.texts("ol.site li"), page.texts("ol.t li"))
        })
        .collect();
    let (keys, labels) = &orders[0];
    assert!(labels.len() > 5, "{labels:?}");
    // The order the context is built in: the site title first.
    assert_eq!(keys.first().map(String::as_str), Some("title"), "{keys:?}");
    assert!(keys.len() > 5, "{keys:?}");
    for other in &orders[1..] {
        assert_eq!(other, &orders[0]);
    }
}

#[test]
fn site_templates_override_the_theme_by_name() {
    let site = TestSite::fixture("basic");
    site.write(
        "templates/404.html",
        "{% extends \"base.html\" %}{% block main %}<h1 class=\"custom\">Lost?</h1>{% endblock main %}",
    );
    site.build().assert_ok();
    let page = site.html("public/404.html");
    assert_eq!(page.texts("h1.custom"), ["Lost?"]);
    // Other templates still come from the default theme.
    assert_eq!(site.html("public/tags/index.html").texts("h1"), ["Tags"]);
}

#[test]
fn static_folder_is_copied_as_is() {
    let site = TestSite::fixture("basic");
    site.write("static/files/report.pdf", b"%PDF-fixture");
    site.build().assert_ok();
    assert_eq!(site.read("public/files/report.pdf"), "%PDF-fixture");
}

#[test]
fn check_reports_without_writing() {
    let site = TestSite::fixture("basic");
    let run = site.run(&["check"]);
    run.assert_ok();
    assert!(run.stderr.contains("checked 4 briefs"), "{}", run.stderr);
    assert!(!site.exists("public"));
}

#[test]
fn escaping_keeps_front_matter_as_text() {
    let site = TestSite::new();
    site.write(
        "content/x.md",
        "---\ntitle: \"<script>alert(1)</script>\"\ndate: 2024-01-01\nsummary: \"\\\" onmouseover=\\\"x\"\ntags: [\"<b>t</b>\"]\n---\nBody <script>alert(2)</script>\n",
    );
    site.build().assert_ok();
    let page = site.html("public/x/index.html");
    assert!(
        page.all("script")
            .iter()
            .all(|s| !s.inner_html().contains("alert")),
        "injected script"
    );
    assert!(page.all(".brief-body b").is_empty());
    assert_eq!(page.texts("h1.brief-title"), ["<script>alert(1)</script>"]);
    let meta = page.one("meta[name=description]");
    assert_eq!(meta.value().attr("content"), Some("\" onmouseover=\"x"));
    assert!(meta.value().attr("onmouseover").is_none());
    assert!(text(&page.one(".brief-body p")).contains("<script>alert(2)</script>"));
}

#[test]
fn output_is_the_same_with_one_or_two_threads() {
    let one = TestSite::fixture("cited");
    let two = TestSite::fixture("cited");
    let run = |site: &TestSite, threads: &str| {
        let out = crate::support::bin()
            .args(["build", "--root"])
            .arg(site.root())
            .current_dir(site.root())
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    run(&one, "1");
    run(&two, "2");
    assert!(
        snapshot(&one.path("public")) == snapshot(&two.path("public")),
        "thread count changed the output"
    );
}

#[test]
fn link_previews_carry_opengraph_and_twitter_metadata() {
    let site = TestSite::fixture("basic");
    let yaml = site.read("site.yaml");
    site.write("site.yaml", format!("{yaml}image: /og.png\n"));
    site.write("static/og.png", b"PNG");
    site.build().assert_ok();
    let page = site.html("public/briefs/chip-controls/index.html");
    assert_eq!(page.attr("meta[property='og:type']", "content"), "article");
    assert_eq!(
        page.attr("meta[property='og:title']", "content"),
        "Chip controls & their costs"
    );
    assert_eq!(
        page.attr("meta[property='og:description']", "content"),
        "What the export controls cost, in brief."
    );
    assert_eq!(
        page.attr("meta[property='og:url']", "content"),
        "https://example.org/briefs/briefs/chip-controls/"
    );
    assert_eq!(
        page.attr("meta[property='og:image']", "content"),
        "https://example.org/briefs/og.png"
    );
    assert_eq!(
        page.attr("meta[name='twitter:card']", "content"),
        "summary_large_image"
    );
    let home = site.html("public/index.html");
    assert_eq!(home.attr("meta[property='og:type']", "content"), "website");
    site.write(
        "site.yaml",
        format!("{yaml}image: \"javascript:alert(1)\"\n"),
    );
    site.build()
        .assert_error(&["site.yaml:5:8", "`image: javascript:alert(1)`"]);
}

#[test]
fn search_can_be_turned_off_by_flag_or_site_yaml() {
    let site = built();
    assert!(site.exists("public/search/index.html"));
    assert!(site.exists("public/pagefind/pagefind.js"));
    let nav = |site: &TestSite| site.html("public/index.html").texts(".site-nav a");
    assert!(nav(&site).contains(&"Search".to_string()));

    site.run(&["build", "--no-search"]).assert_ok();
    assert!(!site.exists("public/search/index.html"));
    assert!(!site.exists("public/pagefind"));
    assert!(!nav(&site).contains(&"Search".to_string()));
    assert!(nav(&site).contains(&"Sources".to_string()));

    let config = site.read("site.yaml") + "search: false\n";
    site.write("site.yaml", config);
    site.build().assert_ok();
    assert!(!site.exists("public/search/index.html"));
    assert!(!nav(&site).contains(&"Search".to_string()));
}

#[test]
fn a_sitemap_of_more_than_ten_thousand_urls_is_split_under_an_index() {
    // 10,001 sources: with the home page, a brief, the source index and the tag index, 10,005
    // URLs. (No search index: indexing 10,000 pages in a debug build is slow.)
    let sources: String = (1..=10_001)
        .map(|i| format!("s{i:05}:\n  title: Source {i:05}\n  publisher: P\n  date: 2020\n"))
        .collect();
    let site = TestSite::new();
    let config = site.read("site.yaml");
    site.write("site.yaml", format!("{config}search: false\n"));
    site.write("content/sources.yaml", sources);
    site.write(
        "content/a.md",
        crate::support::brief("A", "2024-01-01", "Cited [@s00001].\n"),
    );
    site.build().assert_ok();
    let locs = |xml: &str| -> Vec<String> {
        let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
        doc.descendants()
            .filter(|n| n.has_tag_name("loc"))
            .filter_map(|n| n.text().map(str::to_string))
            .collect()
    };
    let index = site.read("public/sitemap.xml");
    let doc = roxmltree::Document::parse(&index).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "sitemapindex");
    assert_eq!(
        locs(&index),
        [
            "https://example.org/sitemap1.xml",
            "https://example.org/sitemap2.xml"
        ]
    );
    let first = locs(&site.read("public/sitemap1.xml"));
    let second = locs(&site.read("public/sitemap2.xml"));
    assert_eq!((first.len(), second.len()), (10_000, 5));
    let all: Vec<String> = first.into_iter().chain(second).collect();
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "every URL once, in order across the files");
    for page in [
        "https://example.org/",
        "https://example.org/a/",
        "https://example.org/sources/",
        "https://example.org/sources/s10001/",
        "https://example.org/tags/",
    ] {
        assert!(all.iter().any(|l| l == page), "{page} missing");
    }
    let robots = site.read("public/robots.txt");
    assert!(
        robots
            .lines()
            .any(|l| l == "Sitemap: https://example.org/sitemap.xml")
    );
}
