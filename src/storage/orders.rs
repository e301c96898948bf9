//! Storage orders: taking garments in, moving orders through their states, deliveries and receipts.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::pricing::{self, ZoneKind};
use super::rules::{
    check_order, default_return, next_window_start, place_items, push, NewOrderRequest,
};
use super::*;
use crate::auth::{AnyStaff, Authed, Dispatcher};
use crate::calendar::Calendar;
use crate::domain::check_len;
use crate::error::{AppError, AppResult, ResultExt};
use crate::extract::{json_body, Json, Path, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// Orders, their moves, deliveries and receipts.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_all_orders))
        .routes(routes!(list_orders, create_order))
        .routes(routes!(show_order))
        .routes(routes!(change_status))
        .routes(routes!(book_delivery))
        .routes(routes!(receipt_html))
        .routes(routes!(receipt_pdf))
}

/// Takes garments into storage: one order, its items and its first event in one transaction, once per key.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/storage-orders", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), ("Idempotency-Key" = String, Header, description = "unique per intended write; resend the same key when retrying")), request_body = NewOrderRequest, responses((status = 201, body = OrderView, links(("ShowOrder" = (operation_id = "show_order", parameters(("customer_id" = "$response.body#/customer_id"), ("order_id" = "$response.body#/order_id")))), ("ChangeStatus" = (operation_id = "change_status", parameters(("customer_id" = "$response.body#/customer_id"), ("order_id" = "$response.body#/order_id")))), ("BookDelivery" = (operation_id = "book_delivery", parameters(("customer_id" = "$response.body#/customer_id"), ("order_id" = "$response.body#/order_id")))), ("Receipt" = (operation_id = "storage_receipt_pdf", parameters(("customer_id" = "$response.body#/customer_id"), ("order_id" = "$response.body#/order_id")))), ("ReceiptHtml" = (operation_id = "storage_receipt_html", parameters(("customer_id" = "$response.body#/customer_id"), ("order_id" = "$response.body#/order_id"))))))))]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id, order_id))]
async fn create_order(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    key: IdempotencyKey,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hash = key.request_hash(&body);
    let req: NewOrderRequest = json_body(&headers, &body, "the storage order")?;
    let today = state.settings.clock.today();
    check_order(&req, today)?;
    let calendar = Calendar::load(&state.pool).await?;
    let tx = state.pool.begin().await?;
    let mut tx = match idempotency::claim_tx(tx, staff.staff_id, &key.0, &hash).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    if !crate::customers::db::lock_customer(&mut *tx, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let settings = db::settings(&mut *tx).await?;
    let rate_bp = req.insurance_rate_bp.unwrap_or(settings.insurance_rate_bp);
    let planned_return_on = match req.planned_return_on {
        Some(day) => day,
        None => {
            let window_start = next_window_start(&calendar, &settings.return_window_kind, today)
                .ok_or_else(|| {
                    AppError::invalid(
                        "planned_return_on",
                        format!(
                            "the season calendar has no '{}' window to return by: give a date",
                            settings.return_window_kind
                        ),
                    )
                })?;
            default_return(today, req.term_months, window_start)
        }
    };

    // The garments: this customer's, cleaned (recently enough), and in no other open order.
    let ids: Vec<Uuid> = req.items.iter().map(|i| i.garment_id).collect();
    let found = db::lock_garments(&mut tx, customer_id, &ids).await?;
    let by_id: HashMap<Uuid, &db::GarmentForStorage> =
        found.iter().map(|g| (g.garment_id, g)).collect();
    let cleaned_since = settings.cleaned_within_days.map(|d| {
        state
            .settings
            .clock
            .start_of(today - chrono::Duration::days(i64::from(d)))
    });
    let mut errors = Vec::new();
    let mut garments = Vec::with_capacity(req.items.len());
    for (i, item) in req.items.iter().enumerate() {
        let field = format!("items[{i}].garment_id");
        let Some(g) = by_id.get(&item.garment_id) else {
            push(&mut errors, field, "no such garment for this customer");
            continue;
        };
        match (g.times_cleaned, g.last_cleaned_at) {
            (0, _) | (_, None) => push(
                &mut errors,
                field,
                "this garment has not been cleaned by us: it is cleaned before it is stored",
            ),
            (_, Some(at)) if cleaned_since.is_some_and(|since| at < since) => push(
                &mut errors,
                field,
                format!(
                    "last cleaned on {}, more than {} days ago: it is cleaned again before it is stored",
                    local_day(&state.settings, at),
                    settings.cleaned_within_days.unwrap_or_default()
                ),
            ),
            _ => {}
        }
        garments.push(*g);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let open: HashMap<Uuid, String> = db::open_items(&mut *tx, customer_id, &ids)
        .await?
        .into_iter()
        .collect();
    if let Some((i, receipt)) = req
        .items
        .iter()
        .enumerate()
        .find_map(|(i, item)| open.get(&item.garment_id).map(|r| (i, r)))
    {
        return Err(AppError::conflict(
            &format!("items[{i}].garment_id"),
            format!("this garment is already in storage on receipt {receipt}: a garment can be in one open order only"),
        ));
    }

    // Prices, places, charges.
    let prices = db::prices(&mut *tx).await?;
    let named: Vec<String> = req
        .items
        .iter()
        .filter_map(|i| i.zone_id.as_deref().map(|z| z.trim().to_owned()))
        .collect();
    let kinds: Vec<ZoneKind> = req
        .items
        .iter()
        .zip(&garments)
        .filter(|(i, _)| i.zone_id.is_none())
        .map(|(_, g)| pricing::default_zone_kind(g.kind, g.material))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let zones = db::lock_zones(&mut tx, &named, &kinds).await?;
    let placements = place_items(&req.items, &garments, &zones)?;
    let mut rows = Vec::with_capacity(req.items.len());
    for (i, ((item, g), place)) in req.items.iter().zip(&garments).zip(placements).enumerate() {
        let price = pricing::price_for(&prices, g.kind, g.material).ok_or_else(|| {
            AppError::conflict(
                &format!("items[{i}].garment_id"),
                format!(
                    "the storage price list has no price for a {} of {}: a manager adds one",
                    words(&g.kind),
                    g.material.as_ref().map_or("any material".to_owned(), words)
                ),
            )
        })?;
        let charge = pricing::charge(
            price.monthly_cents,
            req.term_months,
            item.declared_value_cents,
            rate_bp,
        )
        .ok_or_else(|| AppError::invalid(format!("items[{i}]"), "the charge is too large"))?;
        rows.push(db::NewItem {
            garment_id: item.garment_id,
            declared_cents: item.declared_value_cents,
            fee_cents: charge.fee_cents,
            premium_cents: charge.premium_cents,
            zone_id: place.zone_id,
            position: item.position.as_deref().unwrap_or("").trim().to_owned(),
        });
    }

    let order_id = crate::db::new_id();
    tracing::Span::current().record("order_id", tracing::field::display(order_id));
    let receipt_no = db::next_receipt_no(&mut *tx, today.year()).await?;
    db::insert_order(
        &mut tx,
        &db::NewOrder {
            customer_id,
            order_id,
            receipt_no: &receipt_no,
            term_months: req.term_months,
            insurance_rate_bp: rate_bp,
            planned_return_on,
            delivery_preference: req.delivery_preference.as_deref().unwrap_or("").trim(),
            notes: req.notes.as_deref().unwrap_or("").trim(),
            fee_cents: rows.iter().map(|r| r.fee_cents).sum(),
            premium_cents: rows.iter().map(|r| r.premium_cents).sum(),
            declared_cents: rows.iter().map(|r| r.declared_cents).sum(),
            created_by: staff.staff_id,
        },
    )
    .await?;
    db::insert_items(&mut tx, customer_id, order_id, &rows)
        .await
        .on_constraint("storage_item_one_open", |_| {
            AppError::conflict(
                "items",
                "a garment of this order was just stored by another order",
            )
        })?;
    db::insert_event(
        &mut tx,
        customer_id,
        order_id,
        Status::Accepted,
        None,
        staff.staff_id,
        "",
    )
    .await?;
    let view = order_view(&mut tx, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    let response = idempotency::commit_created(tx, staff.staff_id, &key.0, &hash, &view).await?;
    tracing::info!(items = view.items.len(), "storage order accepted");
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OrdersQuery {
    status: Option<Status>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A customer's storage orders, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/storage-orders", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), OrdersQuery), responses((status = 200, body = Page<db::OrderSummary>)))]
async fn list_orders(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    Query(q): Query<OrdersQuery>,
) -> AppResult<Json<Page<db::OrderSummary>>> {
    let page = PageParams {
        limit: q.limit,
        offset: q.offset,
    }
    .check()?;
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let rows = db::orders(
        &state.pool,
        Some(customer_id),
        q.status,
        page.fetch(),
        page.offset,
    )
    .await?;
    Ok(Json(page.page(rows)))
}

/// Every customer's storage orders, newest first (e.g. `?status=accepted` for what still goes on a shelf).
#[utoipa::path(get, path = "/api/v1/storage/orders", tag = "storage", params(OrdersQuery), responses((status = 200, body = Page<db::OrderSummary>)))]
async fn list_all_orders(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Query(q): Query<OrdersQuery>,
) -> AppResult<Json<Page<db::OrderSummary>>> {
    let page = PageParams {
        limit: q.limit,
        offset: q.offset,
    }
    .check()?;
    let rows = db::orders(&state.pool, None, q.status, page.fetch(), page.offset).await?;
    Ok(Json(page.page(rows)))
}

async fn load(state: &AppState, customer_id: Uuid, order_id: Uuid) -> AppResult<OrderView> {
    let mut conn = state.pool.acquire().await?;
    order_view(&mut conn, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))
}

/// One storage order with its items and events.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/storage-orders/{order_id}", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), ("order_id" = Uuid, Path, description = "the storage order")), responses((status = 200, body = OrderView)))]
async fn show_order(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Json<OrderView>> {
    Ok(Json(load(&state, customer_id, order_id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    status: Status,
    note: Option<String>,
}

/// Moves an order one step on (accepted -> in_storage -> return_requested -> returned), recording who and when.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/storage-orders/{order_id}/status", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), ("order_id" = Uuid, Path, description = "the storage order"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key answers the first move instead of refusing it as already made")), request_body = StatusRequest, responses((status = 200, body = OrderView)))]
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
async fn change_status(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
    key: Option<IdempotencyKey>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let req: StatusRequest = json_body(&headers, &body, "the status change")?;
    let keyed = idempotency::keyed(key, &body);
    let mut errors = Vec::new();
    check_len(&mut errors, "note", req.note.as_deref(), 1000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = match idempotency::begin_keyed(&state.pool, staff.staff_id, &keyed).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    let moved = move_order(
        &mut tx,
        &state,
        staff.staff_id,
        (customer_id, order_id),
        &req,
    )
    .await;
    let (tx, view) = idempotency::or_roll_back(tx, moved).await?;
    let answer =
        idempotency::commit_keyed_as(tx, staff.staff_id, &keyed, StatusCode::OK, &view).await?;
    tracing::info!(status = req.status.as_str(), "storage order moved");
    Ok(answer)
}

/// The move itself, in the caller's transaction: one step on, and its event.
async fn move_order(
    tx: &mut PgConnection,
    state: &AppState,
    staff_id: Uuid,
    (customer_id, order_id): (Uuid, Uuid),
    req: &StatusRequest,
) -> AppResult<OrderView> {
    let current = db::lock_order(&mut *tx, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    if current.next() != Some(req.status) {
        let detail = match current.next() {
            _ if current == req.status => format!("the order is already {}", current.as_str()),
            Some(next) => format!(
                "an order that is {} can only move to {}",
                current.as_str(),
                next.as_str()
            ),
            None => "the order has been returned: it cannot move any more".to_owned(),
        };
        return Err(AppError::conflict("status", detail));
    }
    db::set_status(&mut *tx, customer_id, order_id, req.status).await?;
    let note = req.note.as_deref().unwrap_or("").trim();
    db::insert_event(
        &mut *tx,
        customer_id,
        order_id,
        req.status,
        None,
        staff_id,
        note,
    )
    .await?;
    order_view(&mut *tx, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DeliveryRequest {
    booked_for: NaiveDate,
    note: Option<String>,
}

/// Books the day the garments go back to the customer; an order still in storage is asked back at once.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/storage-orders/{order_id}/delivery", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), ("order_id" = Uuid, Path, description = "the storage order"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key books once and answers the first booking")), request_body = DeliveryRequest, responses((status = 200, body = OrderView)))]
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
async fn book_delivery(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
    key: Option<IdempotencyKey>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let req: DeliveryRequest = json_body(&headers, &body, "the delivery booking")?;
    let keyed = idempotency::keyed(key, &body);
    let mut errors = Vec::new();
    check_len(&mut errors, "note", req.note.as_deref(), 1000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // The day is checked after the key is claimed: a retry after midnight answers the first booking.
    let mut tx = match idempotency::begin_keyed(&state.pool, staff.staff_id, &keyed).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    let booked = book(
        &mut tx,
        &state,
        staff.staff_id,
        (customer_id, order_id),
        &req,
    )
    .await;
    let (tx, view) = idempotency::or_roll_back(tx, booked).await?;
    let answer =
        idempotency::commit_keyed_as(tx, staff.staff_id, &keyed, StatusCode::OK, &view).await?;
    tracing::info!(booked_for = %req.booked_for, "storage return delivery booked");
    Ok(answer)
}

/// The booking itself, in the caller's transaction: the day checked, the order asked back if it is still in
/// storage, the delivery and its event recorded.
async fn book(
    tx: &mut PgConnection,
    state: &AppState,
    staff_id: Uuid,
    (customer_id, order_id): (Uuid, Uuid),
    req: &DeliveryRequest,
) -> AppResult<OrderView> {
    let today = state.settings.clock.today();
    if req.booked_for < today {
        return Err(AppError::invalid("booked_for", "is in the past"));
    }
    if (req.booked_for - today).num_days() > 366 {
        return Err(AppError::invalid("booked_for", "must be within a year"));
    }
    let current = db::lock_order(&mut *tx, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    let note = req.note.as_deref().unwrap_or("").trim();
    match current {
        Status::Accepted => {
            return Err(AppError::conflict(
                "status",
                "the order is not in storage yet: move it to in_storage first",
            ))
        }
        Status::Returned => {
            return Err(AppError::conflict(
                "status",
                "the order has been returned already",
            ))
        }
        Status::InStorage => {
            db::set_status(&mut *tx, customer_id, order_id, Status::ReturnRequested).await?;
            db::insert_event(
                &mut *tx,
                customer_id,
                order_id,
                Status::ReturnRequested,
                None,
                staff_id,
                "return delivery booked",
            )
            .await?;
        }
        Status::ReturnRequested => {}
    }
    db::set_delivery(&mut *tx, customer_id, order_id, req.booked_for).await?;
    db::insert_event(
        &mut *tx,
        customer_id,
        order_id,
        Status::ReturnRequested,
        Some(req.booked_for),
        staff_id,
        note,
    )
    .await?;
    order_view(&mut *tx, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))
}

/// The language of a receipt: `?lang=` (zh-CN or en), else the reader's (their cookie, then their browser's).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReceiptLang {
    lang: Option<String>,
}

impl ReceiptLang {
    fn of(&self, headers: &HeaderMap) -> crate::i18n::Lang {
        self.lang
            .as_deref()
            .and_then(crate::i18n::Lang::from_tag)
            .unwrap_or_else(|| crate::i18n::from_headers(headers))
    }
}

/// The receipt page; it runs no script and loads nothing, whatever the customer's text says.
#[utoipa::path(get, operation_id = "storage_receipt_html", path = "/api/v1/customers/{customer_id}/storage-orders/{order_id}/receipt.html", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), ("order_id" = Uuid, Path, description = "the storage order"), ReceiptLang), responses((status = 200, body = String, content_type = "text/html")))]
async fn receipt_html(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
    Query(p): Query<ReceiptLang>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let lang = p.of(&headers);
    let order = load(&state, customer_id, order_id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        receipt::html(&order, &state.settings.company_name, lang),
    )
        .into_response())
}

/// The receipt as a PDF.
#[utoipa::path(get, operation_id = "storage_receipt_pdf", path = "/api/v1/customers/{customer_id}/storage-orders/{order_id}/receipt.pdf", tag = "storage", params(("customer_id" = Uuid, Path, description = "the customer"), ("order_id" = Uuid, Path, description = "the storage order"), ReceiptLang), responses((status = 200, body = [u8], content_type = "application/pdf")))]
async fn receipt_pdf(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
    Query(p): Query<ReceiptLang>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let lang = p.of(&headers);
    let order = load(&state, customer_id, order_id).await?;
    let disposition = format!("inline; filename=\"receipt-{}.pdf\"", order.receipt_no);
    let company = state.settings.company_name.clone();
    let pdf = tokio::task::spawn_blocking(move || receipt::pdf(&order, &company, lang))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.into()))?,
            ),
        ],
        pdf,
    )
        .into_response())
}
