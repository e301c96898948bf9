//! Season-change reminders: who still has known, in-use garments of the outgoing season not yet sent this window.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::maintained::{self, Freshness, Ranked, Reading, Source};
use super::outlook::{CustomerOutlook, Outlook};
use super::round3;
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::money::money;
use crate::domain::{Category, GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows, Wording};
use crate::state::{AppState, Settings};

/// A garment counts as known when it was cleaned within this many days before the window.
pub const IN_USE_DAYS: i64 = 730;

/// What the reminder list is computed for.
#[derive(Debug, Clone)]
pub struct ReminderQuery {
    pub(crate) window: SeasonWindow,
    pub(crate) on: NaiveDate,
    pub(crate) cap_days: i64,
}

impl ReminderQuery {
    /// The window the list is for.
    pub fn window(&self) -> &SeasonWindow {
        &self.window
    }

    /// The list day.
    pub fn on(&self) -> NaiveDate {
        self.on
    }
}

/// A garment the customer has not sent yet this window.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OutstandingGarment {
    #[serde(skip)]
    pub(crate) customer_id: Uuid,
    pub(crate) garment_id: Uuid,
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) brand: Option<String>,
    pub(crate) size: Option<String>,
    pub(crate) material: Option<Material>,
    pub(crate) colour: Option<String>,
    pub(crate) last_cleaned_at: Option<DateTime<Utc>>,
    pub(crate) last_price_cents: Option<i64>,
    /// P(still owned and worn), from how long it has not come back while its owner kept coming.
    #[sqlx(skip)]
    pub(crate) p_in_use: f64,
}

/// When this customer usually sends this season's clothes, from their own unprompted put-aways in past windows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct UsualTiming {
    /// Median days after the window opened.
    pub offset_days: i64,
    /// That offset applied to this window.
    pub usual_date: NaiveDate,
    /// Past windows with an unprompted put-away the median is taken over.
    pub windows_seen: usize,
}

/// One customer to call, with everything the caller needs and why they are where they are.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReminderEntry {
    pub(crate) rank: i64,
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) outstanding: i64,
    /// What the outstanding garments were last cleaned for, in all.
    pub(crate) expected_value_cents: i64,
    /// The same, each garment weighted by its chance of still being worn.
    pub(crate) in_use_value_cents: i64,
    /// Chance the customer is still a customer, knowing they have not put the season away yet this window
    /// (rounded to 0.001).
    pub(crate) p_active: f64,
    /// Chance they would not send the season's clothes by the window's end without a call (rounded to 0.001).
    pub(crate) p_not_sent: f64,
    /// What a call is expected to add: p_active × in_use_value × p_not_sent. The list's order.
    pub(crate) call_value_cents: i64,
    pub(crate) garments: Vec<OutstandingGarment>,
    pub(crate) usual: Option<UsualTiming>,
    pub(crate) tier: Option<String>,
    pub(crate) open_complaint: bool,
    pub(crate) reason: String,
}

/// One candidate's figures, before the page is cut.
#[derive(Clone)]
pub struct Candidate {
    customer_id: Uuid,
    outstanding: i64,
    expected_value_cents: i64,
    in_use_value: f64,
    outlook: CustomerOutlook,
    call_value_cents: i64,
}

impl Ranked for Candidate {
    /// By what a call is expected to add, then the garments' value, then their number (then customer id).
    type Key = (Reverse<i64>, Reverse<i64>, Reverse<i64>);

    fn customer_id(&self) -> Uuid {
        self.customer_id
    }

    fn key(&self) -> Self::Key {
        (
            Reverse(self.call_value_cents),
            Reverse(self.expected_value_cents),
            Reverse(self.outstanding),
        )
    }
}

fn class_name(class: SeasonClass) -> &'static str {
    match class {
        SeasonClass::Winter => "winter",
        SeasonClass::Summer => "summer",
        SeasonClass::SpringAutumn => "spring/autumn",
        SeasonClass::AllSeason => "all-season",
    }
}

/// Computes the ranked reminder list: by what a call is expected to add, then the garments' value, then their
/// number, then customer id.
pub async fn compute(
    pool: &PgPool,
    settings: &Settings,
    outlook: &Outlook,
    q: &ReminderQuery,
    rows: Rows,
) -> AppResult<Listed<ReminderEntry>> {
    let all = candidates(pool, settings, outlook, q, None).await?;
    let (total, page) = maintained::ranked_page(all, rows);
    finish(pool, settings, outlook, q, rows, total, page, None).await
}

/// The contacts (calls, visits, pickups) that keep a customer off the list of day `on`: those in `(since, until]`,
/// the list day and the `cap_days - 1` days before it (called 14 days ago is callable again under a 14-day cap).
pub fn contact_span(
    settings: &Settings,
    on: NaiveDate,
    cap_days: i64,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let until = settings.clock.start_of(on + chrono::Duration::days(1));
    (
        until - chrono::Duration::days(cap_days.clamp(0, 365)),
        until,
    )
}

/// The bounds of the garments on record for `window` on `on`: last cleaned in `[since, window opens)` as of the
/// end of the list day, `(since, window opens, list day's end)`, as `db::unstored_as_of` takes them.
pub(super) fn on_record_span(
    settings: &Settings,
    window: &SeasonWindow,
    on: NaiveDate,
) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let window_start = settings.clock.start_of(window.starts_on);
    (
        window_start - chrono::Duration::days(IN_USE_DAYS),
        window_start,
        settings.clock.start_of(on + chrono::Duration::days(1)),
    )
}

/// Every candidate (or those of `only`) scored with `outlook`, in no particular order.
async fn candidates(
    db: impl sqlx::PgExecutor<'_>,
    settings: &Settings,
    outlook: &Outlook,
    q: &ReminderQuery,
    only: Option<&[Uuid]>,
) -> AppResult<Vec<Candidate>> {
    let (in_use_since, window_start, day_end) = on_record_span(settings, &q.window, q.on);
    let (contact_since, _) = contact_span(settings, q.on, q.cap_days);
    let filter = match only {
        Some(_) => "g.season_class = $1 and g.customer_id = any($7)",
        None => "g.season_class = $1",
    };
    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.kind, g.material",
        filter,
        ("$2", "$3", "$4"),
        true,
    );
    let (only_skip, only_booking) = if only.is_some() {
        ("and customer_id = any($7)", "and b.customer_id = any($7)")
    } else {
        ("", "")
    };
    let sql = format!(
        "with skip as (
             select customer_id from customer where do_not_contact {only_skip}
             union
             select customer_id from interaction
              where kind in ('call', 'visit') and occurred_at > $6 and occurred_at <= $4
                {only_skip}
             union
             select customer_id from pickup
              where collected_at > $6 and collected_at <= $4 {only_skip}
             union
             select b.customer_id from pickup_booking b
              where b.booked_for >= $5 {only_booking}
                and not exists (select 1 from pickup p where p.customer_id = b.customer_id
                                   and p.collected_at >= b.created_at)
         )
         select c.customer_id, c.kind, c.material, c.cleaned_at, count(*), sum(c.price_cents)::bigint
           from ({cleaned}) c
          where c.customer_id not in (select customer_id from skip)
          group by c.customer_id, c.kind, c.material, c.cleaned_at"
    );
    // Garments of one kind and material cleaned in one visit share their estimate: one row for them all.
    type Group = (
        Uuid,
        GarmentKind,
        Option<Material>,
        DateTime<Utc>,
        i64,
        Option<i64>,
    );
    let mut query = sqlx::query_as::<_, Group>(&sql)
        .bind(q.window.outgoing)
        .bind(in_use_since)
        .bind(window_start)
        .bind(day_end)
        .bind(q.on)
        .bind(contact_since);
    if let Some(ids) = only {
        query = query.bind(ids);
    }
    let garments = query.persistent(false).fetch_all(db).await?;
    let mut candidates: HashMap<Uuid, Candidate> = HashMap::new();
    for (customer_id, kind, material, cleaned_at, count, price) in garments {
        let c = candidates.entry(customer_id).or_insert_with(|| Candidate {
            customer_id,
            outstanding: 0,
            expected_value_cents: 0,
            in_use_value: 0.0,
            outlook: outlook.customer(customer_id),
            call_value_cents: 0,
        });
        let price = price.unwrap_or(0);
        let cleaned_on = settings.clock.local_day(cleaned_at);
        c.outstanding += count;
        c.expected_value_cents += price;
        c.in_use_value +=
            price as f64 * outlook.p_in_use(kind, material, cleaned_on, c.outlook.last_seen);
    }
    Ok(candidates
        .into_values()
        .map(|mut c| {
            c.call_value_cents =
                (c.outlook.p_active * c.in_use_value * c.outlook.p_not_sent).round() as i64;
            c
        })
        .collect())
}

/// The page's entries in full: who they are, their garments, tier (`kept_tiers`, else read) and reason.
#[allow(clippy::too_many_arguments)]
async fn finish(
    pool: &PgPool,
    settings: &Settings,
    outlook: &Outlook,
    q: &ReminderQuery,
    rows: Rows,
    total: i64,
    page: Vec<Candidate>,
    kept_tiers: Option<HashMap<Uuid, (String, f64)>>,
) -> AppResult<Listed<ReminderEntry>> {
    let (in_use_since, window_start, day_end) = on_record_span(settings, &q.window, q.on);
    let ids: Vec<Uuid> = page.iter().map(|c| c.customer_id).collect();

    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.garment_id, g.category, g.kind, g.brand, g.size, g.material, g.colour",
        "g.season_class = $2 and g.customer_id = any($1)",
        ("$3", "$4", "$5"),
        true,
    );
    let sql = format!(
        "select c.customer_id, c.garment_id, c.category, c.kind, c.brand, c.size, c.material, c.colour,
                c.cleaned_at as last_cleaned_at, c.price_cents as last_price_cents
           from ({cleaned}) c
          order by c.customer_id, c.price_cents desc nulls last, c.garment_id"
    );
    // The page's people, tiers and garments are independent: asked at once, on three connections.
    let (people, tiers, garments) = tokio::try_join!(
        super::db::people(pool, &ids),
        async {
            match kept_tiers {
                Some(t) => Ok(t),
                None => super::db::tiers(pool, settings, q.on, &ids).await,
            }
        },
        async {
            sqlx::query_as::<_, OutstandingGarment>(&sql)
                .bind(&ids)
                .bind(q.window.outgoing)
                .bind(in_use_since)
                .bind(window_start)
                .bind(day_end)
                .persistent(false)
                .fetch_all(pool)
                .await
        },
    )?;
    let mut people = people;
    let mut tiers = tiers;
    let mut by_customer: HashMap<Uuid, Vec<OutstandingGarment>> = HashMap::new();
    for g in garments {
        by_customer.entry(g.customer_id).or_default().push(g);
    }

    let items = page
        .into_iter()
        .zip(ranks(rows))
        .map(|(c, rank)| {
            let (name, phone, address, open_complaint) =
                people.remove(&c.customer_id).unwrap_or_default();
            let usual = c.outlook.usual_day.map(|day| {
                let offset_days = day.round() as i64;
                UsualTiming {
                    offset_days,
                    usual_date: q.window.starts_on + chrono::Duration::days(offset_days),
                    windows_seen: c.outlook.sends_seen,
                }
            });
            let mut garments = by_customer.remove(&c.customer_id).unwrap_or_default();
            for g in &mut garments {
                g.p_in_use = round3(g.last_cleaned_at.map_or(1.0, |at| {
                    outlook.p_in_use(
                        g.kind,
                        g.material,
                        settings.clock.local_day(at),
                        c.outlook.last_seen,
                    )
                }));
            }
            let mut entry = ReminderEntry {
                rank,
                customer_id: c.customer_id,
                name,
                phone,
                address,
                outstanding: c.outstanding,
                expected_value_cents: c.expected_value_cents,
                in_use_value_cents: c.in_use_value.round() as i64,
                p_active: round3(c.outlook.p_active),
                p_not_sent: round3(c.outlook.p_not_sent),
                call_value_cents: c.call_value_cents,
                garments,
                usual,
                tier: tiers.remove(&c.customer_id).map(|(tier, _)| tier),
                open_complaint,
                reason: String::new(),
            };
            entry.reason = reason(&entry, q);
            entry
        })
        .collect();
    Ok(Listed { total, items })
}

/// What the garments are, most numerous kind first: "coat x2, down jacket".
fn kinds(garments: &[OutstandingGarment]) -> String {
    super::why::by_count(garments.iter().map(|g| g.kind.name().replace('_', " ")))
        .into_iter()
        .map(|(k, n)| if n > 1 { format!("{k} x{n}") } else { k })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Today's list as kept: its candidates read with one fit of the estimates.
pub struct ReminderSource {
    settings: Arc<Settings>,
    outlook: Arc<Outlook>,
    q: ReminderQuery,
}

impl Source for ReminderSource {
    type Entry = Candidate;

    fn read<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        only: Option<&'a [Uuid]>,
    ) -> Reading<'a, Candidate> {
        Box::pin(candidates(
            conn,
            &self.settings,
            &self.outlook,
            &self.q,
            only,
        ))
    }

    fn compare(&self, kept: &Self) -> Freshness {
        if Arc::ptr_eq(&self.outlook, &kept.outlook) {
            Freshness::Same
        } else {
            Freshness::Refitted
        }
    }
}

/// Which kept list: the day, the window (as the calendar has it now) and the contact cap.
pub type KeptKey = (NaiveDate, String, i64);

/// The list as the service serves it: from the kept estimates for its day and window. Today's list is kept
/// ranked between requests and brought up to date from the customers written to since; a past day's is
/// computed afresh.
pub async fn compute_kept(
    state: &AppState,
    cal: &Calendar,
    q: &ReminderQuery,
    rows: Rows,
) -> AppResult<(Arc<Outlook>, Listed<ReminderEntry>)> {
    let outlook = state
        .outlook
        .get(&state.pool, &state.settings, cal, &q.window, q.on)
        .await?;
    if q.on != state.settings.clock.today() {
        let listed = compute(&state.pool, &state.settings, &outlook, q, rows).await?;
        return Ok((outlook, listed));
    }
    let slot = state
        .outlook
        .reminders
        .slot((q.on, format!("{:?}", q.window), q.cap_days));
    let source = Arc::new(ReminderSource {
        settings: state.settings.clone(),
        outlook,
        q: q.clone(),
    });
    let page = maintained::serve(state, q.on, slot, source, None, rows).await?;
    let outlook = page.source.outlook.clone();
    let listed = finish(
        &state.pool,
        &state.settings,
        &outlook,
        q,
        rows,
        page.total,
        page.entries,
        Some(page.tiers),
    )
    .await?;
    Ok((outlook, listed))
}

/// Why the entry is where it is, in a dispatcher's words (English, for CSVs; the app words it from the fields).
fn reason(e: &ReminderEntry, q: &ReminderQuery) -> String {
    let mut why = format!(
        "{} {} garment{} outstanding ({}), about {} still worn (of {})",
        e.outstanding,
        class_name(q.window.outgoing),
        if e.outstanding == 1 { "" } else { "s" },
        kinds(&e.garments),
        money(e.in_use_value_cents),
        money(e.expected_value_cents)
    );
    if let Some(u) = &e.usual {
        let late = (q.on - u.usual_date).num_days();
        if late > 0 {
            why.push_str(&format!(
                "; usually sends them by {} ({late} days ago)",
                u.usual_date
            ));
        } else {
            why.push_str(&format!("; usually sends them around {}", u.usual_date));
        }
    }
    why.push_str(&format!(
        "; {:.0}% likely still a customer; a call adds about {}",
        e.p_active * 100.0,
        money(e.call_value_cents)
    ));
    if let Some(tier) = &e.tier {
        why.push_str(&format!("; {tier} customer"));
    }
    if e.open_complaint {
        why.push_str("; has an open complaint");
    }
    why
}

impl CsvRow for ReminderEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "outstanding",
            "expected_value",
            "in_use_value",
            "p_active",
            "p_not_sent",
            "call_value",
            "usual_date",
            "tier",
            "open_complaint",
            "garments",
            "reason",
        ]
    }

    fn record(&self, words: &Wording) -> Vec<String> {
        let garments: Vec<String> = self
            .garments
            .iter()
            .map(|g| words.branded(&g.kind.name(), g.brand.as_deref()))
            .collect();
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.outstanding.to_string(),
            money(self.expected_value_cents),
            money(self.in_use_value_cents),
            format!("{:.3}", self.p_active),
            format!("{:.3}", self.p_not_sent),
            money(self.call_value_cents),
            self.usual
                .as_ref()
                .map(|u| u.usual_date.to_string())
                .unwrap_or_default(),
            words.word("tier", self.tier.as_deref().unwrap_or_default()),
            words.yes_no(self.open_complaint),
            words.join(&garments),
            super::why::reason_cell(words, self, &self.reason),
        ]
    }
}

/// Builds the query from request parameters; shared with campaign creation.
pub async fn query_from(
    state: &AppState,
    window: Option<&str>,
    on: Option<NaiveDate>,
    cap_days: Option<i64>,
) -> AppResult<(Calendar, ReminderQuery)> {
    let on = super::list_day(&state.settings, on)?;
    let cap_days = cap_days.unwrap_or(state.settings.contact_cap_days);
    if !(0..=365).contains(&cap_days) {
        return Err(AppError::invalid("cap_days", "between 0 and 365 days"));
    }
    let cal = Calendar::load(&state.pool).await?;
    let window = cal.pick("window", window, on, None)?;
    if window.year < on.year() - 1 || window.year > on.year() + 1 {
        return Err(AppError::invalid(
            "window",
            "must be within a year of the list day",
        ));
    }
    Ok((
        cal,
        ReminderQuery {
            window,
            on,
            cap_days,
        },
    ))
}
