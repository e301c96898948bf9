//! Fits kept per key, served while a newer one is made in the background, and the first fit's patience.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::error::{AppError, AppResult};

use super::maintained::Slots;

/// A fit is served this long before a newer one is made in the background.
const FRESH: Duration = Duration::from_secs(600);
/// How long a list request waits for a first fit (after a restart, half a minute or more at a million customers)
/// before it answers 503 with `Retry-After`; under the staff page's own 20-second patience.
const FIRST_FIT_WAIT: Duration = Duration::from_secs(15);
/// When a caller told the estimates are not ready should ask again, in seconds.
const FIRST_FIT_RETRY_AFTER: u64 = 30;

type Slot<V> = Arc<tokio::sync::Mutex<Option<(Instant, Arc<V>)>>>;

/// Fits kept per key: served up to ten minutes old, a newer one made in the background after that, so a
/// dispatcher's page never waits for a refit once the first is made.
pub(crate) struct Kept<K, V> {
    slots: Slots<K, (Instant, Arc<V>)>,
    /// How long a caller waits for a first fit (`FIRST_FIT_WAIT`; shorter in tests).
    pub(crate) first_wait: Duration,
    /// The `Retry-After` seconds of the 503 a caller who waited that long gets.
    pub(crate) retry_after: u64,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Kept {
            slots: Slots::default(),
            first_wait: FIRST_FIT_WAIT,
            retry_after: FIRST_FIT_RETRY_AFTER,
        }
    }
}

impl<K: std::hash::Hash + Eq, V: Send + Sync + 'static> Kept<K, V> {
    /// The fit for `key`: a kept one (refreshed in the background by `fit` when older than ten minutes), else
    /// one made now while later callers for the same key wait for it, each at most `wait` (without end when
    /// `None`: a fit that needs another, a benchmark).
    pub(crate) async fn get_within<F, Fut>(
        &self,
        key: K,
        fit: F,
        wait: Option<Duration>,
    ) -> AppResult<Arc<V>>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = AppResult<V>> + Send + 'static,
    {
        let slot = self.slots.slot(key);
        let kept = match slot.try_lock() {
            Ok(guard) => guard.as_ref().map(|(at, value)| (*at, value.clone())),
            // A first fit (or a refresh's swap) holds the slot.
            Err(_) => None,
        };
        let fit = Arc::new(fit);
        let (at, value) = match kept {
            Some(kept) => kept,
            None => Self::first_fit(slot.clone(), fit.clone(), wait, self.retry_after).await?,
        };
        if at.elapsed() > FRESH {
            let mut kept = slot.lock().await;
            // Marked fresh now so one refresh runs; it replaces the fit when done.
            if kept.as_ref().is_some_and(|(at, _)| at.elapsed() > FRESH) {
                *kept = Some((Instant::now(), value.clone()));
                let slot = slot.clone();
                tokio::spawn(async move {
                    match fit().await {
                        Ok(newer) => *slot.lock().await = Some((Instant::now(), Arc::new(newer))),
                        Err(e) => {
                            tracing::warn!(error = ?e, "refreshing the list estimates failed")
                        }
                    }
                });
            }
        }
        Ok(value)
    }

    /// The slot's fit, made now when there is none. The fit runs in a task of its own holding the slot, so a
    /// caller that gives up (a timeout, a closed page) does not cancel it and later callers wait for the same
    /// fit; a caller waits `wait` at most, then is told to come back (503 with `Retry-After`).
    async fn first_fit<F, Fut>(
        slot: Slot<V>,
        fit: Arc<F>,
        wait: Option<Duration>,
        retry_after: u64,
    ) -> AppResult<(Instant, Arc<V>)>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = AppResult<V>> + Send + 'static,
    {
        let task = tokio::spawn(async move {
            let mut kept = slot.lock_owned().await;
            if let Some((at, value)) = kept.as_ref() {
                return Ok((*at, value.clone()));
            }
            let value = Arc::new(fit().await?);
            let at = Instant::now();
            *kept = Some((at, value.clone()));
            Ok::<_, AppError>((at, value))
        });
        let finished = match wait {
            None => Some(task.await),
            // No patience: told at once while the fit goes on (a zero timer still lets a fast fit win the race).
            Some(wait) if wait.is_zero() => None,
            Some(wait) => tokio::time::timeout(wait, task).await.ok(),
        };
        match finished {
            Some(Ok(fitted)) => fitted,
            Some(Err(e)) => Err(anyhow::anyhow!("fitting the list estimates: {e}").into()),
            None => Err(AppError::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "estimates-not-ready",
                "Estimates not ready",
                "today's estimates (who is still a customer, what is still worn) are being fitted from the \
                 whole history; after a restart this takes a few minutes for a large company",
            )
            .with_hint("the page asks again by itself")
            .with_retry_after(retry_after)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A first fit longer than a caller's patience: the caller is told to come back (503), the fit is not
    /// cancelled with it, and the next caller gets that same fit.
    #[tokio::test]
    async fn a_slow_first_fit_outlives_the_caller_who_gave_up() {
        let kept: Kept<u8, usize> = Kept {
            first_wait: Duration::from_millis(50),
            ..Kept::default()
        };
        let fits = Arc::new(AtomicUsize::new(0));
        let fit = {
            let fits = fits.clone();
            move || {
                let fits = fits.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Ok(fits.fetch_add(1, Ordering::SeqCst) + 1)
                }
            }
        };
        match kept.get_within(1, fit.clone(), Some(kept.first_wait)).await {
            Err(AppError::Problem(p)) => {
                assert_eq!(p.status, StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(p.retry_after, Some(30));
            }
            other => panic!("expected 503, got {:?}", other.map(|v| *v)),
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            *kept
                .get_within(1, fit.clone(), Some(kept.first_wait))
                .await
                .expect("the fit succeeded"),
            1,
            "the first fit, kept"
        );
        assert_eq!(
            *kept
                .get_within(1, fit.clone(), Some(kept.first_wait))
                .await
                .expect("the fit succeeded"),
            1
        );
        assert_eq!(fits.load(Ordering::SeqCst), 1, "fitted once");
        // A fit that needs another (the reminder estimates need the day's active model) waits it out.
        assert_eq!(
            *kept
                .get_within(2, fit, None)
                .await
                .expect("the fit succeeded"),
            2
        );
    }
}
