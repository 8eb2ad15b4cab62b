//! Each document's summary: its most central sentences, found once when the knowledge is
//! loaded, and quoted in reading order when a reader asks what the document is about.
//!
//! Centrality is LexRank (Erkan and Radev, 2004): a sentence is central when the sentences
//! like it are central, which is PageRank over the graph of sentence similarities. The
//! similarities come from the sentence vectors of the meaning layer when there is one, and
//! from the sentences' words (tf-idf) when citebot matches by words only. Only body
//! paragraphs are summarised: a caption or the note about the author says nothing of the
//! argument. A summary quotes; it never writes a sentence the document does not have.

use std::collections::HashMap;

use crate::embed::SentenceVectors;
use crate::knowledge::{Knowledge, PassageKind};
use crate::lang::Language;

/// A summary quotes at least this many sentences (when the document has that many
/// paragraphs)...
pub const FEWEST_SENTENCES: usize = 3;
/// ...and at most this many: one for every four paragraphs in between.
pub const MOST_SENTENCES: usize = 5;

/// Sentences shorter than this say too little to stand for a document ("It did not.").
const FEWEST_WORDS: usize = 6;

/// Past this many candidate sentences in one document, the similarity graph (quadratic in
/// them) is built over those nearest the document's centroid only: a book's 50,000 sentences
/// would take minutes, its 1,500 most typical a fraction of a second.
const MOST_CANDIDATES: usize = 1_500;

/// A candidate this similar to a sentence already chosen says the same again.
const REDUNDANT: f32 = 0.8;

/// The damping of the random walk, as in PageRank and in LexRank's paper.
const DAMPING: f32 = 0.85;

/// One sentence of a summary: the passage it is in and which of its sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySentence {
    /// Index into the knowledge's passages.
    pub passage: usize,
    /// Index into that passage's sentences.
    pub sentence: usize,
}

/// Every document's key sentences, in reading order.
#[derive(Debug, Clone, Default)]
pub struct Summaries(Vec<Vec<KeySentence>>);

impl Summaries {
    /// The summaries of every document of `knowledge`: by meaning with the sentence vectors
    /// `vectors` gives for a document (one row per sentence of each passage), else by words.
    pub fn of<'v>(
        knowledge: &Knowledge,
        vectors: impl Fn(usize) -> Option<&'v SentenceVectors>,
    ) -> Summaries {
        let mut candidates: Vec<Vec<KeySentence>> = vec![Vec::new(); knowledge.documents.len()];
        for (id, p) in knowledge.passages.iter().enumerate() {
            if p.kind != PassageKind::Paragraph {
                continue;
            }
            for (s, range) in p.sentences.iter().enumerate() {
                if p.text[range.clone()].split_whitespace().count() >= FEWEST_WORDS {
                    candidates[p.doc].push(KeySentence {
                        passage: id,
                        sentence: s,
                    });
                }
            }
        }
        let summaries = candidates
            .into_iter()
            .enumerate()
            .map(|(doc, sentences)| {
                let language = knowledge.documents[doc].language.language();
                let rows = match vectors(doc) {
                    Some(v) => by_meaning(knowledge, v, &sentences),
                    None => None,
                }
                .unwrap_or_else(|| by_words(knowledge, &sentences, language));
                summarise(knowledge, &sentences, rows)
            })
            .collect();
        Summaries(summaries)
    }

    /// The key sentences of document `doc`, in reading order (empty for one with no
    /// paragraph of a few words).
    pub fn of_document(&self, doc: usize) -> &[KeySentence] {
        self.0.get(doc).map(Vec::as_slice).unwrap_or_default()
    }
}

/// How many sentences a document of `paragraphs` paragraphs is summarised in.
fn wanted(paragraphs: usize) -> usize {
    (paragraphs / 4).clamp(FEWEST_SENTENCES, MOST_SENTENCES)
}

/// The key sentences among `sentences`, each a unit vector in `rows`.
fn summarise(
    knowledge: &Knowledge,
    sentences: &[KeySentence],
    rows: Vec<Vec<f32>>,
) -> Vec<KeySentence> {
    let (sentences, rows) = most_typical(sentences, rows, MOST_CANDIDATES);
    let paragraphs = {
        let mut ids: Vec<usize> = sentences.iter().map(|s| s.passage).collect();
        ids.dedup();
        ids.len()
    };
    let scores = lexrank(&rows);
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == wanted(paragraphs) {
            break;
        }
        // One sentence a paragraph, none that repeats another: a summary covers ground.
        let repeats = chosen.iter().any(|&c| {
            sentences[c].passage == sentences[i].passage || dot(&rows[c], &rows[i]) > REDUNDANT
        });
        if !repeats {
            chosen.push(i);
        }
    }
    let mut key: Vec<KeySentence> = chosen.into_iter().map(|i| sentences[i]).collect();
    key.sort_by_key(|k| (knowledge.passages[k.passage].number, k.sentence));
    key
}

/// The `most` sentences nearest the centroid of them all, in their order; all of them when
/// there are no more.
fn most_typical(
    sentences: &[KeySentence],
    rows: Vec<Vec<f32>>,
    most: usize,
) -> (Vec<KeySentence>, Vec<Vec<f32>>) {
    if rows.len() <= most {
        return (sentences.to_vec(), rows);
    }
    let dim = rows[0].len();
    let mut centroid = vec![0.0f32; dim];
    for row in &rows {
        for (c, x) in centroid.iter_mut().zip(row) {
            *c += x;
        }
    }
    let mut nearest: Vec<usize> = (0..rows.len()).collect();
    nearest.sort_by(|&a, &b| dot(&rows[b], &centroid).total_cmp(&dot(&rows[a], &centroid)));
    nearest.truncate(most);
    nearest.sort_unstable();
    let kept = nearest.iter().map(|&i| sentences[i]).collect();
    let mut rows: Vec<Option<Vec<f32>>> = rows.into_iter().map(Some).collect();
    let kept_rows = nearest.iter().filter_map(|&i| rows[i].take()).collect();
    (kept, kept_rows)
}

/// Continuous LexRank: the stationary distribution of a walk over the sentences, each step
/// to a sentence in proportion to its (positive) similarity, or anywhere with probability
/// 1 - [`DAMPING`].
fn lexrank(rows: &[Vec<f32>]) -> Vec<f32> {
    let n = rows.len();
    if n == 0 {
        return Vec::new();
    }
    let mut weights = vec![0.0f32; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let w = dot(&rows[i], &rows[j]).max(0.0);
            weights[i * n + j] = w;
            weights[j * n + i] = w;
        }
    }
    let out_weight: Vec<f32> = (0..n)
        .map(|i| weights[i * n..(i + 1) * n].iter().sum())
        .collect();
    let uniform = 1.0 / n as f32;
    let mut score = vec![uniform; n];
    for _ in 0..100 {
        let mut next = vec![(1.0 - DAMPING) * uniform; n];
        for i in 0..n {
            if out_weight[i] == 0.0 {
                // A sentence like no other hands its share to all alike.
                next.iter_mut()
                    .for_each(|x| *x += DAMPING * score[i] * uniform);
                continue;
            }
            let share = DAMPING * score[i] / out_weight[i];
            for (x, w) in next.iter_mut().zip(&weights[i * n..(i + 1) * n]) {
                *x += share * w;
            }
        }
        let change: f32 = next.iter().zip(&score).map(|(a, b)| (a - b).abs()).sum();
        score = next;
        if change < 1e-6 {
            break;
        }
    }
    score
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The sentences' vectors, when the layer has one a sentence (it embeds a passage whole
/// when it found no sentence in it, and then none of these is among the candidates).
fn by_meaning(
    knowledge: &Knowledge,
    vectors: &SentenceVectors,
    sentences: &[KeySentence],
) -> Option<Vec<Vec<f32>>> {
    sentences
        .iter()
        .map(|k| {
            let rows = vectors.rows(k.passage);
            let passage = &knowledge.passages[k.passage];
            (rows.len() == passage.sentences.len())
                .then(|| vectors.row(rows.start + k.sentence).to_vec())
        })
        .collect()
}

/// Each sentence as a unit tf-idf vector of its words, stop words aside, over the words of
/// the document's candidate sentences.
fn by_words(
    knowledge: &Knowledge,
    sentences: &[KeySentence],
    language: &Language,
) -> Vec<Vec<f32>> {
    let words: Vec<Vec<String>> = sentences
        .iter()
        .map(|k| {
            let p = &knowledge.passages[k.passage];
            p.text[p.sentences[k.sentence].clone()]
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_lowercase)
                .filter(|w| !w.is_empty() && !language.is_stop_word(w))
                .collect()
        })
        .collect();
    let mut vocabulary: HashMap<&str, (usize, usize)> = HashMap::new(); // word → (column, df)
    for sentence in &words {
        let mut seen: Vec<&str> = sentence.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            let next = vocabulary.len();
            vocabulary.entry(w).or_insert((next, 0)).1 += 1;
        }
    }
    let n = sentences.len() as f32;
    words
        .iter()
        .map(|sentence| {
            let mut row = vec![0.0f32; vocabulary.len()];
            for w in sentence {
                let (column, df) = vocabulary[w.as_str()];
                row[column] += (n / df as f32).ln() + 1.0;
            }
            let norm = dot(&row, &row).sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|x| *x /= norm);
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_most_like_the_others_ranks_first() {
        // Three sentences near one direction and one far from it: the middle of the cluster
        // is the most central, the outlier the least.
        let rows = vec![
            unit(&[1.0, 0.1, 0.0]),
            unit(&[1.0, 0.0, 0.0]),
            unit(&[1.0, -0.1, 0.0]),
            unit(&[0.0, 0.0, 1.0]),
        ];
        let scores = lexrank(&rows);
        let best = (0..4).max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let worst = (0..4).min_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        assert_eq!((best, worst), (Some(1), Some(3)), "{scores:?}");
        let total: f32 = scores.iter().sum();
        assert!((total - 1.0).abs() < 1e-3, "a distribution: {total}");
    }

    #[test]
    fn a_graph_with_no_edges_ranks_all_alike() {
        let rows = vec![unit(&[1.0, 0.0]), unit(&[0.0, 1.0])];
        let scores = lexrank(&rows);
        assert!((scores[0] - scores[1]).abs() < 1e-6, "{scores:?}");
        assert!(lexrank(&[]).is_empty());
    }

    #[test]
    fn a_summary_is_three_to_five_sentences() {
        assert_eq!(wanted(1), 3);
        assert_eq!(wanted(17), 4);
        assert_eq!(wanted(200), 5);
    }

    #[test]
    fn past_the_limit_the_sentences_nearest_the_centroid_are_kept_in_order() {
        let sentences: Vec<KeySentence> = (0..4)
            .map(|i| KeySentence {
                passage: i,
                sentence: 0,
            })
            .collect();
        let rows = vec![
            unit(&[0.0, 1.0]),
            unit(&[1.0, 0.1]),
            unit(&[1.0, 0.0]),
            unit(&[1.0, -0.1]),
        ];
        let (kept, rows) = most_typical(&sentences, rows, 2);
        assert_eq!(kept.len(), 2);
        assert_eq!(rows.len(), 2);
        assert!(kept.iter().all(|k| k.passage != 0), "{kept:?}");
        assert!(kept[0].passage < kept[1].passage);
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let norm = dot(v, v).sqrt();
        v.iter().map(|x| x / norm).collect()
    }
}
