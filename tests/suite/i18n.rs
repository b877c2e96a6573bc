//! Translations: `lang` on `<html>`, hreflang alternates, the language switch, CJK heading ids.

use crate::support::TestSite;

#[test]
fn translations_link_each_other_with_hreflang() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let en = site.html("public/briefs/chip-controls/index.html");
    let zh = site.html("public/briefs/chip-controls-zh/index.html");
    assert_eq!(zh.attr("html", "lang"), "zh-Hant");
    for page in [&en, &zh] {
        let alternates: Vec<(String, String)> = page
            .all("link[rel=alternate][hreflang]")
            .iter()
            .map(|l| {
                (
                    l.value().attr("hreflang").unwrap().to_string(),
                    l.value().attr("href").unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            alternates,
            [
                (
                    "en".to_string(),
                    "https://example.org/briefs/briefs/chip-controls/".to_string()
                ),
                (
                    "zh-Hant".to_string(),
                    "https://example.org/briefs/briefs/chip-controls-zh/".to_string()
                ),
                (
                    "x-default".to_string(),
                    "https://example.org/briefs/briefs/chip-controls/".to_string()
                ),
            ]
        );
    }
    let switch = en.one(".translations a");
    assert_eq!(switch.value().attr("hreflang"), Some("zh-Hant"));
    assert_eq!(
        switch.value().attr("href"),
        Some("/briefs/briefs/chip-controls-zh/")
    );
    // A brief without translations has no alternates.
    let methods = site.html("public/briefs/notes/methods/index.html");
    assert!(methods.all("link[hreflang]").is_empty());
}

#[test]
fn cjk_headings_keep_their_characters_and_dates_read_naturally() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let zh = site.html("public/briefs/chip-controls-zh/index.html");
    assert_eq!(zh.attr(".brief-body h2", "id"), "五年計畫");
    assert_eq!(zh.texts(".brief-meta time"), ["2024年11月2日"]);
    // The cross-language link to a de-duplicated heading id resolves.
    assert_eq!(
        zh.attr(".brief-body a", "href"),
        "/briefs/briefs/chip-controls/#key-findings-1"
    );
}

#[test]
fn two_translations_in_one_language_are_an_error() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\ntranslation_key: k\n---\n",
    );
    site.write(
        "content/b.md",
        "---\ntitle: B\ndate: 2024-01-01\ntranslation_key: k\n---\n",
    );
    site.build().assert_error(&[
        "content/b.md:4:18",
        "translation group `k` have language `en`",
    ]);
}

#[test]
fn the_theme_speaks_the_page_language() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let zh = site.html("public/briefs/chip-controls-zh/index.html");
    assert_eq!(zh.texts(".site-nav a")[0], "簡報");
    assert_eq!(zh.texts(".skip-link"), ["跳到內容"]);
    let en = site.html("public/briefs/chip-controls/index.html");
    assert_eq!(en.texts(".site-nav a")[0], "Briefs");
}
