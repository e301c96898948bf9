//! Pickups: one visit and its itemised lines, recorded whole or not at all, once per Idempotency-Key.

pub mod db;
pub mod receipt;

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AnyStaff, Authed};
use crate::domain::code::{DoorCode, TagCode};
use crate::domain::{check_len, Category, GarmentKind, SeasonClass, Service};
use crate::error::{AppError, AppResult, FieldError, ResultExt};
use crate::garments::{self, GarmentFields, NewGarment};
use crate::idempotency::{self, IdempotencyKey};
use crate::state::AppState;

/// A pickup in a customer's list: when, how many garments, how much.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PickupSummary {
    pub(crate) pickup_id: Uuid,
    pub(crate) collected_at: DateTime<Utc>,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) staff_id: Uuid,
    pub(crate) notes: String,
    pub(crate) line_count: i64,
    pub(crate) total_cents: i64,
}

/// One line of a pickup with the garment it concerns.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PickupLineView {
    #[serde(skip)]
    pub(crate) pickup_id: Uuid,
    pub(crate) line_no: i32,
    pub(crate) garment_id: Uuid,
    pub(crate) service: Service,
    pub(crate) price_cents: i64,
    pub(crate) condition_notes: String,
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) season_class: SeasonClass,
    pub(crate) brand: Option<String>,
    pub(crate) size: Option<String>,
    pub(crate) colour: Option<String>,
    pub(crate) tag_code: Option<TagCode>,
}

/// The answer to a recorded pickup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PickupRecord {
    pub(crate) pickup_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) staff_id: Uuid,
    pub(crate) door_code: Option<DoorCode>,
    pub(crate) collected_at: DateTime<Utc>,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) notes: String,
    pub(crate) total_cents: i64,
    pub(crate) garments_created: usize,
    pub(crate) lines: Vec<PickupLineView>,
}

/// The pickup route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_pickup))
        .routes(routes!(receipt::show_pickup))
        .routes(routes!(receipt::receipt_pdf))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPickup {
    customer_id: Uuid,
    door_code: Option<String>,
    collected_at: DateTime<Utc>,
    notes: Option<String>,
    lines: Vec<NewLine>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewLine {
    garment_id: Option<Uuid>,
    garment_tag: Option<String>,
    garment: Option<NewGarment>,
    service: Service,
    price_cents: i64,
    condition: Option<String>,
}

/// Which garment a line is about, once checked.
enum GarmentRef {
    Existing(Uuid),
    Tag(TagCode),
    New(Box<GarmentFields>),
}

struct CheckedLine {
    garment: GarmentRef,
    service: Service,
    price_cents: i64,
    condition_notes: String,
}

/// Limits of one pickup, shared with `doorstep import` so both refuse the same input.
pub(crate) const MAX_LINES: usize = 500;
pub(crate) const MAX_PRICE_CENTS: i64 = 100_000_000;
pub(crate) const MAX_CONDITION_CHARS: usize = 1000;

fn err(errors: &mut Vec<FieldError>, field: String, message: &str) {
    errors.push(FieldError {
        field,
        message: message.to_owned(),
    });
}

/// Everything that can be checked without the database, every bad line and field at once.
fn check_request(req: NewPickup) -> AppResult<(NewPickup, Vec<CheckedLine>, Option<DoorCode>)> {
    let mut errors = Vec::new();
    if req.lines.is_empty() {
        err(
            &mut errors,
            "lines".into(),
            "a pickup needs at least one garment",
        );
    }
    if req.lines.len() > MAX_LINES {
        err(
            &mut errors,
            "lines".into(),
            "at most 500 garments per pickup",
        );
    }
    if let Err(m) = crate::domain::clock::check_event_time(req.collected_at, Utc::now()) {
        err(&mut errors, "collected_at".into(), m);
    }
    check_len(&mut errors, "notes", req.notes.as_deref(), 4000);
    let door_code = match req
        .door_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(raw) => match DoorCode::parse(raw) {
            Ok(code) => Some(code),
            Err(e) => {
                errors.push(FieldError {
                    field: "door_code".into(),
                    message: e.to_string(),
                });
                None
            }
        },
    };
    let mut lines = Vec::with_capacity(req.lines.len());
    let mut new_tags = HashSet::new();
    for (i, line) in req.lines.iter().enumerate() {
        let at = |f: &str| format!("lines[{i}].{f}");
        if !(0..=MAX_PRICE_CENTS).contains(&line.price_cents) {
            err(
                &mut errors,
                at("price_cents"),
                "a price is between 0 and 100000000 cents",
            );
        }
        check_len(
            &mut errors,
            &at("condition"),
            line.condition.as_deref(),
            MAX_CONDITION_CHARS,
        );
        let given = [
            line.garment_id.is_some(),
            line.garment_tag.is_some(),
            line.garment.is_some(),
        ];
        let garment = match (
            given.iter().filter(|&&g| g).count(),
            &line.garment_id,
            &line.garment_tag,
            &line.garment,
        ) {
            (1, Some(id), _, _) => Some(GarmentRef::Existing(*id)),
            (1, _, Some(tag), _) => match TagCode::parse(tag) {
                Ok(code) => Some(GarmentRef::Tag(code)),
                Err(e) => {
                    errors.push(FieldError {
                        field: at("garment_tag"),
                        message: e.to_string(),
                    });
                    None
                }
            },
            (1, _, _, Some(new)) => {
                let fields = new.clone().check(&at("garment"), &mut errors);
                if let Some(tag) = &fields.tag_code {
                    if !new_tags.insert(tag.clone()) {
                        err(
                            &mut errors,
                            at("garment.tag_code"),
                            "the same tag is on two new garments in this pickup",
                        );
                    }
                }
                Some(GarmentRef::New(Box::new(fields)))
            }
            _ => {
                err(&mut errors, at("garment"), "give exactly one of garment_id, garment_tag or garment (a new garment's description)");
                None
            }
        };
        if let Some(garment) = garment {
            let condition_notes = line.condition.as_deref().unwrap_or("").trim().to_owned();
            lines.push(CheckedLine {
                garment,
                service: line.service,
                price_cents: line.price_cents,
                condition_notes,
            });
        }
    }
    if errors.is_empty() {
        Ok((req, lines, door_code))
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> AppResult<NewPickup> {
    crate::extract::json_body(headers, body, "the pickup")
}

/// Records a visit with its itemised lines. Retries with the same Idempotency-Key answer the first response.
#[utoipa::path(post, path = "/api/v1/pickups", tag = "pickups", params(("Idempotency-Key" = String, Header, description = "unique per intended write; resend the same key when retrying")), request_body = NewPickup, responses((status = 201, body = PickupRecord, links(("ShowPickup" = (operation_id = "show_pickup", parameters(("customer_id" = "$response.body#/customer_id"), ("pickup_id" = "$response.body#/pickup_id")))), ("PickupReceipt" = (operation_id = "pickup_receipt_pdf", parameters(("customer_id" = "$response.body#/customer_id"), ("pickup_id" = "$response.body#/pickup_id")))), ("GetCard" = (operation_id = "get_card", parameters(("customer_id" = "$response.body#/customer_id"))))))))]
#[tracing::instrument(skip_all, fields(pickup_id))]
async fn record_pickup(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    key: IdempotencyKey,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hash = key.request_hash(&body);
    let (req, lines, door_code) = check_request(parse_body(&headers, &body)?)?;
    let customer_id = req.customer_id;
    let (ids, tags) = references(&lines);
    let mut tx = state.pool.begin_with(db::VISIT_BEGIN).await?;
    let check = db::check_visit(
        &mut tx,
        staff.staff_id,
        &key.0,
        customer_id,
        door_code.as_ref(),
        &ids,
        &tags,
    )
    .await?;
    let mut tx = match idempotency::settle(tx, check.claim, &hash).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    if !check.customer_found {
        return Err(AppError::invalid("customer_id", "no such customer"));
    }
    let mut errors = Vec::new();
    if !check.door_ok {
        err(
            &mut errors,
            "door_code".into(),
            "this door label is not this customer's",
        );
    }
    let resolved = resolve_garments(customer_id, &lines, &check.known, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let pickup_id = crate::db::new_id();
    tracing::Span::current().record("pickup_id", tracing::field::display(pickup_id));
    // A line without a resolved garment describes a new one (every other reference was checked above): it gets
    // its id here, and all new garments go in with the visit's statement.
    let garment_ids: Vec<Uuid> = resolved
        .iter()
        .map(|r| r.map_or_else(crate::db::new_id, |g| g.garment_id))
        .collect();
    let mut new_garments = Vec::new();
    let mut first_new_tag = None;
    let mut views = Vec::with_capacity(lines.len());
    for (i, ((line, resolved), id)) in lines.iter().zip(&resolved).zip(&garment_ids).enumerate() {
        let view = match (resolved, &line.garment) {
            (Some(known), _) => known.shown.clone(),
            (None, GarmentRef::New(fields)) => {
                if fields.tag_code.is_some() && first_new_tag.is_none() {
                    first_new_tag = Some(format!("lines[{i}].garment.tag_code"));
                }
                // What this visit's cleaning lines of the new garment cost, if it was cleaned at all.
                let cleaned = lines
                    .iter()
                    .zip(&garment_ids)
                    .filter(|(l, g)| *g == id && l.service.is_cleaning())
                    .map(|(l, _)| l.price_cents)
                    .reduce(|a, b| a + b);
                new_garments.push((*id, fields.as_ref(), cleaned));
                db::GarmentShown::from(fields.as_ref())
            }
            (None, _) => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "unresolved garment reference on line {i}"
                )))
            }
        };
        views.push(PickupLineView {
            pickup_id,
            line_no: i as i32 + 1,
            garment_id: *id,
            service: line.service,
            price_cents: line.price_cents,
            condition_notes: line.condition_notes.clone(),
            category: view.category,
            kind: view.kind,
            season_class: view.season_class,
            brand: view.brand,
            size: view.size,
            colour: view.colour,
            tag_code: view.tag_code,
        });
    }
    let notes = req.notes.as_deref().unwrap_or("").trim();
    let record = PickupRecord {
        pickup_id,
        customer_id,
        staff_id: staff.staff_id,
        door_code,
        collected_at: req.collected_at,
        received_at: check.received_at,
        notes: notes.to_owned(),
        total_cents: views.iter().map(|l| l.price_cents).sum(),
        garments_created: new_garments.len(),
        lines: views,
    };
    let answer = serde_json::to_string(&record).map_err(|e| AppError::Internal(e.into()))?;
    let rows: Vec<db::LineRow> = record
        .lines
        .iter()
        .map(|l| db::LineRow {
            garment_id: l.garment_id,
            service: l.service,
            price_cents: l.price_cents,
            condition_notes: l.condition_notes.clone(),
        })
        .collect();
    let classes: Vec<(SeasonClass, Category)> = record
        .lines
        .iter()
        .map(|l| (l.season_class, l.category))
        .collect();
    let visit = db::VisitRow {
        customer_id,
        pickup_id,
        staff_id: staff.staff_id,
        door_code: record.door_code.as_ref(),
        collected_at: record.collected_at,
        notes,
    };
    // Tags were checked above, so a clash here is a concurrent visit.
    let clash = first_new_tag.unwrap_or_else(|| "lines".to_owned());
    let saved = db::record_visit(
        &mut tx,
        &visit,
        &new_garments,
        &rows,
        &classes,
        Some(&db::KeyedAnswer {
            key: &key.0,
            hash: &hash,
            body: &answer,
        }),
    )
    .await
    .on_constraint("garment_tag_code_key", garments::tag_taken(&clash))?;
    if !saved {
        return idempotency::replay_raced(tx, staff.staff_id, &key.0, &hash).await;
    }
    tx.commit().await?;
    tracing::info!(
        garments = record.lines.len(),
        created = record.garments_created,
        "pickup recorded"
    );
    Ok(idempotency::created_json(answer))
}

/// The garment ids and tags the lines name (a new garment's own tag too, to refuse one already in use).
fn references(lines: &[CheckedLine]) -> (Vec<Uuid>, Vec<TagCode>) {
    let ids = lines
        .iter()
        .filter_map(|l| match l.garment {
            GarmentRef::Existing(id) => Some(id),
            _ => None,
        })
        .collect();
    let tags = lines
        .iter()
        .filter_map(|l| match &l.garment {
            GarmentRef::Tag(t) => Some(t.clone()),
            GarmentRef::New(f) => f.tag_code.clone(),
            GarmentRef::Existing(_) => None,
        })
        .collect();
    (ids, tags)
}

/// Resolves existing-garment and tag references to this customer's garments (None for new garments) among
/// `known`, what the visit's first statement found.
fn resolve_garments<'k>(
    customer_id: Uuid,
    lines: &[CheckedLine],
    known: &'k [db::KnownGarment],
    errors: &mut Vec<FieldError>,
) -> Vec<Option<&'k db::KnownGarment>> {
    let owned: HashMap<Uuid, &db::KnownGarment> = known
        .iter()
        .filter(|g| g.customer_id == customer_id)
        .map(|g| (g.garment_id, g))
        .collect();
    let by_tag: HashMap<&TagCode, &db::KnownGarment> = known
        .iter()
        .filter_map(|g| g.shown.tag_code.as_ref().map(|t| (t, g)))
        .collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        out.push(match &line.garment {
            GarmentRef::Existing(id) => {
                let found = owned.get(id).copied();
                if found.is_none() {
                    err(errors, format!("lines[{i}].garment_id"), "no such garment for this customer");
                }
                found
            }
            GarmentRef::Tag(tag) => match by_tag.get(tag) {
                Some(g) if g.customer_id == customer_id => Some(*g),
                Some(_) => {
                    err(errors, format!("lines[{i}].garment_tag"), "this tag is on another customer's garment");
                    None
                }
                None => {
                    err(errors, format!("lines[{i}].garment_tag"), "no garment has this tag yet: describe it as a new garment with this tag_code");
                    None
                }
            },
            GarmentRef::New(f) => {
                if f.tag_code.as_ref().is_some_and(|t| by_tag.contains_key(t)) {
                    err(errors, format!("lines[{i}].garment.tag_code"), "this tag is already on another garment");
                }
                None
            }
        });
    }
    out
}
