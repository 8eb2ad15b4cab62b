//! What replicas of the bot share through Redis (`REDIS_URL`), so that several processes
//! behind one webhook act as one bot: the conversations ([`SharedStore`]), the flood gate
//! (one counter per sender and minute), the "answered already" guard of each update (an
//! update Telegram delivers twice is answered once), and reloads (a message on a channel).
//!
//! - **Nothing personal in Redis.** Keys are `citebot:<namespace>:<kind>:<hash>`, the hashes
//!   being the record's keyed hashes of the ids (`record::keyed_hash`); a value is a
//!   conversation's [`Context`] (the question as understood, its topic words, a passage
//!   number), a counter, or a `1`. The replicas must hash alike, so they share the record's
//!   secret (`DATA_DIR/record.key`): [`Shared::check_secret`] warns when one does not.
//! - **Never in the way of an answer.** Every call is cut off after [`OP_TIMEOUT`]; a call
//!   that fails marks Redis down, and for [`RETRY_AFTER`] after that the replica does not
//!   even try, using its own memory (its `MemoryStore` and `FloodGate`) instead. The outage
//!   is logged once a minute, and its end once.
//! - **Never in the way of a start.** The connection is made lazily and remade by the
//!   connection manager; a replica started while Redis is down answers from memory and moves
//!   to Redis when it answers.
//!
//! The conversation store's trait is synchronous (the bot calls it on the blocking pool,
//! beside the search): [`SharedStore`] runs the async calls there with the runtime's
//! handle, bounded by the same timeout.
//!
//! The documents admins add or remove are shared through PostgreSQL instead ([`files`]):
//! they are files, not small values, and must outlive any Redis.

pub mod files;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use crate::conversation::store::{ConversationStore, Key, MemoryStore, StoreError};
use crate::conversation::Context;
use crate::record::keyed_hash;

/// The longest any Redis call may add to an answer.
pub const OP_TIMEOUT: Duration = Duration::from_millis(150);
/// After a failure, how long the replica uses its own memory before it tries Redis again:
/// so that an outage costs one timeout a second, not one per call.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// An outage is logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// How long an update id is remembered as answered. Telegram gives up retrying a webhook
/// delivery well within a day.
const SEEN_FOR_SECS: u64 = 24 * 3600;
/// A flood counter outlives its minute a little (clocks of replicas differ by seconds).
const FLOOD_KEY_SECS: i64 = 120;
/// Forgetting every conversation (after a reload) may take this long: it is not on the
/// answer path.
const CLEAR_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether Redis answers, and when the outage was last logged.
#[derive(Default)]
struct Health {
    /// Fast path: false while everything works.
    down: AtomicBool,
    state: Mutex<Outage>,
}

#[derive(Default)]
struct Outage {
    since: Option<Instant>,
    last_failure: Option<Instant>,
    last_logged: Option<Instant>,
    failures: u64,
}

impl Health {
    fn state(&self) -> std::sync::MutexGuard<'_, Outage> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether to try Redis now: always while it works, once per [`RETRY_AFTER`] while down.
    fn worth_trying(&self) -> bool {
        if !self.down.load(Ordering::Relaxed) {
            return true;
        }
        self.state()
            .last_failure
            .is_none_or(|t| t.elapsed() >= RETRY_AFTER)
    }

    fn failed(&self, what: &str, error: &str) {
        let mut s = self.state();
        let now = Instant::now();
        s.since.get_or_insert(now);
        s.last_failure = Some(now);
        s.failures += 1;
        self.down.store(true, Ordering::Relaxed);
        if s.last_logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            tracing::warn!(
                what,
                error,
                failures = s.failures,
                "Redis unreachable: this replica answers from its own memory (logged once a minute)"
            );
            s.last_logged = Some(now);
            s.failures = 0;
        }
    }

    fn worked(&self) {
        if !self.down.load(Ordering::Relaxed) {
            return;
        }
        let mut s = self.state();
        if let Some(since) = s.since.take() {
            tracing::info!(
                down_for_s = since.elapsed().as_secs(),
                "Redis is back: conversations, the flood gate and the update guard are shared again"
            );
        }
        *s = Outage::default();
        self.down.store(false, Ordering::Relaxed);
    }
}

/// The replicas' shared state in Redis.
pub struct Shared {
    client: redis::Client,
    /// Made afresh after a failure: a manager whose connection broke does not always make
    /// another by itself (redis 1.8 keeps a connection that answers "broken pipe").
    conn: Mutex<ConnectionManager>,
    /// `citebot:<namespace>:`.
    prefix: String,
    /// The record's secret, for the keyed hashes of ids.
    secret: Vec<u8>,
    health: Health,
    /// This process, on the reload channel (so that it does not reload twice).
    replica: String,
}

impl Shared {
    /// A client of the Redis at `url`, its keys under `citebot:<namespace>:`. Makes no
    /// connection yet (a replica starts whether Redis answers or not); fails only on a URL
    /// that is not one. Must be called inside the tokio runtime.
    pub fn new(url: &str, namespace: &str, secret: Vec<u8>) -> anyhow::Result<Shared> {
        let client = redis::Client::open(url).map_err(|e| {
            // The URL may hold a password: name the problem, not the value.
            anyhow::anyhow!("REDIS_URL is not a Redis URL ({:?})", e.kind())
        })?;
        let conn =
            manager(&client).map_err(|e| anyhow::anyhow!("cannot set up the Redis client: {e}"))?;
        let mut id = [0u8; 8];
        let _ = getrandom::fill(&mut id);
        Ok(Shared {
            client,
            conn: Mutex::new(conn),
            prefix: format!("citebot:{namespace}:"),
            secret,
            health: Health::default(),
            replica: id.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// A handle on the connection (cheap: the manager is shared).
    fn conn(&self) -> ConnectionManager {
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the connection after a failure, so the next try connects afresh.
    fn renew(&self) {
        if let Ok(fresh) = manager(&self.client) {
            *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
    }

    /// Whether Redis answered the last call (false during an outage).
    pub fn is_up(&self) -> bool {
        !self.health.down.load(Ordering::Relaxed)
    }

    fn key(&self, kind: &str, rest: &str) -> String {
        format!("{}{kind}:{rest}", self.prefix)
    }

    fn conversation_key(&self, key: Key) -> String {
        let chat = keyed_hash(&self.secret, "chat", key.chat);
        match key.sender {
            Some(sender) => self.key(
                "conversation",
                &format!("{chat}:{}", keyed_hash(&self.secret, "sender", sender)),
            ),
            None => self.key("conversation", &chat),
        }
    }

    /// Runs `call` within `limit`; `None` (and Redis marked down) when it fails or is late,
    /// or at once while Redis is down and not yet worth trying again.
    async fn run<T>(
        &self,
        what: &str,
        limit: Duration,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        if !self.health.worth_trying() {
            return None;
        }
        match tokio::time::timeout(limit, call).await {
            Ok(Ok(value)) => {
                self.health.worked();
                Some(value)
            }
            Ok(Err(e)) => {
                self.health.failed(what, &e.to_string());
                self.renew();
                None
            }
            Err(_) => {
                self.health
                    .failed(what, &format!("no answer within {} ms", limit.as_millis()));
                self.renew();
                None
            }
        }
    }

    /// The conversation's context: `Some(None)` when Redis has none, `None` when Redis
    /// could not be asked.
    pub async fn get_context(&self, key: Key) -> Option<Option<Context>> {
        let mut conn = self.conn();
        let k = self.conversation_key(key);
        let raw: Option<String> = self
            .run("read a conversation", OP_TIMEOUT, conn.get(&k))
            .await?;
        // A value another version wrote and this one cannot read is no context.
        Some(raw.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Remembers the context for `ttl`; false when Redis could not be asked.
    pub async fn put_context(&self, key: Key, context: &Context, ttl: Duration) -> bool {
        let Ok(json) = serde_json::to_string(context) else {
            return false;
        };
        let mut conn = self.conn();
        let k = self.conversation_key(key);
        if ttl.as_secs() == 0 {
            // Nothing is remembered: make sure nothing older is either.
            return self
                .run::<()>("forget a conversation", OP_TIMEOUT, conn.del(&k))
                .await
                .is_some();
        }
        self.run::<()>(
            "store a conversation",
            OP_TIMEOUT,
            conn.set_ex(&k, json, ttl.as_secs()),
        )
        .await
        .is_some()
    }

    /// Forgets the conversation; false when Redis could not be asked.
    pub async fn remove_context(&self, key: Key) -> bool {
        let mut conn = self.conn();
        let k = self.conversation_key(key);
        self.run::<()>("forget a conversation", OP_TIMEOUT, conn.del(&k))
            .await
            .is_some()
    }

    /// Forgets every conversation of this namespace (after a reload).
    pub async fn clear_contexts(&self) -> bool {
        let mut conn = self.conn();
        let pattern = self.key("conversation", "*");
        let clear = async move {
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await?;
                if !keys.is_empty() {
                    let _: () = conn.unlink(keys).await?;
                }
                if next == 0 {
                    return Ok(());
                }
                cursor = next;
            }
        };
        self.run("forget every conversation", CLEAR_TIMEOUT, clear)
            .await
            .is_some()
    }

    /// Counts one more question from `sender` (a keyed hash, see [`Shared::hash`]) in this
    /// minute, for every replica at once; the count including this one, or `None` when Redis
    /// could not be asked.
    pub async fn count_question(&self, sender: &str) -> Option<u64> {
        let minute = unix_now() / 60;
        let k = self.key("flood", &format!("{sender}:{minute}"));
        let mut conn = self.conn();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(&k, 1)
            .expire(&k, FLOOD_KEY_SECS)
            .ignore();
        let (count,): (u64,) = self
            .run("count a question", OP_TIMEOUT, pipe.query_async(&mut conn))
            .await?;
        Some(count)
    }

    /// Whether this is the first replica to take update `id`: true once per update across
    /// the replicas (and also when Redis cannot be asked: better twice than never).
    pub async fn first_delivery(&self, id: u32) -> bool {
        let k = self.key("update", &keyed_hash(&self.secret, "update", i64::from(id)));
        let mut conn = self.conn();
        let mut set = redis::cmd("SET");
        set.arg(&k).arg(1).arg("NX").arg("EX").arg(SEEN_FOR_SECS);
        self.run(
            "guard an update",
            OP_TIMEOUT,
            set.query_async::<Option<String>>(&mut conn),
        )
        .await
        .is_none_or(|set| set.is_some())
    }

    /// The keyed hash of an id, as the keys hold it.
    pub fn hash(&self, what: &str, id: i64) -> String {
        keyed_hash(&self.secret, what, id)
    }

    fn reload_channel(&self) -> String {
        self.key("reload", "knowledge")
    }

    /// Tells the other replicas to reload the knowledge; how many listened (`None`: Redis
    /// could not be asked, and they will not reload).
    pub async fn publish_reload(&self) -> Option<usize> {
        let mut conn = self.conn();
        let channel = self.reload_channel();
        self.run(
            "ask the other replicas to reload",
            OP_TIMEOUT,
            conn.publish(channel, &self.replica),
        )
        .await
    }

    /// Listens for reloads asked by the other replicas and runs `reload` for each, until
    /// aborted. Reconnects after a lost connection (an outage of Redis), at most once a
    /// second; reloads asked while it was away are missed (an operator reloads again).
    pub async fn listen_for_reloads<F, Fut>(self: Arc<Self>, reload: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let channel = self.reload_channel();
        let mut logged: Option<Instant> = None;
        loop {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                redis::RedisResult::Ok(pubsub)
            };
            match tokio::time::timeout(Duration::from_secs(2), subscribed).await {
                Ok(Ok(pubsub)) => {
                    tracing::info!("listening for reloads asked by the other replicas");
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let from: String = msg.get_payload().unwrap_or_default();
                        if from == self.replica {
                            continue;
                        }
                        tracing::info!("another replica reloaded the knowledge: reloading");
                        reload().await;
                    }
                    tracing::warn!("lost the reload channel; listening again");
                }
                Ok(Err(e)) if logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) => {
                    tracing::warn!(error = %e, "cannot listen for reloads yet (Redis unreachable; retrying, logged once a minute)");
                    logged = Some(Instant::now());
                }
                _ => {}
            }
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }

    /// Warns when this replica's secret hashes ids differently from the one that first
    /// wrote to this namespace: such replicas would not find each other's conversations.
    pub async fn check_secret(&self) {
        let probe = keyed_hash(&self.secret, "probe", 0);
        let k = self.key("secret", "probe");
        let mut conn = self.conn();
        let check = async move {
            let _: bool = conn.set_nx(&k, &probe).await?;
            let theirs: Option<String> = conn.get(&k).await?;
            redis::RedisResult::Ok(theirs.is_none_or(|t| t == probe))
        };
        match self.run("check the secret", OP_TIMEOUT * 4, check).await {
            Some(true) => tracing::info!("conversations and the flood gate are shared through Redis"),
            Some(false) => tracing::error!(
                "this replica's record.key differs from the other replicas': it will not share their conversations; give every replica the same DATA_DIR/record.key"
            ),
            None => {}
        }
    }
}

/// A connection manager that connects on first use, each try bounded by [`OP_TIMEOUT`].
/// Must be called inside the tokio runtime.
fn manager(client: &redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(OP_TIMEOUT))
        .set_response_timeout(Some(OP_TIMEOUT))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client.clone(), config)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Conversations in Redis, with the replica's own memory when Redis cannot be asked.
pub struct SharedStore {
    shared: Arc<Shared>,
    memory: MemoryStore,
    ttl: Duration,
    runtime: tokio::runtime::Handle,
}

impl SharedStore {
    /// Conversations in `shared`'s Redis, forgotten after `ttl`; `memory` for outages. Must
    /// be made inside the runtime whose handle runs the calls.
    pub fn new(shared: Arc<Shared>, memory: MemoryStore, ttl: Duration) -> SharedStore {
        SharedStore {
            shared,
            memory,
            ttl,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Runs an async call from the blocking thread the store is called on (the trait's
    /// contract: the bot calls the store on the blocking pool, never on an async thread).
    fn block<T>(&self, call: impl std::future::Future<Output = Option<T>>) -> Option<T> {
        self.runtime.block_on(call)
    }
}

impl ConversationStore for SharedStore {
    fn get(&self, key: Key) -> Result<Option<Context>, StoreError> {
        match self.block(self.shared.get_context(key)) {
            Some(context) => Ok(context),
            None => self.memory.get(key),
        }
    }

    fn put(&self, key: Key, context: Context) -> Result<(), StoreError> {
        if self
            .block(async {
                self.shared
                    .put_context(key, &context, self.ttl)
                    .await
                    .then_some(())
            })
            .is_some()
        {
            return Ok(());
        }
        self.memory.put(key, context)
    }

    fn remove(&self, key: Key) -> Result<(), StoreError> {
        // From memory too: a context kept there during an outage must not come back.
        self.memory.remove(key)?;
        self.block(async { self.shared.remove_context(key).await.then_some(()) });
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.memory.clear()?;
        match self.block(async { self.shared.clear_contexts().await.then_some(()) }) {
            Some(()) => Ok(()),
            None => Err(StoreError("Redis did not forget the conversations".into())),
        }
    }
}
