//! The bounded pool that runs photo decoding off the async runtime, and its errors in the API's words.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use tokio::sync::Semaphore;

use super::{decode_photo, DecodeError, DecodeOptions, DecodeOutcome};
use crate::domain::code::DoorCode;
use crate::error::{AppError, AppResult};

/// Runs photo decoding off the async runtime on a bounded pool: at most `workers` at once and `queue` waiting;
/// beyond that scans answer 503 with Retry-After instead of queueing without bound.
#[derive(Clone)]
pub struct DecodePool {
    admit: Arc<Semaphore>,
    capacity: usize,
    run: Arc<Semaphore>,
    options: Arc<DecodeOptions>,
}

impl Default for DecodePool {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        DecodePool::new(workers, 8, DecodeOptions::default())
    }
}

impl DecodePool {
    /// A pool running `workers` decodes at once with `queue` more waiting.
    pub fn new(workers: usize, queue: usize, options: DecodeOptions) -> Self {
        let workers = workers.max(1);
        DecodePool {
            admit: Arc::new(Semaphore::new(workers + queue)),
            capacity: workers + queue,
            run: Arc::new(Semaphore::new(workers)),
            options: Arc::new(options),
        }
    }

    /// Photos admitted now: decoding or waiting for a decoder.
    pub fn admitted(&self) -> usize {
        self.capacity.saturating_sub(self.admit.available_permits())
    }

    /// Decodes a photo (a viewfinder's `frame` with the cheap passes only), preferring a valid door code among
    /// several barcodes; counted in the metrics.
    pub async fn decode(&self, photo: Bytes, frame: bool) -> AppResult<DecodeOutcome> {
        let started = std::time::Instant::now();
        let answer = self.decode_inner(photo, frame).await;
        let outcome = match &answer {
            Ok(_) => "found",
            Err(AppError::Problem(p)) => match p.slug {
                "decoder-busy" => "busy",
                "not-an-image" => "not_an_image",
                "photo-too-large" => "too_large",
                _ => "no_barcode",
            },
            Err(_) => "error",
        };
        crate::observe::decode_done(outcome, started.elapsed());
        crate::observe::decode_queue(self.admitted());
        answer
    }

    async fn decode_inner(&self, photo: Bytes, frame: bool) -> AppResult<DecodeOutcome> {
        let admitted = self.admit.clone().try_acquire_owned().map_err(|_| {
            AppError::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "decoder-busy",
                "Decoder busy",
                "too many photos are being decoded right now; retry in a moment",
            )
            .with_retry_after(2)
        })?;
        let running = self
            .run
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        crate::observe::decode_queue(self.admitted());
        let options = DecodeOptions {
            frame,
            ..(*self.options).clone()
        };
        // The permits move into the blocking task: a client that hangs up does not free a busy decoder.
        let outcome = tokio::task::spawn_blocking(move || {
            let _permits = (admitted, running);
            decode_photo(&photo, &options, &|text: &str| {
                DoorCode::parse(text).is_ok()
            })
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("decode task failed: {e}")))?;
        outcome.map_err(decode_error)
    }
}

/// What a worker can do when a photo yields no label.
pub const RETAKE_HINT: &str = "retake the photo closer to the label, flat on, with the whole label in the frame and no glare; or type the code under the barcode";

fn decode_error(e: DecodeError) -> AppError {
    match e {
        DecodeError::NotAnImage => AppError::problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-an-image",
            "Not an image",
            "the photo is not a JPEG, PNG or WebP image",
        )
        .with_field("photo"),
        DecodeError::TooLarge { what } => AppError::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo-too-large",
            "Photo too large",
            format!("the photo is too large: {what}"),
        )
        .with_field("photo"),
        DecodeError::NoBarcode | DecodeError::TimedOut => no_barcode(),
    }
}

/// The answer to a photo with no readable label.
pub fn no_barcode() -> AppError {
    AppError::problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "no-barcode",
        "No barcode found",
        "no Doorstep label could be read in the photo",
    )
    .with_field("photo")
    .with_hint(RETAKE_HINT)
}
