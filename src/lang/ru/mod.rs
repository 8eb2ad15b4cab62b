//! Russian: its word lists (the files beside this one, compiled in) and tantivy's Russian
//! stemmer, made into one [`Language`] the first time it is asked for. The files are those of
//! English (`../en/`), one for one, holding what does the same job in Russian: every case form
//! a question or an answer writes a word in (the lists are compared with words unstemmed), ё
//! written е. `months.txt` alone has more to a line: a month's date form, then its other
//! cases.

use std::sync::LazyLock;

use super::{Language, Stemming};

pub(super) static RUSSIAN: LazyLock<Language> =
    LazyLock::new(|| language_from_files!("ru", Stemming::Russian));

#[cfg(test)]
mod tests {
    use crate::answer_type::{is_yes_no, AnswerType};
    use crate::lang::{russian, Lang, Words};

    #[test]
    fn every_list_is_read() {
        let ru = russian();
        assert_eq!(ru.code, "ru");
        assert_eq!(Lang::Ru.language().code, "ru");
        assert_eq!(ru.stop_words.len(), 402);
        assert!(ru.is_stop_word("почему") && ru.is_stop_word("какой") && ru.is_stop_word("изза"));
        assert!(!ru.is_stop_word("статья") && !ru.is_stop_word("россия"));
        assert!(ru.is_word("почему") && !ru.is_word("пачему"));
        assert_eq!(ru.months.len(), 12);
        assert_eq!(ru.month(1), Some("января"));
        assert_eq!(ru.month(12), Some("декабря"));
        assert_eq!(ru.month(13), None);
        for month in ["мая", "май", "мае", "январе", "сентябрем"] {
            assert!(ru.is_month(month), "{month}");
        }
        assert!(!ru.is_month("Мая") && !ru.is_month("майский"));
        assert!(ru.questions.contractions["пчм"] == ["почему"]);
        assert!(ru.conversation.document_mentions.contains("статье"));
        assert!(ru.conversation.document_mentions.contains("автора"));
        assert!(ru.conversation.existential_verbs.is_empty());
        assert!(ru.abbreviations.contains("гг") && ru.abbreviations.contains("т.е"));
    }

    #[test]
    fn the_stop_words_are_sorted_and_lower_case() {
        super::super::assert_sorted_in(&russian().stop_words, |c| ('а'..='я').contains(&c));
    }

    #[test]
    fn every_list_is_lower_case_with_e_for_yo() {
        // The analyzer folds ё into е and lower-cases: an entry with either would never match.
        let ru = russian();
        let (c, q, a) = (&ru.conversation, &ru.questions, &ru.answers);
        let lists: Vec<&Words> = vec![
            &ru.document_words,
            &ru.generic_document_words,
            &ru.abbreviations,
            &ru.boilerplate,
            &c.pronouns,
            &c.demonstratives,
            &c.document_mentions,
            &c.question_starts,
            &c.switch_fillers,
            &c.greetings,
            &c.thanks,
            &c.acknowledgements,
            &c.small_talk_fillers,
            &c.place_pronouns,
            &c.adverb_endings,
            &c.nouns_in_ly,
            &q.framing,
            &q.yes_no_starts,
            &q.which.words,
            &q.which.leads,
            &q.which.verbs,
            &q.number.noun_ends,
            &q.number.which_nouns,
            &q.date.first,
            &q.date.last,
            &q.date.which_nouns,
            &q.person.first,
            &q.person.last,
            &q.person.which_nouns,
            &q.place.first,
            &q.place.which_nouns,
            &q.statement.first,
            &q.statement.verbs,
            &q.statement.about_the_text,
            &a.number_words,
            &a.measures,
            &a.time_words,
            &a.role_words,
            &a.place_words,
            &a.reason_words,
            &a.reported_speech,
        ];
        let phrases = [
            &c.leads,
            &c.switches,
            &c.more,
            &c.more_about,
            &q.number.how_many,
            &q.date.phrases,
            &q.person.phrases,
            &q.place.phrases,
            &q.reason.phrases,
            &q.reason.short_phrases,
        ];
        let entries = lists
            .iter()
            .flat_map(|l| l.iter().map(str::to_string))
            .chain(phrases.iter().flat_map(|p| p.iter().map(|w| w.join(" "))))
            .chain(
                q.contractions
                    .iter()
                    .map(|(k, v)| format!("{k} {}", v.join(" "))),
            )
            .chain(ru.months.iter().cloned());
        for entry in entries {
            assert!(
                !entry.contains('ё') && entry == entry.to_lowercase(),
                "{entry:?}"
            );
        }
        assert!(ru.dictionary.iter().all(|w| !w.contains('ё')));
    }

    // The lists read by the code that reads them (answer_type.rs), in tests only: the module
    // itself stays a leaf.
    #[test]
    fn questions_say_what_they_ask_for() {
        let ru = russian();
        let of = |q: &str| AnswerType::of_in(ru, q);
        assert_eq!(of("Кто такой Кабулов?"), AnswerType::Person);
        assert_eq!(of("А с кем встречался Лавров?"), AnswerType::Person);
        assert_eq!(of("Когда это началось?"), AnswerType::Date);
        assert_eq!(
            of("В каком году Россия ушла из Афганистана?"),
            AnswerType::Date
        );
        assert_eq!(of("Где находится база?"), AnswerType::Place);
        assert_eq!(of("Из какой страны идет героин?"), AnswerType::Place);
        assert_eq!(
            of("Почему Россию волнует афганский героин?"),
            AnswerType::Reason
        );
        assert_eq!(of("Из-за чего Россия волнуется?"), AnswerType::Reason);
        assert_eq!(
            of("По какой причине Москва сблизилась с талибами?"),
            AnswerType::Reason
        );
        assert_eq!(of("Что сказал Кабулов о талибах?"), AnswerType::Statement);
        assert_eq!(of("Что автор говорит о талибах?"), AnswerType::Any);
        assert_eq!(
            of("Сколько российских военных находится в Таджикистане?"),
            AnswerType::Number {
                counted: vec!["российских".into(), "военных".into()]
            }
        );
        assert_eq!(
            of("Какова доля афганского героина?"),
            AnswerType::Number { counted: vec![] }
        );
        assert!(is_yes_no(ru, "Правда ли, что Россия поддерживает талибов?"));
        assert!(is_yes_no(ru, "А есть ли у России база в Афганистане?"));
        assert!(!is_yes_no(ru, "Почему Россия поддерживает талибов?"));
    }

    #[test]
    fn answers_hold_what_is_asked() {
        let ru = russian();
        let found = |t: AnswerType, sentences: &str, q: &str| t.found_in_lang(ru, sentences, q);
        assert!(found(
            AnswerType::Date,
            "В январе талибы взяли город.",
            "Когда?"
        ));
        assert!(found(
            AnswerType::Number {
                counted: vec!["вертолетов".into()]
            },
            "Россия передала десятки вертолетов.",
            "Сколько вертолетов?"
        ));
        // By how much: the amount of a difference, a fraction as well as a number.
        let shorter = AnswerType::of_in(ru, "На сколько короче северный путь?");
        assert!(found(
            shorter.clone(),
            "Путь сокращается примерно на треть.",
            "На сколько короче северный путь?"
        ));
        assert!(!found(
            shorter,
            "Путь идёт вдоль северного побережья.",
            "На сколько короче северный путь?"
        ));
        assert!(found(
            AnswerType::Reason,
            "Москва боится героина, потому что он убивает.",
            "Почему?"
        ));
        assert!(!found(
            AnswerType::Reason,
            "Москва открыла культурный центр.",
            "Почему?"
        ));
        assert!(found(
            AnswerType::Statement,
            "Кабулов заявил, что талибы сильны.",
            "Что сказал Кабулов?"
        ));
    }
}
