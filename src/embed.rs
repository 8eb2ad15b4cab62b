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
//! thread of the shared pool embeds whole batches: see `threads`), and each vector is kept
//! on disk under its text, per model ([`VectorStore`]), so a second `citebot ask` reads them
//! instead of computing them, and a document added or edited costs only its new sentences.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::lang::Lang;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::bert::{Bert, Precision};

mod ivf;
mod store;
mod vectors;
pub use ivf::{
    best_of, clustered, code_error, dot_f32 as dot, exact_nearest, lists_for, probes_for,
    CodeError, Ivf, IvfError, INDEX_FROM, TOP_ROWS,
};
pub use store::{Key, VectorStore};
pub(crate) use vectors::sentence_texts;
pub use vectors::{index_file_name, index_key, Filled, Progress, SentenceVectors};

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
/// Bumped whenever what a kept vector means changes (pooling, truncation): a new file.
const CACHE_FORMAT: u32 = 2;
/// Texts embedded between two looks at whether to go on, each part kept as soon as it is
/// made (some 5 s of work for all-MiniLM-L6-v2 on two cores).
const PART: usize = 512;
/// How often a long embedding says how far it has got.
const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

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
        hash.update(crate::encoder::fingerprint_mark(precision));
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
        hash.update(crate::encoder::fingerprint_mark(precision));
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

    /// Its folder's name, for messages ("all-minilm-l6-v2").
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
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
        if bert.on_rows() {
            // Unpadded: each text's real tokens only.
            let ids: Vec<&[u32]> = (encodings.iter())
                .map(|e| {
                    let real = e.get_attention_mask().iter().filter(|&&m| m != 0).count();
                    &e.get_ids()[..real]
                })
                .collect();
            if let Some(vectors) = bert.embed_rows(&ids)? {
                return Ok(vectors);
            }
        }
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
    fn only_new_texts_are_embedded() {
        let model = model();
        let dir = tempfile::tempdir().unwrap();
        let fill = |texts: &[&str], go_on: &dyn Fn() -> bool| {
            let starts = vec![0, texts.len() as u32];
            let progress = Progress::default();
            let filled = SentenceVectors::fill(
                &model,
                (texts, starts),
                Role::Passage,
                Some(dir.path()),
                &progress,
                go_on,
            );
            (filled.unwrap(), progress.get())
        };
        let texts = [
            "Moscow met the Taliban.",
            "Kabul protested.",
            "Kabul protested.",
        ];
        let (first, progress) = fill(&texts, &|| true);
        let first = first.unwrap();
        assert_eq!(first.computed, 2, "a text written twice is embedded once");
        assert_eq!(progress, (2, 2));
        assert_eq!(first.vectors.row(1), first.vectors.row(2));
        let (again, _) = fill(&texts, &|| true);
        let again = again.unwrap();
        assert_eq!(again.computed, 0);
        assert_eq!(again.vectors, first.vectors);
        let edited = ["Moscow met the Taliban.", "Kabul objected."];
        assert!(
            fill(&edited, &|| false).0.is_none(),
            "told to stop, it stops"
        );
        let (edited, _) = fill(&edited, &|| true);
        let edited = edited.unwrap();
        assert_eq!(edited.computed, 1);
        assert_eq!(edited.vectors.row(0), first.vectors.row(0));
        assert_ne!(edited.vectors.row(1), first.vectors.row(1));
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

    /// From the threshold on, vectors are held in an index kept in its file: read back with
    /// the same key (a restart), not with another (other texts), and below the threshold
    /// they stay f32.
    #[test]
    fn vectors_at_size_are_indexed_and_the_index_kept() {
        let dim = 32;
        let rows = clustered(1000, dim, 10, 1.0, 3);
        let starts: Vec<u32> = (0..=100).map(|p| p * 10).collect();
        let flat = SentenceVectors::from_flat(dim, rows.clone(), starts.clone());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.bin");
        let small = flat.clone().indexed_from(1001, Some(&file), [1; 32]);
        assert!(
            small.index().is_none() && !file.exists(),
            "below the threshold"
        );
        assert!(small.nearest_rows(&rows[..dim], 5).is_none());
        let indexed = flat.clone().indexed_from(1000, Some(&file), [1; 32]);
        assert!(indexed.index().is_some() && file.exists());
        assert_eq!(indexed.len(), 1000);
        assert_eq!(indexed.rows(7), 70..80);
        // Every row reads back within its rounding, and its cosine with itself is about 1.
        for r in [0, 499, 999] {
            let exact = flat.row(r);
            let coded = indexed.row(r);
            assert!(exact
                .iter()
                .zip(coded.iter())
                .all(|(a, b)| (a - b).abs() < 0.01));
            assert!((indexed.similarity(r, &exact) - 1.0).abs() < 2e-3);
        }
        let nearest = indexed.nearest_rows(&rows[5 * dim..6 * dim], 3).unwrap();
        assert_eq!(nearest[0].0, 5);
        let again = SentenceVectors::kept_index(&file, &[1; 32], starts.clone()).unwrap();
        assert_eq!(again, indexed);
        assert!(SentenceVectors::kept_index(&file, &[2; 32], starts.clone()).is_none());
        // A damaged file is not read; indexing rebuilds it.
        std::fs::write(&file, b"not an index").unwrap();
        assert!(SentenceVectors::kept_index(&file, &[1; 32], starts.clone()).is_none());
        let rebuilt = flat.indexed_from(1000, Some(&file), [1; 32]);
        assert_eq!(rebuilt, indexed);
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
