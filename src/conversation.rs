//! Conversations: a follow-up question read in the context of the one before.
//!
//! People chat. After "Who is Sergey Lavrov?" they ask "What did he call a dead end?",
//! "And China?", "Why?" or "Tell me more". On its own such a message names nothing to search
//! for, or names the wrong thing. A [`Context`] keeps what the last question was about (its
//! main words and names), what it asked for, and the passage that answered it; [`understand`]
//! reads the next message against it:
//!
//! | the message | example | understood as |
//! |---|---|---|
//! | "tell me more" | *Tell me more* | the last question again, its passage shown whole |
//! | an ellipsis that names something new | *And in Egypt?* | the last question with its last name replaced: *What has Moscow been up to in Egypt?* |
//! | an ellipsis without a name | *And his spokesperson?* | the message, about the last topic |
//! | a pronoun or demonstrative | *What did he warn Trump about?* | the message, about the last topic |
//! | a bare question | *Why?*, *How many?*, *Which model?* | the message, about the last topic |
//! | anything else | *What did Egypt offer Russia?* | itself: a topic switch starts afresh |
//!
//! "About the last topic" means the topic's words are added to what is searched, and the last
//! passage is slightly preferred (follow-ups are most often answered next to the answer
//! before). After a question who ("Who is Russia's special envoy?"), the person the answer
//! names leads the topic: "he" is Zamir Kabulov, not "special envoy". What the message asks
//! for ("why" wants a reason, "how many" a number) is read from the message itself, and an
//! answer must still hold it: context adds words to search with, never a reason to answer
//! what the document does not say.
//!
//! Everything in this file is pure. [`turn`] takes one message through it: read in its
//! context, answered, remembered; the bot, the terminal chat and eval all call it. The bot
//! keeps one context per chat (per user in groups) in a [`ConversationStore`] ([`store`]),
//! the terminal chat one for its session. A reply to an answer carries its own context,
//! read back from the answer by the rendering that wrote it (`render::context_of_answer`)
//! and built here with [`Context::of_answer`].

pub mod store;
pub mod turn;

pub use store::{ConversationStore, MemoryStore};
pub use turn::{turn, Limits, Turn};

use std::collections::HashSet;

use crate::analysis;
use crate::answer_type::{self, AnswerType};
use crate::knowledge::{Knowledge, PassageKind};
use crate::lang::{self, ConversationWords, Words};
use crate::retrieve::Hints;

/// The document's proper names, lower-cased: the words it writes capitalised inside a
/// sentence and never in lower case. With them a message typed in lower case still names
/// something: "what about syria?" asks about Syria.
#[derive(Debug, Clone, Default)]
pub struct Names(HashSet<String>);

impl Names {
    pub fn of(knowledge: &Knowledge) -> Names {
        let mut capitalised = HashSet::new();
        let mut lower = HashSet::new();
        // A title capitalises every word ("How Moscow Is Preparing to Go It Alone"): it says
        // nothing of which are names.
        let text = knowledge
            .passages
            .iter()
            .filter(|p| p.kind != PassageKind::About);
        for passage in text {
            for sentence in &passage.sentences {
                let text = &passage.text[sentence.clone()];
                for (i, t) in analysis::words(text).iter().enumerate() {
                    let w = Word::new(&t.text, t.offset_from, t.offset_to);
                    if !w.capitalised {
                        lower.insert(w.plain);
                    } else if i > 0 && w.is_content() {
                        capitalised.insert(w.plain);
                    }
                }
            }
        }
        Names(capitalised.difference(&lower).cloned().collect())
    }

    fn contains(&self, plain: &str) -> bool {
        self.0.contains(plain)
    }

    /// The names, sorted, to keep beside an index on disk: finding them reads every word of
    /// the knowledge, which a restart should not do again.
    pub fn to_lines(&self) -> String {
        let mut names: Vec<&str> = self.0.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.iter().flat_map(|n| [n, "\n"]).collect()
    }

    /// Names kept by [`Names::to_lines`].
    pub fn from_lines(lines: &str) -> Names {
        Names(
            lines
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
        )
    }

    /// A fingerprint of the word lists that decide what a name is: names kept beside an
    /// index are used again only when the lists they were found with are the same.
    pub fn rules_fingerprint() -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let l = lexicon();
        for list in [stop_words(), &l.pronouns, &l.question_starts] {
            for word in list.iter() {
                hasher.update(word.as_bytes());
                hasher.update([0]);
            }
            hasher.update([1]);
        }
        hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A question with this many informative words or fewer, and no name, is a follow-up. Not
/// two: "What's the weather like tomorrow?" would then be read as a follow-up, and the last
/// paragraph, which happens to say "weather", would answer it.
const BARE_WORDS: usize = 1;

/// How many of the topic's words and names a follow-up carries: the most recent first.
const TOPIC_WORDS: usize = 5;

/// What answered a question: the passage, and the excerpt shown from it.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    pub passage: usize,
    pub excerpt: &'a str,
}

/// What a conversation remembers of its last question. Serialisable, so that replicas can
/// keep it in a shared store (`replicas`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Context {
    /// The question as it was understood (resolved, when it was a follow-up itself).
    pub question: String,
    /// Its main words and names, most recent first: "Sergey Lavrov", "dead end".
    pub topic: Vec<String>,
    /// What it asked for, which an elliptical follow-up asks for too ("How many troops are
    /// in Syria?" "And in Libya?").
    pub asks_for: AnswerType,
    /// The passage that answered it (an index into the knowledge's passages), if any.
    pub passage: Option<usize>,
}

/// How a message was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// A question of its own.
    Standalone,
    /// "Tell me more": the last answer's passage, whole.
    More,
    /// An ellipsis naming something new, put in place of the last question's last name.
    Substituted,
    /// A pronoun, an ellipsis or a bare question word: searched with the last topic.
    WithTopic,
    /// "Thanks", "hi", "ok": nothing to search, and the conversation stays where it was.
    SmallTalk(SmallTalk),
}

/// A message as understood: what to search for, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Understood {
    /// The message as typed.
    pub typed: String,
    /// What is searched: the message itself, or the message resolved against the context.
    pub question: String,
    pub reading: Reading,
    /// What the engine needs to know besides `question`: what the context decides it asks
    /// for (else it is read from `question`), the passage the last answer came from, the
    /// words matched at full weight (the message as typed, when not all of `question`'s),
    /// the topic's words, the names an answer must mention, the document the reader chose.
    pub hints: Hints,
}

impl Understood {
    /// A message read on its own.
    pub fn standalone(message: &str) -> Understood {
        Understood {
            typed: message.to_string(),
            question: message.to_string(),
            reading: Reading::Standalone,
            hints: Hints::default(),
        }
    }

    /// A question as an answer showed it understood (its first line), read back for a
    /// button under that answer: "X (about A, B)" is X with the topic A, B, and `prior` is
    /// the passage the answer quotes.
    pub fn resolved(line: &str, prior: Option<usize>) -> Understood {
        match line.rsplit_once(" (about ") {
            Some((own, about)) if about.ends_with(')') => {
                let topic: Vec<String> = about
                    .trim_end_matches(')')
                    .split(", ")
                    .map(String::from)
                    .collect();
                Understood {
                    typed: own.to_string(),
                    question: line.to_string(),
                    reading: Reading::WithTopic,
                    hints: Hints {
                        asks_for: Some(count_the_topic(AnswerType::of(own), &topic)),
                        prior,
                        must_mention: own_names(own, &Names::default()),
                        document: None,
                        focus: Some(own.to_string()),
                        topic,
                    },
                }
            }
            _ => Understood {
                reading: Reading::Substituted,
                ..Understood::standalone(line)
            },
        }
    }

    /// The question as resolved, when the context changed it: what the reply shows and what
    /// the buttons under it act on.
    pub fn understood_as(&self) -> Option<&str> {
        matches!(
            self.reading,
            Reading::More | Reading::Substituted | Reading::WithTopic
        )
        .then_some(self.question.as_str())
    }

    /// What the conversation remembers after this question was `answered` (or not): a
    /// follow-up keeps the topic it built on, a new question starts one.
    pub fn remember(
        &self,
        before: Option<&Context>,
        answered: Option<Answered>,
    ) -> Option<Context> {
        let passage = answered.map(|a| a.passage);
        let asks_for = self
            .hints
            .asks_for
            .clone()
            .unwrap_or_else(|| AnswerType::of(&self.question));
        // After "Who is Russia's special envoy?", "he" is the person the answer names
        // ("Zamir Kabulov"), whom the question could not name: that person leads the topic.
        // After "Who is Zamir Kabulov?" (or "who is zamir kabulov"), he is the one the
        // question named, which is among the answer's people.
        let answered_who = |topic: Vec<String>| match answered {
            Some(a) if asks_for == AnswerType::Person => {
                led_by_the_person_answering(topic, a.excerpt, &self.question)
            }
            _ => topic,
        };
        match (self.reading, before) {
            // Small talk, or a message with nothing to search ("👍"), leaves the conversation
            // as it was.
            (Reading::SmallTalk(_), before) => before.cloned(),
            // A message the document could not answer, a new question or a follow-up,
            // leaves the conversation where it was: the next one is still about the last
            // answer ("Who took part?" refused, then "Did anything come out of them?").
            (_, Some(before)) if passage.is_none() => Some(before.clone()),
            (Reading::Standalone, _) | (_, None) => Some(Context {
                question: self.question.clone(),
                topic: answered_who(topic(&self.question)),
                asks_for,
                passage,
            }),
            (Reading::More, Some(before)) => Some(before.clone()),
            (Reading::Substituted, Some(_)) => Some(Context {
                question: self.question.clone(),
                topic: answered_who(topic(&self.question)),
                asks_for,
                passage,
            }),
            (Reading::WithTopic, Some(before)) => {
                // "Which helicopters?" moves the topic to helicopters; "Does it arm them?"
                // says something of the topic, which stays what it was.
                let mut words = if points_back(&message_words(&self.typed)) {
                    names(&self.typed, &Names::default())
                        .into_iter()
                        .map(|r| self.typed[r].to_string())
                        .collect()
                } else {
                    topic(&self.typed)
                };
                words.extend(before.topic.iter().cloned());
                Some(Context {
                    question: self.question.clone(),
                    topic: answered_who(dedup(words)),
                    asks_for,
                    passage,
                })
            }
        }
    }
}

/// What an answer showed, read back from it for a message that replies to it (see
/// `render::context_of_answer`, beside the rendering that writes it).
#[derive(Debug, Clone, Copy)]
pub struct ShownAnswer<'a> {
    /// The question as understood, when the answer showed it (a follow-up's answer does).
    pub understood: Option<&'a str>,
    /// The words the answer marks: the question's words.
    pub marked: &'a [String],
    /// The excerpt it quotes.
    pub excerpt: &'a str,
    /// The passage that excerpt is from, if the knowledge still holds it.
    pub passage: Option<usize>,
}

impl Context {
    /// The context an earlier answer carries, for a message that replies to it: the
    /// question it answered as it showed it understood (a follow-up's answer shows it), else
    /// the words marked in it (the question's words), and the passage its excerpt is from.
    ///
    /// An answer to a first question does not say what was asked. When the words it marks
    /// name no one and its excerpt names someone, that person leads the topic, as after a
    /// question who: after "Who is Russia's special envoy?", "he" in a reply can only be the
    /// Zamir Kabulov the answer names.
    pub fn of_answer(shown: ShownAnswer) -> Option<Context> {
        let (question, topic) = match shown.understood {
            Some(q) => (q.to_string(), topic(q)),
            None => {
                let question = dedup(shown.marked.to_vec()).join(" ");
                let topic = led_by_the_person_answering(topic(&question), shown.excerpt, &question);
                (question, topic)
            }
        };
        if question.trim().is_empty() && shown.passage.is_none() {
            return None;
        }
        Some(Context {
            topic,
            asks_for: AnswerType::of(&question),
            question,
            passage: shown.passage,
        })
    }
}

/// `topic`, led by the person `excerpt` names in answer to `question`, if any (see
/// [`answer_type::person_answering`]).
fn led_by_the_person_answering(topic: Vec<String>, excerpt: &str, question: &str) -> Vec<String> {
    let Some(person) = answer_type::person_answering(excerpt, question) else {
        return topic;
    };
    let mut topic = dedup(std::iter::once(person).chain(topic).collect());
    topic.truncate(TOPIC_WORDS);
    topic
}

/// The words a conversation is read with (pronouns, "what about", "tell me more", ...), of
/// every language at once. English and Russian are written in two scripts, so a message
/// meets only its own language's words, and a chat that switches language between two
/// turns ("Who is Kabulov?", "а когда?") is read without first telling which each is in.
fn lexicon() -> &'static ConversationWords {
    static ALL: std::sync::LazyLock<ConversationWords> = std::sync::LazyLock::new(|| {
        lang::english()
            .conversation
            .and(&lang::russian().conversation)
    });
    &ALL
}

/// Every language's stop words, as [`lexicon`] has every language's conversation words.
fn stop_words() -> &'static Words {
    static ALL: std::sync::LazyLock<Words> =
        std::sync::LazyLock::new(|| lang::english().stop_words.and(&lang::russian().stop_words));
    &ALL
}

/// Whether "this" introducing `plain` points to the document being asked about ("this
/// article", "this author"), not back to the last answer.
fn of_the_document(plain: &str) -> bool {
    lexicon().document_mentions.contains(plain)
}

/// What follows the announcement of a new topic that `message` opens with, if it does.
fn after_a_switch(message: &str) -> Option<&str> {
    let words = message_words(message);
    let plain: Vec<&str> = words.iter().map(|w| w.plain.as_str()).collect();
    let lexicon = lexicon();
    let fillers = |from: usize| {
        from + plain[from..]
            .iter()
            .take_while(|w| lexicon.switch_fillers.contains(w))
            .count()
    };
    let start = fillers(0);
    let switch = lexicon.switches.first_opening(&plain[start..])?;
    let rest = words.get(fillers(start + switch.len()))?;
    Some(&message[rest.range.start..])
}

/// A message that only greets, thanks or acknowledges ("hi", "thanks!", "ok, got it"). It
/// asks nothing: it is never read as a follow-up (with a topic, "thanks" would have found the
/// last answer again), and the conversation stays where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmallTalk {
    Greeting,
    Thanks,
    Acknowledgement,
}

impl SmallTalk {
    /// What `message` is, when it is only small talk.
    pub fn of(message: &str) -> Option<SmallTalk> {
        let words = message_words(message);
        let l = lexicon();
        let is = |list: &lang::Words| words.iter().any(|w| list.contains(&w.plain));
        let all_small = words.iter().all(|w| {
            [
                &l.greetings,
                &l.thanks,
                &l.acknowledgements,
                &l.small_talk_fillers,
            ]
            .iter()
            .any(|list| list.contains(&w.plain))
        });
        if words.is_empty() || !all_small {
            None
        } else if is(&l.thanks) {
            Some(SmallTalk::Thanks)
        } else if is(&l.greetings) {
            Some(SmallTalk::Greeting)
        } else if is(&l.acknowledgements) {
            Some(SmallTalk::Acknowledgement)
        } else {
            None
        }
    }
}

/// Reads `message` in `context` (none: a first question, or the last one expired), knowing
/// names only by their capitals.
pub fn understand(message: &str, context: Option<&Context>) -> Understood {
    understand_with(message, context, &Names::default())
}

/// Reads `message` in `context`, knowing the document's `names` in any case.
pub fn understand_with(message: &str, context: Option<&Context>, known: &Names) -> Understood {
    if let Some(kind) = SmallTalk::of(message) {
        return Understood {
            reading: Reading::SmallTalk(kind),
            ..Understood::standalone(message)
        };
    }
    if let Some(question) = after_a_switch(message) {
        return Understood {
            typed: message.to_string(),
            ..Understood::standalone(question)
        };
    }
    let Some(context) = context else {
        return Understood::standalone(message);
    };
    let words = message_words(message);
    let plain: Vec<&str> = words.iter().map(|w| w.plain.as_str()).collect();
    if plain.is_empty() {
        return Understood::standalone(message);
    }

    if lexicon().more.is(&plain) {
        return more_of_the_same(message, context);
    }
    // "Tell me more about the cultural centre": a question about that, in this topic.
    if lexicon().more_about.opens(&plain) {
        return in_the_topic(message, context, known);
    }

    let lead = lexicon().leads.first_opening(&plain).map_or(0, |l| l.len());
    let rest = &words[lead..];
    if is_ellipsis(lead, rest) {
        return read_ellipsis(message, context, known, rest);
    }

    let points_back = points_back(rest);
    let bare = too_short_to_stand_alone(message, rest, known);
    if points_back || bare {
        return in_the_topic(message, context, known);
    }
    Understood::standalone(message)
}

/// `message` asked in the context's topic: its own words at full weight, the topic's beside
/// them, the last answer's passage preferred a little.
fn in_the_topic(message: &str, context: &Context, known: &Names) -> Understood {
    Understood {
        typed: message.to_string(),
        question: with_topic(message, &context.topic),
        reading: Reading::WithTopic,
        hints: Hints {
            asks_for: Some(count_the_topic(AnswerType::of(message), &context.topic)),
            prior: context.passage,
            focus: Some(message.to_string()),
            topic: context.topic.clone(),
            must_mention: own_names(message, known),
            document: None,
        },
    }
}

/// "Tell me more": the last question again, asking for the same kind of answer, from near
/// the last answer's passage.
fn more_of_the_same(message: &str, context: &Context) -> Understood {
    Understood {
        typed: message.to_string(),
        question: context.question.clone(),
        reading: Reading::More,
        hints: Hints {
            asks_for: Some(context.asks_for.clone()),
            prior: context.passage,
            ..Hints::default()
        },
    }
}

/// Whether a message opened by a lead of `lead` words ("and", "what about") is an ellipsis:
/// what follows the lead is no question of its own ("And why did they leave?" is one).
fn is_ellipsis(lead: usize, rest: &[Word]) -> bool {
    lead > 0
        && rest
            .first()
            .is_none_or(|w| !lexicon().question_starts.contains(&w.plain))
}

/// Reads an ellipsis, `rest` being its words after the lead: the last question with a name
/// swapped, or a question in the topic whose answer must hold what the ellipsis names.
fn read_ellipsis(message: &str, context: &Context, known: &Names, rest: &[Word]) -> Understood {
    let asks_for = match AnswerType::of(message) {
        AnswerType::Any => context.asks_for.clone(),
        own => own,
    };
    // What the ellipsis asks about: its words, less an adverb, which says how, not what.
    let asked: Vec<&Word> = rest
        .iter()
        .filter(|w| w.is_content() && !w.is_adverb())
        .collect();
    if let Some(question) = with_the_name_swapped(message, context, known, &asked) {
        return Understood {
            typed: message.to_string(),
            question,
            reading: Reading::Substituted,
            hints: Hints {
                asks_for: Some(asks_for),
                must_mention: own_names(message, known),
                ..Hints::default()
            },
        };
    }
    // "And his spokesperson?": whatever the ellipsis names, the answer must hold.
    let named: Vec<String> = asked
        .iter()
        .map(|w| message[w.range.clone()].to_string())
        .collect();
    let mut understood = in_the_topic(message, context, known);
    understood.hints.asks_for = Some(asks_for);
    understood.hints.must_mention = named;
    understood
}

/// "And in Egypt?" swaps Egypt in for the last name of the last question; "what about the
/// afghan officers" asks about the officers, with Afghanistan as the topic: a name is
/// swapped only when the words `asked` are all names.
fn with_the_name_swapped(
    message: &str,
    context: &Context,
    known: &Names,
    asked: &[&Word],
) -> Option<String> {
    let new_names = names(message, known);
    let only_names = asked.iter().all(|w| {
        new_names
            .iter()
            .any(|r| r.start <= w.range.start && w.range.end <= r.end)
    });
    let new_name = new_names.into_iter().next().filter(|_| only_names);
    let old_name = names(&context.question, known).into_iter().last();
    let (Some(new), Some(old)) = (new_name, old_name) else {
        return None;
    };
    Some(format!(
        "{}{}{}",
        &context.question[..old.start],
        &message[new.clone()],
        &context.question[old.end..]
    ))
}

/// "Which model?", "Why?": too few words of its own (`rest`, after any lead) to stand alone.
/// A question about the document itself ("What's the title of this article?") stands alone
/// however short.
fn too_short_to_stand_alone(message: &str, rest: &[Word], known: &Names) -> bool {
    let own_words = rest.iter().filter(|w| w.is_content()).count();
    let about_the_document = rest.iter().any(|w| of_the_document(&w.plain));
    own_words <= BARE_WORDS && names(message, known).is_empty() && !about_the_document
}

/// "How many?" after "Which helicopters?" counts helicopters: a bare count takes the
/// topic's first word that is not a name as the thing counted.
fn count_the_topic(asks_for: AnswerType, topic: &[String]) -> AnswerType {
    match asks_for {
        AnswerType::Number { counted } if counted.is_empty() => AnswerType::Number {
            counted: topic
                .iter()
                .find(|w| !w.chars().next().is_some_and(char::is_uppercase))
                .map(|w| vec![w.to_lowercase()])
                .unwrap_or_default(),
        },
        other => other,
    }
}

/// The names `message` holds, as written.
fn own_names(message: &str, known: &Names) -> Vec<String> {
    names(message, known)
        .into_iter()
        .map(|r| message[r].to_string())
        .collect()
}

/// Whether `words` hold a pronoun, or a demonstrative that stands for a noun.
fn points_back(words: &[Word]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        let next = words.get(i + 1).map(|n| n.plain.as_str());
        let l = lexicon();
        l.pronouns.contains(&w.plain)
            // "Who said that?", "that cooperation": not "this article", the document itself.
            || (l.demonstratives.contains(&w.plain) && next.is_none_or(|n| !of_the_document(n)))
            // "What is Trump planning to do there?", not "there are three".
            || (l.place_pronouns.contains(&w.plain)
                && next.is_none_or(|n| !l.existential_verbs.contains(n)))
    })
}

/// `message`, with what it is about: "Why? (about Russia, Pakistan, 2016)".
fn with_topic(message: &str, topic: &[String]) -> String {
    if topic.is_empty() {
        return message.to_string();
    }
    format!("{} (about {})", message.trim(), topic.join(", "))
}

/// One word of a message.
struct Word {
    /// Lower-cased, apostrophes dropped: how the stop words are spelled.
    plain: String,
    capitalised: bool,
    range: std::ops::Range<usize>,
}

impl Word {
    fn new(text: &str, from: usize, to: usize) -> Word {
        Word {
            plain: text
                .chars()
                .filter(|c| !matches!(c, '\'' | '’'))
                .flat_map(char::to_lowercase)
                .collect(),
            capitalised: text.chars().next().is_some_and(char::is_uppercase),
            range: from..to,
        }
    }

    fn is_content(&self) -> bool {
        let l = lexicon();
        !stop_words().contains(&self.plain)
            && !l.pronouns.contains(&self.plain)
            && !l.question_starts.contains(&self.plain)
    }

    /// An adverb of manner or degree ("specifically", "exactly", "actually"): long words in
    /// "-ly" are, nouns such as "assembly" or "monopoly" aside.
    fn is_adverb(&self) -> bool {
        let l = lexicon();
        self.plain.len() >= 6
            && l.adverb_endings.iter().any(|end| self.plain.ends_with(end))
            && !self.capitalised
            && !l.nouns_in_ly.contains(&self.plain)
    }
}

fn message_words(text: &str) -> Vec<Word> {
    analysis::words(text)
        .into_iter()
        .map(|t| Word::new(&t.text, t.offset_from, t.offset_to))
        .collect()
}

/// The names in `text` (byte ranges): runs of informative words that are capitalised or
/// that the document knows as names.
fn names(text: &str, known: &Names) -> Vec<std::ops::Range<usize>> {
    names_from(text, known, 1)
}

/// [`names`], with capitalised words counting from word `first_capital` on: a message's first
/// word is capitalised whatever it is ("Since when?"), a list of words' is not.
fn names_from(text: &str, known: &Names, first_capital: usize) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut last_end: Option<usize> = None;
    for (i, w) in message_words(text).into_iter().enumerate() {
        let name_like = known.contains(&w.plain) || (w.capitalised && i >= first_capital);
        if name_like && w.is_content() {
            // Tokens may overlap ("Mi-17s" is a word and its parts): only a gap of white
            // space joins two words into one name.
            let joined = last_end.is_some_and(|end| {
                text.get(end..w.range.start)
                    .is_some_and(|gap| gap.trim().is_empty())
            });
            match out.last_mut() {
                Some(run) if joined => run.end = run.end.max(w.range.end),
                Some(run) if w.range.start < run.end => run.end = run.end.max(w.range.end),
                _ => out.push(w.range.clone()),
            }
            last_end = Some(w.range.end);
        } else {
            last_end = None;
        }
    }
    out
}

/// What `question` is about: its names, and its other informative words, in order.
pub fn topic(question: &str) -> Vec<String> {
    // The topic a follow-up was resolved with is the follow-up's topic too.
    let (own, about) = match question.rsplit_once(" (about ") {
        Some((own, about)) => (own, about.trim_end_matches(')')),
        None => (question, ""),
    };
    // The topic is kept from questions and from the words an answer marks ("Zamir
    // Kabulov"), whose first word may well be a name.
    let names = names_from(own, &Names::default(), 0);
    let mut words: Vec<String> = names.iter().map(|r| own[r.clone()].to_string()).collect();
    for w in message_words(own) {
        let in_name = names
            .iter()
            .any(|r| r.start <= w.range.start && w.range.end <= r.end);
        if w.is_content() && !in_name {
            words.push(own[w.range].to_string());
        }
    }
    words.extend(
        about
            .split(", ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    let mut words = dedup(words);
    words.truncate(TOPIC_WORDS);
    words
}

/// Each word once (case aside), first occurrence kept.
fn dedup(words: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    words
        .into_iter()
        .filter(|w| seen.insert(w.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(passage: usize) -> Option<Answered<'static>> {
        Some(Answered {
            passage,
            excerpt: "",
        })
    }

    fn after(question: &str, passage: Option<usize>) -> Context {
        Understood::standalone(question)
            .remember(None, passage.and_then(at))
            .expect("a context")
    }

    #[test]
    fn after_a_question_who_the_person_answered_leads_the_topic() {
        let answered = Answered {
            passage: 4,
            excerpt: "In January 2017, Zamir Kabulov, the Special Representative to the \
                      Russian President for Afghanistan, said that…",
        };
        let who = Understood::standalone("Who is Russia's special envoy for Afghanistan?");
        let context = who.remember(None, Some(answered)).unwrap();
        assert_eq!(context.topic[0], "Zamir Kabulov");
        let u = understand("What did he warn Trump about?", Some(&context));
        assert!(u
            .question
            .ends_with("(about Zamir Kabulov, Russia, Afghanistan, special, envoy)"));
        // Any other question keeps the topic it named, and so does one that names its person.
        for question in [
            "What did Russia's special envoy say?",
            "who is zamir kabulov",
            "Who is Kabulov?",
        ] {
            let context = Understood::standalone(question)
                .remember(None, Some(answered))
                .unwrap();
            assert_eq!(context.topic, topic(question), "{question}");
        }
    }

    #[test]
    fn a_first_question_is_read_as_it_is() {
        let u = understand("Who is Sergey Lavrov?", None);
        assert_eq!(u.reading, Reading::Standalone);
        assert_eq!(u.question, "Who is Sergey Lavrov?");
        assert_eq!(u.understood_as(), None);
    }

    #[test]
    fn the_topic_keeps_names_whole() {
        assert_eq!(
            topic("What did Sergey Lavrov think of Trump's Afghan plan?"),
            ["Sergey Lavrov", "Trump", "Afghan", "think", "plan"]
        );
        assert_eq!(topic("Why?"), Vec::<String>::new());
    }

    #[test]
    fn pronouns_take_the_last_topic_and_prefer_its_passage() {
        let c = after("Who is Sergey Lavrov?", Some(4));
        let u = understand("What did he call a dead end?", Some(&c));
        assert_eq!(u.reading, Reading::WithTopic);
        assert_eq!(
            u.question,
            "What did he call a dead end? (about Sergey Lavrov)"
        );
        assert_eq!(u.hints.prior, Some(4));
        assert_eq!(u.understood_as(), Some(u.question.as_str()));
    }

    #[test]
    fn bare_question_words_ask_their_own_thing_about_the_last_topic() {
        let c = after("What did Russia and Pakistan agree on in 2016?", Some(9));
        for (message, wants) in [
            ("Why?", AnswerType::Reason),
            ("When?", AnswerType::Date),
            ("Who said that?", AnswerType::Person),
            // "kind", "sort" and "stuff" say nothing of what is asked about.
            ("What kind of helicopters?", AnswerType::Any),
            ("and the airspace stuff", AnswerType::Any),
        ] {
            let u = understand(message, Some(&c));
            assert_eq!(u.reading, Reading::WithTopic, "{message}");
            assert_eq!(u.hints.asks_for, Some(wants), "{message}");
            assert!(u
                .question
                .ends_with("(about Russia, Pakistan, agree, 2016)"));
        }
    }

    #[test]
    fn an_understood_line_reads_back_as_it_was_understood() {
        let c = after("Who is Sergey Lavrov?", Some(4));
        let u = understand("What did he call a dead end?", Some(&c));
        assert_eq!(Understood::resolved(&u.question, u.hints.prior), u);
        let c = after("What has Moscow been up to in Libya?", Some(5));
        let u = understand("And in Egypt?", Some(&c));
        let back = Understood::resolved(&u.question, None);
        assert_eq!((back.question, back.reading), (u.question, u.reading));
    }

    #[test]
    fn a_bare_count_counts_what_the_topic_moved_to() {
        let first = after("What did Russia and Pakistan agree on in 2016?", Some(9));
        let u = understand("Which helicopters?", Some(&first));
        let second = u.remember(Some(&first), at(9)).unwrap();
        assert_eq!(second.topic[0], "helicopters");
        let u = understand("How many?", Some(&second));
        assert_eq!(
            u.hints.asks_for,
            Some(AnswerType::Number {
                counted: vec!["helicopters".into()]
            })
        );
    }

    #[test]
    fn an_ellipsis_with_a_new_name_replaces_the_last_one() {
        let c = after("What has Moscow been up to in Libya?", Some(5));
        for (message, want) in [
            ("And in Egypt?", "What has Moscow been up to in Egypt?"),
            ("what about Syria?", "What has Moscow been up to in Syria?"),
            ("And China?", "What has Moscow been up to in China?"),
        ] {
            let u = understand(message, Some(&c));
            assert_eq!(u.reading, Reading::Substituted, "{message}");
            assert_eq!(u.question, want);
            assert_eq!(u.hints.prior, None, "a new name is looked for anywhere");
        }
    }

    #[test]
    fn the_documents_names_are_names_in_lower_case_too() {
        let knowledge =
            Knowledge::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"))
                .unwrap();
        let known = Names::of(&knowledge);
        assert!(known.contains("syria") && known.contains("kabulov"));
        assert!(!known.contains("foreign"), "written in lower case too");
        // Only the title capitalises "Go It Alone"; "go" is no name.
        assert!(!known.contains("go") && !known.contains("alone"));
        let c = after("What has Moscow been up to in Libya?", Some(5));
        let u = understand_with("what about syria?", Some(&c), &known);
        assert_eq!(u.question, "What has Moscow been up to in syria?");
        assert_eq!(u.hints.must_mention, ["syria"]);
        let u = understand_with("and his spokesperson?", Some(&c), &known);
        assert_eq!(u.reading, Reading::WithTopic);
        assert_eq!(
            u.hints.must_mention,
            ["spokesperson"],
            "an ellipsis's words must be answered"
        );
    }

    #[test]
    fn an_ellipsis_asks_what_the_last_question_asked_unless_it_says() {
        let c = after("How many troops does Russia have in Syria?", None);
        let u = understand("And in Libya?", Some(&c));
        assert_eq!(
            u.hints.asks_for,
            Some(AnswerType::Number {
                counted: vec!["troops".into()]
            })
        );
        let u = understand("And why?", Some(&c));
        assert_eq!(u.hints.asks_for, Some(AnswerType::Reason));
    }

    #[test]
    fn an_ellipsis_without_a_name_takes_the_topic() {
        let c = after(
            "What did Sergey Lavrov think of Trump's Afghan plan?",
            Some(4),
        );
        let u = understand("And his spokesperson?", Some(&c));
        assert_eq!(u.reading, Reading::WithTopic);
        assert!(u
            .question
            .starts_with("And his spokesperson? (about Sergey Lavrov"));
        assert_eq!(u.hints.prior, Some(4));
        assert_eq!(u.hints.must_mention, ["spokesperson"]);
        // An adverb says how, not what: the answer need not hold it.
        let u = understand("And with the Taliban specifically?", Some(&c));
        assert_eq!(u.hints.must_mention, ["Taliban"]);
        let u = understand("what about the assembly exactly", Some(&c));
        assert_eq!(u.hints.must_mention, ["assembly"]);
        let u = understand("And Ashraf Ghani exactly?", Some(&c));
        assert_eq!(u.reading, Reading::Substituted);
    }

    #[test]
    fn tell_me_more_is_the_last_question_again() {
        let c = after("Why did Russia's confidence in the US fade?", Some(3));
        for message in [
            "Tell me more",
            "more",
            "Go on.",
            "tell me more please",
            "Like what?",
            "How so?",
        ] {
            let u = understand(message, Some(&c));
            assert_eq!(u.reading, Reading::More, "{message}");
            assert_eq!(u.question, c.question);
            assert_eq!(u.hints.prior, Some(3));
        }
        let u = understand("Tell me more about the cultural center", Some(&c));
        assert_eq!(u.reading, Reading::WithTopic);
    }

    #[test]
    fn a_question_that_stands_on_its_own_is_not_bent() {
        let c = after("Who is Sergey Lavrov?", Some(4));
        for message in [
            "What did Egypt offer Russia?",
            "What's the title of this article?",
            "Which countries have joined the Shanghai Cooperation Organisation recently?",
            "Does Russia want America to leave Afghanistan?",
            "What did Kabulov say would happen if the troops left?",
        ] {
            let u = understand(message, Some(&c));
            assert_eq!(u.reading, Reading::Standalone, "{message}");
            assert_eq!(u.question, message);
        }
    }

    #[test]
    fn a_new_topic_announced_stands_on_its_own() {
        let c = after("Who is Sergey Lavrov?", Some(4));
        for (message, question) in [
            ("different question: what did he say?", "what did he say?"),
            ("ok, totally unrelated but why?", "why?"),
            (
                "diff topic - whats russia doing in libya",
                "whats russia doing in libya",
            ),
            ("Switching topics, and Egypt?", "Egypt?"),
        ] {
            for context in [Some(&c), None] {
                let u = understand(message, context);
                assert_eq!(u.reading, Reading::Standalone, "{message}");
                assert_eq!((u.typed.as_str(), u.question.as_str()), (message, question));
            }
        }
        // Only an announcement at the start counts, and one with nothing after it is no
        // announcement of anything.
        let u = understand("what did he say on a different topic?", Some(&c));
        assert_eq!(u.reading, Reading::WithTopic);
        let u = understand("different topic", Some(&c));
        assert_eq!(u.question, "different topic");
    }

    #[test]
    fn demonstratives_point_back_only_when_they_stand_alone() {
        let c = after("Who is Mohammad Atmar?", Some(7));
        assert_eq!(
            understand("When did he say that?", Some(&c)).reading,
            Reading::WithTopic
        );
        assert_eq!(
            understand("Who published this article in January?", Some(&c)).reading,
            Reading::Standalone
        );
        assert_eq!(
            understand("What is Trump planning to do there?", Some(&c)).reading,
            Reading::WithTopic
        );
    }

    #[test]
    fn small_talk_is_no_follow_up_and_leaves_the_conversation_as_it_was() {
        for (message, kind) in [
            ("thanks!", SmallTalk::Thanks),
            ("Thank you very much", SmallTalk::Thanks),
            ("ok, thanks", SmallTalk::Thanks),
            ("hi there", SmallTalk::Greeting),
            ("Good morning!", SmallTalk::Greeting),
            ("good evening", SmallTalk::Greeting),
            ("ok, got it", SmallTalk::Acknowledgement),
            ("Cool", SmallTalk::Acknowledgement),
        ] {
            assert_eq!(SmallTalk::of(message), Some(kind), "{message}");
        }
        // A question, or a word that only goes with small talk, is none.
        for message in [
            "thanks, and China?",
            "ok so who is kabulov",
            "so?",
            "that",
            "Is it good?",
            "",
            "👍",
        ] {
            assert_eq!(SmallTalk::of(message), None, "{message}");
        }
        let first = after("Who is Mohammad Atmar?", Some(7));
        let u = understand("Thanks!", Some(&first));
        assert_eq!(u.reading, Reading::SmallTalk(SmallTalk::Thanks));
        assert_eq!(u.understood_as(), None);
        assert_eq!(u.remember(Some(&first), None), Some(first.clone()));
        assert_eq!(u.remember(None, None), None);
    }

    #[test]
    fn remembering_builds_the_topic_and_keeps_it_through_an_unanswered_follow_up() {
        let first = after("Who is Mohammad Atmar?", Some(7));
        let u = understand("What did he say about Moscow?", Some(&first));
        let second = u.remember(Some(&first), at(7)).unwrap();
        assert_eq!(second.topic, ["Moscow", "Mohammad Atmar"]);
        let u = understand("How much did he earn?", Some(&second));
        assert_eq!(u.remember(Some(&second), None), Some(second.clone()));
        // A new question starts a new topic when it is answered. One that is not leaves
        // the conversation where it was: "them" in the next message is still the last
        // answer's ("Who took part?" refused, then "Did anything come out of them?").
        let u = understand("What is the weather in Paris?", Some(&second));
        assert_eq!(u.remember(Some(&second), None), Some(second.clone()));
        let third = u.remember(Some(&second), at(2)).unwrap();
        assert_eq!(third.topic, ["Paris", "weather"]);
    }

    #[test]
    fn odd_messages_do_not_panic() {
        let c = after("Who is Sergey Lavrov?", Some(4));
        for message in [
            "",
            "   ",
            "???",
            "😀 and?",
            "And",
            "and 😀?",
            "And İstanbul?",
            "what about",
            "\"unbalanced",
            "field:value",
            &"and he ".repeat(2_000),
        ] {
            let _ = understand(message, Some(&c));
        }
        // Words whose parts are words too ("Mi-17s") once made names overlap.
        let q = "Why did the Pentagon stop buying Mi-17s, according to Moscow?";
        assert_eq!(topic(q)[..2], ["Pentagon", "Mi-17s"]);
    }
}
