//! Finding the passages that answer a question: the tantivy index, and the ranking on top of it.
//!
//! tantivy's BM25 picks the candidates; the ranking then reads each candidate's words again to
//! reward what BM25 cannot see: how much of the question a passage covers, whether one to three
//! consecutive sentences cover it (the excerpt that will be shown), and whether the question's
//! words stand close together. Coverage also decides whether there is an answer at all: a
//! passage that shares one common word with the question does not answer it.
//!
//! The index sits behind [`Retriever`], so another engine (a distributed one, for corpora that
//! outgrow a machine) can serve candidates while analysis, ranking and excerpts stay the same.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{
    self, Alternative, Analyzer, Query, StemmerFn, SynonymError, Synonyms, Vocabulary,
};
use crate::knowledge::{Knowledge, KnowledgeError, Passage, SYNONYMS_FILE};

/// How many BM25 candidates the ranking looks at.
const CANDIDATES: usize = 30;
/// The share of the question's informative weight a passage must cover to count as an answer.
pub const MIN_COVERAGE: f32 = 0.5;
/// With at least this share of the question's concepts found...
pub const MOST_WORDS: f32 = 0.75;
/// ...a passage needs only this share of the informative weight.
pub const MIN_COVERAGE_MOST_WORDS: f32 = 0.4;
/// Passages after the first (`--top`, "Next match") need less: the user asked for more.
pub const FOLLOW_UP_COVERAGE: f32 = 0.3;
/// An excerpt of several sentences stays under this many characters.
pub const MAX_EXCERPT_CHARS: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
}

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

/// A passage the retriever proposes, with its retrieval score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub passage: usize,
    pub score: f32,
}

/// Anything that can propose candidate passages for a query.
pub trait Retriever: Vocabulary + Send + Sync {
    fn candidates(&self, query: &Query, limit: usize) -> Result<Vec<Candidate>, SearchError>;
}

/// The tantivy index of the passages.
pub struct PassageIndex {
    reader: IndexReader,
    text: Field,
    context: Field,
}

const PASSAGE_FIELD: &str = "passage";

fn schema() -> (Schema, Field, Field) {
    let mut builder = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analysis::ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    let text = builder.add_text_field("text", options.clone());
    let context = builder.add_text_field("context", options);
    builder.add_u64_field(PASSAGE_FIELD, FAST | STORED);
    (builder.build(), text, context)
}

impl PassageIndex {
    /// Builds the index in memory.
    pub fn in_ram(knowledge: &Knowledge) -> Result<PassageIndex, SearchError> {
        let (schema, _, _) = schema();
        let index = Index::create_in_ram(schema);
        Self::fill(&index, knowledge)?;
        Self::from_index(index)
    }

    /// Builds the index in `dir`, which must be empty or absent.
    pub fn create_in_dir(dir: &Path, knowledge: &Knowledge) -> Result<PassageIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let (schema, _, _) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::fill(&index, knowledge)?;
        Self::from_index(index)
    }

    /// Opens an index built earlier by [`PassageIndex::create_in_dir`].
    pub fn open_dir(dir: &Path) -> Result<PassageIndex, SearchError> {
        let index = Index::open_in_dir(dir)?;
        if index.schema() != schema().0 {
            return Err(tantivy::TantivyError::SchemaError(
                "the index was built with another schema".into(),
            )
            .into());
        }
        Self::from_index(index)
    }

    fn fill(index: &Index, knowledge: &Knowledge) -> Result<(), SearchError> {
        register(index);
        let (_, text, context) = schema();
        let passage = index.schema().get_field(PASSAGE_FIELD)?;
        let mut writer = index.writer::<TantivyDocument>(64_000_000)?;
        for (id, p) in knowledge.passages.iter().enumerate() {
            let meta = &knowledge.document(p).meta;
            writer.add_document(doc!(
                text => p.text.as_str(),
                context => p.context(meta),
                passage => id as u64,
            ))?;
        }
        writer.commit()?;
        Ok(())
    }

    fn from_index(index: Index) -> Result<PassageIndex, SearchError> {
        // Custom tokenizers are not stored in the index: register them on every open.
        register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        reader.reload()?;
        let (_, text, context) = schema();
        Ok(PassageIndex {
            reader,
            text,
            context,
        })
    }

    /// How many passages the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The passage numbers stored in the index, in no particular order (to check it against
    /// the knowledge it was built from).
    pub fn passage_ids(&self) -> Result<Vec<u64>, SearchError> {
        let searcher = self.reader.searcher();
        let mut ids = Vec::new();
        for segment in searcher.segment_readers() {
            let column = segment.fast_fields().u64(PASSAGE_FIELD)?;
            for doc in segment.doc_ids_alive() {
                ids.extend(column.first(doc));
            }
        }
        Ok(ids)
    }

    fn term(&self, field: Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }
}

fn register(index: &Index) {
    index
        .tokenizers()
        .register(analysis::ANALYZER, analysis::index_analyzer());
}

impl Vocabulary for PassageIndex {
    fn doc_freq(&self, term: &str) -> u64 {
        let searcher = self.reader.searcher();
        [self.text, self.context]
            .iter()
            .map(|f| searcher.doc_freq(&self.term(*f, term)).unwrap_or(0))
            .max()
            .unwrap_or(0)
    }

    fn nearest(&self, term: &str, max_distance: u8) -> Option<String> {
        let query = FuzzyTermQuery::new(self.term(self.text, term), max_distance, true);
        let automaton = query.automaton().ok()?;
        let searcher = self.reader.searcher();
        let mut best: Option<(u32, u64, String)> = None;
        for segment in searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(self.text) else {
                continue;
            };
            let Ok(mut stream) = inverted.terms().search(&automaton).into_stream() else {
                continue;
            };
            while stream.advance() {
                let Ok(candidate) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let distance = levenshtein(term, candidate);
                let freq = u64::from(stream.value().doc_freq);
                let better = match &best {
                    None => true,
                    Some((d, f, _)) => distance < *d || (distance == *d && freq > *f),
                };
                if better {
                    best = Some((distance, freq, candidate.to_string()));
                }
            }
        }
        best.map(|(_, _, t)| t)
    }

    fn num_passages(&self) -> u64 {
        self.len()
    }
}

/// Edit distance with adjacent transpositions counted as one, as the fuzzy automaton counts.
fn levenshtein(a: &str, b: &str) -> u32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as u32;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as u32;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = u32::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

impl Retriever for PassageIndex {
    fn candidates(&self, query: &Query, limit: usize) -> Result<Vec<Candidate>, SearchError> {
        let mut clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
        for alt in query.concepts.iter().flat_map(|c| &c.alternatives) {
            for field in [self.text, self.context] {
                let q: Box<dyn tantivy::query::Query> = match alt.terms.as_slice() {
                    [] => continue,
                    [one] => Box::new(TermQuery::new(
                        self.term(field, one),
                        IndexRecordOption::WithFreqs,
                    )),
                    many => Box::new(PhraseQuery::new(
                        many.iter().map(|t| self.term(field, t)).collect(),
                    )),
                };
                clauses.push((Occur::Should, Box::new(BoostQuery::new(q, alt.weight))));
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        )?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let column = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .u64(PASSAGE_FIELD)?;
            if let Some(id) = column.first(address.doc_id) {
                out.push(Candidate {
                    passage: id as usize,
                    score,
                });
            }
        }
        Ok(out)
    }
}

/// Where a concept of the question was found in a passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub concept: usize,
    /// The weight of the alternative that matched (1 for the user's own word).
    pub weight: f32,
    /// Byte range in the passage text; `None` when it matched the passage's context words
    /// (a caption matching "photo").
    pub range: Option<Range<usize>>,
    pub position: usize,
}

/// The weight of a match on the stem only, relative to a match on the very word.
const STEM_ONLY: f32 = 0.85;

/// A word of a passage as the index saw it: where it is, its stem, and its spelling
/// (lower-cased and folded, unstemmed).
#[derive(Debug, Clone)]
pub struct Word {
    pub range: Range<usize>,
    pub position: usize,
    /// How many positions it spans: more than one for a joined compound ("Mi-17").
    pub span: usize,
    pub stem: Box<str>,
    pub plain: Box<str>,
}

/// A passage's words: of its text, and of its context words.
#[derive(Debug, Clone, Default)]
pub struct PassageWords {
    pub text: Vec<Word>,
    pub context: Vec<Word>,
}

/// Reads passages again at query time, the way the index read them. Stems are memoized:
/// the candidates of one question share most of their words, and stemming is the costly part.
#[derive(Clone)]
pub struct PassageReader {
    plain: TextAnalyzer,
    stemmer: StemmerFn,
    memo: HashMap<String, Box<str>>,
}

impl Default for PassageReader {
    fn default() -> Self {
        PassageReader {
            plain: analysis::plain_analyzer(),
            stemmer: StemmerFn::default(),
            memo: HashMap::new(),
        }
    }
}

impl PassageReader {
    pub fn words(&mut self, text: &str) -> Vec<Word> {
        analysis::tokens(&mut self.plain, text)
            .into_iter()
            .map(|t| {
                let stem = match self.memo.get(&t.text) {
                    Some(stem) => stem.clone(),
                    None => {
                        let stem: Box<str> = self.stemmer.stem(&t.text).into();
                        self.memo.insert(t.text.clone(), stem.clone());
                        stem
                    }
                };
                Word {
                    range: t.offset_from..t.offset_to,
                    position: t.position,
                    span: t.position_length.max(1),
                    stem,
                    plain: t.text.into(),
                }
            })
            .collect()
    }

    pub fn passage_words(&mut self, passage: &Passage, context: &str) -> PassageWords {
        PassageWords {
            text: self.words(&passage.text),
            context: self.words(context),
        }
    }
}

/// Finds the query's concepts among a passage's words.
pub fn find_matches(query: &Query, words: &PassageWords) -> Vec<Match> {
    // Which alternatives start with which term.
    let mut starts: HashMap<&str, Vec<(usize, &Alternative)>> = HashMap::new();
    for (ci, concept) in query.concepts.iter().enumerate() {
        for alt in &concept.alternatives {
            if let Some(first) = alt.terms.first() {
                starts.entry(first.as_str()).or_default().push((ci, alt));
            }
        }
    }
    let mut out = Vec::new();
    for (tokens, in_text) in [(&words.text, true), (&words.context, false)] {
        for (ti, tok) in tokens.iter().enumerate() {
            let Some(alts) = starts.get(&*tok.stem) else {
                continue;
            };
            for &(ci, alt) in alts {
                // Phrases: the next terms at the next positions.
                let mut end = tok.range.end;
                let whole = alt.terms[1..].iter().enumerate().all(|(k, term)| {
                    let at = tok.position + tok.span + k;
                    tokens[ti..]
                        .iter()
                        .find(|t| t.position == at && &*t.stem == term)
                        .map(|t| end = t.range.end)
                        .is_some()
                });
                if !whole {
                    continue;
                }
                let exact = alt.terms.len() > 1
                    || alt.forms.is_empty()
                    || alt.forms.iter().any(|f| **f == *tok.plain);
                out.push(Match {
                    concept: ci,
                    weight: alt.weight * if exact { 1.0 } else { STEM_ONLY },
                    range: in_text.then_some(tok.range.start..end),
                    position: tok.position,
                });
            }
        }
    }
    out
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

/// How informative each concept of the query is: the inverse document frequency of its most
/// common form (a word that is nowhere in the index is as informative as a word can be).
pub fn concept_weights(query: &Query, vocab: &dyn Vocabulary) -> Vec<f32> {
    let n = vocab.num_passages().max(1) as f32;
    query
        .concepts
        .iter()
        .map(|c| {
            let df = c
                .alternatives
                .iter()
                .filter(|a| a.terms.len() == 1)
                .map(|a| vocab.doc_freq(&a.terms[0]))
                .max()
                .unwrap_or(0) as f32;
            (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
        })
        .collect()
}

/// A ranked passage.
#[derive(Debug, Clone)]
pub struct Hit {
    pub passage: usize,
    pub score: f32,
    /// The share of the question's informative weight the passage covers (0 to 1).
    pub coverage: f32,
    /// The share of the question's concepts found in the passage, each counted once.
    pub found: f32,
    /// The share of the question's informative weight that the best one to three
    /// consecutive sentences cover.
    pub window_coverage: f32,
    /// The sentences (indexes into [`Passage::sentences`]) that answer best.
    pub window: Range<usize>,
    pub matches: Vec<Match>,
}

impl Hit {
    /// Whether the passage answers the question: it covers enough of the question's
    /// informative weight, or nearly all of its words and a little less weight. The second
    /// way lets a question through when one paraphrased word ("think", "job") is nowhere in
    /// the knowledge, which makes it weigh as much as a word can; a question about something
    /// else entirely ("the weather tomorrow") finds at most one word in a passage.
    pub fn answers(&self) -> bool {
        self.window_coverage >= MIN_COVERAGE
            || (self.found >= MOST_WORDS && self.window_coverage >= MIN_COVERAGE_MOST_WORDS)
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub query: Query,
    /// Best first.
    pub hits: Vec<Hit>,
    /// Whether the best hit answers the question (enough coverage).
    pub answered: bool,
}

/// The search engine: knowledge, index and synonyms, shared by every question.
pub struct Engine {
    pub knowledge: Knowledge,
    pub synonyms: Synonyms,
    retriever: Box<dyn Retriever>,
    analyzer: Analyzer,
    reader: PassageReader,
    words: WordCache,
}

impl Engine {
    pub fn new(knowledge: Knowledge, synonyms: Synonyms, retriever: Box<dyn Retriever>) -> Engine {
        let knowledge_len = knowledge.passages.len();
        Engine {
            knowledge,
            synonyms,
            retriever,
            analyzer: Analyzer::default(),
            reader: PassageReader::default(),
            words: WordCache::new(knowledge_len),
        }
    }

    /// Loads the knowledge folder and its synonyms, and indexes it: in memory, or under
    /// `index_dir`, reusing the index found there when it was built from the same files.
    pub fn load(knowledge_dir: &Path, index_dir: Option<&Path>) -> Result<Engine, LoadError> {
        let knowledge = Knowledge::load(knowledge_dir)?;
        let synonyms_path = knowledge_dir.join(SYNONYMS_FILE);
        let synonyms = match std::fs::read_to_string(&synonyms_path) {
            Ok(text) => {
                Synonyms::parse(&text).map_err(|e| LoadError::Synonyms(synonyms_path, e))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Synonyms::default(),
            Err(e) => {
                return Err(LoadError::Synonyms(
                    synonyms_path,
                    SynonymError {
                        line: 0,
                        message: e.to_string(),
                    },
                ))
            }
        };
        let index = match index_dir {
            Some(dir) => crate::store::open_or_build(dir, &knowledge)
                .map_err(|e| LoadError::Index(dir.to_path_buf(), e))?,
            None => PassageIndex::in_ram(&knowledge)?,
        };
        Ok(Engine::new(knowledge, synonyms, Box::new(index)))
    }

    /// Indexes `knowledge` in memory.
    pub fn in_ram(knowledge: Knowledge, synonyms: Synonyms) -> Result<Engine, SearchError> {
        let index = PassageIndex::in_ram(&knowledge)?;
        Ok(Engine::new(knowledge, synonyms, Box::new(index)))
    }

    pub fn analyse(&self, question: &str) -> Query {
        self.analyzer
            .clone()
            .analyse(question, &self.synonyms, self.retriever.as_ref())
    }

    /// Searches for `question` and ranks up to `limit` passages.
    pub fn search(&self, question: &str, limit: usize) -> Result<Results, SearchError> {
        let query = self.analyse(question);
        self.search_query(query, limit)
    }

    pub fn search_query(&self, query: Query, limit: usize) -> Result<Results, SearchError> {
        if query.is_empty() {
            return Ok(Results {
                query,
                ..Results::default()
            });
        }
        let candidates = self.retriever.candidates(&query, CANDIDATES.max(limit))?;
        let weights = concept_weights(&query, self.retriever.as_ref());
        let mut reader = self.reader.clone();
        let best_bm25 = candidates.iter().map(|c| c.score).fold(0.0, f32::max);
        let mut hits: Vec<Hit> = candidates
            .iter()
            .filter_map(|c| {
                let passage = self.knowledge.passages.get(c.passage)?;
                let words = self.words.get(c.passage, || {
                    let context = passage.context(&self.knowledge.document(passage).meta);
                    reader.passage_words(passage, &context)
                });
                let matches = find_matches(&query, &words);
                Some(score(c, passage, matches, &weights, best_bm25))
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.passage.cmp(&b.passage)));
        hits.truncate(limit);
        let answered = hits.first().is_some_and(Hit::answers);
        Ok(Results {
            query,
            hits,
            answered,
        })
    }

    /// The passage a hit points to.
    pub fn passage(&self, hit: &Hit) -> &Passage {
        &self.knowledge.passages[hit.passage]
    }
}

/// Covered weight: each concept counts once, by the best alternative found.
fn covered(matches: &[Match], weights: &[f32], within: impl Fn(&Match) -> bool) -> f32 {
    let mut best = vec![0.0f32; weights.len()];
    for m in matches.iter().filter(|m| within(m)) {
        best[m.concept] = best[m.concept].max(m.weight);
    }
    best.iter().zip(weights).map(|(b, w)| b * w).sum()
}

fn score(
    c: &Candidate,
    passage: &Passage,
    matches: Vec<Match>,
    weights: &[f32],
    best_bm25: f32,
) -> Hit {
    let total: f32 = weights.iter().sum::<f32>().max(f32::EPSILON);
    let coverage = covered(&matches, weights, |_| true) / total;
    let found = weights
        .iter()
        .enumerate()
        .filter(|(i, _)| matches.iter().any(|m| m.concept == *i))
        .count() as f32
        / weights.len().max(1) as f32;
    let (window, window_covered) = best_window(passage, &matches, weights, MAX_EXCERPT_CHARS);
    // Whether it answers is decided on up to three sentences however long: the excerpt may
    // then be trimmed around the marked words.
    let (_, answer_covered) = best_window(passage, &matches, weights, usize::MAX);
    let proximity = proximity(&matches, weights).unwrap_or(coverage);
    let bm25 = if best_bm25 > 0.0 {
        c.score / best_bm25
    } else {
        0.0
    };
    let score = 0.1 * bm25 + 0.4 * coverage + 0.35 * (window_covered / total) + 0.15 * proximity;
    Hit {
        passage: c.passage,
        score,
        coverage,
        found,
        window_coverage: answer_covered / total,
        window,
        matches,
    }
}

/// The one to three consecutive sentences that cover the most of the question, preferring
/// fewer sentences, and within `max_chars` when more than one.
fn best_window(
    passage: &Passage,
    matches: &[Match],
    weights: &[f32],
    max_chars: usize,
) -> (Range<usize>, f32) {
    let s = &passage.sentences;
    let mut best = (0..s.len().min(1), f32::MIN);
    for start in 0..s.len() {
        for end in start + 1..=(start + 3).min(s.len()) {
            let bytes = s[start].start..s[end - 1].end;
            if end - start > 1 && passage.text[bytes.clone()].chars().count() > max_chars {
                break;
            }
            let value = covered(matches, weights, |m| {
                m.range
                    .as_ref()
                    .is_none_or(|r| r.start >= bytes.start && r.end <= bytes.end)
            });
            // A longer window must cover strictly more to be worth its length.
            let shorter = end - start < best.0.len();
            if value > best.1 + 1e-4 || (value > best.1 - 1e-4 && shorter) {
                best = (start..end, value);
            }
        }
    }
    (best.0, best.1.max(0.0))
}

/// How close together the question's concepts stand in the passage, from 0 to 1; `None` when
/// the question has fewer than two concepts.
fn proximity(matches: &[Match], weights: &[f32]) -> Option<f32> {
    if weights.len() < 2 {
        return None;
    }
    let mut positions: Vec<Vec<usize>> = vec![Vec::new(); weights.len()];
    for m in matches.iter().filter(|m| m.range.is_some()) {
        positions[m.concept].push(m.position);
    }
    let (mut got, mut possible) = (0.0, 0.0);
    for i in 0..weights.len() {
        for j in i + 1..weights.len() {
            let pair = weights[i].min(weights[j]);
            possible += pair;
            let nearest = positions[i]
                .iter()
                .flat_map(|a| positions[j].iter().map(move |b| a.abs_diff(*b)))
                .min();
            if let Some(d) = nearest {
                got += pair / (1.0 + d.saturating_sub(1) as f32 / 3.0);
            }
        }
    }
    Some(if possible > 0.0 { got / possible } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::{Alternative, Concept, Source};
    use crate::knowledge::PassageKind;

    fn passage(text: &str) -> Passage {
        Passage {
            doc: 0,
            kind: PassageKind::Paragraph,
            number: 1,
            text: text.to_string(),
            sentences: crate::knowledge::sentences(text),
        }
    }

    fn concept(terms: &[&str], forms: &[&str]) -> Concept {
        Concept {
            surface: terms.join(" "),
            alternatives: vec![Alternative {
                terms: terms.iter().map(|t| t.to_string()).collect(),
                weight: 1.0,
                source: Source::Own,
                forms: forms.iter().map(|f| f.to_string()).collect(),
            }],
        }
    }

    #[test]
    fn matches_weigh_exact_spellings_over_shared_stems_and_find_phrases() {
        let query = Query {
            concepts: vec![
                concept(&["author"], &["author"]),
                concept(&["unit", "state"], &[]),
            ],
            truncated: false,
        };
        let p = passage("The authority of the author. The United States and the states.");
        let words = PassageReader::default().passage_words(&p, "");
        let found: Vec<(usize, f32, &str)> = find_matches(&query, &words)
            .iter()
            .map(|m| (m.concept, m.weight, &p.text[m.range.clone().unwrap()]))
            .collect();
        assert_eq!(
            found,
            [
                (0, STEM_ONLY, "authority"),
                (0, 1.0, "author"),
                (1, 1.0, "United States")
            ]
        );
    }

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

    #[test]
    fn levenshtein_counts_transpositions_once() {
        for (a, b, d) in [
            ("withdrawl", "withdraw", 1),
            ("abut", "about", 1),
            ("form", "from", 1),
            ("", "ab", 2),
            ("kabulov", "kabulov", 0),
        ] {
            assert_eq!(levenshtein(a, b), d, "{a} {b}");
        }
    }
}
