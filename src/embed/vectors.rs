//! The sentence vectors of a knowledge: made or read back per model ([`SentenceVectors::fill`],
//! kept per text in a [`VectorStore`]), held as f32 below [`INDEX_FROM`](super::INDEX_FROM) sentences and as an
//! 8-bit index above, and how far their making is ([`Progress`]).

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{
    progress_bar, EmbedError, Ivf, Key, Model, Role, VectorStore, CACHE_FORMAT, LOG_EVERY, PART,
};
use crate::knowledge::Knowledge;
use sha2::{Digest, Sha256};

/// A vector for every sentence of every passage, in passage order and, within a passage, in
/// the order of [`crate::knowledge::Passage::sentences`].
///
/// Below [`INDEX_FROM`](super::INDEX_FROM) rows they are f32 and every question scans them all; from it they are
/// held as 8-bit codes in an approximate index ([`Ivf`]), which a question asks for its
/// nearest rows ([`SentenceVectors::nearest_rows`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentenceVectors {
    dim: usize,
    /// Row-major, one unit vector per sentence (empty when `index` holds them).
    data: Vec<f32>,
    /// The rows of passage `i` are `starts[i]..starts[i + 1]`.
    starts: Vec<u32>,
    /// The vectors as 8-bit codes in lists, at size.
    index: Option<Arc<Ivf>>,
}

/// What [`SentenceVectors::fill`] made: the vectors, and how many texts it had to embed
/// (the others were kept from before).
#[derive(Debug)]
pub struct Filled {
    pub vectors: SentenceVectors,
    pub computed: usize,
}

/// How far embedding has got, read by other threads (the log, `/stats`).
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicUsize,
    total: AtomicUsize,
}

impl Progress {
    fn start(&self, total: usize) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    fn advance(&self, n: usize) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Texts embedded so far, and how many there are to embed.
    pub fn get(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// The file keeping a model's vectors in a role.
fn store_file_name(model: &Model, role: Role) -> String {
    let role = match role {
        Role::Query => "query",
        Role::Passage => "passage",
    };
    let short = model.fingerprint.get(..16).unwrap_or(&model.fingerprint);
    format!("vectors{CACHE_FORMAT}-{short}-{role}.bin")
}

/// The file keeping a model's index of the knowledge's sentence vectors, beside its vectors.
pub fn index_file_name(model: &Model) -> String {
    let short = model.fingerprint.get(..16).unwrap_or(&model.fingerprint);
    format!("index-{short}-passage.bin")
}

/// What a layer's sentence vectors are made from: the model, and every sentence's text in
/// row order. An index tagged with another key was built from other vectors.
pub fn index_key(model: &Model, texts: &[&str]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(CACHE_FORMAT.to_le_bytes());
    hash.update(model.fingerprint.as_bytes());
    hash.update((model.dim as u64).to_le_bytes());
    for t in texts {
        hash.update((t.len() as u64).to_le_bytes());
        hash.update(t.as_bytes());
    }
    hash.finalize().into()
}

/// The text that stands for each sentence: its words, or the whole passage for a passage
/// the sentence splitter found no sentence in. (Telling the model what a caption or the
/// author's note is, with a prefix such as "Photo caption:", was tried: it made the ranking
/// worse on the tuning questions, so sentences are embedded as they are.)
pub(crate) fn sentence_texts(knowledge: &Knowledge) -> (Vec<&str>, Vec<u32>) {
    let mut texts = Vec::new();
    let mut starts = vec![0u32];
    for p in &knowledge.passages {
        if p.sentences.is_empty() {
            texts.push(p.text.as_str());
        } else {
            texts.extend(p.sentences.iter().map(|r| &p.text[r.clone()]));
        }
        starts.push(texts.len() as u32);
    }
    (texts, starts)
}

impl SentenceVectors {
    /// Embeds every sentence of `knowledge`, or reads the vectors from `cache_dir` when they
    /// were computed there before with the same model.
    pub fn load_or_embed(
        model: &Model,
        knowledge: &Knowledge,
        cache_dir: Option<&Path>,
    ) -> Result<SentenceVectors, EmbedError> {
        let (texts, starts) = sentence_texts(knowledge);
        SentenceVectors::cached(model, (&texts, starts), Role::Passage, cache_dir)
    }

    /// The vectors of `texts` in `role`, grouped by `starts` (group `i` is rows
    /// `starts[i]..starts[i + 1]`): those computed before in `cache_dir` with the same model
    /// and role are read, the others embedded and kept there.
    pub fn cached(
        model: &Model,
        texts: (&[&str], Vec<u32>),
        role: Role,
        cache_dir: Option<&Path>,
    ) -> Result<SentenceVectors, EmbedError> {
        let filled =
            SentenceVectors::fill(model, texts, role, cache_dir, &Progress::default(), &|| {
                true
            })?;
        // Never stopped: `go_on` always says yes.
        Ok(filled.map(|f| f.vectors).unwrap_or_default())
    }

    /// [`SentenceVectors::cached`], counting in `progress` the texts it embeds as it goes,
    /// and asking `go_on` before each part whether to: `None` when told to stop (what was
    /// embedded by then is kept, and a later call starts from there).
    pub fn fill(
        model: &Model,
        (texts, starts): (&[&str], Vec<u32>),
        role: Role,
        cache_dir: Option<&Path>,
        progress: &Progress,
        go_on: &dyn Fn() -> bool,
    ) -> Result<Option<Filled>, EmbedError> {
        let keys: Vec<Key> = texts.iter().map(|t| super::store::key(t)).collect();
        let file = cache_dir.map(|dir| dir.join(store_file_name(model, role)));
        let mut kept = VectorStore::open(file, model.dim);
        let mut seen = std::collections::HashSet::new();
        let mut missing: Vec<(Key, &str)> = (keys.iter().zip(texts))
            .filter(|(k, _)| kept.get(**k).is_none() && seen.insert(**k))
            .map(|(&k, &t)| (k, t))
            .collect();
        // Parts of similar lengths pad little; each is kept as soon as it is embedded.
        missing.sort_by_key(|(_, t)| t.len());
        progress.start(missing.len());
        let started = std::time::Instant::now();
        let bar = progress_bar(missing.len());
        let mut said = started;
        for part in missing.chunks(PART) {
            if !go_on() {
                return Ok(None);
            }
            let batch: Vec<&str> = part.iter().map(|(_, t)| *t).collect();
            let rows = model.embed_as(&batch, role, &bar)?;
            let made: Vec<(Key, Vec<f32>)> = part.iter().map(|(k, _)| *k).zip(rows).collect();
            kept.insert(&made);
            progress.advance(part.len());
            if said.elapsed() >= LOG_EVERY {
                said = std::time::Instant::now();
                let (done, total) = progress.get();
                tracing::info!(model = %model.name(), done, total, "embedding");
            }
        }
        bar.finish_and_clear();
        if !missing.is_empty() {
            tracing::info!(
                model = %model.name(),
                embedded = missing.len(),
                kept = texts.len() - missing.len(),
                ms = started.elapsed().as_millis() as u64,
                "embedded the knowledge's new texts"
            );
        }
        let mut data = Vec::with_capacity(texts.len() * model.dim);
        for k in &keys {
            match kept.get(*k) {
                Some(v) => data.extend_from_slice(v),
                // Only if the model gave a vector of another length: a zero vector matches
                // nothing.
                None => data.extend(std::iter::repeat_n(0.0, model.dim)),
            }
        }
        kept.compact(&keys);
        Ok(Some(Filled {
            vectors: SentenceVectors {
                dim: model.dim,
                data,
                starts,
                index: None,
            },
            computed: missing.len(),
        }))
    }

    /// Builds the store from rows given directly (tests, benchmarks).
    pub fn from_rows(dim: usize, rows: &[Vec<f32>], starts: Vec<u32>) -> SentenceVectors {
        SentenceVectors {
            dim,
            data: rows.concat(),
            starts,
            index: None,
        }
    }

    /// Vectors given as one row-major run of `dim` numbers each (benchmarks).
    pub fn from_flat(dim: usize, data: Vec<f32>, starts: Vec<u32>) -> SentenceVectors {
        SentenceVectors {
            dim,
            data,
            starts,
            index: None,
        }
    }

    /// Vectors held as `index` (its rows in row order), grouped by `starts`.
    pub fn of_index(index: Arc<Ivf>, starts: Vec<u32>) -> SentenceVectors {
        SentenceVectors {
            dim: index.dim(),
            data: Vec::new(),
            starts,
            index: Some(index),
        }
    }

    /// The same vectors, held as an [`Ivf`] when there are at least `from` of them: the one
    /// kept in `file` when it was built from `key` (what the vectors were made from: the
    /// model and the texts), else one built now and kept there. Below `from`, or when the
    /// index cannot be built (said in the log), they stay as they are.
    pub fn indexed_from(self, from: usize, file: Option<&Path>, key: [u8; 32]) -> SentenceVectors {
        if self.index.is_some() || self.len() < from || self.is_empty() || self.dim == 0 {
            return self;
        }
        match Ivf::open_or_build(file, key, self.dim, &self.data) {
            // The f32 rows are freed once coded.
            Ok(index) => SentenceVectors::of_index(Arc::new(index), self.starts),
            Err(e) => {
                tracing::warn!(error = %e, "no vector index; every question scans every vector");
                self
            }
        }
    }

    /// The vectors as the index kept in `file` holds them, when it was built from `key`:
    /// a restart at size reads them there, without the per-sentence store. `None` for a
    /// missing, stale or damaged file (which [`SentenceVectors::indexed_from`] rebuilds).
    pub fn kept_index(file: &Path, key: &[u8; 32], starts: Vec<u32>) -> Option<SentenceVectors> {
        match Ivf::open(file, key) {
            Ok(Some(index)) if index.len() == starts.last().map_or(0, |&s| s as usize) => {
                Some(SentenceVectors::of_index(Arc::new(index), starts))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(file = %file.display(), error = %e, "the kept vector index cannot be read");
                None
            }
        }
    }

    /// The approximate index holding the vectors, at size.
    pub fn index(&self) -> Option<&Ivf> {
        self.index.as_deref()
    }

    /// The `k` rows nearest `query`, best first, with their cosines, when the vectors are
    /// indexed; `None` when they are scanned (every row's cosine is then
    /// [`SentenceVectors::similarity`]).
    pub fn nearest_rows(&self, query: &[f32], k: usize) -> Option<Vec<(usize, f32)>> {
        Some(self.index.as_ref()?.nearest(query, k))
    }

    /// How many sentences have a vector.
    pub fn len(&self) -> usize {
        match &self.index {
            Some(index) => index.len(),
            None => self.data.len() / self.dim.max(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many passages the vectors cover.
    pub fn passages(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Bytes held by the vectors.
    pub fn heap_bytes(&self) -> usize {
        self.data.len() * 4
            + self.starts.len() * 4
            + self.index.as_ref().map_or(0, |i| i.heap_bytes())
    }

    /// The rows of passage `p`.
    pub fn rows(&self, p: usize) -> Range<usize> {
        match (self.starts.get(p), self.starts.get(p + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// Where each passage's rows start, and the end of the last: passage `i`'s rows are
    /// `starts[i]..starts[i + 1]`.
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    /// Sentence `row`'s unit vector (empty past the last row; read back from its code when
    /// indexed).
    pub fn row(&self, row: usize) -> std::borrow::Cow<'_, [f32]> {
        if let Some(index) = &self.index {
            return std::borrow::Cow::Owned(index.row(row));
        }
        std::borrow::Cow::Borrowed(
            self.data
                .get(row * self.dim..(row + 1) * self.dim)
                .unwrap_or_default(),
        )
    }

    /// The cosine of `query` with sentence `row`.
    pub fn similarity(&self, row: usize, query: &[f32]) -> f32 {
        if let Some(index) = &self.index {
            return index.cosine(row, query);
        }
        match self.data.get(row * self.dim..(row + 1) * self.dim) {
            Some(vector) if query.len() == self.dim => super::dot(vector, query),
            _ => 0.0,
        }
    }

    /// The cosine of `query` with every sentence, in row order.
    pub fn similarities(&self, query: &[f32]) -> Vec<f32> {
        if let Some(index) = &self.index {
            return index.cosines(query);
        }
        if query.len() != self.dim {
            return vec![0.0; self.len()];
        }
        self.data
            .chunks_exact(self.dim)
            .map(|row| super::dot(row, query))
            .collect()
    }
}
