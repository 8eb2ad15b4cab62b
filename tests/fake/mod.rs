//! A fake Telegram Bot API server on 127.0.0.1, for end-to-end tests of the real bot
//! (`citebot::telegram::run`), shared by tests/fake_api.rs, fake_api_load.rs, lifecycle.rs and
//! replicas.rs; and `post_update`, a webhook delivery as Telegram makes it.
//!
//! teloxide calls `POST {api_url}/bot{token}/{Method}` with a JSON body. The fake answers the
//! methods citebot uses the way Telegram does (`{"ok":true,"result":...}`), records every call,
//! and keeps Telegram's update queue semantics: `getUpdates` returns the updates whose
//! `update_id >= offset`, and an `offset` confirms (forgets) every update below it, so that a
//! second bot started against the same server continues where the first one stopped.
//!
//! Some methods (`setWebhook`, whose certificate may be a file) come as `multipart/form-data`:
//! their text fields are recorded as a JSON object of strings, like a JSON body. `setWebhook`
//! and `deleteWebhook` are answered with `true` (and `getWebhookInfo` shows the URL set), so
//! that the bot can run in webhook mode against the fake.
//!
//! Like Telegram, `sendMessage` refuses HTML it cannot parse and texts over 4096 UTF-16 units,
//! which MockBot (tests/bot.rs) does not check.
//!
//! Faults, chosen by the test: a queue per method (the next calls fail), a rule per chat
//! (e.g. always 403), and rules on the n-th call of a method (e.g. every 50th `sendMessage`
//! gets a 429). A [`Fault::Drop`] closes the connection in the middle of the answer.

#![allow(dead_code)] // Each test binary uses its own part of the helpers.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use citebot::telegram::Ctx;
use citebot::Engine;
use serde_json::{json, Value};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// A token of valid shape; the fake only answers requests that carry it.
pub const TOKEN: &str = "123456:AAHfakeTokenForTestsOnly_0123456789";
pub const BOT_ID: i64 = 123456;
pub const BOT_USERNAME: &str = "citebot_test_bot";
/// The longest a `getUpdates` waits for news, whatever `timeout` the bot asks for (10 s): long
/// enough to show long polling, short enough that nothing in a test waits on it.
const MAX_POLL_WAIT: Duration = Duration::from_millis(500);
/// Telegram's default and maximum `limit` of `getUpdates`.
const PAGE: usize = 100;

/// A failure the fake answers with instead of doing what was asked.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// A Bot API error: the HTTP status and the JSON body.
    Error { status: u16, body: Value },
    /// The answer starts (status 200, a `Content-Length`) and the connection closes in the
    /// middle of the body: the client sees a network error, and the call had no effect.
    Drop,
    /// No answer at all: the request is held until the client gives up.
    Hang,
}

impl Fault {
    pub fn error(status: u16, description: &str) -> Fault {
        Fault::Error {
            status,
            body: json!({"ok": false, "error_code": status, "description": description}),
        }
    }

    pub fn retry_after(secs: u64) -> Fault {
        Fault::Error {
            status: 429,
            body: json!({
                "ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {secs}"),
                "parameters": {"retry_after": secs},
            }),
        }
    }

    /// Note: teloxide-core sleeps 10 s on any 5xx HTTP status before it reads the body
    /// (`DELAY_ON_SERVER_ERROR` in teloxide-core's net/request.rs). See [`Fault::status`].
    pub fn bad_gateway() -> Fault {
        Fault::error(502, "Bad Gateway")
    }

    pub fn blocked() -> Fault {
        Fault::error(403, "Forbidden: bot was blocked by the user")
    }

    pub fn cant_parse_entities() -> Fault {
        Fault::error(
            400,
            "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0",
        )
    }

    /// A group that became a supergroup: Telegram names the new chat.
    pub fn migrated(to: i64) -> Fault {
        Fault::Error {
            status: 400,
            body: json!({
                "ok": false, "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": to},
            }),
        }
    }

    pub fn unauthorized() -> Fault {
        Fault::error(401, "Unauthorized")
    }

    /// The same error body under another HTTP status: a 502 body with status 200 is parsed
    /// by teloxide to the same error as a real 502, without teloxide's 10 s pause.
    pub fn status(self, status: u16) -> Fault {
        match self {
            Fault::Error { body, .. } => Fault::Error { status, body },
            other => other,
        }
    }

    async fn response(&self) -> Response {
        match self {
            Fault::Hang => std::future::pending().await,
            Fault::Error { status, body } => json_response(*status, body.clone()),
            // A body of unknown length under a Content-Length it does not fill: hyper sends
            // the head, then closes the connection when the body ends early, and the client
            // gets a network error. (A body of known length would trip a debug assertion.)
            Fault::Drop => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "4096")
                .body(Body::from_stream(
                    Body::from("{\"ok\":true,\"res").into_data_stream(),
                ))
                .expect("a valid response"),
        }
    }
}

/// One request the bot made, and what the fake did with it.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub body: Value,
    /// The fault answered instead of the method; `None` when the call succeeded.
    pub fault: Option<Fault>,
    /// What was answered on success (e.g. the sent message).
    pub result: Option<Value>,
    pub at: Instant,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.fault.is_none() && self.result.is_some()
    }
    pub fn chat_id(&self) -> Option<i64> {
        self.body["chat_id"].as_i64()
    }
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or("")
    }
    pub fn parse_mode(&self) -> Option<&str> {
        self.body["parse_mode"].as_str()
    }
    /// The message this one replies to.
    pub fn reply_to(&self) -> Option<i64> {
        self.body["reply_parameters"]["message_id"].as_i64()
    }
    /// The labels of the inline keyboard, row after row.
    pub fn buttons(&self) -> Vec<String> {
        let rows = self.body["reply_markup"]["inline_keyboard"].as_array();
        rows.into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|b| b["text"].as_str().map(String::from))
            .collect()
    }
}

/// Decides a fault from the method and the call's number for that method (from 1, counting
/// retries: a retried call is a new call).
pub type Rule = Box<dyn Fn(&str, u64) -> Option<Fault> + Send>;

#[derive(Default)]
struct Inner {
    /// Every update ever queued, in `update_id` order.
    updates: Vec<Value>,
    next_update_id: i64,
    /// The highest `offset` the bot sent: updates below it are confirmed.
    confirmed: i64,
    calls: Vec<Call>,
    counts: HashMap<String, u64>,
    queued_faults: HashMap<String, VecDeque<Fault>>,
    chat_faults: HashMap<i64, Fault>,
    rules: Vec<Rule>,
    next_message_id: i64,
    /// At most this many updates per `getUpdates` (Telegram may return fewer than asked).
    page: usize,
    /// How long `sendMessage` takes, to spread a stream of answers out in time.
    send_delay: Duration,
    /// The URL of the last `setWebhook` (empty after `deleteWebhook`).
    webhook_url: String,
    /// Files users sent, by file id: what `getFile` and a download serve.
    files: HashMap<String, Vec<u8>>,
}

struct Shared {
    inner: Mutex<Inner>,
    /// Wakes long polls when updates are queued.
    news: Notify,
}

pub struct FakeApi {
    pub url: url::Url,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeApi {
    pub async fn start() -> FakeApi {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                next_update_id: 1,
                next_message_id: 100_000,
                page: PAGE,
                ..Inner::default()
            }),
            news: Notify::new(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .route("/file/{bot}/{path}", axum::routing::get(download))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake API serves");
        });
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        FakeApi {
            url,
            shared,
            server,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    /// A bot that talks to this server.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(TOKEN).set_api_url(self.url.clone())
    }

    /// Queues an update of `kind` ("message", "callback_query", ...); returns its update_id.
    pub fn push(&self, kind: &str, payload: Value) -> i64 {
        let id = {
            let mut inner = self.lock();
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            let mut update = json!({ "update_id": id });
            update[kind] = payload;
            inner.updates.push(update);
            id
        };
        self.shared.news.notify_waiters();
        id
    }

    /// Queues a private message from user `chat` with a file `name` holding `bytes`, which
    /// `getFile` and the download then serve, as Telegram's servers do.
    pub fn push_file(&self, chat: i64, message_id: i64, name: &str, bytes: &[u8]) -> i64 {
        let message = self.file_message(chat, message_id, name, bytes);
        self.push("message", message)
    }

    /// A private message from user `chat` with a file `name` holding `bytes`, which
    /// `getFile` and the download then serve: to post to a webhook, or queue.
    pub fn file_message(&self, chat: i64, message_id: i64, name: &str, bytes: &[u8]) -> Value {
        let id = format!("file-{message_id}");
        self.lock().files.insert(id.clone(), bytes.to_vec());
        let mut message = text_message(chat, message_id, "");
        if let Some(m) = message.as_object_mut() {
            m.remove("text");
        }
        message["document"] = json!({
            "file_id": id, "file_unique_id": format!("u{id}"), "file_name": name,
            "file_size": bytes.len(),
        });
        message
    }

    /// Queues a private text message from user `chat` (the user id is the chat id).
    pub fn push_text(&self, chat: i64, message_id: i64, text: &str) -> i64 {
        self.push("message", text_message(chat, message_id, text))
    }

    /// The next `faults.len()` calls of `method` fail with these faults, in order.
    pub fn fail_next(&self, method: &str, faults: impl IntoIterator<Item = Fault>) {
        let mut inner = self.lock();
        let queue = inner.queued_faults.entry(method.to_string()).or_default();
        queue.extend(faults);
    }

    /// Every call about `chat` fails with `fault`.
    pub fn fail_chat(&self, chat: i64, fault: Fault) {
        self.lock().chat_faults.insert(chat, fault);
    }

    pub fn fail_when(&self, rule: impl Fn(&str, u64) -> Option<Fault> + Send + 'static) {
        self.lock().rules.push(Box::new(rule));
    }

    pub fn set_page(&self, page: usize) {
        self.lock().page = page;
    }

    pub fn set_send_delay(&self, delay: Duration) {
        self.lock().send_delay = delay;
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        let inner = self.lock();
        inner
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// The calls of `method` that succeeded.
    pub fn done(&self, method: &str) -> Vec<Call> {
        let mut calls = self.calls(method);
        calls.retain(Call::ok);
        calls
    }

    /// How many calls of `method` succeeded, without copying them.
    pub fn count_done(&self, method: &str) -> usize {
        let inner = self.lock();
        inner
            .calls
            .iter()
            .filter(|c| c.method == method && c.ok())
            .count()
    }

    /// The highest offset the bot confirmed: every update below it is done with.
    pub fn confirmed(&self) -> i64 {
        self.lock().confirmed
    }

    pub fn last_update_id(&self) -> i64 {
        self.lock().next_update_id - 1
    }

    /// Waits until `what` holds, checking every 20 ms; panics after `within`.
    pub async fn wait_for(&self, within: Duration, what: &str, cond: impl Fn(&FakeApi) -> bool) {
        let deadline = Instant::now() + within;
        while !cond(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).expect("a valid HTTP status");
    (status, axum::Json(body)).into_response()
}

fn ok(result: Value) -> Response {
    json_response(200, json!({"ok": true, "result": result}))
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    UrlPath((bot, method)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return json_response(
            404,
            json!({"ok": false, "error_code": 404, "description": "Not Found"}),
        );
    }
    // Telegram's method names are case-insensitive and teloxide sends `GetMe`, `SendMessage`:
    // calls are recorded under the documented names (`getMe`, `sendMessage`).
    let method = match method.chars().next() {
        Some(c) => format!("{}{}", c.to_ascii_lowercase(), &method[c.len_utf8()..]),
        None => method,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body: Value = match multipart_boundary(content_type) {
        Some(boundary) => multipart_fields(&body, &boundary),
        None => serde_json::from_slice(&body).unwrap_or(json!({})),
    };
    // Decide and record under the lock; answer (and wait) without it.
    let (index, fault, send_delay) = {
        let mut inner = shared.inner.lock().unwrap();
        let inner = &mut *inner;
        let n = inner.counts.entry(method.clone()).or_default();
        *n += 1;
        let n = *n;
        let chat = body["chat_id"].as_i64();
        let fault = inner
            .queued_faults
            .get_mut(&method)
            .and_then(VecDeque::pop_front)
            .or_else(|| chat.and_then(|c| inner.chat_faults.get(&c).cloned()))
            .or_else(|| inner.rules.iter().find_map(|rule| rule(&method, n)));
        inner.calls.push(Call {
            method: method.clone(),
            body: body.clone(),
            fault: fault.clone(),
            result: None,
            at: Instant::now(),
        });
        (inner.calls.len() - 1, fault, inner.send_delay)
    };
    if let Some(fault) = fault {
        return fault.response().await;
    }
    let result = match method.as_str() {
        "getUpdates" => Ok(get_updates(&shared, &body).await),
        "getMe" => Ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Citebot", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": true, "has_main_web_app": false,
        })),
        "getWebhookInfo" => Ok(json!({
            "url": shared.inner.lock().unwrap().webhook_url,
            "has_custom_certificate": false, "pending_update_count": 0,
        })),
        "setWebhook" => {
            let url = body["url"].as_str().unwrap_or("").to_string();
            shared.inner.lock().unwrap().webhook_url = url;
            Ok(json!(true))
        }
        "deleteWebhook" => {
            shared.inner.lock().unwrap().webhook_url.clear();
            Ok(json!(true))
        }
        "setMyCommands" | "sendChatAction" | "answerCallbackQuery" | "answerInlineQuery" => {
            Ok(json!(true))
        }
        "sendMessage" => {
            tokio::time::sleep(send_delay).await;
            check_html(&body).map(|()| {
                let (id, replied) = {
                    let mut inner = shared.inner.lock().unwrap();
                    inner.next_message_id += 1;
                    (inner.next_message_id, replied_message(&inner, &body))
                };
                // As Telegram does: the text without tags, bold words as entities, and the
                // buttons.
                let html = body["text"].as_str().unwrap_or("");
                let (text, bold) = match body["parse_mode"].as_str() {
                    Some("HTML") => parse_html_entities(html).unwrap_or_default(),
                    _ => (html.to_string(), Vec::new()),
                };
                let mut sent = bot_message(&body["chat_id"], id, &text);
                if !bold.is_empty() {
                    sent["entities"] = bold
                        .iter()
                        .map(|(offset, length)| {
                            json!({"type": "bold", "offset": offset, "length": length})
                        })
                        .collect();
                }
                if body.get("reply_markup").is_some() {
                    sent["reply_markup"] = body["reply_markup"].clone();
                }
                // As Telegram does: the message replied to, one level deep.
                if let Some(mut original) = replied {
                    if let Some(o) = original.as_object_mut() {
                        o.remove("reply_to_message");
                    }
                    sent["reply_to_message"] = original;
                }
                sent
            })
        }
        "getFile" => {
            let id = body["file_id"].as_str().unwrap_or("").to_string();
            match shared.inner.lock().unwrap().files.get(&id) {
                Some(bytes) => Ok(json!({
                    "file_id": id, "file_unique_id": format!("u{id}"),
                    "file_size": bytes.len(), "file_path": id,
                })),
                None => Err(Fault::error(400, "Bad Request: invalid file_id")),
            }
        }
        "editMessageReplyMarkup" => {
            let id = body["message_id"].as_i64().unwrap_or(0);
            Ok(bot_message(&body["chat_id"], id, "(edited)"))
        }
        _ => Err(Fault::error(404, "Not Found: method not found")),
    };
    // Recorded in a block of its own: the lock must not be held across the answer.
    {
        let mut inner = shared.inner.lock().unwrap();
        match &result {
            Ok(result) => inner.calls[index].result = Some(result.clone()),
            Err(fault) => inner.calls[index].fault = Some(fault.clone()),
        }
    }
    match result {
        Ok(result) => ok(result),
        Err(fault) => fault.response().await,
    }
}

/// A file's bytes, as `https://api.telegram.org/file/bot<token>/<file_path>` serves them.
async fn download(
    State(shared): State<Arc<Shared>>,
    UrlPath((bot, path)): UrlPath<(String, String)>,
) -> Response {
    let bytes = (bot == format!("bot{TOKEN}"))
        .then(|| shared.inner.lock().unwrap().files.get(&path).cloned())
        .flatten();
    match bytes {
        Some(bytes) => (axum::http::StatusCode::OK, bytes).into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// The boundary of a `multipart/form-data` body, from its `Content-Type`.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';').map(str::trim);
    if !params.next()?.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
}

/// The fields of a `multipart/form-data` body, as a JSON object of strings (files included,
/// read as UTF-8 text with replacement characters).
fn multipart_fields(body: &[u8], boundary: &str) -> Value {
    let body = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut fields = serde_json::Map::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        // The last delimiter is followed by `--`.
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head.split("\r\n").find_map(|line| {
            let (key, rest) = line.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            // ` name="` and not `filename="`.
            let start = rest.find(" name=\"")? + " name=\"".len();
            let len = rest[start..].find('"')?;
            Some(rest[start..start + len].to_string())
        });
        if let Some(name) = name {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            fields.insert(name, Value::String(value.to_string()));
        }
    }
    Value::Object(fields)
}

/// Long polling: confirms `offset`, then returns what is queued from it on, waiting a little
/// for news when nothing is.
/// The message a `sendMessage` replies to (`reply_parameters.message_id` in the same chat),
/// among the messages pushed as updates.
fn replied_message(inner: &Inner, body: &Value) -> Option<Value> {
    let id = body["reply_parameters"]["message_id"].as_i64()?;
    let chat = body["chat_id"].as_i64()?;
    inner.updates.iter().find_map(|u| {
        let m = &u["message"];
        (m["message_id"].as_i64() == Some(id) && m["chat"]["id"].as_i64() == Some(chat))
            .then(|| m.clone())
    })
}

async fn get_updates(shared: &Shared, body: &Value) -> Value {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().map_or(PAGE, |l| l as usize);
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0)).min(MAX_POLL_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Registered before looking, so that a push between the look and the wait is seen.
        let news = shared.news.notified();
        tokio::pin!(news);
        news.as_mut().enable();
        {
            let mut inner = shared.inner.lock().unwrap();
            inner.confirmed = inner.confirmed.max(offset);
            let from = inner.confirmed;
            let take = limit.min(inner.page).max(1);
            let updates: Vec<Value> = inner
                .updates
                .iter()
                .filter(|u| u["update_id"].as_i64().unwrap() >= from)
                .take(take)
                .cloned()
                .collect();
            if !updates.is_empty() {
                return Value::Array(updates);
            }
        }
        if tokio::time::timeout_at(deadline, news).await.is_err() {
            return json!([]);
        }
    }
}

/// Telegram's checks on a message: text present, at most 4096 UTF-16 units once the
/// entities are parsed, and (in HTML mode) only known tags, nested properly, with `<`, `>`
/// and `&` escaped.
fn check_html(body: &Value) -> Result<(), Fault> {
    let text = body["text"].as_str().unwrap_or("");
    let visible = if body["parse_mode"].as_str() == Some("HTML") {
        parse_html(text).map_err(|why| {
            Fault::error(400, &format!("Bad Request: can't parse entities: {why}"))
        })?
    } else {
        text.to_string()
    };
    if visible.trim().is_empty() {
        return Err(Fault::error(400, "Bad Request: message text is empty"));
    }
    if visible.encode_utf16().count() > 4096 {
        return Err(Fault::error(400, "Bad Request: message is too long"));
    }
    Ok(())
}

/// The text of Telegram HTML, or why Telegram would refuse it.
pub fn parse_html(html: &str) -> Result<String, String> {
    parse_html_entities(html).map(|(text, _)| text)
}

/// The text of Telegram HTML and its bold entities (UTF-16 offset and length), as Telegram
/// delivers a sent message back: no tags, the formatting in entities.
pub fn parse_html_entities(html: &str) -> Result<(String, Vec<(usize, usize)>), String> {
    let mut bold: Vec<(usize, usize)> = Vec::new();
    const TAGS: [&str; 15] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
    ];
    let mut open: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("unclosed start tag")?;
                let tag = &rest[1..end];
                rest = &rest[end + 1..];
                let at = text.encode_utf16().count();
                if let Some(name) = tag.strip_prefix('/') {
                    if open.pop().as_deref() != Some(name) {
                        return Err(format!("unmatched end tag \"{name}\""));
                    }
                    if name == "b" {
                        if let Some(b) = bold.last_mut() {
                            b.1 = at - b.0;
                        }
                    }
                } else {
                    let name = tag.split_whitespace().next().unwrap_or("");
                    if !TAGS.contains(&name) {
                        return Err(format!("unsupported start tag \"{name}\""));
                    }
                    if name == "b" {
                        bold.push((at, 0));
                    }
                    open.push(name.to_string());
                }
            }
            '&' => {
                let end = rest.find(';').ok_or("unclosed entity")?;
                let decoded = match &rest[..=end] {
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&amp;" => '&',
                    "&quot;" => '"',
                    e => e
                        .strip_prefix("&#x")
                        .map(|hex| u32::from_str_radix(&hex[..hex.len() - 1], 16))
                        .or_else(|| e.strip_prefix("&#").map(|d| d[..d.len() - 1].parse()))
                        .and_then(Result::ok)
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("unsupported entity {e}"))?,
                };
                text.push(decoded);
                rest = &rest[end + 1..];
            }
            '>' => return Err("unescaped \">\"".into()),
            c => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    match open.pop() {
        Some(name) => Err(format!(
            "can't find end tag corresponding to start tag \"{name}\""
        )),
        None => Ok((text, bold)),
    }
}

pub fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("U{id}")})
}

fn chat(id: &Value) -> Value {
    match id.as_i64() {
        Some(id) if id < 0 => json!({"id": id, "type": "supergroup", "title": "Group"}),
        _ => json!({"id": id, "type": "private", "first_name": format!("U{id}")}),
    }
}

/// A private text message from user `chat`.
pub fn text_message(chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "message_id": message_id, "date": 1_700_000_000,
        "chat": chat(&json!(chat_id)), "from": user(chat_id), "text": text,
    })
}

/// A message of the bot, as `sendMessage` returns it.
pub fn bot_message(chat_id: &Value, message_id: i64, text: &str) -> Value {
    json!({
        "message_id": message_id, "date": 1_700_000_000, "chat": chat(chat_id),
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Citebot", "username": BOT_USERNAME},
        "text": text,
    })
}

/// The questions of the public question set, with whether the article answers them.
pub fn questions() -> Vec<(String, bool)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/questions.jsonl");
    std::fs::read_to_string(path)
        .expect("the question set")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let in_scope = !v["gold"].as_array().expect("gold").is_empty();
            (v["q"].as_str().expect("q").to_string(), in_scope)
        })
        .collect()
}

/// The delivered answers (first message of each: the one replying to the question), by the
/// question's message_id, in the order Telegram received them.
pub fn replies(api: &FakeApi) -> Vec<(i64, Call)> {
    api.done("sendMessage")
        .into_iter()
        .filter_map(|c| c.reply_to().map(|id| (id, c)))
        .collect()
}

/// What a bot shows (`shown`) and does after Telegram refused its token (401): advice about
/// @BotFather, no trace of the token's secret part, `getMe` asked once and no polling.
pub fn assert_refused_token_handled(api: &FakeApi, shown: &str) {
    assert!(shown.contains("@BotFather"), "{shown}");
    let secret = TOKEN.split_once(':').unwrap().1;
    assert!(!shown.contains(secret), "the token leaked: {shown}");
    assert_eq!(api.calls("getMe").len(), 1, "not retried");
    assert!(api.calls("getUpdates").is_empty());
}

/// The knowledge, loaded once per test binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            Arc::new(
                Engine::load(&citebot::Options::new(root.join("knowledge")))
                    .expect("the knowledge loads"),
            )
        })
        .clone()
}

/// A copy of the knowledge folder that a test may change (add a document, then reload).
pub fn knowledge_copy() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let knowledge = tempfile::tempdir().unwrap();
    for file in ["russias-afghanistan-strategy.txt", "synonyms.txt"] {
        std::fs::copy(
            root.join("knowledge").join(file),
            knowledge.path().join(file),
        )
        .unwrap();
    }
    knowledge
}

/// Logs to the test output, filtered by RUST_LOG (nothing by default).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The real bot (`citebot::telegram::run`, polling mode) running against a fake server.
pub struct RunningBot {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningBot {
    pub fn start(api: &FakeApi) -> RunningBot {
        RunningBot::start_with(api, Ctx::new(engine()))
    }

    pub fn start_with(api: &FakeApi, ctx: Ctx) -> RunningBot {
        init_logs();
        let bot = api.bot();
        let config = citebot::config::Config::from_vars(|_| None).expect("the default config");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            citebot::telegram::run(bot, Arc::new(ctx), &config, shutdown).await
        });
        RunningBot {
            stop: Some(stop),
            task,
        }
    }

    /// Whether `run` has returned by itself.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Asks the bot to stop, as SIGTERM does, and returns what `run` returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join().await
    }

    /// Waits for `run` to return (at most 15 s) without asking it to stop.
    pub async fn join(self) -> anyhow::Result<()> {
        // Dropping the sender would stop the bot: it lives until `run` has returned.
        let RunningBot { stop, task } = self;
        let result = tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("the bot stops within 15 s")
            .expect("the bot task does not panic");
        drop(stop);
        result
    }
}

/// A `POST` of JSON to the webhook, over its own HTTP/1.1 connection, as Telegram makes it.
/// Returns the HTTP status.
pub async fn post_update(
    addr: std::net::SocketAddr,
    path: &str,
    secret: Option<&str>,
    body: &str,
) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(secret) = secret {
        request.push_str(&format!("X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    // "HTTP/1.1 200 OK"
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))
}
