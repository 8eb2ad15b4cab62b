//! Words: the tantivy index of the passages, and what analysis needs to know of its words.
//!
//! Each passage is one tantivy document with two text fields, its text and its context words
//! ("photo" for a caption, "author" for the author's note), read by citebot's own tokenizer
//! (see `analysis`) and stored with positions for phrases. The index is the lexical
//! [`Retriever`]: a question's concepts become a boolean query of boosted terms and phrases,
//! and BM25 proposes candidates. It is also the [`Vocabulary`] that analysis consults for
//! how rare a word is and which indexed word a typo was meant to be.

use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{self, Vocabulary};
use crate::knowledge::Knowledge;
use crate::retrieve::{By, Candidate, Question, Retriever, SearchError};

/// The tantivy index of the passages.
#[derive(Clone)]
pub struct PassageIndex {
    reader: IndexReader,
    text: Field,
    context: Field,
    /// A shared lock on the build folder's lock file, for an index on disk (see `store`).
    hold: Option<std::sync::Arc<std::fs::File>>,
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

    /// Opens an index built earlier by [`PassageIndex::create_in_dir`], checking every
    /// file's checksum first: a damaged index is an error here, not at the first question.
    pub fn open_dir(dir: &Path) -> Result<PassageIndex, SearchError> {
        Self::open_checked(Index::open_in_dir(dir)?)
    }

    /// Like [`PassageIndex::open_dir`], with the files copied into memory: for a folder this
    /// process may not write to (opening in place needs a lock file beside the index).
    pub fn open_dir_in_memory(dir: &Path) -> Result<PassageIndex, SearchError> {
        use tantivy::directory::{Directory, RamDirectory};
        let ram = RamDirectory::create();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let bytes = std::fs::read(entry.path())?;
                ram.atomic_write(Path::new(&entry.file_name()), &bytes)?;
            }
        }
        Self::open_checked(Index::open(ram)?)
    }

    fn open_checked(index: Index) -> Result<PassageIndex, SearchError> {
        if index.schema() != schema().0 {
            return Err(tantivy::TantivyError::SchemaError(
                "the index was built with another schema".into(),
            )
            .into());
        }
        let damaged = index.validate_checksum()?;
        if !damaged.is_empty() {
            return Err(tantivy::TantivyError::SchemaError(format!(
                "damaged files: {}",
                damaged
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
        Self::from_index(index)
    }

    /// Keeps `lock` open as long as this index (or a clone) lives: it tells other processes
    /// that the build is in use.
    pub fn holding(mut self, lock: std::fs::File) -> PassageIndex {
        self.hold = Some(std::sync::Arc::new(lock));
        self
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
            hold: None,
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
        let mut best: Option<(usize, u64, String)> = None;
        for segment in searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(self.text) else {
                continue;
            };
            if !holds_script_of(inverted.terms(), term) {
                continue;
            }
            let Ok(mut stream) = inverted.terms().search(&automaton).into_stream() else {
                continue;
            };
            while stream.advance() {
                let Ok(candidate) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                // Optimal string alignment: a transposition is one edit, as the automaton counts.
                let distance = strsim::osa_distance(term, candidate);
                let freq = u64::from(stream.value().doc_freq);
                // On a tie the smaller word wins: segments come in no fixed order, and a
                // first-seen rule made one question's answer change between two runs.
                let better = match &best {
                    None => true,
                    Some((d, f, t)) => {
                        (distance, std::cmp::Reverse(freq), candidate)
                            < (*d, std::cmp::Reverse(*f), t.as_str())
                    }
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

/// Whether `terms` holds any word in the script `term` starts in, when that is Cyrillic (else
/// true). A Russian word is no typo of an English one, but the automaton finding that out
/// walks much of an English dictionary: at a million sentences, a fifth of a Russian
/// question's time. Whether there is any Cyrillic word at all is one look in the dictionary.
fn holds_script_of(terms: &tantivy::termdict::TermDictionary, term: &str) -> bool {
    if !term.chars().next().is_some_and(crate::lang::is_cyrillic) {
        return true;
    }
    // The Cyrillic block, U+0400 to U+04FF, and its supplement to U+052F.
    let cyrillic = terms.range().ge("\u{400}").lt("\u{530}").into_stream();
    cyrillic.is_ok_and(|mut stream| stream.advance())
}

impl Retriever for PassageIndex {
    fn name(&self) -> &'static str {
        "lexical"
    }

    fn evidence(&self) -> By {
        By::Words
    }

    fn candidates(&self, question: &Question, limit: usize) -> Result<Vec<Candidate>, SearchError> {
        let query = question.query;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(body: &str) -> PassageIndex {
        let dir = tempfile::tempdir().unwrap();
        let raw = format!("+++\ntitle = \"T\"\nurl = \"https://example.org/t\"\n+++\n{body}\n");
        std::fs::write(dir.path().join("t.txt"), raw).unwrap();
        PassageIndex::in_ram(&Knowledge::load(dir.path()).unwrap()).unwrap()
    }

    #[test]
    fn a_typo_is_read_as_the_nearest_word_of_its_own_script() {
        let english = index_of("The negotiations with the Taliban stalled.");
        assert_eq!(english.nearest("taliben", 1).as_deref(), Some("taliban"));
        // No English word is a Russian word with a typo in it.
        assert_eq!(english.nearest("талибан", 2), None);
        let both = index_of(
            "Переговоры с талибами зашли в тупик.\n\n\
             The negotiations with the Taliban stalled.",
        );
        assert_eq!(both.nearest("талибб", 1).as_deref(), Some("талиб"), "stems");
        assert_eq!(both.nearest("taliben", 1).as_deref(), Some("taliban"));
    }
}
