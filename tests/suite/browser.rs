//! The reader's view in a real browser (Debian's chromium, driven by playwright-core from
//! `tests/browser/`): source notes open with mouse, tap and keyboard, stay inside the viewport,
//! margin notes do not overlap, print shows the Notes list, no JavaScript errors; and axe-core
//! finds no serious or critical accessibility problem on the home page, both languages of the
//! flagship, a source page, the claims page and the search page, in the light and the dark
//! scheme; client-side search finds `稀土`, `124,000`, a word and a publisher.
//!
//! Needs `/usr/bin/chromium` (or `$CHROMIUM`), `node`, and `npm ci` in `tests/browser/`
//! (`.ci/run` installs all three). Without them the test is skipped locally and fails in CI.

use std::path::Path;
use std::process::Command;

use crate::support::TestSite;

fn ready() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("{chromium} is missing (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is missing".into());
    }
    let modules =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/playwright-core");
    if !modules.exists() {
        return Err("tests/browser/node_modules is missing (cd tests/browser && npm ci)".into());
    }
    Ok(())
}

#[test]
fn notes_and_accessibility_in_a_real_browser() {
    if let Err(why) = ready() {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser tests cannot run in CI: {why}"
        );
        eprintln!("skipping browser test: {why}");
        return;
    }
    let preview = TestSite::bare();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site_dir = preview.path("site");
    let (mut child, url) = crate::support::spawn_serve(
        root,
        preview.root(),
        &["--output".as_ref(), site_dir.as_os_str()],
    );
    let url = url.trim_end_matches('/').to_string();
    let out = Command::new("node")
        .arg(root.join("tests/browser/notes.mjs"))
        .arg(&url)
        .args([
            "/briefs/chip-controls/",
            "/briefs/chip-controls-zh/",
            "/briefs/rare-earths/",
        ])
        .output();
    let search = Command::new("node")
        .arg(root.join("tests/browser/search.mjs"))
        .arg(&url)
        .output();
    let axe = Command::new("node")
        .arg(root.join("tests/browser/axe.mjs"))
        .arg(&url)
        .args([
            "/",
            "/briefs/chip-controls/",
            "/briefs/chip-controls-zh/",
            "/sources/bcg-2020/",
            "/claims/",
            "/search/",
        ])
        .output();
    // Stop the server: SIGTERM lets it remove its folder; kill it if that does not work.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = out.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let axe = axe.unwrap();
    let axe_out = String::from_utf8_lossy(&axe.stdout);
    assert!(
        axe.status.success(),
        "axe-core found serious or critical problems:\n{axe_out}\n{}",
        String::from_utf8_lossy(&axe.stderr)
    );
    assert!(
        axe_out.contains("6 page(s) audited, 0 serious or critical violation(s)"),
        "{axe_out}"
    );
    let search = search.unwrap();
    let search_out = String::from_utf8_lossy(&search.stdout);
    assert!(
        search.status.success(),
        "search checks failed:\n{search_out}\n{}",
        String::from_utf8_lossy(&search.stderr)
    );
    assert!(
        search_out.contains("4 queries, 0 problem(s)"),
        "{search_out}"
    );
    assert!(
        stdout.contains("3 page(s) checked, 0 problem(s)"),
        "{stdout}"
    );
}
