//! The repository's own site (`content/`, `site.yaml`): it builds in strict mode, both
//! languages of the flagship are linked, every claim is tied to a note, companions link both
//! ways, and shared sources list citing sentences from several briefs. The flagship's body is
//! snapshotted (insta) so changes to it are reviewed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::{Page, TestSite, bin, text};

fn build_demo() -> TestSite {
    let out = TestSite::bare();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = bin()
        .args(["build", "--strict", "--root"])
        .arg(root)
        .arg("--output")
        .arg(out.path("public"))
        .current_dir(out.root())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the demo site fails strict build:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

const FLAGSHIP: &str = "public/briefs/chip-controls/index.html";
const FLAGSHIP_ZH: &str = "public/briefs/chip-controls-zh/index.html";
const COMPANIONS: &[&str] = &["rare-earths", "cost-to-us-firms", "smic-domestic-turn"];

#[test]
fn both_languages_are_present_and_linked_by_hreflang() {
    let site = build_demo();
    let en = site.html(FLAGSHIP);
    let zh = site.html(FLAGSHIP_ZH);
    assert_eq!(en.attr("html", "lang"), "en");
    assert_eq!(zh.attr("html", "lang"), "zh-Hant");
    for page in [&en, &zh] {
        let langs: Vec<String> = page
            .all("link[rel=alternate][hreflang]")
            .iter()
            .map(|l| l.value().attr("hreflang").unwrap().to_string())
            .collect();
        assert_eq!(langs, ["en", "zh-Hant", "x-default"]);
    }
    assert_eq!(en.attr(".translations a", "hreflang"), "zh-Hant");
    assert_eq!(zh.attr(".translations a", "hreflang"), "en");
}

#[test]
fn every_claim_in_the_flagship_is_wrapped_and_tied_to_a_note() {
    let site = build_demo();
    for file in [FLAGSHIP, FLAGSHIP_ZH] {
        let page = site.html(file);
        let claims = page.all(".brief-body span.claim");
        assert!(claims.len() >= 40, "{file}: only {} claims", claims.len());
        for c in &claims {
            assert!(
                c.value().classes().any(|k| k == "claim-sourced"),
                "{file}: `{}` is not sourced",
                text(c)
            );
            let note = c
                .value()
                .attr("aria-describedby")
                .unwrap_or_else(|| panic!("{file}: `{}` has no note", text(c)));
            page.one(&format!("#{note}"));
        }
    }
    let rows: serde_json::Value = serde_json::from_str(&site.read("public/claims.json")).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "sourced")
    );
}

#[test]
fn companions_are_reachable_from_the_flagship_and_back() {
    let site = build_demo();
    let hrefs = |page: &Page| -> BTreeSet<String> {
        page.all(".brief-body a[href]")
            .iter()
            .map(|a| {
                a.value()
                    .attr("href")
                    .unwrap()
                    .split('#')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let flagship = hrefs(&site.html(FLAGSHIP));
    for c in COMPANIONS {
        assert!(
            flagship.contains(&format!("/briefs/{c}/")),
            "flagship does not link to {c}"
        );
        let back = hrefs(&site.html(&format!("public/briefs/{c}/index.html")));
        assert!(
            back.contains("/briefs/chip-controls/"),
            "{c} does not link back"
        );
    }
}

#[test]
fn shared_sources_list_citing_sentences_from_several_briefs() {
    let site = build_demo();
    let index = site.html("public/sources/index.html");
    let mut shared = 0;
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for a in index.all("a.source-index-title") {
        let url = a.value().attr("href").unwrap();
        let page = site.html(&format!("public{url}index.html"));
        let briefs = page.all(".citing-brief").len();
        by_source.insert(url.to_string(), briefs);
        if briefs >= 2 {
            shared += 1;
            assert!(page.all("a.citing-sentence").len() >= 2, "{url}");
        }
    }
    assert!(
        shared >= 5,
        "only {shared} sources are shared by two or more briefs: {by_source:?}"
    );
    // The op-ed itself is a source of kind `article`.
    let oped = site.html("public/sources/oped-khalid/index.html");
    assert_eq!(oped.texts(".breadcrumb .kind"), ["article"]);
}

#[test]
fn the_flagship_body_is_reviewed_as_a_snapshot() {
    let site = build_demo();
    let page = site.html(FLAGSHIP);
    let body = page.one(".brief-body").html();
    insta::assert_snapshot!("flagship_body", body);
}
