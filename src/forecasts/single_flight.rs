//! At most one forecast computed at a time per series: callers that arrive while it runs wait for it and share
//! its answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::error::AppResult;

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, serde_json::Value)>>>;

/// Per-key async locks with the last answer of each key.
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
        key: String,
        compute: F,
    ) -> AppResult<serde_json::Value>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<serde_json::Value>>,
    {
        let asked_at = Instant::now();
        self.answer(key, compute, |at| at >= asked_at).await
    }

    /// The answer kept for `key`, however old, else computed once while later callers wait: for keys that name
    /// everything the answer depends on (a version of its inputs), so a kept answer is never stale.
    pub async fn get_or_compute_kept<F, Fut>(
        &self,
        key: String,
        compute: F,
    ) -> AppResult<serde_json::Value>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<serde_json::Value>>,
    {
        self.answer(key, compute, |_| true).await
    }

    async fn answer<F, Fut>(
        &self,
        key: String,
        compute: F,
        usable: impl Fn(Instant) -> bool,
    ) -> AppResult<serde_json::Value>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<serde_json::Value>>,
    {
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Keys carry the day or an input version; forget other slots so the map stays small.
            if slots.len() > 256 {
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
            slots.entry(key).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some((at, answer)) = cached.as_ref() {
            if usable(*at) {
                return Ok(answer.clone());
            }
        }
        let answer = compute().await?;
        *cached = Some((Instant::now(), answer.clone()));
        Ok(answer)
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
                    .get_or_compute("a".into(), || async {
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
            .get_or_compute("a".into(), || async { Ok(serde_json::json!(7)) })
            .await
            .expect("the computation succeeded");
        assert_eq!(again, serde_json::json!(7));
    }
}
