//! The index on disk, under `INDEX_DIR`: reused across restarts, rebuilt when the knowledge
//! changed, shared safely between processes.
//!
//! Each build lives in a subfolder named after the knowledge's fingerprint (a hash of every
//! document file) and the index format, with a manifest written last. A start-up that finds
//! the subfolder, its manifest and files whose checksums hold opens the index (tantivy's mmap
//! directory) instead of building it; anything else — another fingerprint, a damaged or
//! foreign index — is rebuilt with a warning.
//!
//! Several processes may share `INDEX_DIR` (replicas, a `citebot ask` beside the bot):
//! - a build is made in a temporary folder and renamed into place, under an exclusive lock on
//!   `INDEX_DIR/citebot-build.lock`: a second process waits, then reuses the first one's
//!   result;
//! - a process that uses a build holds a shared lock on the build's `citebot.lock`, and an
//!   old build is deleted only when nobody holds it;
//! - a folder this process cannot write to is used read-only when it holds a valid build
//!   (copied into memory), and otherwise the index is built in memory, with one warning.
//!
//! Only folders citebot made are ever deleted, so an `INDEX_DIR` pointed at a folder with
//! other files in it loses none of them.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::index::PassageIndex;
use crate::knowledge::Knowledge;
use crate::retrieve::SearchError;

/// Bumped whenever the schema or the analyzer changes what an index holds (2: Cyrillic words
/// stemmed by the Russian stemmer).
const FORMAT: u32 = 2;
const MANIFEST: &str = "citebot-manifest.json";
/// Held exclusively while building, in `INDEX_DIR`.
const BUILD_LOCK: &str = "citebot-build.lock";
/// Held shared by every process using a build, inside it.
const IN_USE_LOCK: &str = "citebot.lock";
const PREFIX: &str = "citebot-v";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Manifest {
    format: u32,
    fingerprint: String,
    passages: u64,
}

impl Manifest {
    /// What a build of `knowledge` must say of itself.
    fn of(knowledge: &Knowledge) -> Manifest {
        Manifest {
            format: FORMAT,
            fingerprint: knowledge.fingerprint.clone(),
            passages: knowledge.passages.len() as u64,
        }
    }
}

/// The subfolder of `index_dir` for this knowledge.
pub fn build_dir(index_dir: &Path, knowledge: &Knowledge) -> PathBuf {
    let short = knowledge
        .fingerprint
        .get(..16)
        .unwrap_or(&knowledge.fingerprint);
    index_dir.join(format!("{PREFIX}{FORMAT}-{short}"))
}

/// What `make` gives, kept in `file` (in a build's folder: what the knowledge alone decides,
/// so that a restart reads it instead of working it out again): read back with `decode` when
/// the file is there and reads, else made and written with `encode`, whole (under another
/// name, then renamed: a process starting beside this one reads all of it or none). A file
/// that cannot be written costs the next start the work again, and nothing else.
pub fn kept<T>(
    file: Option<&Path>,
    decode: impl FnOnce(&str) -> Option<T>,
    encode: impl FnOnce(&T) -> String,
    make: impl FnOnce() -> T,
) -> T {
    let Some(file) = file else {
        return make();
    };
    if let Some(kept) = (std::fs::read_to_string(file).ok()).and_then(|text| decode(&text)) {
        return kept;
    }
    let made = make();
    let partial = file.with_extension(format!("{}.tmp", std::process::id()));
    if let Err((_, e)) = write_whole(&partial, file, encode(&made).as_bytes()) {
        tracing::debug!(file = %file.display(), error = %e, "cannot keep this beside the index");
    }
    made
}

/// Writes `bytes` to `target` whole: into `draft` beside it, then renamed over it, so that a
/// reader finds the old file or the new, never half of one. The draft is removed when either
/// step fails; the error names the file it is about (the draft, or the target).
pub fn write_whole(
    draft: &Path,
    target: &Path,
    bytes: &[u8],
) -> Result<(), (PathBuf, std::io::Error)> {
    let written = std::fs::write(draft, bytes)
        .map_err(|e| (draft.to_path_buf(), e))
        .and_then(|()| std::fs::rename(draft, target).map_err(|e| (target.to_path_buf(), e)));
    if written.is_err() {
        let _ = std::fs::remove_file(draft);
    }
    written
}

/// [`kept`] as JSON.
pub fn kept_json<T: Serialize + serde::de::DeserializeOwned>(
    file: Option<&Path>,
    make: impl FnOnce() -> T,
) -> T {
    kept(
        file,
        |text| serde_json::from_str(text).ok(),
        |made| serde_json::to_string(made).unwrap_or_default(),
        make,
    )
}

/// Opens the index built for `knowledge` under `index_dir`, or builds it there. A folder that
/// cannot be written to and holds no valid build gives an index in memory, with a warning.
pub fn open_or_build(index_dir: &Path, knowledge: &Knowledge) -> Result<PassageIndex, SearchError> {
    let dir = build_dir(index_dir, knowledge);
    let expected = Manifest::of(knowledge);
    // The usual case first, with no lock to wait for: a valid build is there.
    if let Ok(Some(index)) = reopen(&dir, &expected) {
        tracing::info!(dir = %dir.display(), passages = expected.passages, "reusing the index on disk");
        return Ok(index);
    }
    let build_lock = match std::fs::create_dir_all(index_dir).and_then(|()| {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(index_dir.join(BUILD_LOCK))
    }) {
        Ok(file) => file,
        Err(e) if is_read_only(&e) => return read_only(index_dir, &dir, &expected, knowledge, &e),
        Err(e) => return Err(e.into()),
    };
    // Another process may be building this very index: wait for it, then look again.
    build_lock.lock()?;
    match reopen(&dir, &expected) {
        Ok(Some(index)) => {
            tracing::info!(dir = %dir.display(), "reusing the index another process built");
            return Ok(index);
        }
        Ok(None) => {}
        Err(why) => {
            tracing::warn!(dir = %dir.display(), %why, "the index on disk cannot be used; rebuilding it")
        }
    }
    remove_unused(index_dir)?;
    let tmp = index_dir.join(format!(".{PREFIX}{FORMAT}-tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    drop(PassageIndex::create_in_dir(&tmp, knowledge)?);
    std::fs::write(
        tmp.join(MANIFEST),
        serde_json::to_vec_pretty(&expected).map_err(std::io::Error::other)?,
    )?;
    File::create(tmp.join(IN_USE_LOCK))?;
    if dir.exists() {
        // A damaged build of the same knowledge, not in use (it failed to open).
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&tmp, &dir)?;
    tracing::info!(dir = %dir.display(), passages = expected.passages, "built the index on disk");
    let index = reopen(&dir, &expected)
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("the index just built is gone"))?;
    drop(build_lock);
    Ok(index)
}

fn is_read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// `INDEX_DIR` cannot be written to: use a valid build from memory, or build in memory.
fn read_only(
    index_dir: &Path,
    dir: &Path,
    expected: &Manifest,
    knowledge: &Knowledge,
    why: &std::io::Error,
) -> Result<PassageIndex, SearchError> {
    let copied = (|| {
        check_manifest(dir, expected)?.then_some(())?;
        PassageIndex::open_dir_in_memory(dir).ok()
    })();
    if let Some(index) = copied.filter(|i| holds_all(i, expected)) {
        tracing::info!(dir = %dir.display(), "INDEX_DIR is read-only: using its index from memory");
        return Ok(index);
    }
    tracing::warn!(
        dir = %index_dir.display(),
        error = %why,
        "INDEX_DIR cannot be written and holds no index of this knowledge; indexing in memory"
    );
    PassageIndex::in_ram(knowledge)
}

/// `Some(true)`: the manifest is this knowledge's; `Some(false)`: another's or broken;
/// `None`: no manifest.
fn check_manifest(dir: &Path, expected: &Manifest) -> Option<bool> {
    let bytes = std::fs::read(dir.join(MANIFEST)).ok()?;
    Some(serde_json::from_slice::<Manifest>(&bytes).is_ok_and(|m| &m == expected))
}

fn holds_all(index: &PassageIndex, expected: &Manifest) -> bool {
    let Ok(mut ids) = index.passage_ids() else {
        return false;
    };
    ids.sort_unstable();
    ids.iter().copied().eq(0..expected.passages)
}

/// `Ok(None)`: nothing built here yet. `Err`: something is here, but not a usable index.
fn reopen(dir: &Path, expected: &Manifest) -> Result<Option<PassageIndex>, String> {
    match check_manifest(dir, expected) {
        None if dir.exists() => return Err("no manifest".into()),
        None => return Ok(None),
        Some(false) => return Err("the manifest belongs to other knowledge".into()),
        Some(true) => {}
    }
    // Marks the build as in use before opening it, so no other process deletes it from now
    // on. A read-only build has no lock to take; it cannot be deleted either.
    let hold = File::open(dir.join(IN_USE_LOCK))
        .ok()
        .filter(|f| f.lock_shared().is_ok());
    // tantivy reports most damage as errors (checksums are checked on opening), but a
    // damaged file can also make it panic: a broken cache must never take the bot down.
    let opened = std::panic::catch_unwind(|| PassageIndex::open_dir(dir));
    let index = match opened {
        Ok(Ok(index)) => index,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("the index is corrupted".into()),
    };
    if !holds_all(&index, expected) {
        return Err("the index does not hold the passages its manifest promises".into());
    }
    Ok(Some(match hold {
        Some(lock) => index.holding(lock),
        None => index,
    }))
}

/// Deletes earlier citebot builds under `index_dir` that no process is using, and temporary
/// folders of builds that died (builds run under the build lock, which the caller holds).
fn remove_unused(index_dir: &Path) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(index_dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if name.starts_with(&format!(".{PREFIX}")) {
            std::fs::remove_dir_all(&path)?;
        } else if name.starts_with(PREFIX) {
            let in_use = File::open(path.join(IN_USE_LOCK))
                .map(|f| f.try_lock().is_err())
                .unwrap_or(false);
            if in_use {
                tracing::info!(dir = %path.display(), "an older index is in use by another process: kept");
            } else {
                std::fs::remove_dir_all(&path)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Vocabulary;

    #[test]
    fn what_is_kept_is_read_back_and_what_does_not_read_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kept.json");
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            vec![1u32, 2, 3]
        };
        assert_eq!(kept_json(Some(&file), make), [1, 2, 3]);
        assert_eq!(kept_json(Some(&file), make), [1, 2, 3]);
        assert_eq!(made.get(), 1, "read back the second time");
        std::fs::write(&file, "[1, 2, \"three\"]").unwrap();
        assert_eq!(kept_json(Some(&file), make), [1, 2, 3]);
        assert_eq!(made.get(), 2, "a file that does not read is made again");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "[1,2,3]");
        // Nowhere to keep it, or a folder that is not there: made each time, no error.
        assert_eq!(kept_json(None, make), [1, 2, 3]);
        let nowhere = dir.path().join("missing").join("kept.json");
        assert_eq!(kept_json(Some(&nowhere), make), [1, 2, 3]);
        assert_eq!(made.get(), 4);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no partial file left behind");
    }

    /// Two paragraphs, both about Moscow, one about the Taliban.
    const TWO_PARAGRAPHS: &str =
        "Moscow hosted talks on Afghanistan.\n\nThe Taliban came to Moscow.";

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
        let k1 = small_knowledge(TWO_PARAGRAPHS);
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

    /// Flips bytes in the middle of every index file, the way a bad disk does: the checksums
    /// catch it on opening, and the index is rebuilt instead of failing every question.
    #[test]
    fn flipped_bytes_are_caught_by_the_checksums() {
        let index_dir = tempfile::tempdir().unwrap();
        let k = small_knowledge(TWO_PARAGRAPHS);
        drop(open_or_build(index_dir.path(), &k).unwrap());
        let dir = build_dir(index_dir.path(), &k);
        for f in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.ends_with(".term") || name.ends_with(".idx") || name.ends_with(".pos") {
                let mut bytes = std::fs::read(f.path()).unwrap();
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0xff;
                std::fs::write(f.path(), bytes).unwrap();
            }
        }
        assert!(reopen(&dir, &Manifest::of(&k)).is_err());
        let repaired = open_or_build(index_dir.path(), &k).unwrap();
        assert_eq!(repaired.doc_freq("moscow"), 2);
    }

    /// Two engines on one fresh INDEX_DIR, at once: one builds, the other waits and reuses;
    /// a build in use is not deleted by a process with other knowledge.
    #[test]
    fn builds_are_shared_and_a_build_in_use_is_kept() {
        let index_dir = tempfile::tempdir().unwrap();
        let k1 = small_knowledge(TWO_PARAGRAPHS);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| open_or_build(index_dir.path(), &k1));
            let b = s.spawn(|| open_or_build(index_dir.path(), &k1));
            (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
        });
        assert_eq!((a.doc_freq("taliban"), b.doc_freq("taliban")), (1, 1));

        let k2 = small_knowledge("Only one paragraph about Kabul.");
        let other = open_or_build(index_dir.path(), &k2).unwrap();
        assert_eq!(other.doc_freq("kabul"), 1);
        assert!(
            build_dir(index_dir.path(), &k1).exists(),
            "k1's build is in use"
        );
        assert_eq!(a.doc_freq("moscow"), 2, "and still answers");
        drop((a, b));
        drop(other);
        // Nobody holds k1's build any more: the next build elsewhere tidies it away.
        let k3 = small_knowledge("A third text about Herat.");
        drop(open_or_build(index_dir.path(), &k3).unwrap());
        assert!(!build_dir(index_dir.path(), &k1).exists());
    }

    /// A folder citebot may not write to: its valid build is used from memory; without one,
    /// the index is built in memory.
    #[test]
    fn a_read_only_index_dir_is_used_or_bypassed() {
        let index_dir = tempfile::tempdir().unwrap();
        let k = small_knowledge(TWO_PARAGRAPHS);
        drop(open_or_build(index_dir.path(), &k).unwrap());
        let dir = build_dir(index_dir.path(), &k);
        let expected = Manifest::of(&k);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(is_read_only(&denied));
        let used = read_only(index_dir.path(), &dir, &expected, &k, &denied).unwrap();
        assert_eq!(used.doc_freq("moscow"), 2);

        let other = small_knowledge("Only one paragraph about Kabul.");
        let elsewhere = build_dir(index_dir.path(), &other);
        let built = read_only(
            index_dir.path(),
            &elsewhere,
            &Manifest::of(&other),
            &other,
            &denied,
        )
        .unwrap();
        assert_eq!(built.doc_freq("kabul"), 1);
        assert!(!elsewhere.exists(), "nothing written");
    }
}
