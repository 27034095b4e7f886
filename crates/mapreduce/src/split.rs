//! Listing the input files and cutting them into splits on line boundaries.

use super::JobError;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A byte range `[start, end)` of one input file, starting at the beginning
/// of a line and ending just after a newline (or at the end of the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputSplit {
    pub(crate) file: PathBuf,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl InputSplit {
    pub(crate) fn len(&self) -> u64 {
        self.end - self.start
    }
    /// `data/doc1.txt bytes 0-1048576`.
    pub(crate) fn describe(&self) -> String {
        format!("{} bytes {}-{}", self.file.display(), self.start, self.end)
    }
}

fn hidden(name: &std::ffi::OsStr) -> bool {
    let n = name.to_string_lossy();
    n.starts_with('.') || n.starts_with('_')
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), JobError> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        JobError::Usage(format!(
            "cannot read the input folder {}: {}",
            dir.display(),
            reason(&e)
        ))
    })?;
    let mut entries: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| !hidden(&e.file_name()))
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

pub(crate) fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The input files, in a stable order. Every file is opened once so an
/// unreadable one is reported before any task runs.
pub(crate) fn list_inputs(inputs: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>, JobError> {
    if inputs.is_empty() {
        return Err(JobError::Usage(
            "no input given: pass --input with a file or a folder".into(),
        ));
    }
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| {
            JobError::Usage(format!(
                "cannot read the input {}: {}",
                input.display(),
                reason(&e)
            ))
        })?;
        if meta.is_dir() {
            let before = files.len();
            walk(input, &mut files)?;
            if files.len() == before {
                return Err(JobError::Usage(format!(
                    "the input folder {} holds no files",
                    input.display()
                )));
            }
        } else {
            files.push(input.clone());
        }
    }
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let file = File::open(&f).map_err(|e| {
            JobError::Usage(format!(
                "cannot read the input {}: {}",
                f.display(),
                reason(&e)
            ))
        })?;
        let meta = file
            .metadata()
            .map_err(|e| JobError::Usage(format!("cannot read the input {}: {e}", f.display())))?;
        if !meta.is_file() {
            return Err(JobError::Usage(format!(
                "the input {} is not a regular file",
                f.display()
            )));
        }
        out.push((f, meta.len()));
    }
    Ok(out)
}

/// Cut files into splits of about `split_size` bytes: each split ends at the
/// first newline at or after `start + split_size`.
pub fn plan_splits(files: &[(PathBuf, u64)], split_size: u64) -> std::io::Result<Vec<InputSplit>> {
    let split_size = split_size.max(1);
    let mut splits = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (path, len) in files {
        let len = *len;
        if len == 0 {
            continue;
        }
        let mut file = File::open(path)?;
        let mut start = 0u64;
        while start < len {
            let mut end = start.saturating_add(split_size);
            if end >= len {
                end = len;
            } else {
                // Move `end` just past the next newline at or after end-1,
                // so a line that ends exactly at `end` is not split.
                file.seek(SeekFrom::Start(end - 1))?;
                let mut pos = end - 1;
                let mut found = None;
                while found.is_none() {
                    let n = file.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                        found = Some(pos + i as u64 + 1);
                    }
                    pos += n as u64;
                }
                end = found.unwrap_or(len).min(len);
            }
            splits.push(InputSplit {
                file: path.clone(),
                start,
                end,
            });
            start = end;
        }
    }
    Ok(splits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cover_the_file_on_line_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        let text = "one\ntwo two\n\nthree three three\nfour\nno newline at end";
        std::fs::write(&p, text).unwrap();
        for size in 1..(text.len() as u64 + 3) {
            let splits = plan_splits(&[(p.clone(), text.len() as u64)], size).unwrap();
            let mut at = 0;
            for s in &splits {
                assert_eq!(s.start, at);
                assert!(s.end > s.start);
                let end = s.end as usize;
                assert!(end == text.len() || text.as_bytes()[end - 1] == b'\n');
                at = s.end;
            }
            assert_eq!(at, text.len() as u64);
        }
    }
}
