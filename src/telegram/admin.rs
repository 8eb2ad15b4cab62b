//! What the admins' commands read: `/stats` and `/unanswered`, from the record, off the async
//! threads and in the asker's language.

use std::time::SystemTime;

use super::ctx::Ctx;
use crate::lang::Lang;
use crate::record::{self, RecordError, Report};
use crate::texts;

/// /stats: the record's last 7 days, after how far the meaning layers are while they load.
pub(super) async fn stats(ctx: &Ctx, lang: Lang) -> String {
    let loading = texts::meaning_progress(&ctx.engine().joining_now(), lang);
    let report = read_record(
        ctx,
        lang,
        |path| Report::load(path, SystemTime::now(), 7),
        |r| texts::stats(&r, lang),
    )
    .await;
    loading + &report
}

/// /unanswered: the last 10 questions nothing answered.
pub(super) async fn unanswered(ctx: &Ctx, lang: Lang) -> String {
    read_record(
        ctx,
        lang,
        |path| record::recent_unanswered(path, 10),
        |r| texts::unanswered(&r, lang),
    )
    .await
}

/// Reads the record off the async threads with `read`, and says what it found with `show`
/// (or why there is nothing to show, in `lang`).
async fn read_record<T: Send + 'static>(
    ctx: &Ctx,
    lang: Lang,
    read: impl FnOnce(&record::Location) -> Result<T, RecordError> + Send + 'static,
    show: impl FnOnce(T) -> String,
) -> String {
    let Some(location) = ctx.record.location().cloned() else {
        return texts::RECORD_OFF.get(lang).to_string();
    };
    match tokio::task::spawn_blocking(move || read(&location)).await {
        Ok(Ok(found)) => show(found),
        Ok(Err(RecordError::Missing(_))) => texts::RECORD_EMPTY.get(lang).to_string(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot read the record");
            texts::SORRY.get(lang).to_string()
        }
        Err(_) => texts::SORRY.get(lang).to_string(),
    }
}
