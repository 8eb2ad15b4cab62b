//! The index on disk, under `INDEX_DIR`: reused across restarts, rebuilt when the knowledge
//! changed.
//!
//! Each build lives in a subfolder named after the knowledge's fingerprint (a hash of every
//! document file) and the index format, with a manifest written last. A start-up that finds
//! the subfolder and its manifest opens the index (tantivy's mmap directory) instead of
//! building it; anything else — no manifest, another fingerprint, a corrupted or foreign
//! index — is rebuilt with a warning. Only subfolders citebot made are ever deleted, so an
//! `INDEX_DIR` pointed at a folder with other files in it loses none of them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::index::{PassageIndex, SearchError};
use crate::knowledge::Knowledge;

/// Bumped whenever the schema or the analyzer changes what an index holds.
const FORMAT: u32 = 1;
const MANIFEST: &str = "citebot-manifest.json";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Manifest {
    format: u32,
    fingerprint: String,
    passages: u64,
}

/// The subfolder of `index_dir` for this knowledge.
pub fn build_dir(index_dir: &Path, knowledge: &Knowledge) -> PathBuf {
    let short = knowledge
        .fingerprint
        .get(..16)
        .unwrap_or(&knowledge.fingerprint);
    index_dir.join(format!("citebot-v{FORMAT}-{short}"))
}

/// Opens the index built for `knowledge` under `index_dir`, or builds it.
pub fn open_or_build(index_dir: &Path, knowledge: &Knowledge) -> Result<PassageIndex, SearchError> {
    let dir = build_dir(index_dir, knowledge);
    let expected = Manifest {
        format: FORMAT,
        fingerprint: knowledge.fingerprint.clone(),
        passages: knowledge.passages.len() as u64,
    };
    match reopen(&dir, &expected) {
        Ok(Some(index)) => {
            tracing::info!(dir = %dir.display(), passages = expected.passages, "reusing the index on disk");
            return Ok(index);
        }
        Ok(None) => {}
        Err(why) => {
            tracing::warn!(dir = %dir.display(), %why, "the index on disk cannot be used; rebuilding it")
        }
    }
    remove_stale(index_dir)?;
    let index = PassageIndex::create_in_dir(&dir, knowledge)?;
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&expected).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, dir.join(MANIFEST))?;
    tracing::info!(dir = %dir.display(), passages = expected.passages, "built the index on disk");
    Ok(index)
}

/// `Ok(None)`: nothing built here yet. `Err`: something is here, but not a usable index.
fn reopen(dir: &Path, expected: &Manifest) -> Result<Option<PassageIndex>, String> {
    let manifest = match std::fs::read(dir.join(MANIFEST)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if dir.exists() {
                Err("no manifest (an interrupted build?)".into())
            } else {
                Ok(None)
            };
        }
        Err(e) => return Err(e.to_string()),
    };
    let found: Manifest =
        serde_json::from_slice(&manifest).map_err(|e| format!("bad manifest: {e}"))?;
    if &found != expected {
        return Err("the manifest belongs to other knowledge".into());
    }
    // tantivy reports most damage as errors, but a damaged file can also make it panic:
    // a broken cache must never take the bot down.
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let index = PassageIndex::open_dir(dir)?;
        let mut ids = index.passage_ids()?;
        ids.sort_unstable();
        Ok::<_, SearchError>((index, ids))
    }));
    match opened {
        Ok(Ok((index, ids))) if ids.iter().copied().eq(0..expected.passages) => Ok(Some(index)),
        Ok(Ok(_)) => Err("the index does not hold the passages its manifest promises".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the index is corrupted".into()),
    }
}

/// Deletes earlier citebot builds under `index_dir` (and only those).
fn remove_stale(index_dir: &Path) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(index_dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("citebot-v") && entry.path().is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Vocabulary;

    fn small_knowledge(body: &str) -> Knowledge {
        let dir = tempfile::tempdir().unwrap();
        let raw = format!("+++\ntitle = \"T\"\nurl = \"https://example.org/t\"\n+++\n{body}\n");
        std::fs::write(dir.path().join("t.txt"), raw).unwrap();
        Knowledge::load(dir.path()).unwrap()
    }

    #[test]
    fn reused_when_unchanged_rebuilt_when_changed_or_damaged() {
        let index_dir = tempfile::tempdir().unwrap();
        std::fs::write(index_dir.path().join("keep-me.txt"), "not ours").unwrap();
        let k1 =
            small_knowledge("Moscow hosted talks on Afghanistan.\n\nThe Taliban came to Moscow.");
        let i1 = open_or_build(index_dir.path(), &k1).unwrap();
        assert_eq!(i1.num_passages(), 3);
        drop(i1);
        let dir1 = build_dir(index_dir.path(), &k1);
        let manifest = std::fs::metadata(dir1.join(MANIFEST))
            .unwrap()
            .modified()
            .unwrap();

        // Same knowledge: opened, not rebuilt.
        let again = open_or_build(index_dir.path(), &k1).unwrap();
        assert_eq!(again.doc_freq("taliban"), 1);
        assert_eq!(
            std::fs::metadata(dir1.join(MANIFEST))
                .unwrap()
                .modified()
                .unwrap(),
            manifest
        );
        drop(again);

        // Damage every file of the index: rebuilt, not a crash.
        for f in std::fs::read_dir(&dir1).unwrap().flatten() {
            if f.file_name() != MANIFEST {
                std::fs::write(f.path(), b"garbage").unwrap();
            }
        }
        let repaired = open_or_build(index_dir.path(), &k1).unwrap();
        assert_eq!(repaired.doc_freq("moscow"), 2);
        drop(repaired);

        // Other knowledge: a new build, the old one gone, foreign files kept.
        let k2 = small_knowledge("Only one paragraph about Kabul.");
        let i2 = open_or_build(index_dir.path(), &k2).unwrap();
        assert_eq!(i2.doc_freq("kabul"), 1);
        assert!(!dir1.exists());
        assert!(index_dir.path().join("keep-me.txt").exists());
    }
}
