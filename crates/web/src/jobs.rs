//! Background jobs the web layer owns because it writes their mail: the event reminder job
//! (the day before, on the day, and the feedback request afterwards). Each pass queues
//! every due notice once through the store, which remembers what it queued, so several
//! nodes may run the job at once; delivery and retries are the outbox's.

use crate::event_mails::scheduled_notice;
use crate::{AppState, WebConfig};
use barnstorm_store::{Millis, Store, StoreError, new_secret, now_millis};
use std::time::Duration;
use tokio::sync::watch;

/// How often the reminder job looks for due notices.
pub const REMINDER_INTERVAL: Duration = Duration::from_secs(60);
/// The most notices one pass reads at a time.
const BATCH: i64 = 500;

/// One pass: queues every notice due at `now` and returns how many were queued.
pub async fn queue_due_reminders(
    store: &Store,
    config: &WebConfig,
    now: Millis,
) -> Result<usize, StoreError> {
    let mut queued = 0;
    loop {
        let due = store.due_notices(now, BATCH).await?;
        let mut queued_now = 0;
        for notice in &due {
            let manage_token = new_secret();
            let mail = scheduled_notice(config, notice, &manage_token);
            if store
                .queue_notice(notice.rsvp_id, notice.kind, &manage_token, &mail)
                .await?
            {
                queued_now += 1;
            }
        }
        queued += queued_now;
        // A short batch was the last; a batch with nothing new would repeat forever.
        if due.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) || queued_now == 0 {
            return Ok(queued);
        }
    }
}

/// Runs the reminder job every [`REMINDER_INTERVAL`] until `stop` turns true.
pub async fn run_reminders(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        match queue_due_reminders(&state.store, &state.config, now_millis()).await {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!(queued, "queued event reminders");
                state.mail_queued();
            }
            Err(error) => tracing::warn!(%error, "could not queue event reminders"),
        }
        tokio::select! {
            () = tokio::time::sleep(REMINDER_INTERVAL) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
