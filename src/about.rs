//! Questions about a document itself rather than what it says: who wrote it, who that is,
//! when and where it was published, its title, what it is about. Read from the question's
//! words, before any search: no passage says "this article was written by", and a search
//! for "who wrote it?" finds whichever sentence says "wrote".
//!
//! A question is about the document when it holds words that ask one of these things
//! (`lang/*/about.toml`) and nothing else that could be its subject: only stop words, words
//! for a document ("this piece", "статья"), the author's name, and, beside a word for a
//! document, the words of a document's title or publication ("the Afghanistan article").
//! "Who wrote the Taliban's constitution?" has a subject of its own, and is searched.

use std::collections::HashSet;

use crate::knowledge::Knowledge;
use crate::lang::{self, Language, Phrases};

/// What a question asks about the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Asks {
    /// Who wrote it.
    Author,
    /// Who the author is: work, background, standing (the note about the author).
    AuthorBio,
    /// When it was published.
    Date,
    /// Where it was published.
    Publication,
    /// Its title or subtitle.
    Title,
    /// What it is about as a whole: a summary, its main points, "tl;dr".
    Summary,
}

impl Asks {
    /// As `about.toml` and the question sets name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Asks::Author => "author",
            Asks::AuthorBio => "author_bio",
            Asks::Date => "date",
            Asks::Publication => "publication",
            Asks::Title => "title",
            Asks::Summary => "summary",
        }
    }

    /// Whether the metadata passage ("about this article") answers it.
    pub fn is_metadata(self) -> bool {
        matches!(
            self,
            Asks::Author | Asks::Date | Asks::Publication | Asks::Title
        )
    }
}

/// When a question asks several of these ("who is the author and what does she do?"), the
/// first listed here is what it is after: a summary covers everything, a question about
/// who the author is covers her name, and "the name of the writer" asks for the author,
/// not the title.
const PRECEDENCE: [Asks; 6] = [
    Asks::Summary,
    Asks::AuthorBio,
    Asks::Author,
    Asks::Date,
    Asks::Publication,
    Asks::Title,
];

/// The words by which the knowledge's documents are named: their authors' names, and the
/// words of their titles, subtitles and publications. Lower case, `ё` as `е`.
#[derive(Debug, Clone, Default)]
pub struct Bylines {
    authors: HashSet<String>,
    titles: HashSet<String>,
}

impl Bylines {
    pub fn of(knowledge: &Knowledge) -> Bylines {
        let mut bylines = Bylines::default();
        for d in &knowledge.documents {
            let m = &d.meta;
            bylines
                .authors
                .extend(words(m.author.as_deref().unwrap_or_default()));
            for text in [
                m.title.as_str(),
                m.subtitle.as_deref().unwrap_or_default(),
                m.publication.as_deref().unwrap_or_default(),
            ] {
                bylines.titles.extend(words(text));
            }
        }
        bylines.authors.retain(|w| w.chars().count() > 2);
        bylines.titles.retain(|w| w.chars().count() > 2);
        bylines
    }

    /// Whether `word` (or, Cyrillic, its transliteration: "гурганус") is in the set.
    fn holds(set: &HashSet<String>, word: &str) -> bool {
        set.contains(word) || lang::transliterate(word).is_some_and(|w| set.contains(&w))
    }
}

/// What `question` asks about the document, when it asks about the document and nothing
/// else; read in `language`, the question's own.
///
/// `follows_an_answer`: the question comes after an answer in a conversation, where "when?"
/// or "who is she?" ask about what that answer said, and only a cue that names a document
/// (or a word pointing at one) makes it a question about the document.
pub fn asks(
    question: &str,
    language: &Language,
    bylines: &Bylines,
    follows_an_answer: bool,
) -> Option<Asks> {
    let tokens = expand(words(question), language);
    if tokens.is_empty() {
        return None;
    }
    let about = &language.about;
    let mut used = vec![false; tokens.len()];
    if (about.elsewhere.iter()).any(|p| mark(&tokens, &mut used, p)) {
        return None;
    }
    let (found, mut pointed) = cues(&tokens, &mut used, language);
    let mut points = false;
    for phrase in about.points.iter() {
        points |= mark(&tokens, &mut used, phrase);
    }
    pointed |= points;
    for phrase in about.filler.iter() {
        mark(&tokens, &mut used, phrase);
    }
    let names_a_document = tokens
        .iter()
        .any(|t| is_document_word(t, language) || Bylines::holds(&bylines.authors, t));
    if follows_an_answer && !pointed && !names_a_document {
        return None;
    }
    // "How old is the writer?", "how old is he?": a person's age, not the article's.
    let a_person = |t: &String| {
        language.conversation.document_mentions.contains(t)
            || about.people.iter().any(|p| opens_with(p, t))
    };
    let the_person =
        tokens.iter().any(a_person) && !tokens.iter().any(|t| language.document_words.contains(t));
    if found.contains(&Asks::Date) && the_person && !points && !found.contains(&Asks::Summary) {
        return None;
    }
    // A word that is none of these is what the question is about.
    let says_nothing = |t: &String| {
        t.chars().count() <= 1
            || language.is_stop_word(t)
            || is_document_word(t, language)
            || Bylines::holds(&bylines.authors, t)
            || (names_a_document && Bylines::holds(&bylines.titles, t))
            || t.chars().all(|c| c.is_ascii_digit())
    };
    let subject = (tokens.iter().zip(&used)).any(|(t, &used)| !used && !says_nothing(t));
    if subject {
        return is_the_author(&tokens, language).then_some(Asks::AuthorBio);
    }
    let by_name = tokens.iter().any(|t| Bylines::holds(&bylines.authors, t));
    match PRECEDENCE.into_iter().find(|asks| found.contains(asks)) {
        // "Who is Julia Gurganus?": the author named, nothing asked of the document.
        None if by_name => Some(Asks::AuthorBio),
        // "Explain the article", "the piece?": the document, and nothing asked of it.
        None if tokens.iter().any(|t| language.document_words.contains(t)) => Some(Asks::Summary),
        asks => asks,
    }
}

/// What the cues among `tokens` ask (each kind once, in the order found), marking their
/// words used, and whether any of them names a document (is not `~` weak). Longest phrases
/// first, of every kind: "about the author" is who she is, not a summary.
fn cues(tokens: &[String], used: &mut [bool], language: &Language) -> (Vec<Asks>, bool) {
    let about = &language.about;
    let mut cues: Vec<(Asks, &[String])> = [
        (Asks::Author, &about.author),
        (Asks::AuthorBio, &about.author_bio),
        (Asks::Date, &about.date),
        (Asks::Publication, &about.publication),
        (Asks::Title, &about.title),
        (Asks::Summary, &about.summary),
    ]
    .into_iter()
    .flat_map(|(asks, phrases)| phrases.iter().map(move |p| (asks, p)))
    .collect();
    cues.sort_by_key(|(_, phrase)| std::cmp::Reverse(phrase.len()));
    let (mut found, mut pointed) = (Vec::new(), false);
    for (asks, phrase) in cues {
        let Some(first) = phrase.first() else {
            continue;
        };
        let weak = first.starts_with('~');
        let mut phrase = phrase.to_vec();
        phrase[0] = first.trim_start_matches('~').to_string();
        if mark(tokens, used, &phrase) {
            pointed |= !weak;
            if !found.contains(&asks) {
                found.push(asks);
            }
        }
    }
    (found, pointed)
}

/// "Is the author a spy?", "does the writer work for the government?": a yes-or-no
/// question whose subject is the author is answered by what the note says of them,
/// whatever it asks of them (a longer one is about something else).
fn is_the_author(tokens: &[String], language: &Language) -> bool {
    let yes_no = tokens
        .first()
        .is_some_and(|t| language.questions.yes_no_starts.contains(t));
    let subject = tokens.iter().skip(1).take(2).any(|t| {
        language.conversation.document_mentions.contains(t)
            && (language.about.author.iter()).any(|p| opens_with(p, t))
    });
    yes_no && subject && tokens.len() <= 10
}

fn is_document_word(word: &str, language: &Language) -> bool {
    language.document_words.contains(word)
        || language.generic_document_words.contains(word)
        || language.conversation.document_mentions.contains(word)
}

/// Lower-case words of `text`, `ё` as `е`, apostrophes dropped inside them ("what's" is
/// "whats", as people type it).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| {
            w.chars()
                .filter(|&c| c != '\'' && c != '’')
                .flat_map(char::to_lowercase)
                .map(|c| if c == 'ё' { 'е' } else { c })
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Contractions spelt out ("whats" → "what is"), and a misspelt word (no word of the
/// language) read as the word of these lists it is one edit from ("ths", "backgroud").
fn expand(tokens: Vec<String>, language: &Language) -> Vec<String> {
    let mut out = Vec::with_capacity(tokens.len());
    for token in tokens {
        let known = language.is_word(&token)
            || language.is_stop_word(&token)
            || is_document_word(&token, language)
            || lists(language).any(|phrases| phrases.iter().any(|p| opens_with(p, &token)));
        let token = if known {
            token
        } else {
            corrected(&token, language).unwrap_or(token)
        };
        match language.questions.contractions.get(&token) {
            Some(spelt) => out.extend(spelt.iter().cloned()),
            None => out.push(token),
        }
    }
    out
}

/// The one word of the question lists (stop words, the cue and filler words) one edit from
/// `token` (of three letters or more), a letter left out preferred.
fn corrected(token: &str, language: &Language) -> Option<String> {
    if token.chars().count() < 3 {
        return None;
    }
    let single = |phrases: &Phrases| -> Vec<String> {
        phrases
            .iter()
            .filter(|p| p.len() == 1 && !p[0].ends_with('*'))
            .map(|p| p[0].trim_start_matches('~').to_string())
            .collect()
    };
    let mut candidates: Vec<String> = lists(language)
        .flat_map(single)
        .chain(language.stop_words.iter().map(str::to_string))
        .chain(language.document_words.iter().map(str::to_string))
        .filter(|w| w.chars().count() >= 3 && strsim::osa_distance(w, token) == 1)
        .collect();
    candidates.sort();
    candidates.dedup();
    // A letter left out is the commonest slip ("ths", "wat"): such a reading goes first.
    let length = token.chars().count();
    let (dropped, other): (Vec<String>, Vec<String>) = candidates
        .into_iter()
        .partition(|w| w.chars().count() == length + 1);
    let mut likeliest = if dropped.is_empty() { other } else { dropped };
    (likeliest.len() == 1).then(|| likeliest.remove(0))
}

/// Every list of `about.toml`: the cues of each kind, and the fillers.
fn lists(language: &Language) -> impl Iterator<Item = &Phrases> {
    let about = &language.about;
    [
        &about.author,
        &about.author_bio,
        &about.date,
        &about.publication,
        &about.title,
        &about.summary,
        &about.points,
        &about.filler,
    ]
    .into_iter()
}

/// Marks every place `phrase` stands in `tokens` (unused there) as used; whether it stood
/// anywhere.
fn mark(tokens: &[String], used: &mut [bool], phrase: &[String]) -> bool {
    if phrase.is_empty() || phrase.len() > tokens.len() {
        return false;
    }
    let mut any = false;
    for start in 0..=tokens.len() - phrase.len() {
        let at = start..start + phrase.len();
        let fits = phrase
            .iter()
            .zip(&tokens[at.clone()])
            .all(|(p, t)| matches(p, t))
            && used[at.clone()].iter().all(|u| !u);
        if fits {
            used[at].iter_mut().for_each(|u| *u = true);
            any = true;
        }
    }
    any
}

/// Whether `token` is the first word of `phrase` (read without its `~`).
fn opens_with(phrase: &[String], token: &str) -> bool {
    phrase
        .first()
        .is_some_and(|p| matches(p.trim_start_matches('~'), token))
}

/// Whether `token` is the word `pattern`, or begins with it when it ends with `*`.
fn matches(pattern: &str, token: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => token.starts_with(stem),
        None => pattern == token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Knowledge;
    use std::path::Path;

    fn bylines() -> Bylines {
        let mut k = Knowledge::default();
        k.add(
            Path::new("afghanistan.txt"),
            "+++\ntitle = \"Russia's Afghanistan Strategy\"\nsubtitle = \"How Moscow Is Preparing to Go It Alone\"\nauthor = \"Julia Gurganus\"\npublication = \"Foreign Affairs\"\ndate = \"2018-01-02\"\nurl = \"https://example.org/a\"\n+++\nRussia and the United States have had largely similar aims in Afghanistan for a long time now.\n",
        )
        .unwrap();
        Bylines::of(&k)
    }

    fn read(q: &str) -> Option<Asks> {
        let lang = crate::lang::Lang::detect(q).unwrap_or_default().language();
        asks(q, lang, &bylines(), false)
    }

    #[test]
    fn questions_about_the_document_say_what_they_ask() {
        let cases = [
            ("Who wrote this?", Asks::Author),
            ("what year was this written", Asks::Date),
            ("and who published it?", Asks::Publication),
            ("who's the author", Asks::Author),
            ("Who is Julia Gurganus?", Asks::AuthorBio),
            ("what does the author do for a living", Asks::AuthorBio),
            ("tell me about the author", Asks::AuthorBio),
            ("When was it published?", Asks::Date),
            ("how old is this article", Asks::Date),
            ("Where was this published?", Asks::Publication),
            ("what's the title", Asks::Title),
            ("What is this article about?", Asks::Summary),
            ("tl;dr", Asks::Summary),
            ("summarise the Afghanistan piece please", Asks::Summary),
            ("Кто написал эту статью?", Asks::Author),
            ("Когда опубликована статья?", Asks::Date),
            ("когда она написала эту статью", Asks::Date),
            ("Как называется статья?", Asks::Title),
            ("О чём статья?", Asks::Summary),
            ("основные тезисы", Asks::Summary),
            ("Кто такой Гурганус?", Asks::AuthorBio),
        ];
        for (q, expected) in cases {
            assert_eq!(read(q), Some(expected), "{q:?}");
        }
    }

    #[test]
    fn a_question_with_a_subject_of_its_own_is_not_about_the_document() {
        for q in [
            "Who wrote the Taliban's constitution?",
            "When did the Soviet Union withdraw from Afghanistan?",
            "What is Russia's strategy about?",
            "What did Kabulov say about a withdrawal?",
            "What about China?",
            "Where is Kabul?",
            "summarize the history of Rome",
            "Как называется столица Афганистана?",
            "Когда Россия начала переговоры с талибами?",
            "",
            "👍",
            "title:foo \"unbalanced",
        ] {
            assert_eq!(read(q), None, "{q:?}");
        }
    }

    #[test]
    fn after_an_answer_a_bare_question_word_asks_about_what_it_said() {
        let lang = crate::lang::english();
        for q in ["when?", "and where?", "who is she?", "what is it about"] {
            assert_eq!(asks(q, lang, &bylines(), true), None, "{q:?}");
        }
        let q = "when was the article published?";
        assert_eq!(asks(q, lang, &bylines(), true), Some(Asks::Date));
        assert_eq!(asks("tl;dr", lang, &bylines(), true), Some(Asks::Summary));
    }

    #[test]
    fn the_author_as_a_person_or_other_documents_are_not_this_document() {
        for q in [
            "How old is the writer?",
            "How old is he?",
            "What other articles has the author written?",
            "Какие ещё статьи написал автор?",
        ] {
            assert_eq!(read(q), None, "{q:?}");
        }
    }

    #[test]
    fn typos_are_read_as_the_word_meant() {
        assert_eq!(read("whos behind ths piece"), Some(Asks::Author));
        assert_eq!(read("whats the writers backgroud"), Some(Asks::AuthorBio));
        assert_eq!(
            read("whats the gist"),
            Some(Asks::Summary),
            "a cue is no typo"
        );
    }

    #[test]
    fn a_yes_no_question_of_the_author_is_about_the_author() {
        assert_eq!(read("is the author a diplomat?"), Some(Asks::AuthorBio));
        assert_eq!(
            read("does the writer work for a think tank"),
            Some(Asks::AuthorBio)
        );
        assert_eq!(read("is he a diplomat?"), None, "a pronoun may be anyone");
    }

    #[test]
    fn the_document_named_with_nothing_asked_of_it_asks_what_it_says() {
        assert_eq!(read("explain the article"), Some(Asks::Summary));
        assert_eq!(read("расскажи про статью"), Some(Asks::Summary));
    }

    #[test]
    fn patterns_end_in_a_star_for_every_word_they_begin() {
        assert!(matches("summar*", "summarize"));
        assert!(matches("title", "title"));
        assert!(!matches("title", "titles"));
    }
}
