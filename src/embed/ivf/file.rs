//! The index's file: written whole (a temporary file renamed over the old one), read back
//! only when it was built from the same model and texts, and checked (length, checksum,
//! lists that add up) so that a damaged file is rebuilt, not used.

use std::io::{Read, Write};
use std::path::Path;

use super::{Ivf, IvfError, Lists};

/// Bumped when what the file holds changes.
const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"CITEIVF1";

impl Ivf {
    /// Writes it to `path` whole (a temporary file renamed over it: a process reading it
    /// meanwhile reads the old file or the new, never half of one).
    pub fn save(&self, path: &Path) -> Result<(), IvfError> {
        let partial = path.with_extension(format!("{}.tmp", std::process::id()));
        let written = (|| -> Result<(), IvfError> {
            let file = std::fs::File::create(&partial)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut sum = Checksum::default();
            let mut put = |out: &mut std::io::BufWriter<std::fs::File>, bytes: &[u8]| {
                sum.add(bytes);
                out.write_all(bytes)
            };
            put(&mut out, MAGIC)?;
            for v in [
                FORMAT,
                self.dim as u32,
                self.lists() as u32,
                self.len() as u32,
            ] {
                put(&mut out, &v.to_le_bytes())?;
            }
            put(&mut out, &self.key)?;
            put(&mut out, &f32_bytes(&self.centroids))?;
            put(&mut out, &u32_bytes(&self.offsets))?;
            put(&mut out, &u32_bytes(&self.ids))?;
            put(&mut out, &f32_bytes(&self.scales))?;
            let codes: &[u8] = code_bytes(&self.codes);
            for part in codes.chunks(1 << 20) {
                put(&mut out, part)?;
            }
            let total = sum.value();
            out.write_all(&total.to_le_bytes())?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&partial, path)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }

    /// Reads the index in `path`, if it was built from `key`: `Ok(None)` for a missing file
    /// or one built from other vectors, an error for a damaged one.
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<Option<Ivf>, IvfError> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata()?.len();
        let mut input = std::io::BufReader::with_capacity(1 << 20, file);
        let mut sum = Checksum::default();
        let mut take = |input: &mut std::io::BufReader<std::fs::File>, len: usize| {
            let mut bytes = vec![0u8; len];
            input.read_exact(&mut bytes)?;
            sum.add(&bytes);
            Ok::<_, std::io::Error>(bytes)
        };
        let damaged = |why: &str| IvfError::Damaged(format!("{}: {why}", path.display()));
        let head = take(&mut input, MAGIC.len() + 16 + 32).map_err(|_| damaged("too short"))?;
        if &head[..8] != MAGIC {
            return Err(damaged("not an index"));
        }
        let word = |i: usize| {
            u32::from_le_bytes(head[8 + 4 * i..12 + 4 * i].try_into().unwrap_or_default()) as usize
        };
        let (format, dim, lists, n) = (word(0), word(1), word(2), word(3));
        if format as u32 != FORMAT {
            // Another format: as good as built from other vectors.
            return Ok(None);
        }
        if head[24..56] != key[..] {
            return Ok(None);
        }
        let expected =
            (head.len() + 4 * lists * dim + 4 * (lists + 1) + 8 * n + n * dim + 8) as u64;
        if dim == 0 || lists == 0 || size != expected {
            return Err(damaged("the wrong length"));
        }
        let centroids = f32s(&take(&mut input, 4 * lists * dim)?);
        let offsets = u32s(&take(&mut input, 4 * (lists + 1))?);
        let ids = u32s(&take(&mut input, 4 * n)?);
        let scales = f32s(&take(&mut input, 4 * n)?);
        let codes: Vec<i8> = take(&mut input, n * dim)?
            .into_iter()
            .map(|b| b as i8)
            .collect();
        let mut stored = [0u8; 8];
        input.read_exact(&mut stored)?;
        if u64::from_le_bytes(stored) != sum.value() {
            return Err(damaged("the checksum does not match"));
        }
        let mut key_out = [0u8; 32];
        key_out.copy_from_slice(&head[24..56]);
        let lists = Lists {
            offsets,
            ids,
            codes,
            scales,
        };
        match Ivf::of_lists(dim, centroids, lists, key_out) {
            Ok(ivf) => Ok(Some(ivf)),
            Err(IvfError::Damaged(why)) => Err(damaged(&why)),
            Err(e) => Err(e),
        }
    }

    /// The index in `path` if it was built from `key`, else one built from `rows` (and
    /// kept there; `path` `None`: not kept). A damaged file is rebuilt with a warning.
    pub fn open_or_build(
        path: Option<&Path>,
        key: [u8; 32],
        dim: usize,
        rows: &[f32],
    ) -> Result<Ivf, IvfError> {
        if let Some(path) = path {
            match Ivf::open(path, &key) {
                Ok(Some(ivf)) if ivf.dim == dim => return Ok(ivf),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "rebuilding the vector index")
                }
            }
        }
        let started = std::time::Instant::now();
        let ivf = Ivf::build(rows, dim, key, 0x5eed)?;
        tracing::info!(
            vectors = ivf.len(),
            lists = ivf.lists(),
            ms = started.elapsed().as_millis() as u64,
            "built the vector index"
        );
        if let Some(path) = path {
            if let Err(e) = ivf.save(path) {
                tracing::warn!(file = %path.display(), error = %e, "could not keep the vector index");
            }
        }
        Ok(ivf)
    }
}

/// A cheap checksum of the file's bytes (not against tampering: against a file cut short or
/// bits flipped on disk): FNV-style over 8-byte words, so that it costs a fraction of
/// reading the file.
#[derive(Default)]
struct Checksum {
    state: u64,
    pending: Vec<u8>,
}

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if !self.pending.is_empty() {
            let need = 8 - self.pending.len();
            let (a, b) = bytes.split_at(need.min(bytes.len()));
            self.pending.extend_from_slice(a);
            bytes = b;
            if self.pending.len() == 8 {
                let word = u64::from_le_bytes(self.pending[..].try_into().unwrap_or_default());
                self.mix(word);
                self.pending.clear();
            }
        }
        let words = bytes.chunks_exact(8);
        let tail = words.remainder();
        for w in words {
            self.mix(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        self.pending.extend_from_slice(tail);
    }

    fn mix(&mut self, word: u64) {
        self.state = (self.state ^ word)
            .wrapping_mul(0x100_0000_01b3)
            .rotate_left(29);
    }

    fn value(&self) -> u64 {
        let mut last = [0u8; 8];
        last[..self.pending.len()].copy_from_slice(&self.pending);
        (self.state ^ u64::from_le_bytes(last)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ self.pending.len() as u64
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn u32s(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The codes as bytes (an i8 and a u8 are the same byte), without copying 384 MB.
fn code_bytes(codes: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size, alignment and every bit pattern is valid in both.
    unsafe { std::slice::from_raw_parts(codes.as_ptr().cast::<u8>(), codes.len()) }
}
