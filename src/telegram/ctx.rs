//! What the handlers share ([`Ctx`]): the engine, the conversations, the record and the
//! bot's policies, built from the configuration in one place ([`Ctx::from_config`]).

use std::collections::HashSet;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use teloxide::types::{ChatId, User};

use super::flood::{FloodGate, Sender, Verdict};
use super::send;
use crate::config::Config;
use crate::conversation::store::{self, ConversationStore, Key, MemoryStore};
use crate::conversation::Context;
use crate::engine::{Engine, Options};
use crate::lang::Lang;
use crate::record::{self, Location, Recorder};
use crate::replicas::files::SharedFiles;
use crate::replicas::{Shared, SharedStore};
use crate::texts;

/// What the handlers share: the engine, the conversations, the record and the bot's policies.
pub struct Ctx {
    /// Swapped whole by a reload; each update loads it once and uses that one throughout.
    engine: ArcSwap<Engine>,
    pub flood: FloodGate,
    /// Longer questions are cut to this many characters (the reply says so).
    pub max_question_chars: usize,
    pub allowed_chats: Option<HashSet<i64>>,
    /// Each chat's (each group member's) last question, for follow-ups.
    pub conversations: Arc<dyn ConversationStore>,
    /// Spaces messages to Telegram's limits.
    pub pacer: send::Pacer,
    /// The highest update id that reached the handlers (0: none yet): what a forced stop
    /// confirms to Telegram, so those updates are not delivered again after a restart.
    pub last_update: AtomicU32,
    /// What readers asked and how they voted.
    pub record: Recorder,
    /// `ADMIN_IDS`: who may use the admin commands.
    pub admins: HashSet<u64>,
    /// What /reload and SIGHUP load the engine from; `None`: the engine cannot be reloaded.
    pub reload_from: Option<Options>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// Questions answered at once, at most: `THREADS` (see `threads`).
    pub answering: tokio::sync::Semaphore,
    /// What the replicas share through Redis (`REDIS_URL`); `None`: this process alone.
    pub shared: Option<Arc<Shared>>,
    /// The documents admins add and remove, shared through PostgreSQL (`DATABASE_URL`);
    /// `None`: they stay in this process's knowledge folder.
    pub files: Option<Arc<SharedFiles>>,
}

impl Ctx {
    /// The bot's defaults around `engine`: nothing recorded, no admins, no reload, every
    /// chat answered.
    pub fn new(engine: Arc<Engine>) -> Ctx {
        Ctx {
            engine: ArcSwap::new(engine),
            flood: FloodGate::new(20, Duration::from_secs(60)),
            max_question_chars: crate::analysis::MAX_QUESTION_CHARS,
            allowed_chats: None,
            conversations: Arc::new(MemoryStore::new(
                crate::config::DEFAULT_CONTEXT_TTL,
                store::MAX_CONVERSATIONS,
            )),
            pacer: send::Pacer::telegram(),
            last_update: AtomicU32::new(0),
            record: Recorder::off(),
            admins: HashSet::new(),
            reload_from: None,
            reloading: tokio::sync::Mutex::new(()),
            answering: tokio::sync::Semaphore::new(crate::threads::cores()),
            shared: None,
            files: None,
        }
    }

    /// What `citebot serve` runs with: `engine`, and every setting of `config` the bot reads.
    /// With `REDIS_URL` the conversations, the flood gate and reloads are shared with the
    /// other replicas, and with `DATABASE_URL` the record is PostgreSQL's; neither server
    /// needs to answer yet. Fails only on a `REDIS_URL` that is no Redis URL. Must be called
    /// inside the tokio runtime.
    pub fn from_config(engine: Arc<Engine>, config: &Config) -> anyhow::Result<Ctx> {
        let memory = MemoryStore::new(config.context_ttl, store::MAX_CONVERSATIONS);
        // One secret for the record's hashes and the shared keys, so both name a chat alike.
        let secret =
            (config.record || config.redis_url.is_some()).then(|| record::secret(&config.data_dir));
        let shared = match &config.redis_url {
            Some(url) => Some(Arc::new(Shared::new(
                url.expose(),
                &config.redis_namespace,
                secret.clone().unwrap_or_default(),
            )?)),
            None => None,
        };
        let conversations: Arc<dyn ConversationStore> = match &shared {
            Some(shared) => Arc::new(SharedStore::new(
                Arc::clone(shared),
                memory,
                config.context_ttl,
            )),
            None => Arc::new(memory),
        };
        let record = match (config.record, &config.database_url) {
            (false, _) => Recorder::off(),
            (true, Some(url)) => {
                Recorder::start_at(Location::Postgres(url.clone()), secret.unwrap_or_default())
            }
            (true, None) => Recorder::start(&config.data_dir),
        };
        Ok(Ctx {
            flood: FloodGate::new(config.flood_limit, Duration::from_secs(60)),
            max_question_chars: config.max_question_chars,
            allowed_chats: config.allowed_chats.clone(),
            conversations,
            record,
            admins: config.admin_ids.clone(),
            reload_from: Some(config.engine_options()),
            answering: tokio::sync::Semaphore::new(
                config.threads.clamp(1, crate::threads::cores()),
            ),
            shared,
            ..Ctx::new(engine)
        })
    }

    /// The flood gate's verdict on one more question from `sender`: counted with the other
    /// replicas when Redis answers, in this process when it does not.
    pub async fn flood_check(&self, sender: Sender) -> Verdict {
        if let Some(shared) = &self.shared {
            let who = match sender {
                Sender::User(user) => shared.hash("user", user.0 as i64),
                Sender::Chat(chat) => shared.hash("chat", chat.0),
            };
            if let Some(count) = shared.count_question(&who).await {
                return self.flood.verdict(count);
            }
        }
        self.flood.check(sender, Instant::now())
    }

    /// Whether update `id` is this replica's to answer: false when another replica (or this
    /// one) took it already. Always true without Redis, or when Redis cannot be asked.
    pub async fn first_delivery(&self, id: u32) -> bool {
        match &self.shared {
            Some(shared) => shared.first_delivery(id).await,
            None => true,
        }
    }

    /// [`Ctx::reload`] here, then on every other replica (through Redis): `/reload` and
    /// SIGHUP. Returns what to tell whoever asked (HTML), about this replica.
    pub async fn reload_everywhere(&self, lang: Lang) -> String {
        let said = self.reload(lang).await;
        if let Some(shared) = &self.shared {
            match shared.publish_reload().await {
                Some(listening) => tracing::info!(
                    replicas_listening = listening,
                    "asked the other replicas to reload"
                ),
                None => tracing::warn!(
                    "could not ask the other replicas to reload (Redis unreachable): reload each"
                ),
            }
        }
        said
    }

    /// Shares the files `names` of the knowledge folder (a document just added) with the
    /// other replicas; `removed`: marks them removed. Logged, not fatal: the document is
    /// added (or removed) here either way.
    pub async fn share_files(&self, names: Vec<String>, removed: bool) {
        let (Some(files), Some(options)) = (self.files.clone(), self.reload_from.clone()) else {
            return;
        };
        let shared = tokio::task::spawn_blocking(move || match removed {
            false => files.put(&options.knowledge_dir, &names).map(|()| names),
            true => files.remove(&names).map(|()| names),
        })
        .await;
        match shared {
            Ok(Ok(names)) => tracing::info!(files = ?names, removed, "shared with the replicas"),
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                "could not share a document with the other replicas: it is changed here only"
            ),
            Err(e) => tracing::error!(error = %e, "sharing a document panicked"),
        }
    }

    /// The engine now (a reload may swap another in for the next update).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    /// Re-reads the knowledge (its folder synced first with the files the replicas share)
    /// and swaps the new engine in when it is ready; the old one answers meanwhile, and
    /// stays when the new one cannot be loaded. Returns what to tell whoever asked (HTML, in
    /// `lang`).
    pub async fn reload(&self, lang: Lang) -> String {
        let Some(options) = self.reload_from.clone() else {
            return texts::RELOAD_UNAVAILABLE.get(lang).to_string();
        };
        let Ok(_one_at_a_time) = self.reloading.try_lock() else {
            return texts::RELOAD_BUSY.get(lang).to_string();
        };
        let started = Instant::now();
        let files = self.files.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            if let Some(files) = files {
                sync_logged(&files, &options.knowledge_dir);
            }
            Engine::load(&options)
        })
        .await;
        match loaded {
            Ok(Ok(new)) => {
                let changes = self.engine().knowledge.changes_to(&new.knowledge);
                self.engine.store(Arc::new(new));
                // Conversations point at passages by number: those of the old knowledge.
                let conversations = Arc::clone(&self.conversations);
                match tokio::task::spawn_blocking(move || conversations.clear()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "could not forget the conversations"),
                    Err(e) => tracing::error!(error = %e, "forgetting the conversations panicked"),
                }
                tracing::info!(
                    documents = changes.documents,
                    passages = changes.passages,
                    added = changes.added.len(),
                    removed = changes.removed.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "knowledge reloaded"
                );
                texts::reloaded(&changes, lang)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reload failed; the old knowledge stays");
                texts::reload_failed(&e.to_string(), lang)
            }
            Err(e) => {
                tracing::error!(error = %e, "reload panicked; the old knowledge stays");
                texts::reload_failed(texts::RELOAD_CRASHED.get(lang), lang)
            }
        }
    }

    /// Whether `user` may use the admin commands.
    pub fn is_admin(&self, user: Option<&User>) -> bool {
        user.is_some_and(|u| self.admins.contains(&u.id.0))
    }

    /// Whether the bot answers in `chat` (`ALLOWED_CHATS`).
    pub fn allowed(&self, chat: ChatId) -> bool {
        self.allowed_chats
            .as_ref()
            .is_none_or(|set| set.contains(&chat.0))
    }

    /// The conversation's context, if the store has one. A store that fails is logged and
    /// the message read on its own: a question is still answered.
    pub fn context(&self, key: Key) -> Option<Context> {
        self.conversations.get(key).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the conversation; reading the message on its own");
            None
        })
    }

    /// Remembers the conversation's context after a question (`None`: forgets it).
    pub fn remember(&self, key: Key, context: Option<Context>) {
        let stored = match context {
            Some(context) => self.conversations.put(key, context),
            None => self.conversations.remove(key),
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "could not store the conversation");
        }
    }
}

/// Syncs the knowledge folder `dir` with the shared files, saying what changed; a database
/// that does not answer leaves the folder as it is.
pub fn sync_logged(files: &SharedFiles, dir: &std::path::Path) {
    match files.sync(dir) {
        Ok(synced) if synced.is_empty() => {}
        Ok(synced) => tracing::info!(
            written = ?synced.written,
            deleted = ?synced.deleted,
            "knowledge folder synced with the other replicas"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            "could not sync the knowledge folder with the other replicas; reading it as it is"
        ),
    }
}
