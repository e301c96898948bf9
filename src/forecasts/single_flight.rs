//! At most one forecast computed at a time per series: later callers wait for it and share its answer, which
//! is kept for a short while.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::AppResult;

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, serde_json::Value)>>>;

/// Per-key async locks with the last answer of each key.
#[derive(Default)]
pub struct SingleFlight {
    slots: Mutex<HashMap<String, Slot>>,
}

impl SingleFlight {
    /// The answer for `key`: cached if younger than `fresh_for`, otherwise computed by `compute` while other
    /// callers of the same key wait. A failed computation caches nothing.
    pub async fn get_or_compute<F, Fut>(
        &self,
        key: String,
        fresh_for: Duration,
        compute: F,
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
            // Keys carry the day; forget other days' slots so the map stays small.
            if slots.len() > 256 {
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
            slots.entry(key).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some((at, answer)) = cached.as_ref() {
            if at.elapsed() < fresh_for {
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
                    .get_or_compute("a".into(), Duration::from_secs(60), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(serde_json::json!(42))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), serde_json::json!(42));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // A stale answer is computed again; another key has its own slot.
        let again = flight
            .get_or_compute("a".into(), Duration::ZERO, || async {
                Ok(serde_json::json!(7))
            })
            .await
            .unwrap();
        assert_eq!(again, serde_json::json!(7));
    }
}
