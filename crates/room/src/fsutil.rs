//! Small file helpers: atomic private writes (temp file in the same folder,
//! fsync, rename, fsync of the folder; mode 0600) and an exclusive lock file,
//! the same discipline as datalab's progress file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replace `path` with `bytes` atomically; the file is readable by its owner
/// only. A crash leaves either the old or the new content, never a mix.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

/// Create `path` with `bytes` and mode 0600 if it does not exist yet;
/// returns the existing content otherwise.
pub fn create_private_once(path: &Path, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    match fs::read(path) {
        Ok(existing) => Ok(existing),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_private_atomic(path, bytes)?;
            Ok(bytes.to_vec())
        }
        Err(e) => Err(e),
    }
}

/// An exclusive advisory lock held until dropped.
pub struct DirLock {
    _lock: nix::fcntl::Flock<File>,
}

/// Take the exclusive lock on `path` (created 0600 if missing), waiting for
/// other holders.
pub fn lock(path: &Path) -> std::io::Result<DirLock> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    let lock = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| std::io::Error::from(e))?;
    Ok(DirLock { _lock: lock })
}

/// Make a folder that only its owner can enter.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/f.json");
        write_private_atomic(&p, b"one").unwrap();
        write_private_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(create_private_once(&p, b"three").unwrap(), b"two");
    }
}
