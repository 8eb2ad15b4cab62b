//! English: its word lists (the files beside this one, compiled in) and tantivy's English
//! stemmer, made into one [`Language`] the first time it is asked for.

use std::sync::LazyLock;

use super::{Language, Stemming};

pub(super) static ENGLISH: LazyLock<Language> =
    LazyLock::new(|| language_from_files!("en", Stemming::English));

#[cfg(test)]
mod tests {
    use crate::lang::english;

    #[test]
    fn every_list_is_read() {
        let en = english();
        assert_eq!(en.stop_words.len(), 325);
        assert_eq!(en.dictionary.iter().count(), 21_719);
        assert!(en.is_word("withdrawal") && !en.is_word("withdrawl"));
        assert_eq!(en.months.len(), 12);
        assert_eq!(en.month(1), Some("January"));
        assert!(en.is_month("may") && !en.is_month("May"));
        assert_eq!(en.questions.contractions["whats"], ["what", "is"]);
        assert!(en.conversation.document_mentions.contains("article"));
        assert!(en.conversation.document_mentions.contains("writer"));
    }

    #[test]
    fn the_stop_words_are_sorted_and_lower_case() {
        super::super::assert_sorted_in(&english().stop_words, |c| c.is_ascii_lowercase());
    }

    #[test]
    fn the_dictionary_is_the_models_whole_words() {
        // The list is derived from the embedding model's WordPiece vocabulary (BERT,
        // uncased): its whole words of two letters or more. This keeps the two in step.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/all-minilm-l6-v2/tokenizer.json"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut whole: Vec<&str> = json["model"]["vocab"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|w| w.len() >= 2 && w.bytes().all(|b| b.is_ascii_lowercase()))
            .collect();
        whole.sort_unstable();
        let listed: Vec<&str> = english().dictionary.iter().collect();
        assert_eq!(listed, whole);
    }
}
