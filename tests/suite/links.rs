//! Links between briefs: `.md` paths rewritten to page URLs, anchors checked, errors at
//! `file:line:col`.

use crate::support::{TestSite, brief};

#[test]
fn md_links_become_page_urls_with_anchors() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let page = site.html("public/briefs/chip-controls/index.html");
    let hrefs: Vec<String> = page
        .all(".brief-body a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    assert!(
        hrefs.contains(&"/briefs/rare-earth-leverage/#supply".to_string()),
        "{hrefs:?}"
    );
    assert!(
        hrefs.contains(&"/briefs/briefs/notes/methods/".to_string()),
        "{hrefs:?}"
    );
    assert!(hrefs.contains(&"#key-findings".to_string()), "{hrefs:?}");
    assert_eq!(
        page.attr(".brief-body img", "src"),
        "/briefs/briefs/chart.png"
    );
}

#[test]
fn missing_file_is_an_error_at_its_position() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", "Intro.\n\nSee [b](b.md) here.\n"),
    );
    let run = site.build();
    run.assert_error(&["content/a.md:7:5", "link to `b.md`, which does not exist"]);
    assert!(!site.exists("public"));
}

#[test]
fn missing_anchor_is_an_error_with_a_suggestion() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", "## Supply chains\n\nText.\n"),
    );
    site.write(
        "content/b.md",
        brief(
            "B",
            "2024-01-01",
            "See [a](a.md#supply-chain) and [self](#nowhere).\n",
        ),
    );
    site.build().assert_error(&[
        "content/b.md:5:5",
        "anchor `#supply-chain` does not exist in content/a.md",
        "did you mean `#supply-chains`?",
        "content/b.md:5:32",
        "anchor `#nowhere` does not exist in content/b.md",
    ]);
}

#[test]
fn link_to_a_draft_is_an_error_unless_drafts_are_built() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "See [d](d.md).\n"));
    site.write(
        "content/d.md",
        "---\ntitle: D\ndate: 2024-01-01\ndraft: true\n---\nDraft.\n",
    );
    site.build()
        .assert_error(&["content/a.md:5:5", "a draft that this build leaves out"]);
    site.run(&["build", "--drafts"]).assert_ok();
}

#[test]
fn unsafe_link_schemes_are_refused() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        brief(
            "A",
            "2024-01-01",
            "[x](javascript:alert(1)) and <vbscript:msgbox>\n",
        ),
    );
    site.build().assert_error(&[
        "content/a.md:5:1",
        "`javascript:` URL",
        "content/a.md:5:30",
        "`vbscript:` URL",
    ]);
}

#[test]
fn links_out_of_content_are_refused() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", "[x](../../etc/passwd.md)\n"),
    );
    site.build()
        .assert_error(&["content/a.md:5:1", "points outside content/"]);
}

#[test]
fn a_missing_anchor_deep_in_a_body_is_reported_at_its_line() {
    // Links past the body's first line, in a brief without a summary (its listing shows its
    // excerpt, so it is parsed before the others) and in one with a summary.
    let site = TestSite::new();
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", "## Supply chains\n\nText.\n"),
    );
    site.write(
        "content/b.md",
        brief(
            "B",
            "2024-01-01",
            "First paragraph.\n\nSee [a](a.md#supply-chain).\n",
        ),
    );
    site.write(
        "content/c.md",
        "---\ntitle: C\ndate: 2024-01-01\nsummary: S.\n---\nFirst.\n\nSee [a](a.md#supply).\n",
    );
    site.build().assert_error(&[
        "content/b.md:7:5",
        "anchor `#supply-chain` does not exist in content/a.md",
        "content/c.md:8:5",
        "anchor `#supply` does not exist in content/a.md",
    ]);
}
