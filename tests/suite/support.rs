//! Test harness: a site in a temp dir, the `sourced` binary run on it (with the site as its
//! working folder, so relative paths never reach the checkout), and parsed output.

use std::path::{Path, PathBuf};
use std::process::Command;

use scraper::{Html, Selector};

/// A site in its own temp dir.
pub struct TestSite {
    dir: tempfile::TempDir,
}

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success, got exit {}:\n{}",
            self.code, self.stderr
        );
        self
    }

    /// Asserts exit 1 and that stderr contains each needle (a `file:line:col`, a message).
    #[track_caller]
    pub fn assert_error(&self, needles: &[&str]) -> &Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1, got {}:\n{}",
            self.code, self.stderr
        );
        self.assert_stderr(needles)
    }

    /// Asserts success and that stderr contains each needle (a warning and its snippet).
    #[track_caller]
    pub fn assert_warns(&self, needles: &[&str]) -> &Self {
        self.assert_ok().assert_stderr(needles)
    }

    #[track_caller]
    fn assert_stderr(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "stderr lacks {n:?}:\n{}",
                self.stderr
            );
        }
        self
    }
}

const SITE_YAML: &str = "title: Test Briefs\nbase_url: https://example.org/\n";

/// Front matter (four lines) plus body for a brief: the body starts on line 5.
pub fn brief(title: &str, date: &str, body: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: {date}\n---\n{body}")
}

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sourced"));
    // Output manifests go under target/, not into the user's cache folder.
    cmd.env(
        "SOURCED_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
    );
    cmd
}

impl TestSite {
    /// An empty site with a minimal site.yaml and an empty content/ folder.
    pub fn new() -> Self {
        let site = TestSite::bare();
        site.write("site.yaml", SITE_YAML);
        std::fs::create_dir_all(site.path("content")).unwrap();
        site
    }

    /// A temp dir with nothing in it.
    pub fn bare() -> Self {
        TestSite {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A copy of `tests/fixtures/<name>/`.
    pub fn fixture(name: &str) -> Self {
        let site = TestSite::bare();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_dir(&src, site.dir.path());
        site
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> &Self {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    /// Runs `sourced <args>` in the site's folder (`--root` added for build and check).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, |_| {})
    }

    /// As [`TestSite::run`], with the command adjusted first (an environment variable).
    pub fn run_with(&self, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Run {
        let mut cmd = bin();
        cmd.args(args).current_dir(self.root()).env("NO_COLOR", "1");
        if matches!(args.first(), Some(&"build") | Some(&"check")) {
            cmd.arg("--root").arg(self.root());
        }
        adjust(&mut cmd);
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn build(&self) -> Run {
        self.run(&["build"])
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Parses an output HTML file.
    pub fn html(&self, rel: &str) -> Page {
        Page(Html::parse_document(&self.read(rel)))
    }
}

/// A parsed HTML page with small query helpers.
pub struct Page(pub Html);

impl Page {
    pub fn all(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let sel = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"));
        self.0.select(&sel).collect()
    }

    #[track_caller]
    pub fn one(&self, css: &str) -> scraper::ElementRef<'_> {
        let found = self.all(css);
        assert_eq!(
            found.len(),
            1,
            "expected one `{css}`, found {}",
            found.len()
        );
        found[0]
    }

    /// Attribute of the single element matching `css`.
    #[track_caller]
    pub fn attr(&self, css: &str, name: &str) -> String {
        self.one(css)
            .value()
            .attr(name)
            .unwrap_or_else(|| panic!("`{css}` has no {name}"))
            .to_string()
    }

    pub fn texts(&self, css: &str) -> Vec<String> {
        self.all(css).iter().map(text).collect()
    }
}

/// An element's text with whitespace collapsed.
pub fn text(e: &scraper::ElementRef<'_>) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes, sorted by path.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Starts `sourced serve --port 0 --root ROOT` (plus `extra`) in `cwd`; returns the child and the
/// URL it printed (`http://127.0.0.1:PORT/`).
pub fn spawn_serve(
    root: &Path,
    cwd: &Path,
    extra: &[&std::ffi::OsStr],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = bin()
        .args(["serve", "--port", "0", "--root"])
        .arg(root)
        .args(extra)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .rsplit(" at ")
        .next()
        .unwrap_or_default()
        .to_string();
    (child, url)
}
