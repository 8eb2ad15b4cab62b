//! Retrieval's vocabulary: what every retriever takes, what it proposes, and how a search
//! fails. A leaf: the index, the meaning layer, the ranking and the engine all speak it, and
//! it knows none of them, so that a third retriever (a remote engine for a corpus that
//! outgrows a machine) is an addition here and in the engine's list, nothing else.
//!
//! A retriever only proposes: it says which passages may answer and how strongly, on one
//! kind of evidence ([`By`]). Weighing candidates against each other and deciding whether
//! one answers is the ranking's work (`rank`), over all of them at once.

use crate::analysis::Query;
use crate::answer_type::AnswerType;

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("sentence model: {0}")]
    Embed(#[from] crate::embed::EmbedError),
    /// A panic inside the search (a damaged index file read mid-question), caught.
    #[error("the search failed: {0}")]
    Panicked(String),
}

/// The kind of evidence a retriever proposes on, which says how its scores are read: BM25
/// over the words is kept to weigh the words' side of a candidate, a cosine is read again
/// sentence by sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The question's words, scored by BM25.
    Words,
    /// The question's meaning, scored by the cosine of its best sentence.
    Meaning,
}

/// A passage a retriever proposes, with the retriever's own score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub passage: usize,
    pub score: f32,
}

/// A question as the retrievers see it: its analysed words and, when the meaning layer is
/// on, how close every sentence of the knowledge is to it.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub query: &'a Query,
    /// The cosine of the question with each sentence, in the order of the sentence vectors.
    pub meaning: Option<&'a Meaning>,
}

/// Anything that can propose candidate passages for a question: the tantivy index by words,
/// the sentence vectors by meaning, or a remote engine for a corpus that outgrows a machine.
pub trait Retriever: Send + Sync {
    /// A short name for logs and benchmarks.
    fn name(&self) -> &'static str;
    /// What its candidates' scores measure.
    fn evidence(&self) -> By;
    fn candidates(&self, question: &Question, limit: usize) -> Result<Vec<Candidate>, SearchError>;
}

/// How close in meaning each sentence of the knowledge is to a question.
#[derive(Debug, Clone, Default)]
pub struct Meaning {
    /// One cosine per sentence, row order.
    pub similarities: Vec<f32>,
    /// The rows of passage `i` are `starts[i]..starts[i + 1]`.
    pub starts: Vec<u32>,
}

impl Meaning {
    /// What a sentence the approximate index did not give reads: below every real score, so
    /// that it is never a passage's best sentence nor its excerpt, and a passage none of
    /// whose sentences was given is not proposed by meaning ([`Meaning::nearest`]). The engine
    /// scores every candidate's sentences before the ranking reads them.
    pub const UNSCORED: f32 = f32::MIN;

    /// The rows of passage `p`.
    pub fn rows_of(&self, p: usize) -> Option<std::ops::Range<usize>> {
        match (self.starts.get(p), self.starts.get(p + 1)) {
            (Some(&a), Some(&b)) if a <= b && b as usize <= self.similarities.len() => {
                Some(a as usize..b as usize)
            }
            _ => None,
        }
    }

    /// The passage whose rows hold `row`; a row past the end reads as a passage past the
    /// last, which no passage list holds.
    pub fn passage_of(&self, row: usize) -> usize {
        (self.starts.partition_point(|&s| s as usize <= row)).saturating_sub(1)
    }

    /// The cosines of passage `p`'s sentences, in order.
    pub fn of_passage(&self, p: usize) -> &[f32] {
        self.rows_of(p).map_or(&[], |rows| &self.similarities[rows])
    }

    /// The `limit` passages whose best sentence is closest, best first.
    pub fn nearest(&self, limit: usize) -> Vec<Candidate> {
        let mut best: Vec<Candidate> = (0..self.starts.len().saturating_sub(1))
            .map(|p| Candidate {
                passage: p,
                score: self.of_passage(p).iter().copied().fold(f32::MIN, f32::max),
            })
            .filter(|c| c.score > f32::MIN)
            .collect();
        let limit = limit.min(best.len());
        if limit == 0 {
            return Vec::new();
        }
        best.select_nth_unstable_by(limit - 1, |a, b| b.score.total_cmp(&a.score));
        best.truncate(limit);
        best.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.passage.cmp(&b.passage)));
        best
    }
}

/// The retriever by meaning: the passages whose best sentence is nearest to the question.
#[derive(Debug, Clone, Copy, Default)]
pub struct NearestInMeaning;

impl Retriever for NearestInMeaning {
    fn name(&self) -> &'static str {
        "semantic"
    }

    fn evidence(&self) -> By {
        By::Meaning
    }

    fn candidates(&self, question: &Question, limit: usize) -> Result<Vec<Candidate>, SearchError> {
        Ok(question.meaning.map_or_else(Vec::new, |m| m.nearest(limit)))
    }
}

/// What a conversation adds to a question: what it asks for, when the message alone says it
/// better than the resolved question, and the passage that answered the question before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hints {
    pub asks_for: Option<AnswerType>,
    pub prior: Option<usize>,
    /// For a follow-up, the words matched at full weight (the message as typed); the
    /// question's meaning is still read from the whole resolved question.
    pub focus: Option<String>,
    /// The conversation's topic, matched at a lower weight (`Tuning::topic_weight`): it tells
    /// which passages a follow-up is about, but does not answer it.
    pub topic: Vec<String>,
    /// Names a follow-up asks about ("And China?"): a passage that does not mention them
    /// does not answer it, however close it is to the topic.
    pub must_mention: Vec<String>,
    /// The document to answer from, when something other than the question chose it (a
    /// button, `ask --doc`).
    pub document: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three passages of 2, 0 and 3 sentences.
    fn meaning() -> Meaning {
        Meaning {
            similarities: vec![0.1, 0.9, 0.3, Meaning::UNSCORED, 0.5],
            starts: vec![0, 2, 2, 5],
        }
    }

    #[test]
    fn rows_and_passages_read_each_other() {
        let m = meaning();
        assert_eq!(m.rows_of(0), Some(0..2));
        assert_eq!(m.rows_of(1), Some(2..2));
        assert_eq!(m.rows_of(2), Some(2..5));
        assert_eq!(m.rows_of(3), None);
        // A passage with no rows holds none; a row past the end is past every passage.
        assert_eq!(
            (0..6).map(|r| m.passage_of(r)).collect::<Vec<_>>(),
            [0, 0, 2, 2, 2, 3]
        );
        assert_eq!(m.of_passage(2), [0.3, Meaning::UNSCORED, 0.5]);
    }

    #[test]
    fn a_passage_with_no_scored_row_is_not_proposed() {
        let m = Meaning {
            similarities: vec![0.1, Meaning::UNSCORED, Meaning::UNSCORED],
            starts: vec![0, 1, 3],
        };
        let near = m.nearest(5);
        assert_eq!(near.len(), 1);
        assert_eq!(near[0].passage, 0);
        assert_eq!(meaning().nearest(1)[0].passage, 0);
    }
}
