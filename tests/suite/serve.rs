//! `sourced serve`: a real server on an ephemeral loopback port, fetched over raw HTTP; edits
//! produce a reload event and the new page; a broken save keeps the old site and sends the
//! diagnostics; traversal attempts and foreign Host headers are refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::{TestSite, bin, brief};

/// A running server, stopped (SIGTERM, then kill) when dropped.
struct Server {
    child: Child,
    port: u16,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(site: &TestSite) -> Server {
    start_with(site, &[])
}

/// Starts `sourced serve` on a free port with extra arguments; the server's URL is in `url`.
fn start_with(site: &TestSite, extra: &[&std::ffi::OsStr]) -> Server {
    let (child, url) = crate::support::spawn_serve(site.root(), site.root(), extra);
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no URL in {url:?}"));
    Server { child, port, url }
}

/// (status, headers lowercased, body) of a raw GET.
fn get_with_host(port: u16, path: &str, host: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

fn get(port: u16, path: &str) -> (u16, String, String) {
    get_with_host(port, path, &format!("127.0.0.1:{port}"))
}

/// Reads server-sent events until one named `name` arrives; returns its data.
fn wait_event(events: &mut BufReader<TcpStream>, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut current = String::new();
    while Instant::now() < deadline {
        let mut line = String::new();
        match events.read_line(&mut line) {
            Ok(0) => panic!("event stream closed"),
            Ok(_) => {}
            Err(_) => continue,
        }
        let line = line.trim_end();
        if let Some(e) = line.strip_prefix("event: ") {
            current = e.to_string();
        } else if let Some(d) = line.strip_prefix("data: ")
            && current == name
        {
            return d.to_string();
        }
    }
    panic!("no `{name}` event within 10 s");
}

fn subscribe(port: u16) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        s,
        "GET /__sourced/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    BufReader::new(s)
}

#[test]
fn serves_the_site_with_local_urls_types_and_404() {
    let site = TestSite::fixture("basic");
    let server = start(&site);
    let port = server.port;
    let (status, head, body) = get(port, "/");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    let page = scraper::Html::parse_document(&body);
    let canonical = scraper::Selector::parse("link[rel=canonical]").unwrap();
    let href = page
        .select(&canonical)
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap();
    assert_eq!(
        href,
        format!("http://127.0.0.1:{port}/"),
        "served pages use the local URL"
    );
    let script = scraper::Selector::parse("script[src='/__sourced/live.js']").unwrap();
    assert_eq!(
        page.select(&script).count(),
        1,
        "live reload is injected while serving"
    );
    let (status, head, _) = get(port, "/style.css");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/css"), "{head}");
    let (status, _, body) = get(port, "/no/such/page/");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
    let (status, head, _) = get(port, "/briefs");
    assert_eq!(status, 301);
    assert!(head.contains("location: /briefs/"), "{head}");
    // `build` output never carries the script.
    site.build().assert_ok();
    assert!(!site.read("public/index.html").contains("__sourced"));
}

#[test]
fn an_edit_rebuilds_and_reloads_open_pages() {
    let site = TestSite::fixture("basic");
    let server = start(&site);
    let mut events = subscribe(server.port);
    std::thread::sleep(Duration::from_millis(300));
    let path = site.path("content/rare-earths.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\nA freshly saved paragraph.\n")).unwrap();
    wait_event(&mut events, "reload");
    let (status, _, body) = get(server.port, "/rare-earth-leverage/");
    assert_eq!(status, 200);
    assert!(body.contains("A freshly saved paragraph."));
}

#[test]
fn a_broken_save_keeps_the_old_site_and_reports_to_the_page() {
    let site = TestSite::fixture("basic");
    let server = start(&site);
    let mut events = subscribe(server.port);
    std::thread::sleep(Duration::from_millis(300));
    site.write("content/broken.md", "---\ntitle: [\n---\n");
    let report = wait_event(&mut events, "build-error");
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    let position = json["diagnostics"][0]["position"].as_str().unwrap();
    assert!(position.starts_with("content/broken.md:"), "{position}");
    assert!(json["diagnostics"][0]["hint"].is_string());
    let (status, _, body) = get(server.port, "/rare-earth-leverage/");
    assert_eq!(status, 200, "the last good build is still served");
    assert!(body.contains("Rare earths"));
    // A page opened now gets the report at once.
    let mut late = subscribe(server.port);
    wait_event(&mut late, "build-error");
    std::fs::remove_file(site.path("content/broken.md")).unwrap();
    wait_event(&mut events, "reload");
}

#[test]
fn traversal_and_foreign_hosts_are_refused() {
    let site = TestSite::fixture("basic");
    site.write("secret.txt", "do not serve");
    let server = start(&site);
    for path in [
        "/../secret.txt",
        "/../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/briefs/%2e%2e/%2e%2e/secret.txt",
        "//etc/passwd",
        "/.sourced-output",
        "/..%5csecret.txt",
    ] {
        let (status, _, body) = get(server.port, path);
        assert_eq!(status, 404, "{path}");
        assert!(
            !body.contains("do not serve") && !body.contains("root:"),
            "{path}"
        );
    }
    let (status, _, _) = get_with_host(server.port, "/", "attacker.example");
    assert_eq!(status, 403);
}

#[test]
fn survives_moving_the_brief_folder() {
    let site = TestSite::fixture("basic");
    let server = start(&site);
    let mut events = subscribe(server.port);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::rename(site.path("content/briefs"), site.root().join("briefs-away")).unwrap();
    // Links into the moved folder now fail to build: the old site stays up.
    wait_event(&mut events, "build-error");
    assert_eq!(get(server.port, "/briefs/chip-controls/").0, 200);
    std::fs::rename(site.root().join("briefs-away"), site.path("content/briefs")).unwrap();
    wait_event(&mut events, "reload");
    let path = site.path("content/briefs/chip-controls.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\nStill watched after the move.\n")).unwrap();
    wait_event(&mut events, "reload");
    assert!(
        get(server.port, "/briefs/chip-controls/")
            .2
            .contains("Still watched after the move.")
    );
}

/// Asserts that `serve`'s output in `out` is what `build` makes of the same files (the search
/// index aside: `serve` rebuilds it on full rebuilds only, as documented).
fn same_as_full_build(
    site: &TestSite,
    preview: &TestSite,
    out: &std::path::Path,
    url: &str,
    label: &str,
) {
    let full = preview.path(&format!("full-{label}"));
    let run = bin()
        .args(["build", "--root"])
        .arg(site.root())
        .args(["--base-url", url, "--output"])
        .arg(&full)
        .current_dir(preview.root())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The search index is rebuilt on full rebuilds only (documented); compare the rest.
    let no_search = |v: Vec<(std::path::PathBuf, Vec<u8>)>| {
        v.into_iter()
            .filter(|(p, _)| !p.starts_with("pagefind"))
            .collect::<Vec<_>>()
    };
    let a = no_search(crate::support::snapshot(out));
    let b = no_search(crate::support::snapshot(&full));
    let names =
        |v: &[(std::path::PathBuf, Vec<u8>)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{label}: different files");
    for ((p, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{label}: {p:?} differs from a full build");
    }
}

#[test]
fn a_partial_rebuild_equals_a_full_build_of_the_same_files() {
    let site = TestSite::fixture("cited");
    let preview = TestSite::bare();
    let out = preview.path("preview");
    let server = start_with(&site, &["--output".as_ref(), out.as_os_str()]);
    let url = server.url.clone();
    let mut events = subscribe(server.port);
    std::thread::sleep(Duration::from_millis(300));
    // Each step edits a file in place, waits for the reload, and compares with a full build.
    let mut step = |file: &str, change: &dyn Fn(String) -> String, label: &str| {
        let path = site.path(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, change(text)).unwrap();
        wait_event(&mut events, "reload");
        same_as_full_build(&site, &preview, &out, &url, label);
    };
    let minerals = "content/minerals.md";
    // A body edit: a new sentence with a figure and a citation (claims, notes, source pages).
    step(
        minerals,
        &|t| format!("{t}\nOutput rose 12% in 2023 [@iea2023, table 3].\n"),
        "body",
    );
    // The same figure and citation in a reworded sentence (claims table, claims.json and the
    // source page's citing sentence; counts unchanged).
    step(
        minerals,
        &|t| t.replace("Output rose 12% in 2023", "Output grew 12% in 2023"),
        "reworded",
    );
    // A prose-only edit.
    step(minerals, &|t| format!("{t}\nPlain words only.\n"), "prose");
    // A source retitled in a brief's front matter (the bibliography changes; `serve` rebuilds
    // the whole site): the source index re-sorts by title, and the source page follows.
    step(
        "content/chips.md",
        &|t| {
            t.replacen(
                "title: \"In Fencing China Out, Is Washington Fencing Itself In?\"",
                "title: \"Zero-sum thinking in export controls\"",
                1,
            )
        },
        "source retitled",
    );
    // A front-matter edit (a full rebuild).
    step(
        minerals,
        &|t| t.replacen("title: \"Minerals\"", "title: \"Critical minerals\"", 1),
        "front matter",
    );
}

#[test]
fn a_source_index_page_gone_after_an_edit_is_gone_from_the_preview() {
    // 1,000 site-wide sources and one more defined in a brief: two index pages, until the
    // brief no longer defines it (its sources changed: `serve` rebuilds the whole site and
    // must drop the page no longer made).
    let sources: String = (1..=1000)
        .map(|i| format!("s{i:04}:\n  title: Source {i:04}\n  publisher: P\n  date: 2020\n"))
        .collect();
    let cites: String = (1..=1000)
        .map(|i| format!("Cited [@s{i:04}].\n\n"))
        .collect();
    let site = TestSite::new();
    site.write("content/sources.yaml", sources);
    site.write("content/a.md", brief("A", "2024-01-01", &cites));
    let own = "---\ntitle: B\ndate: 2024-01-02\nsources:\n  own:\n    title: Own\n    publisher: P\n    date: 2020\n---\nCited [@own].\n";
    site.write("content/b.md", own);
    let preview = TestSite::bare();
    let out = preview.path("preview");
    let server = start_with(&site, &["--output".as_ref(), out.as_os_str()]);
    let mut events = subscribe(server.port);
    std::thread::sleep(Duration::from_millis(300));
    assert!(out.join("sources/page/2/index.html").is_file());
    site.write(
        "content/b.md",
        "---\ntitle: B\ndate: 2024-01-02\nsources: {}\n---\nNothing cited.\n",
    );
    wait_event(&mut events, "reload");
    assert!(!out.join("sources/page/2/index.html").exists());
    same_as_full_build(&site, &preview, &out, &server.url, "one page fewer");
}
