//! citebot in Telegram: start-up, the update loop (long polling or a webhook), and shutdown.
//!
//! Start-up checks what `Dispatcher::dispatch` would otherwise panic on: the token is asked
//! of Telegram with `getMe` first. A token Telegram rejects ends the program with one line
//! saying what to do; an unreachable Telegram is retried with backoff. SIGINT and SIGTERM both
//! stop the dispatcher gracefully: answers in flight are sent and the update offset is
//! confirmed before the process exits with 0. The stop is bounded: answers in flight get
//! [`GRACE`]; past it (an outage, a long `retry_after`, a server that never answers, or a
//! stop request teloxide lost) citebot confirms what reached the handlers with one short
//! `getUpdates` and exits anyway, within 3 s.
//!
//! SIGHUP re-reads the knowledge folder, as `/reload` does, while the bot answers on; with
//! `REDIS_URL` both make every replica reload (`replicas`); with `DATABASE_URL` a document an
//! admin adds or removes reaches every replica (`replicas::files`). The record of questions is
//! complete when the process exits: its writer is drained last.

pub mod admin;
pub mod buttons;
pub mod commands;
pub mod ctx;
pub mod flood;
pub mod handlers;
pub mod remove;
pub mod send;
pub mod summary;
pub mod upload;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::update_listeners::{webhooks, UpdateListener};
use teloxide::{ApiError, RequestError};

use crate::config::Config;
use crate::engine::Engine;
use crate::lang::Lang;
use crate::replicas::files::{SharedFiles, POLL_EVERY};
pub use ctx::Ctx;
pub use flood::FloodGate;
pub use handlers::handler_tree;

/// `citebot serve`: runs the bot until SIGINT or SIGTERM.
pub fn serve(config: Config) -> anyhow::Result<()> {
    // Checked before anything is loaded, so a missing token is the first thing said.
    let token = config.token()?;
    config.check_bot()?;
    let options = config.engine_options();
    // The documents admins sent the other replicas, in the folder before it is read.
    let files = (config.database_url.clone()).map(|url| Arc::new(SharedFiles::new(url)));
    if let Some(files) = &files {
        ctx::sync_logged(files, &options.knowledge_dir);
    }
    // Answers by words from the first second; each meaning layer joins when its vectors are
    // made (or read from the cache).
    let engine = Engine::load_in_background(&options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let mut bot = Bot::new(token.expose());
        if let Some(url) = &config.api_url {
            bot = bot.set_api_url(url.clone());
        }
        let mut ctx = Ctx::from_config(engine, &config)?;
        ctx.files = files;
        let ctx = Arc::new(ctx);
        let reloads = tokio::spawn(reload_on_sighup(Arc::clone(&ctx)));
        let replicas = ctx
            .shared
            .clone()
            .map(|shared| tokio::spawn(share_with_replicas(shared, Arc::clone(&ctx))));
        let polls =
            (ctx.files.clone()).map(|files| tokio::spawn(follow_files(files, Arc::clone(&ctx))));
        let result = run(bot, Arc::clone(&ctx), &config, shutdown_signal()).await;
        reloads.abort();
        for task in [replicas, polls].into_iter().flatten() {
            task.abort();
        }
        // Everything answered is on the record before the process ends.
        let record = Arc::clone(&ctx);
        let _ = tokio::task::spawn_blocking(move || record.record.close()).await;
        result
    });
    // Tasks still running (a request cut off by the grace period) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// Runs the bot until `shutdown` completes. Separate from [`serve`] so tests can run the real
/// bot against a fake Bot API server and stop it when they like.
pub async fn run(
    bot: Bot,
    ctx: Arc<Ctx>,
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut shutdown = Box::pin(shutdown);
    let me = tokio::select! {
        me = get_me_with_backoff(&bot) => me?,
        _ = &mut shutdown => {
            tracing::info!("stopped before Telegram answered");
            return Ok(());
        }
    };
    tracing::info!(username = %me.username(), "connected to Telegram");
    register_commands(&bot, &ctx).await;

    let mut dispatcher = Dispatcher::builder(bot.clone(), handler_tree())
        .dependencies(dptree::deps![Arc::clone(&ctx)])
        .error_handler(LoggingErrorHandler::with_custom_text("handler error"))
        .build();
    let token = dispatcher.shutdown_token();
    let polling = config.webhook.is_none();
    let dispatching = async {
        match &config.webhook {
            None => {
                let listener = teloxide::update_listeners::polling_default(bot.clone()).await;
                dispatcher
                    .try_dispatch_with_listener(
                        listener,
                        LoggingErrorHandler::with_custom_text("polling error"),
                    )
                    .await
            }
            Some(hook) => {
                let listener = webhook_listener(&bot, hook).await?;
                tracing::info!(listen = %hook.listen, "webhook mode");
                dispatcher
                    .try_dispatch_with_listener(
                        listener,
                        LoggingErrorHandler::with_custom_text("webhook error"),
                    )
                    .await
            }
        }
        .context("talking to Telegram")
    };
    let mut dispatching = std::pin::pin!(dispatching);

    let result = tokio::select! {
        result = &mut dispatching => {
            result?;
            bail!("the bot stopped receiving updates without being asked to (see the log above)");
        }
        _ = &mut shutdown => {
            tracing::info!("shutting down: finishing answers in flight");
            // teloxide 0.17 can lose a shutdown request that lands while it tidies its
            // workers, and waits 10 s after a 5xx: ask, and stop waiting after the grace.
            let _ = token.shutdown();
            tokio::time::timeout(GRACE, &mut dispatching).await
        }
    };
    match result {
        Ok(done) => done?,
        Err(_) => {
            tracing::warn!(
                grace_ms = GRACE.as_millis() as u64,
                "answers in flight did not finish within the grace period; stopping anyway"
            );
            if polling {
                confirm_offset(&bot, ctx.last_update.load(Ordering::SeqCst)).await;
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Fills the command menu: everyone's commands for everyone, and the admin commands too in
/// each admin's private chat with the bot (a chat scope per admin), so that nobody else sees
/// them. Each menu is set once per language: in English without a `language_code` (for
/// every user whose language has no menu of its own), then in each other language with its
/// code, which Telegram shows to the users whose app is set to it.
async fn register_commands(bot: &Bot, ctx: &Ctx) {
    use teloxide::payloads::{SetMyCommands, SetMyCommandsSetters};
    use teloxide::requests::JsonRequest;
    use teloxide::types::{BotCommandScope, Recipient};
    // English is every other language's menu too: it is set without a code.
    let in_language = |request: JsonRequest<SetMyCommands>, lang: Lang| match lang {
        Lang::En => request,
        lang => request.language_code(lang.code()),
    };
    for lang in Lang::ALL {
        let request = in_language(bot.set_my_commands(commands::menu(lang)), lang);
        if let Err(e) = request.await {
            tracing::warn!(language = %lang, error = %e, "could not register the command list");
        }
    }
    for &admin in &ctx.admins {
        for lang in Lang::ALL {
            let scope = BotCommandScope::Chat {
                chat_id: Recipient::Id(ChatId(admin as i64)),
            };
            let commands = commands::menu(lang)
                .into_iter()
                .chain(commands::admin_menu(lang))
                .collect::<Vec<_>>();
            let request = in_language(bot.set_my_commands(commands).scope(scope), lang);
            // An admin who never opened a chat with the bot has no chat to scope: say so,
            // go on.
            if let Err(e) = request.await {
                tracing::warn!(admin, language = %lang, error = %e, "could not show the admin commands to this admin (have they started the bot?)");
            }
        }
    }
}

/// With Redis: checks that this replica hashes ids as the others do, then reloads whenever
/// another replica did, until aborted.
async fn share_with_replicas(shared: Arc<crate::replicas::Shared>, ctx: Arc<Ctx>) {
    shared.check_secret().await;
    shared
        .listen_for_reloads(|| {
            let ctx = Arc::clone(&ctx);
            async move {
                let said = ctx.reload(Lang::En).await;
                tracing::info!(result = %crate::html::html_to_plain(&said), "reload done");
            }
        })
        .await
}

/// Reloads the knowledge when the files the replicas share changed and no reload said so
/// (Redis was away when another replica asked), looking every [`POLL_EVERY`], until aborted.
async fn follow_files(files: Arc<SharedFiles>, ctx: Arc<Ctx>) {
    let mut every = tokio::time::interval(POLL_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        let asked = Arc::clone(&files);
        match tokio::task::spawn_blocking(move || asked.changed()).await {
            Ok(Ok(true)) => {
                tracing::info!("the shared documents changed: reloading the knowledge");
                let said = ctx.reload(Lang::En).await;
                tracing::info!(result = %crate::html::html_to_plain(&said), "reload done");
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "could not ask for shared documents"),
            Err(e) => tracing::error!(error = %e, "asking for shared documents panicked"),
        }
    }
}

/// Reloads the knowledge on every SIGHUP, as daemons do, until aborted.
pub async fn reload_on_sighup(ctx: Arc<Ctx>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; /reload still works");
            return;
        };
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP received: reloading the knowledge");
            let said = ctx.reload_everywhere(Lang::En).await;
            tracing::info!(result = %crate::html::html_to_plain(&said), "reload done");
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// How long answers in flight may take once a stop is asked for. With the confirmation after
/// it, a stop takes at most 3 s: under Docker's 10 s before SIGKILL, with room to spare.
pub const GRACE: Duration = Duration::from_millis(1_800);
/// The confirming `getUpdates` after a forced stop gets this long.
const CONFIRM_WITHIN: Duration = Duration::from_millis(800);

/// Tells Telegram that every update up to `last` was handled (the next `getUpdates` starts
/// after it), with one short call: the dispatcher that would have done it was cut off.
async fn confirm_offset(bot: &Bot, last: u32) {
    if last == 0 {
        return;
    }
    let call = bot
        .get_updates()
        .offset(last as i32 + 1)
        .limit(1)
        .timeout(0);
    match tokio::time::timeout(CONFIRM_WITHIN, call.send()).await {
        Ok(Ok(_)) => tracing::info!(update = last, "confirmed the updates handled"),
        Ok(Err(e)) => tracing::warn!(error = %e, "could not confirm the updates handled"),
        Err(_) => tracing::warn!("Telegram did not answer the confirmation in time"),
    }
}

/// Sets the webhook and serves it. Stopping leaves the webhook in place: with several
/// replicas behind one URL, a replica that stops must not switch delivery off for the others.
/// `citebot webhook delete` removes it.
async fn webhook_listener(
    bot: &Bot,
    hook: &crate::config::Webhook,
) -> anyhow::Result<impl UpdateListener<Err = std::convert::Infallible>> {
    // Bind before telling Telegram where to post, and fail if the address is taken:
    // teloxide's `webhooks::axum` binds inside a task that panics, and the bot would then
    // stop as if asked to.
    let tcp = tokio::net::TcpListener::bind(hook.listen)
        .await
        .with_context(|| format!("WEBHOOK_LISTEN={}: cannot listen there", hook.listen))?;
    let mut options = webhooks::Options::new(hook.listen, hook.url.clone());
    if let Some(secret) = &hook.secret {
        options = options.secret_token(secret.clone());
    }
    let secret = options.get_or_gen_secret_token().to_owned();
    bot.set_webhook(hook.url.clone())
        .secret_token(secret)
        .await
        .context("setting up the webhook")?;
    let (mut listener, stop_flag, router) = webhooks::axum_no_setup(options);
    let stop_listener = listener.stop_token();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(tcp, router)
            .with_graceful_shutdown(stop_flag)
            .await
        {
            tracing::error!(error = %e, "the webhook server failed");
            stop_listener.stop();
        }
    });
    Ok(listener)
}

/// `citebot webhook delete`: switches webhook delivery off (for every replica), so that the
/// bot can be run with long polling again.
pub fn delete_webhook(config: &Config) -> anyhow::Result<()> {
    let token = config.token()?;
    config.check_bot()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let mut bot = Bot::new(token.expose());
        if let Some(url) = &config.api_url {
            bot = bot.set_api_url(url.clone());
        }
        bot.delete_webhook()
            .await
            .context("Telegram refused to delete the webhook")?;
        anyhow::Ok(())
    })?;
    println!("webhook deleted: Telegram keeps updates for long polling until a bot asks");
    Ok(())
}

/// Asks Telegram who the bot is. A rejected token is fatal with advice; a network failure is
/// retried with backoff (1 s, doubling, at most a minute).
pub async fn get_me_with_backoff(bot: &Bot) -> anyhow::Result<Me> {
    let mut pause = Duration::from_secs(1);
    loop {
        match bot.get_me().await {
            Ok(me) => return Ok(me),
            Err(RequestError::Api(ApiError::InvalidToken)) => bail!(
                "Telegram rejected TELOXIDE_TOKEN (401 Unauthorized). Get the bot's current \
                 token from @BotFather (/mybots → API Token) and put it in .env."
            ),
            Err(e) => {
                tracing::warn!(error = %e, retry_in_s = pause.as_secs(), "Telegram unreachable at start; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what service managers send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
