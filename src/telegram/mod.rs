//! citebot in Telegram: start-up, the update loop (long polling or a webhook), and shutdown.
//!
//! Start-up checks what `Dispatcher::dispatch` would otherwise panic on: the token is asked
//! of Telegram with `getMe` first. A token Telegram rejects ends the program with one line
//! saying what to do; an unreachable Telegram is retried with backoff. SIGINT and SIGTERM both
//! stop the dispatcher gracefully: answers in flight are sent and the update offset is
//! confirmed before the process exits with 0.

pub mod buttons;
pub mod handlers;
pub mod send;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use teloxide::dispatching::ShutdownToken;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::update_listeners::{webhooks, UpdateListener};
use teloxide::{ApiError, RequestError};

use crate::config::Config;
use crate::engine::Engine;
pub use handlers::{handler_tree, Ctx, FloodGate};

/// `citebot serve`: runs the bot until SIGINT or SIGTERM.
pub fn serve(config: Config) -> anyhow::Result<()> {
    // Checked before anything is loaded, so a missing token is the first thing said.
    let token = config.token()?;
    let engine = Engine::load(&config.engine_options())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut bot = Bot::new(token.expose());
        if let Some(url) = &config.api_url {
            bot = bot.set_api_url(url.clone());
        }
        let mut ctx = Ctx::new(Arc::new(engine));
        ctx.flood = FloodGate::new(config.flood_limit, Duration::from_secs(60));
        ctx.max_question_chars = config.max_question_chars;
        ctx.allowed_chats = config.allowed_chats.clone();
        run(bot, Arc::new(ctx), &config, shutdown_signal()).await
    })
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
    if let Err(e) = bot.set_my_commands(handlers::commands()).await {
        tracing::warn!(error = %e, "could not register the command list");
    }

    let mut dispatcher = Dispatcher::builder(bot.clone(), handler_tree())
        .dependencies(dptree::deps![ctx])
        .error_handler(LoggingErrorHandler::with_custom_text("handler error"))
        .build();
    let token = dispatcher.shutdown_token();
    // Whether the dispatcher stops because it was asked to: if not, something broke.
    let asked = Arc::new(AtomicBool::new(false));
    let asked_by_signal = Arc::clone(&asked);
    tokio::spawn(async move {
        shutdown.await;
        asked_by_signal.store(true, Ordering::SeqCst);
        tracing::info!("shutting down: finishing answers in flight");
        stop(token).await;
    });

    let result = match &config.webhook {
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
            // Bind before telling Telegram where to post, and fail if the address is taken:
            // teloxide's `webhooks::axum` binds inside a task that panics, and the bot would
            // then stop as if asked to.
            let tcp = tokio::net::TcpListener::bind(hook.listen)
                .await
                .with_context(|| format!("WEBHOOK_LISTEN={}: cannot listen there", hook.listen))?;
            let mut options = webhooks::Options::new(hook.listen, hook.url.clone());
            if let Some(secret) = &hook.secret {
                options = options.secret_token(secret.clone());
            }
            let (mut listener, stop_flag, router) = webhooks::axum_to_router(bot.clone(), options)
                .await
                .context("setting up the webhook")?;
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
            tracing::info!(listen = %hook.listen, "webhook mode");
            dispatcher
                .try_dispatch_with_listener(
                    listener,
                    LoggingErrorHandler::with_custom_text("webhook error"),
                )
                .await
        }
    };
    result.context("talking to Telegram")?;
    if !asked.load(Ordering::SeqCst) {
        bail!("the bot stopped receiving updates without being asked to (see the log above)");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The dispatcher may not be running yet when the signal comes: try until it is.
async fn stop(token: ShutdownToken) {
    loop {
        match token.shutdown() {
            Ok(done) => return done.await,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
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
