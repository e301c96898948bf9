//! The HTTP error type: every failure becomes an `application/problem+json` answer naming the field at fault.

use axum::extract::rejection::PathRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sqlx::error::DatabaseError;

pub use crate::domain::FieldError;
use crate::domain::Role;

/// A client error other than validation: its status, a stable slug, and what to tell the user.
#[derive(Debug, Clone)]
pub struct Problem {
    pub(crate) status: StatusCode,
    pub(crate) slug: &'static str,
    pub(crate) title: &'static str,
    pub(crate) detail: String,
    pub(crate) field: Option<String>,
    pub(crate) hint: Option<String>,
    pub(crate) retry_after: Option<u64>,
}

/// Errors a handler can return; client errors carry their message, internal ones are logged and hidden.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session (401).
    #[error("authentication required")]
    Unauthorized,
    #[error("the {needed:?} role or higher is required")]
    /// Signed in, but the role is too low (403).
    Forbidden {
        /// The lowest role that may do this.
        needed: Role,
    },
    /// The named thing does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Bad fields, each named (422).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// Any other client error, with its status.
    #[error("{}", .0.detail)]
    Problem(Box<Problem>),
    /// A fault on our side: logged, answered without detail (500).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What handlers return.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A single bad field (422).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A client error with its own status and slug.
    pub fn problem(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        AppError::Problem(Box::new(Problem {
            status,
            slug,
            title,
            detail: detail.into(),
            field: None,
            hint: None,
            retry_after: None,
        }))
    }

    /// The request clashes with what is recorded (409).
    pub fn conflict(field: &str, detail: impl Into<String>) -> Self {
        AppError::problem(StatusCode::CONFLICT, "conflict", "Conflict", detail).with_field(field)
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: &str) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.field = Some(field.to_owned());
        }
        self
    }

    /// Adds what the worker can do next.
    pub fn with_hint(mut self, hint: &str) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.hint = Some(hint.to_owned());
        }
        self
    }

    /// Tells the client when to retry.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.retry_after = Some(seconds);
        }
        self
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(err.into())
    }
}

/// A problem+json body (RFC 9457); `instance` names the request (`urn:doorstep:request:<x-request-id>`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
    /// Filled in by the request-id layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
}

fn problem_response(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: String,
    field: Option<&str>,
    hint: Option<&str>,
    errors: &[FieldError],
) -> Response {
    let body = ProblemBody {
        kind: format!("urn:doorstep:problem:{slug}"),
        title,
        status: status.as_u16(),
        detail,
        field,
        hint,
        errors,
        instance: None,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Unauthorized => {
                let mut r = problem_response(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Sign in required",
                    "send a valid session token as `Authorization: Bearer <token>`".into(),
                    Some("authorization"),
                    None,
                    &[],
                );
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            AppError::Forbidden { needed } => problem_response(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for your role",
                format!("this needs the {} role or higher", needed.name()),
                None,
                None,
                &[],
            ),
            AppError::NotFound(what) => problem_response(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} not found"),
                None,
                None,
                &[],
            ),
            AppError::Invalid(errors) => {
                let detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fields are invalid", many.len()),
                };
                let field = errors.first().map(|e| e.field.clone());
                problem_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid request",
                    detail,
                    field.as_deref(),
                    None,
                    &errors,
                )
            }
            AppError::Problem(p) => {
                let mut r = problem_response(
                    p.status,
                    p.slug,
                    p.title,
                    p.detail,
                    p.field.as_deref(),
                    p.hint.as_deref(),
                    &[],
                );
                if let Some(secs) = p.retry_after {
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                r
            }
            AppError::Internal(err) if database_unavailable(&err) => {
                tracing::warn!(error = %err, "database unavailable");
                let mut r = problem_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "the database does not answer; retry shortly (a retried write with the same Idempotency-Key records once)".into(),
                    None,
                    None,
                    &[],
                );
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_SECS),
                );
                r
            }
            AppError::Internal(err) => match refused_by_database(&err) {
                Some((status, slug, title, detail)) => {
                    // No handler named this case: an answer for the client, a line for whoever mends the handler.
                    tracing::warn!(error = %redacted(&err), "database refused a request's data");
                    let mut r =
                        problem_response(status, slug, title, detail.into(), None, None, &[]);
                    if status == StatusCode::SERVICE_UNAVAILABLE {
                        r.headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
                    }
                    r
                }
                None => {
                    tracing::error!(error = %redacted(&err), "internal error");
                    problem_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "Internal error",
                        "something went wrong on our side; it has been logged".into(),
                        None,
                        None,
                        &[],
                    )
                }
            },
        }
    }
}

/// Seconds a client is told to wait when the database is away.
pub const UNAVAILABLE_RETRY_SECS: u64 = 2;

/// Whether an error means the database cannot be reached (down, restarting, connections cut, pool starved),
/// which is the client's cue to retry, not a fault in the request or in Doorstep.
pub fn database_unavailable(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| match cause.downcast_ref::<sqlx::Error>() {
            Some(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // Class 08: connection exceptions; 57P01-03: shutting down, crashed, cannot connect now.
            Some(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        })
}

/// How to answer a database error no handler mapped, by SQLSTATE: data the database cannot hold (class 22, and a
/// missing or out-of-rule value: 23502, 23514) or a clash with recorded data (a key, a reference, an exclusion:
/// the rest of class 23) is the request's, a lost race between two writers (40001, 40P01) is worth retrying;
/// anything else stays a 500.
fn refused_by_database(
    err: &anyhow::Error,
) -> Option<(StatusCode, &'static str, &'static str, &'static str)> {
    let code = err
        .chain()
        .find_map(|c| match c.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) => db.code().map(|c| c.into_owned()),
            _ => None,
        })?;
    if code.starts_with("22") || code == "23502" || code == "23514" {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "value-refused",
            "Value refused",
            "a value is out of the range or form that can be stored; check dates, amounts and text",
        ))
    } else if code.starts_with("23") {
        Some((
            StatusCode::CONFLICT,
            "data-conflict",
            "Conflict",
            "the request clashes with data already recorded (or just removed); reload and try again",
        ))
    } else if code == "40001" || code == "40P01" {
        Some((
            StatusCode::SERVICE_UNAVAILABLE,
            "try-again",
            "Try again",
            "another change to the same data came at the same moment; retry (a retried write with the same \
             Idempotency-Key records once)",
        ))
    } else {
        None
    }
}

/// An internal error as it may be logged: a database error's message and code, never its detail (a violated
/// constraint's detail quotes the row's values, which can be codes or personal data).
fn redacted(err: &anyhow::Error) -> String {
    match err.chain().find_map(|c| c.downcast_ref::<sqlx::Error>()) {
        Some(sqlx::Error::Database(db)) => format!(
            "database error {}: {}{}",
            db.code().unwrap_or_default(),
            db.message(),
            db.constraint()
                .map(|c| format!(" (constraint {c})"))
                .unwrap_or_default()
        ),
        _ => format!("{err:#}"),
    }
}

/// Maps a unique or foreign-key violation to a client error where the query is called.
pub trait ResultExt<T> {
    /// Maps a violation of constraint `name` to the error `f` makes; other errors pass through.
    fn on_constraint(
        self,
        name: &str,
        f: impl FnOnce(Box<dyn DatabaseError>) -> AppError,
    ) -> AppResult<T>;
}

impl<T, E: Into<AppError>> ResultExt<T> for Result<T, E> {
    fn on_constraint(
        self,
        name: &str,
        f: impl FnOnce(Box<dyn DatabaseError>) -> AppError,
    ) -> AppResult<T> {
        self.map_err(|e| match e.into() {
            AppError::Internal(err) => match err.downcast::<sqlx::Error>() {
                Ok(sqlx::Error::Database(db)) if db.constraint() == Some(name) => f(db),
                Ok(other) => AppError::Internal(other.into()),
                Err(err) => AppError::Internal(err),
            },
            other => other,
        })
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(e) => {
                let message = e.body_text();
                match e.into_kind() {
                    axum::extract::path::ErrorKind::ParseErrorAtKey { key, value, .. }
                    | axum::extract::path::ErrorKind::DeserializeError { key, value, .. } => {
                        let value: String = value.chars().take(40).collect();
                        AppError::problem(
                            StatusCode::NOT_FOUND,
                            "not-found",
                            "Not found",
                            format!("'{value}' is not a valid {key}"),
                        )
                        .with_field(&key)
                    }
                    _ => {
                        AppError::problem(StatusCode::NOT_FOUND, "not-found", "Not found", message)
                            .with_field("path")
                    }
                }
            }
            other => AppError::problem(
                StatusCode::BAD_REQUEST,
                "bad-path",
                "Bad path",
                other.body_text(),
            ),
        }
    }
}
