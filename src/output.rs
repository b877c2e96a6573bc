//! Write stage: put the rendered site in place without ever losing the previous one.
//!
//! Pages are written into a staging folder beside `output_dir` (`.<name>.sourced-*`); nothing
//! in `output_dir` changes until every page has rendered and been written. A first build then
//! renames the staging folder into place; a rebuild moves in only the files whose bytes
//! changed and removes the ones the site no longer has (see [`Staging`]). A failed or
//! interrupted build leaves the previous output as it was. A `.git` (folder or file) and a
//! `CNAME` in the output are kept. Nothing is written outside the staging folder and
//! `output_dir` (but the output's [`manifest`], in the user's cache folder), and dangerous
//! `output_dir`s are refused by [`check_output_dir`].

mod manifest;

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::FastHasher;
use crate::diagnostics::Diagnostic;
use manifest::{Checked, DirRec, FileRec, Manifest};

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

/// Where a build puts the new site until it is complete.
///
/// A first build (no previous output) writes the whole tree into the staging folder and
/// renames it into place. A rebuild compares each file with the previous output's: an
/// unchanged file is left alone (its inode and modification time kept, so deploy tools that
/// sync by time see only real changes), a changed or new one is written into the staging
/// folder. Only when every page has rendered and been written does [`Staging::commit`] move
/// the changed files into place and remove the files the site no longer has. So a failed
/// build still leaves the previous output as it was; the commit itself is a series of
/// renames, each atomic, not one. With the last build's [`manifest`], an unchanged file is
/// told by its metadata and the hash of its new bytes, and only folders that changed since
/// are listed.
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
    /// A previous build is updated in place (else the staging folder becomes the output).
    update: bool,
    /// Every path the build produced, with its record for the next manifest once written.
    produced: std::sync::Mutex<HashMap<String, Option<FileRec>, FastHasher>>,
    /// Changed files, as (path in the output, name in the staging folder).
    staged: std::sync::Mutex<Vec<(String, PathBuf)>>,
    counter: std::sync::atomic::AtomicUsize,
    /// What the last build's manifest vouches for, once checked in the background; None on
    /// a first build or without a usable manifest.
    checked: Arc<OnceLock<Option<Checked>>>,
    /// The previous output's files, listed (or taken from the manifest) in the background
    /// while pages render.
    listing: Option<std::thread::JoinHandle<Listing>>,
    /// Folders of the output known to be real folders (not symlinks).
    real_dirs: std::sync::Mutex<HashSet<String, FastHasher>>,
    /// Where the output's manifest is kept (None: nowhere to keep one).
    manifest: Option<PathBuf>,
}

/// Sets a checked manifest to "none" when the checking thread ends without setting it (a
/// panic), so that no writer waits for it forever.
struct Unblock(Arc<OnceLock<Option<Checked>>>);

impl Drop for Unblock {
    fn drop(&mut self) {
        let _ = self.0.set(None);
    }
}

/// Files of an output folder as (`/`-separated relative path, full path), or why not.
type Listing = Result<Vec<(String, PathBuf)>, String>;

fn name_of(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".to_string())
}

/// The metadata of the file at `path` (a plain file, not a symlink) if it holds exactly
/// `bytes`.
///
/// On Unix the file is opened without following a symlink and without blocking on a FIFO, so
/// no separate `lstat` is needed.
fn same_content(path: &Path, bytes: &[u8]) -> Option<std::fs::Metadata> {
    use std::io::Read;
    let f = open_plain(path)?;
    let meta = f
        .metadata()
        .ok()
        .filter(|m| m.is_file() && m.len() == bytes.len() as u64)?;
    // Read into unfilled capacity (a zeroed block per page showed up in profiles); one byte
    // more than expected tells a file that grew since `fstat`.
    let mut old = Vec::with_capacity(bytes.len() + 1);
    f.take(bytes.len() as u64 + 1)
        .read_to_end(&mut old)
        .is_ok_and(|_| old == bytes)
        .then_some(meta)
}

/// Writes what `produce` writes into a new file at `path`; the manifest's record of it.
fn produce_into(path: &Path, produce: &mut Produce<'_>) -> std::io::Result<FileRec> {
    let file = std::fs::File::create(path)?;
    let mut out = Hashing::new(std::io::BufWriter::with_capacity(1 << 20, file));
    produce(&mut out)?;
    let file = out.inner.into_inner().map_err(|e| e.into_error())?;
    Ok(FileRec::of(&file.metadata()?, out.hasher.digest128()))
}

/// Writes `bytes` into a new file at `path`; its metadata once written.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<std::fs::Metadata> {
    let mut f = std::fs::File::create(path)?;
    std::io::Write::write_all(&mut f, bytes)?;
    f.metadata()
}

/// `rel`'s folders, the output folder itself (`""`) first.
fn folders_of(rel: &str) -> impl Iterator<Item = &str> {
    std::iter::once("").chain(rel.match_indices('/').map(|(end, _)| &rel[..end]))
}

/// Opens `path` for reading unless it is a symlink (or, on Unix, would block: a FIFO).
#[cfg(unix)]
fn open_plain(path: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()
}

#[cfg(not(unix))]
fn open_plain(path: &Path) -> Option<std::fs::File> {
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    std::fs::File::open(path).ok()
}

/// Makes `path`'s parent folders inside `root`, removing files and symlinks that stand where
/// a folder must go (a build never writes through a symlink, so never outside `root`).
fn make_parents(root: &Path, path: &Path) -> std::io::Result<()> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    let rel = parent.strip_prefix(root).unwrap_or(parent);
    let mut at = root.to_path_buf();
    for c in rel.components() {
        at.push(c);
        match at.symlink_metadata() {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                std::fs::remove_file(&at)?;
                std::fs::create_dir(&at)?;
            }
            Err(_) => std::fs::create_dir(&at)?,
        }
    }
    Ok(())
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
        let update = target.join(MARKER).is_file();
        let manifest = manifest::location(&absolute(target));
        let checked = Arc::new(OnceLock::new());
        let listing = if update {
            let (target, at, cell) = (target.to_path_buf(), manifest.clone(), checked.clone());
            Some(std::thread::spawn(move || {
                let _unblock = Unblock(cell.clone());
                let found = at
                    .and_then(|at| Manifest::load(&at, &absolute(&target)))
                    .and_then(|m| manifest::check(&target, m));
                match found {
                    Some((vouched, files)) => {
                        let _ = cell.set(Some(vouched));
                        Ok(files)
                    }
                    None => {
                        let _ = cell.set(None);
                        list_files(&target)
                    }
                }
            }))
        } else {
            let _ = checked.set(None);
            None
        };
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            update,
            produced: Default::default(),
            staged: Default::default(),
            counter: Default::default(),
            checked,
            listing,
            real_dirs: Default::default(),
            manifest,
        })
    }

    /// What the last build's manifest vouches for (waits for the check).
    fn checked(&self) -> Option<&Checked> {
        self.checked.wait().as_ref()
    }

    /// Writes `bytes` at `rel` (a `/`-separated path) of the new site.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
        if !self.update {
            let path = self.in_staging(rel)?;
            let meta = write_file(&path, bytes).map_err(|e| io_error(&path, e))?;
            self.note(rel, FileRec::of(&meta, manifest::hash(bytes)));
            return Ok(());
        }
        let dest = join_rel(&self.target, rel)?;
        let first = self.record(rel);
        self.put(rel, &dest, bytes, first)
    }

    /// Stages `bytes` for `rel` (at `dest` in the output) unless the previous output already
    /// holds them there. A page written again (`first` false) replaces what was staged for
    /// it: the new bytes are always staged.
    fn put(&self, rel: &str, dest: &Path, bytes: &[u8], first: bool) -> Result<(), Diagnostic> {
        let hash = manifest::hash(bytes);
        if first && let Some(kept) = self.unchanged(rel, dest, bytes, hash) {
            self.note(rel, kept);
            return Ok(());
        }
        let staged = self.staged_name();
        let meta = write_file(&staged, bytes).map_err(|e| io_error(&staged, e))?;
        self.note(rel, FileRec::of(&meta, hash));
        self.stage(rel, staged);
        Ok(())
    }

    /// The record of the previous output's file at `dest` (for `rel`) if it holds exactly
    /// `bytes` (whose hash is `hash`). A file as the manifest recorded it is told by the
    /// hashes alone; any other is read and compared.
    fn unchanged(&self, rel: &str, dest: &Path, bytes: &[u8], hash: u128) -> Option<FileRec> {
        if let Some(rec) = self.as_recorded(rel, dest) {
            return rec.holds(bytes.len() as u64, hash).then_some(rec);
        }
        if !self.in_real_dirs(rel) {
            return None;
        }
        same_content(dest, bytes).map(|meta| FileRec::of(&meta, hash))
    }

    /// The manifest's record of `rel` when the file at `dest` is still exactly as recorded.
    fn as_recorded(&self, rel: &str, dest: &Path) -> Option<FileRec> {
        let rec = *self.checked()?.file(rel)?;
        // Its folders were all checked to be real ones: no symlink is followed here.
        std::fs::symlink_metadata(dest)
            .is_ok_and(|m| rec.matches(&m))
            .then_some(rec)
    }

    /// Writes what `produce` writes at `rel`, streaming it to disk (and, when updating,
    /// comparing it with the previous file on the way).
    pub fn write_with(&self, rel: &str, produce: &mut Produce<'_>) -> Result<(), Diagnostic> {
        if !self.update {
            let path = self.in_staging(rel)?;
            let rec = produce_into(&path, produce).map_err(|e| io_error(&path, e))?;
            self.note(rel, rec);
            return Ok(());
        }
        let dest = join_rel(&self.target, rel)?;
        let first = self.record(rel);
        // A file as the manifest recorded it: the new bytes' hash tells whether it changed,
        // with nothing held in memory or read back. Only a changed file is made again, into
        // the staging folder (rendering is repeatable; a rebuild changes few files).
        if first && let Some(rec) = self.as_recorded(rel, &dest) {
            let mut probe = Hashing::new(std::io::sink());
            produce(&mut probe).map_err(|e| io_error(&dest, e))?;
            if rec.holds(probe.len, probe.hasher.digest128()) {
                self.note(rel, rec);
                return Ok(());
            }
            let staged = self.staged_name();
            let made = produce_into(&staged, produce).map_err(|e| io_error(&staged, e))?;
            self.note(rel, made);
            self.stage(rel, staged);
            return Ok(());
        }
        let staged = self.staged_name();
        let old = if self.in_real_dirs(rel) {
            open_plain(&dest).and_then(|f| {
                let meta = f.metadata().ok().filter(|m| m.is_file())?;
                Some((f, meta))
            })
        } else {
            None
        };
        let mut out = Compare::new(staged.clone(), old);
        produce(&mut out).map_err(|e| io_error(&staged, e))?;
        let (same, rec) = out.finish().map_err(|e| io_error(&staged, e))?;
        self.note(rel, rec);
        if !same {
            self.stage(rel, staged);
        }
        Ok(())
    }

    /// Copies the file at `from` to `rel`.
    pub fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic> {
        let bytes = std::fs::read(from).map_err(|e| {
            Diagnostic::error(format!("cannot read {}: {e}", from.display())).in_file(from)
        })?;
        self.write(rel, &bytes)
    }

    /// Are all folders of `rel` (a checked `/`-separated path) real folders? A file reached
    /// through a symlinked folder counts as missing: it is written anew, and the symlink is
    /// replaced by a folder, so nothing is ever read or written outside the output.
    fn in_real_dirs(&self, rel: &str) -> bool {
        // Each folder by its `/`-separated path in the output (hashing a `Path` parses it).
        let checked = self.checked();
        for dir in folders_of(rel).skip(1) {
            if checked.is_some_and(|c| c.dirs.contains_key(dir))
                || self.real_dirs.lock().is_ok_and(|known| known.contains(dir))
            {
                continue;
            }
            let Ok(path) = join_rel(&self.target, dir) else {
                return false;
            };
            if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                return false;
            }
            if let Ok(mut known) = self.real_dirs.lock() {
                known.insert(dir.to_string());
            }
        }
        true
    }

    /// Where `rel` goes in the staging tree (a first build), its folders made.
    fn in_staging(&self, rel: &str) -> Result<PathBuf, Diagnostic> {
        let path = join_rel(self.dir.path(), rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(&path, e))?;
        }
        Ok(path)
    }

    /// Notes that the new site has `rel`; false if it was written before.
    fn record(&self, rel: &str) -> bool {
        match self.produced.lock() {
            Ok(mut p) => p.insert(rel.to_string(), None).is_none(),
            Err(_) => false,
        }
    }

    /// Keeps `rec` as the manifest's record of `rel`, now written or found unchanged.
    fn note(&self, rel: &str, rec: FileRec) {
        if let Ok(mut p) = self.produced.lock() {
            match p.get_mut(rel) {
                Some(slot) => *slot = Some(rec),
                None => {
                    p.insert(rel.to_string(), Some(rec));
                }
            }
        }
    }

    fn staged_name(&self) -> PathBuf {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.dir.path().join(n.to_string())
    }

    fn stage(&self, rel: &str, staged: PathBuf) {
        if let Ok(mut s) = self.staged.lock() {
            s.push((rel.to_string(), staged));
        }
    }

    /// Puts the new site in place: renames the staging folder to the output folder (keeping
    /// `.git` and `CNAME`), or, when updating, moves each changed file into place and removes
    /// the files the new site does not have.
    pub fn commit(mut self) -> Result<(), Diagnostic> {
        self.write(MARKER, MARKER_TEXT.as_bytes())?;
        let produced = std::mem::take(&mut *self.produced.lock().map_err(|_| poisoned())?);
        let at = self.manifest.take();
        let target = self.target.clone();
        let settled = if self.update {
            self.commit_update(&produced)?
        } else {
            self.commit_first()?;
            None
        };
        if let Some(at) = at {
            save_manifest(&target, &at, produced, settled);
        }
        Ok(())
    }

    /// Puts a first build's staging folder in place.
    fn commit_first(self) -> Result<(), Diagnostic> {
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

    /// Moves a rebuild's changed files into place and removes the files the site no longer
    /// has. Returns the folders whose state the manifest check saw and nothing has changed
    /// since (none without a checked manifest).
    fn commit_update(
        self,
        produced: &HashMap<String, Option<FileRec>, FastHasher>,
    ) -> Result<Option<HashMap<String, DirRec, FastHasher>>, Diagnostic> {
        let staged = std::mem::take(&mut *self.staged.lock().map_err(|_| poisoned())?);
        let target = &self.target;
        // Folders an entry moves into or out of: their times change.
        let mut touched: HashSet<String, FastHasher> = HashSet::default();
        let mut touch = |rel: &str| {
            for dir in folders_of(rel) {
                if !touched.contains(dir) {
                    touched.insert(dir.to_string());
                }
            }
        };
        for (rel, from) in staged {
            touch(&rel);
            let dest = join_rel(target, &rel)?;
            make_parents(target, &dest).map_err(|e| io_error(&dest, e))?;
            if dest.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                std::fs::remove_dir_all(&dest).map_err(|e| io_error(&dest, e))?;
            }
            std::fs::rename(&from, &dest).map_err(|e| io_error(&dest, e))?;
        }
        // Remove what the new site no longer has, then the folders that became empty.
        let mut listed = match self.listing.map(|h| h.join()) {
            Some(Ok(Ok(files))) => files,
            Some(Ok(Err(msg))) => return Err(Diagnostic::error(msg).in_file(target)),
            Some(Err(_)) => return Err(poisoned()),
            None => list_files(target).map_err(|msg| Diagnostic::error(msg).in_file(target))?,
        };
        let checked = Arc::try_unwrap(self.checked)
            .ok()
            .and_then(OnceLock::into_inner)
            .flatten();
        // With a manifest, the listing holds only files it did not know of: the files it
        // recorded that the site no longer has go too.
        for rel in checked.iter().flat_map(|c| c.files.keys()) {
            if !produced.contains_key(rel) {
                listed.push((rel.clone(), join_rel(target, rel)?));
            }
        }
        let mut emptied: std::collections::BTreeSet<PathBuf> = Default::default();
        for (rel, path) in listed {
            // A symlink listed before the commit may have become a real folder since.
            if !produced.contains_key(&rel) && !path.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                touch(&rel);
                match std::fs::remove_file(&path) {
                    // Gone with a folder a new file replaced.
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                        ) => {}
                    r => r.map_err(|e| io_error(&path, e))?,
                }
                if let Some(parent) = path.parent() {
                    emptied.insert(parent.to_path_buf());
                }
            }
        }
        // Deepest first; a folder that still holds something stays (removal fails).
        let mut emptied: Vec<PathBuf> = emptied.into_iter().collect();
        emptied.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in emptied {
            let mut at = d.as_path();
            while at != target.as_path() && std::fs::remove_dir(at).is_ok() {
                match at.parent() {
                    Some(p) => at = p,
                    None => break,
                }
            }
        }
        Ok(checked.map(|c| {
            let mut dirs = c.dirs;
            dirs.retain(|d, _| !touched.contains(d));
            dirs
        }))
    }
}

/// Records what the output folder `target` now holds in the manifest at `at`, for the next
/// build: `produced` (every file's record) and each folder's state, taken from `settled`
/// where nothing moved in or out since it was checked, else read now. Any gap means no
/// manifest.
fn save_manifest(
    target: &Path,
    at: &Path,
    produced: HashMap<String, Option<FileRec>, FastHasher>,
    settled: Option<HashMap<String, DirRec, FastHasher>>,
) {
    let target_abs = absolute(target);
    let contents = (|| {
        // The stamp: the time of a file made (and dropped) in the output folder after the
        // build's last write there, so on the output's own file system and with its clock
        // granularity. Making it changes the output folder's time: that folder's state is
        // read after it.
        let probe = tempfile::Builder::new()
            .prefix(".sourced-stamp-")
            .tempfile_in(target)
            .ok()?;
        let stamp = manifest::mtime_of(&probe.as_file().metadata().ok()?);
        probe.close().ok()?;
        let dev = manifest::dev(&std::fs::symlink_metadata(target).ok()?);
        let mut files = Vec::with_capacity(produced.len());
        let mut dirs: HashSet<&str, FastHasher> = HashSet::default();
        for (rel, rec) in &produced {
            dirs.extend(folders_of(rel));
            files.push((rel.as_str(), (*rec)?));
        }
        let mut folders = Vec::with_capacity(dirs.len());
        for dir in dirs {
            let known = settled.as_ref().filter(|_| !dir.is_empty());
            let rec = match known.and_then(|s| s.get(dir)) {
                Some(rec) => *rec,
                None => {
                    let meta = std::fs::symlink_metadata(folder_path(target, dir).ok()?).ok()?;
                    if !meta.is_dir() {
                        return None;
                    }
                    DirRec::of(&meta)
                }
            };
            folders.push((dir, rec));
        }
        Some(manifest::Contents {
            target: &target_abs,
            dev,
            stamp,
            dirs: folders,
            files,
        })
    })();
    manifest::save(at, contents);
}

/// Every file (and symlink) under `target` as (`/`-separated relative path, full path),
/// leaving out the kept `.git` and `CNAME`.
fn list_files(target: &Path) -> Listing {
    list_under(target, true)
}

/// Every file (and symlink) under `target` as (`/`-separated relative path, full path),
/// leaving out the top's `.git` and `CNAME` when `keep` says so.
fn list_under(target: &Path, keep: bool) -> Listing {
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(target)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| !keep || e.depth() > 1 || !KEPT.iter().any(|k| e.file_name() == *k));
    for entry in walk {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", target.display()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(target) {
            files.push((crate::urls::to_slash(rel), entry.into_path()));
        }
    }
    Ok(files)
}

fn poisoned() -> Diagnostic {
    Diagnostic::error("a writer thread failed while the site was being written")
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

/// The folder at `dir` (a `/`-separated path as [`folders_of`] gives) in `root`; `""` is
/// `root` itself.
fn folder_path(root: &Path, dir: &str) -> Result<PathBuf, Diagnostic> {
    if dir.is_empty() {
        Ok(root.to_path_buf())
    } else {
        join_rel(root, dir)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot write {}: {e}", path.display())).in_file(path)
}

/// Fills a file through a writer, for files too large to build in memory first.
pub type Produce<'a> = dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()> + 'a;

/// Where rendered files go: a [`Staging`] folder (a build) or an [`IncrementalDir`] (serve).
pub trait Writer: Sync {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic>;
    fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic>;
    /// Writes what `produce` writes; by default gathered in memory, then [`Writer::write`].
    fn write_with(&self, rel: &str, produce: &mut Produce<'_>) -> Result<(), Diagnostic> {
        let mut bytes = Vec::new();
        produce(&mut bytes).map_err(|e| Diagnostic::error(format!("cannot write {rel}: {e}")))?;
        self.write(rel, &bytes)
    }
}

impl Writer for Staging {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
        Staging::write(self, rel, bytes)
    }
    fn copy(&self, rel: &str, from: &Path) -> Result<(), Diagnostic> {
        Staging::copy(self, rel, from)
    }
    fn write_with(&self, rel: &str, produce: &mut Produce<'_>) -> Result<(), Diagnostic> {
        Staging::write_with(self, rel, produce)
    }
}

/// Compares what is written with `old` (the previous output's file) and writes nothing while
/// the two agree: the staged file `path` is created at the first difference, starting with
/// the agreeing part copied from `old`. Holds neither file in memory.
struct Compare {
    path: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    old: Option<std::io::BufReader<std::fs::File>>,
    /// The old file's metadata.
    old_meta: Option<std::fs::Metadata>,
    /// Bytes written so far, all equal to the start of `old` while `out` is `None`.
    agreed: u64,
    hasher: manifest::Hasher,
}

impl Compare {
    fn new(path: PathBuf, old: Option<(std::fs::File, std::fs::Metadata)>) -> Compare {
        let (old, old_meta) = old.unzip();
        Compare {
            path,
            out: None,
            old: old.map(|f| std::io::BufReader::with_capacity(1 << 20, f)),
            old_meta,
            agreed: 0,
            hasher: manifest::Hasher::new(),
        }
    }

    /// Creates the staged file holding the part that agreed with the old file.
    fn diverge(&mut self) -> std::io::Result<&mut std::io::BufWriter<std::fs::File>> {
        use std::io::{Read, Seek};
        if self.out.is_none() {
            let mut out =
                std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&self.path)?);
            if let Some(old) = self.old.take() {
                let mut old = old.into_inner();
                old.rewind()?;
                let copied = std::io::copy(&mut (&mut old).take(self.agreed), &mut out)?;
                if copied != self.agreed {
                    return Err(std::io::Error::other(
                        "the previous file changed while read",
                    ));
                }
            }
            self.out = Some(out);
        }
        match &mut self.out {
            Some(out) => Ok(out),
            None => Err(std::io::Error::other("no staged file")),
        }
    }

    /// Flushes; true when everything written equals the whole old file (nothing was staged),
    /// with the manifest's record of the file that now stands for it (the old one or the
    /// staged one).
    fn finish(mut self) -> std::io::Result<(bool, FileRec)> {
        use std::io::{Read, Write};
        let hash = self.hasher.digest128();
        if self.out.is_none() {
            let at_end = match &mut self.old {
                // An old file that cannot be read to its end counts as changed.
                Some(old) => old.read(&mut [0u8; 1]).is_ok_and(|n| n == 0),
                None => false,
            };
            if at_end && let Some(meta) = &self.old_meta {
                return Ok((true, FileRec::of(meta, hash)));
            }
        }
        let out = self.diverge()?;
        out.flush()?;
        Ok((false, FileRec::of(&out.get_ref().metadata()?, hash)))
    }
}

/// Hashes and counts what passes through to `inner`.
struct Hashing<W> {
    inner: W,
    hasher: manifest::Hasher,
    len: u64,
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: manifest::Hasher::new(),
            len: 0,
        }
    }
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(data)?;
        self.hasher.update(&data[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Are the next bytes of `old` exactly `data`? Compared in the reader's own buffer, with no
/// copy (a copy into a zeroed buffer was 1.5% of a rebuild). After a difference or a read
/// error, how much was consumed does not matter: [`Compare::diverge`] starts again from the
/// file's start.
fn same_next_bytes(old: &mut std::io::BufReader<std::fs::File>, data: &[u8]) -> bool {
    use std::io::BufRead;
    let mut rest = data;
    while !rest.is_empty() {
        let Ok(available) = old.fill_buf() else {
            return false;
        };
        let n = available.len().min(rest.len());
        if n == 0 || available[..n] != rest[..n] {
            return false;
        }
        old.consume(n);
        rest = &rest[n..];
    }
    true
}

impl std::io::Write for Compare {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(data);
        if self.out.is_none()
            && let Some(old) = &mut self.old
            && same_next_bytes(old, data)
        {
            self.agreed += data.len() as u64;
            return Ok(data.len());
        }
        self.diverge()?.write_all(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
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

#[cfg(test)]
mod tests {
    use super::Compare;
    use std::io::Write;

    /// Writes `chunks` through a `Compare` against a previous file holding `old` (if any):
    /// whether it found them the same, and what the staged file holds (if it was made).
    fn compare(old: Option<&str>, chunks: &[&str]) -> (bool, Option<String>) {
        let dir = tempfile::tempdir().unwrap();
        let old_path = dir.path().join("old");
        let staged = dir.path().join("staged");
        let old_file = old.map(|text| {
            std::fs::write(&old_path, text).unwrap();
            let f = std::fs::File::open(&old_path).unwrap();
            let meta = f.metadata().unwrap();
            (f, meta)
        });
        let mut c = Compare::new(staged.clone(), old_file);
        for chunk in chunks {
            c.write_all(chunk.as_bytes()).unwrap();
        }
        let (same, rec) = c.finish().unwrap();
        // The record is of the file that stands for the new bytes, with their hash.
        let whole: String = chunks.concat();
        assert!(rec.holds(whole.len() as u64, super::manifest::hash(whole.as_bytes())));
        assert_eq!(rec.len, whole.len() as u64);
        (same, std::fs::read_to_string(&staged).ok())
    }

    #[test]
    fn nothing_is_staged_while_the_output_repeats_the_old_file() {
        assert_eq!(compare(Some("abcdef"), &["abc", "def"]), (true, None));
        assert_eq!(compare(Some(""), &[]), (true, None));
    }

    #[test]
    fn a_difference_stages_the_whole_new_file() {
        let staged = |old, chunks| compare(old, chunks).1;
        // Differs in the second chunk: the agreeing first chunk is copied from the old file.
        assert_eq!(
            staged(Some("abcdef"), &["abc", "dXf", "gh"]).as_deref(),
            Some("abcdXfgh")
        );
        // Shorter than the old file, longer, and no old file at all.
        assert_eq!(staged(Some("abcdef"), &["abc"]).as_deref(), Some("abc"));
        assert_eq!(
            staged(Some("abcdef"), &["abcdef", "g"]).as_deref(),
            Some("abcdefg")
        );
        assert_eq!(staged(Some("abc"), &[]).as_deref(), Some(""));
        assert_eq!(staged(None, &["abc", "def"]).as_deref(), Some("abcdef"));
        assert!(!compare(None, &[]).0);
    }

    /// One write longer than the reader's 1 MB buffer is compared across refills; a
    /// difference past the first refill still stages the whole new file.
    #[test]
    fn long_writes_are_compared_across_the_readers_buffer() {
        let old: String = (0..1_500_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        assert_eq!(compare(Some(&old), &[&old]), (true, None));
        let mut new = old.clone();
        new.replace_range(1_400_000..1_400_001, "#");
        let (same, staged) = compare(Some(&old), &[&new[..10], &new[10..]]);
        assert!(!same);
        assert!(staged.as_deref() == Some(new.as_str()));
        let (same, staged) = compare(Some(&old), &[&old[..1_200_000]]);
        assert!(!same);
        assert!(staged.as_deref() == Some(&old[..1_200_000]));
    }
}
