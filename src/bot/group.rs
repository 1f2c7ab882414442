//! Group commit for webhook updates.
//!
//! With `synchronous = FULL` every commit waits for an fsync, so one transaction per
//! update caps the webhook at the disk's durable commits a second. Here concurrent
//! updates share a transaction instead: a single writer thread takes the first waiting
//! update, adds whatever else is already queued (up to [`MAX_BATCH`]), stores them all
//! with [`intake`] in one `BEGIN IMMEDIATE` transaction through [`Store::write_blocking`]
//! (so it takes its turn with the other writers), commits once, and only then answers
//! each waiting request. A lone update is committed at once: nothing waits for
//! batch-mates; batches form from the updates that arrive while a commit is in progress.
//!
//! Each update runs in its own savepoint: one that fails is rolled back alone and only
//! its request gets the error. If the commit fails, nothing of the batch is stored and
//! every request in it gets the error.

use std::sync::{mpsc, Arc, Mutex};

use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{oneshot, Notify};

use super::{intake, Intake};
use crate::store::{Store, StoreError};

/// The most updates one transaction stores.
pub const MAX_BATCH: usize = 256;

/// What a waiting request is answered: the update's intake, or why it was not stored.
pub type Reply = Result<Intake, String>;

struct Pending {
    body: Value,
    now: OffsetDateTime,
    reply: oneshot::Sender<Reply>,
}

/// The handle the webhook submits updates through (Rocket-managed state). The writer
/// thread starts at the first update and stops when this handle is dropped.
pub struct GroupIntake {
    store: Store,
    outbox_wake: Arc<Notify>,
    queue: Mutex<Option<mpsc::Sender<Pending>>>,
}

impl GroupIntake {
    pub fn new(store: Store, outbox_wake: Arc<Notify>) -> Self {
        GroupIntake {
            store,
            outbox_wake,
            queue: Mutex::new(None),
        }
    }

    /// Stores `body` durably (deduplicated, with its job) and answers once it is committed.
    pub async fn submit(&self, body: Value, now: OffsetDateTime) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.enqueue(Pending { body, now, reply })?;
        answer
            .await
            .map_err(|_| "the webhook writer stopped before answering".to_string())?
    }

    fn enqueue(&self, pending: Pending) -> Result<(), String> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        // No writer yet, or it is gone (it only stops on a panic): start one.
        let pending = match queue.as_ref() {
            Some(running) => match running.send(pending) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(pending)) => pending,
            },
            None => pending,
        };
        let (sender, receiver) = mpsc::channel();
        let (store, wake) = (self.store.clone(), self.outbox_wake.clone());
        std::thread::Builder::new()
            .name("webhook-writer".into())
            .spawn(move || run(&store, &wake, &receiver))
            .map_err(|e| format!("cannot start the webhook writer: {e}"))?;
        sender
            .send(pending)
            .map_err(|_| "the webhook writer stopped".to_string())?;
        *queue = Some(sender);
        Ok(())
    }
}

/// The writer thread: one transaction per batch until every sender is dropped.
fn run(store: &Store, outbox_wake: &Notify, receiver: &mpsc::Receiver<Pending>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        write_batch(store, outbox_wake, batch);
    }
}

fn write_batch(store: &Store, outbox_wake: &Notify, batch: Vec<Pending>) {
    metrics::histogram!("gosdom_max_webhook_batch_size").record(batch.len() as f64);
    let written = store.write_blocking(|tx| {
        let mut results = Vec::with_capacity(batch.len());
        for pending in &batch {
            tx.execute_batch("SAVEPOINT webhook_update")?;
            match intake(tx, &pending.body, pending.now) {
                Ok(done) => {
                    tx.execute_batch("RELEASE webhook_update")?;
                    results.push(Ok(done));
                }
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO webhook_update; RELEASE webhook_update")?;
                    results.push(Err(e.to_string()));
                }
            }
        }
        Ok::<_, StoreError>(results)
    });
    match written {
        Ok(results) => {
            if results.iter().any(|r| matches!(r, Ok(Intake::Stored))) {
                outbox_wake.notify_one();
            }
            for (pending, result) in batch.into_iter().zip(results) {
                // The request may have gone (client disconnected): its update is stored.
                let _ = pending.reply.send(result);
            }
        }
        Err(e) => {
            let reason = e.to_string();
            tracing::error!(error = %reason, updates = batch.len(), "webhook batch not stored");
            for pending in batch {
                let _ = pending.reply.send(Err(reason.clone()));
            }
        }
    }
}
