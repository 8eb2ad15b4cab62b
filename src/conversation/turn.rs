//! One turn of a conversation: a message read in the context of the ones before, answered,
//! and remembered for the next.
//!
//! The bot, the terminal chat and `citebot eval` all take turns through [`turn`], so that a
//! follow-up is read, answered and remembered the same way wherever it is asked. It lives
//! beside [`crate::conversation`] rather than in it: answering needs [`crate::answer`], which
//! itself reads what the conversation understood.

use super::{understand_with, Context, Understood};
use crate::answer::{self, Reply};
use crate::engine::Engine;
use crate::lang::Lang;
use crate::retrieve::SearchError;

/// How much of a message a turn reads, and how many answers it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A longer message is cut to this many characters before it is read
    /// (`MAX_QUESTION_CHARS`).
    pub question_chars: usize,
    /// How many answers the reply explains: the bot shows one at a time, eval scores three.
    pub answers: usize,
}

/// One message of a conversation, answered.
#[derive(Debug, Clone)]
pub struct Turn {
    /// How the message was read in its context.
    pub understood: Understood,
    pub reply: Reply,
    /// What the conversation remembers after it (none: nothing to remember yet).
    pub context: Option<Context>,
    /// The message was cut to [`Limits::question_chars`] before it was read.
    pub truncated: bool,
    /// The language the message is written in (`None`: it has no letters, "?" or "👍"): the
    /// reply is worded in it.
    pub language: Option<Lang>,
}

/// Reads `message` in `context` (none: a first message, or the last one was forgotten),
/// answers it, and says what the conversation remembers after it.
pub fn turn(
    engine: &Engine,
    message: &str,
    context: Option<&Context>,
    limits: Limits,
) -> Result<Turn, SearchError> {
    let (message, truncated) = crate::analysis::truncate_chars(message, limits.question_chars);
    let understood = understand_with(message, context, &engine.names);
    let reply = answer::reply(engine, &understood, limits.answers)?;
    let context = understood.remember(context, reply.answers.first().map(Into::into));
    Ok(Turn {
        understood,
        reply,
        context,
        truncated,
        language: Lang::detect(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_before_it_is_read_and_the_turn_says_so() {
        let engine = Engine::load(&crate::Options::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap();
        let limits = Limits {
            question_chars: 21,
            answers: 1,
        };
        let long = format!("Who is Zamir Kabulov? {}", "and more ".repeat(50));
        let turn = turn(&engine, &long, None, limits).unwrap();
        assert!(turn.truncated);
        assert_eq!(turn.understood.typed, "Who is Zamir Kabulov?");
        let context = turn.context.expect("an answered question is remembered");
        assert_eq!(context.question, "Who is Zamir Kabulov?");
        let short = super::turn(&engine, "Who is Zamir Kabulov?", None, limits).unwrap();
        assert!(!short.truncated);
    }
}
