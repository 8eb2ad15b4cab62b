//! English: its word lists (the files beside this one, compiled in) and tantivy's English
//! stemmer, made into one [`Language`] the first time it is asked for.

use std::sync::LazyLock;

use super::{AnswerWords, ConversationWords, Language, Phrases, QuestionWords, Stemming, Words};

pub(super) static ENGLISH: LazyLock<Language> = LazyLock::new(english);

fn english() -> Language {
    let document_words = Words::parse(include_str!("document_words.txt"));
    let months = Words::parse(include_str!("months.txt"));
    Language {
        code: "en",
        stemming: Stemming::English,
        stop_words: Words::parse(include_str!("stop_words.txt")),
        dictionary: Words::parse(include_str!("words.txt")),
        generic_document_words: Words::parse(include_str!("generic_document_words.txt")),
        abbreviations: Words::parse(include_str!("abbreviations.txt")),
        boilerplate: Words::parse(include_str!("boilerplate.txt")),
        months: months.iter().map(str::to_string).collect(),
        months_lower: months.iter().map(str::to_lowercase).collect(),
        conversation: conversation(&document_words),
        questions: toml::from_str::<QuestionWords>(include_str!("questions.toml"))
            .expect("src/lang/en/questions.toml is valid"),
        answers: AnswerWords {
            number_words: Words::parse(include_str!("answers/number_words.txt")),
            measures: Words::parse(include_str!("answers/measures.txt")),
            time_words: Words::parse(include_str!("answers/time_words.txt")),
            role_words: Words::parse(include_str!("answers/role_words.txt")),
            place_words: Words::parse(include_str!("answers/place_words.txt")),
            reason_words: Words::parse(include_str!("answers/reason_words.txt")),
            reported_speech: Words::parse(include_str!("answers/reported_speech.txt")),
        },
        document_words,
    }
}

fn conversation(document_words: &Words) -> ConversationWords {
    let words = |text: &str| Words::parse(text);
    let phrases = |text: &str| Phrases::parse(text);
    ConversationWords {
        pronouns: words(include_str!("conversation/pronouns.txt")),
        demonstratives: words(include_str!("conversation/demonstratives.txt")),
        document_mentions: document_words
            .and(&words(include_str!("conversation/document_mentions.txt"))),
        question_starts: words(include_str!("conversation/question_starts.txt")),
        leads: phrases(include_str!("conversation/leads.txt")),
        switches: phrases(include_str!("conversation/switches.txt")),
        switch_fillers: words(include_str!("conversation/switch_fillers.txt")),
        more: phrases(include_str!("conversation/more.txt")),
        more_about: phrases(include_str!("conversation/more_about.txt")),
        greetings: words(include_str!("conversation/greetings.txt")),
        thanks: words(include_str!("conversation/thanks.txt")),
        acknowledgements: words(include_str!("conversation/acknowledgements.txt")),
        small_talk_fillers: words(include_str!("conversation/small_talk_fillers.txt")),
        place_pronouns: words(include_str!("conversation/place_pronouns.txt")),
        existential_verbs: words(include_str!("conversation/existential_verbs.txt")),
        adverb_endings: words(include_str!("conversation/adverb_endings.txt")),
        nouns_in_ly: words(include_str!("conversation/nouns_in_ly.txt")),
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::english;

    #[test]
    fn every_list_is_read() {
        let en = english();
        assert_eq!(en.stop_words.len(), 325);
        assert_eq!(en.dictionary.len(), 21_719);
        assert_eq!(en.months.len(), 12);
        assert_eq!(en.month(1), Some("January"));
        assert!(en.is_month("may") && !en.is_month("May"));
        assert_eq!(en.questions.contractions["whats"], ["what", "is"]);
        assert!(en.conversation.document_mentions.contains("article"));
        assert!(en.conversation.document_mentions.contains("writer"));
    }

    #[test]
    fn the_stop_words_are_sorted_and_lower_case() {
        let words: Vec<&str> = english().stop_words.iter().collect();
        let mut sorted = words.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, words);
        assert!(words
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_lowercase())));
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
