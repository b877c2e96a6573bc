//! The output's manifest (part of the write stage): what the last build wrote, so that a
//! rebuild can tell what changed from file metadata instead of reading the previous output.
//!
//! For every file the manifest records its size, modification time, inode and a 128-bit hash
//! (XXH3) of its bytes; for every folder its modification time and inode. A rebuild trusts a
//! record only while the file system shows exactly that metadata, and only when the recorded
//! time is earlier than the manifest's stamp, a time on the output's file system taken after
//! the build's last write (a change made within the same clock tick as a recorded write could
//! not be told apart from it, so such a record is checked the slow way, as git does with its
//! index). Then:
//! - a page whose new bytes hash to the recorded hash is left alone without reading the old
//!   file: one `statx` instead of opening, reading and comparing it;
//! - a folder whose time and inode are as recorded holds exactly the recorded entries (adding,
//!   removing or renaming an entry changes a folder's time), so only the folders that changed
//!   are listed to find files the build did not make.
//!
//! The manifest lives in the user's cache folder, never in the output (which stays
//! byte-identical from build to build). Anything missing, unreadable or unexpected (a folder
//! replaced or turned into a symlink, another file system, a manifest of another folder)
//! means no manifest: the build then reads and lists the whole previous output, as without
//! one. A stale manifest is harmless: every record is checked against the file system.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::FastHasher;

const HEADER: &str = "sourced output manifest 1";

/// Manifests not rewritten for this long belong to output folders no longer built: removed.
const KEEP_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// A file as the last build left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRec {
    pub len: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: i64,
    pub ino: u64,
    /// The hash of the bytes, as two halves (a `u128` would take 16 bytes of padding more
    /// in every record).
    pub hash: [u64; 2],
}

impl FileRec {
    pub fn of(meta: &std::fs::Metadata, hash: u128) -> FileRec {
        FileRec {
            len: meta.len(),
            mtime: mtime_of(meta),
            ino: ino(meta),
            hash: halves(hash),
        }
    }

    /// Does this record stand for bytes of length `len` and hash `hash`?
    pub fn holds(&self, len: u64, hash: u128) -> bool {
        self.len == len && self.hash == halves(hash)
    }

    /// Is `meta` (not following a symlink) this very file, untouched?
    pub fn matches(&self, meta: &std::fs::Metadata) -> bool {
        meta.file_type().is_file()
            && meta.len() == self.len
            && ino(meta) == self.ino
            && mtime_of(meta) == self.mtime
    }
}

/// A folder as the last build left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirRec {
    pub mtime: i64,
    pub ino: u64,
}

impl DirRec {
    pub fn of(meta: &std::fs::Metadata) -> DirRec {
        DirRec {
            mtime: mtime_of(meta),
            ino: ino(meta),
        }
    }
}

/// What a build wrote into its output folder.
#[derive(Debug, Default, PartialEq)]
pub struct Manifest {
    /// The output folder's device.
    pub dev: u64,
    /// A time on the output's file system after the build's last write.
    pub stamp: i64,
    /// Folders by `/`-separated path in the output; `""` is the output folder itself.
    pub dirs: HashMap<String, DirRec, FastHasher>,
    /// Files by `/`-separated path in the output.
    pub files: HashMap<String, FileRec, FastHasher>,
}

/// The hash a manifest records for a file's bytes.
pub fn hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// A hasher for bytes that arrive in pieces; gives what [`hash`] gives for them all at once.
pub type Hasher = xxhash_rust::xxh3::Xxh3Default;

fn halves(hash: u128) -> [u64; 2] {
    [(hash >> 64) as u64, hash as u64]
}

/// Modification time in nanoseconds since the epoch; a time too far off to count in an
/// `i64` (beyond 2262) gives the largest, which is never earlier than a stamp (never trusted).
#[cfg(unix)]
pub fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(meta.mtime_nsec()))
        .unwrap_or(i64::MAX)
}

#[cfg(unix)]
fn ino(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(unix)]
pub fn dev(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::dev(meta)
}

// Elsewhere there is no manifest ([`location`] is None); these only keep the types whole.
#[cfg(not(unix))]
pub fn mtime_of(_: &std::fs::Metadata) -> i64 {
    i64::MAX
}

#[cfg(not(unix))]
fn ino(_: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(not(unix))]
pub fn dev(_: &std::fs::Metadata) -> u64 {
    0
}

/// Where the manifest of the output folder `target` (an absolute path) is kept:
/// `$SOURCED_CACHE_DIR`, else `$XDG_CACHE_HOME/sourced`, else `~/.cache/sourced`, then
/// `outputs/<hash of the path>`. None when there is no such folder to use (and off Unix,
/// where folders have no inode numbers to check).
pub fn location(target: &Path) -> Option<PathBuf> {
    if cfg!(not(unix)) {
        return None;
    }
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let dir = var("SOURCED_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("sourced")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("sourced")))?;
    let key = xxhash_rust::xxh3::xxh3_64(target.to_str()?.as_bytes());
    Some(dir.join("outputs").join(format!("{key:016x}")))
}

impl Manifest {
    /// Reads the manifest at `path` written for the output folder `target`.
    pub fn load(path: &Path, target: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(path).ok()?;
        Manifest::parse(&text, target)
    }

    fn parse(text: &str, target: &Path) -> Option<Manifest> {
        let mut lines = text.split('\n');
        if lines.next()? != HEADER {
            return None;
        }
        if lines.next()?.strip_prefix("target ")? != target.to_str()? {
            return None;
        }
        let mut head = lines.next()?.split(' ');
        let (Some("dev"), Some(dev), Some("stamp"), Some(stamp), None) = (
            head.next(),
            head.next(),
            head.next(),
            head.next(),
            head.next(),
        ) else {
            return None;
        };
        let mut m = Manifest {
            dev: dev.parse().ok()?,
            stamp: stamp.parse().ok()?,
            ..Manifest::default()
        };
        let mut ended = false;
        for line in lines {
            if let Some(rest) = line.strip_prefix("D ") {
                let mut p = rest.splitn(3, ' ');
                let rec = DirRec {
                    mtime: p.next()?.parse().ok()?,
                    ino: p.next()?.parse().ok()?,
                };
                m.dirs.insert(p.next()?.to_string(), rec);
            } else if let Some(rest) = line.strip_prefix("F ") {
                let mut p = rest.splitn(5, ' ');
                let rec = FileRec {
                    len: p.next()?.parse().ok()?,
                    mtime: p.next()?.parse().ok()?,
                    ino: p.next()?.parse().ok()?,
                    hash: halves(u128::from_str_radix(p.next()?, 16).ok()?),
                };
                m.files.insert(p.next()?.to_string(), rec);
            } else if line == "end" {
                ended = true;
            } else if !(line.is_empty() && ended) {
                return None;
            }
        }
        // A manifest cut short (a full disk) is not one.
        ended.then_some(m)
    }

    #[cfg(test)]
    fn to_text(&self, target: &Path) -> Option<String> {
        let contents = Contents {
            target,
            dev: self.dev,
            stamp: self.stamp,
            dirs: self.dirs.iter().map(|(r, d)| (r.as_str(), *d)).collect(),
            files: self.files.iter().map(|(r, f)| (r.as_str(), *f)).collect(),
        };
        let mut out = Vec::new();
        contents.write_to(&mut out).ok()?;
        String::from_utf8(out).ok()
    }
}

/// A manifest about to be written.
pub struct Contents<'a> {
    pub target: &'a Path,
    pub dev: u64,
    pub stamp: i64,
    pub dirs: Vec<(&'a str, DirRec)>,
    pub files: Vec<(&'a str, FileRec)>,
}

impl Contents<'_> {
    /// Writes the manifest's text, sorted so that it reads like the output's tree. A path
    /// with a line break (which the text could not hold) is an error.
    fn write_to(mut self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let line_break = || std::io::Error::other("a path with a line break");
        let target = self.target.to_str().ok_or_else(line_break)?;
        if target.contains(['\n', '\r']) {
            return Err(line_break());
        }
        write!(
            out,
            "{HEADER}\ntarget {target}\ndev {} stamp {}\n",
            self.dev, self.stamp
        )?;
        self.dirs.sort_unstable_by_key(|(rel, _)| *rel);
        for (rel, d) in self.dirs {
            if rel.contains(['\n', '\r']) {
                return Err(line_break());
            }
            writeln!(out, "D {} {} {rel}", d.mtime, d.ino)?;
        }
        self.files.sort_unstable_by_key(|(rel, _)| *rel);
        for (rel, f) in self.files {
            if rel.contains(['\n', '\r']) {
                return Err(line_break());
            }
            writeln!(
                out,
                "F {} {} {} {:016x}{:016x} {rel}",
                f.len, f.mtime, f.ino, f.hash[0], f.hash[1]
            )?;
        }
        out.write_all(b"end\n")
    }
}

/// Writes the manifest at `path` (through a temporary file, so a reader sees the old
/// manifest or the new one), and removes manifests beside it that no build has rewritten
/// for a month. Without a manifest a build is slower, never wrong, so a failure here (or
/// no `contents`) is not an error: the old manifest is removed instead.
pub fn save(path: &Path, contents: Option<Contents<'_>>) {
    let saved = (|| {
        let contents = contents?;
        let dir = path.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        let tmp = tempfile::NamedTempFile::new_in(dir).ok()?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp);
        contents.write_to(&mut out).ok()?;
        out.into_inner().ok()?.persist(path).ok()?;
        prune(dir, path);
        Some(())
    })();
    if saved.is_none() {
        let _ = std::fs::remove_file(path);
    }
}

/// Removes the manifests in `dir` (but `keep`) not written for [`KEEP_FOR`].
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > KEEP_FOR);
        if old && e.path() != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The previous output, as far as its manifest vouches for it.
#[derive(Debug)]
pub struct Checked {
    /// Every folder of the manifest, as it is now: each one checked to be a real folder (not
    /// a symlink) with the recorded inode.
    pub dirs: HashMap<String, DirRec, FastHasher>,
    /// Every file of the manifest.
    pub files: HashMap<String, FileRec, FastHasher>,
    stamp: i64,
}

impl Checked {
    /// The record of `rel` if it can be trusted (written before the stamp).
    pub fn file(&self, rel: &str) -> Option<&FileRec> {
        self.files.get(rel).filter(|f| f.mtime < self.stamp)
    }
}

/// Files of the previous output as (`/`-separated relative path, full path).
pub type Files = Vec<(String, PathBuf)>;

/// Checks `m` against the output folder `target`: every recorded folder must still be a
/// real folder with its inode (else None: the manifest is not used at all). Returns what
/// can be trusted, and the previous output's files the manifest does not know of: every
/// file in a folder whose entries may have changed that is not a recorded one (the files
/// someone else put there, whole folders of them included). Files under `.git` and `CNAME`
/// at the top are left out, as [`super::list_files`] does.
pub fn check(target: &Path, m: Manifest) -> Option<(Checked, Files)> {
    let root = std::fs::symlink_metadata(target).ok()?;
    if dev(&root) != m.dev {
        return None;
    }
    let mut changed = Vec::new();
    let mut dirs = HashMap::with_capacity_and_hasher(m.dirs.len(), FastHasher::default());
    for (rel, rec) in &m.dirs {
        let meta = if rel.is_empty() {
            root.clone()
        } else {
            std::fs::symlink_metadata(super::join_rel(target, rel).ok()?).ok()?
        };
        if !meta.file_type().is_dir() || ino(&meta) != rec.ino || dev(&meta) != m.dev {
            return None;
        }
        let now = DirRec::of(&meta);
        if now.mtime != rec.mtime || rec.mtime >= m.stamp {
            changed.push(rel.as_str());
        }
        dirs.insert(rel.clone(), now);
    }
    if !dirs.contains_key("") {
        return None;
    }
    let mut files = Vec::new();
    for rel in changed {
        for entry in std::fs::read_dir(super::folder_path(target, rel).ok()?).ok()? {
            let entry = entry.ok()?;
            let name = entry.file_name();
            // A name that is not UTF-8 is none of ours: list the whole output the usual way.
            let name = name.to_str()?;
            if rel.is_empty() && super::KEPT.contains(&name) {
                continue;
            }
            let child = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type().ok()?;
            let known = if kind.is_dir() {
                m.dirs.contains_key(&child)
            } else {
                kind.is_file() && m.files.contains_key(&child)
            };
            if known {
                continue;
            }
            if kind.is_dir() {
                for (below, full) in super::list_under(&entry.path(), false).ok()? {
                    files.push((format!("{child}/{below}"), full));
                }
            } else {
                files.push((child, entry.path()));
            }
        }
    }
    Some((
        Checked {
            dirs,
            files: m.files,
            stamp: m.stamp,
        },
        files,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut m = Manifest {
            dev: 2049,
            stamp: 1_700_000_000_123_456_789,
            ..Manifest::default()
        };
        m.dirs.insert(
            String::new(),
            DirRec {
                mtime: 1_700_000_000_000_000_001,
                ino: 7,
            },
        );
        m.dirs
            .insert("sources/a key".into(), DirRec { mtime: -5, ino: 9 });
        m.files.insert(
            "sources/a key/index.html".into(),
            FileRec {
                len: 1234,
                mtime: 1_600_000_000_000_000_000,
                ino: 11,
                hash: halves(u128::MAX - 3),
            },
        );
        m
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let target = Path::new("/site/public");
        let text = sample().to_text(target).unwrap();
        assert_eq!(Manifest::parse(&text, target), Some(sample()));
        // Another folder's manifest, a truncated one, and a damaged one are not used.
        assert_eq!(Manifest::parse(&text, Path::new("/site/other")), None);
        assert_eq!(Manifest::parse(&text[..text.len() - 4], target), None);
        assert_eq!(
            Manifest::parse(&text.replace("F 1234", "F x"), target),
            None
        );
        assert_eq!(
            Manifest::parse(&text.replace("dev 2049", "dev"), target),
            None
        );
    }

    #[test]
    fn a_record_is_trusted_only_when_written_before_the_stamp() {
        let rec = |mtime| FileRec {
            len: 1,
            mtime,
            ino: 1,
            hash: [0, 0],
        };
        let mut files = HashMap::default();
        files.insert("old.html".to_string(), rec(99));
        // Written in the stamp's own clock tick: a change right after it could keep the time.
        files.insert("racy.html".to_string(), rec(100));
        let checked = Checked {
            dirs: HashMap::default(),
            files,
            stamp: 100,
        };
        assert_eq!(checked.file("old.html"), Some(&rec(99)));
        assert_eq!(checked.file("racy.html"), None);
        assert_eq!(checked.file("other.html"), None);
    }

    #[test]
    fn a_path_with_a_line_break_is_never_written_into_a_manifest() {
        let mut m = sample();
        m.files
            .insert("a\nF 1 1 1 0 b".into(), m.files["sources/a key/index.html"]);
        assert_eq!(m.to_text(Path::new("/site/public")), None);
    }

    #[test]
    fn the_streaming_hasher_agrees_with_the_whole_hash() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = Hasher::new();
        for piece in bytes.chunks(977) {
            h.update(piece);
        }
        assert_eq!(h.digest128(), hash(&bytes));
    }
}
