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
    /// `EMBEDDING_MODEL`: the sentence model's folder (the one that ships with citebot).
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

/// How long a conversation is remembered by default: 15 minutes of silence.
pub const DEFAULT_CONTEXT_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// `900`, `900s`, `15m`, `1h`: a whole number of seconds, minutes or hours (0 is allowed:
/// every question then stands alone).
pub fn parse_duration(v: &str) -> Option<std::time::Duration> {
    let v = v.trim();
    let (number, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => v.split_at(i),
        None => (v, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(seconds))
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
        let invalid =
            |name: &'static str, value: &str, why: &dyn fmt::Display| ConfigError::Invalid {
                name,
                value: value.to_string(),
                why: why.to_string(),
            };
        let parse_url = |name: &'static str| -> Result<Option<url::Url>, ConfigError> {
            var(name)
                .map(|v| url::Url::parse(v.trim()).map_err(|e| invalid(name, &v, &e)))
                .transpose()
        };
        let parse_num = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            var(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid(name, &v, &"expected a whole number above 0"))
            })
        };
        // The bot's own settings stop only the bot: `citebot ask` works whatever
        // FLOOD_LIMIT holds, and `serve` reports the problem (`Config::check_bot`).
        let bot = || -> Result<BotSettings, ConfigError> {
            let webhook = match parse_url("WEBHOOK_URL")? {
                None => None,
                Some(url) => {
                    let listen = var("WEBHOOK_LISTEN").unwrap_or_else(|| "0.0.0.0:8443".into());
                    let listen = listen
                        .trim()
                        .parse()
                        .map_err(|e| invalid("WEBHOOK_LISTEN", &listen, &e))?;
                    let secret = var("WEBHOOK_SECRET");
                    if let Some(s) = &secret {
                        // Telegram's rule for secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
                        let ok = s.len() <= 256
                            && s.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                        if !ok {
                            return Err(invalid(
                                "WEBHOOK_SECRET",
                                "<hidden>",
                                &"use 1-256 characters of A-Z, a-z, 0-9, _ and -",
                            ));
                        }
                    }
                    Some(Webhook {
                        url,
                        listen,
                        secret,
                    })
                }
            };
            let allowed_chats = var("ALLOWED_CHATS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| {
                            s.parse::<i64>()
                                .map_err(|e| invalid("ALLOWED_CHATS", &v, &e))
                        })
                        .collect::<Result<HashSet<i64>, _>>()
                })
                .transpose()?;
            let admin_ids = var("ADMIN_IDS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| {
                            s.parse::<u64>().map_err(|_| {
                                invalid(
                                    "ADMIN_IDS",
                                    &v,
                                    &"expected Telegram user ids, like 123456789,987654321",
                                )
                            })
                        })
                        .collect::<Result<HashSet<u64>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            Ok(BotSettings {
                admin_ids,
                api_url: parse_url("TELOXIDE_API_URL")?,
                webhook,
                flood_limit: parse_num("FLOOD_LIMIT", 20)? as u32,
                allowed_chats,
                context_ttl: match var("CONTEXT_TTL") {
                    None => DEFAULT_CONTEXT_TTL,
                    Some(v) => parse_duration(&v).ok_or_else(|| {
                        invalid(
                            "CONTEXT_TTL",
                            &v,
                            &"expected a duration such as 900, 900s, 15m or 1h",
                        )
                    })?,
                },
            })
        };
        let (bot, bot_problem) = match bot() {
            Ok(settings) => (settings, None),
            Err(e) => (BotSettings::default(), Some(e)),
        };
        Ok(Config {
            knowledge_dir: var("KNOWLEDGE_DIR").map_or_else(|| "knowledge".into(), PathBuf::from),
            index_dir: var("INDEX_DIR").map(PathBuf::from),
            token: var("TELOXIDE_TOKEN").map(|t| Token(t.trim().to_string())),
            api_url: bot.api_url,
            webhook: bot.webhook,
            flood_limit: bot.flood_limit,
            bot_problem,
            max_question_chars: match parse_num("MAX_QUESTION_CHARS", MAX_QUESTION_CHARS as u64)? {
                n if n as usize <= MAX_QUESTION_CHARS => n as usize,
                _ => {
                    return Err(invalid(
                        "MAX_QUESTION_CHARS",
                        &var("MAX_QUESTION_CHARS").unwrap_or_default(),
                        &format!(
                        "at most {MAX_QUESTION_CHARS}: longer questions are never searched whole"
                    ),
                    ))
                }
            },
            context_ttl: bot.context_ttl,
            allowed_chats: bot.allowed_chats,
            admin_ids: bot.admin_ids,
            data_dir: var("DATA_DIR").map_or_else(|| "data".into(), PathBuf::from),
            record: match var("RECORD").map(|v| v.trim().to_ascii_lowercase()) {
                None => true,
                Some(v) => {
                    parse_switch(&v).ok_or_else(|| invalid("RECORD", &v, &"expected on or off"))?
                }
            },
            semantic: match var("SEMANTIC").map(|v| v.trim().to_ascii_lowercase()) {
                None => true,
                Some(v) => parse_switch(&v)
                    .ok_or_else(|| invalid("SEMANTIC", &v, &"expected on or off"))?,
            },
            embedding_model: var("EMBEDDING_MODEL").map(PathBuf::from),
            max_document_mb: parse_num(
                "MAX_DOCUMENT_MB",
                crate::knowledge::DEFAULT_MAX_DOCUMENT_MB,
            )?,
            cache_dir: match var("CACHE_DIR") {
                Some(v) if parse_switch(&v.trim().to_ascii_lowercase()) == Some(false) => None,
                Some(v) => Some(PathBuf::from(v)),
                None => crate::embed::default_cache_dir(),
            },
        })
    }

    /// What the engine is loaded from.
    pub fn engine_options(&self) -> crate::engine::Options {
        crate::engine::Options {
            knowledge_dir: self.knowledge_dir.clone(),
            index_dir: self.index_dir.clone(),
            model_dir: self.semantic.then(|| {
                self.embedding_model
                    .clone()
                    .unwrap_or_else(crate::embed::default_model_dir)
            }),
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
        assert!(c.engine_options().model_dir.is_some());
    }

    #[test]
    fn the_meaning_layer_can_be_switched_off_and_pointed_elsewhere() {
        let off = config(&[("SEMANTIC", "off"), ("CACHE_DIR", "off")]).unwrap();
        assert!(off.engine_options().model_dir.is_none());
        assert!(off.cache_dir.is_none());
        let other = config(&[("EMBEDDING_MODEL", "/m"), ("SEMANTIC", "ON")]).unwrap();
        assert_eq!(other.engine_options().model_dir, Some(PathBuf::from("/m")));
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
}
