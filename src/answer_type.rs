//! What a question asks for, and whether a few sentences hold it.
//!
//! Similarity, of words or of meaning, says a passage is *about* what the question is about.
//! It cannot say the passage *answers* it: "How many Russian troops are in Afghanistan?" is as
//! close to a paragraph on Russian military support as "What did Russia sell to the Afghan
//! army?", but the paragraph gives no number of troops. So the kind of thing a question asks
//! for (a number, a date, a person, a place, a reason, what someone said) is read from its
//! wording, and the sentences that would answer must hold one, other than what the question
//! itself names.
//!
//! The checks are deliberately generous (a "who" question accepts any name, or a role such as
//! "spokesperson"): they turn away an answer only when the sentences have nothing of the kind.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::tokenizer::Token;

use crate::analysis::{self, StemmerFn};
use crate::lang::{self, KindWords, Language, Words};

/// What a question asks for (serialisable: a conversation's context holds one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AnswerType {
    /// "How many X", "how much X", "what percentage": a quantity of what `counted` names
    /// (the first words after "how many", empty when none).
    Number { counted: Vec<String> },
    /// "When", "what year", "since when".
    Date,
    /// "Who", "which official".
    Person,
    /// "Where", "which country".
    Place,
    /// "Why", "for what reason".
    Reason,
    /// "What did Lavrov say", "what did he call a dead end": what someone said.
    Statement,
    /// Anything else ("what did Lavrov say?"): no check.
    Any,
}

impl AnswerType {
    /// Reads what `question` asks for from its wording, in the language its script says
    /// (English when it has no letters).
    pub fn of(question: &str) -> AnswerType {
        AnswerType::of_in(written_in(question), question)
    }

    /// Reads what `question`, in `lang`, asks for from its wording. The rules are tried in
    /// order; `lang`'s question words say what each looks for.
    pub fn of_in(lang: &Language, question: &str) -> AnswerType {
        let q = &lang.questions;
        let words = question_words(lang, question);
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let first = w.first().copied().unwrap_or_default();
        let second = w.get(1).copied().unwrap_or_default();
        let asks_which = q.which.words.contains(first)
            || (q.which.leads.contains(first) && q.which.words.contains(second));
        // "Which/what NOUN", the noun among the first three words: "what year", "in which city";
        // four after a verb: "what is the percentage".
        let reach = if q.which.verbs.contains(second) { 4 } else { 3 };
        let which_of =
            |nouns: &Words| asks_which && w.iter().take(reach).any(|x| nouns.contains(x));
        let asks = |kind: &KindWords| {
            kind.first.contains(first)
                || kind.phrases.within(&w)
                || w.last().is_some_and(|x| kind.last.contains(x))
                || which_of(&kind.which_nouns)
        };

        if let Some(after) = (0..w.len()).find_map(|i| {
            q.number
                .how_many
                .first_opening(&w[i..])
                .map(|p| i + p.len())
        }) {
            let noun: Vec<&str> = w[after..]
                .iter()
                .copied()
                .take_while(|x| !q.number.noun_ends.contains(x))
                .collect();
            return AnswerType::Number {
                counted: noun.iter().take(3).map(|s| s.to_string()).collect(),
            };
        }
        if which_of(&q.number.which_nouns) {
            return AnswerType::Number { counted: vec![] };
        }
        if asks(&q.date) {
            return AnswerType::Date;
        }
        if asks(&q.person) {
            return AnswerType::Person;
        }
        if asks(&q.place) {
            return AnswerType::Place;
        }
        let reason = &q.reason;
        if reason.first.contains(first)
            || (reason.short_phrases.within(&w) && w.len() <= 3)
            || reason.phrases.within(&w)
        {
            return AnswerType::Reason;
        }
        // Someone's words: "what did Kabulov say", not "what is said about" or "what does the
        // article say" (which ask what the text holds).
        let statement = &q.statement;
        let speech = w.iter().position(|x| statement.verbs.contains(x));
        let about_the_text = |v: usize| v > 0 && statement.about_the_text.contains(w[v - 1]);
        if statement.first.contains(first) && speech.is_some_and(|v| !about_the_text(v)) {
            return AnswerType::Statement;
        }
        AnswerType::Any
    }

    /// Whether `sentences` hold what the question asks for, other than the question's own
    /// words, read in the language their script says (a Russian excerpt holds a person by
    /// Russian role words, whatever language the question was in).
    pub fn found_in(&self, sentences: &str, question: &str) -> bool {
        self.found_in_lang(written_in(sentences), sentences, question)
    }

    /// [`found_in`](Self::found_in), where `also_counted` are where the sentences name what a
    /// number question counts by another word (see [`found_in_naming`](Self::found_in_naming)).
    pub fn found_counting(
        &self,
        sentences: &str,
        question: &str,
        also_counted: &[Range<usize>],
    ) -> bool {
        self.found_in_naming(written_in(sentences), sentences, question, also_counted)
    }

    /// Whether `sentences` (in `lang`) hold what the question asks for, other than the
    /// question's own words (`question`, as written).
    pub fn found_in_lang(&self, lang: &Language, sentences: &str, question: &str) -> bool {
        self.found_in_naming(lang, sentences, question, &[])
    }

    /// [`found_in_lang`](Self::found_in_lang), where `also_counted` are byte ranges of
    /// `sentences` that name what a number question counts by another word: the ranking
    /// matched "how many weapons" to "rifles" by a synonym, so "tens of thousands of
    /// Kalashnikov rifles" is a count of weapons.
    pub fn found_in_naming(
        &self,
        lang: &Language,
        sentences: &str,
        question: &str,
        also_counted: &[Range<usize>],
    ) -> bool {
        if *self == AnswerType::Any {
            return true;
        }
        let mut stemmer = StemmerFn::default();
        let asked = stems(question);
        let tokens = analysis::words(sentences);
        let lower: Vec<String> = tokens.iter().map(|t| t.text.to_lowercase()).collect();
        let a = &lang.answers;
        let capitalised = |i: usize| {
            tokens[i]
                .text
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
                && !lang.is_month(&lower[i])
        };
        // Stemmed once, for the kinds that compare words with the question's.
        let stems: Vec<String> = match self {
            AnswerType::Number { .. } | AnswerType::Person | AnswerType::Place => {
                lower.iter().map(|w| stemmer.stem(w)).collect()
            }
            _ => Vec::new(),
        };
        let new = |i: usize| !asked.contains(&stems[i]);
        // A capitalised word that does not start its sentence, and that the question did
        // not name: a name of somewhere (or someone) new.
        let new_name = |i: usize| {
            let starts_sentence = i == 0
                || sentences[..tokens[i].offset_from]
                    .trim_end()
                    .ends_with(['.', '!', '?', ':', '“', '"']);
            capitalised(i) && !starts_sentence && new(i)
        };
        match self {
            AnswerType::Any => true,
            AnswerType::Number { counted } => {
                let counted = Counted {
                    stems: counted_stems(lang, &mut stemmer, counted),
                    elsewhere: also_counted,
                };
                holds_a_count(lang, sentences, &tokens, &lower, &stems, &counted)
            }
            AnswerType::Date => lower
                .iter()
                .any(|w| is_year(w) || lang.is_month(w) || a.time_words.contains(w)),
            AnswerType::Person => {
                !people(lang, sentences, &asked).is_empty()
                    || (0..lower.len()).any(|i| a.role_words.contains(&lower[i]) && new(i))
            }
            AnswerType::Place => {
                (0..lower.len()).any(|i| new_name(i) || a.place_words.contains(&lower[i]))
            }
            AnswerType::Reason => lower.iter().any(|w| a.reason_words.contains(w)),
            AnswerType::Statement => {
                lower.iter().any(|w| a.reported_speech.contains(w))
                    || sentences.contains(['“', '"'])
            }
        }
    }
}

/// Whether `w` is a year (four digits, 1000 to 2100): it dates, it counts nothing.
fn is_year(w: &str) -> bool {
    w.len() == 4 && w.parse::<u32>().is_ok_and(|y| (1000..=2100).contains(&y))
}

/// The stems of what a number must count (`counted`, as the question names it). None when
/// it is a unit rather than a thing ("how many years"): then any number answers.
fn counted_stems(lang: &Language, stemmer: &mut StemmerFn, counted: &[String]) -> Vec<String> {
    if counted.iter().any(|c| lang.answers.measures.contains(c)) {
        Vec::new()
    } else {
        counted.iter().map(|c| stemmer.stem(c)).collect()
    }
}

/// What a number must count: the stems of the question's words for it (none, for nothing
/// or a unit: any number answers), and where the sentences name it by another word.
struct Counted<'a> {
    stems: Vec<String>,
    elsewhere: &'a [Range<usize>],
}

impl Counted<'_> {
    /// Whether the word at `i` (of `tokens`, stemmed `stems`) names the counted thing.
    fn named_at(&self, i: usize, tokens: &[Token], stems: &[String]) -> bool {
        self.stems.contains(&stems[i])
            || self
                .elsewhere
                .iter()
                .any(|r| r.contains(&tokens[i].offset_from))
    }
}

/// Whether `sentences` (their `tokens`, lower-cased `lower` and stemmed `stems`) hold a
/// number, not a year nor part of a name, that counts what `counted` names (anything, when
/// the question names nothing).
fn holds_a_count(
    lang: &Language,
    sentences: &str,
    tokens: &[Token],
    lower: &[String],
    stems: &[String],
    counted: &Counted,
) -> bool {
    let a = &lang.answers;
    let is_number = |w: &str| w.chars().any(|c| c.is_ascii_digit()) || a.number_words.contains(w);
    // The digits of a model name ("Mi-35") count nothing.
    let in_name = |i: usize| {
        let before = &sentences[..tokens[i].offset_from];
        before.ends_with('-') || tokens[i].text.chars().any(char::is_alphabetic)
    };
    (0..lower.len()).any(|i| {
        if !is_number(&lower[i])
            || is_year(&lower[i])
            || (in_name(i) && !a.number_words.contains(&lower[i]))
        {
            return false;
        }
        // The number counts the thing asked about: it stands a few words before it
        // ("three rounds of talks", "25 percent of Afghan heroin", "tens of thousands of
        // Kalashnikov rifles").
        counted.stems.is_empty()
            || (i + 1..lower.len())
                .take(4)
                .any(|j| counted.named_at(j, tokens, stems))
    })
}

/// Whether `question` asks yes or no ("Is she married?", "And did it work?"): there is no
/// kind of thing to look for, only whether what it says holds.
pub fn is_yes_no(lang: &Language, question: &str) -> bool {
    question_words(lang, question)
        .first()
        .is_some_and(|w| lang.questions.yes_no_starts.contains(w))
}

/// The question's words, lower-cased and without apostrophes, from its first after any
/// conjunction that frames it ("And why?", "But when did it start?"). A question word's
/// contraction is spelled out ("what's", "whats" → "what is"): a chat's "whats the
/// percentage" asks what "what is the percentage" asks, and "isn't" is "isnt".
fn question_words(lang: &Language, question: &str) -> Vec<String> {
    let q = &lang.questions;
    let mut words: Vec<String> = analysis::words(question)
        .into_iter()
        .map(|t| {
            t.text
                .chars()
                .filter(|c| !matches!(c, '\'' | '’'))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .skip_while(|w| q.framing.contains(w))
        .collect();
    if let Some(spelled_out) = words.first().and_then(|w| q.contractions.get(w)) {
        words.splice(0..1, spelled_out.iter().cloned());
    }
    words
}

/// The people `sentences` name that the question (its stems, `asked`) does not, in order:
/// two or more capitalised words in a row ("Zamir Kabulov"), none of them a month or named
/// by the question. After "Who is Putin shaking hands with?", "Russian President Vladimir
/// Putin" is not one.
fn people(lang: &Language, sentences: &str, asked: &HashSet<String>) -> Vec<String> {
    name_runs(lang, sentences)
        .into_iter()
        .filter(|run| !run.named_in(asked))
        .map(|run| sentences[run.bytes].to_string())
        .collect()
}

/// [`person_answering_in`] `sentences`, in the language their script says.
pub fn person_answering(sentences: &str, question: &str) -> Option<String> {
    person_answering_in(written_in(sentences), sentences, question)
}

/// The language `text` is written in, English when it has no letters.
fn written_in(text: &str) -> &'static Language {
    lang::Lang::detect(text).map_or(lang::english(), lang::Lang::language)
}

/// The person who answers `question` in `sentences`: the first they name that it does not,
/// unless it names one of them itself, by the last word of the name at least ("Who is
/// Putin?", "who is zamir kabulov").
pub fn person_answering_in(lang: &Language, sentences: &str, question: &str) -> Option<String> {
    let asked = stems(question);
    let runs = name_runs(lang, sentences);
    if runs
        .iter()
        .any(|run| run.stems.last().is_some_and(|s| asked.contains(s)))
    {
        return None;
    }
    runs.into_iter()
        .find(|run| !run.named_in(&asked))
        .map(|run| sentences[run.bytes].to_string())
}

/// Two or more capitalised words in a row, none a month: where a name stands.
struct NameRun {
    bytes: std::ops::Range<usize>,
    stems: Vec<String>,
}

impl NameRun {
    /// Whether the question, by its stems, names the run's person: by the last word of the
    /// name, as [`person_answering_in`] reads it. A title the question shares ("Who is the
    /// captain?" and "Captain Nikolai Gromov", "кто капитан" and "Капитан Николай Громов")
    /// asks for the person; it does not name them.
    fn named_in(&self, asked: &HashSet<String>) -> bool {
        self.stems.last().is_some_and(|s| asked.contains(s))
    }
}

fn name_runs(lang: &Language, sentences: &str) -> Vec<NameRun> {
    let mut stemmer = StemmerFn::default();
    let tokens = analysis::words(sentences);
    let in_name = |i: usize| {
        let t = &tokens[i];
        t.text.chars().next().is_some_and(char::is_uppercase)
            && !lang.is_month(&t.text.to_lowercase())
    };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut end = i;
        // Words can overlap ("U.S.-Russian" and its parts): only a gap of white space
        // between two words makes them one name.
        while end < tokens.len()
            && in_name(end)
            && (end == i
                || sentences
                    .get(tokens[end - 1].offset_to..tokens[end].offset_from)
                    .is_some_and(|gap| gap.trim().is_empty()))
        {
            end += 1;
        }
        if end - i >= 2 {
            runs.push(NameRun {
                bytes: tokens[i].offset_from..tokens[end - 1].offset_to,
                stems: tokens[i..end]
                    .iter()
                    .map(|t| stemmer.stem(&t.text.to_lowercase()))
                    .collect(),
            });
        }
        i = end.max(i + 1);
    }
    runs
}

/// The question's words, stemmed.
fn stems(question: &str) -> HashSet<String> {
    let mut stemmer = StemmerFn::default();
    analysis::words(question)
        .iter()
        .map(|t| stemmer.stem(&t.text.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_or_no_questions_start_with_an_auxiliary() {
        for q in [
            "Is she married?",
            "And did it work?",
            "Doesn't he?",
            "so has it",
        ] {
            assert!(is_yes_no(lang::english(), q), "{q}");
        }
        for q in ["Who is she?", "Why did it work?", "and iran", "", "😀"] {
            assert!(!is_yes_no(lang::english(), q), "{q}");
        }
    }

    #[test]
    fn a_title_the_question_shares_does_not_name_the_person() {
        let sentence = "Капитан Николай Громов водит паром с 1994 года.";
        assert!(AnswerType::Person.found_in(sentence, "кто капитан парома"));
        assert!(!AnswerType::Person.found_in(sentence, "кто такой Громов"));
        let caption = "Russian President Vladimir Putin shakes hands.";
        assert!(AnswerType::Person.found_in(caption, "Who is the Russian president?"));
    }

    #[test]
    fn people_are_runs_of_capitalised_words_the_question_did_not_name() {
        let caption = "Russian President Vladimir Putin shakes hands with Afghan President \
                       Ashraf Ghani in Ufa, Russia, in July 2015.";
        assert_eq!(
            people(
                lang::english(),
                caption,
                &stems("Who is Putin shaking hands with?")
            ),
            ["Afghan President Ashraf Ghani"]
        );
        assert_eq!(
            people(lang::english(), caption, &stems("Who is in the picture?")),
            [
                "Russian President Vladimir Putin",
                "Afghan President Ashraf Ghani"
            ]
        );
        // A month is no name; nor are words joined by anything but white space.
        assert!(people(
            lang::english(),
            "In January 2017 U.S.-Russian talks…",
            &stems("")
        )
        .is_empty());
        // The person who answers: none when the question named one of them.
        assert_eq!(
            person_answering(caption, "Who shook hands?").as_deref(),
            Some("Russian President Vladimir Putin")
        );
        assert_eq!(
            person_answering(caption, "Who is putin shaking hands with?"),
            None
        );
    }

    #[test]
    fn the_wording_says_what_is_asked_for() {
        let number = |c: &[&str]| AnswerType::Number {
            counted: c.iter().map(|s| s.to_string()).collect(),
        };
        for (q, t) in [
            (
                "How many Russian troops are there?",
                number(&["russian", "troops"]),
            ),
            (
                "how much heroin goes through Central Asia",
                number(&["heroin", "goes", "through"]),
            ),
            (
                "How many rounds of talks did Russia host?",
                number(&["rounds"]),
            ),
            (
                "how many afghan officers got trained",
                number(&["afghan", "officers"]),
            ),
            ("how many troops exactly", number(&["troops"])),
            ("What percentage of the heroin goes north?", number(&[])),
            ("What is the name of his spokesperson?", AnswerType::Person),
            ("whats her name", AnswerType::Person),
            ("whats the percentage of heroin", number(&[])),
            ("wheres the embassy", AnswerType::Place),
            ("When did Soviet forces leave?", AnswerType::Date),
            ("And since when?", AnswerType::Date),
            ("In what year did the US invade?", AnswerType::Date),
            ("Who leads the Taliban?", AnswerType::Person),
            ("Which Russian official spoke?", AnswerType::Person),
            ("Where is the cultural center?", AnswerType::Place),
            ("Which countries took part?", AnswerType::Place),
            ("Why?", AnswerType::Reason),
            ("but why does Moscow talk to them", AnswerType::Reason),
            ("What did Lavrov call a dead end?", AnswerType::Statement),
            (
                "What did Kabulov say about a withdrawal?",
                AnswerType::Statement,
            ),
            ("What did Russia sell to Afghan forces?", AnswerType::Any),
            ("What is said about Kabulov?", AnswerType::Any),
            ("What does the article say about Kabulov?", AnswerType::Any),
            ("", AnswerType::Any),
        ] {
            assert_eq!(AnswerType::of(q), t, "{q}");
        }
    }

    #[test]
    fn sentences_must_hold_something_new_of_the_kind() {
        let troops = AnswerType::of("How many troops does Russia have?");
        assert!(!troops.found_in(
            "The strategy includes a modest increase in troop numbers.",
            "How many troops does Russia have?"
        ));
        assert!(!troops.found_in(
            "Since 2016, it has provided tens of thousands of rifles.",
            "How many troops does Russia have?"
        ));
        assert!(troops.found_in("Russia keeps 7,000 troops there.", ""));
        let price = AnswerType::of("How much did Pakistan pay for the helicopters?");
        assert!(!price.found_in(
            "Pakistan agreed to buy Russian Mi-35 attack helicopters.",
            ""
        ));
        let talks = AnswerType::of("How many rounds of talks were held?");
        assert!(talks.found_in("Russia hosted three rounds of talks.", ""));
        // Amounts in words and fractions; "how much shorter" asks for a difference.
        let shorter = "How much shorter is the Arctic route than Suez?";
        let by = AnswerType::of(shorter);
        assert!(by.found_in("The voyage is cut by roughly a third.", shorter));
        assert!(!by.found_in("The voyage runs along the Arctic coast.", shorter));
        let helicopters = AnswerType::of("How many helicopters were sold?");
        assert!(helicopters.found_in("Dozens of helicopters were sold.", ""));

        assert!(AnswerType::Date.found_in("In January 2017, Kabulov spoke.", ""));
        assert!(!AnswerType::Date.found_in("Kabulov spoke of collapse.", ""));

        let q = "Who is Kabulov?";
        assert!(AnswerType::Person.found_in("Kabulov is the special representative.", q));
        assert!(!AnswerType::Person.found_in("It said Kabulov would come.", q));
        assert!(AnswerType::Person.found_in("Then Zamir Kabulov spoke.", "who spoke?"));
        let talks = "Who represented China at the talks?";
        assert!(!AnswerType::Person
            .found_in("Russia hosted talks with China, Iran and Pakistan.", talks));

        assert!(AnswerType::Place.found_in("It reopened a center in Kabul.", "where?"));
        assert!(AnswerType::Reason.found_in("It works with them because of ISIS.", "why"));
        assert!(!AnswerType::Reason.found_in("The sky is blue.", "why"));
        assert!(AnswerType::Any.found_in("", ""));

        let said = AnswerType::Statement;
        assert!(said.found_in("Lavrov called the focus a “dead end”.", ""));
        assert!(said.found_in("In 2015, Kabulov explained that interests coincide.", ""));
        assert!(!said.found_in("Putin shakes hands with Ashraf Ghani in Ufa.", ""));
    }

    /// A count of the thing by another word (a synonym the ranking matched) answers; the
    /// same count, where nothing names the thing, does not.
    #[test]
    fn a_count_may_name_the_thing_by_another_word() {
        let q = "How many weapons did Russia provide?";
        let weapons = AnswerType::of(q);
        let text = "Since 2016, it has provided tens of thousands of Kalashnikov rifles.";
        assert!(!weapons.found_in(text, q));
        let named = |word: &str| {
            let at = text.find(word).unwrap();
            vec![Range {
                start: at,
                end: at + word.len(),
            }]
        };
        assert!(weapons.found_counting(text, q, &named("rifles")));
        assert!(!weapons.found_counting(text, q, &named("Since")));
    }

    #[test]
    fn words_that_overlap_their_parts_do_not_break_the_checks() {
        let text = "Souring U.S.-Russian relations in the wake of Russia’s illegal annexation.";
        for t in [
            AnswerType::Person,
            AnswerType::Place,
            AnswerType::Date,
            AnswerType::Number { counted: vec![] },
        ] {
            let _ = t.found_in(text, "who?");
        }
        assert!(AnswerType::Person.found_in("U.S.-Russian Zamir Kabulov spoke.", "who?"));
    }
}
