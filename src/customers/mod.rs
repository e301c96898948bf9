//! Customers: create, read, update and search the people the company serves.

pub mod db;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AnyStaff, Authed, Dispatcher};
use crate::domain::phone::Phone;
use crate::domain::{check_len, double_option, non_blank, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::extract::{json_body, Json, Path, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use db::{CustomerDraft, CustomerFields};

/// A customer as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Customer {
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<Phone>,
    pub(crate) address: Option<String>,
    pub(crate) notes: String,
    pub(crate) label_consent_at: Option<DateTime<Utc>>,
    pub(crate) label_consent_method: Option<String>,
    pub(crate) do_not_contact: bool,
    pub(crate) do_not_contact_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// The customer routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_customers, create_customer))
        .routes(routes!(get_customer, update_customer))
}

/// Consent to a label on the door: when and how it was given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub(crate) given_at: DateTime<Utc>,
    pub(crate) method: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCustomer {
    name: String,
    phone: Option<String>,
    address: Option<String>,
    notes: Option<String>,
    label_consent: Option<Consent>,
    #[serde(default)]
    do_not_contact: bool,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CustomerPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    address: Option<Option<String>>,
    notes: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    label_consent: Option<Option<Consent>>,
    do_not_contact: Option<bool>,
}

/// Validates and normalises customer fields, collecting every problem at once (also used by `doorstep import`).
pub(crate) fn check_fields(mut f: CustomerDraft) -> AppResult<CustomerFields> {
    let mut errors = Vec::new();
    f.name = f.name.trim().to_owned();
    if f.name.is_empty() {
        errors.push(FieldError {
            field: "name".into(),
            message: "a name is required".into(),
        });
    }
    check_len(&mut errors, "name", Some(&f.name), 200);
    let phone = match non_blank(f.phone.take()).map(|p| Phone::parse(&p)) {
        None => None,
        Some(Ok(phone)) => Some(phone),
        Some(Err(rule)) => {
            errors.push(FieldError {
                field: "phone".into(),
                message: rule.into(),
            });
            None
        }
    };
    f.address = non_blank(f.address.take());
    check_len(&mut errors, "address", f.address.as_deref(), 500);
    check_len(&mut errors, "notes", Some(&f.notes), 4000);
    f.label_consent_method = non_blank(f.label_consent_method.take());
    match (&f.label_consent_at, &f.label_consent_method) {
        (Some(at), _) if *at > Utc::now() + chrono::Duration::minutes(5) => {
            errors.push(FieldError {
                field: "label_consent.given_at".into(),
                message: "consent cannot be given in the future".into(),
            })
        }
        (Some(at), _) if *at < crate::domain::clock::earliest_event() => errors.push(FieldError {
            field: "label_consent.given_at".into(),
            message: "is before 2000: check the date".into(),
        }),
        (Some(_), None) => errors.push(FieldError {
            field: "label_consent.method".into(),
            message: "say how consent was given (e.g. signed form)".into(),
        }),
        _ => {}
    }
    check_len(
        &mut errors,
        "label_consent.method",
        f.label_consent_method.as_deref(),
        200,
    );
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(CustomerFields {
        name: f.name,
        phone,
        address: f.address,
        notes: f.notes,
        label_consent_at: f.label_consent_at,
        label_consent_method: f.label_consent_method,
        do_not_contact: f.do_not_contact,
    })
}

/// Creates a customer (dispatchers and up).
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key creates the customer once")), request_body = NewCustomer, responses((status = 201, body = Customer, links(("GetCustomer" = (operation_id = "get_customer", parameters(("customer_id" = "$response.body#/customer_id")))), ("UpdateCustomer" = (operation_id = "update_customer", parameters(("customer_id" = "$response.body#/customer_id")))), ("GetCard" = (operation_id = "get_card", parameters(("customer_id" = "$response.body#/customer_id")))), ("GetHistory" = (operation_id = "get_history", parameters(("customer_id" = "$response.body#/customer_id")))), ("GetWardrobe" = (operation_id = "get_wardrobe", parameters(("customer_id" = "$response.body#/customer_id")))), ("ListInteractions" = (operation_id = "list_interactions", parameters(("customer_id" = "$response.body#/customer_id")))), ("CreateInteraction" = (operation_id = "create_interaction", parameters(("customer_id" = "$response.body#/customer_id")))), ("IssueLabel" = (operation_id = "issue_label", parameters(("customer_id" = "$response.body#/customer_id")))), ("ListLabels" = (operation_id = "list_labels", parameters(("customer_id" = "$response.body#/customer_id")))), ("CreateStorageOrder" = (operation_id = "create_order", parameters(("customer_id" = "$response.body#/customer_id")))), ("ListStorageOrders" = (operation_id = "list_orders", parameters(("customer_id" = "$response.body#/customer_id"))))))))]
#[tracing::instrument(skip_all)]
async fn create_customer(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    key: Option<IdempotencyKey>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let req: NewCustomer = json_body(&headers, &body, "the customer")?;
    let keyed = idempotency::keyed(key, &body);
    let fields = check_fields(CustomerDraft {
        name: req.name,
        phone: req.phone,
        address: req.address,
        notes: req.notes.unwrap_or_default(),
        label_consent_at: req.label_consent.as_ref().map(|c| c.given_at),
        label_consent_method: req.label_consent.map(|c| c.method),
        do_not_contact: req.do_not_contact,
    })?;
    let mut tx = match idempotency::begin_keyed(&state.pool, staff.staff_id, &keyed).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    let customer = db::insert_customer(&mut *tx, crate::db::new_id(), &fields).await?;
    let answer = idempotency::commit_keyed(tx, staff.staff_id, &keyed, &customer).await?;
    tracing::info!(customer_id = %customer.customer_id, "customer created");
    Ok(answer)
}

/// One customer (logged as a customer read).
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer")), responses((status = 200, body = Customer)))]
async fn get_customer(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<Customer>> {
    let customer = db::fetch_customer(&state.pool, customer_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    crate::access::note_read(&state, staff.staff_id, "customer_read", customer_id).await;
    Ok(Json(customer))
}

/// Edits a customer: contact details, label consent, do-not-contact (dispatchers and up).
#[utoipa::path(patch, path = "/api/v1/customers/{customer_id}", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer")), request_body = CustomerPatch, responses((status = 200, body = Customer)))]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
async fn update_customer(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Json(patch): Json<CustomerPatch>,
) -> AppResult<Json<Customer>> {
    let mut tx = state.pool.begin().await?;
    let current = db::fetch_customer_for_update(&mut *tx, customer_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    let (consent_at, consent_method) = match patch.label_consent {
        None => (current.label_consent_at, current.label_consent_method),
        Some(None) => (None, None),
        Some(Some(c)) => (Some(c.given_at), Some(c.method)),
    };
    let fields = check_fields(CustomerDraft {
        name: patch.name.unwrap_or(current.name),
        phone: patch
            .phone
            .unwrap_or_else(|| current.phone.as_ref().map(|p| p.to_string())),
        address: patch.address.unwrap_or(current.address),
        notes: patch.notes.unwrap_or(current.notes),
        label_consent_at: consent_at,
        label_consent_method: consent_method,
        do_not_contact: patch.do_not_contact.unwrap_or(current.do_not_contact),
    })?;
    let updated = db::update_customer(&mut *tx, customer_id, &fields).await?;
    if updated.label_consent_at.is_none() {
        // Without consent there may be no label on the door: it stops resolving at once.
        crate::labels::db::revoke_active_label(&mut *tx, customer_id, "consent withdrawn").await?;
    }
    tx.commit().await?;
    Ok(Json(updated))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Shortest search a pickup worker may send, and most results they get: workers search, they do not browse.
pub const WORKER_MIN_QUERY_CHARS: usize = 3;
/// Most customers one worker search answers (a first page only).
pub const WORKER_MAX_RESULTS: i64 = 10;

/// Searches customers by name, address fragment or phone digits; pickup workers need `q` of 3 characters or more and get 10 matches.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(SearchParams), responses((status = 200, body = Page<Customer>)))]
async fn search_customers(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Query(params): Query<SearchParams>,
) -> AppResult<Json<Page<Customer>>> {
    let mut page = PageParams {
        limit: params.limit,
        offset: params.offset,
    }
    .check()?;
    let q = non_blank(params.q);
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(AppError::invalid(
            "q",
            "a search has at most 100 characters",
        ));
    }
    if !staff.role.at_least(Role::Dispatcher) {
        if q.as_ref()
            .is_none_or(|q| q.chars().count() < WORKER_MIN_QUERY_CHARS)
        {
            return Err(AppError::invalid(
                "q",
                "search with at least 3 characters of a name, phone or address",
            ));
        }
        if page.offset > 0 {
            return Err(AppError::invalid(
                "offset",
                "pickup workers get the first results only; search more precisely",
            ));
        }
        page.limit = page.limit.min(WORKER_MAX_RESULTS);
    }
    let rows = db::search_customers(&state.pool, q.as_deref(), page).await?;
    Ok(Json(page.page(rows)))
}
