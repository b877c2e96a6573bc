//! Quantitative claims: the `claims detect` contract, attachment to citations and bindings,
//! value checks, `not_claims`, unsourced figures under `check`/`--strict`, translation
//! agreement, the claims table and claims.json, and `claims list`.

use std::io::Write;
use std::process::Stdio;

use crate::support::{TestSite, bin, text};

const SOURCES: &str = "bcg2020:\n  title: How Restricting Trade with China Could End US Semiconductor Leadership\n  url: https://www.bcg.com/x\n";

fn site_with(body: &str, front: &str) -> TestSite {
    let site = TestSite::new();
    site.write("content/sources.yaml", SOURCES);
    site.write(
        "content/a.md",
        format!("---\ntitle: A\ndate: 2024-01-01\n{front}---\n{body}"),
    );
    site
}

#[test]
fn claims_detect_reads_and_writes_json_lines_with_code_point_offsets() {
    let mut child = bin()
        .args(["claims", "detect"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("{\"id\": \"a\", \"lang\": \"zh-Hant\", \"text\": \"損失830億美元，六成。\"}\nnot json\n{\"id\": 7, \"lang\": \"en\", \"text\": \"In 2024 sales rose 60%.\"}\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one output line per input line");
    let spans = lines[0]["spans"].as_array().unwrap();
    assert_eq!(spans[0]["start"], 2);
    assert_eq!(spans[0]["end"], 8);
    assert_eq!(spans[0]["text"], "830億美元");
    assert_eq!(spans[0]["kind"], "money");
    assert_eq!(spans[0]["value"], 8.3e10);
    assert_eq!(spans[0]["unit"], "USD");
    assert_eq!(spans[1]["text"], "六成");
    assert_eq!(spans[1]["value"], 0.6);
    assert!(lines[1]["error"].is_string());
    assert_eq!(lines[2]["id"], 7);
    let en = lines[2]["spans"].as_array().unwrap();
    assert_eq!(en.len(), 1, "the year is not a quantity");
    assert_eq!(en[0]["text"], "60%");
}

#[test]
fn a_citation_later_in_the_sentence_sources_the_figure() {
    let site = site_with(
        "US firms could lose $83 billion and 124,000 jobs [@bcg2020, p. 4]. Tariffs rose.\n",
        "",
    );
    let run = site.build();
    run.assert_ok();
    assert!(!run.stderr.contains("unsourced"), "{}", run.stderr);
    let page = site.html("public/a/index.html");
    let claims = page.all(".brief-body span.claim");
    assert_eq!(claims.len(), 2);
    for (i, c) in claims.iter().enumerate() {
        assert_eq!(
            c.value().attr("id"),
            Some(format!("claim-{}", i + 1).as_str())
        );
        assert_eq!(c.value().attr("aria-describedby"), Some("sidenote-1"));
        assert!(c.value().classes().any(|k| k == "claim-sourced"));
    }
    assert_eq!(text(&claims[0]), "$83 billion");
}

#[test]
fn an_unsourced_figure_warns_in_build_and_fails_strict_check_naming_it() {
    let site = site_with("Costs rose [@bcg2020]. Then they fell 25% in a year.\n", "");
    let run = site.build();
    run.assert_ok();
    assert!(
        run.stderr
            .contains("warning: content/a.md:5:39: unsourced claim `25%`"),
        "{}",
        run.stderr
    );
    let check = site.run(&["check"]);
    check.assert_ok();
    assert!(check.stderr.contains("unsourced claim `25%`"));
    site.run(&["check", "--strict"]).assert_error(&[
        "content/a.md:5:39",
        "unsourced claim `25%`",
        "[@key]",
    ]);
    site.run(&["build", "--strict"])
        .assert_error(&["content/a.md:5:39"]);
    let page = site.html("public/a/index.html");
    assert!(
        page.one("span.claim")
            .value()
            .classes()
            .any(|k| k == "claim-unsourced")
    );
}

#[test]
fn a_citation_in_another_sentence_does_not_source_a_figure() {
    let site = site_with("Sales fell 25%. The report says so [@bcg2020].\n", "");
    site.run(&["check", "--strict"])
        .assert_error(&["content/a.md:5:12", "unsourced claim `25%`"]);
}

#[test]
fn a_binding_sources_a_figure_and_its_value_is_checked() {
    // 830億 is stated to the nearest 億 (1e8): 83.04e9 agrees, 83.2e9 would not.
    let front = "claims:\n  - match: \"830億美元\"\n    source: bcg2020\n    locator: p. 4\n    value: 83.04e9\n    unit: USD\n";
    let site = site_with("市場損失830億美元。\n", front);
    site.run(&["check", "--strict"]).assert_ok();
    site.build().assert_ok();
    let rows: serde_json::Value = serde_json::from_str(&site.read("public/claims.json")).unwrap();
    assert_eq!(rows[0]["status"], "sourced");
    assert_eq!(rows[0]["sources"][0]["key"], "bcg2020");
    assert_eq!(rows[0]["sources"][0]["locator"], "p. 4");
    // 60% does not agree with 0.55.
    let front = "claims:\n  - match: \"60%\"\n    source: bcg2020\n    value: 0.55\n";
    let site = site_with("Their share fell to 60%.\n", front);
    site.build().assert_error(&[
        "content/a.md:",
        "`60%` (0.6 %) does not agree with the source's figure 0.55",
    ]);
}

#[test]
fn binding_errors_name_the_front_matter_line() {
    let front = "claims:\n  - match: \"$90 billion\"\n    source: bcg2020\n  - match: \"25%\"\n    source: bcg2021\n";
    let site = site_with("Tariffs rose 25%.\n", front);
    site.build().assert_error(&[
        "content/a.md:5:13",
        "`$90 billion` does not occur in the body",
        "content/a.md:7:13",
        "unknown source `bcg2021`",
        "did you mean `bcg2020`?",
    ]);
}

#[test]
fn not_claims_are_honoured() {
    let site = site_with(
        "The 2,000 pages of the rule run to 15 chapters. It is long [@bcg2020].\n",
        "not_claims: [\"2,000\", \"15 chapters\"]\n",
    );
    site.run(&["check", "--strict"]).assert_ok();
    site.build().assert_ok();
    let rows: serde_json::Value = serde_json::from_str(&site.read("public/claims.json")).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "not_claim"),
        "{rows}"
    );
}

#[test]
fn translations_must_agree_on_their_figures() {
    let site = TestSite::new();
    site.write("content/sources.yaml", SOURCES);
    site.write("content/en.md", "---\ntitle: E\ndate: 2024-01-01\ntranslation_key: t\n---\nLosses reach $83 billion [@bcg2020].\n");
    site.write("content/zh.md", "---\ntitle: Z\ndate: 2024-01-01\nlang: zh-Hant\ntranslation_key: t\n---\n損失達830億美元[@bcg2020]。\n");
    let run = site.run(&["check", "--strict"]);
    run.assert_ok();
    site.write("content/zh.md", "---\ntitle: Z\ndate: 2024-01-01\nlang: zh-Hant\ntranslation_key: t\n---\n損失達840億美元[@bcg2020]。\n");
    site.run(&["check", "--strict"]).assert_error(&[
        "content/en.md:6:14",
        "`$83 billion` (source bcg2020) has no counterpart in the zh-Hant translation, content/zh.md",
        "content/zh.md:7:4",
        "`840億美元` (source bcg2020) has no counterpart in the en translation, content/en.md",
    ]);
}

#[test]
fn the_claims_page_lists_every_claim_with_its_source() {
    let site = site_with(
        "US firms could lose $83 billion [@bcg2020, p. 4]. Tariffs rose 25%.\n",
        "",
    );
    site.build().assert_ok();
    let page = site.html("public/claims/index.html");
    let rows = page.all("#claims-table tbody tr");
    assert_eq!(rows.len(), 2);
    assert_eq!(page.texts(".claim-figure"), ["$83 billion", "25%"]);
    assert_eq!(
        page.attr("tbody tr:first-child .claim-figure a", "href"),
        "/a/#claim-1"
    );
    assert_eq!(
        page.texts("tbody tr:first-child .claim-source"),
        ["How Restricting Trade with China Could End US Semiconductor Leadership, p. 4"]
    );
    assert_eq!(
        page.texts("tbody tr:nth-child(2) .claim-source"),
        ["no source"]
    );
    page.one("input#claims-filter-input");
    let json: serde_json::Value = serde_json::from_str(&site.read("public/claims.json")).unwrap();
    assert_eq!(json[0]["value"], 8.3e10);
    assert_eq!(json[0]["unit"], "USD");
    assert_eq!(json[1]["value"], 0.25);
    assert_eq!(json[1]["status"], "unsourced");
    let sources = site.html("public/sources/index.html");
    assert!(
        sources
            .texts(".source-index li")
            .iter()
            .any(|r| r.contains("(1 note, 1 claim)"))
    );
}

#[test]
fn claims_list_prints_status_and_source() {
    let site = site_with(
        "US firms could lose $83 billion [@bcg2020, p. 4]. Tariffs rose 25%.\n",
        "",
    );
    let out = bin()
        .args(["claims", "list", "--root", site.root().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "content/a.md:5:21\tsourced\t$83 billion\tbcg2020 (p. 4)",
            "content/a.md:5:64\tunsourced\t25%\t"
        ]
    );
    let out = bin()
        .args([
            "claims",
            "list",
            "--json",
            "--root",
            site.root().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
}

#[test]
fn figures_in_code_headings_and_citations_are_not_claims() {
    let site = site_with(
        "## The 2024 rules in 5 points\n\n`rate = 25%` and [@bcg2020, p. 45].\n\n```\nx = 60%\n```\n",
        "",
    );
    site.run(&["check", "--strict"]).assert_ok();
}

#[test]
fn a_translation_counterpart_must_measure_the_same_thing() {
    // 60% (0.6) is not "one year" (1), however close the numbers.
    let site = TestSite::new();
    site.write("content/sources.yaml", SOURCES);
    site.write(
        "content/en.md",
        "---\ntitle: E\ndate: 2024-01-01\ntranslation_key: t\n---\nShares fell 60% [@bcg2020].\n",
    );
    site.write("content/zh.md", "---\ntitle: Z\ndate: 2024-01-01\nlang: zh-Hant\ntranslation_key: t\n---\n過去一年下滑[@bcg2020]。\n");
    site.run(&["check", "--strict"]).assert_error(&[
        "`60%` (source bcg2020) has no counterpart in the zh-Hant translation",
        "`一年` (source bcg2020) has no counterpart in the en translation",
    ]);
}

#[test]
fn a_long_claims_table_is_split_into_linked_pages() {
    let body: String = (1..=1001)
        .map(|i| format!("Output rose {i}% [@bcg2020].\n\n"))
        .collect();
    let site = site_with(&body, "");
    site.build().assert_ok();
    let first = site.html("public/claims/index.html");
    assert_eq!(first.all("#claims-table tbody tr").len(), 1000);
    assert_eq!(first.texts(".claim-figure")[0], "1%");
    assert_eq!(first.all("nav.pager").len(), 2);
    assert_eq!(
        first.attr("nav.pager:first-of-type a[rel=next]", "href"),
        "/claims/page/2/"
    );
    assert!(first.all("a[rel=prev]").is_empty());
    assert!(first.texts("nav.pager")[0].contains("Page 1 of 2: claims 1 to 1000 of 1001"));
    assert_eq!(
        first.texts("label[for=claims-filter-input]"),
        ["Filter this page"]
    );

    let second = site.html("public/claims/page/2/index.html");
    assert_eq!(second.texts(".claim-figure"), ["1001%"]);
    assert_eq!(
        second.attr("nav.pager:first-of-type a[rel=prev]", "href"),
        "/claims/"
    );
    assert!(second.all("a[rel=next]").is_empty());
    assert_eq!(
        second.attr("link[rel=canonical]", "href"),
        "https://example.org/claims/page/2/"
    );
    // The counts and claims.json cover the whole site.
    assert!(second.texts(".lede")[0].contains("1001 sourced"));
    let json: serde_json::Value = serde_json::from_str(&site.read("public/claims.json")).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1001);

    // One page: no pager.
    let small = site_with("Tariffs rose 25% [@bcg2020].\n", "");
    small.build().assert_ok();
    let page = small.html("public/claims/index.html");
    assert!(page.all("nav.pager").is_empty());
    assert!(!small.exists("public/claims/page"));
}
