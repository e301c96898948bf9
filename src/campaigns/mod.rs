//! Campaigns: a list frozen on a day, its entries assigned to dispatchers, call outcomes, and the follow-up report.

pub mod db;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Authed, Dispatcher, Manager, Staff};
use crate::calendar::SeasonWindow;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::export::{self, CsvRow, Output, Rows};
use crate::extract::{json_body, Json, Path, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::lists;
use crate::state::AppState;

pub use db::{CampaignView, EntryView, ReportRow};

/// The lists a campaign can be made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Season-change reminders.
    Reminders,
    /// Storage offers.
    StorageUpsell,
    /// The special-size catalogue.
    SpecialSizes,
    /// Regulars who stopped coming.
    AtRisk,
}

impl ListKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Reminders => "reminders",
            ListKind::StorageUpsell => "storage_upsell",
            ListKind::SpecialSizes => "special_sizes",
            ListKind::AtRisk => "at_risk",
        }
    }
}

/// What a dispatcher's call came to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Outcome {
    /// Nobody answered.
    NoAnswer,
    /// Call again at an agreed time.
    CallBack,
    /// A pickup was booked.
    Booked,
    /// Not interested this time.
    Declined,
    /// The customer asked never to be contacted again: sets do-not-contact at once.
    NeverContact,
    /// The customer no longer uses the company (moved away, another laundry): P(active) is zero until their
    /// next pickup, so no list ranks them as a customer.
    Left,
}

impl Outcome {
    fn describe(self) -> &'static str {
        match self {
            Outcome::NoAnswer => "no answer",
            Outcome::CallBack => "asked to be called back",
            Outcome::Booked => "pickup booked",
            Outcome::Declined => "declined",
            Outcome::NeverContact => "asked never to be contacted",
            Outcome::Left => "no longer a customer (moved away or uses another laundry)",
        }
    }
}

/// The campaign and queue routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(show_campaign))
        .routes(routes!(assign))
        .routes(routes!(list_entries))
        .routes(routes!(record_outcome))
        .routes(routes!(report))
        .routes(routes!(my_queue))
        .routes(routes!(list_assignees))
}

/// Who campaign entries can be shared between (names and roles only), for the office app's assign form.
#[utoipa::path(get, path = "/api/v1/assignees", tag = "campaigns", responses((status = 200, body = Vec<db::Assignee>)))]
async fn list_assignees(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
) -> AppResult<Json<Vec<db::Assignee>>> {
    Ok(Json(db::assignees(&state.pool).await?))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CampaignRequest {
    name: String,
    list: ListKind,
    window: Option<String>,
    on: Option<NaiveDate>,
    cap_days: Option<i64>,
    lead_days: Option<i64>,
    months: Option<i64>,
    threshold: Option<f64>,
    min_garments: Option<i64>,
    factor: Option<f64>,
    min_pickups: Option<i32>,
    /// At-risk only: `slipping` or `gone`.
    status: Option<String>,
    /// Keep only the first N entries of the list.
    max_entries: Option<i64>,
    /// For lists without a window: days after the list day that the report follows (default 30).
    follow_days: Option<i64>,
}

/// A frozen list ready to insert.
struct Snapshot {
    window: Option<SeasonWindow>,
    on: NaiveDate,
    follow_until: NaiveDate,
    params: serde_json::Value,
    entries: Vec<db::NewEntry>,
}

fn entry<T: Serialize>(
    customer_id: Uuid,
    rank: i64,
    item: &T,
    garments: Vec<Uuid>,
) -> AppResult<db::NewEntry> {
    Ok(db::NewEntry {
        customer_id,
        rank: i32::try_from(rank).unwrap_or(i32::MAX),
        snapshot: serde_json::to_value(item).map_err(|e| AppError::Internal(e.into()))?,
        garment_ids: garments,
    })
}

/// Computes the requested list in full, as the list endpoint would on that day.
async fn snapshot(state: &AppState, req: &CampaignRequest) -> AppResult<Snapshot> {
    let rows = Rows {
        limit: req.max_entries,
        offset: 0,
    };
    let follow_days = req.follow_days.unwrap_or(30);
    if !(1..=366).contains(&follow_days) {
        return Err(AppError::invalid("follow_days", "between 1 and 366 days"));
    }
    let (window, on, params, entries) = match req.list {
        ListKind::Reminders => {
            let (cal, q) =
                lists::reminders::query_from(state, req.window.as_deref(), req.on, req.cap_days)
                    .await?;
            let (_, listed) = lists::reminders::compute_kept(state, &cal, &q, rows).await?;
            let entries = listed
                .items
                .iter()
                .map(|e| {
                    entry(
                        e.customer_id,
                        e.rank,
                        e,
                        e.garments.iter().map(|g| g.garment_id).collect(),
                    )
                })
                .collect::<AppResult<Vec<_>>>()?;
            (
                Some(q.window),
                q.on,
                serde_json::json!({ "cap_days": q.cap_days }),
                entries,
            )
        }
        ListKind::StorageUpsell => {
            let q = lists::storage_upsell::query_from(
                state,
                req.window.as_deref(),
                req.on,
                req.lead_days,
                req.months,
            )
            .await?;
            let mut listed = lists::storage_upsell::compute_kept(state, &q, rows).await?;
            let active = state
                .outlook
                .active(&state.pool, &state.settings, q.on)
                .await?;
            lists::storage_upsell::with_activity(&mut listed.items, &active);
            let entries = listed
                .items
                .iter()
                .map(|e| {
                    entry(
                        e.customer_id,
                        e.rank,
                        e,
                        e.garments.iter().map(|g| g.garment_id).collect(),
                    )
                })
                .collect::<AppResult<Vec<_>>>()?;
            let params = serde_json::json!({ "lead_days": q.lead_days, "months": q.months });
            (Some(q.window), q.on, params, entries)
        }
        ListKind::SpecialSizes => {
            let q = lists::special_sizes::query_from(
                &state.settings,
                req.on,
                req.threshold,
                req.min_garments,
            )?;
            let listed = lists::special_sizes::compute_kept(state, &q, rows).await?;
            let entries = listed
                .items
                .iter()
                .map(|e| entry(e.customer_id, e.rank, e, Vec::new()))
                .collect::<AppResult<Vec<_>>>()?;
            let params =
                serde_json::json!({ "threshold": q.threshold, "min_garments": q.min_garments });
            (None, q.on, params, entries)
        }
        ListKind::AtRisk => {
            let q = lists::value::at_risk_query(
                &state.settings,
                req.on,
                req.factor,
                req.min_pickups,
                req.status.as_deref(),
            )?;
            let listed = lists::value::compute_at_risk_scored(state, &q, rows).await?;
            let entries = listed
                .items
                .iter()
                .map(|e| entry(e.customer_id, e.rank, e, Vec::new()))
                .collect::<AppResult<Vec<_>>>()?;
            let params = serde_json::json!({
                "factor": q.factor, "min_pickups": q.min_pickups, "status": q.status
            });
            (None, q.on, params, entries)
        }
    };
    let follow_until = match &window {
        Some(w) => w.ends_on.max(on),
        None => on + chrono::Duration::days(follow_days),
    };
    Ok(Snapshot {
        window,
        on,
        follow_until,
        params,
        entries,
    })
}

/// Freezes a list into a campaign. Retries with the same Idempotency-Key answer the first campaign.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", params(("Idempotency-Key" = String, Header, description = "unique per intended write; resend the same key when retrying")), request_body = CampaignRequest, responses((status = 201, body = CampaignView, links(("ShowCampaign" = (operation_id = "show_campaign", parameters(("campaign_id" = "$response.body#/campaign_id")))), ("Assign" = (operation_id = "assign", parameters(("campaign_id" = "$response.body#/campaign_id")))), ("ListEntries" = (operation_id = "list_entries", parameters(("campaign_id" = "$response.body#/campaign_id")))), ("Report" = (operation_id = "report", parameters(("campaign_id" = "$response.body#/campaign_id"))))))))]
async fn create_campaign(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    key: IdempotencyKey,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hash = key.request_hash(&body);
    let req: CampaignRequest = json_body(&headers, &body, "the campaign")?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "1 to 200 characters"));
    }
    if req.max_entries.is_some_and(|m| !(1..=100_000).contains(&m)) {
        return Err(AppError::invalid("max_entries", "between 1 and 100000"));
    }
    let tx = state.pool.begin().await?;
    let mut tx = match idempotency::claim_tx(tx, staff.staff_id, &key.0, &hash).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    let snap = snapshot(&state, &req).await?;
    let campaign_id = crate::db::new_id();
    db::insert_campaign(
        &mut tx,
        &db::NewCampaign {
            campaign_id,
            name,
            list: req.list.as_str(),
            window: snap.window.as_ref(),
            as_of: snap.on,
            follow_until: snap.follow_until,
            params: &snap.params,
            created_by: staff.staff_id,
        },
        &snap.entries,
    )
    .await?;
    let view = db::campaign(&mut *tx, campaign_id)
        .await?
        .ok_or(AppError::NotFound("campaign"))?;
    let response = idempotency::commit_created(tx, staff.staff_id, &key.0, &hash, &view).await?;
    tracing::info!(%campaign_id, entries = snap.entries.len(), "campaign created");
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", params(PageQuery), responses((status = 200, body = crate::pagination::Page<CampaignView>)))]
async fn list_campaigns(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Query(p): Query<PageQuery>,
) -> AppResult<Json<crate::pagination::Page<CampaignView>>> {
    let page = crate::pagination::PageParams {
        limit: p.limit,
        offset: p.offset,
    }
    .check()?;
    let rows = db::campaigns(&state.pool, page).await?;
    Ok(Json(page.page(rows)))
}

/// One campaign with its progress.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}", tag = "campaigns", params(("campaign_id" = Uuid, Path, description = "the campaign")), responses((status = 200, body = CampaignView)))]
async fn show_campaign(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(campaign_id): Path<Uuid>,
) -> AppResult<Json<CampaignView>> {
    db::campaign(&state.pool, campaign_id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("campaign"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    /// Dispatchers to share the entries between, in turn by rank.
    staff_ids: Vec<Uuid>,
    /// Only these customers' entries (default: every entry).
    customer_ids: Option<Vec<Uuid>>,
    /// Also move entries already assigned to someone (default: only unassigned ones).
    #[serde(default)]
    reassign: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AssignResult {
    assigned: Vec<AssignedCount>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AssignedCount {
    staff_id: Uuid,
    entries: usize,
}

/// Shares entries between dispatchers in turn by rank; the campaign's creator or a manager may do it.
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/assign", tag = "campaigns", params(("campaign_id" = Uuid, Path, description = "the campaign")), request_body = AssignRequest, responses((status = 200, body = AssignResult)))]
async fn assign(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path(campaign_id): Path<Uuid>,
    Json(req): Json<AssignRequest>,
) -> AppResult<Json<AssignResult>> {
    if req.staff_ids.is_empty() || req.staff_ids.len() > 200 {
        return Err(AppError::invalid("staff_ids", "name 1 to 200 dispatchers"));
    }
    let mut tx = state.pool.begin().await?;
    let created_by = db::lock_campaign(&mut tx, campaign_id)
        .await?
        .ok_or(AppError::NotFound("campaign"))?;
    if created_by != staff.staff_id && !staff.role.at_least(Role::Manager) {
        return Err(AppError::Forbidden {
            needed: Role::Manager,
        });
    }
    let able = db::dispatchers_among(&mut *tx, &req.staff_ids).await?;
    if let Some((i, _)) = req
        .staff_ids
        .iter()
        .enumerate()
        .find(|(_, id)| !able.contains(id))
    {
        return Err(AppError::invalid(
            format!("staff_ids[{i}]"),
            "not an active dispatcher or manager",
        ));
    }
    let entries = db::assignable(
        &mut *tx,
        campaign_id,
        req.customer_ids.as_deref(),
        req.reassign,
    )
    .await?;
    let mut counts = vec![0usize; req.staff_ids.len()];
    let mut customers = Vec::with_capacity(entries.len());
    let mut owners = Vec::with_capacity(entries.len());
    for (i, customer_id) in entries.into_iter().enumerate() {
        let k = i % req.staff_ids.len();
        counts[k] += 1;
        customers.push(customer_id);
        owners.push(req.staff_ids[k]);
    }
    db::set_assignments(&mut *tx, campaign_id, &customers, &owners).await?;
    tx.commit().await?;
    Ok(Json(AssignResult {
        assigned: req
            .staff_ids
            .iter()
            .zip(counts)
            .map(|(&staff_id, entries)| AssignedCount { staff_id, entries })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EntriesQuery {
    /// A staff id, `me`, or `unassigned` (managers; dispatchers always see their own).
    assigned_to: Option<String>,
    /// Only entries in this state: open, no_answer, call_back, booked, declined, never_contact or left.
    status: Option<String>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Whose entries the caller may see: a dispatcher only their own, a manager any.
fn owner_filter(staff: &Staff, asked: Option<&str>) -> AppResult<db::Owner> {
    if !staff.role.at_least(Role::Manager) {
        return match asked {
            None | Some("me") => Ok(db::Owner::Staff(staff.staff_id)),
            Some(id) if id.parse::<Uuid>().ok() == Some(staff.staff_id) => {
                Ok(db::Owner::Staff(staff.staff_id))
            }
            Some(_) => Err(AppError::Forbidden {
                needed: Role::Manager,
            }),
        };
    }
    match asked {
        None => Ok(db::Owner::Anyone),
        Some("me") => Ok(db::Owner::Staff(staff.staff_id)),
        Some("unassigned") => Ok(db::Owner::Unassigned),
        Some(id) => id
            .parse()
            .map(db::Owner::Staff)
            .map_err(|_| AppError::invalid("assigned_to", "a staff id, me or unassigned")),
    }
}

const STATUSES: &[&str] = &[
    "open",
    "no_answer",
    "call_back",
    "booked",
    "declined",
    "never_contact",
    "left",
];

/// A campaign's entries in rank order, with their outcome (JSON page or CSV).
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/entries", tag = "campaigns", params(("campaign_id" = Uuid, Path, description = "the campaign"), EntriesQuery), responses((status = 200, content((crate::export::ListPage<db::EntryView, EntriesMeta> = "application/json"), (String = "text/csv")))))]
async fn list_entries(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path(campaign_id): Path<Uuid>,
    headers: HeaderMap,
    Query(q): Query<EntriesQuery>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, q.format.as_deref(), q.limit, q.offset)?;
    let owner = owner_filter(&staff, q.assigned_to.as_deref())?;
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(AppError::invalid(
            "status",
            format!("'{s}' is not one of {}", STATUSES.join(", ")),
        ));
    }
    let campaign = db::campaign(&state.pool, campaign_id)
        .await?
        .ok_or(AppError::NotFound("campaign"))?;
    let listed = db::entries(
        &state.pool,
        campaign_id,
        owner,
        q.status.as_deref(),
        output.rows(),
    )
    .await?;
    export::respond_logged(
        &state,
        staff.staff_id,
        "campaign-entries",
        campaign.as_of,
        EntriesMeta { campaign },
        &output,
        listed,
    )
    .await
}

/// What a campaign's entry page belongs to.
#[derive(Serialize, utoipa::ToSchema)]
struct EntriesMeta {
    campaign: CampaignView,
}

/// Whose queue a queue page is.
#[derive(Serialize, utoipa::ToSchema)]
struct QueueMeta {
    staff_id: Uuid,
}

/// `GET /api/v1/queue`: the caller's own open entries across running campaigns, due call-backs first.
#[utoipa::path(get, path = "/api/v1/queue", tag = "campaigns", params(PageQuery), responses((status = 200, body = crate::export::ListPage<db::EntryView, QueueMeta>)))]
async fn my_queue(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, None, q.limit, q.offset)?;
    let today = state.settings.clock.today();
    let listed = db::queue(&state.pool, staff.staff_id, today, output.rows()).await?;
    export::respond_logged(
        &state,
        staff.staff_id,
        "queue",
        today,
        QueueMeta {
            staff_id: staff.staff_id,
        },
        &output,
        listed,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OutcomeRequest {
    outcome: Outcome,
    #[serde(default)]
    notes: String,
    call_back_at: Option<DateTime<Utc>>,
    booked_for: Option<NaiveDate>,
}

/// Records one call: the outcome, an interaction on the customer, a booking or do-not-contact, all at once.
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/entries/{customer_id}/outcomes", tag = "campaigns", params(("campaign_id" = Uuid, Path, description = "the campaign"), ("customer_id" = Uuid, Path, description = "the customer"), ("Idempotency-Key" = String, Header, description = "unique per intended write; resend the same key when retrying")), request_body = OutcomeRequest, responses((status = 201, body = db::EntryView)))]
async fn record_outcome(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path((campaign_id, customer_id)): Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hash = key.request_hash(&body);
    let req: OutcomeRequest = json_body(&headers, &body, "the outcome")?;
    let notes = req.notes.trim();
    if notes.chars().count() > 2000 {
        return Err(AppError::invalid("notes", "at most 2000 characters"));
    }
    let now = Utc::now();
    let today = state.settings.clock.today();
    match req.outcome {
        Outcome::CallBack => match req.call_back_at {
            None => return Err(AppError::invalid("call_back_at", "say when to call back")),
            Some(at) if at <= now || at > now + chrono::Duration::days(90) => {
                return Err(AppError::invalid("call_back_at", "within the next 90 days"))
            }
            Some(_) => {}
        },
        _ if req.call_back_at.is_some() => {
            return Err(AppError::invalid(
                "call_back_at",
                "only for a call_back outcome",
            ))
        }
        _ => {}
    }
    match req.outcome {
        Outcome::Booked => match req.booked_for {
            None => return Err(AppError::invalid("booked_for", "say the day of the pickup")),
            Some(d) if d < today || d > today + chrono::Duration::days(90) => {
                return Err(AppError::invalid(
                    "booked_for",
                    "today or within the next 90 days",
                ))
            }
            Some(_) => {}
        },
        _ if req.booked_for.is_some() => {
            return Err(AppError::invalid("booked_for", "only for a booked outcome"))
        }
        _ => {}
    }

    let tx = state.pool.begin().await?;
    let mut tx = match idempotency::claim_tx(tx, staff.staff_id, &key.0, &hash).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    let current = db::lock_entry(&mut tx, campaign_id, customer_id)
        .await?
        .ok_or(AppError::NotFound("campaign entry"))?;
    if current.assigned_to != Some(staff.staff_id) && !staff.role.at_least(Role::Manager) {
        return Err(AppError::problem(
            StatusCode::FORBIDDEN,
            "not-your-entry",
            "Not your entry",
            "this entry is assigned to another dispatcher (or to nobody); ask a manager to assign it to you",
        ));
    }
    if current.do_not_contact {
        return Err(AppError::problem(
            StatusCode::CONFLICT,
            "do-not-contact",
            "Do not contact",
            "this customer asked not to be contacted; no further calls may be recorded",
        ));
    }
    let body_text = if notes.is_empty() {
        format!(
            "Campaign \"{}\": {}",
            current.campaign_name,
            req.outcome.describe()
        )
    } else {
        format!(
            "Campaign \"{}\": {}. {notes}",
            current.campaign_name,
            req.outcome.describe()
        )
    };
    let interaction = crate::interactions::db::insert_interaction(
        &mut *tx,
        &crate::interactions::db::NewInteraction {
            customer_id,
            staff_id: Some(staff.staff_id),
            kind: crate::domain::InteractionKind::Call,
            channel: crate::domain::Channel::Phone,
            body: &body_text,
            occurred_at: now,
        },
    )
    .await?;
    db::insert_outcome(
        &mut tx,
        &db::NewOutcome {
            campaign_id,
            customer_id,
            outcome: req.outcome,
            notes,
            call_back_at: req.call_back_at,
            booked_for: req.booked_for,
            staff_id: staff.staff_id,
            interaction_id: interaction.interaction_id,
        },
    )
    .await?;
    match req.outcome {
        Outcome::Booked => {
            if let Some(day) = req.booked_for {
                db::insert_booking(&mut *tx, customer_id, day, staff.staff_id, campaign_id).await?;
            }
        }
        Outcome::NeverContact => db::set_do_not_contact(&mut *tx, customer_id).await?,
        _ => {}
    }
    let entry = db::entry(&mut *tx, campaign_id, customer_id)
        .await?
        .ok_or(AppError::NotFound("campaign entry"))?;
    let response = idempotency::commit_created(tx, staff.staff_id, &key.0, &hash, &entry).await?;
    Ok(response)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Report {
    campaign: CampaignView,
    follow_from: NaiveDate,
    follow_until: NaiveDate,
    dispatchers: Vec<ReportRow>,
    total: ReportRow,
}

/// What the campaign brought, per dispatcher: reached, booked, and pickups, garments and revenue that followed.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/report", tag = "campaigns", params(("campaign_id" = Uuid, Path, description = "the campaign")), responses((status = 200, body = Report)))]
async fn report(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Path(campaign_id): Path<Uuid>,
) -> AppResult<Json<Report>> {
    let campaign = db::campaign(&state.pool, campaign_id)
        .await?
        .ok_or(AppError::NotFound("campaign"))?;
    let from = state.settings.clock.start_of(campaign.as_of);
    let until = state
        .settings
        .clock
        .start_of(campaign.follow_until + chrono::Duration::days(1));
    let rows = db::report(&state.pool, campaign_id, from, until).await?;
    let total = rows.iter().fold(ReportRow::total(), |acc, r| acc.plus(r));
    Ok(Json(Report {
        follow_from: campaign.as_of,
        follow_until: campaign.follow_until,
        campaign,
        dispatchers: rows,
        total,
    }))
}

impl CsvRow for EntryView {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "status",
            "assigned_to",
            "call_back_at",
            "booked_for",
            "attempts",
            "last_outcome_at",
            "reason",
        ]
    }

    fn record(&self, words: &export::Wording) -> Vec<String> {
        let english = self
            .snapshot
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or_default();
        let reason = crate::lists::why::reason_cell(words, &self.snapshot, english);
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            words.word("status", &self.status),
            self.assigned_to_name.clone().unwrap_or_default(),
            self.call_back_at.map(|t| words.time(t)).unwrap_or_default(),
            self.booked_for.map(|d| d.to_string()).unwrap_or_default(),
            self.attempts.to_string(),
            self.last_outcome_at
                .map(|t| words.time(t))
                .unwrap_or_default(),
            reason,
        ]
    }

    fn do_not_contact(&self) -> bool {
        self.do_not_contact
    }
}
