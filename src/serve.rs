//! `sourced serve`: build the site into a private folder, serve it over HTTP on loopback, watch
//! the site's inputs, rebuild on change, and reload open pages (server-sent events).
//!
//! Each rebuild writes a fresh generation folder and only then becomes the one served, so a
//! reader sees the old site or the new one, never half of each. A failed rebuild keeps the last
//! good generation and sends the diagnostics to open pages, which show them in an overlay until
//! the next good build. The live-reload script is injected into HTML responses here only; the
//! files `build` writes never contain it. Requests are confined to the generation folder: no
//! `..`, encoded or not, no dotfiles, no symlink that leads out.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use notify_debouncer_full::notify::RecursiveMode;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::diagnostics::Diagnostic;
use crate::output::IncrementalDir;
use crate::pipeline::{self, Mode, Options};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub root: PathBuf,
    pub port: u16,
    pub bind: IpAddr,
    pub drafts: bool,
    pub open: bool,
    /// Where to keep the preview; a temporary folder when `None`.
    pub output: Option<PathBuf>,
}

/// What open pages are told.
#[derive(Debug, Clone)]
enum Message {
    Reload,
    /// A failed rebuild: the diagnostics as JSON.
    Error(String),
}

struct AppState {
    /// The generation folder being served.
    current: Mutex<PathBuf>,
    /// The last failed build's report, shown to pages that connect while it stands.
    last_error: Mutex<Option<String>>,
    tx: broadcast::Sender<Message>,
    /// Host header values accepted (DNS-rebinding guard).
    hosts: Vec<String>,
}

const LIVE_JS: &str = r#"(function () {
  var overlay = null;
  function show(report) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "sourced-error-overlay";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,24,.94);color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2rem";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "";
    var h = document.createElement("h2");
    h.textContent = "The last save does not build (" + report.diagnostics.length + " problem" + (report.diagnostics.length === 1 ? "" : "s") + "). Still showing the previous version.";
    overlay.appendChild(h);
    report.diagnostics.forEach(function (d) {
      var p = document.createElement("pre");
      p.style.whiteSpace = "pre-wrap";
      p.textContent = (d.position ? d.position + ": " : "") + d.message + (d.hint ? "\n  hint: " + d.hint : "");
      overlay.appendChild(p);
    });
  }
  var es = new EventSource("/__sourced/events");
  es.addEventListener("reload", function () { location.reload(); });
  es.addEventListener("build-error", function (e) { show(JSON.parse(e.data)); });
})();
"#;

/// Runs the server until Ctrl-C. Returns the process exit code.
pub fn run(opts: ServeOptions) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(serve(opts))
}

fn report_json(diags: &[Diagnostic]) -> String {
    let list: Vec<serde_json::Value> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(
            |d| serde_json::json!({"position": d.position(), "message": d.message, "hint": d.hint}),
        )
        .collect();
    serde_json::json!({ "diagnostics": list }).to_string()
}

/// Rebuilds the preview: only the pages an edit can change when just brief bodies changed
/// (`pipeline::rebuild_briefs`), everything otherwise; and only changed files are written.
struct Builder {
    opts: ServeOptions,
    dir: Arc<IncrementalDir>,
    url: String,
    /// The last good build, for partial rebuilds; `None` forces a full one.
    kept: Option<(crate::site::Site, crate::templates::Templates)>,
}

impl Builder {
    fn options(&self) -> Options {
        Options {
            root: self.opts.root.clone(),
            output: Some(self.dir.root().to_path_buf()),
            base_url: Some(self.url.clone()),
            drafts: self.opts.drafts,
            strict: false,
            mode: Mode::Build,
            no_search: false,
            partial_rebuilds: true,
        }
    }

    /// The content-relative keys of `changed` when every one is an existing brief's file.
    fn brief_keys(&self, changed: &[PathBuf]) -> Option<Vec<String>> {
        let (site, _) = self.kept.as_ref()?;
        let content = self.opts.root.join("content");
        let canonical = content.canonicalize().ok();
        let mut keys = Vec::new();
        for p in changed {
            let rel = p
                .strip_prefix(&content)
                .ok()
                .or_else(|| canonical.as_ref().and_then(|c| p.strip_prefix(c).ok()))?;
            let key = crate::urls::to_slash(rel);
            if !p.is_file() || !site.briefs.iter().any(|b| b.key == key) {
                return None;
            }
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        (!keys.is_empty()).then_some(keys)
    }

    /// Returns the diagnostics of a failed build, and whether the rebuild was partial.
    fn rebuild(&mut self, changed: &[PathBuf]) -> (Result<(), Vec<Diagnostic>>, bool) {
        let options = self.options();
        if let Some(keys) = self.brief_keys(changed)
            && let Some((site, templates)) = self.kept.as_mut()
        {
            match pipeline::rebuild_briefs(site, templates, &options, &keys, &self.dir) {
                pipeline::Partial::Done(outcome, _) => {
                    if !outcome.ok {
                        self.kept = None;
                    }
                    return (report(outcome), true);
                }
                pipeline::Partial::NeedFull => {}
            }
        }
        let (outcome, kept) = pipeline::build_incremental(&options, &self.dir);
        self.kept = if outcome.ok { kept } else { None };
        (report(outcome), false)
    }
}

/// Prints errors in full and warnings as a count (a rebuild's output stays readable).
fn report(outcome: pipeline::Outcome) -> Result<(), Vec<Diagnostic>> {
    let errors: Vec<Diagnostic> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    crate::report::print_all(&errors);
    let warnings = outcome.warning_count;
    if warnings > 0 {
        eprintln!(
            "{warnings} warning{} (`sourced check` lists them)",
            if warnings == 1 { "" } else { "s" }
        );
    }
    if outcome.ok {
        Ok(())
    } else {
        Err(outcome.diagnostics)
    }
}

async fn serve(opts: ServeOptions) -> u8 {
    let work = match tempfile::Builder::new().prefix("sourced-serve-").tempdir() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: cannot create a folder for the preview: {e}");
            return 1;
        }
    };
    let listener = match tokio::net::TcpListener::bind(SocketAddr::new(opts.bind, opts.port)).await
    {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}:{}: {e}", opts.bind, opts.port);
            eprintln!("  help: pick another port with --port, or stop the other server");
            return 1;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let host = if opts.bind.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let url = format!("http://{host}:{}/", addr.port());
    if !opts.bind.is_loopback() {
        eprintln!(
            "warning: serving on {} — other machines on the network can reach this preview",
            opts.bind
        );
    }

    // The first build; an error here still serves (an empty site with the overlay).
    let started = Instant::now();
    let site_dir = match &opts.output {
        Some(out) => match crate::output::check_output_dir(&opts.root, out) {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("error: refusing this output folder: {msg}");
                return 1;
            }
        },
        None => work.path().join("site"),
    };
    if let Err(e) = std::fs::create_dir_all(&site_dir) {
        eprintln!("error: cannot create {}: {e}", site_dir.display());
        return 1;
    }
    let dir = Arc::new(IncrementalDir::new(
        site_dir.canonicalize().unwrap_or(site_dir),
    ));
    let builder = Arc::new(Mutex::new(Builder {
        opts: opts.clone(),
        dir: Arc::clone(&dir),
        url: url.clone(),
        kept: None,
    }));
    let first = {
        let b = Arc::clone(&builder);
        tokio::task::spawn_blocking(move || match b.lock() {
            Ok(mut b) => b.rebuild(&[]).0,
            Err(_) => Err(Vec::new()),
        })
        .await
    };
    let current = dir.root().to_path_buf();
    let last_error = match first {
        Ok(Ok(())) => None,
        Ok(Err(diags)) => Some(report_json(&diags)),
        Err(e) => {
            eprintln!("error: the build panicked: {e}");
            return 1;
        }
    };
    eprintln!("built in {} ms", started.elapsed().as_millis());
    let (tx, _) = broadcast::channel(16);
    let hosts = vec![
        format!("{host}:{}", addr.port()),
        format!("localhost:{}", addr.port()),
        format!("127.0.0.1:{}", addr.port()),
        format!("[::1]:{}", addr.port()),
    ];
    let state = Arc::new(AppState {
        current: Mutex::new(current),
        last_error: Mutex::new(last_error),
        tx: tx.clone(),
        hosts: if opts.bind.is_loopback() {
            hosts
        } else {
            Vec::new()
        },
    });

    // Watch the inputs; rebuild on each debounced batch of changes.
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let watch_root = opts.root.clone();
    let mut debouncer = match notify_debouncer_full::new_debouncer(
        Duration::from_millis(25),
        None,
        move |res: notify_debouncer_full::DebounceEventResult| {
            use notify_debouncer_full::notify::EventKind;
            use notify_debouncer_full::notify::event::ModifyKind;
            // Reads (access events) and metadata changes are not edits.
            if let Ok(events) = res {
                let paths: Vec<PathBuf> = events
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.kind,
                            EventKind::Create(_)
                                | EventKind::Remove(_)
                                | EventKind::Modify(
                                    ModifyKind::Data(_)
                                        | ModifyKind::Name(_)
                                        | ModifyKind::Any
                                        | ModifyKind::Other
                                )
                        )
                    })
                    .flat_map(|e| e.paths.iter().filter(|p| is_input(&watch_root, p)).cloned())
                    .collect();
                if !paths.is_empty() {
                    let _ = ev_tx.send(paths);
                }
            }
        },
    ) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot watch for changes: {e}");
            return 1;
        }
    };
    let mut watched: Vec<PathBuf> = Vec::new();
    sync_watches(&mut debouncer, &opts.root, &mut watched);

    let rebuild_state = Arc::clone(&state);
    let rebuild_builder = Arc::clone(&builder);
    let (resync_tx, mut resync_rx) = mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        while let Some(mut changed) = ev_rx.recv().await {
            // Coalesce everything that arrived meanwhile into one rebuild.
            while let Ok(more) = ev_rx.try_recv() {
                changed.extend(more);
            }
            changed.sort();
            changed.dedup();
            let t0 = Instant::now();
            let b = Arc::clone(&rebuild_builder);
            let result = tokio::task::spawn_blocking(move || match b.lock() {
                Ok(mut b) => b.rebuild(&changed),
                Err(_) => (Err(Vec::new()), false),
            })
            .await
            .map(|(r, partial)| {
                if partial {
                    eprintln!("(partial rebuild)");
                }
                r
            });
            let _ = resync_tx.send(());
            match result {
                Ok(Ok(())) => {
                    if let Ok(mut e) = rebuild_state.last_error.lock() {
                        *e = None;
                    }
                    eprintln!("rebuilt in {} ms; reloading", t0.elapsed().as_millis());
                    let _ = rebuild_state.tx.send(Message::Reload);
                }
                Ok(Err(diags)) => {
                    let json = report_json(&diags);
                    if let Ok(mut e) = rebuild_state.last_error.lock() {
                        *e = Some(json.clone());
                    }
                    eprintln!("rebuild failed; still serving the last good build");
                    let _ = rebuild_state.tx.send(Message::Error(json));
                }
                Err(e) => eprintln!("error: the rebuild panicked: {e}"),
            }
        }
    });

    let app = axum::Router::new()
        .route("/__sourced/events", axum::routing::get(events))
        .route("/__sourced/live.js", axum::routing::get(live_js))
        .fallback(files)
        .with_state(Arc::clone(&state));
    println!("serving {} at {url}", opts.root.display());
    eprintln!("press Ctrl-C to stop");
    if opts.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let _ = std::process::Command::new(opener).arg(&url).spawn();
    }
    // Stop at once on Ctrl-C: open live-reload streams never end by themselves.
    let server = axum::serve(listener, app);
    let watcher_loop = async {
        while resync_rx.recv().await.is_some() {
            sync_watches(&mut debouncer, &opts.root, &mut watched);
        }
    };
    tokio::select! {
        r = server => {
            if let Err(e) = r {
                eprintln!("error: {e}");
                return 1;
            }
        }
        _ = watcher_loop => {}
        _ = shutdown_signal() => {}
    }
    eprintln!("stopped");
    0
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The folders and files a rebuild depends on.
const INPUT_DIRS: &[&str] = &["content", "themes", "templates", "static"];

fn is_input(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        // Watchers report canonical paths on some systems.
        return root
            .canonicalize()
            .ok()
            .is_some_and(|r| path.starts_with(&r) && is_input(&r, path));
    };
    let mut parts = rel.components();
    let Some(first) = parts.next() else {
        return false;
    };
    let first = first.as_os_str().to_string_lossy();
    if first == crate::config::CONFIG_FILE {
        return true;
    }
    INPUT_DIRS.contains(&first.as_ref())
        && !rel.components().any(|c| {
            let s = c.as_os_str().to_string_lossy();
            s.starts_with('.') || s.ends_with('~') || s.ends_with(".swp")
        })
}

/// Watches the root (for site.yaml and folders appearing) and each input folder that exists;
/// called again after every rebuild, so a folder that was moved away and back is watched again.
fn sync_watches<
    W: notify_debouncer_full::notify::Watcher,
    C: notify_debouncer_full::FileIdCache,
>(
    debouncer: &mut notify_debouncer_full::Debouncer<W, C>,
    root: &Path,
    watched: &mut Vec<PathBuf>,
) {
    if watched.is_empty() && debouncer.watch(root, RecursiveMode::NonRecursive).is_ok() {
        watched.push(root.to_path_buf());
    }
    for d in INPUT_DIRS {
        let dir = root.join(d);
        let present = dir.is_dir();
        let known = watched.contains(&dir);
        if present && !known {
            if debouncer.watch(&dir, RecursiveMode::Recursive).is_ok() {
                watched.push(dir);
            }
        } else if !present && known {
            let _ = debouncer.unwatch(&dir);
            watched.retain(|w| w != &dir);
        }
    }
}

async fn live_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        LIVE_JS,
    )
}

async fn events(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !host_allowed(&state, &headers) {
        return (StatusCode::FORBIDDEN, "forbidden host").into_response();
    }
    let pending = state.last_error.lock().ok().and_then(|e| e.clone());
    let first = tokio_stream::iter(pending.map(Message::Error));
    let updates = BroadcastStream::new(state.tx.subscribe()).filter_map(|m| m.ok());
    let stream = first.chain(updates).map(|m| {
        Ok::<Event, std::convert::Infallible>(match m {
            Message::Reload => Event::default().event("reload").data("reload"),
            Message::Error(json) => Event::default().event("build-error").data(json),
        })
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn host_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    if state.hosts.is_empty() {
        return true;
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| state.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)))
}

/// Maps a request path to a file in `root`, or `None` when it is not allowed or absent.
pub fn resolve(root: &Path, raw_path: &str) -> Option<PathBuf> {
    let decoded = crate::urls::percent_decode(raw_path)?;
    if decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut path = root.to_path_buf();
    for seg in decoded.split('/') {
        match seg {
            "" => {}
            "." | ".." => return None,
            s if s.starts_with('.') => return None,
            s => path.push(s),
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    let canonical = path.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    (canonical.starts_with(&root) && canonical.is_file()).then_some(canonical)
}

async fn files(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response {
    if !host_allowed(&state, req.headers()) {
        return (StatusCode::FORBIDDEN, "forbidden host").into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let root = match state.current.lock() {
        Ok(c) => c.clone(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let raw = req.uri().path().to_string();
    // A folder without its trailing slash redirects, as static hosts do.
    if let Some(p) = resolve(&root, &raw)
        && !raw.ends_with('/')
        && p.file_name().is_some_and(|n| n == "index.html")
        && !raw.ends_with("index.html")
    {
        let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("{raw}/")) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    let (status, file) = match resolve(&root, &raw) {
        Some(f) => (StatusCode::OK, Some(f)),
        None => (StatusCode::NOT_FOUND, resolve(&root, "/404.html")),
    };
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let bytes = match tokio::fs::read(&file).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let is_html = mime.essence_str() == "text/html";
    let body = if is_html { inject(bytes) } else { bytes };
    let content_type = if mime.type_() == "text"
        || mime.essence_str() == "application/javascript"
        || mime.essence_str() == "application/json"
        || mime.essence_str() == "application/xml"
    {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    };
    let mut r = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// Adds the live-reload script before `</body>` (or at the end).
fn inject(html: Vec<u8>) -> Vec<u8> {
    const TAG: &[u8] = b"<script src=\"/__sourced/live.js\" defer></script>";
    let pos = html
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + TAG.len());
    out.extend_from_slice(&html[..pos]);
    out.extend_from_slice(TAG);
    out.extend_from_slice(&html[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_refuses_escapes_and_dotfiles() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/index.html"), "a").unwrap();
        std::fs::write(root.join("index.html"), "i").unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "secret").unwrap();
        assert!(resolve(root, "/").is_some());
        assert!(resolve(root, "/a/").is_some());
        assert!(resolve(root, "/%61/").is_some());
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fx",
            "/.git/config",
            "/a%00",
            "/a\\..\\x",
            "/%ff",
        ] {
            assert!(resolve(root, bad).is_none(), "{bad}");
        }
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("secret"), "s").unwrap();
            std::os::unix::fs::symlink(outside.path().join("secret"), root.join("leak")).unwrap();
            assert!(resolve(root, "/leak").is_none());
        }
    }

    #[test]
    fn script_goes_before_body_end() {
        let out = inject(b"<html><body><p>x</p></body></html>".to_vec());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<html><body><p>x</p><script src=\"/__sourced/live.js\" defer></script></body></html>"
        );
    }
}
