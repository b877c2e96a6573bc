//! Citations: `[@key]` forms, the three presentations of a note (marker + sidenote, Notes list,
//! Sources list), source pages with citing sentences, the site-wide bibliography (YAML and
//! CSL-JSON), related briefs, and every citation error and warning.

use crate::support::{Page, TestSite, brief, text};

fn built() -> TestSite {
    let site = TestSite::fixture("cited");
    site.build().assert_ok();
    site
}

#[test]
fn each_citation_is_a_numbered_marker_tied_to_its_note() {
    let site = built();
    let page = site.html("public/chips/index.html");
    let markers = page.all(".brief-body a.note-ref");
    assert_eq!(markers.len(), 4, "four brackets, four notes");
    for (i, m) in markers.iter().enumerate() {
        let n = i + 1;
        assert_eq!(m.value().attr("id"), Some(format!("ref-{n}").as_str()));
        assert_eq!(m.value().attr("href"), Some(format!("#note-{n}").as_str()));
        assert_eq!(
            m.value().attr("aria-describedby"),
            Some(format!("sidenote-{n}").as_str())
        );
        assert_eq!(text(m), n.to_string());
        // The sidenote it describes sits right beside it, and matches the end note.
        let side = page.one(&format!(".sidenote#sidenote-{n}"));
        assert_eq!(side.value().attr("role"), Some("note"));
        let end = page.one(&format!(".note-list li#note-{n}"));
        let side_items: Vec<String> = side.select(&sel(".note-item")).map(|e| e.html()).collect();
        let end_items: Vec<String> = end.select(&sel(".note-item")).map(|e| e.html()).collect();
        assert_eq!(
            side_items, end_items,
            "note {n}: margin note and end note differ"
        );
        let back = end.select(&sel("a.note-backref")).next().unwrap();
        assert_eq!(
            back.value().attr("href"),
            Some(format!("#ref-{n}").as_str())
        );
    }
}

fn sel(css: &str) -> scraper::Selector {
    scraper::Selector::parse(css).unwrap()
}

#[test]
fn a_note_shows_title_link_creator_date_locator_note_archive_and_source_page() {
    let site = built();
    let page = site.html("public/chips/index.html");
    let note = Page(scraper::Html::parse_fragment(&page.one("#note-1").html()));
    assert_eq!(
        note.attr(".source-title a", "href"),
        "https://www.bcg.com/publications/2020/restricting-trade-with-china"
    );
    assert_eq!(
        note.texts(".source-title"),
        ["How Restricting Trade with China Could End US Semiconductor Leadership"]
    );
    assert_eq!(note.texts(".source-creator"), ["Boston Consulting Group"]);
    assert_eq!(note.attr("time", "datetime"), "2020-03");
    assert_eq!(note.texts(".locator"), ["p. 4"]);
    assert_eq!(
        note.texts(".source-note"),
        ["Figures are BCG scenario estimates."]
    );
    assert!(
        note.attr("a.source-archive", "href")
            .starts_with("https://web.archive.org/")
    );
    assert_eq!(note.attr("a.source-page", "href"), "/sources/bcg2020/");
    // Two sources in one bracket: one note, two items, the second with its locator.
    let two = Page(scraper::Html::parse_fragment(&page.one("#note-2").html()));
    assert_eq!(
        two.texts(".note-item .source-title"),
        [
            "Mineral Commodity Summaries 2024",
            "Critical Minerals Market Review 2023"
        ]
    );
    assert_eq!(two.texts(".locator"), ["table 2"]);
    // A prefix (`see`) is kept.
    assert!(text(&page.one("#note-3 .note-item")).starts_with("see Imran Khalid"));
}

#[test]
fn escaped_and_code_brackets_stay_literal() {
    let site = built();
    let page = site.html("public/chips/index.html");
    let paras = page.texts(".brief-body p");
    assert!(
        paras
            .iter()
            .any(|p| p == "Literal: [@bcg2020] and [@bcg2020] in code."),
        "{paras:?}"
    );
    assert_eq!(page.texts(".brief-body code"), ["[@bcg2020]"]);
    assert!(
        paras
            .iter()
            .any(|p| p.contains("Write to me @ home [about it]."))
    );
}

#[test]
fn sources_list_has_every_cited_source_once_in_order_of_first_citation() {
    let site = built();
    let page = site.html("public/chips/index.html");
    let ids: Vec<&str> = page
        .all(".sources .reference-list li")
        .iter()
        .map(|li| li.value().attr("id").unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "source-bcg2020",
            "source-usgs2024",
            "source-iea2023",
            "source-oped"
        ]
    );
    let bcg = text(&page.one("#source-bcg2020"));
    assert!(bcg.contains("Boston Consulting Group, March 2020"), "{bcg}");
    assert!(bcg.contains("Accessed 1 November 2024"), "{bcg}");
}

#[test]
fn source_index_counts_briefs_and_notes() {
    let site = built();
    let index = site.html("public/sources/index.html");
    let rows: Vec<String> = index.texts(".source-index li");
    let usgs = rows
        .iter()
        .find(|r| r.starts_with("Mineral Commodity Summaries 2024"))
        .unwrap();
    assert!(usgs.contains("Cited in 2 briefs (2 notes"), "{usgs}");
    let bcg = rows
        .iter()
        .find(|r| r.starts_with("How Restricting"))
        .unwrap();
    assert!(bcg.contains("Cited in 1 brief (2 notes"), "{bcg}");
    assert_eq!(index.all(".source-index li").len(), 4);
}

#[test]
fn source_page_lists_every_citing_sentence_linked_to_its_marker() {
    let site = built();
    let page = site.html("public/sources/usgs2024/index.html");
    assert_eq!(page.texts("h1"), ["Mineral Commodity Summaries 2024"]);
    let briefs = page.texts(".citing-brief-title");
    assert_eq!(briefs, ["Minerals", "Chip controls"], "newest brief first");
    let links: Vec<(String, String)> = page
        .all("a.citing-sentence")
        .iter()
        .map(|a| (text(a), a.value().attr("href").unwrap().to_string()))
        .collect();
    assert_eq!(
        links,
        [
            (
                "Gallium output is concentrated in one country.".to_string(),
                "/minerals/#ref-1".to_string()
            ),
            (
                "China refines most of the world\u{2019}s gallium.".to_string(),
                "/chips/#ref-2".to_string()
            ),
        ]
    );
    assert_eq!(page.texts(".citing-sentences .locator"), ["(p. 70)"]);
    // The marker each link names exists in the brief.
    let minerals = site.html("public/minerals/index.html");
    minerals.one("a.note-ref#ref-1");
}

#[test]
fn csl_json_sources_are_read() {
    let site = built();
    let page = site.html("public/sources/iea2023/index.html");
    assert_eq!(page.texts("h1"), ["Critical Minerals Market Review 2023"]);
    assert_eq!(
        page.texts(".source-details dd")[0],
        "International Energy Agency"
    );
}

#[test]
fn related_briefs_share_sources_or_tags() {
    let site = built();
    let page = site.html("public/chips/index.html");
    assert_eq!(page.texts(".related li a"), ["Minerals"]);
    let other = site.html("public/other/index.html");
    assert!(other.all(".related").is_empty());
}

#[test]
fn an_unused_site_wide_source_is_a_warning_and_an_error_under_strict() {
    let site = TestSite::fixture("cited");
    site.write(
        "content/sources.yaml",
        format!(
            "{}orphan:\n  title: Never cited\n",
            site.read("content/sources.yaml")
        ),
    );
    let run = site.build();
    run.assert_ok();
    assert!(
        run.stderr.contains(
            "warning: content/sources.yaml:17:1: source `orphan` is defined but no brief cites it"
        ),
        "{}",
        run.stderr
    );
    site.run(&["build", "--strict"])
        .assert_error(&["content/sources.yaml:17:1", "`orphan`"]);
}

#[test]
fn a_front_matter_source_the_brief_never_cites_is_a_warning() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\nsources:\n  x:\n    title: X\n---\nNo citation.\n",
    );
    let run = site.build();
    run.assert_ok();
    assert!(run.stderr.contains("content/a.md:5:3"), "{}", run.stderr);
    assert!(
        run.stderr.contains("this brief never cites it"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_and_empty_citations_are_errors_at_their_position() {
    let site = TestSite::fixture("cited");
    site.write(
        "content/new.md",
        brief(
            "New",
            "2024-01-01",
            "One [@bcg2021]. Two [@]. Three [@usgs2024; ].\n",
        ),
    );
    site.build().assert_error(&[
        "content/new.md:5:6",
        "citation of unknown source `@bcg2021`",
        "did you mean `@bcg2020`?",
        "content/new.md:5:21",
        "empty citation",
        "content/new.md:5:32",
        "empty item",
    ]);
}

#[test]
fn a_key_defined_twice_differently_names_both_places() {
    let site = TestSite::fixture("cited");
    site.write(
        "content/new.md",
        "---\ntitle: New\ndate: 2024-01-01\nsources:\n  bcg2020:\n    title: Another title\n---\nX [@bcg2020].\n",
    );
    site.build().assert_error(&[
        "content/new.md:5:3",
        "source `bcg2020` is defined differently in content/sources.yaml:2:1",
        "title",
    ]);
}

#[test]
fn an_identical_second_definition_is_fine() {
    let site = TestSite::new();
    let def = "sources:\n  k:\n    title: Same\n    url: https://example.org/r\n";
    site.write(
        "content/a.md",
        format!("---\ntitle: A\ndate: 2024-01-01\n{def}---\nX [@k].\n"),
    );
    site.write(
        "content/b.md",
        format!("---\ntitle: B\ndate: 2024-01-02\n{def}---\nY [@k].\n"),
    );
    site.build().assert_ok();
    assert_eq!(
        site.html("public/sources/k/index.html")
            .texts(".citing-brief-title"),
        ["B", "A"]
    );
}

#[test]
fn bad_source_records_are_reported_together() {
    let site = TestSite::new();
    site.write(
        "content/sources.yaml",
        "a:\n  publisher: No title\nb:\n  title: B\n  url: javascript:alert(1)\nc:\n  title: C\n  date: 2020-13\n  kind: reprot\nd:\n  title: D\n  titel: x\n  archived_url: \"data:text/html,x\"\n",
    );
    site.write(
        "content/x.md",
        brief("X", "2024-01-01", "[@a] [@b] [@c] [@d]\n"),
    );
    site.build().assert_error(&[
        "content/sources.yaml:1:1",
        "source `a` has no `title`",
        "content/sources.yaml:5:8",
        "`url` of source `b`",
        "content/sources.yaml:8:9",
        "`date: 2020-13` of source `c` is not a date",
        "content/sources.yaml:9:9",
        "did you mean `report`?",
        "content/sources.yaml:12:3",
        "unknown key `titel` in source `d`",
        "content/sources.yaml:13:17",
        "`archived_url` of source `d`",
    ]);
}

#[test]
fn every_source_field_is_escaped() {
    let site = TestSite::new();
    site.write(
        "content/sources.yaml",
        "x:\n  title: \"<script>alert(1)</script>\"\n  publisher: \"<img src=x onerror=alert(2)>\"\n  note: \"</span><script>alert(3)</script>\"\n  url: \"https://example.org/?q=\\\"><script>\"\n",
    );
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", "Claim [@x, <b>p. 4</b>].\n"),
    );
    site.build().assert_ok();
    for page in [
        "public/a/index.html",
        "public/sources/x/index.html",
        "public/sources/index.html",
    ] {
        let html = site.html(page);
        assert!(
            html.all("script")
                .iter()
                .all(|s| !s.inner_html().contains("alert")),
            "{page}"
        );
        assert!(html.all("img").is_empty(), "{page}");
        assert!(html.all("b").is_empty(), "{page}");
    }
    let page = site.html("public/a/index.html");
    assert_eq!(
        page.texts("#note-1 .source-title"),
        ["<script>alert(1)</script>"]
    );
}

#[test]
fn a_bibtex_bibliography_is_read() {
    let site = TestSite::new();
    site.write(
        "content/sources.bib",
        "@report{usgs2024,\n  title = {Mineral Commodity Summaries 2024},\n  author = {{U.S. Geological Survey}},\n  date = {2024-01},\n  url = {https://pubs.usgs.gov/x},\n}\n",
    );
    site.write(
        "content/a.md",
        brief(
            "A",
            "2024-01-01",
            "China mined about 69% of the total [@usgs2024, p. 145].\n",
        ),
    );
    site.run(&["check", "--strict"]).assert_ok();
    site.build().assert_ok();
    let page = site.html("public/sources/usgs2024/index.html");
    assert_eq!(page.texts("h1"), ["Mineral Commodity Summaries 2024"]);
    assert_eq!(page.texts(".breadcrumb .kind"), ["report"]);
    let brief_page = site.html("public/a/index.html");
    assert_eq!(brief_page.texts("#note-1 .locator"), ["p. 145"]);
}

#[test]
fn on_a_crowded_tag_related_briefs_come_from_the_nearest_in_time() {
    // 402 briefs on one tag, B0 the oldest: the 200 nearest on that tag count, so B0's related
    // briefs are B200..B196 (ties go to the newer), not the five newest of the site.
    let site = TestSite::new();
    for k in 0..402 {
        site.write(
            &format!("content/b{k}.md"),
            format!(
                "---\ntitle: B{k}\ndate: {}-{:02}-01\ntags: [energy]\n---\nPlain text.\n",
                1980 + k / 12,
                1 + k % 12
            ),
        );
    }
    site.build().assert_ok();
    let oldest = site.html("public/b0/index.html");
    assert_eq!(
        oldest.texts(".related li a"),
        ["B200", "B199", "B198", "B197", "B196"]
    );
    let newest = site.html("public/b401/index.html");
    assert_eq!(
        newest.texts(".related li a"),
        ["B400", "B399", "B398", "B397", "B396"]
    );
}

#[test]
fn a_citation_shown_in_code_relates_no_briefs() {
    // A build guesses each brief's sources from its raw text before parsing; `[@k]` in code is
    // no citation, so Alpha shares only `m` (with Gamma) and Beta shares nothing.
    let site = TestSite::new();
    site.write(
        "content/sources.yaml",
        "k:\n  title: Source K\n  url: https://example.org/k\nm:\n  title: Source M\n  url: https://example.org/m\n",
    );
    site.write(
        "content/alpha.md",
        brief(
            "Alpha",
            "2024-01-02",
            "Write `[@k]` to cite. Prices rose [@m].\n",
        ),
    );
    site.write(
        "content/beta.md",
        "---\ntitle: Beta\ndate: 2024-01-01\nsummary: A brief with a summary.\n---\nPrices rose [@k].\n",
    );
    site.write(
        "content/gamma.md",
        brief("Gamma", "2024-01-03", "Prices fell [@m].\n"),
    );
    site.build().assert_ok();
    // Again into the same output: the page first written with a wrong related list, then
    // rewritten, must end as the rewrite (the rewrite equals the previous build's page).
    site.build().assert_ok();
    assert!(
        site.html("public/beta/index.html")
            .all(".related")
            .is_empty()
    );
    assert_eq!(
        site.html("public/alpha/index.html").texts(".related li a"),
        ["Gamma"]
    );
    assert_eq!(
        site.html("public/gamma/index.html").texts(".related li a"),
        ["Alpha"]
    );
    // Each page lists the sources its text cites, and no more.
    assert_eq!(
        site.html("public/alpha/index.html")
            .texts("section.sources .source-title"),
        ["Source M"]
    );
}

#[test]
fn a_long_source_index_is_split_into_linked_pages() {
    let sources: String = (1..=1001)
        .map(|i| format!("s{i:04}:\n  title: Source {i:04}\n  publisher: P\n  date: 2020\n"))
        .collect();
    let body: String = (1..=1001)
        .map(|i| format!("Output rose [@s{i:04}].\n\n"))
        .collect();
    let site = TestSite::new();
    site.write("content/sources.yaml", sources);
    site.write("content/a.md", brief("A", "2024-01-01", &body));
    site.build().assert_ok();

    let first = site.html("public/sources/index.html");
    let titles = first.texts(".source-index-title");
    assert_eq!(titles.len(), 1000);
    assert_eq!(
        (titles[0].as_str(), titles[999].as_str()),
        ("Source 0001", "Source 1000")
    );
    assert_eq!(first.all("nav.pager").len(), 2);
    assert!(first.texts("nav.pager")[0].contains("Page 1 of 2: sources 1 to 1000 of 1001"));
    assert_eq!(
        first.attr("nav.pager:first-of-type a[rel=next]", "href"),
        "/sources/page/2/"
    );
    assert!(first.all("a[rel=prev]").is_empty());

    let second = site.html("public/sources/page/2/index.html");
    assert_eq!(second.texts(".source-index-title"), ["Source 1001"]);
    assert!(second.texts("nav.pager")[0].contains("Page 2 of 2: sources 1001 to 1001 of 1001"));
    assert_eq!(
        second.attr("nav.pager:first-of-type a[rel=prev]", "href"),
        "/sources/"
    );
    assert!(second.all("a[rel=next]").is_empty());
    assert_eq!(
        second.attr("link[rel=canonical]", "href"),
        "https://example.org/sources/page/2/"
    );
    assert!(second.texts("title")[0].starts_with("Sources, page 2 of 2"));
    // Counts on a later page are the source's own.
    assert!(second.texts(".source-counts")[0].contains("Cited in 1 brief (1 note, 0 claims)"));
    // A source's own page is where it always was.
    assert!(site.exists("public/sources/s1001/index.html"));

    // An index of one page has no pager.
    let small = built();
    assert!(
        small
            .html("public/sources/index.html")
            .all("nav.pager")
            .is_empty()
    );
    assert!(!small.exists("public/sources/page"));
}
