//! Reads of customer data on the hot paths, handed to one task that writes them to the access log in batches.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Entries waiting at most; past this a reader waits for the writer (an entry is never dropped for room).
const QUEUE: usize = 65_536;
/// Entries one statement writes at most.
const BATCH: usize = 4_096;
/// Tries of one batch while the database does not answer (1, 2, 4, 8 s apart).
const TRIES: u32 = 5;

enum Msg {
    Read(Read),
    Flush(oneshot::Sender<()>),
}

struct Read {
    at: DateTime<Utc>,
    staff_id: Uuid,
    action: &'static str,
    customer_id: Uuid,
}

/// The access log's writer for reads: a scan hands its entry over and answers at once, and whatever queued
/// meanwhile is written by one insert. A busy minute of scans is a few statements instead of a transaction each,
/// and the reader never waits for the log. Entries keep the time of the read, not of the write.
#[derive(Clone)]
pub struct ReadLog {
    tx: mpsc::Sender<Msg>,
}

impl ReadLog {
    /// Starts the writer on `pool`; it ends once every handle is dropped and the queue is written.
    pub fn spawn(pool: PgPool) -> ReadLog {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(pool, rx));
        ReadLog { tx }
    }

    /// Queues one read of a customer's data by `staff_id`.
    pub async fn note(&self, staff_id: Uuid, action: &'static str, customer_id: Uuid) {
        let read = Read {
            at: Utc::now(),
            staff_id,
            action,
            customer_id,
        };
        if self.tx.send(Msg::Read(read)).await.is_err() {
            tracing::warn!(action, "access-log writer stopped; a read was not recorded");
        }
    }

    /// Waits until every read queued before this call is in the database (or its write gave up), so a query of
    /// the log sees what was read before it.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_loop(pool: PgPool, mut rx: mpsc::Receiver<Msg>) {
    let mut reads = Vec::with_capacity(BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Read(r) => reads.push(r),
                Msg::Flush(done) => waiting.push(done),
            }
            next = if reads.len() < BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !reads.is_empty() {
            write_batch(&pool, &reads).await;
            reads.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write_batch(pool: &PgPool, reads: &[Read]) {
    let at: Vec<_> = reads.iter().map(|r| r.at).collect();
    let staff: Vec<_> = reads.iter().map(|r| r.staff_id).collect();
    let action: Vec<_> = reads.iter().map(|r| r.action).collect();
    let customer: Vec<_> = reads.iter().map(|r| r.customer_id).collect();
    let mut pause = Duration::from_secs(1);
    for attempt in 1..=TRIES {
        match super::db::record_reads(pool, &at, &staff, &action, &customer).await {
            Ok(()) => return,
            Err(e) if attempt < TRIES => {
                tracing::warn!(error = %e, entries = reads.len(), attempt, "access-log write failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, entries = reads.len(), "access-log write failed; these reads are not recorded");
            }
        }
    }
}
