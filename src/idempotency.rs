//! Idempotent writes: a retried request with the same key answers the first response and records nothing new.

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Set on a response that replays a stored one.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The client's `Idempotency-Key` header, required on writes that must not repeat, and the request it was sent
/// with (method and path): a key is bound to one request, as the IETF idempotency-key draft asks.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let missing = || {
            AppError::problem(
                StatusCode::BAD_REQUEST,
                "idempotency-key",
                "Idempotency-Key required",
                "send a unique `Idempotency-Key` header (e.g. a UUID) and reuse it when retrying",
            )
            .with_field("Idempotency-Key")
        };
        let value = parts.headers.get("idempotency-key").ok_or_else(missing)?;
        let key = value.to_str().map_err(|_| missing())?.trim();
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::problem(
                StatusCode::BAD_REQUEST,
                "idempotency-key",
                "Bad Idempotency-Key",
                "an Idempotency-Key has 1 to 200 visible ASCII characters",
            )
            .with_field("Idempotency-Key"));
        }
        let target = format!("{} {}", parts.method, parts.uri.path());
        Ok(IdempotencyKey(key.to_owned(), target))
    }
}

impl IdempotencyKey {
    /// Hash of this request: its method and path, and its body in canonical JSON form (so key order and spacing
    /// do not matter). The same key sent to another route or target hashes differently and is refused.
    pub fn request_hash(&self, body: &Bytes) -> Vec<u8> {
        request_hash(&self.1, body)
    }
}

/// Hash of a request target (`METHOD /path`) and its body in canonical JSON form.
pub fn request_hash(target: &str, body: &Bytes) -> Vec<u8> {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map_or_else(|_| body.to_vec(), |v| v.to_string().into_bytes());
    let mut h = Sha256::new();
    h.update(target.as_bytes());
    h.update([0]);
    h.update(canonical);
    h.finalize().to_vec()
}

/// Claims `key` for this caller inside `tx`. Returns the stored response for a retry, 409 while the first
/// request is still running, 422 when the key was used for a different body.
pub async fn claim(
    tx: &mut PgConnection,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
) -> AppResult<Option<Response>> {
    let locked: bool =
        sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("{staff_id}:{key}"))
            .fetch_one(&mut *tx)
            .await?;
    if !locked {
        return Err(AppError::problem(
            StatusCode::CONFLICT,
            "idempotency-in-progress",
            "Request in progress",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
        .with_field("Idempotency-Key")
        .with_retry_after(1));
    }
    let row = sqlx::query(
        "select request_hash, response_status, response_body from idempotency_key where staff_id = $1 and idempotency_key = $2",
    )
    .bind(staff_id)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let stored_hash: Vec<u8> = row.try_get("request_hash")?;
    if stored_hash != hash {
        return Err(AppError::problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-mismatch", "Idempotency-Key reused", "this Idempotency-Key was already used for a different request (another route, target or body); use a new key for a new request")
            .with_field("Idempotency-Key"));
    }
    let status: i16 = row.try_get("response_status")?;
    let body: serde_json::Value = row.try_get("response_body")?;
    let status = StatusCode::from_u16(status as u16).map_err(|e| AppError::Internal(e.into()))?;
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(Some(response))
}

/// [`claim`] at the start of `tx`: answers the transaction to go on with, or the stored response of a retry. A
/// replay or a refusal rolls the transaction back before it is answered, so the key's lock is released before the
/// client can send its next request (a dropped transaction is rolled back only later, and a retry sent at once
/// would find the key still held and be told 409).
pub async fn claim_tx(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
) -> AppResult<Result<sqlx::Transaction<'static, sqlx::Postgres>, Response>> {
    match claim(&mut tx, staff_id, key, hash).await {
        Ok(None) => Ok(Ok(tx)),
        Ok(Some(replay)) => {
            tx.rollback().await?;
            Ok(Err(replay))
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// Stores the response in the same transaction as the write it describes.
pub async fn save(
    tx: &mut PgConnection,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
    status: StatusCode,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into idempotency_key (staff_id, idempotency_key, request_hash, response_status, response_body)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(staff_id)
    .bind(key)
    .bind(hash)
    .bind(status.as_u16() as i16)
    .bind(body)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Ends an idempotent write: stores `answer` under the key in the same transaction, commits, and answers 201.
pub async fn commit_created<T: serde::Serialize>(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
    answer: &T,
) -> AppResult<Response> {
    let body = serde_json::to_value(answer).map_err(|e| AppError::Internal(e.into()))?;
    save(&mut tx, staff_id, key, hash, StatusCode::CREATED, &body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
