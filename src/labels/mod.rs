//! Door labels: issuing and revoking a customer's code, and rendering the printable label.

pub mod db;
pub mod render;
pub mod sheet;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Authed, Dispatcher};
use crate::domain::code::{DoorCode, TagCode};
use crate::error::{AppError, AppResult, ResultExt};
use crate::extract::{json_body, Json, Path, Query};
use crate::i18n::{text, Lang};
use crate::idempotency::{self, IdempotencyKey};
use crate::state::AppState;
use render::LabelSymbology;

/// A door label as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DoorLabel {
    pub(crate) customer_id: Uuid,
    pub(crate) door_label_id: Uuid,
    pub(crate) code: DoorCode,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) issued_by: Option<Uuid>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
    pub(crate) revoked_reason: Option<String>,
}

/// The door-label routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_labels, issue_label))
        .routes(routes!(revoke_label))
        .routes(routes!(label_png))
        .routes(routes!(label_svg))
        .routes(routes!(door_sheet))
        .routes(routes!(unprinted))
        .routes(routes!(tag_sheet))
}

/// Most cells one sheet request prints (ten A4 pages).
const MAX_SHEET: usize = 10 * sheet::PER_PAGE;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DoorSheetRequest {
    /// These customers' labels, in this order.
    customer_ids: Option<Vec<Uuid>>,
    /// Every customer who agreed to a label and has none printed yet (up to the sheet limit).
    #[serde(default)]
    unprinted: bool,
    /// The language of the line under each code (default: the caller's).
    lang: Option<String>,
}

/// What a keyed sheet request recorded: the customers it printed, in order, so a retry prints them again.
#[derive(Serialize, Deserialize)]
struct SheetRecord {
    customer_ids: Vec<Uuid>,
}

fn sheet_lang(asked: Option<&str>, headers: &HeaderMap) -> AppResult<Lang> {
    match asked {
        None => Ok(crate::i18n::from_headers(headers)),
        Some(tag) => Lang::from_tag(tag).ok_or_else(|| AppError::invalid("lang", "zh-CN or en")),
    }
}

fn pdf_response(pdf: Vec<u8>, name: &str, cells: usize) -> AppResult<Response> {
    let disposition = format!("inline; filename=\"{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-label-count"),
                cells.to_string(),
            ),
        ],
        pdf,
    )
        .into_response())
}

async fn render_sheet(
    company: String,
    heading: String,
    cells: Vec<sheet::Cell>,
) -> AppResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || sheet::render(&company, &heading, &cells))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a label sheet: {e}")))
}

/// `POST /api/v1/labels/door-sheet`: an A4 PDF of door labels (3 x 8 a page) for the named customers or every
/// customer without a printed label. Customers without a label get one issued; every label printed is marked
/// printed, all in one transaction. A retry under the same `Idempotency-Key` prints the same customers again
/// (an `unprinted` sheet would otherwise print the next ones, and the lost sheet's labels never).
#[utoipa::path(post, path = "/api/v1/labels/door-sheet", tag = "labels", params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key prints the same customers' labels again")), request_body = DoorSheetRequest, responses((status = 200, body = [u8], content_type = "application/pdf")))]
async fn door_sheet(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    key: Option<IdempotencyKey>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let req: DoorSheetRequest = json_body(&headers, &body, "the sheet request")?;
    let keyed = idempotency::keyed(key, &body);
    let lang = sheet_lang(req.lang.as_deref(), &headers)?;
    // What the body alone decides is checked before the key is claimed (a retry sends the same body).
    let named = match (req.customer_ids, req.unprinted) {
        (Some(_), true) => {
            return Err(AppError::invalid(
                "unprinted",
                "name customers or ask for the unprinted labels, not both",
            ))
        }
        (None, false) => {
            return Err(AppError::invalid(
                "customer_ids",
                "name the customers (or set unprinted)",
            ))
        }
        (Some(ids), false) => {
            if ids.is_empty() || ids.len() > MAX_SHEET {
                return Err(AppError::invalid(
                    "customer_ids",
                    format!("1 to {MAX_SHEET} customers a sheet"),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            if let Some(i) = ids.iter().position(|id| !seen.insert(*id)) {
                return Err(AppError::invalid(
                    format!("customer_ids[{i}]"),
                    "this customer is already on the sheet",
                ));
            }
            Some(ids)
        }
        (None, true) => None,
    };
    let (mut tx, printed_before) =
        idempotency::begin_remade(&state.pool, staff.staff_id, &keyed).await?;
    let first = printed_before.is_none();
    let made = sheet_cells(&mut tx, staff.staff_id, printed_before, named).await;
    let (mut tx, (ids, cells)) = idempotency::or_roll_back(tx, made).await?;
    let record = serde_json::to_string(&SheetRecord {
        customer_ids: ids.clone(),
    })
    .map_err(|e| AppError::Internal(e.into()))?;
    if first && !idempotency::record_remade(&mut tx, staff.staff_id, &keyed, &record).await? {
        tx.rollback().await?;
        return Err(idempotency::in_progress());
    }
    let count = cells.len();
    let pdf = render_sheet(
        state.settings.company_name.clone(),
        text(lang, "labels.sheet_door_line").to_owned(),
        cells,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(labels = count, "door label sheet printed");
    pdf_response(pdf, "door-labels.pdf", count)
}

/// The sheet's customers (those a keyed first request printed, the named ones, or the next unprinted) and
/// their cells: a label issued where one is missing, every label marked printed, in the caller's transaction.
async fn sheet_cells(
    tx: &mut sqlx::PgConnection,
    staff_id: Uuid,
    printed_before: Option<String>,
    named: Option<Vec<Uuid>>,
) -> AppResult<(Vec<Uuid>, Vec<sheet::Cell>)> {
    let ids = match (printed_before, named) {
        (Some(record), _) => {
            serde_json::from_str::<SheetRecord>(&record)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored sheet record: {e}")))?
                .customer_ids
        }
        (None, Some(ids)) => ids,
        (None, None) => db::unprinted_customers(&mut *tx, MAX_SHEET as i64).await?,
    };
    if ids.is_empty() {
        return Err(AppError::problem(
            StatusCode::NOT_FOUND,
            "nothing-to-print",
            "Nothing to print",
            "every customer who agreed to a door label has one printed",
        ));
    }
    let found = db::sheet_customers(&mut *tx, &ids).await?;
    let mut cells = Vec::with_capacity(found.len());
    for (i, id) in ids.iter().enumerate() {
        let Some(c) = found.iter().find(|c| c.customer_id == *id) else {
            return Err(AppError::invalid(
                format!("customer_ids[{i}]"),
                "no such customer",
            ));
        };
        if !c.consent {
            return Err(AppError::invalid(
                format!("customer_ids[{i}]"),
                "record the customer's consent to a door label first",
            ));
        }
        let code = match &c.code {
            Some(code) => DoorCode::parse(code)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored door code: {e:?}")))?,
            None => {
                let code = DoorCode::generate(&mut rand::thread_rng());
                db::insert_label(&mut *tx, c.customer_id, &code, staff_id)
                    .await
                    .on_constraint("door_label_code_key", |_| {
                        AppError::conflict(
                            "code",
                            "a code collision occurred; print the sheet again",
                        )
                    })?;
                code
            }
        };
        cells.push(sheet::Cell {
            code: code.as_str().to_owned(),
            grouped: code.grouped(),
        });
    }
    db::mark_printed(&mut *tx, &ids).await?;
    Ok((ids, cells))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Unprinted {
    customers: i64,
    per_sheet: usize,
    max_per_request: usize,
}

/// How many customers agreed to a door label and have none printed.
#[utoipa::path(get, path = "/api/v1/labels/unprinted", tag = "labels", responses((status = 200, body = Unprinted)))]
async fn unprinted(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
) -> AppResult<Json<Unprinted>> {
    Ok(Json(Unprinted {
        customers: db::count_unprinted(&state.pool).await?,
        per_sheet: sheet::PER_PAGE,
        max_per_request: MAX_SHEET,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TagSheetRequest {
    /// How many tags (default: one page).
    count: Option<usize>,
    lang: Option<String>,
}

/// `POST /api/v1/labels/tag-sheet`: a sheet of fresh garment tag codes; a tag is recorded when a worker attaches
/// it to a garment, where the unique constraint catches the (unlikely) repeat.
#[utoipa::path(post, path = "/api/v1/labels/tag-sheet", tag = "labels", request_body = TagSheetRequest, responses((status = 200, body = [u8], content_type = "application/pdf")))]
async fn tag_sheet(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Json(req): Json<TagSheetRequest>,
) -> AppResult<Response> {
    let lang = sheet_lang(req.lang.as_deref(), &headers)?;
    let count = req.count.unwrap_or(sheet::PER_PAGE);
    if !(1..=MAX_SHEET).contains(&count) {
        return Err(AppError::invalid(
            "count",
            format!("1 to {MAX_SHEET} tags a sheet"),
        ));
    }
    // The thread's generator is not Send: it is dropped before the first await.
    let cells = {
        let mut rng = rand::thread_rng();
        (0..count)
            .map(|_| {
                let code = TagCode::generate(&mut rng);
                sheet::Cell {
                    code: code.as_str().to_owned(),
                    grouped: code.grouped(),
                }
            })
            .collect()
    };
    let pdf = render_sheet(
        state.settings.company_name.clone(),
        text(lang, "labels.sheet_tag_line").to_owned(),
        cells,
    )
    .await?;
    pdf_response(pdf, "garment-tags.pdf", count)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IssueParams {
    reason: Option<String>,
}

/// Issues a new label (replacing any active one, which stops resolving at once).
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/labels", tag = "labels", params(("customer_id" = Uuid, Path, description = "the customer"), IssueParams, ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key answers the label it issued instead of replacing it")), responses((status = 201, body = DoorLabel, links(("LabelPng" = (operation_id = "label_png", parameters(("customer_id" = "$response.body#/customer_id")))), ("LabelSvg" = (operation_id = "label_svg", parameters(("customer_id" = "$response.body#/customer_id")))), ("RevokeLabel" = (operation_id = "revoke_label", parameters(("customer_id" = "$response.body#/customer_id"))))))))]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
async fn issue_label(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<IssueParams>,
    key: Option<IdempotencyKey>,
) -> AppResult<Response> {
    let keyed = idempotency::keyed(key, &axum::body::Bytes::new());
    let reason = params
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(AppError::invalid("reason", "at most 200 characters"));
    }
    let mut tx = match idempotency::begin_keyed(&state.pool, staff.staff_id, &keyed).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    let customer = crate::customers::db::fetch_customer_for_update(&mut *tx, customer_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    if customer.label_consent_at.is_none() {
        return Err(AppError::invalid("label_consent", "record the customer's consent to a door label first (PATCH the customer's label_consent)"));
    }
    db::revoke_active_label(
        &mut *tx,
        customer_id,
        reason.as_deref().unwrap_or("replaced"),
    )
    .await?;
    let code = DoorCode::generate(&mut rand::thread_rng());
    let label = db::insert_label(&mut *tx, customer_id, &code, staff.staff_id)
        .await
        .on_constraint("door_label_code_key", |_| {
            AppError::conflict("code", "a code collision occurred; issue the label again")
        })?;
    let answer = idempotency::commit_keyed(tx, staff.staff_id, &keyed, &label).await?;
    tracing::info!("door label issued");
    Ok(answer)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RevokeParams {
    reason: Option<String>,
}

/// Revokes the customer's active door label.
#[utoipa::path(delete, path = "/api/v1/customers/{customer_id}/label", tag = "labels", params(("customer_id" = Uuid, Path, description = "the customer"), RevokeParams), responses((status = 200, body = DoorLabel)))]
async fn revoke_label(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<RevokeParams>,
) -> AppResult<Json<DoorLabel>> {
    let reason = params
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "revoked".into());
    if reason.chars().count() > 200 {
        return Err(AppError::invalid("reason", "at most 200 characters"));
    }
    db::revoke_active_label(&state.pool, customer_id, &reason)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("active door label"))
}

/// Every door label the customer has had, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/labels", tag = "labels", params(("customer_id" = Uuid, Path, description = "the customer")), responses((status = 200, body = Vec<DoorLabel>)))]
async fn list_labels(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<Vec<DoorLabel>>> {
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    Ok(Json(db::list_labels(&state.pool, customer_id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RenderParams {
    #[serde(default)]
    #[param(inline)]
    symbology: LabelSymbology,
}

async fn active_code(state: &AppState, customer_id: Uuid) -> AppResult<DoorCode> {
    db::active_label(&state.pool, customer_id)
        .await?
        .map(|label| label.code)
        .ok_or(AppError::NotFound("active door label"))
}

fn render_error(e: render::RenderError) -> AppError {
    AppError::Internal(anyhow::anyhow!("rendering label: {e}"))
}

/// The active door label as a printable PNG.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/label.png", tag = "labels", params(("customer_id" = Uuid, Path, description = "the customer"), RenderParams), responses((status = 200, body = [u8], content_type = "image/png")))]
async fn label_png(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(p): Query<RenderParams>,
) -> AppResult<Response> {
    let code = active_code(&state, customer_id).await?;
    let png = tokio::task::spawn_blocking(move || {
        render::render_png(code.as_str(), &code.grouped(), p.symbology)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(render_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

/// The active door label as SVG.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/label.svg", tag = "labels", params(("customer_id" = Uuid, Path, description = "the customer"), RenderParams), responses((status = 200, body = String, content_type = "image/svg+xml")))]
async fn label_svg(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(p): Query<RenderParams>,
) -> AppResult<Response> {
    let code = active_code(&state, customer_id).await?;
    let svg =
        render::render_svg(code.as_str(), &code.grouped(), p.symbology).map_err(render_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
