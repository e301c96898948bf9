//! Reads of customer data on the hot paths, handed to one task that writes them to the access log in batches.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::batcher::Batcher;

/// Entries waiting at most; past this a reader waits for the writer (an entry is never dropped for room).
const QUEUE: usize = 65_536;
/// Entries one statement writes at most.
const BATCH: usize = 4_096;
/// Tries of one batch while the database does not answer (1, 2, 4, 8 s apart).
const TRIES: u32 = 5;

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
    writer: Batcher<Read>,
}

impl ReadLog {
    /// Starts the writer on `pool`; it ends once every handle is dropped and the queue is written.
    pub fn spawn(pool: PgPool) -> ReadLog {
        let writer = Batcher::spawn(QUEUE, BATCH, move |reads: Vec<Read>| {
            let pool = pool.clone();
            async move { write_batch(&pool, &reads).await }
        });
        ReadLog { writer }
    }

    /// Queues one read of a customer's data by `staff_id`.
    pub async fn note(&self, staff_id: Uuid, action: &'static str, customer_id: Uuid) {
        let read = Read {
            at: Utc::now(),
            staff_id,
            action,
            customer_id,
        };
        if !self.writer.send(read).await {
            tracing::warn!(action, "access-log writer stopped; a read was not recorded");
        }
    }

    /// Waits until every read queued before this call is in the database (or its write gave up), so a query of
    /// the log sees what was read before it.
    pub async fn flush(&self) {
        self.writer.flush().await;
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
