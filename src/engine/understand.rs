//! Reading a question's meaning: the question embedded once per layer it needs, and every
//! sentence's closeness to it, by the exact scan below [`embed::INDEX_FROM`] sentences and by
//! the index above; then, at size, the passages the words proposed scored exactly too.

use std::sync::Arc;

use super::{Engine, Semantics};
use crate::embed;
use crate::lang::Lang;
use crate::retrieve::{Meaning, SearchError};

impl Engine {
    /// How close in meaning every sentence is to `question` (`None` with the layer off): each
    /// passage's sentences by the first layer whose model serves the question's language and
    /// the passage's (the question embedded once per layer used), the cosine read on that
    /// model's scale for the pair. A layer held in an index at size ([`embed::INDEX_FROM`])
    /// gives only its [`embed::TOP_ROWS`] nearest sentences; the others read
    /// [`Meaning::UNSCORED`].
    pub fn understand(&self, question: &str) -> Result<Option<Meaning>, SearchError> {
        Ok(self.understand_rows(question)?.map(|(meaning, _)| meaning))
    }

    /// [`Engine::understand`], and what it needs to score more passages exactly later
    /// ([`Engine::fill_in`]).
    pub(super) fn understand_rows(
        &self,
        question: &str,
    ) -> Result<Option<(Meaning, Understood)>, SearchError> {
        let semantics = self.semantics.load_full();
        let Some(fallback) = semantics.layers.last() else {
            return Ok(None);
        };
        let (question, _) =
            crate::analysis::truncate_chars(question, crate::analysis::MAX_QUESTION_CHARS);
        let asked_in = Lang::detect(question).unwrap_or_default();
        let indexed = (semantics.layers.iter()).any(|l| l.vectors.index().is_some());
        // Below the index's threshold every row is scored, as it always was.
        let unscored = if indexed { Meaning::UNSCORED } else { 0.0 };
        let mut meaning = Meaning {
            similarities: vec![unscored; fallback.vectors.len()],
            starts: fallback.vectors.starts().to_vec(),
        };
        let chosen = (self.knowledge.passages.iter())
            .map(|passage| {
                let written_in = self.knowledge.document(passage).language;
                (semantics.layers.iter())
                    .position(|l| l.model.serves(asked_in, written_in))
                    .unwrap_or(semantics.layers.len() - 1) as u8
            })
            .collect();
        let mut understood = Understood {
            vectors: vec![None; semantics.layers.len()],
            semantics,
            chosen,
            asked_in,
            question: question.to_string(),
        };
        // The passages read by a layer scanned exactly: every row of theirs.
        for p in 0..self.knowledge.passages.len() {
            let c = understood.chosen[p] as usize;
            if understood.semantics.layers[c].vectors.index().is_none() {
                self.score_exactly(&mut meaning, &mut understood, p)?;
            }
        }
        // Each indexed layer that some passage reads: its nearest rows, for the passages that
        // read that layer.
        for c in 0..understood.semantics.layers.len() {
            let layer = &understood.semantics.layers[c];
            if layer.vectors.index().is_none() || !understood.chosen.contains(&(c as u8)) {
                continue;
            }
            let vector = embedded(&mut understood.vectors[c], &layer.model, question)?;
            for (row, cosine) in layer
                .vectors
                .nearest_rows(vector, embed::TOP_ROWS)
                .unwrap_or_default()
            {
                let p = meaning.passage_of(row);
                let (Some(&read_by), Some(passage)) =
                    (understood.chosen.get(p), self.knowledge.passages.get(p))
                else {
                    continue;
                };
                if read_by as usize != c {
                    continue;
                }
                let written_in = self.knowledge.document(passage).language;
                let scale = layer.model.scale.between(asked_in, written_in);
                if let Some(s) = meaning.similarities.get_mut(row) {
                    *s = scale.apply(cosine);
                }
            }
        }
        Ok(Some((meaning, understood)))
    }

    /// Scores exactly the sentences of `passages` the index did not give: the passages the
    /// words found but that are not among the question's nearest in meaning (a few dozen, so
    /// a few hundred rows at most) get their own meaning rather than none. Done after the
    /// retrievers propose and before the ranking reads any passage's meaning, so that every
    /// passage ranked is scored on both signals, as below the threshold.
    pub(super) fn fill_in(
        &self,
        meaning: &mut Meaning,
        understood: &mut Understood,
        passages: &[usize],
    ) -> Result<(), SearchError> {
        for &p in passages {
            if meaning.of_passage(p).contains(&Meaning::UNSCORED) {
                self.score_exactly(meaning, understood, p)?;
            }
        }
        Ok(())
    }

    /// Scores every sentence of passage `p` against the question, by the layer chosen for
    /// it (embedding the question by that layer's model the first time it is needed), on
    /// that model's scale for the question's language and the passage's.
    fn score_exactly(
        &self,
        meaning: &mut Meaning,
        understood: &mut Understood,
        p: usize,
    ) -> Result<(), SearchError> {
        let (Some(range), Some(&c), Some(passage)) = (
            meaning.rows_of(p),
            understood.chosen.get(p),
            self.knowledge.passages.get(p),
        ) else {
            return Ok(());
        };
        let layer = &understood.semantics.layers[c as usize];
        let vector = embedded(
            &mut understood.vectors[c as usize],
            &layer.model,
            &understood.question,
        )?;
        let written_in = self.knowledge.document(passage).language;
        let scale = layer.model.scale.between(understood.asked_in, written_in);
        for row in range {
            meaning.similarities[row] = scale.apply(layer.vectors.similarity(row, vector));
        }
        Ok(())
    }
}

/// What reading a question's meaning chose, kept to score more passages the same way
/// ([`Engine::fill_in`]): the layers it read (a layer joining meanwhile does not change
/// them), the layer of each passage, and the question's vector by each.
pub(super) struct Understood {
    semantics: Arc<Semantics>,
    chosen: Vec<u8>,
    vectors: Vec<Option<Vec<f32>>>,
    asked_in: Lang,
    question: String,
}

/// The question's vector by `model`, embedded the first time a passage needs it (`slot`
/// keeps it for the others).
fn embedded<'a>(
    slot: &'a mut Option<Vec<f32>>,
    model: &embed::Model,
    question: &str,
) -> Result<&'a [f32], SearchError> {
    if slot.is_none() {
        *slot = Some(model.embed_one(question).map_err(SearchError::Embed)?);
    }
    Ok(slot.as_deref().unwrap_or_default())
}
