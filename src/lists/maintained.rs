//! Maintained list state: today's rankings kept in memory, brought up to date from `list_change`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::values;
use crate::error::AppResult;
use crate::export::Rows;
use crate::state::AppState;

/// A read-only repeatable-read transaction and what changed since a kept snapshot, as seen from its own.
pub struct Delta {
    /// Where the changed customers are read again: the snapshot below.
    pub tx: Transaction<'static, Postgres>,
    /// This transaction's snapshot, to keep beside the state it brings up to date.
    pub snapshot: String,
    /// Customers with a write the kept snapshot did not see; `None` when there is no usable kept snapshot
    /// (none yet, or older than the pruned change log): rebuild from scratch.
    pub changed: Option<Vec<Uuid>>,
}

/// Opens the transaction and reads the customers changed since `since` (a `pg_snapshot` as text).
pub async fn delta(pool: &PgPool, since: Option<&str>) -> sqlx::Result<Delta> {
    let mut tx = pool
        .begin_with("begin isolation level repeatable read, read only")
        .await?;
    // The log's recent end is a few rows, but a bulk writer leaves a million behind it and the planner (no
    // statistics on a table pruned hourly) then starts parallel workers, 15-25 ms of a 1 ms read.
    sqlx::query("set local max_parallel_workers_per_gather = 0")
        .execute(&mut *tx)
        .await?;
    // A change is missed by the kept snapshot exactly when its transaction was not visible to it; anything at
    // or past its xmin is checked, anything older was seen (or rolled back).
    let (snapshot, changed): (String, Option<Vec<Uuid>>) = sqlx::query_as(
        "select pg_current_snapshot()::text,
                case when $1::pg_snapshot is null
                       or pg_snapshot_xmin($1::pg_snapshot) < (select horizon from list_change_horizon) then null
                     else array(select distinct customer_id from list_change
                                 where xid >= pg_snapshot_xmin($1::pg_snapshot)
                                   and not pg_visible_in_snapshot(xid, $1::pg_snapshot)) end",
    )
    .bind(since)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Delta {
        tx,
        snapshot,
        changed,
    })
}

/// Drops change-log rows no kept state younger than an hour can need; a state older than that rebuilds.
pub async fn prune(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    let noted: Option<(bool,)> = sqlx::query_as(
        "update list_change_horizon
            set horizon = next_horizon,
                next_horizon = pg_snapshot_xmin(pg_current_snapshot()),
                noted_at = now()
          where noted_at < now() - interval '1 hour'
         returning true",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let removed = if noted.is_some() {
        sqlx::query("delete from list_change where xid < (select horizon from list_change_horizon)")
            .execute(&mut *tx)
            .await?
            .rows_affected()
    } else {
        0
    };
    tx.commit().await?;
    Ok(removed)
}

/// A list entry that can be kept in a ranking.
pub trait Ranked: Clone {
    /// Its place: ascending order is the list's order.
    type Key: Ord + Clone + Send + Sync;
    /// The customer it is about.
    fn customer_id(&self) -> Uuid;
    /// Its sort key.
    fn key(&self) -> Self::Key;
}

/// Entries kept in list order, one per customer.
pub struct Ranking<C: Ranked> {
    order: BTreeSet<(C::Key, Uuid)>,
    by_id: HashMap<Uuid, C>,
}

impl<C: Ranked> Ranking<C> {
    /// The ranking of these entries.
    pub fn new(entries: Vec<C>) -> Self {
        let mut r = Ranking {
            order: BTreeSet::new(),
            by_id: HashMap::with_capacity(entries.len()),
        };
        r.replace(&[], entries);
        r
    }

    /// Drops the `changed` customers' entries, then puts in their new ones (a customer may have none now).
    pub fn replace(&mut self, changed: &[Uuid], entries: Vec<C>) {
        for id in changed {
            if let Some(old) = self.by_id.remove(id) {
                self.order.remove(&(old.key(), *id));
            }
        }
        for e in entries {
            let id = e.customer_id();
            if let Some(old) = self.by_id.insert(id, e.clone()) {
                self.order.remove(&(old.key(), id));
            }
            self.order.insert((e.key(), id));
        }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &C> {
        self.order.iter().filter_map(|(_, id)| self.by_id.get(id))
    }

    /// One page of entries, in order.
    pub fn page(&self, offset: usize, limit: usize) -> Vec<C> {
        self.order
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|(_, id)| self.by_id.get(id).cloned())
            .collect()
    }
}

/// One page of entries ranked from scratch, in the order a kept ranking holds them, and how many there are.
pub fn ranked_page<C: Ranked>(mut all: Vec<C>, rows: Rows) -> (i64, Vec<C>) {
    all.sort_by_key(|e| (e.key(), e.customer_id()));
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let (offset, limit) = rows.span();
    (total, all.into_iter().skip(offset).take(limit).collect())
}

/// Which entries of a kept list a page shows (all when there is none).
pub type Keep<'a, E> = &'a (dyn Fn(&E) -> bool + Send + Sync);

/// Entries being read: what `Source::read` returns.
pub type Reading<'a, E> = Pin<Box<dyn Future<Output = AppResult<Vec<E>>> + Send + 'a>>;

/// A list that can be kept: how to read its entries, everyone's or a few customers', inside a snapshot.
pub trait Source: Send + Sync + 'static {
    /// One customer's entry, as the ranking keeps it.
    type Entry: Ranked + Send + Sync + 'static;

    /// Every entry (`only: None`) or those of some customers, in no particular order.
    fn read<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        only: Option<&'a [Uuid]>,
    ) -> Reading<'a, Self::Entry>;

    /// Whether a state read with `kept` still answers for this one: always, for a list read from the
    /// database alone.
    fn compare(&self, _kept: &Self) -> Freshness {
        Freshness::Same
    }
}

/// How a kept list's source compares with the one a request brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The same: serve the kept state.
    Same,
    /// A newer fit of slow-moving estimates: serve the kept state (exact for its own fit) while the newer one is
    /// ranked in the background.
    Refitted,
    /// Different inputs (a price changed): rank afresh before answering.
    Changed,
}

/// One list kept for a day: its ranking as of `snapshot`, read with `source`.
pub struct Kept<S: Source> {
    source: Arc<S>,
    snapshot: String,
    ranking: Ranking<S::Entry>,
    /// A successor read with a newer source is being built.
    rebuilding: bool,
}

/// What a kept list serves for one page.
pub struct Page<S: Source> {
    /// The source the entries were read with (its fit, for the page's own details).
    pub source: Arc<S>,
    /// Entries in all.
    pub total: i64,
    /// This page's entries, in order.
    pub entries: Vec<S::Entry>,
    /// Their value tiers and yearly spend.
    pub tiers: HashMap<Uuid, (String, f64)>,
}

impl<S: Source> Kept<S> {
    /// Every entry read and ranked from scratch.
    async fn build(pool: &PgPool, source: Arc<S>) -> AppResult<Kept<S>> {
        let started = std::time::Instant::now();
        let mut d = delta(pool, None).await?;
        let all = source.read(&mut d.tx, None).await?;
        d.tx.commit().await?;
        tracing::debug!(
            secs = started.elapsed().as_secs_f64(),
            entries = all.len(),
            list = std::any::type_name::<S>(),
            "kept list built"
        );
        Ok(Kept {
            source,
            snapshot: d.snapshot,
            ranking: Ranking::new(all),
            rebuilding: false,
        })
    }

    /// Reads again the customers written to since the kept snapshot (everyone, if it is too old).
    async fn catch_up(&mut self, pool: &PgPool) -> AppResult<()> {
        let mut d = delta(pool, Some(&self.snapshot)).await?;
        match d.changed.as_deref() {
            None => self.ranking = Ranking::new(self.source.read(&mut d.tx, None).await?),
            Some([]) => {}
            Some(ids) => {
                let fresh = self.source.read(&mut d.tx, Some(ids)).await?;
                self.ranking.replace(ids, fresh);
            }
        }
        d.tx.commit().await?;
        self.snapshot = d.snapshot;
        Ok(())
    }
}

/// One page of the list kept in `slot` for `on` (only the entries `keep` keeps, when given): built on first use,
/// brought up to date on every use, and rebuilt in the background when `source` is newer than the one it was
/// read with (the kept one serves, exactly for its own source, until then).
pub async fn serve<S: Source>(
    state: &AppState,
    on: NaiveDate,
    slot: Arc<tokio::sync::Mutex<Option<Kept<S>>>>,
    source: Arc<S>,
    keep: Option<Keep<'_, S::Entry>>,
    rows: Rows,
) -> AppResult<Page<S>> {
    let pool = &state.pool;
    let mut kept = slot.lock().await;
    let k = match kept.as_mut() {
        Some(k) if source.compare(&k.source) == Freshness::Changed => {
            *k = Kept::build(pool, source).await?;
            k
        }
        Some(k) => {
            if source.compare(&k.source) == Freshness::Refitted && !k.rebuilding {
                k.rebuilding = true;
                let (pool, slot) = (pool.clone(), slot.clone());
                tokio::spawn(async move {
                    let built = Kept::build(&pool, source).await;
                    let mut kept = slot.lock().await;
                    match built {
                        Ok(newer) => *kept = Some(newer),
                        Err(e) => {
                            tracing::warn!(error = ?e, "rebuilding a kept list failed");
                            if let Some(k) = kept.as_mut() {
                                k.rebuilding = false;
                            }
                        }
                    }
                });
            }
            k.catch_up(pool).await?;
            k
        }
        None => kept.insert(Kept::build(pool, source).await?),
    };
    let (offset, limit) = rows.span();
    let (entries, total) = match keep {
        None => (k.ranking.page(offset, limit), k.ranking.len()),
        Some(keep) => (
            k.ranking
                .iter()
                .filter(|e| keep(e))
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
            k.ranking.iter().filter(|e| keep(e)).count(),
        ),
    };
    let ids: Vec<Uuid> = entries.iter().map(|e| e.customer_id()).collect();
    let source = k.source.clone();
    drop(kept);
    let tiers = values::with_values(state, on, |v| v.tiers_of(&ids)).await?;
    Ok(Page {
        source,
        total: i64::try_from(total).unwrap_or(i64::MAX),
        tiers,
        entries,
    })
}

/// Kept states by key, each behind its own lock so one list's update never waits on another's.
pub struct Slots<K, V> {
    slots: Mutex<HashMap<K, Arc<tokio::sync::Mutex<Option<V>>>>>,
}

impl<K, V> Default for Slots<K, V> {
    fn default() -> Self {
        Slots {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

/// Kept states at most: a dispatcher's lists for today, a few windows and caps.
const KEPT_STATES: usize = 8;

impl<K: std::hash::Hash + Eq, V> Slots<K, V> {
    /// Drops the states whose key `keep` refuses (a caller still holding one finishes with it).
    pub fn retain(&self, keep: impl Fn(&K) -> bool) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|k, _| keep(k));
    }

    /// The slot for `key` (states for other days are dropped when there are too many).
    pub fn slot(&self, key: K) -> Arc<tokio::sync::Mutex<Option<V>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if !slots.contains_key(&key) && slots.len() >= KEPT_STATES {
            slots.retain(|_, s| Arc::strong_count(s) > 1);
            if slots.len() >= KEPT_STATES {
                slots.clear();
            }
        }
        slots.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct E(Uuid, i64);

    impl Ranked for E {
        type Key = std::cmp::Reverse<i64>;
        fn customer_id(&self) -> Uuid {
            self.0
        }
        fn key(&self) -> Self::Key {
            std::cmp::Reverse(self.1)
        }
    }

    #[test]
    fn states_of_days_gone_are_dropped() {
        let slots: Slots<NaiveDate, i32> = Slots::default();
        let (yesterday, today) = (
            NaiveDate::from_ymd_opt(2026, 12, 2).expect("valid test input"),
            NaiveDate::from_ymd_opt(2026, 12, 3).expect("valid test input"),
        );
        *slots
            .slot(yesterday)
            .try_lock()
            .expect("no one else holds the slot") = Some(1);
        *slots
            .slot(today)
            .try_lock()
            .expect("no one else holds the slot") = Some(2);
        slots.retain(|day| *day >= today);
        assert_eq!(
            *slots
                .slot(yesterday)
                .try_lock()
                .expect("no one else holds the slot"),
            None
        );
        assert_eq!(
            *slots
                .slot(today)
                .try_lock()
                .expect("no one else holds the slot"),
            Some(2)
        );
    }

    #[test]
    fn a_replaced_customer_moves_and_a_dropped_one_leaves() {
        let ids: Vec<Uuid> = (1..=4u128).map(Uuid::from_u128).collect();
        let mut r = Ranking::new(
            ids.iter()
                .zip([10, 40, 20, 30])
                .map(|(i, v)| E(*i, v))
                .collect(),
        );
        assert_eq!(
            r.page(0, 10).iter().map(|e| e.1).collect::<Vec<_>>(),
            [40, 30, 20, 10]
        );
        r.replace(&[ids[0], ids[1]], vec![E(ids[0], 50)]);
        assert_eq!(
            r.page(0, 10).iter().map(|e| e.1).collect::<Vec<_>>(),
            [50, 30, 20]
        );
        assert_eq!(r.page(1, 1), vec![E(ids[3], 30)]);
        assert_eq!(r.len(), 3);
    }
}
