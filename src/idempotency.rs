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

/// Optional on writes that were keyless first (an interaction): without the header the write is made as before,
/// a malformed one is refused.
impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        if parts.headers.contains_key("idempotency-key") {
            <Self as FromRequestParts<S>>::from_request_parts(parts, state)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    }
}

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

/// What a claim read in one statement: whether this request holds the key's lock, and the response stored
/// under the key if an earlier request finished.
#[derive(Debug, Default)]
pub struct Claim {
    /// The key's transaction lock was taken (false: another request with this key is running).
    pub locked: bool,
    /// The stored request hash, status and body.
    pub stored: Option<(Vec<u8>, i16, String)>,
}

impl Claim {
    /// Reads the `locked`, `request_hash`, `response_status` and `response_body` (as text) columns of a claim's row.
    pub fn from_row(row: &sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        let hash: Option<Vec<u8>> = row.try_get("request_hash")?;
        let stored = match hash {
            Some(hash) => Some((
                hash,
                row.try_get("response_status")?,
                row.try_get("response_body")?,
            )),
            None => None,
        };
        Ok(Claim {
            locked: row.try_get("locked")?,
            stored,
        })
    }

    /// The answer it gives: `None` to go on with the write, the stored response for a retry, 409 while the
    /// first request is still running, 422 when the key was used for a different body.
    pub fn answer(self, hash: &[u8]) -> AppResult<Option<Response>> {
        if !self.locked {
            return Err(in_progress());
        }
        let Some((stored_hash, status, body)) = self.stored else {
            return Ok(None);
        };
        if stored_hash != hash {
            return Err(AppError::problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-mismatch", "Idempotency-Key reused", "this Idempotency-Key was already used for a different request (another route, target or body); use a new key for a new request")
                .with_field("Idempotency-Key"));
        }
        let status =
            StatusCode::from_u16(status as u16).map_err(|e| AppError::Internal(e.into()))?;
        let mut response = (status, json_text(body)).into_response();
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
        Ok(Some(response))
    }
}

/// The refusal of a request whose key another request holds: it is retried shortly.
pub fn in_progress() -> AppError {
    AppError::problem(
        StatusCode::CONFLICT,
        "idempotency-in-progress",
        "Request in progress",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
    .with_field("Idempotency-Key")
    .with_retry_after(1)
}

/// The name of the key's transaction lock (`pg_try_advisory_xact_lock(hashtextextended(name, 0))`).
pub fn lock_name(staff_id: Uuid, key: &str) -> String {
    format!("{staff_id}:{key}")
}

/// Takes the key's lock and reads what is stored under it, in one statement. The statement's snapshot predates
/// the lock, so a first request committing in between is not seen here: its stored row then makes this
/// request's [`save`] find the key taken, and [`replay_raced`] answers what it stored.
async fn claim(tx: &mut PgConnection, staff_id: Uuid, key: &str) -> sqlx::Result<Claim> {
    let row = sqlx::query(
        "select l.locked, k.request_hash, k.response_status, k.response_body::text
           from (select pg_try_advisory_xact_lock(hashtextextended($3, 0)) as locked) l
           left join idempotency_key k on k.staff_id = $1 and k.idempotency_key = $2",
    )
    .bind(staff_id)
    .bind(key)
    .bind(lock_name(staff_id, key))
    .fetch_one(&mut *tx)
    .await?;
    Claim::from_row(&row)
}

/// Ends a claim at the start of `tx`: the transaction to go on with, or the stored response of a retry. A
/// replay or a refusal rolls the transaction back before it is answered, so the key's lock is released before the
/// client can send its next request (a dropped transaction is rolled back only later, and a retry sent at once
/// would find the key still held and be told 409).
pub async fn settle(
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    claim: Claim,
    hash: &[u8],
) -> AppResult<Result<sqlx::Transaction<'static, sqlx::Postgres>, Response>> {
    match claim.answer(hash) {
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

/// [`claim`] and [`settle`] at the start of `tx`.
pub async fn claim_tx(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
) -> AppResult<Result<sqlx::Transaction<'static, sqlx::Postgres>, Response>> {
    match claim(&mut tx, staff_id, key).await {
        Ok(claim) => settle(tx, claim, hash).await,
        Err(e) => {
            tx.rollback().await?;
            Err(e.into())
        }
    }
}

/// Stores the response (JSON text) in the same transaction as the write it describes; false when the key was
/// stored meanwhile by a request whose commit this one's claim did not see (see [`claim`]).
pub async fn save(
    tx: &mut PgConnection,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
    status: StatusCode,
    body: &str,
) -> sqlx::Result<bool> {
    let saved = sqlx::query(
        "insert into idempotency_key (staff_id, idempotency_key, request_hash, response_status, response_body)
         values ($1, $2, $3, $4, $5::json)
         on conflict (staff_id, idempotency_key) do nothing",
    )
    .bind(staff_id)
    .bind(key)
    .bind(hash)
    .bind(status.as_u16() as i16)
    .bind(body)
    .execute(&mut *tx)
    .await?;
    Ok(saved.rows_affected() == 1)
}

/// The answer when [`save`] found the key stored meanwhile: this transaction's writes are rolled back and the
/// first request's response (or the refusal of a different body) is answered; the conflicting insert waited for
/// that request's commit, so a new statement sees its row.
pub async fn replay_raced(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
) -> AppResult<Response> {
    let row = sqlx::query(
        "select true as locked, request_hash, response_status, response_body::text
           from idempotency_key where staff_id = $1 and idempotency_key = $2",
    )
    .bind(staff_id)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    tx.rollback().await?;
    let claim = match row {
        Some(row) => Claim::from_row(&row)?,
        None => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "idempotency key taken but not stored"
            )))
        }
    };
    claim.answer(hash)?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("idempotency key stored without a response"))
    })
}

/// A JSON text body answered as it was written (a replay repeats the first answer byte for byte).
fn json_text(body: String) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
}

/// A 201 answer with a JSON text body written once.
pub fn created_json(body: String) -> Response {
    (StatusCode::CREATED, json_text(body)).into_response()
}

/// The optional key of a write that takes one without requiring it, with its request's hash.
pub type Keyed = Option<(IdempotencyKey, Vec<u8>)>;

/// The optional key of a request with `body`, hashed.
pub fn keyed(key: Option<IdempotencyKey>, body: &Bytes) -> Keyed {
    key.map(|k| {
        let hash = k.request_hash(body);
        (k, hash)
    })
}

/// Begins a write with an optional key: the transaction to go on with, or the stored answer of a retry.
pub async fn begin_keyed(
    pool: &sqlx::PgPool,
    staff_id: Uuid,
    keyed: &Keyed,
) -> AppResult<Result<sqlx::Transaction<'static, sqlx::Postgres>, Response>> {
    let tx = pool.begin().await?;
    match keyed {
        Some((key, hash)) => claim_tx(tx, staff_id, &key.0, hash).await,
        None => Ok(Ok(tx)),
    }
}

/// Ends a write begun by [`begin_keyed`]: commits, stores `answer` under the key when there is one, answers 201.
pub async fn commit_keyed<T: serde::Serialize>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    staff_id: Uuid,
    keyed: &Keyed,
    answer: &T,
) -> AppResult<Response> {
    commit_keyed_as(tx, staff_id, keyed, StatusCode::CREATED, answer).await
}

/// [`commit_keyed`] for a write that answers `status` (a move of an order answers 200, not 201).
pub async fn commit_keyed_as<T: serde::Serialize>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    staff_id: Uuid,
    keyed: &Keyed,
    status: StatusCode,
    answer: &T,
) -> AppResult<Response> {
    match keyed {
        Some((key, hash)) => commit_answer(tx, staff_id, &key.0, hash, status, answer).await,
        None => {
            let body = serde_json::to_string(answer).map_err(|e| AppError::Internal(e.into()))?;
            tx.commit().await?;
            Ok((status, json_text(body)).into_response())
        }
    }
}

/// Ends an idempotent write: stores `answer` under the key in the same transaction, commits, and answers 201.
pub async fn commit_created<T: serde::Serialize>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
    answer: &T,
) -> AppResult<Response> {
    commit_answer(tx, staff_id, key, hash, StatusCode::CREATED, answer).await
}

async fn commit_answer<T: serde::Serialize>(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    staff_id: Uuid,
    key: &str,
    hash: &[u8],
    status: StatusCode,
    answer: &T,
) -> AppResult<Response> {
    let body = serde_json::to_string(answer).map_err(|e| AppError::Internal(e.into()))?;
    if !save(&mut tx, staff_id, key, hash, status, &body).await? {
        return replay_raced(tx, staff_id, key, hash).await;
    }
    tx.commit().await?;
    Ok((status, json_text(body)).into_response())
}

/// A write's body `result` with its transaction, or its error after rolling `tx` back, so the key's lock is free
/// when the client retries at once (a dropped transaction is rolled back only later).
pub async fn or_roll_back<T>(
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    result: AppResult<T>,
) -> AppResult<(sqlx::Transaction<'static, sqlx::Postgres>, T)> {
    match result {
        Ok(value) => Ok((tx, value)),
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// Begins a write whose answer is made again rather than stored (a PDF): the transaction, and what the first
/// request with this key recorded (`None` on a first request). A running first request or another body is
/// refused as [`Claim::answer`] refuses it.
pub async fn begin_remade(
    pool: &sqlx::PgPool,
    staff_id: Uuid,
    keyed: &Keyed,
) -> AppResult<(sqlx::Transaction<'static, sqlx::Postgres>, Option<String>)> {
    let mut tx = pool.begin().await?;
    let Some((key, hash)) = keyed else {
        return Ok((tx, None));
    };
    let claim = match claim(&mut tx, staff_id, &key.0).await {
        Ok(claim) => claim,
        Err(e) => {
            tx.rollback().await?;
            return Err(e.into());
        }
    };
    let stored = match (&claim.stored, claim.locked) {
        (Some((stored_hash, _, body)), true) if stored_hash == hash => Some(body.clone()),
        _ => None,
    };
    if stored.is_some() {
        return Ok((tx, stored));
    }
    // A refusal (still running, another body) rolls back before it is answered; a first request goes on.
    match claim.answer(hash) {
        Ok(_) => Ok((tx, None)),
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// Records under the key (when there is one) what a remade answer needs, in the write's transaction; false when
/// a request with the same key committed meanwhile (the caller rolls back and asks to retry).
pub async fn record_remade(
    tx: &mut PgConnection,
    staff_id: Uuid,
    keyed: &Keyed,
    record: &str,
) -> sqlx::Result<bool> {
    match keyed {
        Some((key, hash)) => save(tx, staff_id, &key.0, hash, StatusCode::OK, record).await,
        None => Ok(true),
    }
}
