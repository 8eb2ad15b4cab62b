//! Ranking: scoring a candidate passage on the question's words and on its meaning, fusing
//! the two, and reading what the best few hits show the decision (`verdict` weighs it into
//! one confidence). Pure functions over plain data: the index and the model have done their
//! work before anything here runs.
//!
//! Words: BM25 picks candidates, and each candidate's words are read again to reward what
//! BM25 cannot see: how much of the question it covers, whether one to three consecutive
//! sentences cover it (the excerpt that will be shown), and whether the question's words
//! stand close together. Meaning: the cosine of the question's vector with the passage's best
//! sentence. The fused score is a weighted sum of the two, and the excerpt is the window of
//! sentences that is best on both.
//!
//! How sure an answer is rests on both signals too, and on what the question asks for (see
//! `answer_type`): a passage about the same things that lacks the number or the date the
//! question wants is less likely to answer it. The rules that once refused on their own (the
//! thresholds of [`AnswerPolicy`]) are now signs among the others ([`AnswerPolicy::features`]);
//! the weights were fitted on the tuning part of the project's own question sets, and
//! docs/retrieval.md gives the figures.

use std::collections::HashMap;
use std::ops::Range;

use tantivy::tokenizer::TextAnalyzer;

use crate::analysis::{self, Alternative, Query, StemmerFn, Vocabulary};
use crate::answer_type::AnswerType;
use crate::knowledge::{Knowledge, Passage, PassageKind};
use crate::verdict::{self, Confidence, Decision, Features};

/// An excerpt of several sentences stays under this many characters.
pub const MAX_EXCERPT_CHARS: usize = 400;

/// Every weight and threshold of the ranking and of the decision to answer, in one place,
/// with the values the tune sets chose as its `Default` (docs/retrieval.md gives the figures
/// that chose them). `citebot eval --tuning FILE` reads a TOML file of any of these fields,
/// so that a sweep needs no recompiling.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tuning {
    /// How many candidates the ranking takes from the retriever by words...
    pub word_candidates: usize,
    /// ...and from the retriever by meaning.
    pub meaning_candidates: usize,
    /// Past this many passages, a document kept to is searched through the retrievers'
    /// candidates only; below, every passage of it is weighed (a few dozen cost nothing).
    pub weigh_whole_document: usize,
    /// The weight of a match on the stem only, relative to a match on the very word.
    pub stem_only: f32,
    /// The words' score: BM25 over the best candidate's...
    pub bm25_weight: f32,
    /// ...the share of the question's informative weight the passage covers...
    pub coverage_weight: f32,
    /// ...the share its excerpt covers...
    pub window_weight: f32,
    /// ...and how close together the question's words stand.
    pub proximity_weight: f32,
    /// The weight of meaning in the fused score; words have the rest.
    pub meaning_weight: f32,
    /// How much a topic word of a follow-up weighs beside a word of the follow-up itself.
    pub topic_weight: f32,
    /// How much the passage that answered the question before is preferred for a follow-up:
    /// enough to win a near tie, not enough to beat a passage that answers clearly better.
    pub prior_bonus: f32,
    /// How close in meaning (multilingual-e5-small's cosine, as it comes) a question's word
    /// and a word of the knowledge in another language must be for the one to be read as
    /// the other (`bridge`). Swept on the tune part of `questions_ru`: docs/retrieval.md.
    pub translation_min_cosine: f32,
    /// What the decision reads of a hit.
    pub policy: AnswerPolicy,
    /// How sure a hit answers, with the meaning layer on: weights and cut points
    /// (`verdict`, fitted by `citebot fit`)...
    pub confidence: Confidence,
    /// ...and with words only (`SEMANTIC=off`).
    pub confidence_words_only: Confidence,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            word_candidates: 30,
            meaning_candidates: 10,
            weigh_whole_document: 200,
            stem_only: 0.85,
            bm25_weight: 0.1,
            coverage_weight: 0.4,
            window_weight: 0.35,
            proximity_weight: 0.15,
            meaning_weight: 0.5,
            topic_weight: 0.5,
            prior_bonus: 0.05,
            translation_min_cosine: 0.88,
            policy: AnswerPolicy::default(),
            confidence: Confidence::with_meaning(),
            confidence_words_only: Confidence::words_only(),
        }
    }
}

impl Tuning {
    /// The decision on `hits` (best ranked first): which leads, how sure, and what the reader
    /// is told; with what each hit weighed showed, beside its passage.
    pub fn decide(
        &self,
        hits: &[Hit],
        asked: &QuestionFacts,
        knowledge: &Knowledge,
    ) -> (Decision, Vec<(usize, Features)>) {
        let weighed = self.policy.features(hits, asked, knowledge);
        let model = match hits.first().map(|h| h.signals.semantic) {
            Some(None) => &self.confidence_words_only,
            _ => &self.confidence,
        };
        let features: Vec<Features> = weighed.iter().map(|(_, f)| *f).collect();
        let mut decision = verdict::decide(model, &features);
        // The decision's indexes are into the hits weighed: make them the hits'.
        decision.best = decision.best.map(|i| weighed[i].0);
        decision.leader = decision.leader.map(|i| weighed[i].0);
        let weighed = weighed
            .into_iter()
            .map(|(i, f)| (hits[i].passage, f))
            .collect();
        (decision, weighed)
    }
}

/// Why a tuning file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TuningError {
    #[error("{0}: {1}")]
    Read(std::path::PathBuf, std::io::Error),
    /// Where (the line) and what, on one line: toml's own message quotes the file.
    #[error("{0}: line {1}: {2}")]
    Parse(std::path::PathBuf, usize, String),
}

impl Tuning {
    /// The defaults, with the fields `path` (TOML) sets.
    pub fn load(path: &std::path::Path) -> Result<Tuning, TuningError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| TuningError::Read(path.to_path_buf(), e))?;
        toml::from_str(&text).map_err(|e| {
            let at = e.span().map_or(0, |span| span.start);
            let line = text
                .get(..at)
                .map_or(0, |before| before.matches('\n').count())
                + 1;
            TuningError::Parse(path.to_path_buf(), line, e.message().to_string())
        })
    }
}

/// The thresholds of the answer rules, on words, on meaning, or on both: whether they pass is
/// one sign among those the confidence weighs ([`AnswerPolicy::features`]), no longer a veto.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerPolicy {
    /// Words only: the share of the question's informative weight a passage must cover.
    pub min_coverage: f32,
    /// Words only: with at least this share of the question's concepts found...
    pub most_words: f32,
    /// ...a passage needs only this share of the informative weight.
    pub min_coverage_most_words: f32,
    /// A passage whose best sentence is this close in meaning answers on meaning alone.
    pub meaning_alone: f32,
    /// Closer than this in meaning, a passage answers when its words cover a part of the
    /// question...
    pub meaning_with_words: f32,
    /// ...that part.
    pub words_with_meaning: f32,
    /// Below this, a passage whose words cover the question still does not answer: the words
    /// are there, the meaning is another.
    pub meaning_floor: f32,
    /// How many of the best hits the decision weighs: the one it is surest of leads.
    pub type_checked: usize,
    /// Passages after the first (`--top`, "Next match") need less lexical coverage: the user
    /// asked for more...
    pub another_coverage: f32,
    /// ...or this much meaning when their words do not qualify them.
    pub another_meaning: f32,
}

impl Default for AnswerPolicy {
    fn default() -> Self {
        AnswerPolicy {
            min_coverage: 0.5,
            most_words: 0.75,
            min_coverage_most_words: 0.4,
            meaning_alone: 0.62,
            meaning_with_words: 0.5,
            words_with_meaning: 0.2,
            meaning_floor: 0.25,
            type_checked: 3,
            another_coverage: 0.3,
            another_meaning: 0.4,
        }
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
pub fn find_matches(query: &Query, words: &PassageWords, stem_only: f32) -> Vec<Match> {
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
                    weight: alt.weight * if exact { 1.0 } else { stem_only },
                    range: in_text.then_some(tok.range.start..end),
                    position: tok.position,
                });
            }
        }
    }
    out
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

/// Why a passage won: its score on words and on meaning, each from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Signals {
    pub lexical: f32,
    /// `None` when the meaning layer is off.
    pub semantic: Option<f32>,
}

/// A ranked passage.
#[derive(Debug, Clone)]
pub struct Hit {
    pub passage: usize,
    pub score: f32,
    pub signals: Signals,
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
    /// Whether the passage is what the document says of itself (its metadata, the note on
    /// its author) rather than its text.
    pub on_the_document: bool,
}

/// What the decision reads of a question, beside its hits.
pub struct QuestionFacts<'a> {
    /// The question as searched (resolved, for a follow-up).
    pub question: &'a str,
    /// What it asks for: a time, a number, a person...
    pub asks_for: &'a AnswerType,
    /// The informative weight of each concept: the message's own first, then its topic's.
    pub weights: &'a [f32],
    /// How many of the concepts are the message's own; the rest are its topic's.
    pub own_concepts: usize,
    /// A follow-up: its own words are matched at full weight, its topic's at less.
    pub follow_up: bool,
    /// A yes-or-no follow-up ("Is she married?").
    pub yes_no: bool,
    /// The passage that answered the question before.
    pub prior: Option<usize>,
    /// For each name a follow-up asks about ("And China?"), the concepts that stand for it
    /// (the word, a synonym, a typo's correction): a hit must match one of each.
    pub named: Vec<Vec<usize>>,
    /// The concepts that stand for what a number question counts ("weapons", and with it
    /// its synonyms): a count of any of them answers.
    pub counted: Vec<usize>,
}

impl AnswerPolicy {
    /// Whether the words alone answer: enough of the question's informative weight, or nearly
    /// all of its words and a little less weight. The second way lets a question through when
    /// one paraphrased word ("think", "job") is nowhere in the knowledge, which makes it weigh
    /// as much as a word can; a question about something else entirely ("the weather
    /// tomorrow") finds at most one word in a passage.
    pub fn answers_by_words(&self, hit: &Hit) -> bool {
        hit.window_coverage >= self.min_coverage
            || (hit.found >= self.most_words && hit.window_coverage >= self.min_coverage_most_words)
    }

    /// Whether the passage answers the question, on both signals (on words alone when the
    /// meaning layer is off). It does not look at what the question asks for: the engine
    /// checks that on the excerpt.
    pub fn answers(&self, hit: &Hit) -> bool {
        match hit.signals.semantic {
            None => self.answers_by_words(hit),
            Some(meaning) => {
                meaning >= self.meaning_alone
                    || (meaning >= self.meaning_with_words
                        && hit.window_coverage >= self.words_with_meaning)
                    || (meaning >= self.meaning_floor && self.answers_by_words(hit))
                    // The model relates a question about the document ("Who wrote this
                    // piece?") poorly to what the document says of itself (0.19 to the note
                    // that names its author), so there words may answer alone.
                    || (hit.on_the_document && self.answers_by_words(hit))
            }
        }
    }

    /// Whether a passage after the first is worth showing as another match.
    pub fn is_another_match(&self, hit: &Hit) -> bool {
        hit.coverage >= self.another_coverage
            || hit
                .signals
                .semantic
                .is_some_and(|m| m >= self.another_meaning)
    }

    /// What the decision reads of each of the best few `hits` (at most `type_checked`),
    /// best ranked first, with each one's index in `hits`: the rules above are among the
    /// signs, no longer vetoes. A hit that matches only the words of the title quoted in
    /// the metadata passage is not weighed at all: such a question asks about the article's
    /// subject, not about the article (see [`only_the_title`]).
    pub fn features(
        &self,
        hits: &[Hit],
        asked: &QuestionFacts,
        knowledge: &Knowledge,
    ) -> Vec<(usize, Features)> {
        // The ranking as the decision sees it: without the hits among the first few that
        // match only the title.
        let ranked: Vec<(usize, &Hit)> = hits
            .iter()
            .enumerate()
            .filter(|&(i, h)| {
                i >= self.type_checked
                    || !only_the_title(h, &knowledge.passages[h.passage], asked, knowledge)
            })
            .collect();
        let question_language = crate::lang::Lang::detect(asked.question);
        ranked
            .iter()
            .take(self.type_checked)
            .enumerate()
            .map(|(place, &(i, h))| {
                let passage = &knowledge.passages[h.passage];
                let others = || ranked.iter().filter(move |&&(j, _)| j != i);
                let best_other = others().map(|(_, o)| o.score).fold(0.0f32, f32::max);
                let meaning = h.signals.semantic.unwrap_or(0.0);
                let best_other_meaning = others()
                    .filter_map(|(_, o)| o.signals.semantic)
                    .fold(0.0f32, f32::max);
                let language = knowledge.document(passage).language;
                let features = Features {
                    meaning,
                    window_coverage: h.window_coverage,
                    coverage: h.coverage,
                    found: h.found,
                    lead: h.score - best_other,
                    meaning_lead: meaning - best_other_meaning,
                    score: h.score,
                    lexical: h.signals.lexical,
                    across_languages: question_language.is_some_and(|q| q != language),
                    faint_meaning: h
                        .signals
                        .semantic
                        .is_some_and(|m| m < verdict::FAINT_MEANING),
                    first: place == 0,
                    holds: holds(h, passage, asked),
                    rules: self.answers(h) || self.follow_up_answers(h, passage, asked),
                    on_the_document: h.on_the_document,
                    follow_up: asked.follow_up,
                    says_nothing: self.says_nothing_of(h, passage, asked),
                };
                (i, features)
            })
            .collect()
    }

    /// A follow-up ("What did he warn Trump about?") also answers when the excerpt holds
    /// what the message itself asks (its own words), in a passage on the topic, close enough
    /// in meaning: its topic words weigh less, so on the usual rule it would need more of
    /// them than an answer repeats.
    fn follow_up_answers(&self, h: &Hit, passage: &Passage, asked: &QuestionFacts) -> bool {
        let (weights, own) = (asked.weights, asked.own_concepts);
        asked.follow_up
            && own > 0
            && h.signals.semantic.is_none_or(|m| m >= self.meaning_floor)
            && (Some(h.passage) == asked.prior
                || window_share(h, passage, weights, own..weights.len()) > 0.0)
            && window_share(h, passage, weights, 0..own) >= self.min_coverage
    }

    /// A yes-or-no follow-up ("Is she married?") has no kind of thing to check, only whether
    /// what it says holds: an excerpt holding none of its own words, and not close in meaning
    /// on its own, says nothing of it however close it is to the topic.
    fn says_nothing_of(&self, h: &Hit, passage: &Passage, asked: &QuestionFacts) -> bool {
        asked.yes_no
            && asked.own_concepts > 0
            && h.signals.semantic.is_none_or(|m| m < self.meaning_alone)
            && window_share(h, passage, asked.weights, 0..asked.own_concepts) <= 0.0
    }
}

/// Whether `h`'s excerpt holds what the question asks for ("when" wants a time, "how many
/// troops" a number of troops, or of what a synonym names) and mentions each name a
/// follow-up asks about.
fn holds(h: &Hit, passage: &Passage, asked: &QuestionFacts) -> bool {
    let bytes = window_bytes(passage, &h.window);
    // Where the excerpt names what the question counts, by the word or another, in the
    // question's language or the excerpt's (relative to the excerpt, as the check reads it).
    // A capitalised word is a name, which a number does not count: "сколько тонн опиума
    // Афганистан производит" matches "Afghanistan", and "in 2016 Afghanistan" is no count.
    let also_counted: Vec<Range<usize>> = h
        .matches
        .iter()
        .filter(|m| asked.counted.contains(&m.concept))
        .filter_map(|m| m.range.clone())
        .filter(|r| bytes.start <= r.start && r.end <= bytes.end)
        .filter(|r| {
            passage.text[r.clone()]
                .chars()
                .next()
                .is_some_and(|c| !c.is_uppercase())
        })
        .map(|r| r.start - bytes.start..r.end - bytes.start)
        .collect();
    asked
        .asks_for
        .found_counting(&passage.text[bytes], asked.question, &also_counted)
        && asked
            .named
            .iter()
            .all(|concepts| h.matches.iter().any(|m| concepts.contains(&m.concept)))
}

/// The metadata passage quotes the title, which says what the whole article is about: a
/// question that matches only the title's words ("Why is Russia preparing to go it alone?")
/// asks about that subject, not about the article, unless it speaks of the article and names
/// it by its title ("Who wrote the piece on the Balkans?"). The question is read for document
/// words only once a hit matches nothing but the title: most questions never get that far.
fn only_the_title(
    h: &Hit,
    passage: &Passage,
    asked: &QuestionFacts,
    knowledge: &Knowledge,
) -> bool {
    knowledge.quoted_title(passage).is_some_and(|title| {
        !h.matches.is_empty()
            && h.matches.iter().all(|m| {
                m.range
                    .as_ref()
                    .is_some_and(|r| title.start <= r.start && r.end <= title.end)
            })
    }) && !analysis::speaks_of_a_document(asked.question)
}

/// Covered weight: each concept counts once, by the best alternative found.
fn covered(matches: &[Match], weights: &[f32], within: impl Fn(&Match) -> bool) -> f32 {
    let mut best = vec![0.0f32; weights.len()];
    for m in matches.iter().filter(|m| within(m)) {
        best[m.concept] = best[m.concept].max(m.weight);
    }
    best.iter().zip(weights).map(|(b, w)| b * w).sum()
}

/// The share of the weight of `concepts` that `hit`'s excerpt window covers: for a
/// follow-up, how much of what the message itself asks the answer holds.
pub fn window_share(hit: &Hit, passage: &Passage, weights: &[f32], concepts: Range<usize>) -> f32 {
    let bytes = window_bytes(passage, &hit.window);
    let masked: Vec<f32> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| if concepts.contains(&i) { *w } else { 0.0 })
        .collect();
    let total: f32 = masked.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    covered(&hit.matches, &masked, |m| {
        m.range
            .as_ref()
            .is_none_or(|r| r.start >= bytes.start && r.end <= bytes.end)
    }) / total
}

/// What the ranking knows of one candidate before scoring it.
pub struct Evidence<'a> {
    pub passage_id: usize,
    pub passage: &'a Passage,
    pub matches: Vec<Match>,
    /// The candidate's BM25 score over the best candidate's (0 when BM25 did not propose it).
    pub bm25: f32,
    /// The cosine of each of the passage's sentences with the question (meaning layer on).
    pub meaning: Option<&'a [f32]>,
}

/// Scores one candidate on words and meaning, and picks its excerpt window.
pub fn score(evidence: Evidence, weights: &[f32], tuning: &Tuning) -> Hit {
    let Evidence {
        passage_id,
        passage,
        matches,
        bm25,
        meaning,
    } = evidence;
    let total: f32 = weights.iter().sum::<f32>().max(f32::EPSILON);
    let coverage = covered(&matches, weights, |_| true) / total;
    let found = weights
        .iter()
        .enumerate()
        .filter(|(i, _)| matches.iter().any(|m| m.concept == *i))
        .count() as f32
        / weights.len().max(1) as f32;
    let proximity = proximity(&matches, weights).unwrap_or(coverage);
    let semantic = meaning.map(|m| m.iter().copied().fold(0.0f32, f32::max));
    // The share of the question's weight that sentences `window` (at `bytes`) cover.
    let words_value = |window: &Range<usize>, bytes: &Range<usize>| {
        if window.is_empty() {
            return 0.0;
        }
        covered(&matches, weights, |m| {
            m.range
                .as_ref()
                .is_none_or(|r| r.start >= bytes.start && r.end <= bytes.end)
        }) / total
    };
    // The excerpt: on words alone, the window that covers the question best; with meaning,
    // the window best on both, so a paraphrased question still gets the sentences that
    // answer it.
    let window = best_window(passage, MAX_EXCERPT_CHARS, |w, bytes| {
        let words = words_value(w, bytes);
        match meaning {
            None => words,
            Some(m) => {
                let near = m
                    .get(w.clone())
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .fold(0.0, f32::max);
                (1.0 - tuning.meaning_weight) * words + tuning.meaning_weight * near
            }
        }
    });
    let window_covered = words_value(&window.0, &window_bytes(passage, &window.0));
    // Whether it answers is decided on up to three sentences however long: the excerpt may
    // then be trimmed around the marked words.
    let answer_covered = best_window(passage, usize::MAX, words_value).1;
    let lexical = tuning.bm25_weight * bm25
        + tuning.coverage_weight * coverage
        + tuning.window_weight * window_covered
        + tuning.proximity_weight * proximity;
    let score = match semantic {
        None => lexical,
        Some(m) => (1.0 - tuning.meaning_weight) * lexical + tuning.meaning_weight * m,
    };
    Hit {
        passage: passage_id,
        score,
        signals: Signals { lexical, semantic },
        coverage,
        found,
        window_coverage: answer_covered,
        window: window.0,
        matches,
        on_the_document: matches!(passage.kind, PassageKind::About | PassageKind::AuthorNote),
    }
}

/// The byte range of sentences `window` of `passage` (the whole text when it has none).
pub fn window_bytes(passage: &Passage, window: &Range<usize>) -> Range<usize> {
    match (
        passage.sentences.get(window.start),
        window
            .end
            .checked_sub(1)
            .and_then(|e| passage.sentences.get(e)),
    ) {
        (Some(first), Some(last)) => first.start..last.end,
        _ => 0..passage.text.len(),
    }
}

/// The one to three consecutive sentences with the highest `value`, preferring fewer
/// sentences, and within `max_chars` when more than one.
fn best_window(
    passage: &Passage,
    max_chars: usize,
    value: impl Fn(&Range<usize>, &Range<usize>) -> f32,
) -> (Range<usize>, f32) {
    let s = &passage.sentences;
    let mut best = (0..s.len().min(1), f32::MIN);
    for start in 0..s.len() {
        for end in start + 1..=(start + 3).min(s.len()) {
            let bytes = s[start].start..s[end - 1].end;
            if end - start > 1 && passage.text[bytes.clone()].chars().count() > max_chars {
                break;
            }
            let v = value(&(start..end), &bytes);
            // A longer window must be strictly better to be worth its length.
            let shorter = end - start < best.0.len();
            if v > best.1 + 1e-4 || (v > best.1 - 1e-4 && shorter) {
                best = (start..end, v);
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

    fn passage(text: &str) -> Passage {
        Passage {
            doc: 0,
            kind: PassageKind::Paragraph,
            number: 1,
            text: text.to_string(),
            sentences: crate::knowledge::sentences(text),
            page: None,
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
        let stem_only = Tuning::default().stem_only;
        let found: Vec<(usize, f32, &str)> = find_matches(&query, &words, stem_only)
            .iter()
            .map(|m| (m.concept, m.weight, &p.text[m.range.clone().unwrap()]))
            .collect();
        assert_eq!(
            found,
            [
                (0, stem_only, "authority"),
                (0, 1.0, "author"),
                (1, 1.0, "United States")
            ]
        );
    }

    /// "Who wrote this piece?": its words are in the note on the author, its meaning is far
    /// (0.19). That answers from the note, and would not from the text.
    #[test]
    fn words_alone_answer_from_what_the_document_says_of_itself() {
        let hit = |on_the_document| Hit {
            passage: 0,
            score: 0.4,
            signals: Signals {
                lexical: 0.6,
                semantic: Some(0.19),
            },
            coverage: 0.6,
            found: 1.0,
            window_coverage: 0.6,
            window: 0..1,
            matches: Vec::new(),
            on_the_document,
        };
        let policy = AnswerPolicy::default();
        assert!(policy.answers(&hit(true)));
        assert!(!policy.answers(&hit(false)));
        let weak_words = Hit {
            window_coverage: 0.3,
            found: 0.5,
            ..hit(true)
        };
        assert!(!policy.answers(&weak_words));
    }

    #[test]
    fn a_tuning_file_overrides_the_fields_it_names_and_refuses_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tuning.toml");
        std::fs::write(
            &path,
            "topic_weight = 0.25\n[policy]\nmeaning_alone = 0.7\n",
        )
        .unwrap();
        let tuning = Tuning::load(&path).unwrap();
        assert_eq!(tuning.topic_weight, 0.25);
        assert_eq!(tuning.policy.meaning_alone, 0.7);
        let defaults = Tuning::default();
        assert_eq!(tuning.word_candidates, defaults.word_candidates);
        assert_eq!(tuning.policy.min_coverage, defaults.policy.min_coverage);

        std::fs::write(&path, "meaning_alone = 0.7\n").unwrap();
        let error = Tuning::load(&path).unwrap_err().to_string();
        assert!(error.contains("unknown field"), "{error}");

        // The defaults, written out, read back the same: a sweep can start from them.
        let written = toml::to_string(&defaults).unwrap();
        assert_eq!(toml::from_str::<Tuning>(&written).unwrap(), defaults);
    }
}
