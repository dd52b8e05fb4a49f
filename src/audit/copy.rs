//! The copy of the latest signed checkpoint kept outside the database
//! (beside the key file by default): whoever administers the database
//! cannot roll the log back or cut its tail without it showing.

use std::io::Write as _;
use std::path::Path;

/// Replaces the copy with `note` (a checkpoint of `size` events) unless the
/// copy already states a larger one: several writers
/// (instances sharing a folder, a command beside the service) never put an
/// older checkpoint over a newer one. Writers take turns through a lock
/// file; the new copy is written to a temporary file of this process,
/// synced and renamed into place (the folder is synced when the copy is
/// first created).
pub fn replace_if_larger(path: &Path, note: &str, size: u64) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))?;
    lock.lock()?;
    let existing = read(path)?;
    if existing.as_deref().and_then(note_size).is_some_and(|old| old > size) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(note.as_bytes())?;
    file.sync_data()?;
    std::fs::rename(&tmp, path)?;
    if existing.is_none() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The tree size a checkpoint note states (its second line), unverified:
/// only to keep a larger copy in place; whoever reads the copy verifies it.
fn note_size(note: &str) -> Option<u64> {
    note.lines().nth(1)?.parse().ok()
}

/// The copy's text, or `None` when there is none yet.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(note) => Ok(Some(note)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
