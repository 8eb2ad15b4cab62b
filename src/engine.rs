//! The engine: the knowledge, its retrievers (words and meaning) and the one fusion step
//! that ranks what they propose. Loading, and caching what loading computes, live here too.
//!
//! A question goes: analysis into weighted concepts (and, with the meaning layer, a vector)
//! → each retriever proposes candidates → every candidate is scored on both signals
//! (`rank`) → the best passage answers when both signals and what the question asks for
//! (`answer_type`) agree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::about::Bylines;
use crate::analysis::{Analyzer, Query, SynonymError, Synonyms, Vocabulary};
use crate::answer_type::AnswerType;
use crate::bridge::Bridge;
use crate::conversation::Names;
use crate::documents::Catalog;
use crate::embed::{self, Model, SentenceVectors};
use crate::index::PassageIndex;
use crate::knowledge::{Knowledge, KnowledgeError, Passage, SYNONYMS_FILE};
use crate::lang::{self, Lang, Language};
use crate::rank::{
    self, concept_weights, find_matches, Evidence, Hit, PassageReader, QuestionFacts, Tuning,
};
use crate::retrieve::{
    By, Candidate, Hints, Meaning, NearestInMeaning, Question, Retriever, SearchError,
};
use crate::summary::KeySentence;
use crate::verdict::{Features, Verdict};

mod meaning;
mod understand;
mod word_cache;
use meaning::load_models;
pub use meaning::{Joining, LayerState, Semantics, Unfinished};
use word_cache::WordCache;

/// Past this many sentences citebot says so and answers by words. Not the time to embed
/// them (that runs in the background, kept per sentence, while the bot answers by words) but
/// memory: from [`embed::INDEX_FROM`] sentences each layer holds its vectors as 8-bit codes
/// in an index, and a million sentences in two layers was measured at about 0.8 GB of
/// vectors (docs/scaling.md, "Meaning at size"), inside the 1.5 GiB a process may hold here.
pub const MAX_EMBEDDED_SENTENCES: usize = 1_000_000;

/// The folder of `INDEX_DIR` that keeps the sentence vectors.
const VECTORS_DIR: &str = "vectors";

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
    /// The sentence models, in order of preference for each pair of languages (none: words
    /// only).
    pub models: Vec<PathBuf>,
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
            models: embed::default_model_dirs(),
            cache_dir: embed::default_cache_dir(),
            max_document_mb: crate::knowledge::DEFAULT_MAX_DOCUMENT_MB,
        }
    }

    /// Where the sentence vectors (and, at size, their index) are kept: beside an index on
    /// disk, whatever the knowledge's version, else the cache folder.
    pub fn vectors_dir(&self) -> Option<PathBuf> {
        match &self.index_dir {
            Some(dir) => Some(dir.join(VECTORS_DIR)),
            None => self.cache_dir.clone(),
        }
    }

    /// Words only: no model, no cache.
    pub fn lexical(knowledge_dir: impl Into<PathBuf>) -> Options {
        Options {
            models: Vec::new(),
            cache_dir: None,
            ..Options::new(knowledge_dir)
        }
    }
}

/// A meaning layer: a model that embeds questions, and its vectors of every sentence.
pub struct MeaningLayer {
    pub model: Arc<Model>,
    pub vectors: Arc<SentenceVectors>,
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

/// The outcome of a search.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub query: Query,
    /// Best first.
    pub hits: Vec<Hit>,
    /// What the reader is told of the best hit: a sure answer, the closest passage, or
    /// nothing related...
    pub verdict: Verdict,
    /// ...and how sure that is (0 to 1): the probability that `best` answers.
    pub confidence: f32,
    /// The passage the decision was surest of, shown or not.
    pub best: Option<usize>,
    /// What each of the best few hits showed the decision, beside its passage, in the
    /// ranking's order (for `eval --details` and `citebot fit`).
    pub weighed: Vec<(usize, Features)>,
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
    /// The language the catalog and the questions default to.
    lang: &'static Language,
    vocabulary: Arc<dyn Vocabulary + Send + Sync>,
    retrievers: Vec<Box<dyn Retriever>>,
    /// Matching by meaning, as far as it has got.
    semantics: ArcSwap<Semantics>,
    /// The models whose layers are loading or loaded, in order of preference.
    joining: Vec<Joining>,
    /// One per language ([`Lang::ALL`] order): a question is read in its own.
    analyzers: Vec<Analyzer>,
    reader: PassageReader,
    words: WordCache,
    tuning: Tuning,
    /// The words that name the documents, for questions about a document itself.
    pub bylines: Bylines,
    /// With an index on disk, its build's folder: what the knowledge alone decides is kept
    /// there (the names, the summaries, the bridge's words), so a restart reads it.
    kept_dir: Option<PathBuf>,
}

impl Engine {
    /// An engine over `knowledge`, whose words `vocabulary` knows, with these retrievers and,
    /// when given, the meaning layer (its retriever is added here).
    pub fn new(
        knowledge: Knowledge,
        synonyms: Synonyms,
        vocabulary: Arc<dyn Vocabulary + Send + Sync>,
        retrievers: Vec<Box<dyn Retriever>>,
        meaning: Vec<MeaningLayer>,
    ) -> Engine {
        let names = Names::of(&knowledge);
        Engine::named(
            knowledge,
            names,
            synonyms,
            vocabulary,
            retrievers,
            Some(meaning),
        )
    }

    /// [`Engine::new`], with the knowledge's names already found. `meaning: None` leaves the
    /// semantics (the layers and the summaries they make) empty, for [`Engine::install`] to
    /// bring in: the summaries are not computed twice.
    fn named(
        knowledge: Knowledge,
        names: Names,
        synonyms: Synonyms,
        vocabulary: Arc<dyn Vocabulary + Send + Sync>,
        mut retrievers: Vec<Box<dyn Retriever>>,
        meaning: Option<Vec<MeaningLayer>>,
    ) -> Engine {
        // It proposes nothing until a layer is in.
        retrievers.push(Box::new(NearestInMeaning));
        let knowledge_len = knowledge.passages.len();
        // The catalog names documents in English ("the bee article").
        let lang = lang::english();
        let semantics = match meaning {
            Some(layers) => Semantics::of(&knowledge, layers, None, None),
            None => Semantics::default(),
        };
        Engine {
            semantics: ArcSwap::from_pointee(semantics),
            joining: Vec::new(),
            bylines: Bylines::of(&knowledge),
            names,
            catalog: Catalog::of(&knowledge, lang),
            lang,
            knowledge,
            synonyms,
            vocabulary,
            retrievers,
            analyzers: Lang::ALL
                .iter()
                .map(|l| Analyzer::new(l.language()))
                .collect(),
            reader: PassageReader::default(),
            words: WordCache::new(knowledge_len),
            tuning: Tuning::default(),
            kept_dir: None,
        }
    }

    /// The same engine, ranking and deciding with `tuning`.
    pub fn with_tuning(self, tuning: Tuning) -> Engine {
        Engine { tuning, ..self }
    }

    /// The weights and thresholds it ranks and decides with.
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// The usual engine: the tantivy index as vocabulary and retriever by words, and the
    /// meaning layer when given.
    pub fn with_index(
        knowledge: Knowledge,
        synonyms: Synonyms,
        index: PassageIndex,
        meaning: Vec<MeaningLayer>,
    ) -> Engine {
        let names = Names::of(&knowledge);
        Engine::indexed(knowledge, names, synonyms, index, Some(meaning))
    }

    fn indexed(
        knowledge: Knowledge,
        names: Names,
        synonyms: Synonyms,
        index: PassageIndex,
        meaning: Option<Vec<MeaningLayer>>,
    ) -> Engine {
        let index = Arc::new(index);
        let retriever: Box<dyn Retriever> = Box::new(SharedIndex(Arc::clone(&index)));
        Engine::named(knowledge, names, synonyms, index, vec![retriever], meaning)
    }

    /// Loads the knowledge folder and its synonyms, and indexes it: in memory, or under
    /// `index_dir`, reusing the index found there when it was built from the same files. With
    /// a model, every sentence is embedded (or its vector read from the cache) before it
    /// returns.
    pub fn load(options: &Options) -> Result<Engine, LoadError> {
        let (engine, unfinished) = Engine::load_parts(options)?;
        if engine.joining.is_empty() {
            engine.install(&[], None);
        }
        unfinished.finish(&engine, &|| true)?;
        Ok(engine)
    }

    /// Everything of [`Engine::load`] but the sentence vectors: the engine answers by words,
    /// and [`Unfinished::finish`] brings in the meaning layers.
    pub fn load_words(options: &Options) -> Result<(Engine, Unfinished), LoadError> {
        let (engine, unfinished) = Engine::load_parts(options)?;
        // What it answers with meanwhile: the summaries by words.
        engine.install(&[], None);
        let answering = true;
        Ok((
            engine,
            Unfinished {
                answering,
                ..unfinished
            },
        ))
    }

    /// [`Engine::load_words`] with its semantics still empty, not even the summaries by
    /// words: the caller installs them.
    fn load_parts(options: &Options) -> Result<(Engine, Unfinished), LoadError> {
        let knowledge_dir = &options.knowledge_dir;
        let knowledge = Knowledge::load_limited(knowledge_dir, options.max_document_mb)?;
        let synonyms = load_synonyms(&knowledge_dir.join(SYNONYMS_FILE))?;
        let index = match &options.index_dir {
            Some(dir) => crate::store::open_or_build(dir, &knowledge)
                .map_err(|e| LoadError::Index(dir.to_path_buf(), e))?,
            None => PassageIndex::in_ram(&knowledge)?,
        };
        // With an index on disk, the names derived from every passage are kept beside it, in
        // the build's folder, and the vectors (kept per sentence, whatever the knowledge) in
        // a folder of their own.
        let build_dir =
            (options.index_dir.as_deref()).map(|dir| crate::store::build_dir(dir, &knowledge));
        let cache_dir = options.vectors_dir();
        let models = load_models(&options.models, &knowledge);
        let names_file = (build_dir.as_ref())
            .map(|dir| dir.join(format!("citebot-names-{}.txt", Names::rules_fingerprint())));
        let names = crate::store::kept(
            names_file.as_deref(),
            |lines| Some(Names::from_lines(lines)),
            Names::to_lines,
            || Names::of(&knowledge),
        );
        let mut engine = Engine::indexed(knowledge, names, synonyms, index, None);
        engine.kept_dir = build_dir;
        engine.joining = models
            .into_iter()
            .map(|model| Joining {
                model,
                progress: embed::Progress::default(),
                ready: Default::default(),
            })
            .collect();
        let answering = false;
        Ok((
            engine,
            Unfinished {
                cache_dir,
                answering,
            },
        ))
    }

    /// The key sentences of document `doc`, in reading order.
    pub fn summary(&self, doc: usize) -> Vec<KeySentence> {
        self.semantics.load().summaries.of_document(doc).to_vec()
    }

    /// Whether questions are matched by meaning as well as by words (now: a layer still
    /// loading is not counted).
    pub fn is_semantic(&self) -> bool {
        !self.semantics.load().layers.is_empty()
    }

    /// The meaning layers in use, and the bridge.
    pub fn meaning(&self) -> Arc<Semantics> {
        self.semantics.load_full()
    }

    /// The language it reads a question in when the question does not say ("?", "2018").
    pub fn language(&self) -> &'static Language {
        self.lang
    }

    /// The language `question` is asked in: its script's, else the default.
    pub fn language_of(&self, question: &str) -> &'static Language {
        Lang::detect(question).map_or(self.lang, Lang::language)
    }

    pub fn analyse(&self, question: &str) -> Query {
        let asked_in = self.language_of(question);
        let semantics = self.semantics.load();
        let vocabulary = Bridged {
            index: self.vocabulary.as_ref(),
            bridge: semantics.bridge.as_deref(),
            min_cosine: self.tuning.translation_min_cosine,
        };
        self.analyzers
            .iter()
            .find(|a| std::ptr::eq(a.language(), asked_in))
            .cloned()
            .unwrap_or_default()
            .analyse(question, &self.synonyms, &vocabulary)
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

    /// The stages of a search, each a method below: expand the question with its topic,
    /// choose the documents, propose candidates, score them, decide whether one answers.
    fn search_inner(
        &self,
        question: &str,
        hints: &Hints,
        limit: usize,
    ) -> Result<Results, SearchError> {
        let (query, own_concepts) = self.expand(question, hints);
        if query.is_empty() {
            // No informative word ("what is it?"): nothing to match, by words or by meaning.
            return Ok(Results {
                query,
                ..Results::default()
            });
        }
        let scope = self.scope(question, hints);
        let (mut meaning, mut understood) = self.understand_rows(question)?.unzip();
        let asks_for = hints
            .asks_for
            .clone()
            .unwrap_or_else(|| AnswerType::of_in(self.language_of(question), question));
        let asked = Question {
            query: &query,
            meaning: meaning.as_ref(),
        };
        let proposed = self.propose(&asked, hints.prior, scope, limit)?;
        if let (Some(meaning), Some(understood)) = (meaning.as_mut(), understood.as_mut()) {
            self.fill_in(meaning, understood, &proposed.ids)?;
        }
        let mut weights = concept_weights(&query, self.vocabulary.as_ref());
        for w in weights.iter_mut().skip(own_concepts) {
            *w *= self.tuning.topic_weight;
        }
        let mut hits = self.score(&query, &proposed, meaning.as_ref(), &weights, hints.prior);
        let facts = QuestionFacts {
            question,
            asks_for: &asks_for,
            weights: &weights,
            own_concepts,
            follow_up: hints.focus.is_some(),
            yes_no: hints
                .focus
                .as_deref()
                .is_some_and(|focus| crate::answer_type::is_yes_no(self.language_of(focus), focus)),
            prior: hints.prior,
            named: named_concepts(&query, &hints.must_mention),
            counted: match &asks_for {
                AnswerType::Number { counted } => named_concepts(&query, counted).concat(),
                _ => Vec::new(),
            },
        };
        let (decision, weighed) = self.tuning.decide(&hits, &facts, &self.knowledge);
        let best = decision.best.map(|i| hits[i].passage);
        if let Some(i) = decision.leader {
            let hit = hits.remove(i);
            hits.insert(0, hit);
        }
        hits.truncate(limit);
        Ok(Results {
            query,
            hits,
            verdict: decision.verdict,
            confidence: decision.confidence,
            best,
            weighed,
            asks_for: Some(asks_for),
            scope,
        })
    }

    /// The question's concepts: those of the words matched at full weight (a follow-up's
    /// own message, else the question), then those of the conversation's topic that are not
    /// among them. Returns the query and how many of its concepts are the message's own.
    fn expand(&self, question: &str, hints: &Hints) -> (Query, usize) {
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
        (query, own_concepts)
    }

    /// Every retriever proposes; the passage before is always weighed for a follow-up, and a
    /// search kept to one document weighs only its passages (all of them, when few).
    fn propose(
        &self,
        question: &Question,
        prior: Option<usize>,
        scope: Scope,
        limit: usize,
    ) -> Result<Proposed, SearchError> {
        let mut proposed = Proposed::default();
        for retriever in &self.retrievers {
            let by = retriever.evidence();
            let limit = match by {
                By::Words => self.tuning.word_candidates.max(limit),
                By::Meaning => self.tuning.meaning_candidates.max(limit),
            };
            for c in retriever.candidates(question, limit)? {
                // BM25 scores are kept to weigh the words' side.
                if by == By::Words {
                    proposed.bm25.insert(c.passage, c.score);
                }
                proposed.add(c.passage);
            }
        }
        if let Some(prior) = prior.filter(|&p| p < self.knowledge.passages.len()) {
            proposed.add(prior);
        }
        if let Scope::Document(doc) = scope {
            proposed.ids.retain(|&id| self.passage_doc(id) == Some(doc));
            let whole: Vec<usize> = self.knowledge.passage_ids_of(doc).collect();
            if whole.len() <= self.tuning.weigh_whole_document {
                for id in whole {
                    proposed.add(id);
                }
            }
        }
        Ok(proposed)
    }

    /// Scores every candidate on words and meaning, best first; the passage before gets a
    /// small bonus.
    fn score(
        &self,
        query: &Query,
        proposed: &Proposed,
        meaning: Option<&Meaning>,
        weights: &[f32],
        prior: Option<usize>,
    ) -> Vec<Hit> {
        let best_bm25 = proposed.bm25.values().copied().fold(0.0, f32::max);
        let mut reader = self.reader.clone();
        let mut hits: Vec<Hit> = proposed
            .ids
            .iter()
            .filter_map(|&id| {
                let passage = self.knowledge.passages.get(id)?;
                let words = self.words.get(id, || {
                    let context = passage.context(&self.knowledge.document(passage).meta);
                    reader.passage_words(passage, &context)
                });
                let bm25 = match proposed.bm25.get(&id) {
                    Some(s) if best_bm25 > 0.0 => s / best_bm25,
                    _ => 0.0,
                };
                Some(rank::score(
                    Evidence {
                        passage_id: id,
                        passage,
                        matches: find_matches(query, &words, self.tuning.stem_only),
                        bm25,
                        meaning: meaning.map(|m| m.of_passage(id)),
                    },
                    weights,
                    &self.tuning,
                ))
            })
            .collect();
        if let Some(hit) = hits.iter_mut().find(|h| Some(h.passage) == prior) {
            hit.score += self.tuning.prior_bonus;
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.passage.cmp(&b.passage)));
        hits
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

    fn evidence(&self) -> By {
        self.0.evidence()
    }

    fn candidates(&self, question: &Question, limit: usize) -> Result<Vec<Candidate>, SearchError> {
        self.0.candidates(question, limit)
    }
}

/// The candidates of a search, in the order they were first proposed, and the BM25 score
/// of those proposed by words.
#[derive(Default)]
struct Proposed {
    ids: Vec<usize>,
    bm25: HashMap<usize, f32>,
}

impl Proposed {
    fn add(&mut self, id: usize) {
        if !self.ids.contains(&id) {
            self.ids.push(id);
        }
    }
}

/// For each name a follow-up asks about ("China"), the concepts of `query` that stand for
/// it (by the word, a synonym or a typo's correction); names no concept stands for are left
/// out.
fn named_concepts(query: &Query, must_mention: &[String]) -> Vec<Vec<usize>> {
    must_mention
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
        .collect()
}

/// The knowledge's names, as kept in the build folder `dir` beside its index, else found
/// and kept there for the next start (when the folder can be written; a read-only one only
/// costs the finding). The file is named after the word lists names are found with, so a
/// change to them finds the names again.
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

/// The index's words, and their translations when a multilingual model is loaded.
struct Bridged<'a> {
    index: &'a (dyn Vocabulary + Send + Sync),
    bridge: Option<&'a Bridge>,
    min_cosine: f32,
}

impl Vocabulary for Bridged<'_> {
    fn doc_freq(&self, term: &str) -> u64 {
        self.index.doc_freq(term)
    }

    fn nearest(&self, term: &str, max_distance: u8) -> Option<String> {
        self.index.nearest(term, max_distance)
    }

    fn num_passages(&self) -> u64 {
        self.index.num_passages()
    }

    fn translate(&self, words: &[&str]) -> Vec<Option<String>> {
        match self.bridge {
            Some(bridge) => bridge.translate(words, self.min_cosine),
            None => vec![None; words.len()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A restart with the index on disk reads the names kept beside it instead of reading
    /// every word of the knowledge again, and gets the same names.
    #[test]
    fn names_are_kept_beside_an_index_on_disk() {
        let knowledge_dir = tempfile::tempdir().unwrap();
        std::fs::write(
            knowledge_dir.path().join("t.txt"),
            "+++\ntitle = \"T\"\nurl = \"https://example.org/t\"\n+++\n\
             Zamir Kabulov met the envoys in Moscow.\n\nThe envoys said Kabulov was right.\n",
        )
        .unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        let options = Options {
            index_dir: Some(index_dir.path().to_path_buf()),
            ..Options::lexical(knowledge_dir.path())
        };
        let first = Engine::load(&options).unwrap();
        let found = Names::of(&first.knowledge).to_lines();
        assert!(found.contains("kabulov"), "{found}");
        let build = crate::store::build_dir(index_dir.path(), &first.knowledge);
        let file = build.join(format!("citebot-names-{}.txt", Names::rules_fingerprint()));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), found);
        drop(first);

        // What is kept is what is read: a name written there by hand is known after a restart.
        std::fs::write(&file, format!("{found}envoys\n")).unwrap();
        let again = Engine::load(&options).unwrap();
        assert!(again.names.to_lines().contains("envoys"));
    }
}
