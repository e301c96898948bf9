//! One task that writes what request handlers hand it, whatever queued meanwhile in one go.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

enum Msg<T> {
    Item(T),
    Flush(oneshot::Sender<()>),
}

/// A hot path hands its write over and answers at once; the task writes each batch with `write` (which handles
/// its own failures; a panic in one loses that batch only). Cloning shares the task, which ends once every handle
/// is dropped and the queue is written.
pub struct Batcher<T> {
    tx: mpsc::Sender<Msg<T>>,
}

impl<T> Clone for Batcher<T> {
    fn clone(&self) -> Self {
        Batcher {
            tx: self.tx.clone(),
        }
    }
}

impl<T: Send + 'static> Batcher<T> {
    /// Starts the task: at most `queue` items wait, and `write` gets at most `batch` at a time.
    pub fn spawn<F, Fut>(queue: usize, batch: usize, mut write: F) -> Batcher<T>
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Msg<T>>(queue);
        tokio::spawn(async move {
            let mut waiting = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut items = Vec::new();
                let mut next = Some(first);
                while let Some(msg) = next {
                    match msg {
                        Msg::Item(item) => items.push(item),
                        Msg::Flush(done) => waiting.push(done),
                    }
                    next = if items.len() < batch {
                        rx.try_recv().ok()
                    } else {
                        None
                    };
                }
                if !items.is_empty() {
                    let n = items.len();
                    if let Err(e) = tokio::spawn(write(items)).await {
                        tracing::error!(error = %e, items = n, "a batch write failed; its items are lost");
                    }
                }
                for done in waiting.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        Batcher { tx }
    }

    /// Queues `item`, waiting for room when the queue is full; false when the task has stopped.
    pub async fn send(&self, item: T) -> bool {
        self.tx.send(Msg::Item(item)).await.is_ok()
    }

    /// Queues `item` unless the queue is full or the task has stopped (then false).
    pub fn try_send(&self, item: T) -> bool {
        self.tx.try_send(Msg::Item(item)).is_ok()
    }

    /// Waits until every item queued before this call has been through `write`.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn a_panicking_write_loses_its_batch_only() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let batcher = {
            let written = written.clone();
            Batcher::spawn(16, 16, move |items: Vec<u32>| {
                let written = written.clone();
                async move {
                    assert!(!items.contains(&0), "a write that panics on this batch");
                    written.lock().expect("not poisoned").extend(items);
                }
            })
        };
        assert!(batcher.send(0).await);
        batcher.flush().await;
        assert!(batcher.send(1).await, "the writer still runs");
        batcher.flush().await;
        assert_eq!(*written.lock().expect("not poisoned"), vec![1]);
    }
}
