//! The knowledge folder's files, shared through PostgreSQL (`DATABASE_URL`), so that a
//! document an admin sends one replica (or removes on one) reaches them all.
//!
//! Each replica keeps its own folder, which the knowledge is read from as ever; the
//! database holds what admins changed: a file added (its bytes) or removed (a tombstone).
//! Before a replica loads its knowledge (at start, on `/reload`, SIGHUP or a reload another
//! replica asked for through Redis) it [syncs](SharedFiles::sync): the files the database
//! has are written into its folder where they differ, the removed ones deleted. Files only
//! a replica's folder has (the documents it was deployed with) are left as they are until
//! an admin removes one. A replica that missed a reload (Redis was away) sees the change
//! within [`POLL_EVERY`]: the changes are numbered, and a number it has not synced makes it
//! reload.
//!
//! Nothing here is on an answer's path: a database that does not answer costs a reload its
//! sync (logged), and the replica reads the folder it has.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::record::ServerUrl;

/// How often a replica asks whether the files changed, when no reload told it.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

/// Why the files could not be shared or synced.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("PostgreSQL: {0}")]
    Database(#[from] ::postgres::Error),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// What a sync changed in the folder.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Synced {
    /// Files written (new, or different from the folder's).
    pub written: Vec<String>,
    /// Files deleted (removed on another replica).
    pub deleted: Vec<String>,
}

impl Synced {
    pub fn is_empty(&self) -> bool {
        self.written.is_empty() && self.deleted.is_empty()
    }
}

/// The number of the latest change (0: none yet).
const LATEST: &str = "SELECT coalesce(max(change), 0) FROM knowledge_files";

/// The files the replicas share, in the database at `url`.
#[derive(Debug)]
pub struct SharedFiles {
    url: ServerUrl,
    /// Whether the schema was brought up to date by this process (once is enough: the
    /// poll asks every 30 s).
    migrated: AtomicBool,
    /// The last change this replica's folder was synced to; -1 before the first sync.
    synced: AtomicI64,
}

impl SharedFiles {
    pub fn new(url: ServerUrl) -> SharedFiles {
        SharedFiles {
            url,
            migrated: AtomicBool::new(false),
            synced: AtomicI64::new(-1),
        }
    }

    /// A connection, the schema brought up to date the first time.
    fn connect(&self) -> Result<::postgres::Client, FilesError> {
        use crate::record::postgres;
        let mut client = postgres::connect(&self.url)?;
        if !self.migrated.load(Ordering::Relaxed) {
            postgres::migrate(&mut client)?;
            self.migrated.store(true, Ordering::Relaxed);
        }
        Ok(client)
    }

    /// Keeps the files `names` of `dir` as they are now (a document just added, and its
    /// `NAME.toml`), for the other replicas.
    pub fn put(&self, dir: &Path, names: &[String]) -> Result<(), FilesError> {
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| FilesError::Io(path, e))?;
            files.push((name, sha256(&bytes), bytes));
        }
        let mut client = self.connect()?;
        let mut tx = client.transaction()?;
        for (name, hash, bytes) in &files {
            tx.execute(
                "INSERT INTO knowledge_files (name, body, sha256, change, at)
                 VALUES ($1, $2, $3, nextval('knowledge_changes'), $4)
                 ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body,
                     sha256 = EXCLUDED.sha256, change = EXCLUDED.change, at = EXCLUDED.at",
                &[name, bytes, hash, &now()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks the files `names` removed, for the other replicas to delete too.
    pub fn remove(&self, names: &[String]) -> Result<(), FilesError> {
        let mut client = self.connect()?;
        let mut tx = client.transaction()?;
        for name in names {
            tx.execute(
                "INSERT INTO knowledge_files (name, body, sha256, change, at)
                 VALUES ($1, NULL, NULL, nextval('knowledge_changes'), $2)
                 ON CONFLICT (name) DO UPDATE SET body = NULL, sha256 = NULL,
                     change = EXCLUDED.change, at = EXCLUDED.at",
                &[name, &now()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The number of the latest change (0: none yet).
    pub fn latest(&self) -> Result<i64, FilesError> {
        Ok(self.connect()?.query_one(LATEST, &[])?.get(0))
    }

    /// Whether a change was made since this replica last synced.
    pub fn changed(&self) -> Result<bool, FilesError> {
        Ok(self.latest()? != self.synced.load(Ordering::Relaxed))
    }

    /// Brings `dir` in line with the database: each file it holds is written where the
    /// folder's differs, each removed one deleted. A name that is not a plain file name of
    /// the folder (a path, a hidden file) is skipped with a warning: the database is
    /// trusted with documents, not with where they go.
    pub fn sync(&self, dir: &Path) -> Result<Synced, FilesError> {
        let mut client = self.connect()?;
        // One snapshot for the whole sync: a change after it is seen by the next one.
        let mut tx = client
            .build_transaction()
            .isolation_level(::postgres::IsolationLevel::RepeatableRead)
            .start()?;
        let latest: i64 = tx.query_one(LATEST, &[])?.get(0);
        let rows = tx.query(
            "SELECT name, sha256 FROM knowledge_files ORDER BY name",
            &[],
        )?;
        let mut synced = Synced::default();
        for row in rows {
            let name: String = row.get(0);
            let wanted: Option<String> = row.get(1);
            if !is_plain_name(&name) {
                tracing::warn!(file = %name, "a shared file's name is no plain file name: skipped");
                continue;
            }
            let path = dir.join(&name);
            let have = match std::fs::read(&path) {
                Ok(bytes) => Some(sha256(&bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot sync: skipped");
                    continue;
                }
            };
            // A file that cannot be written or deleted is said and skipped: the others are
            // synced, and the change is not tried again on every poll.
            let done = match wanted {
                None if have.is_some() => std::fs::remove_file(&path)
                    .map_err(|e| FilesError::Io(path.clone(), e))
                    .map(|()| synced.deleted.push(name)),
                Some(hash) if have.as_ref() != Some(&hash) => {
                    let body: Option<Vec<u8>> = tx
                        .query_opt("SELECT body FROM knowledge_files WHERE name = $1", &[&name])?
                        .and_then(|row| row.get(0));
                    match body {
                        Some(body) => {
                            write_atomically(dir, &name, &body).map(|()| synced.written.push(name))
                        }
                        None => Ok(()),
                    }
                }
                _ => Ok(()),
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "cannot sync a shared file: skipped");
            }
        }
        tx.commit()?;
        self.synced.store(latest, Ordering::Relaxed);
        Ok(synced)
    }
}

/// Whether `name` names a file directly in the folder, shown (not hidden).
fn is_plain_name(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty()
        && !name.starts_with('.')
        && path.file_name().is_some_and(|n| n == name)
        && !name.contains(['/', '\\'])
}

/// Writes `bytes` to `dir/name` by way of a hidden file renamed into place, so that a
/// knowledge load never reads half a file.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), FilesError> {
    let draft = dir.join(format!(".syncing-{}-{name}", std::process::id()));
    crate::store::write_whole(&draft, &dir.join(name), bytes)
        .map_err(|(path, e)| FilesError::Io(path, e))
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_written() {
        for name in ["article.pdf", "notes 2.md", "Статья.docx"] {
            assert!(is_plain_name(name), "{name}");
        }
        for name in [
            "",
            ".env",
            "../etc/passwd",
            "sub/file.md",
            "/abs.md",
            "a\\b.md",
            "..",
        ] {
            assert!(!is_plain_name(name), "{name}");
        }
    }

    #[test]
    fn a_file_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "a.md", b"one").unwrap();
        write_atomically(dir.path(), "a.md", b"two").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.md")).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.md"], "no draft left behind");
    }
}
