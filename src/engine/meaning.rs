//! The meaning layers as they load: what they add to an engine ([`Semantics`], swapped in
//! whole), how far each is ([`Joining`], [`LayerState`]), and the work that makes their
//! vectors while the engine already answers by words ([`Unfinished`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Engine, LoadError, MeaningLayer, Options, MAX_EMBEDDED_SENTENCES};
use crate::bridge::Bridge;
use crate::embed::{self, Model, Role, SentenceVectors};
use crate::knowledge::Knowledge;
use crate::lang::Lang;
use crate::retrieve::SearchError;
use crate::summary::Summaries;

/// What matching by meaning adds to an engine: its layers, the bridge between languages, and
/// the summaries they make better. Swapped in whole as each layer's vectors are ready, so a
/// question reads one consistent set.
#[derive(Default)]
pub struct Semantics {
    /// In order of preference.
    pub layers: Vec<MeaningLayer>,
    /// The knowledge's words by meaning, when a multilingual model is loaded.
    pub bridge: Option<Arc<Bridge>>,
    /// Each document's key sentences, for "what is it about?".
    pub(super) summaries: Summaries,
}

/// The file keeping the summaries that `layers` make (none: by words): named after the
/// summaries' rules and each layer's model and whether its vectors are held in an index
/// (8-bit codes read a little differently from the exact vectors).
fn summaries_file_name(layers: &[MeaningLayer]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(crate::summary::FORMAT.to_le_bytes());
    for layer in layers {
        hash.update(layer.model.fingerprint.as_bytes());
        hash.update([u8::from(layer.vectors.index().is_some())]);
    }
    let hash = format!("{:x}", hash.finalize());
    format!("citebot-summaries-{}.json", &hash[..16])
}

/// A meaning layer on its way: its model, and how far its vectors are.
#[derive(Debug)]
pub struct Joining {
    pub model: Arc<Model>,
    /// How far its sentences are embedded.
    pub progress: embed::Progress,
    pub(super) ready: AtomicBool,
}

impl Joining {
    /// Whether its vectors are in use.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Sentences embedded so far and to embed (those kept from before are not counted).
    pub fn sentences(&self) -> (usize, usize) {
        self.progress.get()
    }
}

/// How far a meaning layer is, as people are told.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerState {
    /// The model's folder name.
    pub model: String,
    pub ready: bool,
    /// Sentences embedded so far, and to embed (those kept from before are not counted).
    pub done: usize,
    pub total: usize,
}

/// The part of loading that can run while the engine answers by words: the sentence
/// vectors of each model (and the bridge's words), from the cache or embedded.
#[derive(Debug)]
#[must_use = "without it, the engine answers by words only"]
pub struct Unfinished {
    pub(super) cache_dir: Option<PathBuf>,
    /// Whether the engine answers while its layers load: then each layer joins when ready,
    /// else all of them at once, at the end (the summaries are computed once).
    pub(super) answering: bool,
}

/// The sentence models of `dirs` (each loaded once per process); one that cannot be loaded
/// is left out with one warning, so that citebot still answers (by words, at worst). Past
/// [`MAX_EMBEDDED_SENTENCES`] none is loaded.
pub(super) fn load_models(dirs: &[PathBuf], knowledge: &Knowledge) -> Vec<Arc<Model>> {
    let sentences: usize = knowledge
        .passages
        .iter()
        .map(|p| p.sentences.len().max(1))
        .sum();
    if !dirs.is_empty() && sentences > MAX_EMBEDDED_SENTENCES {
        tracing::warn!(
            sentences,
            limit = MAX_EMBEDDED_SENTENCES,
            "too many sentences to hold their vectors on this machine; matching by words only \
             (SEMANTIC=off silences this)"
        );
        return Vec::new();
    }
    dirs.iter()
        .filter_map(|dir| {
            Model::shared(dir)
                .inspect_err(|e| {
                    tracing::warn!(dir = %dir.display(), error = %e, "the sentence model cannot be loaded; matching by words without it")
                })
                .ok()
        })
        .collect()
}

impl Semantics {
    /// The layers given (in order of preference) and the bridge, with the summaries they
    /// make: kept in `kept_dir` when given (a build's folder), under a name that says which
    /// layers made them.
    pub(super) fn of(
        knowledge: &Knowledge,
        layers: Vec<MeaningLayer>,
        bridge: Option<Arc<Bridge>>,
        kept_dir: Option<&Path>,
    ) -> Semantics {
        let file = kept_dir.map(|dir| dir.join(summaries_file_name(&layers)));
        let summaries = crate::store::kept(
            file.as_deref(),
            |text| Summaries::read(text, knowledge),
            Summaries::write,
            || {
                Summaries::of(knowledge, |doc| {
                    let language = knowledge.documents[doc].language;
                    (layers.iter())
                        .find(|layer| layer.model.serves(language, language))
                        .map(|layer| layer.vectors.as_ref())
                })
            },
        );
        Semantics {
            layers,
            bridge,
            summaries,
        }
    }
}

impl Unfinished {
    /// Makes each model's sentence vectors (and, with a multilingual model, the bridge's
    /// words), and brings each layer into `engine` as soon as it is ready. The model last in
    /// order of preference is done first: it is the one that reads the questions no other
    /// model knows the language of, so no layer is ever asked to read a language it does
    /// not know. Asks `go_on` between parts, and stops when it says no (what was made is
    /// kept in the cache).
    pub fn finish(self, engine: &Engine, go_on: &dyn Fn() -> bool) -> Result<(), LoadError> {
        let (texts, starts) = embed::sentence_texts(&engine.knowledge);
        let mut made: Vec<Option<Arc<SentenceVectors>>> = vec![None; engine.joining.len()];
        let mut bridge = None;
        for (i, joining) in engine.joining.iter().enumerate().rev() {
            let started = std::time::Instant::now();
            let Some((vectors, computed)) =
                self.layer_vectors(joining, (&texts, &starts), go_on)?
            else {
                return Ok(());
            };
            made[i] = Some(Arc::new(vectors));
            if self.answering {
                engine.install(&made, bridge.clone());
            }
            joining.ready.store(true, Ordering::Relaxed);
            let ms = started.elapsed().as_millis() as u64;
            let model = joining.model.name();
            // Said when it took a while; a start from kept vectors stays quiet.
            if computed > 0 {
                tracing::info!(%model, sentences = texts.len(), embedded = computed, ms, "matching by meaning with this model");
            } else {
                tracing::debug!(%model, sentences = texts.len(), ms, "matching by meaning with this model");
            }
            // The bridge's words come after the layer has joined: questions in another
            // language are matched by meaning meanwhile.
            if bridge.is_none() && joining.model.serves(Lang::Ru, Lang::En) {
                match self.bridge(engine, &joining.model, go_on) {
                    Ok(Some(words)) => {
                        bridge = Some(Arc::new(words));
                        if self.answering {
                            engine.install(&made, bridge.clone());
                        }
                    }
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not embed the knowledge's words; a question's words are matched in its own language only")
                    }
                }
            }
        }
        if !self.answering {
            engine.install(&made, bridge);
        }
        Ok(())
    }

    /// The vectors of every sentence (`texts`, passage by passage from `starts`) by
    /// `joining`'s model, and how many were embedded now; `None` when told to stop. At size
    /// they are held in an index kept beside them, tagged with what it was built from: a
    /// restart reads it instead of the per-sentence store.
    fn layer_vectors(
        &self,
        joining: &Joining,
        (texts, starts): (&[&str], &[u32]),
        go_on: &dyn Fn() -> bool,
    ) -> Result<Option<(SentenceVectors, usize)>, LoadError> {
        let cache_dir = self.cache_dir.as_deref();
        let at_size = texts.len() >= embed::INDEX_FROM;
        let index_file = (cache_dir.filter(|_| at_size))
            .map(|dir| dir.join(embed::index_file_name(&joining.model)));
        let key = at_size.then(|| embed::index_key(&joining.model, texts));
        if let (Some(file), Some(key)) = (&index_file, &key) {
            if let Some(kept) = SentenceVectors::kept_index(file, key, starts.to_vec()) {
                return Ok(Some((kept, 0)));
            }
        }
        let filled = SentenceVectors::fill(
            &joining.model,
            (texts, starts.to_vec()),
            Role::Passage,
            cache_dir,
            &joining.progress,
            go_on,
        )
        .map_err(|e| LoadError::Search(SearchError::Embed(e)))?;
        let Some(filled) = filled else {
            return Ok(None);
        };
        let vectors = match key {
            Some(key) => filled
                .vectors
                .indexed_from(embed::INDEX_FROM, index_file.as_deref(), key),
            None => filled.vectors,
        };
        Ok(Some((vectors, filled.computed)))
    }

    /// The bridge between the languages of `engine`'s knowledge by `model` (a multilingual
    /// one): its words (kept beside an index on disk) and their vectors; `None` when told to
    /// stop.
    fn bridge(
        &self,
        engine: &Engine,
        model: &Arc<Model>,
        go_on: &dyn Fn() -> bool,
    ) -> Result<Option<Bridge>, embed::EmbedError> {
        let file = (engine.kept_dir.as_ref()).map(|dir| {
            dir.join(format!(
                "citebot-bridge-words-{}.json",
                crate::bridge::WORDS_FORMAT
            ))
        });
        let by_language =
            crate::store::kept_json(file.as_deref(), || Bridge::words_of(&engine.knowledge));
        Bridge::load(
            Arc::clone(model),
            by_language,
            self.cache_dir.as_deref(),
            // Nobody reads how far the words are: the layer has joined already.
            (&embed::Progress::default(), go_on),
        )
    }
}

/// Loading in the background, and what the layers bring in as they join.
impl Engine {
    /// [`Engine::load`], answering by words at once: the sentence vectors are made on a
    /// thread of their own, and each model's layer joins when its vectors are ready. The
    /// thread stops (keeping what it made) when nothing else holds the engine any more.
    pub fn load_in_background(options: &Options) -> Result<Arc<Engine>, LoadError> {
        let (engine, unfinished) = Engine::load_words(options)?;
        let engine = Arc::new(engine);
        if engine.joining.is_empty() {
            return Ok(engine);
        }
        let held = Arc::clone(&engine);
        let spawned = std::thread::Builder::new()
            .name("embedding".into())
            .spawn(move || {
                let wanted = || Arc::strong_count(&held) > 1;
                if let Err(e) = unfinished.finish(&held, &wanted) {
                    tracing::warn!(error = %e, "the sentence vectors could not be made; answering by words only");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start embedding; answering by words only");
        }
        Ok(engine)
    }

    /// Brings in the layers whose vectors are `made` (one per [`Engine::joining`]), and the
    /// bridge.
    pub(super) fn install(
        &self,
        made: &[Option<Arc<SentenceVectors>>],
        bridge: Option<Arc<Bridge>>,
    ) {
        let layers = (self.joining.iter().zip(made))
            .filter_map(|(joining, vectors)| {
                Some(MeaningLayer {
                    model: Arc::clone(&joining.model),
                    vectors: Arc::clone(vectors.as_ref()?),
                })
            })
            .collect();
        let semantics = Semantics::of(&self.knowledge, layers, bridge, self.kept_dir.as_deref());
        self.semantics.store(Arc::new(semantics));
    }

    /// The meaning layers loaded or loading, in order of preference, with their progress.
    pub fn joining(&self) -> &[Joining] {
        &self.joining
    }

    /// [`Engine::joining`], read now, for people.
    pub fn joining_now(&self) -> Vec<LayerState> {
        (self.joining.iter())
            .map(|j| {
                let (done, total) = j.sentences();
                LayerState {
                    model: j.model.name(),
                    ready: j.is_ready(),
                    done,
                    total,
                }
            })
            .collect()
    }
}
