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
/// First fits of one kind run at once at most (today's and a couple of other days a dispatcher asked for):
/// each reads the whole history and holds it, so a caller naming many days must not start as many fits.
const FITS_AT_ONCE: usize = 3;

type Slot<V> = Arc<tokio::sync::Mutex<Option<(Instant, Arc<V>)>>>;

/// Fits kept per key: served up to ten minutes old, a newer one made in the background after that, so a
/// dispatcher's page never waits for a refit once the first is made.
pub(crate) struct Kept<K, V> {
    slots: Slots<K, (Instant, Arc<V>)>,
    /// How long a caller waits for a first fit (`FIRST_FIT_WAIT`; shorter in tests).
    pub(crate) first_wait: Duration,
    /// The `Retry-After` seconds of the 503 a caller who waited that long gets.
    pub(crate) retry_after: u64,
    /// Permits of the first fits running (`FITS_AT_ONCE`).
    fitting: Arc<tokio::sync::Semaphore>,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Kept {
            slots: Slots::default(),
            first_wait: FIRST_FIT_WAIT,
            retry_after: FIRST_FIT_RETRY_AFTER,
            fitting: Arc::new(tokio::sync::Semaphore::new(FITS_AT_ONCE)),
        }
    }
}

impl<K: std::hash::Hash + Eq, V: Send + Sync + 'static> Kept<K, V> {
    /// Drops the fits whose key `keep` refuses (a caller still holding one finishes with it).
    pub(crate) fn retain(&self, keep: impl Fn(&K) -> bool) {
        self.slots.retain(keep);
    }

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
            None => {
                let fitting = self.fitting.clone();
                Self::first_fit(slot.clone(), fit.clone(), fitting, wait, self.retry_after).await?
            }
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
    /// fit; a caller waits `wait` at most, then is told to come back (503 with `Retry-After`), as is one whose
    /// fit would be one too many at once.
    async fn first_fit<F, Fut>(
        slot: Slot<V>,
        fit: Arc<F>,
        fitting: Arc<tokio::sync::Semaphore>,
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
            let Ok(_permit) = fitting.try_acquire_owned() else {
                return Err(not_ready(
                    "estimates for other days are being fitted; this day's is fitted once one of them is done",
                    retry_after,
                ));
            };
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
            None => Err(not_ready(
                "today's estimates (who is still a customer, what is still worn) are being fitted from the \
                 whole history; after a restart this takes a few minutes for a large company",
                retry_after,
            )),
        }
    }
}

/// The 503 of estimates not fitted yet: the staff page says so and asks again by itself.
fn not_ready(detail: &str, retry_after: u64) -> AppError {
    AppError::problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "estimates-not-ready",
        "Estimates not ready",
        detail,
    )
    .with_hint("the page asks again by itself")
    .with_retry_after(retry_after)
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

    /// A day's fit that `retain` drops is fitted anew when asked for again; the kept one is left alone.
    #[tokio::test]
    async fn a_dropped_days_fit_is_made_again() {
        let kept: Kept<u8, usize> = Kept::default();
        let fits = Arc::new(AtomicUsize::new(0));
        let fit = {
            let fits = fits.clone();
            move || {
                let fits = fits.clone();
                async move { Ok(fits.fetch_add(1, Ordering::SeqCst) + 1) }
            }
        };
        for day in [1, 2] {
            kept.get_within(day, fit.clone(), None)
                .await
                .expect("fitted");
        }
        kept.retain(|day| *day >= 2);
        let today = kept.get_within(2, fit.clone(), None).await.expect("kept");
        assert_eq!(*today, 2, "today's fit is kept");
        let yesterday = kept.get_within(1, fit, None).await.expect("fitted");
        assert_eq!(*yesterday, 3, "yesterday's was dropped and fitted again");
    }

    /// Callers naming many days start a few fits at once, no more; the others are told to come back.
    #[tokio::test]
    async fn only_a_few_first_fits_run_at_once() {
        let kept: Kept<u8, usize> = Kept {
            first_wait: Duration::from_millis(20),
            ..Kept::default()
        };
        let running = Arc::new(AtomicUsize::new(0));
        let fit = {
            let running = running.clone();
            move || {
                let running = running.clone();
                async move {
                    running.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Ok(running.fetch_sub(1, Ordering::SeqCst))
                }
            }
        };
        let told = |r: AppResult<Arc<usize>>| match r {
            Err(AppError::Problem(p)) if p.status == StatusCode::SERVICE_UNAVAILABLE => p.detail,
            other => panic!("expected 503, got {:?}", other.map(|v| *v)),
        };
        for day in 0..FITS_AT_ONCE as u8 {
            let detail = told(
                kept.get_within(day, fit.clone(), Some(kept.first_wait))
                    .await,
            );
            assert!(detail.starts_with("today's estimates"), "{detail}");
        }
        assert_eq!(running.load(Ordering::SeqCst), FITS_AT_ONCE);
        let detail = told(kept.get_within(9, fit.clone(), Some(kept.first_wait)).await);
        assert!(detail.contains("other days"), "{detail}");
        assert_eq!(
            running.load(Ordering::SeqCst),
            FITS_AT_ONCE,
            "no fit started for it"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        kept.get_within(9, fit, None)
            .await
            .expect("fitted once the others are done");
    }
}
