//! The bot's commands. Each enum is the one list of its kind: it parses a message's command
//! with its payload (teloxide's `BotCommands`), routes it in the handler tree
//! ([`filter_command`]), and names the commands of the menu Telegram clients show
//! (`setMyCommands`) and of /help. What each command does is said in
//! [`crate::texts::command_description`], with every other text a user sees. [`Admin`]
//! commands are for the user ids in `ADMIN_IDS`: only their menus show them, and for anyone
//! else they are unknown commands.

use teloxide::dispatching::DpHandlerDescription;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, Me};
use teloxide::utils::command::{BotCommands, ParseError};

use crate::lang::Lang;
use crate::texts;

// No doc comments on the variants: teloxide would take them for the descriptions, which
// are texts.
#[derive(BotCommands, Debug, Clone, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    // The question after the command, trimmed: empty when there is none.
    Ask(String),
    // The document to sum up, in the reader's words: empty for the only one, or to choose.
    Summary(String),
    New,
    Help,
    About,
    Start,
}

/// What the keeper of the knowledge may ask.
#[derive(BotCommands, Debug, Clone, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Admin {
    Stats,
    Unanswered,
    Reload,
    // The document to remove (its number, file name or title): empty to choose from a list.
    Remove(String),
}

/// A command as Telegram clients send it (`/Ask@Bot`, `/ask\n…`, `/ask  …`) in the form
/// teloxide's parser reads: the name lower-cased, one space before what follows, which is
/// trimmed. `None` when `text` does not start with a command.
fn normalised(text: &str) -> Option<String> {
    let text = text.strip_prefix('/')?;
    let (head, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let name = head.split('@').next().unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let head = head.to_ascii_lowercase();
    Some(match rest.trim() {
        "" => format!("/{head}"),
        rest => format!("/{head} {rest}"),
    })
}

/// `text`'s command as one of `C`'s, when `text` starts with a command. The name is matched
/// case-insensitively; a command addressed to another bot is `ParseError::WrongBotName`.
pub fn parse<C: BotCommands>(text: &str, username: &str) -> Option<Result<C, ParseError>> {
    Some(C::parse(&normalised(text)?, username))
}

/// Whether `text` starts with a command, ours or not.
pub fn is_command(text: &str) -> bool {
    normalised(text).is_some()
}

/// Whether `text` is a command addressed to another bot (`/help@OtherBot`).
pub fn for_another_bot(text: &str, username: &str) -> bool {
    matches!(
        parse::<Command>(text, username),
        Some(Err(ParseError::WrongBotName(_)))
    )
}

/// The bot's username (every bot has one; an empty name only makes commands addressed to
/// it unknown, where `Me::username` would panic).
pub fn username(me: &Me) -> &str {
    me.user.username.as_deref().unwrap_or_default()
}

/// teloxide's `filter_command`, reading commands as Telegram clients send them (see
/// [`parse`]): the message's command `C` goes on to the handlers below, or the message goes
/// by.
pub fn filter_command<C, Output>() -> Handler<'static, Output, DpHandlerDescription>
where
    C: BotCommands + Send + Sync + 'static,
    Output: Send + Sync + 'static,
{
    dptree::filter_map(|msg: Message, me: Me| {
        let text = msg.text().or(msg.caption())?;
        parse::<C>(text, username(&me))?.ok()
    })
}

/// The commands of `C` and what they do in `lang`, names without the slash.
fn described<C: BotCommands>(lang: Lang) -> Vec<(String, String)> {
    C::bot_commands()
        .into_iter()
        .map(|c| {
            let name = c.command.trim_start_matches('/').to_string();
            let description = texts::command_description(&name, lang).to_string();
            (name, description)
        })
        .collect()
}

/// The commands and their descriptions in `lang`, for /help.
pub fn list(lang: Lang) -> Vec<(String, String)> {
    described::<Command>(lang)
}

/// The commands, as Telegram clients list them (names without the slash, as the Bot API
/// documents them), described in `lang`.
pub fn menu(lang: Lang) -> Vec<BotCommand> {
    to_menu(described::<Command>(lang))
}

/// The admin commands, for the menu of the admins only.
pub fn admin_menu(lang: Lang) -> Vec<BotCommand> {
    to_menu(described::<Admin>(lang))
}

fn to_menu(commands: Vec<(String, String)>) -> Vec<BotCommand> {
    commands
        .into_iter()
        .map(|(name, description)| BotCommand::new(name, description))
        .collect()
}

/// Whether a message is for the bot: anything in a private chat; in a group `/ask`, a
/// mention, or a reply to the bot. A command for another bot never is.
pub fn addressed(msg: &Message, me: &Me) -> bool {
    let Some(text) = msg.text().or(msg.caption()) else {
        return false;
    };
    let username = username(me);
    if for_another_bot(text, username) {
        return false;
    }
    msg.chat.is_private()
        || matches!(parse::<Command>(text, username), Some(Ok(Command::Ask(_))))
        || text
            .to_lowercase()
            .contains(&format!("@{}", username.to_lowercase()))
        || msg
            .reply_to_message()
            .and_then(|m| m.from.as_ref())
            .is_some_and(|u| u.id == me.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How a message's command reads, whichever enum has it.
    #[derive(Debug, PartialEq)]
    enum Parsed {
        Ours(Command),
        Admin(Admin),
        OtherBot,
        Unknown,
    }

    fn classify(text: &str) -> Option<Parsed> {
        Some(match parse::<Command>(text, "citebot")? {
            Ok(command) => Parsed::Ours(command),
            Err(ParseError::WrongBotName(_)) => Parsed::OtherBot,
            Err(_) => match parse::<Admin>(text, "citebot")? {
                Ok(admin) => Parsed::Admin(admin),
                Err(_) => Parsed::Unknown,
            },
        })
    }

    #[test]
    fn commands_parse() {
        let ask = |q: &str| Some(Parsed::Ours(Command::Ask(q.to_string())));
        let cases = [
            ("/start", Some(Parsed::Ours(Command::Start))),
            ("/start deep-link", Some(Parsed::Ours(Command::Start))),
            ("/ASK@CiteBot  Who is Atmar? ", ask("Who is Atmar?")),
            ("/ask\nWho is Atmar?", ask("Who is Atmar?")),
            ("/ask", ask("")),
            ("/new", Some(Parsed::Ours(Command::New))),
            (
                "/summary",
                Some(Parsed::Ours(Command::Summary(String::new()))),
            ),
            (
                "/summary bees",
                Some(Parsed::Ours(Command::Summary("bees".to_string()))),
            ),
            ("/help@OtherBot", Some(Parsed::OtherBot)),
            ("/frobnicate", Some(Parsed::Unknown)),
            ("/stats", Some(Parsed::Admin(Admin::Stats))),
            ("/Reload@citebot", Some(Parsed::Admin(Admin::Reload))),
            ("/remove", Some(Parsed::Admin(Admin::Remove(String::new())))),
            (
                "/remove  bees.txt ",
                Some(Parsed::Admin(Admin::Remove("bees.txt".to_string()))),
            ),
            ("/", None),
            ("/ 1", None),
            ("/€uro", None),
            ("not a command", None),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), want, "{text:?}");
        }
        assert!(for_another_bot("/stats@OtherBot", "citebot"));
        assert!(!for_another_bot("/stats@CiteBot", "citebot"));
    }

    #[test]
    fn the_menu_lists_every_command_with_what_it_does() {
        for lang in Lang::ALL {
            let names: Vec<String> = list(lang).into_iter().map(|(n, _)| n).collect();
            assert_eq!(names, ["ask", "summary", "new", "help", "about", "start"]);
            for (name, description) in
                described::<Command>(lang)
                    .into_iter()
                    .chain(described::<Admin>(lang))
            {
                assert!(
                    !description.is_empty(),
                    "/{name} has a description in {lang}"
                );
            }
            let admin: Vec<String> = admin_menu(lang).into_iter().map(|c| c.command).collect();
            assert_eq!(admin, ["stats", "unanswered", "reload", "remove"]);
        }
        assert_eq!(list(Lang::Ru)[0].1, "Задать вопрос о статье");
    }
}
