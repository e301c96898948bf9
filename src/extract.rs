//! Request extractors whose rejections use Doorstep's problem+json shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, AppResult};

/// JSON body in and out; a bad body names the offending field.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; an unparsable id answers 404 naming the parameter.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// Query parameters; a bad one answers 422 naming it.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// A JSON body read from raw bytes (for handlers that also hash the body for idempotency), with the same
/// field-naming errors as [`Json`].
pub fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    what: &str,
) -> AppResult<T> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        return Err(AppError::problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send {what} as JSON with `Content-Type: application/json`"),
        )
        .with_field("content-type"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            AppError::problem(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                inner.to_string(),
            )
            .with_field("body")
        } else {
            let message = inner.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_owned();
            let field = if path == "." {
                message.split('`').nth(1).unwrap_or("body").to_owned()
            } else {
                path
            };
            AppError::invalid(field, message)
        }
    })
}
