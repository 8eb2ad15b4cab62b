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

use crate::embed::{dot, SentenceVectors};
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

/// Bumped when the way summaries are chosen changes: summaries kept from before are made
/// again.
pub const FORMAT: u32 = 1;

/// One sentence of a summary: the passage it is in and which of its sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeySentence {
    /// Index into the knowledge's passages.
    pub passage: usize,
    /// Index into that passage's sentences.
    pub sentence: usize,
}

/// Every document's key sentences, in reading order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summaries(Vec<Vec<KeySentence>>);

impl Summaries {
    /// The summaries of every document of `knowledge`: by meaning with the sentence vectors
    /// `vectors` gives for a document (one row per sentence of each passage), else by words.
    pub fn of<'v>(
        knowledge: &Knowledge,
        vectors: impl Fn(usize) -> Option<&'v SentenceVectors> + Sync,
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
        // A document's summary is its own work: the documents are shared out over the cores
        // (a hundred documents of ten thousand sentences each take seconds).
        use rayon::prelude::*;
        let summarise_one = |(doc, sentences): (usize, Vec<KeySentence>)| {
            let language = knowledge.documents[doc].language.language();
            let rows = match vectors(doc) {
                Some(v) => by_meaning(knowledge, v, &sentences).map(Rows::Dense),
                None => None,
            }
            .unwrap_or_else(|| Rows::Sparse(by_words(knowledge, &sentences, language)));
            summarise(knowledge, &sentences, rows)
        };
        let summaries = crate::threads::pool().install(|| {
            (candidates.into_par_iter().enumerate())
                .map(summarise_one)
                .collect()
        });
        Summaries(summaries)
    }

    /// The summaries as kept in a file ([`Summaries::read`] reads them back).
    pub fn write(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Summaries kept in a file, when they are summaries of `knowledge`: one per document,
    /// each sentence one of a body paragraph's. `None` for anything else (made again).
    pub fn read(text: &str, knowledge: &Knowledge) -> Option<Summaries> {
        let summaries: Summaries = serde_json::from_str(text).ok()?;
        let fits = summaries.0.len() == knowledge.documents.len()
            && (summaries.0.iter().enumerate()).all(|(doc, key)| {
                key.iter().all(|k| {
                    knowledge.passages.get(k.passage).is_some_and(|p| {
                        p.doc == doc
                            && p.kind == PassageKind::Paragraph
                            && k.sentence < p.sentences.len()
                    })
                })
            });
        fits.then_some(summaries)
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
fn summarise(knowledge: &Knowledge, sentences: &[KeySentence], rows: Rows) -> Vec<KeySentence> {
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
            sentences[c].passage == sentences[i].passage || rows.similarity(c, i) > REDUNDANT
        });
        if !repeats {
            chosen.push(i);
        }
    }
    let mut key: Vec<KeySentence> = chosen.into_iter().map(|i| sentences[i]).collect();
    key.sort_by_key(|k| (knowledge.passages[k.passage].number, k.sentence));
    key
}

/// Each sentence as a unit vector: of the meaning layer (dense), or of its words' tf-idf
/// (sparse: a document's vocabulary has tens of thousands of words, a sentence a few dozen).
enum Rows {
    Dense(Vec<Vec<f32>>),
    /// Each row's (column, weight), by column.
    Sparse(Vec<Vec<(u32, f32)>>),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Dense(rows) => rows.len(),
            Rows::Sparse(rows) => rows.len(),
        }
    }

    /// The cosine of rows `i` and `j`.
    fn similarity(&self, i: usize, j: usize) -> f32 {
        match self {
            Rows::Dense(rows) => dot(&rows[i], &rows[j]),
            Rows::Sparse(rows) => sparse_dot(&rows[i], &rows[j]),
        }
    }

    /// Each row's dot product with the sum of them all.
    fn typicality(&self) -> Vec<f32> {
        match self {
            Rows::Dense(rows) => {
                let mut centroid = vec![0.0f32; rows.first().map_or(0, Vec::len)];
                for row in rows {
                    for (c, x) in centroid.iter_mut().zip(row) {
                        *c += x;
                    }
                }
                rows.iter().map(|row| dot(row, &centroid)).collect()
            }
            Rows::Sparse(rows) => {
                let columns = rows.iter().flatten().map(|&(c, _)| c as usize + 1).max();
                let mut centroid = vec![0.0f32; columns.unwrap_or(0)];
                for &(c, x) in rows.iter().flatten() {
                    centroid[c as usize] += x;
                }
                (rows.iter())
                    .map(|row| row.iter().map(|&(c, x)| x * centroid[c as usize]).sum())
                    .collect()
            }
        }
    }

    /// The rows `keep` (in that order), the others dropped.
    fn keep(self, keep: &[usize]) -> Rows {
        fn pick<T>(rows: Vec<T>, keep: &[usize]) -> Vec<T> {
            let mut rows: Vec<Option<T>> = rows.into_iter().map(Some).collect();
            keep.iter().filter_map(|&i| rows[i].take()).collect()
        }
        match self {
            Rows::Dense(rows) => Rows::Dense(pick(rows, keep)),
            Rows::Sparse(rows) => Rows::Sparse(pick(rows, keep)),
        }
    }
}

/// The `most` sentences nearest the centroid of them all, in their order; all of them when
/// there are no more.
fn most_typical(sentences: &[KeySentence], rows: Rows, most: usize) -> (Vec<KeySentence>, Rows) {
    if rows.len() <= most {
        return (sentences.to_vec(), rows);
    }
    let typicality = rows.typicality();
    let mut nearest: Vec<usize> = (0..rows.len()).collect();
    nearest.sort_by(|&a, &b| typicality[b].total_cmp(&typicality[a]));
    nearest.truncate(most);
    nearest.sort_unstable();
    let kept = nearest.iter().map(|&i| sentences[i]).collect();
    (kept, rows.keep(&nearest))
}

/// Continuous LexRank: the stationary distribution of a walk over the sentences, each step
/// to a sentence in proportion to its (positive) similarity, or anywhere with probability
/// 1 - [`DAMPING`].
fn lexrank(rows: &Rows) -> Vec<f32> {
    let n = rows.len();
    if n == 0 {
        return Vec::new();
    }
    let mut weights = vec![0.0f32; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let w = rows.similarity(i, j).max(0.0);
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

/// The dot product of two sparse rows, each by column.
fn sparse_dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while let (Some(&(ca, xa)), Some(&(cb, xb))) = (a.get(i), b.get(j)) {
        match ca.cmp(&cb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += xa * xb;
                i += 1;
                j += 1;
            }
        }
    }
    sum
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
) -> Vec<Vec<(u32, f32)>> {
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
            let mut row: Vec<(u32, f32)> = Vec::with_capacity(sentence.len());
            for w in sentence {
                let (column, df) = vocabulary[w.as_str()];
                row.push((column as u32, (n / df as f32).ln() + 1.0));
            }
            // A word said twice weighs twice, in one column.
            row.sort_by_key(|&(c, _)| c);
            row.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    kept.1 += later.1;
                }
                same
            });
            // Summed in column order, one at a time, as the dense rows were.
            let norm = row.iter().map(|&(_, x)| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|(_, x)| *x /= norm);
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
        let scores = lexrank(&Rows::Dense(rows));
        let best = (0..4).max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let worst = (0..4).min_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        assert_eq!((best, worst), (Some(1), Some(3)), "{scores:?}");
        let total: f32 = scores.iter().sum();
        assert!((total - 1.0).abs() < 1e-3, "a distribution: {total}");
    }

    #[test]
    fn a_graph_with_no_edges_ranks_all_alike() {
        let rows = Rows::Dense(vec![unit(&[1.0, 0.0]), unit(&[0.0, 1.0])]);
        let scores = lexrank(&rows);
        assert!((scores[0] - scores[1]).abs() < 1e-6, "{scores:?}");
        assert!(lexrank(&Rows::Dense(Vec::new())).is_empty());
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
        let rows = Rows::Dense(vec![
            unit(&[0.0, 1.0]),
            unit(&[1.0, 0.1]),
            unit(&[1.0, 0.0]),
            unit(&[1.0, -0.1]),
        ]);
        let (kept, rows) = most_typical(&sentences, rows, 2);
        assert_eq!(kept.len(), 2);
        assert_eq!(rows.len(), 2);
        assert!(kept.iter().all(|k| k.passage != 0), "{kept:?}");
        assert!(kept[0].passage < kept[1].passage);
    }

    #[test]
    fn sparse_rows_read_as_the_dense_rows_they_stand_for() {
        let dense = vec![
            vec![0.0, 0.6, 0.0, 0.8],
            vec![0.5, 0.5, 0.5, 0.5],
            vec![1.0, 0.0, 0.0, 0.0],
        ];
        let sparse: Vec<Vec<(u32, f32)>> = (dense.iter())
            .map(|row| {
                (row.iter().enumerate())
                    .filter(|(_, &x)| x != 0.0)
                    .map(|(c, &x)| (c as u32, x))
                    .collect()
            })
            .collect();
        let (dense, sparse) = (Rows::Dense(dense), Rows::Sparse(sparse));
        for i in 0..3 {
            for j in 0..3 {
                let (d, s) = (dense.similarity(i, j), sparse.similarity(i, j));
                assert!((d - s).abs() < 1e-6, "{i} {j}: {d} {s}");
            }
        }
        assert_eq!(dense.typicality(), sparse.typicality());
        assert_eq!(lexrank(&dense), lexrank(&sparse));
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let norm = dot(v, v).sqrt();
        v.iter().map(|x| x / norm).collect()
    }
}
