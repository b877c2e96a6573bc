//! The reader's view in a real browser (Debian's chromium, driven by playwright-core from
//! `tests/browser/`): source notes open with mouse, tap and keyboard, stay inside the viewport,
//! margin notes do not overlap, print shows the Notes list, no JavaScript errors; and axe-core
//! finds no serious or critical accessibility problem on the home page, both languages of the
//! flagship, a source page, the claims page and the search page, in the light and the dark
//! scheme; client-side search finds `稀土`, `124,000`, a word and a publisher.
//!
//! Every built page also loads at 320 px with no JavaScript or console error, no failed request
//! and no horizontal overflow. Screenshots of the checked pages at 1280 px and 375 px are left in
//! `target/tmp/screenshots/` for a person to look at. Every page of the demo build must also be
//! valid HTML by the Nu HTML Checker (`vnu.jar`, from the `vnu-jar` npm package, run with Java).
//!
//! Needs `/usr/bin/chromium` (or `$CHROMIUM`), `node`, `java`, and `npm ci` in `tests/browser/`
//! (`.ci/run` installs them all). Without them these tests fail, naming what is missing; set
//! `SOURCED_SKIP_BROWSER_TESTS=1` to skip them on purpose.

use std::path::Path;
use std::process::Command;

use crate::support::TestSite;

/// Whether the browser tests may run: `Ok(false)` when skipped on purpose; panics naming what
/// is missing otherwise, so a machine without a browser cannot pass them silently.
fn ready(need_browser: bool) -> bool {
    if std::env::var_os("SOURCED_SKIP_BROWSER_TESTS").is_some_and(|v| v == "1") {
        eprintln!("SOURCED_SKIP_BROWSER_TESTS=1: skipping browser test");
        return false;
    }
    if let Err(why) = missing(need_browser) {
        panic!(
            "browser tests cannot run: {why} (or set SOURCED_SKIP_BROWSER_TESTS=1 to skip them)"
        );
    }
    true
}

fn missing(need_browser: bool) -> Result<(), String> {
    if !need_browser {
        if Command::new("java").arg("-version").output().is_err() {
            return Err("java is missing (apt-get install default-jre-headless)".into());
        }
        if !vnu_jar().exists() {
            return Err(
                "tests/browser/node_modules is missing (cd tests/browser && npm ci)".into(),
            );
        }
        return Ok(());
    }
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
    if !ready(true) {
        return;
    }
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
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
        .env("SCREENSHOT_DIR", &shots)
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
    // Every page the server built, as a URL path (`public/a/b/index.html` -> `/a/b/`).
    let every_page: Vec<String> = walkdir::WalkDir::new(&site_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "index.html")
        .filter_map(|e| {
            let rel = e.path().parent()?.strip_prefix(&site_dir).ok()?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            Some(if rel.is_empty() {
                "/".to_string()
            } else {
                format!("/{rel}/")
            })
        })
        .collect();
    assert!(
        every_page.len() > 30,
        "only {} pages built",
        every_page.len()
    );
    let pages = Command::new("node")
        .arg(root.join("tests/browser/pages.mjs"))
        .arg(&url)
        .args(&every_page)
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
    succeeded("browser checks", out, "3 page(s) checked, 0 problem(s)");
    succeeded(
        "axe-core",
        axe,
        "6 page(s) audited, 0 serious or critical violation(s)",
    );
    succeeded(
        "page checks at 320px",
        pages,
        &format!("{} page(s) loaded at 320px, 0 problem(s)", every_page.len()),
    );
    succeeded("search checks", search, "5 queries, 0 problem(s)");
    for page in ["briefs_chip-controls", "briefs_chip-controls-zh"] {
        for width in [1280, 375] {
            let png = shots.join(format!("{page}-{width}.png"));
            let bytes = std::fs::read(&png).unwrap_or_default();
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
                "no screenshot at {}",
                png.display()
            );
        }
    }
}

/// Asserts that one of the Node scripts ran, exited 0 and printed its all-clear summary line.
fn succeeded(what: &str, run: std::io::Result<std::process::Output>, summary: &str) {
    let run = run.unwrap_or_else(|e| panic!("{what}: cannot run node: {e}"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && stdout.contains(summary),
        "{what} failed (expected \"{summary}\"):\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn vnu_jar() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/vnu-jar/build/dist/vnu.jar")
}

/// Every page the demo site builds is valid HTML by the Nu HTML Checker (errors only; the
/// checker's warnings, such as its advice on `lang` detection, are not failures).
#[test]
fn every_demo_page_is_valid_html() {
    if !ready(false) {
        return;
    }
    let out = TestSite::bare();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let build = crate::support::bin()
        .args(["build", "--root"])
        .arg(root)
        .arg("--output")
        .arg(out.path("public"))
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let pages: Vec<_> = walkdir::WalkDir::new(out.path("public"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| e.into_path())
        .collect();
    assert!(pages.len() > 30, "only {} pages built", pages.len());
    let vnu = Command::new("java")
        .arg("-jar")
        .arg(vnu_jar())
        .args(["--errors-only", "--format", "gnu"])
        .args(&pages)
        .output()
        .unwrap();
    assert!(
        vnu.status.success(),
        "the Nu HTML Checker found errors in {} pages:\n{}{}",
        pages.len(),
        String::from_utf8_lossy(&vnu.stdout),
        String::from_utf8_lossy(&vnu.stderr)
    );
}
