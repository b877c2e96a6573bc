//! Write stage: put the rendered site in place without ever losing the previous one.
//!
//! Pages are written into a staging folder beside `output_dir` (`.<name>.sourced-*`), which
//! replaces `output_dir` only once everything is written; a failed or interrupted build leaves
//! the previous output as it was. A `.git` (folder or file) and a `CNAME` kept in the old
//! output are carried into the new one. Nothing is written outside the staging folder and
//! `output_dir`, and dangerous `output_dir`s are refused by [`check_output_dir`].

use std::path::{Component, Path, PathBuf};

use crate::diagnostics::Diagnostic;

/// Files a user keeps in the output folder that a build must not remove.
pub const KEPT: &[&str] = &[".git", "CNAME"];

/// Written into every output folder: a build replaces only a folder that carries it (or one
/// that holds nothing but [`KEPT`] files), so no folder of the user's is ever swept away.
pub const MARKER: &str = ".sourced-output";

const MARKER_TEXT: &str =
    "This folder is written by `sourced build` and replaced on every build.\n";

/// Makes `p` absolute and removes `.`/`..` without touching the filesystem.
pub fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Resolves symlinks in the part of `p` that exists.
fn canonical_prefix(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for r in rest.into_iter().rev() {
        out.push(r);
    }
    out
}

/// Refuses output folders a build must never replace: `/`, the home folder, the site root or
/// any folder containing it, the site's input folders, a folder holding a `content/` folder,
/// a symlink, or a file.
pub fn check_output_dir(root: &Path, output: &Path) -> Result<PathBuf, String> {
    let root = canonical_prefix(&absolute(root));
    let out_abs = absolute(output);
    if out_abs
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(format!(
            "{} is a symlink; sourced does not write through symlinks",
            output.display()
        ));
    }
    let out = canonical_prefix(&out_abs);
    if out.parent().is_none() {
        return Err("the output folder would be `/`".to_string());
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
        && canonical_prefix(&home) == out
    {
        return Err(format!(
            "the output folder {} is your home folder",
            output.display()
        ));
    }
    if root.starts_with(&out) {
        return Err(format!(
            "the output folder {} is the site root or contains it",
            output.display()
        ));
    }
    for input in ["content", "themes", "templates", "static"] {
        if out.starts_with(root.join(input)) {
            return Err(format!(
                "the output folder {} is inside the site's {input}/ folder",
                output.display()
            ));
        }
    }
    if out.join("content").is_dir() || out.join(crate::config::CONFIG_FILE).is_file() {
        return Err(format!(
            "the output folder {} looks like a site (it has content/ or site.yaml)",
            output.display()
        ));
    }
    if let Ok(cwd) = std::env::current_dir()
        && canonical_prefix(&cwd).starts_with(&out)
    {
        return Err(format!(
            "the output folder {} is the current folder or contains it",
            output.display()
        ));
    }
    if out.exists() && !out.is_dir() {
        return Err(format!("the output folder {} is a file", output.display()));
    }
    if out.is_dir() && !out.join(MARKER).is_file() {
        let foreign: Vec<String> = std::fs::read_dir(&out)
            .map_err(|e| format!("cannot read {}: {e}", output.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !KEPT.contains(&n.as_str()))
            .collect();
        if !foreign.is_empty() {
            let mut shown: Vec<String> = foreign.into_iter().take(3).collect();
            shown.sort();
            return Err(format!(
                "{} already holds files sourced did not write ({}); a build replaces the whole folder",
                output.display(),
                shown.join(", ")
            ));
        }
    }
    Ok(out)
}

/// A folder being filled with the new site.
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
}

fn name_of(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".to_string())
}

impl Staging {
    /// Creates the staging folder beside `target` (which [`check_output_dir`] accepted), and
    /// removes staging folders left by interrupted builds.
    pub fn new(target: &Path) -> Result<Staging, Diagnostic> {
        let parent = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| {
            Diagnostic::error(format!("cannot create {}: {e}", parent.display())).in_file(parent)
        })?;
        let prefix = format!(".{}.sourced-", name_of(target));
        if let Ok(entries) = std::fs::read_dir(parent) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) && e.file_type().is_ok_and(|t| t.is_dir()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("{prefix}new-"))
            .tempdir_in(parent)
            .map_err(|e| {
                Diagnostic::error(format!(
                    "cannot create a staging folder in {}: {e}",
                    parent.display()
                ))
                .in_file(parent)
            })?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// Writes `bytes` at `rel` (a `/`-separated path) inside the staging folder.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(&path, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io_error(&path, e))
    }

    /// Copies the file at `from` to `rel`.
    pub fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(&path, e))?;
        }
        std::fs::copy(from, &path)
            .map(|_| ())
            .map_err(|e| io_error(&path, e))
    }

    fn path_of(&self, rel: &str) -> Result<PathBuf, Diagnostic> {
        join_rel(self.dir.path(), rel)
    }

    /// Replaces the output folder with the staging folder, keeping `.git` and `CNAME`.
    pub fn commit(self) -> Result<(), Diagnostic> {
        self.write(MARKER, MARKER_TEXT.as_bytes())?;
        let staged = self.dir.keep();
        let target = self.target;
        if !target.exists() {
            return std::fs::rename(&staged, &target).map_err(|e| {
                let _ = std::fs::remove_dir_all(&staged);
                io_error(&target, e)
            });
        }
        let parent = target.parent().unwrap_or(Path::new("."));
        let old = tempfile::Builder::new()
            .prefix(&format!(".{}.sourced-old-", name_of(&target)))
            .tempdir_in(parent)
            .map_err(|e| io_error(parent, e))?
            .keep();
        // `old` exists as an empty folder; rename onto it replaces it on every Unix.
        std::fs::remove_dir(&old).map_err(|e| io_error(&old, e))?;
        std::fs::rename(&target, &old).map_err(|e| io_error(&target, e))?;
        if let Err(e) = std::fs::rename(&staged, &target) {
            // Put the previous site back.
            let _ = std::fs::rename(&old, &target);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io_error(&target, e));
        }
        for kept in KEPT {
            let from = old.join(kept);
            let to = target.join(kept);
            if from.symlink_metadata().is_ok() && to.symlink_metadata().is_err() {
                std::fs::rename(&from, &to).map_err(|e| io_error(&to, e))?;
            }
        }
        std::fs::remove_dir_all(&old).map_err(|e| io_error(&old, e))
    }
}

/// `root` joined with a `/`-separated relative path that may not climb out of it.
fn join_rel(root: &Path, rel: &str) -> Result<PathBuf, Diagnostic> {
    let mut path = root.to_path_buf();
    for seg in rel.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains('\\') {
            return Err(Diagnostic::error(format!(
                "refusing to write `{rel}`: not a plain relative path"
            )));
        }
        path.push(seg);
    }
    Ok(path)
}

fn io_error(path: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot write {}: {e}", path.display())).in_file(path)
}

/// Where rendered files go: a [`Staging`] folder (a build) or an [`IncrementalDir`] (serve).
pub trait Writer: Sync {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic>;
    fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic>;
}

impl Writer for Staging {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
        Staging::write(self, rel, bytes)
    }
    fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic> {
        Staging::copy(self, rel, from)
    }
}

/// A folder kept up to date across rebuilds: a file is written only when its bytes changed
/// (to a temporary name, then renamed, so a reader never sees half a file), and files a
/// rebuild no longer produces are removed. Used by `serve`, where rewriting thousands of
/// unchanged files on every save would dominate the rebuild.
pub struct IncrementalDir {
    root: PathBuf,
    previous: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    current: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    written: std::sync::atomic::AtomicUsize,
}

fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

impl IncrementalDir {
    pub fn new(root: PathBuf) -> Self {
        IncrementalDir {
            root,
            previous: Default::default(),
            current: Default::default(),
            written: Default::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, rel: &str) -> Result<PathBuf, Diagnostic> {
        join_rel(&self.root, rel)
    }

    /// Starts a rebuild: every file it produces is recorded.
    pub fn begin(&self) {
        if let Ok(mut c) = self.current.lock() {
            c.clear();
        }
        self.written.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Ends a successful rebuild: removes files it did not produce. Returns how many files
    /// were written.
    pub fn finish(&self) -> usize {
        let (Ok(mut prev), Ok(cur)) = (self.previous.lock(), self.current.lock()) else {
            return 0;
        };
        for stale in prev.keys().filter(|k| !cur.contains_key(*k)) {
            if let Ok(p) = self.path_of(stale) {
                let _ = std::fs::remove_file(p);
            }
        }
        *prev = cur.clone();
        let marker = self.root.join(MARKER);
        if !marker.is_file() {
            let _ = std::fs::write(marker, MARKER_TEXT);
        }
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets a failed rebuild's records (the folder still holds the last good files).
    pub fn abandon(&self) {
        if let (Ok(prev), Ok(mut cur)) = (self.previous.lock(), self.current.lock()) {
            *cur = prev.clone();
        }
    }
}

impl Writer for IncrementalDir {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
        let fp = fingerprint(bytes);
        if let Ok(mut cur) = self.current.lock() {
            cur.insert(rel.to_string(), fp);
        }
        let unchanged = self.previous.lock().ok().and_then(|p| p.get(rel).copied()) == Some(fp);
        let path = self.path_of(rel)?;
        if unchanged && path.is_file() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(&path, e))?;
        }
        let tmp = path.with_file_name(format!(
            ".{}.sourced-tmp",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        std::fs::write(&tmp, bytes).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
        self.written
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic> {
        let bytes = std::fs::read(from).map_err(|e| {
            Diagnostic::error(format!("cannot read {}: {e}", from.display())).in_file(from)
        })?;
        self.write(rel, &bytes)
    }
}

impl IncrementalDir {
    /// Starts a partial rebuild: only the files written now are recorded.
    pub fn begin_partial(&self) {
        if let Ok(mut c) = self.current.lock() {
            c.clear();
        }
        self.written.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Ends a partial rebuild: what was written joins the record; nothing is removed.
    pub fn settle_partial(&self) {
        if let (Ok(mut prev), Ok(mut cur)) = (self.previous.lock(), self.current.lock()) {
            prev.extend(cur.drain());
        }
    }
}
