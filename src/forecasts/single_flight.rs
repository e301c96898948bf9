//! At most one forecast computed at a time per series: callers that arrive while it runs wait for it and share
//! its answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::error::AppResult;

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, serde_json::Value)>>>;

/// Per-key async locks with the last answer of each key. A key is a family (one forecast and horizon) and a
/// version of what its answer depends on (the day, the inputs' version); a family keeps its newest answer only.
#[derive(Default)]
pub struct SingleFlight {
    slots: Mutex<HashMap<String, Slot>>,
}

impl SingleFlight {
    /// The answer for `key`: one that finished while this caller waited (so it saw every write made before the
    /// call), otherwise computed by `compute` while later callers of the same key wait. A failed computation
    /// leaves nothing.
    pub async fn get_or_compute<F, Fut>(
        &self,
        family: &str,
        version: impl std::fmt::Display,
        compute: F,
    ) -> AppResult<serde_json::Value>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<serde_json::Value>>,
    {
        let asked_at = Instant::now();
        self.answer(family, version, compute, |at| at >= asked_at)
            .await
    }

    /// The answer kept for `key`, however old, else computed once while later callers wait: for keys that name
    /// everything the answer depends on (a version of its inputs), so a kept answer is never stale.
    pub async fn get_or_compute_kept<F, Fut>(
        &self,
        family: &str,
        version: impl std::fmt::Display,
        compute: F,
    ) -> AppResult<serde_json::Value>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<serde_json::Value>>,
    {
        self.answer(family, version, compute, |_| true).await
    }

    async fn answer<F, Fut>(
        &self,
        family: &str,
        version: impl std::fmt::Display,
        compute: F,
        usable: impl Fn(Instant) -> bool,
    ) -> AppResult<serde_json::Value>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<serde_json::Value>>,
    {
        let prefix = format!("{family}@");
        let key = format!("{prefix}{version}");
        let slot = {
            let mut slots = self.lock();
            // Many horizons asked for at once: forget the idle ones so the map stays small.
            if slots.len() > 256 {
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
            slots.entry(key.clone()).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some((at, answer)) = cached.as_ref() {
            if usable(*at) {
                return Ok(answer.clone());
            }
        }
        let answer = compute().await?;
        *cached = Some((Instant::now(), answer.clone()));
        drop(cached);
        // The family's older versions will not be asked for again (or are remade if they are).
        self.lock()
            .retain(|k, s| k == &key || !k.starts_with(&prefix) || Arc::strong_count(s) > 1);
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keys held, for tests.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_one_computation() {
        let flight = Arc::new(SingleFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let flight = flight.clone();
            let runs = runs.clone();
            tasks.push(tokio::spawn(async move {
                flight
                    .get_or_compute("a", 1, || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(serde_json::json!(42))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(
                t.await
                    .expect("the task ran to its end")
                    .expect("the computation succeeded"),
                serde_json::json!(42)
            );
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // A caller arriving after the answer is computed anew: it may have written since.
        let again = flight
            .get_or_compute("a", 1, || async { Ok(serde_json::json!(7)) })
            .await
            .expect("the computation succeeded");
        assert_eq!(again, serde_json::json!(7));
    }

    /// A family keeps its newest answer only: a new input version replaces the old one's, other families stay.
    #[tokio::test]
    async fn a_newer_version_replaces_the_older_answer() {
        let flight = SingleFlight::default();
        for (family, version, value) in [
            ("intake:26", 1, 1),
            ("intake:52", 1, 2),
            ("intake:26", 2, 3),
        ] {
            let answer = flight
                .get_or_compute_kept(
                    family,
                    version,
                    || async move { Ok(serde_json::json!(value)) },
                )
                .await
                .expect("the computation succeeded");
            assert_eq!(answer, serde_json::json!(value));
        }
        assert_eq!(flight.len(), 2, "intake:26@1 was forgotten");
        let kept = flight
            .get_or_compute_kept("intake:52", 1, || async { Ok(serde_json::json!(0)) })
            .await
            .expect("kept");
        assert_eq!(
            kept,
            serde_json::json!(2),
            "another family's answer is kept"
        );
    }
}
