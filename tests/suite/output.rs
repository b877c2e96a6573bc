//! The output folder: swapped in atomically, never lost, `.git` and `CNAME` kept, and
//! dangerous folders refused.

use crate::support::{TestSite, brief, snapshot, text};

#[test]
fn a_failed_build_leaves_the_previous_output_byte_identical() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let before = snapshot(&site.path("public"));
    site.write("content/broken.md", "---\ntitle: [\n---\n");
    site.build().assert_error(&["content/broken.md"]);
    assert_eq!(snapshot(&site.path("public")), before);
    // No staging folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("sourced-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_template_failure_also_leaves_the_output_alone() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let before = snapshot(&site.path("public"));
    site.write("templates/brief.html", "{{ nope.nope }}");
    site.build().assert_error(&["templates/brief.html:1:"]);
    assert_eq!(snapshot(&site.path("public")), before);
}

#[test]
fn git_folder_git_file_and_cname_survive_builds() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    site.write("public/.git/x", "keep me");
    site.write("public/CNAME", "briefs.example.org\n");
    site.write("public/stale.html", "old");
    site.build().assert_ok();
    assert_eq!(site.read("public/.git/x"), "keep me");
    assert_eq!(site.read("public/CNAME"), "briefs.example.org\n");
    assert!(
        !site.exists("public/stale.html"),
        "files the build did not make are swept away"
    );
    // A worktree's `.git` file, too.
    std::fs::remove_dir_all(site.path("public/.git")).unwrap();
    site.write("public/.git", "gitdir: ../.git/worktrees/public\n");
    site.build().assert_ok();
    assert_eq!(
        site.read("public/.git"),
        "gitdir: ../.git/worktrees/public\n"
    );
}

#[test]
fn a_fresh_output_folder_with_only_git_and_cname_is_accepted() {
    let site = TestSite::fixture("basic");
    site.write("public/.git/HEAD", "ref: refs/heads/gh-pages\n");
    site.write("public/CNAME", "briefs.example.org\n");
    site.build().assert_ok();
    assert_eq!(site.read("public/CNAME"), "briefs.example.org\n");
    assert!(site.exists("public/index.html"));
}

#[test]
fn dangerous_output_folders_are_refused() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "Body\n"));
    let root = site.root().to_str().unwrap().to_string();
    for (out, why) in [
        (".".to_string(), "is the site root or contains it"),
        ("..".to_string(), "is the site root or contains it"),
        ("/".to_string(), "`/`"),
        (
            format!("{root}/content/out"),
            "inside the site's content/ folder",
        ),
    ] {
        site.run(&["build", "--output", &out]).assert_error(&[why]);
    }
    site.write(
        "site.yaml",
        "title: T\nbase_url: https://example.org/\noutput_dir: .\n",
    );
    site.build()
        .assert_error(&["site.yaml:3:13", "refusing this output folder"]);
    assert_eq!(
        site.read("content/a.md"),
        brief("A", "2024-01-01", "Body\n")
    );
}

#[test]
fn a_folder_of_someone_elses_files_is_refused() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "Body\n"));
    let other = TestSite::bare();
    other.write("src/main.rs", "precious");
    other.write("Cargo.toml", "precious");
    site.run(&["build", "--output", other.root().to_str().unwrap()])
        .assert_error(&["already holds files sourced did not write"]);
    assert_eq!(other.read("src/main.rs"), "precious");
    let looks_like_site = TestSite::new();
    looks_like_site.write("content/keep.md", "precious");
    site.run(&[
        "build",
        "--output",
        looks_like_site.root().to_str().unwrap(),
    ])
    .assert_error(&["looks like a site"]);
    assert_eq!(looks_like_site.read("content/keep.md"), "precious");
}

#[test]
fn the_home_folder_is_refused() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "Body\n"));
    let home = TestSite::bare();
    home.write("notes.txt", "mine");
    let out = crate::support::bin()
        .args([
            "build",
            "--root",
            site.root().to_str().unwrap(),
            "--output",
            home.root().to_str().unwrap(),
        ])
        .current_dir(site.root())
        .env("HOME", home.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("home folder"));
    assert_eq!(home.read("notes.txt"), "mine");
}

#[cfg(unix)]
#[test]
fn a_symlinked_output_folder_is_refused() {
    let site = TestSite::new();
    site.write("content/a.md", brief("A", "2024-01-01", "Body\n"));
    let elsewhere = TestSite::bare();
    elsewhere.write("mine.txt", "mine");
    std::os::unix::fs::symlink(elsewhere.root(), site.path("public")).unwrap();
    site.build().assert_error(&["is a symlink"]);
    assert_eq!(elsewhere.read("mine.txt"), "mine");
}

#[cfg(unix)]
#[test]
fn a_content_symlink_pointing_outside_the_site_is_refused() {
    let site = TestSite::new();
    let outside = TestSite::bare();
    outside.write("secret.md", brief("Secret", "2024-01-01", "secret\n"));
    std::os::unix::fs::symlink(outside.path("secret.md"), site.path("content/leak.md")).unwrap();
    site.build()
        .assert_error(&["content/leak.md is a symlink that points outside the site"]);
}

#[test]
fn a_rebuild_rewrites_only_what_changed_and_matches_a_fresh_build() {
    use std::os::unix::fs::MetadataExt;
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let stamp = |rel: &str| {
        let m = std::fs::metadata(site.path(rel)).unwrap();
        (m.ino(), m.mtime_nsec(), m.mtime())
    };
    let style = stamp("public/style.css");
    let methods = stamp("public/briefs/notes/methods/index.html");
    let edited = stamp("public/rare-earth-leverage/index.html");
    // Leftovers of another era: a stale page in its own folder, and a folder where a file goes.
    site.write("public/old-brief/index.html", "old");
    std::fs::remove_file(site.path("public/feed.xml")).unwrap();
    site.write("public/feed.xml/stray.txt", "in the way");
    let edit = site
        .read("content/rare-earths.md")
        .replace("China refines most", "China still refines most");
    site.write("content/rare-earths.md", edit);
    std::thread::sleep(std::time::Duration::from_millis(20));
    site.build().assert_ok();

    assert_eq!(
        stamp("public/style.css"),
        style,
        "unchanged files are not rewritten"
    );
    assert_eq!(stamp("public/briefs/notes/methods/index.html"), methods);
    assert_ne!(stamp("public/rare-earth-leverage/index.html"), edited);
    let page = site.html("public/rare-earth-leverage/index.html");
    assert!(text(&page.one("main")).contains("China still refines most"));
    assert!(
        !site.exists("public/old-brief"),
        "stale pages and their folders go"
    );
    assert!(
        std::fs::metadata(site.path("public/feed.xml"))
            .unwrap()
            .is_file()
    );

    // The updated folder holds exactly what a build into an empty folder holds.
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("out");
    site.run(&["build", "--output", out.to_str().unwrap()])
        .assert_ok();
    assert_eq!(snapshot(&site.path("public")), snapshot(&out));
}

#[test]
fn claims_json_is_streamed_and_rewritten_only_when_it_changes() {
    use std::os::unix::fs::MetadataExt;
    let site = TestSite::new();
    site.write(
        "content/sources.yaml",
        "iea2023:\n  title: Critical Minerals Outlook\n  publisher: IEA\n  date: 2023\n",
    );
    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\n---\nOutput rose 12% in 2023 [@iea2023].\n",
    );
    site.build().assert_ok();
    let stamp = || {
        let m = std::fs::metadata(site.path("public/claims.json")).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let first = stamp();
    std::thread::sleep(std::time::Duration::from_millis(20));
    site.build().assert_ok();
    assert_eq!(stamp(), first, "an unchanged claims.json is left alone");

    site.write(
        "content/a.md",
        "---\ntitle: A\ndate: 2024-01-01\n---\nOutput grew 12% in 2023 [@iea2023].\n",
    );
    site.build().assert_ok();
    assert_ne!(stamp(), first);
    let json: serde_json::Value = serde_json::from_str(&site.read("public/claims.json")).unwrap();
    assert_eq!(json[0]["sentence"], "Output grew 12% in 2023.");
    assert_eq!(json.as_array().unwrap().len(), 1);
}

#[test]
fn a_rebuild_never_reads_or_writes_through_a_symlinked_folder_in_the_output() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    let outside = TestSite::bare();
    let elsewhere = outside.path("tags");
    std::fs::rename(site.path("public/tags"), &elsewhere).unwrap();
    std::fs::write(elsewhere.join("index.html"), "not ours").unwrap();
    let before = snapshot(&elsewhere);
    std::os::unix::fs::symlink(&elsewhere, site.path("public/tags")).unwrap();
    site.build().assert_ok();

    assert_eq!(
        snapshot(&elsewhere),
        before,
        "the symlink's target is untouched"
    );
    let tags = std::fs::symlink_metadata(site.path("public/tags")).unwrap();
    assert!(tags.is_dir(), "the symlink is replaced by a real folder");
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("out");
    site.run(&["build", "--output", out.to_str().unwrap()])
        .assert_ok();
    assert_eq!(snapshot(&site.path("public")), snapshot(&out));
}

#[test]
fn a_rebuild_replaces_a_symlinked_or_special_file_even_when_its_bytes_match() {
    let site = TestSite::fixture("basic");
    site.build().assert_ok();
    // A symlink to a file holding exactly the page's bytes, and a FIFO where a page goes
    // (opening a FIFO to compare it would wait forever for a writer).
    let outside = TestSite::bare();
    let copy = outside.path("robots.txt");
    std::fs::copy(site.path("public/robots.txt"), &copy).unwrap();
    std::fs::remove_file(site.path("public/robots.txt")).unwrap();
    std::os::unix::fs::symlink(&copy, site.path("public/robots.txt")).unwrap();
    std::fs::remove_file(site.path("public/404.html")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(site.path("public/404.html"))
        .status()
        .unwrap();
    assert!(fifo.success());
    site.build().assert_ok();

    for page in ["public/robots.txt", "public/404.html"] {
        let m = std::fs::symlink_metadata(site.path(page)).unwrap();
        assert!(m.is_file(), "{page} is a plain file again");
    }
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("out");
    site.run(&["build", "--output", out.to_str().unwrap()])
        .assert_ok();
    assert_eq!(snapshot(&site.path("public")), snapshot(&out));
}

#[test]
fn a_rebuild_trusts_its_manifest_only_as_far_as_the_output_agrees_with_it() {
    let site = TestSite::fixture("basic");
    let cache = tempfile::tempdir().unwrap();
    // Its own cache folder, so that the manifest written is this site's alone.
    let build = || {
        site.run_with(&["build"], |cmd| {
            cmd.env("SOURCED_CACHE_DIR", cache.path());
        })
        .assert_ok();
    };
    build();
    let manifests = std::fs::read_dir(cache.path().join("outputs")).unwrap();
    assert_eq!(
        manifests.count(),
        1,
        "the build keeps one manifest in the cache folder"
    );
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("out");
    site.run(&["build", "--output", out.to_str().unwrap()])
        .assert_ok();
    let expected = snapshot(&out);

    // Straight after a build: a page edited in place to the same size, a file planted in
    // a folder of the site, a whole planted folder tree, and a page removed.
    let tamper = || {
        let page = "public/briefs/notes/methods/index.html";
        let edited = site.read(page).replacen("<title>", "<TITLE>", 1);
        std::fs::write(site.path(page), edited).unwrap();
        site.write("public/briefs/stray.html", "stray");
        site.write("public/planted/deep/file.txt", "planted");
        std::fs::remove_file(site.path("public/style.css")).unwrap();
    };
    tamper();
    build();
    assert_eq!(
        snapshot(&site.path("public")),
        expected,
        "the rebuild finds every change the manifest does not know of"
    );

    // A folder of the site replaced by a file: the manifest no longer fits the output and
    // is not used.
    std::fs::remove_dir_all(site.path("public/tags")).unwrap();
    site.write("public/tags", "a file where a folder was");
    tamper();
    build();
    assert_eq!(snapshot(&site.path("public")), expected);

    // Nor is a damaged manifest: the build reads and lists the whole output instead.
    for m in std::fs::read_dir(cache.path().join("outputs")).unwrap() {
        std::fs::write(m.unwrap().path(), "sourced output manifest 1\ngarbage\n").unwrap();
    }
    tamper();
    build();
    assert_eq!(snapshot(&site.path("public")), expected);
}
