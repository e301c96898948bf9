//! Request extractors whose rejections use Doorstep's problem+json shape, and refuse control characters in text.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

mod serde_words;

/// JSON body in and out; a bad body names the offending field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            )
            .with_field("content-type"));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A body that could not be read: too large (413) or cut off (400), as problem+json.
pub fn body_rejection(rejection: BytesRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Body too large",
            "the request body is larger than this route accepts",
        )
        .with_field("body")
    } else {
        AppError::problem(
            rejection.status(),
            "bad-body",
            "Unreadable body",
            "the request body could not be read",
        )
        .with_field("body")
    }
}

/// Path parameters; an unparsable id answers 404 naming the parameter, one holding a control character 422.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Decoded as the handler sees them (`%00` is a NUL, which PostgreSQL refuses).
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            if let Some((name, _)) = raw.iter().find(|(_, v)| v.chars().any(is_forbidden_char)) {
                return Err(control_error(name));
            }
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(AppError::from)
    }
}

/// Query parameters; a bad one answers 422 naming it, as does one holding a control character.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(field) = parts.uri.query().and_then(query_control_field) {
            return Err(control_error(&field));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                // serde_path_to_error's "name: message"; a message alone names no parameter
                let (field, message) = match text.split_once(": ") {
                    Some((name, message)) if !name.contains(' ') => (name, message),
                    _ => ("query", text),
                };
                AppError::invalid(field, serde_words::plain(message))
            })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Whether a character may not appear in stored text: C0 controls other than tab and line breaks, and DEL.
/// PostgreSQL refuses NUL outright; the others only ever arrive by mistake or malice.
pub fn is_forbidden_char(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

fn control_error(field: &str) -> AppError {
    AppError::invalid(
        field,
        "contains a control character (such as NUL); remove it",
    )
}

/// Refuses a text field holding a control character, naming it (for form fields and other non-JSON text).
pub fn check_text(field: &str, value: &str) -> AppResult<()> {
    if value.chars().any(is_forbidden_char) {
        Err(control_error(field))
    } else {
        Ok(())
    }
}

/// The first query parameter whose name or value holds a control character, by name.
fn query_control_field(query: &str) -> Option<String> {
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = |part: &str| percent_decode(part).chars().any(is_forbidden_char);
        if bad(key) || bad(value) {
            let name = percent_decode(key);
            let name: String = name
                .chars()
                .filter(|c| !is_forbidden_char(*c))
                .take(64)
                .collect();
            return Some(if name.is_empty() {
                "query".to_owned()
            } else {
                name
            });
        }
    }
    None
}

/// Decodes `%XX` escapes and `+` as a form does; malformed escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses a JSON body whose strings (keys or values) hold a control character, naming the first such field.
/// Such characters can only arrive as `\u00XX`, `\b` or `\f` escapes or as a raw DEL, so bodies with none of
/// these skip the walk.
pub fn check_json_text(body: &[u8]) -> AppResult<()> {
    let escaped = body.contains(&0x7f)
        || body.windows(4).any(|w| w == b"\\u00")
        || body.windows(2).any(|w| w == b"\\b" || w == b"\\f");
    if !escaped {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(()); // the deserializer reports the syntax error
    };
    match control_path(&value, String::new()) {
        Some(path) => Err(control_error(if path.is_empty() { "body" } else { &path })),
        None => Ok(()),
    }
}

fn control_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.chars().any(is_forbidden_char).then_some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_path(v, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.chars().any(is_forbidden_char) {
                Some(if path.is_empty() {
                    "body".to_owned()
                } else {
                    path.clone()
                })
            } else {
                control_path(v, at)
            }
        }),
        _ => None,
    }
}

/// A JSON body read from raw bytes (for handlers that also hash the body for idempotency), with the same
/// field-naming errors as [`Json`].
pub fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    what: &str,
) -> AppResult<T> {
    if !is_json(headers) {
        return Err(AppError::problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send {what} as JSON with `Content-Type: application/json`"),
        )
        .with_field("content-type"));
    }
    parse_json(body)
}

/// A JSON body as `T`, or a refusal naming the field at fault in the server's own words (`serde_words`): a
/// control character in any string, a body that is not JSON, a value of the wrong kind, or text after the value.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    check_json_text(body)?;
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        json_refusal(&path, &e.into_inner(), body)
    })?;
    de.end().map_err(|e| json_refusal(".", &e, body))?;
    Ok(value)
}

fn json_refusal(path: &str, inner: &serde_json::Error, body: &[u8]) -> AppError {
    if inner.is_syntax() && inner.to_string().starts_with("number out of range") {
        let field = if path == "." { "body" } else { path };
        return AppError::invalid(field, serde_words::TOO_LARGE);
    }
    if inner.is_syntax() || inner.is_eof() {
        // serde_json reports a number given for an enumeration's word as a syntax error; the body is JSON
        if path != "." && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
            return AppError::invalid(path, serde_words::WRONG_KIND);
        }
        return AppError::problem(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            serde_words::not_json(inner),
        )
        .with_field("body");
    }
    let message = inner.to_string();
    // serde names a missing or repeated field in its message, at its parent's path
    let named = ["missing field `", "duplicate field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    let field = match named {
        Some(name) if path == "." => name.to_owned(),
        Some(name) if !message.starts_with("unknown field") => format!("{path}.{name}"),
        _ if path == "." => "body".to_owned(),
        _ => path.to_owned(),
    };
    AppError::invalid(field, serde_words::plain(&message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: AppError) -> String {
        match err {
            AppError::Invalid(e) => e[0].field.clone(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        lines: Vec<Line>,
        service: Option<crate::domain::Role>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        garment: u32,
        note: Option<String>,
    }

    fn refusal(body: &str) -> (String, String) {
        match parse_json::<Body>(body.as_bytes()).unwrap_err() {
            AppError::Invalid(e) => (e[0].field.clone(), e[0].message.clone()),
            AppError::Problem(p) => (p.field.clone().unwrap_or_default(), p.detail.clone()),
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn json_refusals_name_the_field_in_plain_words() {
        let (field, message) = refusal(r#"{"lines":[{"garment":1},{"note":"x"}]}"#);
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("lines[1].garment", "required")
        );
        assert_eq!(
            refusal(r#"{}"#),
            ("lines".to_owned(), "required".to_owned())
        );
        let (field, message) = refusal(r#"{"lines":[{"garment":1,"colour":2}]}"#);
        assert_eq!(field, "lines[0].colour");
        assert_eq!(
            message,
            "not a field of this request; the fields are garment, note"
        );
        let (field, message) = refusal(r#"{"lines":[{"garment":1,"garment":2}]}"#);
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("lines[0].garment", "given twice")
        );
        let (field, message) = refusal(r#"{"lines":[{"garment":-3}]}"#);
        assert_eq!(field, "lines[0].garment");
        assert_eq!(
            message,
            "must be a whole number from 0 to 4294967295, not -3"
        );
        // a number where one of an enumeration's words belongs: serde_json calls it a syntax error
        assert_eq!(
            refusal(r#"{"lines":[],"service":5}"#),
            ("service".to_owned(), serde_words::WRONG_KIND.to_owned())
        );
        let (field, message) = refusal(r#"{"lines":[],}"#);
        assert_eq!(field, "body");
        assert!(
            message.starts_with("the body is not valid JSON (line 1, column 13)"),
            "{message}"
        );
        // a number beyond what JSON readers hold is refused on its field, not as a broken body
        let (field, message) = refusal(r#"{"lines":[{"garment":1e400}]}"#);
        assert_eq!(field, "lines[0].garment");
        assert_eq!(message, serde_words::TOO_LARGE);
        // text after the value is not JSON either
        let (field, message) = refusal(r#"{"lines":[]} x"#);
        assert_eq!(field, "body");
        assert!(message.ends_with("text after the JSON value"), "{message}");
    }

    #[test]
    fn control_characters_in_json_name_their_field() {
        assert!(check_json_text(br#"{"notes":"line one\nline two\t"}"#).is_ok());
        assert!(check_json_text(br#"{"notes":"a literal \\u0000 is text"}"#).is_ok());
        let e = check_json_text(br#"{"lines":[{"condition":"ok"},{"condition":"x\u0000"}]}"#)
            .unwrap_err();
        assert_eq!(field_of(e), "lines[1].condition");
        let e = check_json_text(br#"{"username":"adm\u0007in"}"#).unwrap_err();
        assert_eq!(field_of(e), "username");
        // Short escapes and a raw DEL (valid JSON) are controls too.
        let e = check_json_text(br#"{"name":"a\bb"}"#).unwrap_err();
        assert_eq!(field_of(e), "name");
        let e = check_json_text(br#"{"notes":"\f"}"#).unwrap_err();
        assert_eq!(field_of(e), "notes");
        let e = check_json_text(b"{\"address\":\"Lane 5\x7f\"}").unwrap_err();
        assert_eq!(field_of(e), "address");
    }

    #[test]
    fn control_characters_in_queries_name_their_parameter() {
        assert_eq!(query_control_field("q=wang&limit=5"), None);
        assert_eq!(query_control_field("q=wa%00ng"), Some("q".to_owned()));
        assert_eq!(
            query_control_field("limit=5&q=%1b%5b31m"),
            Some("q".to_owned())
        );
        assert_eq!(query_control_field("q=100%"), None);
    }
}
