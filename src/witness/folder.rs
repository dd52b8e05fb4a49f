//! A folder as a witness: the latest checkpoint Jaga sent, kept on storage
//! the database's administrators cannot write (another office's share, a
//! write-once volume). Before it is replaced by a newer one, and when the
//! service starts, the log in the database must still hold the tree the
//! folder's checkpoint describes; if it does not, the log was rewritten or
//! rolled back, even if the checkpoint copy beside the key file was
//! replaced too.

use std::io::Write as _;
use std::path::Path;

use crate::audit::AuditKeys;
use crate::audit::checkpoint::Checkpoint;
use crate::audit::checkpointer::root_at;
use crate::store::Db;

const FILE: &str = "checkpoint";

fn read(folder: &Path, keys: &AuditKeys) -> Result<Option<Checkpoint>, String> {
    let path = folder.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(note) => Checkpoint::open(&note, &keys.public_key()).map(Some).map_err(|e| {
            format!(
                "the folder witness {} holds a checkpoint this log did not sign: {e}",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("the folder witness {} cannot be read: {e}", path.display())),
    }
}

/// The log in the database still holds the folder's tree.
pub async fn check(folder: &Path, db: &Db, keys: &AuditKeys) -> Result<(), String> {
    let Some(seen) = read(folder, keys)? else {
        return Ok(());
    };
    match root_at(db, keys, seen.size).await.map_err(|e| e.to_string())? {
        Some(root) if root == seen.root => Ok(()),
        Some(_) => Err(format!(
            "the audit log no longer holds the tree of {} events witnessed in {}: it was rewritten",
            seen.size,
            folder.display()
        )),
        None => Err(format!(
            "the audit log ends before {} events, which the folder witness {} holds: it was cut or rolled back",
            seen.size,
            folder.display()
        )),
    }
}

/// Checks the folder's checkpoint against the log, then puts the newest
/// stored checkpoint in its place.
pub async fn advance(folder: &Path, db: &Db, keys: &AuditKeys) -> Result<(), String> {
    check(folder, db, keys).await?;
    let Some(row) = crate::store::audit::last_checkpoint(db)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    if read(folder, keys)?.is_some_and(|seen| i64::try_from(seen.size).ok() >= Some(row.tree_size)) {
        return Ok(());
    }
    write(folder, &row.note).map_err(|e| format!("the folder witness {} cannot be written: {e}", folder.display()))
}

fn write(folder: &Path, note: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!("{FILE}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(note.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, folder.join(FILE))?;
    std::fs::File::open(folder)?.sync_all()
}
