//! The vectors already computed, one per text, kept on disk: a sentence is embedded once,
//! whatever document it is in and however often the knowledge changes around it.
//!
//! Keyed by the text (a 128-bit hash of it) in a file per model and role, so adding or
//! editing one document embeds only its new sentences, and a start cut short resumes where
//! it stopped: vectors are appended a batch at a time as they are made. The file is a header
//! (magic, dimension) and then fixed-size records (hash, vector), so a record cut off by a
//! crash is seen by its length and dropped, and appending writes whole records under an
//! exclusive lock (two processes sharing a cache both leave whole records; a text written
//! twice is read once).
//!
//! Texts no longer in the knowledge stay in the file until it is mostly stale; then it is
//! rewritten with the live ones ([`VectorStore::compact`]).

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"CITEVS01";
const HEADER: usize = MAGIC.len() + 4;
const HASH: usize = 16;

/// A text's key: the first 128 bits of its SHA-256 (collisions are not a practical concern
/// at any number of sentences this holds).
pub type Key = u128;

/// The key of `text`.
pub fn key(text: &str) -> Key {
    let digest = Sha256::digest(text.as_bytes());
    u128::from_le_bytes(digest[..HASH].try_into().unwrap_or_default())
}

/// Vectors by text: what is on disk, and what this process added.
#[derive(Debug)]
pub struct VectorStore {
    dim: usize,
    /// `None`: kept in memory only (no cache folder).
    file: Option<PathBuf>,
    rows: HashMap<Key, u32>,
    data: Vec<f32>,
}

impl VectorStore {
    /// The store for vectors of `dim` numbers in `file`, read now (a missing file is an empty
    /// store; a damaged one is reported once and started afresh).
    pub fn open(file: Option<PathBuf>, dim: usize) -> VectorStore {
        let mut store = VectorStore {
            dim,
            file,
            rows: HashMap::new(),
            data: Vec::new(),
        };
        if let Some(path) = &store.file {
            match read(path, dim) {
                Ok(records) => {
                    for (key, vector) in records {
                        store.put(key, &vector);
                    }
                }
                Err(why) => {
                    tracing::warn!(file = %path.display(), %why, "starting the vector cache afresh")
                }
            }
        }
        store
    }

    /// How many vectors it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The vector of the text whose key is `key`.
    pub fn get(&self, key: Key) -> Option<&[f32]> {
        let row = *self.rows.get(&key)? as usize;
        self.data.get(row * self.dim..(row + 1) * self.dim)
    }

    /// Adds vectors (in memory, and at the end of the file). A file that cannot be written
    /// costs time on the next start, nothing else: reported, not an error.
    pub fn insert(&mut self, vectors: &[(Key, Vec<f32>)]) {
        for (key, vector) in vectors {
            self.put(*key, vector);
        }
        if let Some(path) = &self.file {
            if let Err(e) = append(path, self.dim, vectors) {
                tracing::warn!(file = %path.display(), error = %e, "could not keep sentence vectors");
            }
        }
    }

    fn put(&mut self, key: Key, vector: &[f32]) {
        if vector.len() != self.dim || self.rows.contains_key(&key) {
            return;
        }
        self.rows
            .insert(key, (self.data.len() / self.dim.max(1)) as u32);
        self.data.extend_from_slice(vector);
    }

    /// Rewrites the file with only the vectors of `live` when most of it is stale (texts no
    /// longer in the knowledge), so that it does not grow for ever as documents change.
    pub fn compact(&mut self, live: &[Key]) {
        // A text may stand more than once in the knowledge: its vector is kept once.
        let live: HashSet<Key> = live.iter().copied().collect();
        let stale = self.len().saturating_sub(live.len());
        if stale < COMPACT_FROM || stale < live.len() {
            return;
        }
        let records: Vec<(Key, Vec<f32>)> = live
            .iter()
            .filter_map(|&k| Some((k, self.get(k)?.to_vec())))
            .collect();
        let Some(path) = self.file.clone() else {
            return;
        };
        match rewrite(&path, self.dim, &records) {
            Ok(()) => {
                tracing::info!(file = %path.display(), kept = records.len(), dropped = stale, "compacted the vector cache");
                self.rows.clear();
                self.data.clear();
                for (key, vector) in &records {
                    self.put(*key, vector);
                }
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "could not compact the vector cache")
            }
        }
    }
}

/// Stale vectors kept before a file is worth rewriting.
const COMPACT_FROM: usize = 10_000;

fn record_len(dim: usize) -> usize {
    HASH + dim * 4
}

/// The records of `path`, in file order; a record cut short at the end is left out.
fn read(path: &Path, dim: usize) -> Result<Vec<(Key, Vec<f32>)>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    check_header(&bytes, dim)?;
    Ok(bytes[HEADER..]
        .chunks_exact(record_len(dim))
        .map(|record| {
            let (hash, vector) = record.split_at(HASH);
            let key = u128::from_le_bytes(hash.try_into().unwrap_or_default());
            let vector = vector
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (key, vector)
        })
        .collect())
}

fn check_header(bytes: &[u8], dim: usize) -> Result<(), String> {
    if bytes.len() < HEADER || !bytes.starts_with(MAGIC) {
        return Err("not a vector cache".into());
    }
    let stored = u32::from_le_bytes(bytes[MAGIC.len()..HEADER].try_into().unwrap_or_default());
    if stored as usize != dim {
        return Err(format!(
            "vectors of {stored} numbers where {dim} were expected"
        ));
    }
    Ok(())
}

fn header(dim: usize) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    out
}

fn encode(records: &[(Key, Vec<f32>)], out: &mut Vec<u8>) {
    for (key, vector) in records {
        out.extend_from_slice(&key.to_le_bytes());
        for x in vector {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// Appends whole records under an exclusive lock. A file left by a crash with half a record
/// at its end is cut back to its last whole one first, so what follows stays aligned.
fn append(path: &Path, dim: usize, records: &[(Key, Vec<f32>)]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    file.lock()?;
    let len = file.metadata()?.len() as usize;
    let mut out = Vec::with_capacity(records.len() * record_len(dim) + HEADER);
    if len < HEADER {
        file.set_len(0)?;
        out.extend(header(dim));
    } else {
        let mut head = [0u8; HEADER];
        file.seek(SeekFrom::Start(0))?;
        file.read_exact(&mut head)?;
        if check_header(&head, dim).is_err() {
            file.set_len(0)?;
            out.extend(header(dim));
        } else {
            let whole = HEADER + (len - HEADER) / record_len(dim) * record_len(dim);
            if whole != len {
                file.set_len(whole as u64)?;
            }
        }
    }
    encode(records, &mut out);
    file.write_all(&out)?;
    file.unlock()
}

/// Replaces the file by one holding `records`, written beside it and renamed, under the
/// lock of the old one (an append waiting for it then writes to the old, unlinked file: a
/// few vectors computed again on the next start, nothing worse).
fn rewrite(path: &Path, dim: usize, records: &[(Key, Vec<f32>)]) -> std::io::Result<()> {
    let old = File::open(path)?;
    old.lock()?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut out = header(dim);
    encode(records, &mut out);
    let mut file = File::create(&tmp)?;
    file.write_all(&out)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    old.unlock()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f32) -> Vec<f32> {
        vec![x, -x, 0.5]
    }

    #[test]
    fn vectors_are_kept_by_text_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.bin");
        let mut store = VectorStore::open(Some(file.clone()), 3);
        store.insert(&[(key("one"), v(1.0)), (key("two"), v(2.0))]);
        store.insert(&[(key("three"), v(3.0)), (key("one"), v(9.0))]);
        let again = VectorStore::open(Some(file.clone()), 3);
        assert_eq!(again.len(), 3);
        assert_eq!(
            again.get(key("one")),
            Some(&v(1.0)[..]),
            "the first vector of a text wins"
        );
        assert_eq!(again.get(key("three")), Some(&v(3.0)[..]));
        assert_eq!(again.get(key("four")), None);
        // Another dimension is another model's file: started afresh, not misread.
        assert!(VectorStore::open(Some(file), 4).is_empty());
    }

    /// A crash in the middle of an append leaves half a record: it is not read, and the next
    /// append starts at a record's boundary.
    #[test]
    fn half_a_record_is_dropped_and_appends_stay_aligned() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.bin");
        VectorStore::open(Some(file.clone()), 3).insert(&[(key("one"), v(1.0))]);
        let mut f = OpenOptions::new().append(true).open(&file).unwrap();
        f.write_all(&[7; 10]).unwrap();
        drop(f);
        assert_eq!(VectorStore::open(Some(file.clone()), 3).len(), 1);
        VectorStore::open(Some(file.clone()), 3).insert(&[(key("two"), v(2.0))]);
        let again = VectorStore::open(Some(file), 3);
        assert_eq!(again.get(key("two")), Some(&v(2.0)[..]));
        assert_eq!(again.get(key("one")), Some(&v(1.0)[..]));
    }

    #[test]
    fn garbage_is_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.bin");
        std::fs::write(&file, b"not vectors at all").unwrap();
        let mut store = VectorStore::open(Some(file.clone()), 3);
        assert!(store.is_empty());
        store.insert(&[(key("one"), v(1.0))]);
        assert_eq!(VectorStore::open(Some(file), 3).len(), 1);
    }

    #[test]
    fn a_mostly_stale_file_is_rewritten_with_the_live_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.bin");
        let mut store = VectorStore::open(Some(file.clone()), 3);
        let records: Vec<(Key, Vec<f32>)> = (0..COMPACT_FROM + 10)
            .map(|i| (key(&i.to_string()), v(i as f32)))
            .collect();
        store.insert(&records);
        let live = [key("3"), key("5"), key("5")];
        store.compact(&live);
        assert_eq!(store.len(), 2);
        let again = VectorStore::open(Some(file.clone()), 3);
        assert_eq!(again.len(), 2);
        assert_eq!(again.get(key("5")), Some(&v(5.0)[..]));
        assert_eq!(
            std::fs::metadata(&file).unwrap().len() as usize,
            HEADER + 2 * record_len(3)
        );
    }
}
