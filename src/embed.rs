//! Meaning: the sentence model, and a vector for every sentence of the knowledge.
//!
//! Words alone miss a question asked in other words ("Why is Moscow on speaking terms with the
//! Taliban?" shares one word with the paragraph that answers it), or in another language
//! ("почему Россия говорит с талибами"). A sentence model maps a question and a sentence with
//! the same meaning to nearby vectors whatever words, or language, they use: mean pooling
//! over the tokens, then unit length, so that a dot product is a cosine.
//!
//! Two models ship with the project (`models/`, each with its README); nothing is downloaded
//! at run time. The default, multilingual-e5-small (run by `e5`), puts English, Russian and
//! ninety more languages in one space; a folder holding `model.gguf` is loaded as one, with
//! its prefixes (a question through [`Model::embed_one`] is a query, sentences through
//! [`Model::embed`] are passages). all-MiniLM-L6-v2 (run by `bert`, English only) is the
//! other, chosen with `EMBEDDING_MODEL`. Their cosines live in different bands, which each
//! model's config declares ([`SimilarityScale`]).
//!
//! Every sentence of every passage is embedded once, in batches of similar lengths (each
//! thread of the shared pool embeds whole batches: see `threads`), and the vectors are cached
//! on disk under a key made of the model's fingerprint and the sentences' text, so a second
//! `citebot ask` reads them instead of computing them.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::lang::Lang;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::bert::{Bert, Precision};
use crate::knowledge::Knowledge;

/// The English model that ships with citebot, relative to the working directory.
pub const ENGLISH_MODEL_DIR: &str = "models/all-minilm-l6-v2";
/// The multilingual model that ships with citebot.
pub const MULTILINGUAL_MODEL_DIR: &str = "models/multilingual-e5-small";
/// Longer sentences are cut: the model was trained on at most 256 word pieces.
const MAX_TOKENS: usize = 256;
/// Sentences embedded together. Larger batches pad more and gain nothing on two cores.
const BATCH: usize = 32;
/// Sentences embedded together by e5 on AMX tiles: nothing is padded there and a few
/// hundred token rows keep the tiles busy, so small batches, which share the work evenly
/// among the threads (77 sentences were 3 batches of 32 for 2 threads).
const TILE_BATCH: usize = 8;
/// A progress bar is worth drawing from this many sentences on.
const PROGRESS_FROM: usize = 2_000;
/// Bumped whenever what a cached vector means changes (pooling, truncation, file layout).
const CACHE_FORMAT: u32 = 1;
const CACHE_MAGIC: &[u8; 8] = b"CITEVEC1";

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Config(PathBuf, serde_json::Error),
    #[error("{0}: {1}")]
    Tokenizer(PathBuf, String),
    #[error("the sentence model: {0}")]
    Model(#[from] candle_core::Error),
    #[error("tokenizing: {0}")]
    Tokenize(String),
    #[error("{0}")]
    Precision(String),
}

/// The sentence model: BERT weights and their tokenizer.
pub struct Model {
    network: Network,
    device: Device,
    /// How many numbers a vector has (384 for all-MiniLM-L6-v2).
    pub dim: usize,
    /// How its weights are held: 8-bit where the CPU multiplies those fast, else f32.
    pub precision: Precision,
    /// A hash of the model's files and precision: vectors cached with another model, or the
    /// same computed in another precision, are not reused.
    pub fingerprint: String,
    /// Where it was loaded from, for messages.
    pub dir: PathBuf,
    /// Where its cosines live, for the thresholds to read them on one scale.
    pub scale: Scales,
}

/// Where a model's cosines live, for a question and a sentence in one language, and across
/// two: a multilingual model puts a question and its answer in two languages further apart
/// (e5: an answerable Russian question about an English paragraph scores about 0.83 where
/// the same in English scores 0.87), so one threshold would refuse every foreign question or
/// answer every native one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scales {
    pub same_language: SimilarityScale,
    pub across_languages: SimilarityScale,
}

impl Scales {
    /// The scale for a question and a sentence in these languages.
    pub fn between(&self, question: Lang, sentence: Lang) -> SimilarityScale {
        if question == sentence {
            self.same_language
        } else {
            self.across_languages
        }
    }
}

/// Where a model's cosines live. The ranking's weights and the answer policy's thresholds
/// read meaning on one scale, whatever the model: all-MiniLM-L6-v2's cosines spread from
/// about 0 (unrelated) to 1, multilingual-e5-small's sit in a narrow band (an off-topic
/// question about 0.77, a close paraphrase about 0.92). A model's `config.json` may say where
/// its band lies (`"similarity_scale": {"unrelated": 0.757, "same": 0.924}`, measured on the
/// tune parts of the question sets: see the model's README); a cosine is then stretched
/// linearly so that `unrelated` reads 0 and `same` reads 1. Without it, cosines are as they are.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarityScale {
    pub unrelated: f32,
    pub same: f32,
}

impl Default for SimilarityScale {
    fn default() -> Self {
        SimilarityScale {
            unrelated: 0.0,
            same: 1.0,
        }
    }
}

impl SimilarityScale {
    /// `cosine` on the common scale.
    pub fn apply(&self, cosine: f32) -> f32 {
        (cosine - self.unrelated) / (self.same - self.unrelated)
    }

    /// The scales a model's `config.json` declares (`similarity_scale`, and
    /// `similarity_scale_across_languages`, which defaults to the first), or the identity.
    fn of_config(config: &[u8], path: &Path) -> Result<Scales, EmbedError> {
        #[derive(serde::Deserialize)]
        struct Declared {
            similarity_scale: Option<SimilarityScale>,
            similarity_scale_across_languages: Option<SimilarityScale>,
        }
        let declared: Declared =
            serde_json::from_slice(config).map_err(|e| EmbedError::Config(path.into(), e))?;
        let same = declared.similarity_scale.unwrap_or_default();
        let across = declared.similarity_scale_across_languages.unwrap_or(same);
        for (name, s) in [
            ("similarity_scale", same),
            ("similarity_scale_across_languages", across),
        ] {
            if s.same <= s.unrelated {
                let why = format!("{name}: `same` must be above `unrelated`");
                let error = <serde_json::Error as serde::de::Error>::custom(why);
                return Err(EmbedError::Config(path.into(), error));
            }
        }
        Ok(Scales {
            same_language: same,
            across_languages: across,
        })
    }
}

/// The kinds of sentence model a folder may hold.
enum Network {
    /// A BERT in safetensors (all-MiniLM-L6-v2): texts are embedded as they are.
    Bert {
        bert: Bert,
        tokenizer: Box<Tokenizer>,
    },
    /// multilingual-e5-small in GGUF: a prefix before every text, by its role.
    E5 {
        network: Box<crate::e5::E5>,
        config: crate::e5::Config,
        tokenizer: Box<crate::e5::Tokenizer>,
    },
}

/// What a text is to the model: e5 embeds a question and a passage each with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Query,
    Passage,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("precision", &self.precision)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads `model.safetensors` (f32 or f16), `tokenizer.json` and `config.json` from `dir`,
    /// in the precision this CPU runs fastest, or the one `CITEBOT_PRECISION` forces.
    /// multilingual-e5-small runs on AMX tiles where the CPU has them (`Precision::Bf16`).
    pub fn load(dir: &Path) -> Result<Model, EmbedError> {
        if let Some(precision) = Precision::forced().map_err(EmbedError::Precision)? {
            if precision == Precision::Bf16
                && dir.join(crate::e5::WEIGHTS).exists()
                && !crate::e5::tiles_available()
            {
                return Err(EmbedError::Precision(format!(
                    "{}=bf16 needs AMX tiles, which this CPU (or its kernel) does not offer",
                    crate::bert::PRECISION_VAR
                )));
            }
            return Model::load_in(dir, precision);
        }
        if dir.join(crate::e5::WEIGHTS).exists() && crate::e5::tiles_available() {
            return Model::load_in(dir, Precision::Bf16);
        }
        Model::load_in(dir, Precision::best())
    }

    /// [`Model::load`] in a given precision. A folder with `model.gguf` holds
    /// multilingual-e5-small (its 4-bit weights widened to 8 bits or to f32 in memory).
    pub fn load_in(dir: &Path, precision: Precision) -> Result<Model, EmbedError> {
        if dir.join(crate::e5::WEIGHTS).exists() {
            return Model::load_e5(dir, precision);
        }
        // A BERT has no bf16 path: the 8-bit one is the nearest.
        let precision = match precision {
            Precision::Bf16 => Precision::Int8,
            p => p,
        };
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| EmbedError::File(path, e))
        };
        let config_bytes = read("config.json")?;
        let tokenizer_bytes = read("tokenizer.json")?;
        let weights = read("model.safetensors")?;
        let mut hash = Sha256::new();
        for part in [&config_bytes, &tokenizer_bytes, &weights] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.update(format!("{precision:?}").as_bytes());
        let fingerprint = format!("{:x}", hash.finalize());

        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| EmbedError::Config(dir.join("config.json"), e))?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| EmbedError::Tokenizer(dir.join("tokenizer.json"), e.to_string()))?;
        // The published tokenizer pads every input to 128 tokens; a batch needs only its
        // longest sentence.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| EmbedError::Tokenizer(dir.join("tokenizer.json"), e.to_string()))?;

        let device = Device::Cpu;
        // Computed in f32 whatever the file holds: f16 arithmetic is slower on CPUs.
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)?;
        let bert = Bert::load(vb, &config, precision)?;
        let scale = SimilarityScale::of_config(&config_bytes, &dir.join("config.json"))?;
        Ok(Model {
            scale,
            network: Network::Bert {
                bert,
                tokenizer: Box::new(tokenizer),
            },
            device,
            dim: config.hidden_size,
            precision,
            fingerprint,
            dir: dir.to_path_buf(),
        })
    }

    /// multilingual-e5-small from `model.gguf`, `tokenizer.bin` and `config.json` in `dir`.
    fn load_e5(dir: &Path, precision: Precision) -> Result<Model, EmbedError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| EmbedError::File(path, e))
        };
        let config_bytes = read("config.json")?;
        let tokenizer_bytes = read(crate::e5::TOKENIZER)?;
        let weights = read(crate::e5::WEIGHTS)?;
        let mut hash = Sha256::new();
        for part in [&config_bytes, &tokenizer_bytes, &weights] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        drop(weights);
        hash.update(format!("e5 {precision:?}").as_bytes());
        let fingerprint = format!("{:x}", hash.finalize());

        let config: crate::e5::Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| EmbedError::Config(dir.join("config.json"), e))?;
        let tokenizer =
            crate::e5::Tokenizer::from_bytes(&tokenizer_bytes, config.max_position_embeddings)
                .map_err(|e| EmbedError::Tokenizer(dir.join(crate::e5::TOKENIZER), e))?;
        let network = crate::e5::E5::load(dir, &config, precision)?;
        let scale = SimilarityScale::of_config(&config_bytes, &dir.join("config.json"))?;
        Ok(Model {
            scale,
            dim: config.hidden_size,
            network: Network::E5 {
                network: Box::new(network),
                config,
                tokenizer: Box::new(tokenizer),
            },
            device: Device::Cpu,
            precision,
            fingerprint,
            dir: dir.to_path_buf(),
        })
    }

    /// The model in `dir`, loaded once per process: engines built again (tests, a reload)
    /// share it.
    pub fn shared(dir: &Path) -> Result<Arc<Model>, EmbedError> {
        static LOADED: OnceLock<Mutex<Vec<Arc<Model>>>> = OnceLock::new();
        let loaded = LOADED.get_or_init(|| Mutex::new(Vec::new()));
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        // A poisoned lock only means another thread panicked while loading: the list is intact.
        let mut models = loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = models.iter().find(|m| m.dir == key) {
            return Ok(Arc::clone(m));
        }
        let mut model = Model::load(dir)?;
        model.dir = key;
        let model = Arc::new(model);
        models.push(Arc::clone(&model));
        Ok(model)
    }

    /// Whether it matches a question in `question` to text in `passage`: all-MiniLM-L6-v2
    /// knows English only; e5 knows both, and either across the other.
    pub fn serves(&self, question: Lang, passage: Lang) -> bool {
        match self.network {
            Network::Bert { .. } => question == Lang::En && passage == Lang::En,
            Network::E5 { .. } => true,
        }
    }

    /// The vector of one text (a question), computed on the calling thread (see `threads`).
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        crate::threads::here(|| {
            Ok(self
                .embed_batch_as(&[text], Role::Query)?
                .pop()
                .unwrap_or_default())
        })
    }

    /// The vectors of a few short texts asked together (a question's words), as queries, in
    /// one batch on the calling thread.
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        crate::threads::here(|| self.embed_batch_as(texts, Role::Query))
    }

    /// Unit vectors of `texts` (sentences), in order, embedded in batches of similar lengths.
    pub fn embed(
        &self,
        texts: &[&str],
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_as(texts, Role::Passage, progress)
    }

    fn embed_as(
        &self,
        texts: &[&str],
        role: Role,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        use rayon::prelude::*;
        // Sorting by length keeps the padding, and so the wasted work, small.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let batch = match &self.network {
            Network::E5 { network, .. } if network.on_tiles() => TILE_BATCH,
            _ => BATCH,
        };
        // Each thread of the shared pool embeds whole batches (see `threads`).
        let batches: Vec<Vec<Vec<f32>>> = crate::threads::pool().install(|| {
            order
                .par_chunks(batch)
                .map(|chunk| {
                    let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
                    let vectors = self.embed_batch_as(&batch, role);
                    progress.inc(chunk.len() as u64);
                    vectors
                })
                .collect::<Result<_, _>>()
        })?;
        let mut out = vec![Vec::new(); texts.len()];
        for (chunk, vectors) in order.chunks(batch).zip(batches) {
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch_as(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (bert, tokenizer) = match &self.network {
            Network::Bert { bert, tokenizer } => (bert, tokenizer),
            Network::E5 {
                network,
                config,
                tokenizer,
            } => {
                let prefix = match role {
                    Role::Query => &config.query_prefix,
                    Role::Passage => &config.passage_prefix,
                };
                let ids = texts
                    .iter()
                    .map(|t| tokenizer.encode(&format!("{prefix}{t}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(EmbedError::Tokenize)?;
                let ids: Vec<&[u32]> = ids.iter().map(|t| t.as_slice()).collect();
                return Ok(network.embed(&ids)?);
            }
        };
        // One text (a question) is tokenized on this thread: a batch of one would be handed
        // to rayon's global pool and back.
        let encodings = if let [one] = texts {
            tokenizer.encode(*one, true).map(|e| vec![e])
        } else {
            tokenizer.encode_batch(texts.to_vec(), true)
        }
        .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        let flat = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            encodings
                .iter()
                .flat_map(|e| f(e).iter().copied())
                .collect()
        };
        let shape = (texts.len(), len);
        let ids = Tensor::from_vec(flat(&|e| e.get_ids()), shape, &self.device)?;
        let mask = Tensor::from_vec(flat(&|e| e.get_attention_mask()), shape, &self.device)?;
        let hidden = bert.forward(&ids, &mask)?;
        // Mean pooling over the real tokens (not the padding), then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}

/// A vector for every sentence of every passage, in passage order and, within a passage, in
/// the order of [`crate::knowledge::Passage::sentences`].
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceVectors {
    dim: usize,
    /// Row-major, one unit vector per sentence.
    data: Vec<f32>,
    /// The rows of passage `i` are `starts[i]..starts[i + 1]`.
    starts: Vec<u32>,
}

/// The text that stands for each sentence: its words, or the whole passage for a passage
/// the sentence splitter found no sentence in. (Telling the model what a caption or the
/// author's note is, with a prefix such as "Photo caption:", was tried: it made the ranking
/// worse on the tuning questions, so sentences are embedded as they are.)
fn sentence_texts(knowledge: &Knowledge) -> (Vec<&str>, Vec<u32>) {
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
    /// were computed there before with the same model and the same sentences.
    pub fn load_or_embed(
        model: &Model,
        knowledge: &Knowledge,
        cache_dir: Option<&Path>,
    ) -> Result<SentenceVectors, EmbedError> {
        let (texts, starts) = sentence_texts(knowledge);
        SentenceVectors::cached(model, (&texts, starts), Role::Passage, cache_dir)
    }

    /// The vectors of `texts` in `role`, grouped by `starts` (group `i` is rows
    /// `starts[i]..starts[i + 1]`): read from `cache_dir` when computed there before with the
    /// same model, role and texts, else embedded and written there.
    pub fn cached(
        model: &Model,
        (texts, starts): (&[&str], Vec<u32>),
        role: Role,
        cache_dir: Option<&Path>,
    ) -> Result<SentenceVectors, EmbedError> {
        let key = cache_key(model, role, texts);
        let file = cache_dir.map(|d| d.join(format!("embeddings-{}.bin", &key[..32])));
        if let Some(file) = &file {
            match read_cache(file, model.dim, &starts) {
                Ok(Some(vectors)) => {
                    tracing::debug!(file = %file.display(), "sentence vectors from the cache");
                    return Ok(vectors);
                }
                Ok(None) => {}
                Err(why) => {
                    tracing::warn!(file = %file.display(), %why, "ignoring a damaged cache file")
                }
            }
        }
        let started = std::time::Instant::now();
        let progress = progress_bar(texts.len());
        let rows = model.embed_as(texts, role, &progress)?;
        progress.finish_and_clear();
        let vectors = SentenceVectors {
            dim: model.dim,
            data: rows.concat(),
            starts,
        };
        tracing::info!(
            sentences = texts.len(),
            ms = started.elapsed().as_millis() as u64,
            "embedded the knowledge"
        );
        if let Some(file) = &file {
            // A cache that cannot be written costs time on the next start, nothing else.
            if let Err(e) = vectors.write(file) {
                tracing::warn!(file = %file.display(), error = %e, "could not cache the sentence vectors");
            }
        }
        Ok(vectors)
    }

    /// Builds the store from rows given directly (tests, benchmarks).
    pub fn from_rows(dim: usize, rows: &[Vec<f32>], starts: Vec<u32>) -> SentenceVectors {
        SentenceVectors {
            dim,
            data: rows.concat(),
            starts,
        }
    }

    /// How many sentences have a vector.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// How many passages the vectors cover.
    pub fn passages(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Bytes held by the vectors.
    pub fn heap_bytes(&self) -> usize {
        self.data.len() * 4 + self.starts.len() * 4
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

    /// Sentence `row`'s unit vector (empty past the last row).
    pub fn row(&self, row: usize) -> &[f32] {
        self.data
            .get(row * self.dim..(row + 1) * self.dim)
            .unwrap_or_default()
    }

    /// The cosine of `query` with sentence `row`.
    pub fn similarity(&self, row: usize, query: &[f32]) -> f32 {
        match self.data.get(row * self.dim..(row + 1) * self.dim) {
            Some(vector) if query.len() == self.dim => {
                vector.iter().zip(query).map(|(a, b)| a * b).sum()
            }
            _ => 0.0,
        }
    }

    /// The cosine of `query` with every sentence, in row order.
    pub fn similarities(&self, query: &[f32]) -> Vec<f32> {
        if query.len() != self.dim {
            return vec![0.0; self.len()];
        }
        self.data
            .chunks_exact(self.dim)
            .map(|row| row.iter().zip(query).map(|(a, b)| a * b).sum())
            .collect()
    }

    fn write(&self, file: &Path) -> std::io::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Written beside the target and renamed: readers never see half a file, and two
        // processes writing the same vectors both leave a whole one.
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        out.write_all(CACHE_MAGIC)?;
        for n in [self.dim, self.starts.len(), self.data.len()] {
            out.write_all(&(n as u64).to_le_bytes())?;
        }
        for s in &self.starts {
            out.write_all(&s.to_le_bytes())?;
        }
        for x in &self.data {
            out.write_all(&x.to_le_bytes())?;
        }
        out.into_inner()?.sync_all()?;
        std::fs::rename(&tmp, file)
    }
}

fn cache_key(model: &Model, role: Role, texts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(CACHE_FORMAT.to_le_bytes());
    hash.update(model.fingerprint.as_bytes());
    // Sentences keep the key they had before words were cached too.
    if role == Role::Query {
        hash.update(b"query");
    }
    for t in texts {
        hash.update((t.len() as u64).to_le_bytes());
        hash.update(t.as_bytes());
    }
    format!("{:x}", hash.finalize())
}

/// `Ok(None)`: no cache file. `Err`: a file that does not hold what its name promises.
fn read_cache(file: &Path, dim: usize, starts: &[u32]) -> Result<Option<SentenceVectors>, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let rows = starts.last().copied().unwrap_or(0) as usize;
    let header = CACHE_MAGIC.len() + 3 * 8;
    let expected = header + starts.len() * 4 + rows * dim * 4;
    if bytes.len() != expected || !bytes.starts_with(CACHE_MAGIC) {
        return Err(format!(
            "{} bytes where {expected} were expected",
            bytes.len()
        ));
    }
    let word = |i: usize| {
        let at = CACHE_MAGIC.len() + i * 8;
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default()) as usize
    };
    if (word(0), word(1), word(2)) != (dim, starts.len(), rows * dim) {
        return Err("the header does not match the knowledge".into());
    }
    let u32s = bytes[header..header + starts.len() * 4]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    if !u32s.eq(starts.iter().copied()) {
        return Err("the passages do not match the knowledge".into());
    }
    let data = bytes[header + starts.len() * 4..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(Some(SentenceVectors {
        dim,
        data,
        starts: starts.to_vec(),
    }))
}

/// A bar on stderr when a person is watching and the work is long; hidden otherwise.
fn progress_bar(len: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if len < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "embedding sentences {bar:40} {pos}/{len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The models citebot matches meaning with when `EMBEDDING_MODEL` does not name one, in
/// order of preference: all-MiniLM-L6-v2 for an English question about English text (it
/// refuses what the article does not answer better than e5: docs/retrieval.md), then
/// multilingual-e5-small for every other pair of languages.
pub fn default_model_dirs() -> Vec<PathBuf> {
    vec![shipped(ENGLISH_MODEL_DIR), shipped(MULTILINGUAL_MODEL_DIR)]
}

/// A model folder that ships with citebot, found from the working directory or, for a
/// binary run from elsewhere, from the source tree it was built in.
pub fn shipped(folder: &str) -> PathBuf {
    let here = PathBuf::from(folder);
    if here.join("config.json").exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)
}

/// The folder for cached vectors when no `INDEX_DIR` holds them: `$XDG_CACHE_HOME/citebot`,
/// or `~/.cache/citebot`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("citebot"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Arc<Model> {
        Model::shared(&shipped(ENGLISH_MODEL_DIR)).expect("the model that ships with citebot loads")
    }

    /// A model's config says where its cosines live, within a language and across two;
    /// without it they are read as they are, and a band upside down is refused by name.
    #[test]
    fn a_models_cosines_are_read_on_the_scale_its_config_declares() {
        let path = Path::new("config.json");
        let none = SimilarityScale::of_config(br#"{"hidden_size": 384}"#, path).unwrap();
        assert_eq!(none, Scales::default());
        assert_eq!(none.between(Lang::Ru, Lang::En).apply(0.5), 0.5);

        let same = br#"{"similarity_scale": {"unrelated": 0.75, "same": 0.95}}"#;
        let scales = SimilarityScale::of_config(same, path).unwrap();
        // Across languages defaults to the one band.
        assert_eq!(scales.across_languages, scales.same_language);
        let within = scales.between(Lang::En, Lang::En);
        assert!(within.apply(0.75).abs() < 1e-6 && (within.apply(0.95) - 1.0).abs() < 1e-6);

        let both = br#"{"similarity_scale": {"unrelated": 0.75, "same": 0.95},
            "similarity_scale_across_languages": {"unrelated": 0.7, "same": 0.8}}"#;
        let scales = SimilarityScale::of_config(both, path).unwrap();
        assert!((scales.between(Lang::Ru, Lang::En).apply(0.8) - 1.0).abs() < 1e-6);
        assert!((scales.between(Lang::Ru, Lang::Ru).apply(0.8) - 0.25).abs() < 1e-6);

        let upside_down =
            br#"{"similarity_scale_across_languages": {"unrelated": 0.9, "same": 0.8}}"#;
        let err = SimilarityScale::of_config(upside_down, path).unwrap_err();
        assert!(
            err.to_string()
                .contains("similarity_scale_across_languages"),
            "{err}"
        );
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn vectors_have_unit_length_and_meaning() {
        let m = model();
        let rows = m
            .embed(
                &[
                    "Moscow is talking to the Taliban.",
                    "Russia maintains contacts with the Taliban movement.",
                    "The recipe calls for two cups of flour.",
                ],
                &indicatif::ProgressBar::hidden(),
            )
            .unwrap();
        for r in &rows {
            assert_eq!(r.len(), 384);
            assert!((cos(r, r) - 1.0).abs() < 1e-4);
        }
        let same = cos(&rows[0], &rows[1]);
        let other = cos(&rows[0], &rows[2]);
        assert!(same > 0.6 && other < 0.2, "same {same}, other {other}");
    }

    #[test]
    fn batching_and_padding_do_not_change_a_vector() {
        let m = model();
        let alone = m.embed_one("Who is Zamir Kabulov?").unwrap();
        let long = "a much longer sentence that forces the batch to pad the short one ".repeat(4);
        let batched = m
            .embed(
                &["Who is Zamir Kabulov?", &long],
                &indicatif::ProgressBar::hidden(),
            )
            .unwrap();
        assert!(cos(&alone, &batched[0]) > 0.9999);
    }

    #[test]
    fn the_cache_round_trips_and_refuses_other_knowledge() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.bin");
        let v = SentenceVectors::from_rows(2, &[vec![1.0, 0.0], vec![0.6, 0.8]], vec![0, 1, 2]);
        v.write(&file).unwrap();
        assert_eq!(read_cache(&file, 2, &[0, 1, 2]).unwrap(), Some(v));
        assert!(read_cache(&file, 2, &[0, 2, 2]).is_err());
        assert!(read_cache(&file, 3, &[0, 1, 2]).is_err());
        std::fs::write(&file, b"CITEVEC1 truncated").unwrap();
        assert!(read_cache(&file, 2, &[0, 1, 2]).is_err());
        assert_eq!(read_cache(&dir.path().join("none"), 2, &[0]).unwrap(), None);
    }

    /// The two precisions give slightly different vectors, so a cache written in one is not
    /// read in the other (a disk shared by two machines, or a model folder copied).
    #[test]
    fn each_precision_has_its_own_fingerprint() {
        let dir = shipped(ENGLISH_MODEL_DIR);
        let int8 = Model::load_in(&dir, Precision::Int8).unwrap();
        let f32 = Model::load_in(&dir, Precision::F32).unwrap();
        assert_ne!(int8.fingerprint, f32.fingerprint);
        let q = "Why is Moscow on speaking terms with the Taliban?";
        let (a, b) = (int8.embed_one(q).unwrap(), f32.embed_one(q).unwrap());
        assert!(cos(&a, &b) > 0.99, "{}", cos(&a, &b));
    }

    /// Where the numeric paths disagree: every sentence of the article and every Russian
    /// question, embedded on the 8-bit path and on f32 (and on AMX tiles where the CPU has
    /// them), compared by cosine. The weights are the same numbers on every path; only the
    /// rounding of the activations differs, and so the vectors agree within rounding. The
    /// lowest measured on 8-bit against f32 (docs/retrieval.md, "Numeric paths"):
    /// all-MiniLM-L6-v2 0.99686 on the sentences; multilingual-e5-small 0.99905 on the
    /// sentences and 0.99889 on the questions, as close as e5's own C code comes to f32.
    #[test]
    fn the_numeric_paths_agree_within_rounding() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let knowledge = crate::knowledge::Knowledge::load(&root.join("knowledge")).unwrap();
        let sentences: Vec<&str> = knowledge
            .passages
            .iter()
            .flat_map(|p| p.sentences.iter().map(|r| &p.text[r.clone()]))
            .collect();
        let questions: Vec<String> =
            std::fs::read_to_string(root.join("tests/data/questions_ru.jsonl"))
                .unwrap()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["q"].as_str().map(String::from))
                .collect();
        let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
        let bar = indicatif::ProgressBar::hidden();
        for (folder, bound) in [(ENGLISH_MODEL_DIR, 0.995), (MULTILINGUAL_MODEL_DIR, 0.998)] {
            let dir = shipped(folder);
            let mut paths = vec![Precision::Int8, Precision::F32];
            if folder == MULTILINGUAL_MODEL_DIR && crate::e5::tiles_available() {
                paths.push(Precision::Bf16);
            }
            let models: Vec<Model> = paths
                .iter()
                .map(|&p| Model::load_in(&dir, p).unwrap())
                .collect();
            let exact = &models[1];
            for model in models.iter().filter(|m| m.precision != Precision::F32) {
                for (what, texts, role) in [
                    ("sentences", &sentences, Role::Passage),
                    ("questions", &questions, Role::Query),
                ] {
                    if folder == ENGLISH_MODEL_DIR && role == Role::Query {
                        continue; // MiniLM reads no Russian
                    }
                    let a = model.embed_as(texts, role, &bar).unwrap();
                    let b = exact.embed_as(texts, role, &bar).unwrap();
                    let lowest = a
                        .iter()
                        .zip(&b)
                        .map(|(a, b)| cos(a, b))
                        .fold(1f32, f32::min);
                    eprintln!(
                        "{folder} {:?} against f32, {what}: lowest cosine {lowest:.5}",
                        model.precision
                    );
                    assert!(
                        lowest > bound,
                        "{folder} {:?} {what}: {lowest}",
                        model.precision
                    );
                }
            }
        }
    }

    #[test]
    fn a_missing_model_is_an_error_that_names_the_file() {
        let err = Model::load(Path::new("/nonexistent/model")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/model/config.json"),
            "{err}"
        );
    }
}
