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
/// Tries of one batch the database refuses for another reason than being away (1, 2, 4, 8 s apart).
const TRIES: u32 = 5;
/// Longest pause between tries.
const MAX_PAUSE: Duration = Duration::from_secs(10);
/// How long a batch is kept while the database is away (down, restarting, unreachable) before it is given up:
/// an outage of minutes loses no entry, and shutdown during a longer one still ends.
const OUTAGE: Duration = Duration::from_secs(15 * 60);

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
    let started = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Err(e) = super::db::record_reads(pool, &at, &staff, &action, &customer).await else {
            return;
        };
        let e = anyhow::Error::new(e);
        match next_pause(
            attempt,
            crate::error::database_unavailable(&e),
            started.elapsed(),
        ) {
            Some(pause) => {
                // Every try is logged during the first minute of an outage, then every tenth.
                if attempt <= 8 || attempt % 10 == 0 {
                    tracing::warn!(error = %e, entries = reads.len(), attempt, "access-log write failed; trying again");
                }
                tokio::time::sleep(pause).await;
            }
            None => {
                tracing::error!(error = %e, entries = reads.len(), attempt, "access-log write failed; these reads are not recorded");
                return;
            }
        }
    }
}

/// The pause before the next try of a batch after `attempt` failed tries, or `None` to give it up: doubling from
/// 1 s to [`MAX_PAUSE`], as long as the database is `away` and the batch has waited less than [`OUTAGE`], else for
/// [`TRIES`] tries.
fn next_pause(attempt: u32, away: bool, waited: Duration) -> Option<Duration> {
    let keep = if away {
        waited < OUTAGE
    } else {
        attempt < TRIES
    };
    keep.then(|| Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6)).min(MAX_PAUSE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_waited_out_for_minutes_and_other_refusals_are_tried_five_times() {
        let secs =
            |a, away, waited| next_pause(a, away, Duration::from_secs(waited)).map(|d| d.as_secs());
        // Five tries for every failure gave a batch up 15 s in, so a 22 s outage lost entries.
        assert_eq!(secs(5, true, 15), Some(10));
        assert_eq!(secs(100, true, 14 * 60), Some(10));
        assert_eq!(secs(101, true, 15 * 60), None);
        assert_eq!(
            (1..=5).map(|a| secs(a, false, 0)).collect::<Vec<_>>(),
            vec![Some(1), Some(2), Some(4), Some(8), None]
        );
        assert_eq!(
            secs(u32::MAX, true, 0),
            Some(10),
            "no overflow however long"
        );
    }
}
