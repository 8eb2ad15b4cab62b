//! Settings, from the environment (and `.env`, which `main` loads with dotenvy first).
//!
//! Every variable is listed, with a comment, in `.env.example`. The bot token lives in a
//! [`Token`], whose `Debug` and `Display` never show it, so that no log line, error or panic
//! message can carry it.

use crate::analysis::MAX_QUESTION_CHARS;
use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The bot token. Shown only through [`Token::expose`], when it is handed to teloxide.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Checks the shape Telegram gives tokens: `<bot id>:<secret>`.
    pub fn parse(raw: &str) -> Result<Token, ConfigError> {
        let raw = raw.trim();
        let (id, secret) = raw.split_once(':').ok_or(ConfigError::MalformedToken)?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let secret_ok = secret.len() >= 20
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if id_ok && secret_ok {
            Ok(Token(raw.to_string()))
        } else {
            Err(ConfigError::MalformedToken)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "TELOXIDE_TOKEN is not set. Talk to @BotFather in Telegram to create a bot and get its \
         token, then put TELOXIDE_TOKEN=<token> in .env (see .env.example) and run again.\n\
         Meanwhile, try the bot here without a token: cargo run --release -- chat"
    )]
    MissingToken,
    #[error(
        "TELOXIDE_TOKEN does not look like a bot token (it should look like \
         123456789:AAE...). Copy it again from @BotFather into .env."
    )]
    MalformedToken,
    #[error("{name}={value:?} is not valid: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: String,
    },
}

/// Webhook mode: Telegram posts updates to `url`; the bot listens on `listen`.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: url::Url,
    pub listen: SocketAddr,
    /// Telegram sends it back in a header, so the bot knows a request came from Telegram.
    pub secret: Option<String>,
}

/// Everything citebot reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub knowledge_dir: PathBuf,
    pub index_dir: Option<PathBuf>,
    /// `TELOXIDE_TOKEN` as given; checked by [`Config::token`] only when the bot starts, so
    /// that `citebot ask` works whatever it holds.
    token: Option<Token>,
    pub api_url: Option<url::Url>,
    pub webhook: Option<Webhook>,
    /// Questions one user may ask per minute.
    pub flood_limit: u32,
    /// Longer questions are cut to this many characters for searching: at most
    /// [`crate::analysis::MAX_QUESTION_CHARS`], which the search itself never exceeds.
    pub max_question_chars: usize,
    /// `CONTEXT_TTL`: how long a chat's conversation is remembered after its last question.
    pub context_ttl: std::time::Duration,
    /// The first of the bot's own settings that is invalid: it stops `serve`, not `ask`.
    bot_problem: Option<ConfigError>,
    /// When set, only these chats are answered.
    pub allowed_chats: Option<HashSet<i64>>,
    /// `SEMANTIC`: match questions by meaning as well as by words (on by default).
    pub semantic: bool,
    /// `EMBEDDING_MODEL`: one sentence model's folder, for every language (unset: the two that
    /// ship with citebot, each where it matches best).
    pub embedding_model: Option<PathBuf>,
    /// `CACHE_DIR`: where sentence vectors are cached without `INDEX_DIR`; `off` for nowhere.
    pub cache_dir: Option<PathBuf>,
    /// `MAX_DOCUMENT_MB`: larger documents are refused, naming the file.
    pub max_document_mb: u64,
    /// `DATA_DIR`: where the record of questions and votes is kept (`data`).
    pub data_dir: PathBuf,
    /// `RECORD`: keep that record (on by default; `off` records nothing).
    pub record: bool,
    /// `ADMIN_IDS`: the Telegram user ids that may use /stats, /unanswered and /reload.
    pub admin_ids: HashSet<u64>,
    /// `THREADS`: the worker threads that embed the knowledge and answer the bot's questions
    /// (each question on one of them); the cores by default, never more.
    pub threads: usize,
}

/// The settings only the bot reads.
struct BotSettings {
    api_url: Option<url::Url>,
    webhook: Option<Webhook>,
    flood_limit: u32,
    allowed_chats: Option<HashSet<i64>>,
    context_ttl: std::time::Duration,
    admin_ids: HashSet<u64>,
}

impl Default for BotSettings {
    fn default() -> Self {
        BotSettings {
            api_url: None,
            webhook: None,
            flood_limit: 20,
            allowed_chats: None,
            context_ttl: DEFAULT_CONTEXT_TTL,
            admin_ids: HashSet::new(),
        }
    }
}

impl BotSettings {
    /// Reads the bot's own settings; the first invalid one is the error.
    fn read(variables: &Variables) -> Result<BotSettings, ConfigError> {
        Ok(BotSettings {
            webhook: variables.webhook()?,
            allowed_chats: variables
                .list("ALLOWED_CHATS", |e: std::num::ParseIntError| e.to_string())?,
            admin_ids: variables
                .list("ADMIN_IDS", |_| {
                    "expected Telegram user ids, like 123456789,987654321".to_string()
                })?
                .unwrap_or_default(),
            api_url: variables.url("TELOXIDE_API_URL")?,
            flood_limit: variables.number("FLOOD_LIMIT", 20)? as u32,
            context_ttl: variables.context_ttl()?,
        })
    }
}

/// The variables settings are read from, and how each kind of setting is read. `get` gives
/// a variable's value, `None` when it is unset.
struct Variables<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Variables<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    /// A folder, `default` when unset.
    fn path_or(&self, name: &str, default: &str) -> PathBuf {
        self.get(name)
            .map_or_else(|| PathBuf::from(default), PathBuf::from)
    }

    fn url(&self, name: &'static str) -> Result<Option<url::Url>, ConfigError> {
        self.get(name)
            .map(|v| url::Url::parse(v.trim()).map_err(|e| invalid(name, &v, e)))
            .transpose()
    }

    /// A whole number above 0, `default` when unset.
    fn number(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        self.get(name).map_or(Ok(default), |v| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(name, &v, "expected a whole number above 0"))
        })
    }

    /// An `on`/`off` switch, on when unset.
    fn switch(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(true),
            Some(v) => parse_switch(&v).ok_or_else(|| invalid(name, &v, "expected on or off")),
        }
    }

    /// A comma-separated list of ids, `None` when unset; `why` says what is wrong with an id.
    fn list<T: std::str::FromStr + Eq + std::hash::Hash>(
        &self,
        name: &'static str,
        why: impl Fn(T::Err) -> String,
    ) -> Result<Option<HashSet<T>>, ConfigError> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<T>().map_err(|e| invalid(name, &v, why(e))))
                    .collect()
            })
            .transpose()
    }

    /// `WEBHOOK_URL`, with where to listen and the secret Telegram is to send back.
    fn webhook(&self) -> Result<Option<Webhook>, ConfigError> {
        let Some(url) = self.url("WEBHOOK_URL")? else {
            return Ok(None);
        };
        let listen = self
            .get("WEBHOOK_LISTEN")
            .unwrap_or_else(|| "0.0.0.0:8443".into());
        let listen = listen
            .trim()
            .parse()
            .map_err(|e| invalid("WEBHOOK_LISTEN", &listen, e))?;
        let secret = self.get("WEBHOOK_SECRET");
        if let Some(s) = &secret {
            // Telegram's rule for secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
            let ok = s.len() <= 256
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(invalid(
                    "WEBHOOK_SECRET",
                    "<hidden>",
                    "use 1-256 characters of A-Z, a-z, 0-9, _ and -",
                ));
            }
        }
        Ok(Some(Webhook {
            url,
            listen,
            secret,
        }))
    }

    /// `CONTEXT_TTL`, [`DEFAULT_CONTEXT_TTL`] when unset.
    fn context_ttl(&self) -> Result<std::time::Duration, ConfigError> {
        match self.get("CONTEXT_TTL") {
            None => Ok(DEFAULT_CONTEXT_TTL),
            Some(v) => parse_duration(&v, CONTEXT_TTL_UNITS).map_err(|_| {
                invalid(
                    "CONTEXT_TTL",
                    &v,
                    "expected a duration such as 900, 900s, 15m or 1h",
                )
            }),
        }
    }

    /// `MAX_QUESTION_CHARS`, at most [`MAX_QUESTION_CHARS`].
    fn max_question_chars(&self) -> Result<usize, ConfigError> {
        match self.number("MAX_QUESTION_CHARS", MAX_QUESTION_CHARS as u64)? {
            n if n as usize <= MAX_QUESTION_CHARS => Ok(n as usize),
            _ => Err(invalid(
                "MAX_QUESTION_CHARS",
                &self.get("MAX_QUESTION_CHARS").unwrap_or_default(),
                format!("at most {MAX_QUESTION_CHARS}: longer questions are never searched whole"),
            )),
        }
    }

    /// `CACHE_DIR`: `off` for none, the embedding layer's default when unset.
    fn cache_dir(&self) -> Option<PathBuf> {
        match self.get("CACHE_DIR") {
            Some(v) if parse_switch(&v.trim().to_ascii_lowercase()) == Some(false) => None,
            Some(v) => Some(PathBuf::from(v)),
            None => crate::embed::default_cache_dir(),
        }
    }
}

/// The error for a variable whose value is not valid.
fn invalid(name: &'static str, value: &str, why: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_string(),
        why: why.to_string(),
    }
}

/// How long a conversation is remembered by default: 15 minutes of silence.
pub const DEFAULT_CONTEXT_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Why [`parse_duration`] refused a value: callers word each case for their users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// It does not start with a whole number.
    NotANumber,
    /// Its unit is not one of those allowed, or the duration is too long to count.
    Unit,
}

/// The units of `CONTEXT_TTL`, in seconds: seconds (meant when no unit is written), minutes
/// and hours.
const CONTEXT_TTL_UNITS: &[(&str, u64)] = &[("s", 1), ("m", 60), ("h", 3600)];

/// A whole number of one of `units`, such as `900`, `15m` or `7d`. `units` pairs each unit
/// with its length in seconds; the first is meant when none is written. Space may separate
/// the number from its unit. One parser for every duration a user writes (`CONTEXT_TTL`,
/// `citebot report --since`), so that they read alike.
pub fn parse_duration(
    v: &str,
    units: &[(&str, u64)],
) -> Result<std::time::Duration, DurationError> {
    let v = v.trim();
    let (number, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = number.parse().map_err(|_| DurationError::NotANumber)?;
    let seconds_per_unit = match unit.trim() {
        "" => units.first(),
        unit => units.iter().find(|(name, _)| *name == unit),
    }
    .ok_or(DurationError::Unit)?
    .1;
    let seconds = n.checked_mul(seconds_per_unit).ok_or(DurationError::Unit)?;
    Ok(std::time::Duration::from_secs(seconds))
}

impl Config {
    /// Whether the bot's own settings (webhook, flood limit, allowed chats, context TTL,
    /// API URL) are valid: checked when the bot starts, not by the other commands.
    pub fn check_bot(&self) -> Result<(), ConfigError> {
        match &self.bot_problem {
            Some(problem) => Err(problem.clone()),
            None => Ok(()),
        }
    }

    /// The bot token, checked: set, and shaped like a token.
    pub fn token(&self) -> Result<Token, ConfigError> {
        let raw = self.token.as_ref().ok_or(ConfigError::MissingToken)?;
        Token::parse(raw.expose())
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `var` (the environment, or a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let variables = Variables(&var);
        // The bot's own settings stop only the bot: `citebot ask` works whatever
        // FLOOD_LIMIT holds, and `serve` reports the problem (`Config::check_bot`).
        let (bot, bot_problem) = match BotSettings::read(&variables) {
            Ok(settings) => (settings, None),
            Err(e) => (BotSettings::default(), Some(e)),
        };
        Ok(Config {
            knowledge_dir: variables.path_or("KNOWLEDGE_DIR", "knowledge"),
            index_dir: variables.get("INDEX_DIR").map(PathBuf::from),
            token: variables
                .get("TELOXIDE_TOKEN")
                .map(|t| Token(t.trim().to_string())),
            api_url: bot.api_url,
            webhook: bot.webhook,
            flood_limit: bot.flood_limit,
            bot_problem,
            max_question_chars: variables.max_question_chars()?,
            context_ttl: bot.context_ttl,
            allowed_chats: bot.allowed_chats,
            admin_ids: bot.admin_ids,
            data_dir: variables.path_or("DATA_DIR", "data"),
            record: variables.switch("RECORD")?,
            semantic: variables.switch("SEMANTIC")?,
            embedding_model: variables.get("EMBEDDING_MODEL").map(PathBuf::from),
            max_document_mb: variables
                .number("MAX_DOCUMENT_MB", crate::knowledge::DEFAULT_MAX_DOCUMENT_MB)?,
            cache_dir: variables.cache_dir(),
            threads: variables.number("THREADS", crate::threads::cores() as u64)? as usize,
        })
    }

    /// What the engine is loaded from.
    pub fn engine_options(&self) -> crate::engine::Options {
        crate::engine::Options {
            knowledge_dir: self.knowledge_dir.clone(),
            index_dir: self.index_dir.clone(),
            models: match (&self.embedding_model, self.semantic) {
                (_, false) => Vec::new(),
                (Some(dir), true) => vec![dir.clone()],
                (None, true) => crate::embed::default_model_dirs(),
            },
            cache_dir: self.cache_dir.clone(),
            max_document_mb: self.max_document_mb,
        }
    }
}

/// `on`/`off` and their usual spellings.
pub fn parse_switch(v: &str) -> Option<bool> {
    match v {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAEhBP0av28ZfT4cQ1Rkq3B9sWL-8xEyz_Q";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.knowledge_dir, PathBuf::from("knowledge"));
        assert!(c.token().is_err() && c.api_url.is_none() && c.webhook.is_none());
        assert_eq!((c.flood_limit, c.max_question_chars), (20, 1000));
        assert!(c.allowed_chats.is_none());
        assert!(c.semantic && c.embedding_model.is_none());
        assert!(c.record && c.admin_ids.is_empty());
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.engine_options().models.len(), 2);
    }

    #[test]
    fn the_meaning_layer_can_be_switched_off_and_pointed_elsewhere() {
        let off = config(&[("SEMANTIC", "off"), ("CACHE_DIR", "off")]).unwrap();
        assert!(off.engine_options().models.is_empty());
        assert!(off.cache_dir.is_none());
        let other = config(&[("EMBEDDING_MODEL", "/m"), ("SEMANTIC", "ON")]).unwrap();
        assert_eq!(other.engine_options().models, [PathBuf::from("/m")]);
        let err = config(&[("SEMANTIC", "maybe")]).unwrap_err().to_string();
        assert!(err.starts_with("SEMANTIC"), "{err}");
    }

    #[test]
    fn tokens_are_checked_and_never_shown() {
        let t = Token::parse(TOKEN).unwrap();
        assert_eq!(t.expose(), TOKEN);
        assert!(!format!("{t:?} {t}").contains("AAEh"));
        let c = config(&[("TELOXIDE_TOKEN", TOKEN)]).unwrap();
        assert!(!format!("{c:?}").contains("AAEh"));
        assert_eq!(c.token().unwrap().expose(), TOKEN);
        assert_eq!(config(&[]).unwrap().token(), Err(ConfigError::MissingToken));
        for bad in [
            "",
            "abc",
            "123:short",
            "x:AAEhBP0av28ZfT4cQ1Rkq3B9sWL",
            "123:AAEhBP0av28Zf T4cQ1Rkq3B9sWL",
        ] {
            assert_eq!(
                Token::parse(bad),
                Err(ConfigError::MalformedToken),
                "{bad:?}"
            );
        }
        let c = config(&[("TELOXIDE_TOKEN", "nope")]).expect("a bad token only matters to serve");
        assert!(c.token().unwrap_err().to_string().contains("@BotFather"));
        assert!(!format!("{c:?}").contains("nope"));
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("FLOOD_LIMIT", "many"),
            ("FLOOD_LIMIT", "0"),
            ("TELOXIDE_API_URL", "not a url"),
            ("ALLOWED_CHATS", "1,x"),
            ("WEBHOOK_URL", "::"),
            ("MAX_QUESTION_CHARS", "5000"),
            ("CONTEXT_TTL", "soon"),
            ("CONTEXT_TTL", "15 days"),
            ("ADMIN_IDS", "1,@me"),
            ("RECORD", "sometimes"),
        ];
        for (name, value) in cases {
            let err = match config(&[(name, value)]) {
                Err(e) => e.to_string(),
                // The bot's own settings stop the bot only.
                Ok(c) => c.check_bot().unwrap_err().to_string(),
            };
            assert!(err.starts_with(name), "{err}");
        }
        let c = config(&[("FLOOD_LIMIT", "abc")]).expect("other commands still run");
        assert_eq!(c.flood_limit, 20);
        assert!(
            config(&[("MAX_QUESTION_CHARS", "x")]).is_err(),
            "every command asks"
        );
        let err = config(&[
            ("WEBHOOK_URL", "https://x.example/hook"),
            ("WEBHOOK_SECRET", "has space"),
        ])
        .unwrap()
        .check_bot()
        .unwrap_err();
        assert!(
            !err.to_string().contains("has space"),
            "secrets are not echoed"
        );
    }

    #[test]
    fn the_context_ttl_reads_seconds_minutes_and_hours() {
        assert_eq!(config(&[]).unwrap().context_ttl, DEFAULT_CONTEXT_TTL);
        for (v, secs) in [
            ("900", 900),
            ("30s", 30),
            ("15m", 900),
            ("1h", 3600),
            ("0", 0),
        ] {
            let c = config(&[("CONTEXT_TTL", v)]).unwrap();
            assert_eq!(c.context_ttl.as_secs(), secs, "{v}");
        }
    }

    #[test]
    fn lists_and_webhooks() {
        let c = config(&[
            ("ALLOWED_CHATS", " 12, -100345 ,"),
            ("WEBHOOK_URL", "https://bot.example/hook"),
            ("WEBHOOK_SECRET", "s3cret_-"),
            ("ADMIN_IDS", "42, 7"),
            ("RECORD", "off"),
            ("DATA_DIR", "/var/lib/citebot"),
        ])
        .unwrap();
        assert_eq!(c.allowed_chats, Some(HashSet::from([12, -100345])));
        assert_eq!(c.admin_ids, HashSet::from([42, 7]));
        assert!(!c.record);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/citebot"));
        let w = c.webhook.unwrap();
        assert_eq!(w.listen, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(w.secret.as_deref(), Some("s3cret_-"));
    }

    #[test]
    fn durations_take_the_units_they_are_given() {
        let days = [("d", 86_400), ("h", 3600), ("w", 7 * 86_400)];
        for (v, secs) in [
            ("7", 7 * 86_400),
            ("7d", 7 * 86_400),
            ("48h", 48 * 3600),
            ("2w", 14 * 86_400),
        ] {
            assert_eq!(
                parse_duration(v, &days).map(|d| d.as_secs()),
                Ok(secs),
                "{v}"
            );
        }
        for (v, why) in [
            ("soon", DurationError::NotANumber),
            ("d", DurationError::NotANumber),
            ("-1d", DurationError::NotANumber),
            ("15m", DurationError::Unit),
            ("7days", DurationError::Unit),
            ("18446744073709551615w", DurationError::Unit),
        ] {
            assert_eq!(parse_duration(v, &days), Err(why), "{v}");
        }
        assert_eq!(
            parse_duration("1d", CONTEXT_TTL_UNITS),
            Err(DurationError::Unit)
        );
    }
}
