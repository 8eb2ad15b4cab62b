//! The bot's commands. Each enum is the one list of its kind: it parses a message's command,
//! fills the menu Telegram clients show (`setMyCommands`), and lists the commands in /help.
//! [`Admin`] commands are for the user ids in `ADMIN_IDS`: only their menus show them, and
//! for anyone else they are unknown commands.

use teloxide::utils::command::BotCommands;

#[derive(BotCommands, Debug, Clone, Copy, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    #[command(description = "Ask a question about the article")]
    Ask,
    #[command(description = "Start a new conversation: forget the last question")]
    New,
    #[command(description = "How to ask, and what the buttons do")]
    Help,
    #[command(description = "The documents I answer from")]
    About,
    #[command(description = "Start over")]
    Start,
}

/// What the keeper of the knowledge may ask.
#[derive(BotCommands, Debug, Clone, Copy, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Admin {
    #[command(description = "Admin: questions and answers of the last 7 days")]
    Stats,
    #[command(description = "Admin: the last 10 questions nothing answered")]
    Unanswered,
    #[command(description = "Admin: re-read knowledge/ and swap it in")]
    Reload,
}

/// A message that starts with a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// One of ours, and the text after it.
    Ours(Command, &'a str),
    /// An admin command (whoever sent it: the handler checks).
    Admin(Admin),
    /// Addressed to another bot (`/help@OtherBot`).
    OtherBot,
    /// A command we do not know.
    Unknown,
}

/// Reads the command `text` starts with, if any. Telegram clients send `/Ask@Bot`, `/ask\n…`
/// or `/ask  …`; the name is matched case-insensitively and the rest trimmed.
pub fn parse<'a>(text: &'a str, username: &str) -> Option<Parsed<'a>> {
    let text = text.strip_prefix('/')?;
    let (head, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let name = head.split('@').next().unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let head = format!("/{}", head.to_ascii_lowercase());
    Some(match Command::parse(&head, username) {
        Ok(command) => Parsed::Ours(command, rest.trim()),
        Err(teloxide::utils::command::ParseError::WrongBotName(_)) => Parsed::OtherBot,
        Err(_) => match Admin::parse(&head, username) {
            Ok(admin) => Parsed::Admin(admin),
            Err(_) => Parsed::Unknown,
        },
    })
}

/// The admin commands and their descriptions, for the admins' menu.
pub fn admin_list() -> Vec<(String, String)> {
    Admin::bot_commands()
        .into_iter()
        .map(|c| (c.command.trim_start_matches('/').to_string(), c.description))
        .collect()
}

/// The commands and their descriptions, for /help.
pub fn list() -> Vec<(String, String)> {
    Command::bot_commands()
        .into_iter()
        .map(|c| (c.command.trim_start_matches('/').to_string(), c.description))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let cases = [
            ("/start", Some(Parsed::Ours(Command::Start, ""))),
            (
                "/start deep-link",
                Some(Parsed::Ours(Command::Start, "deep-link")),
            ),
            (
                "/ASK@CiteBot  Who is Atmar? ",
                Some(Parsed::Ours(Command::Ask, "Who is Atmar?")),
            ),
            (
                "/ask\nWho is Atmar?",
                Some(Parsed::Ours(Command::Ask, "Who is Atmar?")),
            ),
            ("/ask", Some(Parsed::Ours(Command::Ask, ""))),
            ("/new", Some(Parsed::Ours(Command::New, ""))),
            ("/help@OtherBot", Some(Parsed::OtherBot)),
            ("/frobnicate", Some(Parsed::Unknown)),
            ("/stats", Some(Parsed::Admin(Admin::Stats))),
            ("/Reload@citebot", Some(Parsed::Admin(Admin::Reload))),
            ("/", None),
            ("/ 1", None),
            ("/€uro", None),
            ("not a command", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, "citebot"), want, "{text:?}");
        }
    }

    #[test]
    fn the_menu_lists_every_command() {
        let names: Vec<String> = list().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["ask", "new", "help", "about", "start"]);
    }
}
