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

use crate::analysis::{self, StemmerFn};

/// What a question asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
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

const NUMBER_WORDS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "millions",
    "billion",
    "billions",
    "dozen",
    "dozens",
    "couple",
    "half",
    "percent",
    "single",
    "both",
];
/// Counted words that are units rather than things: any number answers "how many years".
const MEASURES: &[&str] = &[
    "year",
    "years",
    "time",
    "times",
    "percent",
    "percentage",
    "month",
    "months",
    "day",
    "days",
];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const TIME_WORDS: &[&str] = &[
    "since",
    "during",
    "until",
    "ago",
    "after",
    "before",
    "decade",
    "decades",
    "century",
    "year",
    "years",
    "month",
    "months",
    "week",
    "weeks",
    "administration",
    "era",
    "period",
    "recent",
    "recently",
    "now",
    "today",
    "yet",
    "time",
    "when",
    "while",
    "once",
    "last",
];
/// Words that name a person by their role.
const ROLE_WORDS: &[&str] = &[
    "president",
    "minister",
    "official",
    "officials",
    "spokesperson",
    "spokesman",
    "representative",
    "adviser",
    "advisor",
    "leader",
    "leaders",
    "scholar",
    "officer",
    "officers",
    "diplomat",
    "diplomats",
    "author",
    "head",
    "general",
    "soldier",
    "envoy",
];
const PLACE_WORDS: &[&str] = &[
    "north",
    "south",
    "east",
    "west",
    "northern",
    "southern",
    "eastern",
    "western",
    "region",
    "regional",
    "border",
    "borders",
    "territory",
    "country",
    "countries",
    "city",
    "capital",
    "province",
    "bases",
    "base",
    "ground",
    "abroad",
    "neighbors",
    "neighbours",
];
const REASON_WORDS: &[&str] = &[
    "because",
    "since",
    "as",
    "so",
    "therefore",
    "thus",
    "due",
    "reason",
    "order",
    "to",
    "fear",
    "feared",
    "fears",
    "hope",
    "hopes",
    "believe",
    "believes",
    "convinced",
    "aim",
    "aims",
    "want",
    "wants",
    "seek",
    "seeks",
    "designed",
    "way",
    "result",
    "given",
    "means",
    "for",
    "allowing",
    "allowed",
    "worried",
    "wary",
    "threat",
    "interest",
    "interests",
    "by",
];
/// Verbs that ask what someone said ("what did Kabulov *say*").
const ASKED_SPEECH: &[&str] = &[
    "say",
    "said",
    "says",
    "call",
    "called",
    "calls",
    "claim",
    "claimed",
    "tell",
    "told",
    "argue",
    "argued",
    "warn",
    "warned",
    "declare",
    "declared",
    "describe",
    "described",
];
/// Words that report speech, in the sentences that answer such a question.
const REPORTED_SPEECH: &[&str] = &[
    "said",
    "says",
    "say",
    "called",
    "calls",
    "claimed",
    "claiming",
    "told",
    "explained",
    "suggested",
    "argued",
    "warned",
    "stated",
    "declared",
    "described",
    "touted",
    "criticized",
    "criticised",
    "according",
    "announced",
    "insisted",
    "noted",
    "made",
    "clear",
];

/// Words that end the noun after "how many": "how many troops *does* Russia have".
const NOUN_ENDS: &[&str] = &[
    "do", "does", "did", "are", "is", "were", "was", "has", "have", "had", "will", "would", "can",
    "could", "of", "in", "on", "at", "to", "for", "from", "there", "that", "the", "a", "got",
    "get", "gets", "been", "exactly", "roughly",
];

impl AnswerType {
    /// Reads what `question` asks for from its wording.
    pub fn of(question: &str) -> AnswerType {
        let words = question_words(question);
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let has = |pair: [&str; 2]| w.windows(2).any(|x| x == pair);
        let first = w.first().copied().unwrap_or_default();
        let second = w.get(1).copied().unwrap_or_default();
        let asks_which = matches!(first, "which" | "what")
            || (first == "in" && matches!(second, "which" | "what"));
        // "Which/what NOUN", the noun among the first three words: "what year", "in which city";
        // four after a verb: "what is the percentage".
        let reach = if matches!(second, "is" | "was" | "are" | "were") {
            4
        } else {
            3
        };
        let which_of =
            |nouns: &[&str]| asks_which && w.iter().take(reach).any(|x| nouns.contains(x));

        if let Some(i) = w
            .windows(2)
            .position(|x| x[0] == "how" && matches!(x[1], "many" | "much"))
        {
            let noun: Vec<&str> = w[i + 2..]
                .iter()
                .copied()
                .take_while(|x| !NOUN_ENDS.contains(x))
                .collect();
            return AnswerType::Number {
                counted: noun.iter().take(3).map(|s| s.to_string()).collect(),
            };
        }
        if which_of(&["percentage", "percent", "proportion", "share", "number"]) {
            return AnswerType::Number { counted: vec![] };
        }
        if first == "when"
            || has(["since", "when"])
            || which_of(&["year", "date", "month"])
            || has(["how", "long"])
        {
            return AnswerType::Date;
        }
        if matches!(first, "who" | "whom" | "whose")
            || has(["the", "name"])
            || w.last().is_some_and(|x| *x == "name")
            || which_of(&[
                "official",
                "person",
                "minister",
                "president",
                "leader",
                "diplomat",
            ])
        {
            return AnswerType::Person;
        }
        if first == "where"
            || which_of(&[
                "country",
                "countries",
                "city",
                "region",
                "place",
                "province",
            ])
        {
            return AnswerType::Place;
        }
        if first == "why"
            || has(["what", "for"]) && w.len() <= 3
            || has(["how", "come"])
            || has(["what", "reason"])
            || has(["which", "reason"])
        {
            return AnswerType::Reason;
        }
        // Someone's words: "what did Kabulov say", not "what is said about" or "what does the
        // article say" (which ask what the text holds).
        let speech = w.iter().position(|x| ASKED_SPEECH.contains(x));
        let about_the_text = |v: usize| {
            v > 0
                && matches!(
                    w[v - 1],
                    "is" | "was"
                        | "are"
                        | "were"
                        | "it"
                        | "article"
                        | "author"
                        | "piece"
                        | "text"
                        | "document"
                        | "this"
                        | "writer"
                )
        };
        if matches!(first, "what" | "how") && speech.is_some_and(|v| !about_the_text(v)) {
            return AnswerType::Statement;
        }
        AnswerType::Any
    }

    /// Whether `sentences` hold what the question asks for, other than the question's own
    /// words (`question`, as written).
    pub fn found_in(&self, sentences: &str, question: &str) -> bool {
        if *self == AnswerType::Any {
            return true;
        }
        let mut stemmer = StemmerFn::default();
        let asked = stems(question);
        let tokens = analysis::words(sentences);
        let lower: Vec<String> = tokens.iter().map(|t| t.text.to_lowercase()).collect();
        let is_in = |list: &[&str], w: &str| list.contains(&w);
        let is_year =
            |w: &str| w.len() == 4 && w.parse::<u32>().is_ok_and(|y| (1000..=2100).contains(&y));
        let is_number = |w: &str| w.chars().any(|c| c.is_ascii_digit()) || is_in(NUMBER_WORDS, w);
        let capitalised = |i: usize| {
            tokens[i]
                .text
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
                && !is_in(MONTHS, &lower[i])
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
                let counted_stems: Vec<String> = if counted.iter().any(|c| is_in(MEASURES, c)) {
                    Vec::new()
                } else {
                    counted.iter().map(|c| stemmer.stem(c)).collect()
                };
                // The digits of a model name ("Mi-35") count nothing.
                let in_name = |i: usize| {
                    let before = &sentences[..tokens[i].offset_from];
                    before.ends_with('-') || tokens[i].text.chars().any(char::is_alphabetic)
                };
                (0..lower.len()).any(|i| {
                    if !is_number(&lower[i])
                        || is_year(&lower[i])
                        || (in_name(i) && !is_in(NUMBER_WORDS, &lower[i]))
                    {
                        return false;
                    }
                    // The number counts the thing asked about: it stands a few words before it
                    // ("three rounds of talks", "25 percent of Afghan heroin").
                    counted_stems.is_empty()
                        || stems[i + 1..]
                            .iter()
                            .take(4)
                            .any(|w| counted_stems.contains(w))
                })
            }
            AnswerType::Date => lower
                .iter()
                .any(|w| is_year(w) || is_in(MONTHS, w) || is_in(TIME_WORDS, w)),
            AnswerType::Person => {
                !people(sentences, &asked).is_empty()
                    || (0..lower.len()).any(|i| is_in(ROLE_WORDS, &lower[i]) && new(i))
            }
            AnswerType::Place => {
                (0..lower.len()).any(|i| new_name(i) || is_in(PLACE_WORDS, &lower[i]))
            }
            AnswerType::Reason => lower.iter().any(|w| is_in(REASON_WORDS, w)),
            AnswerType::Statement => {
                lower.iter().any(|w| is_in(REPORTED_SPEECH, w)) || sentences.contains(['“', '"'])
            }
        }
    }
}

/// Whether `question` asks yes or no ("Is she married?", "And did it work?"): there is no
/// kind of thing to look for, only whether what it says holds.
pub fn is_yes_no(question: &str) -> bool {
    const AUXILIARIES: &[&str] = &[
        "is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could",
        "will", "would", "should", "isnt", "arent", "wasnt", "doesnt", "didnt",
    ];
    question_words(question)
        .first()
        .is_some_and(|w| AUXILIARIES.contains(&w.as_str()))
}

/// The question's words, lower-cased and without apostrophes, from its first after any
/// conjunction that frames it ("And why?", "But when did it start?"). A question word's
/// contraction is spelled out ("what's", "whats" → "what is"): a chat's "whats the
/// percentage" asks what "what is the percentage" asks, and "isn't" is "isnt".
fn question_words(question: &str) -> Vec<String> {
    let mut words: Vec<String> = analysis::words(question)
        .into_iter()
        .map(|t| {
            t.text
                .chars()
                .filter(|c| !matches!(c, '\'' | '’'))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .skip_while(|w| matches!(w.as_str(), "and" | "but" | "so" | "then" | "ok" | "okay"))
        .collect();
    let spelled_out = match words.first().map(String::as_str) {
        Some("whats") => "what",
        Some("whos") => "who",
        Some("wheres") => "where",
        Some("whens") => "when",
        Some("whys") => "why",
        Some("hows") => "how",
        _ => return words,
    };
    words.splice(0..1, [spelled_out.to_string(), "is".to_string()]);
    words
}

/// The people `sentences` name that the question (its stems, `asked`) does not, in order:
/// two or more capitalised words in a row ("Zamir Kabulov"), none of them a month or named
/// by the question. After "Who is Putin shaking hands with?", "Russian President Vladimir
/// Putin" is not one.
fn people(sentences: &str, asked: &HashSet<String>) -> Vec<String> {
    name_runs(sentences)
        .into_iter()
        .filter(|run| !run.named_in(asked))
        .map(|run| sentences[run.bytes].to_string())
        .collect()
}

/// The person who answers `question` in `sentences`: the first they name that it does not,
/// unless it names one of them itself, by the last word of the name at least ("Who is
/// Putin?", "who is zamir kabulov").
pub fn person_answering(sentences: &str, question: &str) -> Option<String> {
    let asked = stems(question);
    let runs = name_runs(sentences);
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
    /// Whether the question, by its stems, names any word of the run.
    fn named_in(&self, asked: &HashSet<String>) -> bool {
        self.stems.iter().any(|s| asked.contains(s))
    }
}

fn name_runs(sentences: &str) -> Vec<NameRun> {
    let mut stemmer = StemmerFn::default();
    let tokens = analysis::words(sentences);
    let in_name = |i: usize| {
        let t = &tokens[i];
        t.text.chars().next().is_some_and(char::is_uppercase)
            && !MONTHS.contains(&t.text.to_lowercase().as_str())
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
            assert!(is_yes_no(q), "{q}");
        }
        for q in ["Who is she?", "Why did it work?", "and iran", "", "😀"] {
            assert!(!is_yes_no(q), "{q}");
        }
    }

    #[test]
    fn people_are_runs_of_capitalised_words_the_question_did_not_name() {
        let caption = "Russian President Vladimir Putin shakes hands with Afghan President \
                       Ashraf Ghani in Ufa, Russia, in July 2015.";
        assert_eq!(
            people(caption, &stems("Who is Putin shaking hands with?")),
            ["Afghan President Ashraf Ghani"]
        );
        assert_eq!(
            people(caption, &stems("Who is in the picture?")),
            [
                "Russian President Vladimir Putin",
                "Afghan President Ashraf Ghani"
            ]
        );
        // A month is no name; nor are words joined by anything but white space.
        assert!(people("In January 2017 U.S.-Russian talks…", &stems("")).is_empty());
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
