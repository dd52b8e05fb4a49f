//! The copy of the latest signed checkpoint kept outside the database
//! (beside the key file by default): whoever administers the database
//! cannot roll the log back or cut its tail without it showing.

use std::io::Write as _;
use std::path::Path;

/// Replaces the copy atomically: write a temporary file, sync it, rename
/// it over the old copy, sync the folder.
pub fn write(path: &Path, note: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(note.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// The copy's text, or `None` when there is none yet.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(note) => Ok(Some(note)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
