//! The engine: the knowledge, its retrievers (words and meaning) and the one fusion step
//! that ranks what they propose. Loading, and caching what loading computes, live here too.
//!
//! A question goes: analysis into weighted concepts (and, with the meaning layer, a vector)
//! → each retriever proposes candidates → every candidate is scored on both signals
//! (`rank`) → the best passage answers when both signals and what the question asks for
//! (`answer_type`) agree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::analysis::{Analyzer, Query, SynonymError, Synonyms, Vocabulary};
use crate::answer_type::AnswerType;
use crate::conversation::Names;
use crate::documents::Catalog;
use crate::embed::{self, Model, SentenceVectors};
use crate::index::{PassageIndex, SearchError};
use crate::knowledge::{Knowledge, KnowledgeError, Passage, SYNONYMS_FILE};
use crate::rank::{
    self, concept_weights, find_matches, Candidate, Evidence, Hit, Meaning, NearestInMeaning,
    PassageReader, PassageWords, Question, Retriever,
};

/// How many candidates the ranking takes from the retriever by words...
const WORD_CANDIDATES: usize = 30;
/// ...and from the retriever by meaning.
const MEANING_CANDIDATES: usize = 10;
/// How many of the best hits may stand in for the first when it lacks what the question asks
/// for (a date, a number).
const TYPE_CHECKED: usize = 3;
/// Past this many sentences, embedding the knowledge at start-up would keep a 2-core machine
/// busy for about ten minutes (some 100 sentences a second): citebot says so and answers by
/// words. (Vectors cached by an earlier run are not recomputed, but the limit is on the size.)
pub const MAX_EMBEDDED_SENTENCES: usize = 50_000;

/// Why an engine could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error("{0}: {1}")]
    Synonyms(PathBuf, SynonymError),
    #[error("{0}: {1}")]
    Index(PathBuf, SearchError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// What an engine is loaded from.
#[derive(Debug, Clone)]
pub struct Options {
    pub knowledge_dir: PathBuf,
    /// Keep the index (and the sentence vectors) on disk here, reused across restarts.
    pub index_dir: Option<PathBuf>,
    /// The sentence model's folder; `None` turns the meaning layer off (`SEMANTIC=off`).
    pub model_dir: Option<PathBuf>,
    /// Where sentence vectors are cached when there is no `index_dir`; `None`: not cached.
    pub cache_dir: Option<PathBuf>,
    /// Documents over this many megabytes are refused (`MAX_DOCUMENT_MB`).
    pub max_document_mb: u64,
}

impl Options {
    /// The knowledge in `dir`, indexed in memory, with the model that ships with citebot and
    /// the default cache.
    pub fn new(knowledge_dir: impl Into<PathBuf>) -> Options {
        Options {
            knowledge_dir: knowledge_dir.into(),
            index_dir: None,
            model_dir: Some(embed::default_model_dir()),
            cache_dir: embed::default_cache_dir(),
            max_document_mb: crate::knowledge::DEFAULT_MAX_DOCUMENT_MB,
        }
    }

    /// Words only: no model, no cache.
    pub fn lexical(knowledge_dir: impl Into<PathBuf>) -> Options {
        Options {
            model_dir: None,
            cache_dir: None,
            ..Options::new(knowledge_dir)
        }
    }
}

/// The meaning layer: the model that embeds questions, and the vectors of every sentence.
pub struct MeaningLayer {
    pub model: Arc<Model>,
    pub vectors: SentenceVectors,
}

/// What a conversation adds to a question: what it asks for, when the message alone says it
/// better than the resolved question, and the passage that answered the question before.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub asks_for: Option<AnswerType>,
    pub prior: Option<usize>,
    /// For a follow-up, the words matched at full weight (the message as typed); the
    /// question's meaning is still read from the whole resolved question.
    pub focus: Option<String>,
    /// The conversation's topic, matched at [`TOPIC_WEIGHT`]: it tells which passages a
    /// follow-up is about, but does not answer it.
    pub topic: Vec<String>,
    /// Names a follow-up asks about ("And China?"): a passage that does not mention them
    /// does not answer it, however close it is to the topic.
    pub must_mention: Vec<String>,
    /// The document to answer from, when something other than the question chose it (a
    /// button, `ask --doc`).
    pub document: Option<usize>,
}

/// Which documents a search answers from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// All of them: there is one, or the question did not say which.
    #[default]
    All,
    /// One: the question named it ("the bee article"), a follow-up stays in the document of
    /// the answer before, or it was given ([`Hints::document`]).
    Document(usize),
}

/// Past this many passages, a document kept to is searched through the retrievers'
/// candidates only; below, every passage of it is weighed (a few dozen cost nothing).
const WEIGH_WHOLE_DOCUMENT: usize = 200;

/// How much a topic word weighs beside a word of the follow-up itself.
pub const TOPIC_WEIGHT: f32 = 0.5;

/// How much the passage that answered the question before is preferred for a follow-up:
/// enough to win a near tie, not enough to beat a passage that answers clearly better.
pub const PRIOR_BONUS: f32 = 0.05;

/// The outcome of a search.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub query: Query,
    /// Best first.
    pub hits: Vec<Hit>,
    /// Whether the best hit answers the question.
    pub answered: bool,
    /// What the question asks for.
    pub asks_for: Option<AnswerType>,
    /// The documents the hits come from.
    pub scope: Scope,
}

/// The search engine: knowledge, retrievers and synonyms, shared by every question.
pub struct Engine {
    pub knowledge: Knowledge,
    pub synonyms: Synonyms,
    /// The knowledge's proper names, for reading follow-ups typed in lower case.
    pub names: Names,
    /// The words that name each document, for questions that say which one they are about.
    pub catalog: Catalog,
    vocabulary: Arc<dyn Vocabulary + Send + Sync>,
    retrievers: Vec<Box<dyn Retriever>>,
    meaning: Option<MeaningLayer>,
    analyzer: Analyzer,
    reader: PassageReader,
    words: WordCache,
}

/// The words of passages read so far, kept for the next questions up to a budget of words:
/// re-reading a passage costs more than everything else a question does, and the passages
/// that come up once tend to come up again.
struct WordCache {
    slots: Vec<OnceLock<Arc<PassageWords>>>,
    room: AtomicUsize,
}

/// About 64 bytes a word: 2 million words is some 130 MB at most.
const CACHED_WORDS: usize = 2_000_000;

impl WordCache {
    fn new(passages: usize) -> WordCache {
        WordCache {
            slots: (0..passages).map(|_| OnceLock::new()).collect(),
            room: AtomicUsize::new(CACHED_WORDS),
        }
    }

    fn get(&self, id: usize, read: impl FnOnce() -> PassageWords) -> Arc<PassageWords> {
        let Some(slot) = self.slots.get(id) else {
            return Arc::new(read());
        };
        if let Some(words) = slot.get() {
            return Arc::clone(words);
        }
        let words = Arc::new(read());
        let size = words.text.len() + words.context.len();
        let fits = self
            .room
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |room| {
                room.checked_sub(size)
            })
            .is_ok();
        if fits && slot.set(Arc::clone(&words)).is_err() {
            // Another thread cached it first: give the room back.
            self.room.fetch_add(size, Ordering::Relaxed);
        }
        words
    }
}

impl Engine {
    /// An engine over `knowledge`, whose words `vocabulary` knows, with these retrievers and,
    /// when given, the meaning layer (its retriever is added here).
    pub fn new(
        knowledge: Knowledge,
        synonyms: Synonyms,
        vocabulary: Arc<dyn Vocabulary + Send + Sync>,
        mut retrievers: Vec<Box<dyn Retriever>>,
        meaning: Option<MeaningLayer>,
    ) -> Engine {
        if meaning.is_some() {
            retrievers.push(Box::new(NearestInMeaning));
        }
        let knowledge_len = knowledge.passages.len();
        Engine {
            names: Names::of(&knowledge),
            catalog: Catalog::of(&knowledge),
            knowledge,
            synonyms,
            vocabulary,
            retrievers,
            meaning,
            analyzer: Analyzer::default(),
            reader: PassageReader::default(),
            words: WordCache::new(knowledge_len),
        }
    }

    /// The usual engine: the tantivy index as vocabulary and retriever by words, and the
    /// meaning layer when given.
    pub fn with_index(
        knowledge: Knowledge,
        synonyms: Synonyms,
        index: PassageIndex,
        meaning: Option<MeaningLayer>,
    ) -> Engine {
        let index = Arc::new(index);
        let retriever: Box<dyn Retriever> = Box::new(SharedIndex(Arc::clone(&index)));
        Engine::new(knowledge, synonyms, index, vec![retriever], meaning)
    }

    /// Loads the knowledge folder and its synonyms, and indexes it: in memory, or under
    /// `index_dir`, reusing the index found there when it was built from the same files. With
    /// a model, every sentence is embedded (or its vector read from the cache).
    pub fn load(options: &Options) -> Result<Engine, LoadError> {
        let knowledge_dir = &options.knowledge_dir;
        let knowledge = Knowledge::load_limited(knowledge_dir, options.max_document_mb)?;
        let synonyms = load_synonyms(&knowledge_dir.join(SYNONYMS_FILE))?;
        let index = match &options.index_dir {
            Some(dir) => crate::store::open_or_build(dir, &knowledge)
                .map_err(|e| LoadError::Index(dir.to_path_buf(), e))?,
            None => PassageIndex::in_ram(&knowledge)?,
        };
        let cache_dir = match &options.index_dir {
            Some(dir) => Some(crate::store::build_dir(dir, &knowledge)),
            None => options.cache_dir.clone(),
        };
        let meaning = match &options.model_dir {
            Some(dir) => load_meaning(dir, &knowledge, cache_dir.as_deref())?,
            None => None,
        };
        Ok(Engine::with_index(knowledge, synonyms, index, meaning))
    }

    /// Whether questions are matched by meaning as well as by words.
    pub fn is_semantic(&self) -> bool {
        self.meaning.is_some()
    }

    /// The meaning layer, when on.
    pub fn meaning(&self) -> Option<&MeaningLayer> {
        self.meaning.as_ref()
    }

    pub fn analyse(&self, question: &str) -> Query {
        self.analyzer
            .clone()
            .analyse(question, &self.synonyms, self.vocabulary.as_ref())
    }

    /// How close in meaning every sentence is to `question` (`None` with the layer off).
    pub fn understand(&self, question: &str) -> Result<Option<Meaning>, SearchError> {
        let Some(layer) = &self.meaning else {
            return Ok(None);
        };
        let (question, _) =
            crate::analysis::truncate_chars(question, crate::analysis::MAX_QUESTION_CHARS);
        let vector = layer
            .model
            .embed_one(question)
            .map_err(SearchError::Embed)?;
        Ok(Some(layer.vectors.meaning(&vector)))
    }

    /// Searches for `question` and ranks up to `limit` passages. A panic inside (tantivy
    /// reading a file damaged after it was opened) is an error for this question, not the
    /// end of the process.
    pub fn search(&self, question: &str, limit: usize) -> Result<Results, SearchError> {
        self.search_with(question, &Hints::default(), limit)
    }

    /// [`Engine::search`] for a question a conversation resolved, with its hints.
    pub fn search_with(
        &self,
        question: &str,
        hints: &Hints,
        limit: usize,
    ) -> Result<Results, SearchError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.search_inner(question, hints, limit)
        }))
        .unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(SearchError::Panicked(why))
        })
    }

    fn search_inner(
        &self,
        question: &str,
        hints: &Hints,
        limit: usize,
    ) -> Result<Results, SearchError> {
        let mut query = self.analyse(hints.focus.as_deref().unwrap_or(question));
        let own_concepts = query.concepts.len();
        if !hints.topic.is_empty() {
            for concept in self.analyse(&hints.topic.join(", ")).concepts {
                let known = query.concepts.iter().any(|c| {
                    c.surface.eq_ignore_ascii_case(&concept.surface)
                        || c.alternatives.first().map(|a| &a.terms)
                            == concept.alternatives.first().map(|a| &a.terms)
                });
                if !known {
                    query.concepts.push(concept);
                }
            }
        }
        if query.is_empty() {
            // No informative word ("what is it?"): nothing to match, by words or by meaning.
            return Ok(Results {
                query,
                ..Results::default()
            });
        }
        let scope = self.scope(question, hints);
        let meaning = self.understand(question)?;
        let asks_for = hints
            .asks_for
            .clone()
            .unwrap_or_else(|| AnswerType::of(question));
        let question_view = Question {
            query: &query,
            meaning: meaning.as_ref(),
        };
        // Every retriever proposes; BM25 scores are kept to weigh the words' side.
        let mut proposed: Vec<usize> = Vec::new();
        let mut bm25: HashMap<usize, f32> = HashMap::new();
        for retriever in &self.retrievers {
            let lexical = retriever.name() == rank::BY_WORDS;
            let limit = if lexical {
                WORD_CANDIDATES.max(limit)
            } else {
                MEANING_CANDIDATES.max(limit)
            };
            for c in retriever.candidates(&question_view, limit)? {
                if lexical {
                    bm25.insert(c.passage, c.score);
                }
                if !proposed.contains(&c.passage) {
                    proposed.push(c.passage);
                }
            }
        }
        // The passage before is always weighed for a follow-up, whatever the retrievers say.
        if let Some(prior) = hints.prior.filter(|&p| p < self.knowledge.passages.len()) {
            if !proposed.contains(&prior) {
                proposed.push(prior);
            }
        }
        if let Scope::Document(doc) = scope {
            proposed.retain(|&id| self.passage_doc(id) == Some(doc));
            let whole: Vec<usize> = self.knowledge.passage_ids_of(doc).collect();
            if whole.len() <= WEIGH_WHOLE_DOCUMENT {
                for id in whole {
                    if !proposed.contains(&id) {
                        proposed.push(id);
                    }
                }
            }
        }
        let best_bm25 = bm25.values().copied().fold(0.0, f32::max);
        let mut weights = concept_weights(&query, self.vocabulary.as_ref());
        for w in weights.iter_mut().skip(own_concepts) {
            *w *= TOPIC_WEIGHT;
        }
        let mut reader = self.reader.clone();
        let mut hits: Vec<Hit> = proposed
            .iter()
            .filter_map(|&id| {
                let passage = self.knowledge.passages.get(id)?;
                let words = self.words.get(id, || {
                    let context = passage.context(&self.knowledge.document(passage).meta);
                    reader.passage_words(passage, &context)
                });
                let bm25 = match bm25.get(&id) {
                    Some(s) if best_bm25 > 0.0 => s / best_bm25,
                    _ => 0.0,
                };
                Some(rank::score(
                    Evidence {
                        passage_id: id,
                        passage,
                        matches: find_matches(&query, &words),
                        bm25,
                        meaning: meaning.as_ref().map(|m| m.of_passage(id)),
                    },
                    &weights,
                ))
            })
            .collect();
        if let Some(hit) = hits.iter_mut().find(|h| Some(h.passage) == hints.prior) {
            hit.score += PRIOR_BONUS;
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.passage.cmp(&b.passage)));
        // The first hit that answers and holds what the question asks for leads, if one of
        // the best few does: "when" wants a time, "how many troops" a number of troops.
        // The concepts that stand for each name a follow-up asks about ("China"): a hit must
        // match one of each (by the word, a synonym or a typo's correction).
        let named: Vec<Vec<usize>> = hints
            .must_mention
            .iter()
            .map(|name| {
                let words: Vec<String> = crate::analysis::words(name)
                    .iter()
                    .map(|t| t.text.to_lowercase())
                    .collect();
                query
                    .concepts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        crate::analysis::words(&c.surface)
                            .iter()
                            .any(|t| words.contains(&t.text.to_lowercase()))
                    })
                    .map(|(i, _)| i)
                    .collect()
            })
            .filter(|concepts: &Vec<usize>| !concepts.is_empty())
            .collect();
        let holds = |hit: &Hit| {
            let passage = &self.knowledge.passages[hit.passage];
            let bytes = rank::window_bytes(passage, &hit.window);
            asks_for.found_in(&passage.text[bytes], question)
                && named
                    .iter()
                    .all(|concepts| hit.matches.iter().any(|m| concepts.contains(&m.concept)))
        };
        // A follow-up ("What did he warn Trump about?") also answers when the excerpt holds
        // what the message itself asks (its own words), in a passage on the topic, close
        // enough in meaning: its topic words weigh less, so on the usual rule it would need
        // more of them than an answer repeats.
        let follow_up_answers = |h: &Hit| {
            hints.focus.is_some()
                && own_concepts > 0
                && h.signals.semantic.is_none_or(|m| m >= rank::MEANING_FLOOR)
                && (Some(h.passage) == hints.prior
                    || rank::window_share(
                        h,
                        self.passage(h),
                        &weights,
                        own_concepts..weights.len(),
                    ) > 0.0)
                && rank::window_share(h, self.passage(h), &weights, 0..own_concepts)
                    >= rank::MIN_COVERAGE
        };
        // A yes-or-no follow-up ("Is she married?") has no kind of thing to check, only
        // whether what it says holds: an excerpt holding none of its own words, and not
        // close in meaning on its own, says nothing of it however close it is to the topic.
        let yes_no = hints
            .focus
            .as_deref()
            .is_some_and(crate::answer_type::is_yes_no);
        let says_nothing_of = |h: &Hit| {
            yes_no
                && own_concepts > 0
                && h.signals.semantic.is_none_or(|m| m < rank::MEANING_ALONE)
                && rank::window_share(h, self.passage(h), &weights, 0..own_concepts) <= 0.0
        };
        // The metadata passage quotes the title, which says what the whole article is about:
        // a question that matches only the title's words ("Why is Russia preparing to go it
        // alone?") asks about that subject, not about the article, unless it speaks of the
        // article and names it by its title ("Who wrote the piece on the Balkans?").
        // The question is read for document words only once a hit matches nothing but the
        // title: most questions never get that far.
        let only_the_title = |h: &Hit| {
            self.knowledge
                .quoted_title(self.passage(h))
                .is_some_and(|title| {
                    !h.matches.is_empty()
                        && h.matches.iter().all(|m| {
                            m.range
                                .as_ref()
                                .is_some_and(|r| title.start <= r.start && r.end <= title.end)
                        })
                })
                && !crate::analysis::speaks_of_a_document(question)
        };
        let leader = hits.iter().take(TYPE_CHECKED).position(|h| {
            (h.answers() || follow_up_answers(h))
                && holds(h)
                && !says_nothing_of(h)
                && !only_the_title(h)
        });
        let answered = leader.is_some();
        if let Some(i) = leader {
            let hit = hits.remove(i);
            hits.insert(0, hit);
        }
        hits.truncate(limit);
        Ok(Results {
            query,
            hits,
            answered,
            asks_for: Some(asks_for),
            scope,
        })
    }

    /// The document a search keeps to: the one given, else the one the message names, else
    /// (for a follow-up) the one the answer before came from.
    fn scope(&self, question: &str, hints: &Hints) -> Scope {
        if self.knowledge.documents.len() < 2 {
            return Scope::All;
        }
        hints
            .document
            .filter(|&d| d < self.knowledge.documents.len())
            .or_else(|| {
                self.catalog
                    .named_in(hints.focus.as_deref().unwrap_or(question))
            })
            .or_else(|| hints.prior.and_then(|p| self.passage_doc(p)))
            .map_or(Scope::All, Scope::Document)
    }

    /// The passage a hit points to.
    pub fn passage(&self, hit: &Hit) -> &Passage {
        &self.knowledge.passages[hit.passage]
    }

    /// The document passage `id` is in.
    pub fn passage_doc(&self, id: usize) -> Option<usize> {
        self.knowledge.passages.get(id).map(|p| p.doc)
    }
}

/// The index behind an `Arc`, so that it is both the vocabulary and a retriever.
struct SharedIndex(Arc<PassageIndex>);

impl Retriever for SharedIndex {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn candidates(&self, question: &Question, limit: usize) -> Result<Vec<Candidate>, SearchError> {
        self.0.candidates(question, limit)
    }
}

fn load_synonyms(path: &Path) -> Result<Synonyms, LoadError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Synonyms::parse(&text).map_err(|e| LoadError::Synonyms(path.to_path_buf(), e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Synonyms::default()),
        Err(e) => Err(LoadError::Synonyms(
            path.to_path_buf(),
            SynonymError {
                line: 0,
                message: e.to_string(),
            },
        )),
    }
}

/// Loads the model and the sentence vectors; `None` (with one warning that says why) when
/// the layer cannot be had, so that citebot still answers by words.
fn load_meaning(
    model_dir: &Path,
    knowledge: &Knowledge,
    cache_dir: Option<&Path>,
) -> Result<Option<MeaningLayer>, LoadError> {
    let sentences: usize = knowledge
        .passages
        .iter()
        .map(|p| p.sentences.len().max(1))
        .sum();
    if sentences > MAX_EMBEDDED_SENTENCES {
        tracing::warn!(
            sentences,
            limit = MAX_EMBEDDED_SENTENCES,
            "too many sentences to embed at start-up on this machine; matching by words only \
             (SEMANTIC=off silences this)"
        );
        return Ok(None);
    }
    let model = match Model::shared(model_dir) {
        Ok(model) => model,
        Err(e) => {
            tracing::warn!(error = %e, "the sentence model cannot be loaded; matching by words only");
            return Ok(None);
        }
    };
    let vectors = SentenceVectors::load_or_embed(&model, knowledge, cache_dir)
        .map_err(|e| LoadError::Search(SearchError::Embed(e)))?;
    Ok(Some(MeaningLayer { model, vectors }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_cache_reads_a_passage_once() {
        let cache = WordCache::new(2);
        let mut reads = 0;
        let mut read = || {
            reads += 1;
            PassageWords::default()
        };
        let a = cache.get(1, &mut read);
        let b = cache.get(1, &mut read);
        assert!(Arc::ptr_eq(&a, &b));
        let _ = cache.get(99, &mut read); // Unknown ids are read, not cached.
        assert_eq!(reads, 2);
    }
}
