//! Hostile and broken input, table-driven: each folder of `tests/fixtures/bad/` is a site, with
//! an `expect` file holding the exit code (first line) and the fragments stderr must contain.
//! A failing build writes nothing; no case panics.

use std::path::Path;

use crate::support::{TestSite, bin};

/// Copies a fixture, recreating symlinks as symlinks.
fn copy_case(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        let ft = entry.path().symlink_metadata().unwrap().file_type();
        if ft.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            #[cfg(unix)]
            std::os::unix::fs::symlink(target, &dest).unwrap();
        } else if ft.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

#[test]
fn every_bad_input_gets_its_exit_code_and_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 35, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expect = std::fs::read_to_string(case.join("expect")).unwrap();
        let mut lines = expect.lines();
        let code: i32 = lines.next().unwrap().trim().parse().unwrap();
        let site = TestSite::bare();
        copy_case(case, site.root());
        let out = bin()
            .args(["build", "--root"])
            .arg(site.root())
            .current_dir(site.root())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got = out.status.code().unwrap_or(-1);
        if got != code {
            failures.push(format!("{name}: exit {got}, expected {code}\n{stderr}"));
            continue;
        }
        for frag in lines.filter(|l| !l.is_empty()) {
            if !stderr.contains(frag) {
                failures.push(format!("{name}: stderr lacks {frag:?}\n{stderr}"));
            }
        }
        if stderr.contains("panicked") {
            failures.push(format!("{name}: panicked\n{stderr}"));
        }
        if code != 0 {
            if site
                .path("public")
                .symlink_metadata()
                .is_ok_and(|m| m.is_dir())
            {
                failures.push(format!("{name}: a failed build wrote public/"));
            }
            if name == "output-symlink" {
                assert_eq!(site.read("real-output/keep.txt"), "keep\n");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
