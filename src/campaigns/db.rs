//! SQL for campaigns, their entries, call outcomes, bookings and the follow-up report.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::Outcome;
use crate::calendar::SeasonWindow;
use crate::export::{Listed, Rows};

/// A campaign with its progress counts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CampaignView {
    pub(crate) campaign_id: Uuid,
    pub(crate) name: String,
    pub(crate) list: String,
    pub(crate) window_kind: Option<String>,
    pub(crate) window_year: Option<i32>,
    pub(crate) as_of: NaiveDate,
    pub(crate) follow_until: NaiveDate,
    pub(crate) params: serde_json::Value,
    pub(crate) created_by: Uuid,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) entries: i64,
    pub(crate) unassigned: i64,
    pub(crate) open: i64,
    pub(crate) booked: i64,
}

const CAMPAIGN: &str = "
    select c.campaign_id, c.name, c.list, c.window_kind, c.window_year, c.as_of, c.follow_until, c.params,
           c.created_by, c.created_at,
           count(e.customer_id) as entries,
           count(e.customer_id) filter (where e.assigned_to is null) as unassigned,
           count(e.customer_id) filter (where e.status in ('open', 'no_answer', 'call_back')) as open,
           count(e.customer_id) filter (where e.status = 'booked') as booked
      from campaign c left join campaign_entry e on e.campaign_id = c.campaign_id";

/// A campaign to create.
pub struct NewCampaign<'a> {
    pub(crate) campaign_id: Uuid,
    pub(crate) name: &'a str,
    pub(crate) list: &'a str,
    pub(crate) window: Option<&'a SeasonWindow>,
    pub(crate) as_of: NaiveDate,
    pub(crate) follow_until: NaiveDate,
    pub(crate) params: &'a serde_json::Value,
    pub(crate) created_by: Uuid,
}

/// One frozen list row to store as an entry.
pub struct NewEntry {
    pub(crate) customer_id: Uuid,
    pub(crate) rank: i32,
    pub(crate) snapshot: serde_json::Value,
    pub(crate) garment_ids: Vec<Uuid>,
}

/// Inserts the campaign and all its entries (one statement for the entries).
pub async fn insert_campaign(
    tx: &mut PgConnection,
    c: &NewCampaign<'_>,
    entries: &[NewEntry],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into campaign (campaign_id, name, list, window_kind, window_year, window_start, as_of,
                               follow_until, params, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(c.campaign_id)
    .bind(c.name)
    .bind(c.list)
    .bind(c.window.map(|w| w.kind.as_str()))
    .bind(c.window.map(|w| w.year))
    .bind(c.window.map(|w| w.starts_on))
    .bind(c.as_of)
    .bind(c.follow_until)
    .bind(c.params)
    .bind(c.created_by)
    .execute(&mut *tx)
    .await?;
    let customers: Vec<Uuid> = entries.iter().map(|e| e.customer_id).collect();
    let ranks: Vec<i32> = entries.iter().map(|e| e.rank).collect();
    let snapshots: Vec<&serde_json::Value> = entries.iter().map(|e| &e.snapshot).collect();
    // Garment ids travel as one text per entry: Postgres cannot unnest a ragged uuid[][] .
    let garments: Vec<String> = entries
        .iter()
        .map(|e| {
            let ids: Vec<String> = e.garment_ids.iter().map(Uuid::to_string).collect();
            format!("{{{}}}", ids.join(","))
        })
        .collect();
    sqlx::query(
        "insert into campaign_entry (campaign_id, customer_id, rank, snapshot, garment_ids)
         select $1, x.customer_id, x.rank, x.snapshot, x.garments::uuid[]
           from unnest($2::uuid[], $3::int[], $4::jsonb[], $5::text[]) as x (customer_id, rank, snapshot, garments)",
    )
    .bind(c.campaign_id)
    .bind(customers)
    .bind(ranks)
    .bind(snapshots)
    .bind(garments)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One campaign with its entry counts.
pub async fn campaign(
    db: impl PgExecutor<'_>,
    campaign_id: Uuid,
) -> sqlx::Result<Option<CampaignView>> {
    sqlx::query_as(&format!(
        "{CAMPAIGN} where c.campaign_id = $1 group by c.campaign_id"
    ))
    .bind(campaign_id)
    .fetch_optional(db)
    .await
}

/// Every campaign, newest first, with entry counts.
pub async fn campaigns(
    db: impl PgExecutor<'_>,
    page: crate::pagination::PageRequest,
) -> sqlx::Result<Vec<CampaignView>> {
    sqlx::query_as(&format!(
        "{CAMPAIGN} group by c.campaign_id order by c.created_at desc, c.campaign_id limit $1 offset $2"
    ))
    .bind(page.fetch())
    .bind(page.offset)
    .fetch_all(db)
    .await
}

/// Locks the campaign against concurrent assignment; returns its creator.
pub async fn lock_campaign(tx: &mut PgConnection, campaign_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select created_by from campaign where campaign_id = $1 for update")
        .bind(campaign_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Which of `ids` are active staff who may work call lists.
pub async fn dispatchers_among(db: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select staff_id from staff where staff_id = any($1) and active and role in ('dispatcher', 'manager', 'admin')",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Someone entries can be assigned to, as the office app lists them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Assignee {
    pub(crate) staff_id: Uuid,
    pub(crate) display_name: String,
    pub(crate) role: String,
}

/// Every active dispatcher, manager and administrator, by name.
pub async fn assignees(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Assignee>> {
    sqlx::query_as(
        "select staff_id, display_name, role::text as role from staff
          where active and role in ('dispatcher', 'manager', 'admin')
          order by display_name, staff_id",
    )
    .fetch_all(db)
    .await
}

/// Entries to (re)assign, in rank order.
pub async fn assignable(
    db: impl PgExecutor<'_>,
    campaign_id: Uuid,
    customers: Option<&[Uuid]>,
    reassign: bool,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select customer_id from campaign_entry
          where campaign_id = $1 and ($2::uuid[] is null or customer_id = any($2))
            and ($3 or assigned_to is null)
            and status in ('open', 'no_answer', 'call_back')
          order by rank, customer_id",
    )
    .bind(campaign_id)
    .bind(customers)
    .bind(reassign)
    .fetch_all(db)
    .await
}

/// Assigns entries to staff (campaign entry -> staff member).
pub async fn set_assignments(
    db: impl PgExecutor<'_>,
    campaign_id: Uuid,
    customers: &[Uuid],
    owners: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(
        "update campaign_entry e set assigned_to = x.owner
           from unnest($2::uuid[], $3::uuid[]) as x (customer_id, owner)
          where e.campaign_id = $1 and e.customer_id = x.customer_id",
    )
    .bind(campaign_id)
    .bind(customers)
    .bind(owners)
    .execute(db)
    .await?;
    Ok(())
}

/// An entry as a dispatcher works it: the frozen list row plus the customer's current contact details.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EntryView {
    pub(crate) campaign_id: Uuid,
    pub(crate) campaign_name: String,
    pub(crate) customer_id: Uuid,
    pub(crate) rank: i32,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) do_not_contact: bool,
    pub(crate) status: String,
    pub(crate) assigned_to: Option<Uuid>,
    /// The assigned dispatcher's name, for people reading an export.
    pub(crate) assigned_to_name: Option<String>,
    pub(crate) call_back_at: Option<DateTime<Utc>>,
    pub(crate) booked_for: Option<NaiveDate>,
    pub(crate) attempts: i32,
    pub(crate) last_outcome_at: Option<DateTime<Utc>>,
    pub(crate) snapshot: serde_json::Value,
    #[serde(skip)]
    #[sqlx(default)]
    pub(crate) total: i64,
}

const ENTRY: &str = "
    select e.campaign_id, ca.name as campaign_name, e.customer_id, e.rank, c.name, c.phone, c.address,
           c.do_not_contact, e.status, e.assigned_to, st.display_name as assigned_to_name, e.call_back_at,
           e.booked_for, e.attempts, e.last_outcome_at, e.snapshot, count(*) over () as total
      from campaign_entry e
      join campaign ca on ca.campaign_id = e.campaign_id
      join customer c on c.customer_id = e.customer_id
      left join staff st on st.staff_id = e.assigned_to";

/// Whose entries to show.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// Every entry.
    Anyone,
    /// Entries nobody works yet.
    Unassigned,
    /// Entries of one staff member.
    Staff(Uuid),
}

/// A page of a campaign's entries by rank.
pub async fn entries(
    db: impl PgExecutor<'_>,
    campaign_id: Uuid,
    owner: Owner,
    status: Option<&str>,
    rows: Rows,
) -> sqlx::Result<Listed<EntryView>> {
    let (unassigned, staff) = match owner {
        Owner::Anyone => (false, None),
        Owner::Unassigned => (true, None),
        Owner::Staff(id) => (false, Some(id)),
    };
    let items: Vec<EntryView> = sqlx::query_as(&format!(
        "{ENTRY}
          where e.campaign_id = $1 and (not $2 or e.assigned_to is null)
            and ($3::uuid is null or e.assigned_to = $3) and ($4::text is null or e.status = $4)
          order by e.rank, e.customer_id
          limit $5 offset $6"
    ))
    .bind(campaign_id)
    .bind(unassigned)
    .bind(staff)
    .bind(status)
    .bind(rows.limit)
    .bind(rows.offset)
    .fetch_all(db)
    .await?;
    Ok(Listed {
        total: items.first().map_or(0, |e| e.total),
        items,
    })
}

/// A dispatcher's work: open entries of campaigns still running, due call-backs first, then by rank.
pub async fn queue(
    db: impl PgExecutor<'_>,
    staff_id: Uuid,
    today: NaiveDate,
    rows: Rows,
) -> sqlx::Result<Listed<EntryView>> {
    let items: Vec<EntryView> = sqlx::query_as(&format!(
        "{ENTRY}
          where e.assigned_to = $1 and ca.follow_until >= $2 and not c.do_not_contact
            and e.status in ('open', 'no_answer', 'call_back')
          order by (e.status = 'call_back' and e.call_back_at <= now()) desc,
                   (e.status = 'call_back') asc, e.call_back_at, ca.created_at, e.rank, e.customer_id
          limit $3 offset $4"
    ))
    .bind(staff_id)
    .bind(today)
    .bind(rows.limit)
    .bind(rows.offset)
    .fetch_all(db)
    .await?;
    Ok(Listed {
        total: items.first().map_or(0, |e| e.total),
        items,
    })
}

/// One entry of a campaign.
pub async fn entry(
    db: impl PgExecutor<'_>,
    campaign_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<Option<EntryView>> {
    sqlx::query_as(&format!(
        "{ENTRY} where e.campaign_id = $1 and e.customer_id = $2"
    ))
    .bind(campaign_id)
    .bind(customer_id)
    .fetch_optional(db)
    .await
}

/// The entry as locked for recording an outcome.
#[derive(Debug, sqlx::FromRow)]
pub struct LockedEntry {
    pub(crate) campaign_name: String,
    pub(crate) assigned_to: Option<Uuid>,
    pub(crate) do_not_contact: bool,
}

/// Locks the entry and the customer row, so two outcomes for one entry are recorded one after the other.
pub async fn lock_entry(
    tx: &mut PgConnection,
    campaign_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<Option<LockedEntry>> {
    sqlx::query_as(
        "select ca.name as campaign_name, e.assigned_to, c.do_not_contact
           from campaign_entry e
           join campaign ca on ca.campaign_id = e.campaign_id
           join customer c on c.customer_id = e.customer_id
          where e.campaign_id = $1 and e.customer_id = $2
          for update of e, c",
    )
    .bind(campaign_id)
    .bind(customer_id)
    .fetch_optional(&mut *tx)
    .await
}

/// A call outcome to record.
pub struct NewOutcome<'a> {
    pub(crate) campaign_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) outcome: Outcome,
    pub(crate) notes: &'a str,
    pub(crate) call_back_at: Option<DateTime<Utc>>,
    pub(crate) booked_for: Option<NaiveDate>,
    pub(crate) staff_id: Uuid,
    pub(crate) interaction_id: Uuid,
}

/// Appends the outcome and moves the entry to its new status.
pub async fn insert_outcome(tx: &mut PgConnection, o: &NewOutcome<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into campaign_outcome (campaign_id, customer_id, outcome_no, outcome, notes, call_back_at,
                                       booked_for, staff_id, interaction_id)
         select $1, $2, coalesce(max(outcome_no), 0) + 1, $3, $4, $5, $6, $7, $8
           from campaign_outcome where campaign_id = $1 and customer_id = $2",
    )
    .bind(o.campaign_id)
    .bind(o.customer_id)
    .bind(o.outcome)
    .bind(o.notes)
    .bind(o.call_back_at)
    .bind(o.booked_for)
    .bind(o.staff_id)
    .bind(o.interaction_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update campaign_entry
            set status = $3, call_back_at = $4, booked_for = $5, attempts = attempts + 1, last_outcome_at = now()
          where campaign_id = $1 and customer_id = $2",
    )
    .bind(o.campaign_id)
    .bind(o.customer_id)
    .bind(o.outcome)
    .bind(o.call_back_at)
    .bind(o.booked_for)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Books a pickup for a day (from a call outcome).
pub async fn insert_booking(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    day: NaiveDate,
    staff_id: Uuid,
    campaign_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into pickup_booking (customer_id, booking_id, booked_for, created_by, source)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(customer_id)
    .bind(crate::db::new_id())
    .bind(day)
    .bind(staff_id)
    .bind(format!("campaign:{campaign_id}"))
    .execute(db)
    .await?;
    Ok(())
}

/// Marks a customer never to be contacted again.
pub async fn set_do_not_contact(db: impl PgExecutor<'_>, customer_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update customer set do_not_contact = true, do_not_contact_at = coalesce(do_not_contact_at, now()),
                updated_at = now()
          where customer_id = $1",
    )
    .bind(customer_id)
    .execute(db)
    .await?;
    Ok(())
}

/// One dispatcher's results (or the unassigned entries', or the total).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReportRow {
    pub(crate) staff_id: Option<Uuid>,
    pub(crate) display_name: Option<String>,
    pub(crate) entries: i64,
    pub(crate) worked: i64,
    pub(crate) reached: i64,
    pub(crate) booked: i64,
    pub(crate) declined: i64,
    pub(crate) never_contact: i64,
    /// Entries whose customer said they no longer use the company.
    pub(crate) said_left: i64,
    /// Pickups after the entry's first call and within the follow-up period that held at least one of the
    /// entry's listed garments (any pickup, for lists without garments).
    pub pickups: i64,
    /// Distinct listed garments those pickups held (every garment, for lists without garments).
    pub(crate) garments_cleaned: i64,
    /// What those pickups' listed-garment lines cost.
    pub(crate) listed_revenue_cents: i64,
    /// What those whole visits cost, unlisted garments included.
    pub(crate) visit_revenue_cents: i64,
}

impl ReportRow {
    /// An empty total row, to add dispatchers' rows to.
    pub fn total() -> Self {
        ReportRow {
            staff_id: None,
            display_name: Some("total".into()),
            entries: 0,
            worked: 0,
            reached: 0,
            booked: 0,
            declined: 0,
            never_contact: 0,
            said_left: 0,
            pickups: 0,
            garments_cleaned: 0,
            listed_revenue_cents: 0,
            visit_revenue_cents: 0,
        }
    }

    /// This total with one dispatcher's row added.
    pub fn plus(mut self, r: &ReportRow) -> Self {
        self.entries += r.entries;
        self.worked += r.worked;
        self.reached += r.reached;
        self.booked += r.booked;
        self.declined += r.declined;
        self.never_contact += r.never_contact;
        self.said_left += r.said_left;
        self.pickups += r.pickups;
        self.garments_cleaned += r.garments_cleaned;
        self.listed_revenue_cents += r.listed_revenue_cents;
        self.visit_revenue_cents += r.visit_revenue_cents;
        self
    }
}

/// Per-dispatcher figures of a campaign.
pub async fn report(
    db: impl PgExecutor<'_>,
    campaign_id: Uuid,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<ReportRow>> {
    sqlx::query_as(
        "select e.assigned_to as staff_id, s.display_name,
                count(*) as entries,
                count(*) filter (where e.attempts > 0) as worked,
                count(*) filter (where exists (select 1 from campaign_outcome o where o.campaign_id = e.campaign_id
                                                  and o.customer_id = e.customer_id and o.outcome <> 'no_answer')) as reached,
                count(*) filter (where exists (select 1 from campaign_outcome o where o.campaign_id = e.campaign_id
                                                  and o.customer_id = e.customer_id and o.outcome = 'booked')) as booked,
                count(*) filter (where e.status = 'declined') as declined,
                count(*) filter (where e.status = 'never_contact') as never_contact,
                count(*) filter (where e.status = 'left') as said_left,
                coalesce(sum(x.pickups), 0)::bigint as pickups,
                coalesce(sum(x.garments), 0)::bigint as garments_cleaned,
                coalesce(sum(x.listed_revenue), 0)::bigint as listed_revenue_cents,
                coalesce(sum(x.visit_revenue), 0)::bigint as visit_revenue_cents
           from campaign_entry e
           left join staff s on s.staff_id = e.assigned_to
           left join lateral (
               -- Credit starts at the entry's first call: a pickup before anyone called is not the campaign's.
               select min(o.recorded_at) as at_ from campaign_outcome o
                where o.campaign_id = e.campaign_id and o.customer_id = e.customer_id
           ) first_call on true
           left join lateral (
               select count(distinct m.pickup_id) as pickups,
                      count(distinct m.garment_id) filter (where m.listed) as garments,
                      sum(m.price_cents) filter (where m.listed) as listed_revenue,
                      sum(m.price_cents) as visit_revenue
                 from (select pl.pickup_id, pl.garment_id, pl.price_cents,
                              cardinality(e.garment_ids) = 0 or pl.garment_id = any(e.garment_ids) as listed,
                              bool_or(cardinality(e.garment_ids) = 0 or pl.garment_id = any(e.garment_ids))
                                  over (partition by pl.pickup_id) as credited
                         from pickup p
                         join pickup_line pl on pl.customer_id = p.customer_id and pl.pickup_id = p.pickup_id
                        where p.customer_id = e.customer_id
                          and p.collected_at >= greatest($2, first_call.at_) and p.collected_at < $3) m
                where m.credited
           ) x on first_call.at_ is not null
          where e.campaign_id = $1
          group by e.assigned_to, s.display_name
          order by s.display_name nulls last",
    )
    .bind(campaign_id)
    .bind(from)
    .bind(until)
    .fetch_all(db)
    .await
}
