//! Where content comes from: the copy embedded in the binary, or a folder on
//! disk (`--content DIR`, an instructor's edited copy). Everything above this
//! reads content through [`Content`] and never knows which it got.

use include_dir::{Dir, include_dir};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The shipped content, embedded folder by folder (the crate root also holds
/// src/ and target/, which must not be embedded). `build.rs` makes cargo
/// rebuild when any of these change.
static COURSE_YAML: &[u8] = include_bytes!("../../../course.yaml");
static LESSONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../lessons");
static QUIZZES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../quizzes");
static LABS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../labs");
static CONTAINERS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../containers");

/// The embedded top-level folders, by name.
fn embedded_root(name: &str) -> Option<&'static Dir<'static>> {
    match name {
        "lessons" => Some(&LESSONS),
        "quizzes" => Some(&QUIZZES),
        "labs" => Some(&LABS),
        "containers" => Some(&CONTAINERS),
        _ => None,
    }
}

/// Resolve a content-relative path to an embedded folder and the path inside
/// it (include_dir paths are relative to the folder that was embedded, so
/// the first component is kept: `lessons/x.md` is `x.md` in LESSONS, but
/// include_dir names it `x.md`).
fn split_root(rel: &str) -> Option<(&'static Dir<'static>, &str)> {
    let rel = rel.trim_matches('/');
    let (top, rest) = rel.split_once('/').unwrap_or((rel, ""));
    embedded_root(top).map(|d| (d, rest))
}

const TOP_DIRS: [&str; 4] = ["containers", "labs", "lessons", "quizzes"];

#[derive(Clone, Debug)]
pub enum Content {
    Embedded,
    Disk(PathBuf),
}

impl Content {
    /// The content built into the binary.
    pub fn embedded() -> Content {
        Content::Embedded
    }

    /// An instructor's copy on disk (a folder holding course.yaml).
    pub fn disk(root: impl Into<PathBuf>) -> Content {
        Content::Disk(root.into())
    }

    /// Read a file by its path relative to the content root (`/`-separated).
    pub fn read(&self, rel: &str) -> std::io::Result<Cow<'static, [u8]>> {
        match self {
            Content::Embedded => {
                if rel == "course.yaml" {
                    return Ok(Cow::Borrowed(COURSE_YAML));
                }
                split_root(rel)
                    .and_then(|(d, inner)| d.get_file(inner))
                    .map(|f| Cow::Borrowed(f.contents()))
                    .ok_or_else(|| not_found(rel))
            }
            Content::Disk(root) => std::fs::read(root.join(rel)).map(Cow::Owned),
        }
    }

    /// Read a UTF-8 text file.
    pub fn read_string(&self, rel: &str) -> std::io::Result<String> {
        let bytes = self.read(rel)?;
        String::from_utf8(bytes.into_owned()).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{rel} is not UTF-8: {e}"),
            )
        })
    }

    pub(crate) fn exists(&self, rel: &str) -> bool {
        match self {
            Content::Embedded => {
                rel == "course.yaml"
                    || split_root(rel)
                        .is_some_and(|(d, inner)| inner.is_empty() || d.get_entry(inner).is_some())
            }
            Content::Disk(root) => root.join(rel).exists(),
        }
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        match self {
            Content::Embedded => split_root(rel)
                .is_some_and(|(d, inner)| inner.is_empty() || d.get_dir(inner).is_some()),
            Content::Disk(root) => root.join(rel).is_dir(),
        }
    }

    /// Files directly inside a folder (relative paths, sorted). Empty when the
    /// folder does not exist.
    pub fn list_files(&self, rel_dir: &str) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Content::Embedded => {
                if rel_dir.is_empty() {
                    out.push("course.yaml".to_string());
                } else if let Some(dir) = embedded_dir(rel_dir) {
                    out.extend(dir.files().map(|f| join(rel_dir, &file_name(f.path()))));
                }
            }
            Content::Disk(root) => {
                if let Ok(rd) = std::fs::read_dir(root.join(rel_dir)) {
                    for e in rd.flatten() {
                        if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                            out.push(join(rel_dir, &e.file_name().to_string_lossy()));
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// Sub-folders directly inside a folder (relative paths, sorted).
    pub(crate) fn list_dirs(&self, rel_dir: &str) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Content::Embedded => {
                if rel_dir.is_empty() {
                    out.extend(TOP_DIRS.iter().map(|s| s.to_string()));
                } else if let Some(dir) = embedded_dir(rel_dir) {
                    out.extend(dir.dirs().map(|d| join(rel_dir, &file_name(d.path()))));
                }
            }
            Content::Disk(root) => {
                if let Ok(rd) = std::fs::read_dir(root.join(rel_dir)) {
                    for e in rd.flatten() {
                        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                            out.push(join(rel_dir, &e.file_name().to_string_lossy()));
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// Every file below a folder, recursively (relative paths, sorted).
    pub(crate) fn walk_files(&self, rel_dir: &str) -> Vec<String> {
        let mut out = self.list_files(rel_dir);
        for d in self.list_dirs(rel_dir) {
            out.extend(self.walk_files(&d));
        }
        out.sort();
        out
    }

    /// Copy a folder (recursively) to `dest`, creating it. Existing files are
    /// left alone unless `overwrite`.
    pub fn extract_dir(
        &self,
        rel_dir: &str,
        dest: &Path,
        overwrite: bool,
    ) -> std::io::Result<usize> {
        let mut n = 0;
        let prefix = if rel_dir.is_empty() {
            String::new()
        } else {
            format!("{rel_dir}/")
        };
        for file in self.walk_files(rel_dir) {
            let sub = file.strip_prefix(&prefix).unwrap_or(&file);
            let target = dest.join(sub);
            if target.exists() && !overwrite {
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, self.read(&file)?)?;
            #[cfg(unix)]
            if is_script(sub) {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
            }
            n += 1;
        }
        Ok(n)
    }

    /// How to name a content file in a message: the real path for content on
    /// disk, the content-relative path for embedded content.
    pub fn display_path(&self, rel: &str) -> String {
        match self {
            Content::Embedded => rel.to_string(),
            Content::Disk(root) => root.join(rel).display().to_string(),
        }
    }
}

fn is_script(p: &str) -> bool {
    p.ends_with(".sh") || p.ends_with(".py")
}

fn not_found(rel: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("{rel}: no such file in the built-in content"),
    )
}

fn embedded_dir(rel_dir: &str) -> Option<&'static Dir<'static>> {
    let (root, inner) = split_root(rel_dir)?;
    if inner.is_empty() {
        Some(root)
    } else {
        root.get_dir(inner)
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}
