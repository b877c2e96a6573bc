//! Load stage, part three: find the site's input files and read them.
//!
//! In: the site root. Out: sorted lists of content-relative paths (briefs, section indexes,
//! assets) and, on request, a file's text as a [`SourceText`]. Walks with walkdir, never
//! following symlinks out of the site; every I/O problem becomes a diagnostic, none is
//! dropped. Hidden files and editor leftovers (`.x`, `x~`, `#x#`, `.swp`) are ignored.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;

use crate::diagnostics::{Diagnostic, SourceText};

/// Largest brief accepted.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// A file found under a folder: its absolute path and its path relative to that folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub abs: PathBuf,
    pub rel: PathBuf,
}

/// What `content/` holds.
#[derive(Debug, Default)]
pub struct Content {
    /// `*.md` other than `_index.md`.
    pub briefs: Vec<Entry>,
    /// `_index.md` files (a folder's title and intro).
    pub sections: Vec<Entry>,
    /// Everything else (images, PDFs), copied to the output as is.
    pub assets: Vec<Entry>,
    /// Site-wide data files the content stages read (`sources.yaml` and friends).
    pub data: Vec<Entry>,
}

/// Files at the top of `content/` that are data for the build, not pages or assets.
pub const DATA_FILES: &[&str] = &["sources.yaml", "sources.yml", "sources.json", "sources.bib"];

fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || (name.starts_with('#') && name.ends_with('#'))
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
}

/// Walks `dir` (which may not exist) and returns its files, sorted, with every problem.
pub fn walk(root: &Path, dir: &Path) -> (Vec<Entry>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    if !dir.exists() {
        return (files, diags);
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walker = WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !ignored(&e.file_name().to_string_lossy()));
    for item in walker {
        let entry = match item {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(|p| display(root, p)).unwrap_or_default();
                diags.push(
                    Diagnostic::error(format!("cannot read {}: {e}", path.display()))
                        .in_file(&path)
                        .hint("check the file's permissions"),
                );
                continue;
            }
        };
        let path = entry.path();
        let mut is_file = entry.file_type().is_file();
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) => {
                    is_file = target.is_file();
                    if target.is_dir() {
                        diags.push(
                            Diagnostic::warning(format!(
                                "{} is a symlink to a folder; it is not followed",
                                display(root, path).display()
                            ))
                            .in_file(display(root, path))
                            .hint("move the folder here or copy it"),
                        );
                        continue;
                    }
                }
                Err(_) => {
                    diags.push(
                        Diagnostic::error(format!(
                            "{} is a broken symlink (its target is missing or it loops)",
                            display(root, path).display()
                        ))
                        .in_file(display(root, path))
                        .hint("remove the link or point it at a file inside the site"),
                    );
                    continue;
                }
                _ => {
                    diags.push(
                        Diagnostic::error(format!(
                            "{} is a symlink that points outside the site",
                            display(root, path).display()
                        ))
                        .in_file(display(root, path))
                        .hint("replace the link with a copy of the file"),
                    );
                    continue;
                }
            }
        }
        if !is_file {
            continue;
        }
        let rel = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
        files.push(Entry {
            abs: path.to_path_buf(),
            rel,
        });
    }
    (files, diags)
}

/// Sorts `content/` into briefs, section indexes, data files and assets.
pub fn content(root: &Path) -> (Content, Vec<Diagnostic>) {
    let dir = root.join("content");
    let mut content = Content::default();
    let mut diags = Vec::new();
    if !dir.is_dir() {
        diags.push(
            Diagnostic::error("the site has no content/ folder")
                .in_file("content")
                .hint("create content/ and put briefs (`*.md`) in it"),
        );
        return (content, diags);
    }
    let (files, walk_diags) = walk(root, &dir);
    diags.extend(walk_diags);
    for entry in files {
        let name = entry
            .rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_md = entry
            .rel
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        if name == "_index.md" {
            content.sections.push(entry);
        } else if is_md {
            content.briefs.push(entry);
        } else if entry.rel.parent() == Some(Path::new("")) && DATA_FILES.contains(&name.as_str()) {
            content.data.push(entry);
        } else {
            content.assets.push(entry);
        }
    }
    (content, diags)
}

/// The path shown to users: relative to the site root when inside it.
pub fn display(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Reads a text file: UTF-8 required, a BOM dropped, at most [`MAX_FILE_SIZE`] bytes.
pub fn read_text(root: &Path, path: &Path) -> Result<Arc<SourceText>, Diagnostic> {
    let shown = display(root, path);
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostic::error(format!("cannot read {}: {e}", shown.display())).in_file(&shown)
    })?;
    if meta.len() > MAX_FILE_SIZE {
        return Err(Diagnostic::error(format!(
            "{} is {} MiB; the limit is {} MiB",
            shown.display(),
            meta.len() / (1024 * 1024),
            MAX_FILE_SIZE / (1024 * 1024)
        ))
        .in_file(&shown)
        .hint("split the brief into several"));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(format!("cannot read {}: {e}", shown.display())).in_file(&shown)
    })?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(format!(
            "{} is not valid UTF-8 (bad byte at offset {})",
            shown.display(),
            e.utf8_error().valid_up_to()
        ))
        .in_file(&shown)
        .hint("save the file as UTF-8")
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok(Arc::new(SourceText::new(shown, text)))
}
