//! Reading and writing the key file with strict permissions.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use zeroize::Zeroizing;

use super::KeyError;

fn io(path: &Path, e: &std::io::Error) -> KeyError {
    KeyError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Writes a new key file with mode 0600, creating its folder with mode 0700.
/// Refuses to overwrite an existing file.
pub fn write_new(path: &Path, text: &str) -> Result<(), KeyError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io(dir, &e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists(path.display().to_string()),
            _ => io(path, &e),
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io(path, &e))
}

fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// An exclusive lock on `<key file>.lock`, held while a command edits the
/// key file, so two edits cannot lose one another's change.
#[derive(Debug)]
pub struct EditLock(#[expect(dead_code, reason = "held for its lock, released on drop")] std::fs::File);

pub fn lock(path: &Path) -> Result<EditLock, KeyError> {
    let lock_path = sibling(path, ".lock");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| io(&lock_path, &e))?;
    file.lock().map_err(|e| io(&lock_path, &e))?;
    Ok(EditLock(file))
}

/// Replaces the key file atomically: the new text goes to a sibling file
/// (mode 0600, same owner and group as the old one), is synced, and is
/// renamed over the old one; then the folder is synced.
pub fn replace(path: &Path, text: &str) -> Result<(), KeyError> {
    use std::os::unix::fs::MetadataExt as _;
    let old = std::fs::metadata(path).map_err(|e| io(path, &e))?;
    let tmp = sibling(path, ".new");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io(&tmp, &e))?;
    std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid())).map_err(|e| io(&tmp, &e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io(&tmp, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, &e))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, &e))?;
    Ok(())
}

/// Reads the key file, refusing one that other users could read.
pub fn read(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => KeyError::Missing(path.display().to_string()),
        _ => io(path, &e),
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.display().to_string(),
            mode,
        });
    }
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| io(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_with_owner_only_mode_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/keys.toml");
        write_new(&path, "a").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(write_new(&path, "b"), Err(KeyError::Exists(_))));
        assert_eq!(&*read(&path).unwrap(), "a");
    }

    #[test]
    fn group_readable_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        write_new(&path, "a").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(read(&path), Err(KeyError::Permissions { .. })));
    }
}
