//! The log: tracing to stderr, and no message text in it.
//!
//! citebot never logs what people write (one line per question, without its text). teloxide
//! does, at ERROR: an update it cannot parse (a kind newer than teloxide, a malformed webhook
//! body) is logged whole, text and all. The formatter here rewrites those lines to name the
//! update's id and kind only; the whole update is shown at debug level (`RUST_LOG=debug`),
//! for a developer who asked for it.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// What teloxide's parse-failure lines start with.
const UNPARSED: &str = "Cannot parse an update";

/// Sets up logging to stderr: `RUST_LOG` (default `citebot=info,warn`), colours on a
/// terminal, and teloxide's lines about unparsed updates without their content.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "citebot=info,warn".into());
    let show_content =
        tracing_subscriber::Layer::<tracing_subscriber::Registry>::max_level_hint(&filter)
            >= Some(tracing::level_filters::LevelFilter::DEBUG);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, plain text for files and journald.
        .with_ansi(ansi)
        .event_format(WithoutContent {
            inner: tracing_subscriber::fmt::format().with_ansi(ansi),
            show_content,
        })
        .init();
}

/// A formatter that rewrites teloxide's unparsed-update lines and passes the rest through.
pub struct WithoutContent<F> {
    inner: F,
    /// Debug logging was asked for: show the whole line.
    show_content: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithoutContent<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut message = Message(String::new());
        event.record(&mut message);
        if self.show_content || !message.0.starts_with(UNPARSED) {
            return self.inner.format_event(ctx, writer, event);
        }
        SystemTime.format_time(&mut writer)?;
        let (id, kind) = describe_unparsed(&message.0);
        writeln!(
            writer,
            " {} {}: an update could not be parsed and was skipped (update_id {id}, kind {kind}); \
             its content is logged at debug level only",
            Level::WARN,
            event.metadata().target(),
        )
    }
}

/// The message of an event.
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// The update id and kind named in a line about an unparsed update, from its JSON (webhook)
/// or from the `Debug` of a JSON value (polling): `"update_id": 5`, `"update_id": Number(5)`.
/// Only the keys are read, never the values, so nothing a person wrote is returned.
pub fn describe_unparsed(line: &str) -> (String, String) {
    let id = line
        .find("update_id")
        .map(|at| {
            line[at..]
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    // The update's kind is the top-level key other than "update_id": the first quoted word
    // after the id that is followed by a colon.
    let kind = line
        .find("update_id")
        .and_then(|at| {
            let rest = &line[at + "update_id".len()..];
            rest.split('"')
                .collect::<Vec<_>>()
                .windows(2)
                .find(|w| {
                    w[1].trim_start().starts_with(':')
                        && !w[0].is_empty()
                        && w[0].chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
                .map(|w| w[0].to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    (id, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unparsed_update_is_named_by_id_and_kind_only() {
        let webhook = "Cannot parse an update.\nError: ...\nValue: {\"update_id\":917,\"brand_new_kind\":{\"text\":\"my secret question\"}}\nThis is a bug";
        assert_eq!(
            describe_unparsed(webhook),
            ("917".into(), "brand_new_kind".into())
        );
        let polling = "Cannot parse an update.\nError: Object {\"update_id\": Number(42), \"strange\": Object {\"text\": String(\"private words\")}}";
        assert_eq!(describe_unparsed(polling), ("42".into(), "strange".into()));
        assert_eq!(
            describe_unparsed("Cannot parse an update: garbage"),
            ("unknown".into(), "unknown".into())
        );
    }
}
