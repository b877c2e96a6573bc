//! Bad input: each error names `file:line:col`, says what is wrong and how to fix it, all
//! problems of a run are reported together, and the exit code is 1 (2 for usage errors).

use crate::support::{TestSite, brief};

#[test]
fn unknown_site_yaml_key_has_a_did_you_mean_hint() {
    let site = TestSite::new();
    site.write(
        "site.yaml",
        "title: T\nbase_url: https://example.org/\noutput_dri: out\n",
    );
    site.build().assert_error(&[
        "site.yaml:3:1",
        "unknown key `output_dri`",
        "did you mean `output_dir`?",
    ]);
}

#[test]
fn site_yaml_needs_title_and_a_valid_base_url() {
    let site = TestSite::new();
    site.write("site.yaml", "base_url: ftp://example.org/\n");
    site.build().assert_error(&[
        "site.yaml needs a `title`",
        "site.yaml:1:11",
        "invalid `base_url`",
    ]);
}

#[test]
fn missing_site_yaml_says_how_to_start() {
    let site = TestSite::bare();
    site.build().assert_error(&["no site.yaml", "sourced init"]);
}

#[test]
fn front_matter_errors_point_into_the_md_file() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-13-45\nsumary: x\n---\nBody\n",
    );
    site.build().assert_error(&[
        "content/a.md:3:7",
        "`2024-13-45` is not a valid date",
        "content/a.md:4:1",
        "unknown key `sumary`",
        "did you mean `summary`?",
    ]);
}

#[test]
fn yaml_syntax_error_is_at_the_line_in_the_md_file() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\ntags: [a, b\nsummary: x\n---\n",
    );
    let run = site.build();
    run.assert_error(&["content/a.md:", "invalid YAML in front matter"]);
    let line: usize = run
        .stderr
        .split("content/a.md:")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (4..=6).contains(&line),
        "line {line} is not in the front matter's lines 4-6"
    );
}

#[test]
fn missing_and_null_required_keys() {
    let site = TestSite::new();
    site.write("content/a.md", "---\ntitle: ~\ndate: 2024-01-01\n---\n");
    site.write("content/b.md", "---\ntitle: B\n---\n");
    site.build().assert_error(&[
        "content/a.md:2:8",
        "brief needs a `title`",
        "content/b.md:1:1",
        "brief needs a `date`",
    ]);
}

#[test]
fn wrong_types_and_duplicate_keys() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\ndraft: maybe\n---\n",
    );
    site.write(
        "content/b.md",
        "---\ntitle: B\ndate: 2024-01-01\ntitle: C\n---\n",
    );
    site.build().assert_error(&[
        "content/a.md:4:8",
        "wrong type",
        "content/b.md:4:1",
        "duplicate key `title`",
        "first defined on line 2",
    ]);
}

#[test]
fn front_matter_must_exist_and_be_closed() {
    let site = TestSite::new();
    site.write("content/a.md", "just text\n");
    site.write("content/b.md", "---\ntitle: B\ndate: 2024-01-01\n");
    site.write("content/c.md", "");
    site.build().assert_error(&[
        "content/a.md:1:1",
        "brief has no front matter",
        "content/b.md:1:1",
        "front matter is not closed",
        "content/c.md:1:1",
    ]);
}

#[test]
fn bom_and_crlf_files_are_accepted_and_non_utf8_is_named() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "\u{feff}---\r\ntitle: A\r\ndate: 2024-01-01\r\n---\r\nBody\r\n",
    );
    site.build().assert_ok();
    assert_eq!(
        site.html("public/a/index.html").texts("h1.brief-title"),
        ["A"]
    );
    site.write("content/b.md", b"---\ntitle: \xff\n---\n");
    site.build()
        .assert_error(&["content/b.md is not valid UTF-8"]);
}

#[test]
fn two_files_at_one_url_are_an_error_naming_both() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", ""));
    site.write(
        "content/b.md",
        "---\ntitle: B\ndate: 2024-01-01\nslug: a\n---\n",
    );
    site.write("content/Other Name.md", brief("O", "2024-01-01", ""));
    site.write("content/other-name.md", brief("O2", "2024-01-01", ""));
    site.build().assert_error(&[
        "content/b.md:4:7",
        "would both be published at /a/",
        "content/a.md",
        "would both be published at /other-name/",
    ]);
}

#[test]
fn invalid_slug_gets_a_suggestion() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\nslug: ../Evil Path\n---\n",
    );
    site.build().assert_error(&[
        "content/a.md:4:7",
        "not a valid URL segment",
        "slug: evil-path",
    ]);
}

#[test]
fn every_problem_of_a_run_is_reported_together() {
    let site = TestSite::new();
    site.write("content/a.md", "---\ntitle: A\ndate: nope\n---\n");
    site.write("content/b.md", brief("B", "2024-01-01", "[x](gone.md)\n"));
    site.write(
        "content/c.md",
        "---\ntitle: C\ndate: 2024-01-01\nlang: english\n---\n",
    );
    let run = site.build();
    run.assert_error(&[
        "content/a.md:3:7",
        "content/b.md:5:1",
        "content/c.md:4:7",
        "3 errors",
    ]);
    // Sorted by file, so the report reads top to bottom.
    let a = run.stderr.find("content/a.md").unwrap();
    let b = run.stderr.find("content/b.md").unwrap();
    assert!(a < b);
}

#[test]
fn template_errors_name_the_template_line() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "Body\n"));
    site.write(
        "templates/tags.html",
        "{% extends \"base.html\" %}\n{% block main %}\n{{ missing_variable.field }}\n{% endblock main %}\n",
    );
    site.build()
        .assert_error(&["templates/tags.html:3:", "template error"]);
    site.write("templates/tags.html", "{% if %}\n");
    site.build()
        .assert_error(&["templates/tags.html:1:", "template syntax error"]);
}

#[test]
fn usage_errors_exit_2() {
    let site = TestSite::new();
    let run = site.run(&["build", "--no-such-flag"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = site.run(&["frobnicate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn strict_turns_warnings_into_errors() {
    let site = TestSite::new();
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", "Text <b>bold</b>\n"),
    );
    let run = site.build();
    run.assert_ok();
    assert!(
        run.stderr.contains("warning: content/a.md:5:6"),
        "{}",
        run.stderr
    );
    site.run(&["build", "--strict"])
        .assert_error(&["content/a.md:5:6", "raw HTML"]);
    site.write(
        "site.yaml",
        "title: T\nbase_url: https://example.org/\nstrict: true\n",
    );
    site.build().assert_error(&["raw HTML"]);
}

#[test]
fn build_lists_the_first_hundred_warnings_and_check_lists_all() {
    let site = TestSite::new();
    let figures: String = (1..=60).map(|i| format!("{i}% ")).collect();
    for name in ["a", "b", "c"] {
        site.write(
            &format!("content/{name}.md"),
            brief(name, "2024-01-01", &format!("{figures}\n")),
        );
    }
    // 3 briefs x (50 listed + 1 "more unsourced figures") = 153 warnings.
    let run = site.build();
    run.assert_ok();
    let listed = |stderr: &str| {
        stderr
            .lines()
            .filter(|l| l.starts_with("warning: ") && l.contains("unsourced claim `"))
            .count()
    };
    let headers = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .count();
    assert_eq!(headers, 100, "build shows exactly 100 warnings");
    assert!(listed(&run.stderr) < 100);
    assert!(
        run.stderr
            .contains("53 more warnings not shown (`sourced check` lists them all)")
    );
    assert!(run.stderr.contains(", 153 warnings"), "{}", run.stderr);
    let check = site.run(&["check"]);
    check.assert_ok();
    assert_eq!(listed(&check.stderr), 150);
    let more = check.stderr.lines().filter(|l| {
        l.starts_with("warning: ") && l.ends_with("10 more unsourced figures in this brief")
    });
    assert_eq!(more.count(), 3);
}

#[test]
fn build_shows_the_first_warnings_by_file_whatever_order_briefs_are_parsed_in() {
    // 1,100 briefs, newest first in the site but named oldest first: a build parses them in
    // site order, in parallel batches, yet lists the warnings of the first files by name.
    let site = TestSite::new();
    for k in 0..1100 {
        site.write(
            &format!("content/b{k:04}.md"),
            format!(
                "---\ntitle: B{k}\ndate: {}-{:02}-01\n---\nOutput rose 7%.\n",
                1900 + k / 12,
                1 + k % 12
            ),
        );
    }
    let run = site.build();
    run.assert_ok();
    let files: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .filter_map(|l| l.split(':').next())
        .collect();
    let expected: Vec<String> = (0..100).map(|k| format!("content/b{k:04}.md")).collect();
    assert_eq!(files, expected);
    assert!(
        run.stderr
            .contains("1000 more warnings not shown (`sourced check` lists them all)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(", 1100 warnings"), "{}", run.stderr);
}

#[test]
fn check_lists_every_warning_with_snippets_for_the_first_200_then_one_line_each() {
    let site = TestSite::new();
    for b in 0..6 {
        let body: String = (1..=50).map(|i| format!("Output rose {i}%.\n\n")).collect();
        site.write(
            &format!("content/b{b}.md"),
            format!("---\ntitle: B{b}\ndate: 2024-01-0{}\n---\n{body}", b + 1),
        );
    }
    let run = site.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let firsts: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: content/b"))
        .collect();
    assert_eq!(firsts.len(), 300, "every warning is listed");
    assert!(firsts.contains(&"warning: content/b5.md:103:13: unsourced claim `50%`"));
    assert_eq!(run.stderr.matches("help: cite the source").count(), 200);
    assert!(
        run.stderr
            .contains("(100 warnings after the first 200 are shown one per line)")
    );
}

/// With the search index off, brief pages stream straight to their files: a template error
/// there is still reported at the template's line and names the brief, the run fails, and the
/// previous output stays as it was.
#[test]
fn a_brief_template_error_while_streaming_keeps_the_previous_output() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "Body\n"));
    site.run(&["build", "--no-search"]).assert_ok();
    let before = site.read("public/a/index.html");
    site.write(
        "templates/brief.html",
        "{% extends \"base.html\" %}\n{% block main %}\n<p>{{ brief.title }}</p>\n{{ brief.missing.field }}\n{% endblock main %}\n",
    );
    site.run(&["build", "--no-search"]).assert_error(&[
        "templates/brief.html:4:",
        "template error",
        "content/a.md",
    ]);
    assert_eq!(site.read("public/a/index.html"), before);
}

/// The snippet's header names the same `line:col` as the message above it, counted in
/// characters, after Chinese text too (the header once counted bytes: `6:62` under `6:22`).
#[test]
fn the_snippet_header_counts_the_column_in_characters_as_the_message_does() {
    let site = TestSite::new();
    site.write(
        "content/zh.md",
        "---\ntitle: \"晶片\"\ndate: 2024-01-01\nlang: zh-Hant\n---\n\
         中國的晶片進口在過去幾年內大幅增加，達到 60%。\n",
    );
    site.run(&["check"]).assert_warns(&[
        "warning: content/zh.md:6:22: unsourced claim `60%`",
        "╭─[content/zh.md:6:22]",
    ]);
}

/// A paragraph written on one long line is shown cut around the marked figure, with the
/// header still naming the figure's real column; no line of the message runs much past the
/// terminal's width (once the whole 600-character line was printed, and a 560-space marker).
#[test]
fn a_long_line_is_shown_cut_around_the_marked_figure() {
    let site = TestSite::new();
    let paragraph = format!(
        "{}Spending per person is 17 times higher than in 2001.{}",
        "Ministries could benefit from cross-border data flows, and the evidence is thin. "
            .repeat(4),
        " Utilities are reassessing data flows, and the picture differs by income group.".repeat(4),
    );
    site.write(
        "content/a.md",
        brief("A", "2024-01-01", &format!("Short.\n\n{paragraph}\n")),
    );
    let col = paragraph.find("17 times").unwrap() + 1;
    let run = site.run(&["check"]);
    run.assert_warns(&[
        &format!("warning: content/a.md:7:{col}: unsourced claim `17 times`"),
        &format!("╭─[content/a.md:7:{col}]"),
        "│ …",
        "17 times higher than in 2001.",
    ]);
    let widest = run.stderr.lines().map(|l| l.chars().count()).max();
    assert!(widest.is_some_and(|w| w <= 120), "{}", run.stderr);
}
