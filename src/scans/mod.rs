//! Scans: a door label or garment tag from a phone photo or a USB scanner, resolved to the customer card.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AnyStaff, Authed};
use crate::decode::pool::{no_barcode, RETAKE_HINT};
use crate::decode::Symbology;
use crate::domain::code::{CodeError, DoorCode, TagCode};
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::garments::{self, Garment};
use crate::profile::kept;
use crate::state::{AppState, Settings};

/// The scan route, with room for a photo in its body limit.
pub fn router(settings: &Settings) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scan))
        .layer(DefaultBodyLimit::max(settings.max_photo_bytes + 64 * 1024))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KeyboardScan {
    /// A door label's or garment tag's code, as the scanner typed it.
    #[schema(example = "D00DEM0000AN")]
    code: String,
}

/// A photo of a code, for the API document: the multipart form the scan route also takes.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct PhotoUpload {
    /// A JPEG, PNG or WebP photo of the label or tag.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    photo: String,
}

/// How the code reached the server.
#[derive(Debug, Serialize, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanSource {
    /// Decoded from a photo.
    Photo,
    /// Typed, or sent by a USB or Bluetooth scanner.
    Keyboard,
}

/// What a scan resolved to, for the API document: answered as a [`ScanHead`] with the card's kept JSON after it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ScanResult {
    code: String,
    kind: String,
    source: ScanSource,
    symbology: Option<Symbology>,
    decode_ms: Option<u64>,
    garment: Option<Garment>,
    customer: crate::profile::CustomerCard,
}

/// A scan's answer but the card, which follows it as the `customer` field (`CardJson::inside`).
#[derive(Debug, Serialize)]
struct ScanHead {
    code: String,
    kind: &'static str,
    source: ScanSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbology: Option<Symbology>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decode_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    garment: Option<Garment>,
}

/// A code parsed as a door label or garment tag.
enum ScannedCode {
    Door(DoorCode),
    Tag(TagCode),
}

fn parse_code(text: &str) -> Result<ScannedCode, CodeError> {
    match DoorCode::parse(text) {
        Ok(code) => Ok(ScannedCode::Door(code)),
        Err(door_err) => TagCode::parse(text)
            .map(ScannedCode::Tag)
            .map_err(|tag_err| match (&door_err, &tag_err) {
                (CodeError::WrongKind { .. }, _) => tag_err,
                _ => door_err,
            }),
    }
}

fn code_error(field: &str, e: CodeError) -> AppError {
    AppError::problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad-code",
        "Code rejected",
        e.to_string(),
    )
    .with_field(field)
}

/// The scan's query: whether a photo is a live viewfinder's frame.
#[derive(Debug, Deserialize)]
struct ScanQuery {
    #[serde(default)]
    viewfinder: bool,
}

/// `?viewfinder=true`: the photo is one frame of a live viewfinder, decoded with the cheap passes only.
fn viewfinder_frame(uri: &axum::http::Uri) -> AppResult<bool> {
    axum::extract::Query::<ScanQuery>::try_from_uri(uri)
        .map(|q| q.0.viewfinder)
        .map_err(|_| AppError::invalid("viewfinder", "must be true or false"))
}

/// Resolves a scanned code, typed (JSON `code`) or photographed (multipart `photo`), to the customer's door card.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", params(("viewfinder" = Option<bool>, Query, description = "a photo is one frame of a live viewfinder: only the cheap decoding passes, since the next frame follows")), request_body(content((KeyboardScan = "application/json"), (PhotoUpload = "multipart/form-data"))), responses((status = 200, body = ScanResult)))]
#[tracing::instrument(skip_all, fields(source))]
async fn scan(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    request: Request,
) -> AppResult<axum::response::Response> {
    let gzip = crate::profile::packed::accepts_gzip(request.headers());
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (code, source, symbology, decode_ms) = if content_type.starts_with("multipart/form-data") {
        tracing::Span::current().record("source", "photo");
        let viewfinder = viewfinder_frame(request.uri())?;
        let photo = read_photo(request, &state).await?;
        let outcome = state.decoder.decode(photo, viewfinder).await?;
        let decode_ms = outcome.elapsed.as_millis() as u64;
        let chosen = outcome.accepted.clone().or_else(|| {
            outcome
                .seen
                .iter()
                .find(|d| TagCode::parse(&d.text).is_ok())
                .cloned()
        });
        match chosen {
            Some(d) => (
                parse_code(&d.text).map_err(|e| code_error("photo", e))?,
                ScanSource::Photo,
                Some(d.symbology),
                Some(decode_ms),
            ),
            None => {
                tracing::info!(
                    decode_ms,
                    attempts = outcome.attempts,
                    seen = outcome.seen.len(),
                    "no label in photo"
                );
                return Err(match outcome.seen.first() {
                    Some(d) => match parse_code(&d.text) {
                        Err(CodeError::CheckFailed) => code_error("photo", CodeError::CheckFailed).with_hint(RETAKE_HINT),
                        _ => AppError::problem(StatusCode::UNPROCESSABLE_ENTITY, "not-a-label", "Not a Doorstep label", "a barcode was read, but it is not a Doorstep door label or garment tag").with_field("photo"),
                    },
                    None => no_barcode(),
                });
            }
        }
    } else if content_type.starts_with("application/json") {
        tracing::Span::current().record("source", "keyboard");
        let Json(body) = Json::<KeyboardScan>::from_request(request, &state).await?;
        (
            parse_code(&body.code).map_err(|e| code_error("code", e))?,
            ScanSource::Keyboard,
            None,
            None,
        )
    } else {
        return Err(AppError::problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type", "send a photo as multipart/form-data (field `photo`) or a typed code as JSON {\"code\": \"...\"}").with_field("content-type"));
    };
    let field = match source {
        ScanSource::Photo => "photo",
        ScanSource::Keyboard => "code",
    };
    // The lent connection goes back only after statements that finished; one that failed is closed.
    let mut lent = state.direct.lend().await?;
    let resolved = resolve(lent.conn(), &state, code, field).await;
    if !matches!(resolved, Err(AppError::Internal(_))) {
        lent.give_back();
    }
    let (customer_id, customer, garment, code_text, kind) = resolved?;
    crate::access::note_read(&state, staff.staff_id, "scan", customer_id).await;
    let head = ScanHead {
        code: code_text,
        kind,
        source,
        symbology,
        decode_ms,
        garment,
    };
    customer.inside(&head, "customer", gzip)
}

/// What a scanned code resolved to: the customer, their card, the garment of a tag, the code and its kind.
type Resolved = (
    uuid::Uuid,
    kept::CardJson,
    Option<Garment>,
    String,
    &'static str,
);

/// Looks the code up on `conn`: a door label's statement brings the kept card when there is one (a miss is built
/// at once); a tag's card is read or built once the garment names its customer.
async fn resolve(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    code: ScannedCode,
    field: &str,
) -> AppResult<Resolved> {
    let missing = || AppError::NotFound("customer");
    Ok(match code {
        ScannedCode::Door(code) => match kept::by_label(&mut *conn, code.as_str()).await? {
            Some(found) if found.revoked_at.is_none() => {
                let card = match found.body.and_then(kept::from_kept) {
                    Some(card) => card,
                    None => kept::built(conn, &state.cards, found.customer_id)
                        .await?
                        .ok_or_else(missing)?,
                };
                (
                    found.customer_id,
                    card,
                    None,
                    code.to_string(),
                    "door_label",
                )
            }
            Some(_) => {
                return Err(AppError::problem(
                    StatusCode::NOT_FOUND,
                    "label-revoked",
                    "Label revoked",
                    "this door label was revoked; the customer may have a newer label",
                )
                .with_field(field))
            }
            None => {
                return Err(AppError::problem(
                    StatusCode::NOT_FOUND,
                    "unknown-label",
                    "Unknown label",
                    "no customer has this door label",
                )
                .with_field(field))
            }
        },
        ScannedCode::Tag(code) => {
            match garments::db::fetch_garment_by_tag(&mut *conn, &code).await? {
                Some(g) => {
                    let card = kept::card_json(conn, &state.cards, g.customer_id)
                        .await?
                        .ok_or_else(missing)?;
                    (
                        g.customer_id,
                        card,
                        Some(g),
                        code.to_string(),
                        "garment_tag",
                    )
                }
                None => {
                    return Err(AppError::problem(
                        StatusCode::NOT_FOUND,
                        "unknown-tag",
                        "Unknown tag",
                        "no garment has this tag yet; record it as a new garment with this tag",
                    )
                    .with_field(field))
                }
            }
        }
    })
}

/// Reads the `photo` part of a multipart upload, enforcing the size limit.
async fn read_photo(request: Request, state: &AppState) -> AppResult<Bytes> {
    let too_large = || {
        AppError::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo-too-large",
            "Photo too large",
            format!(
                "a photo may be at most {} MB",
                state.settings.max_photo_bytes / (1024 * 1024)
            ),
        )
        .with_field("photo")
    };
    let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
        AppError::problem(
            StatusCode::BAD_REQUEST,
            "bad-multipart",
            "Unreadable upload",
            e.body_text(),
        )
        .with_field("photo")
    })?;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(e, &too_large))?;
        let Some(field) = field else {
            return Err(AppError::invalid(
                "photo",
                "attach the photo as a multipart field named `photo`",
            ));
        };
        if field.name() == Some("photo") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| multipart_error(e, &too_large))?;
            if bytes.len() > state.settings.max_photo_bytes {
                return Err(too_large());
            }
            if bytes.is_empty() {
                return Err(AppError::invalid("photo", "the photo is empty"));
            }
            return Ok(bytes);
        }
    }
}

fn multipart_error(
    e: axum::extract::multipart::MultipartError,
    too_large: &dyn Fn() -> AppError,
) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        AppError::problem(
            StatusCode::BAD_REQUEST,
            "bad-multipart",
            "Unreadable upload",
            e.body_text(),
        )
        .with_field("photo")
    }
}
