//! What the wardrobes on record are expected to bring in a put-away window: unprompted, and what calls could add.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::outlook::{FitArgs, Outlook};
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::{GarmentKind, Material};
use crate::error::AppResult;
use crate::state::{AppState, Settings};

/// The window's outgoing-season garments on record, summed over every customer with the reminder estimates:
/// a bottom-up figure beside the weekly forecast, and the most a full round of calls could add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WardrobeOutlook {
    /// Garments of the outgoing class cleaned in the two years before the window opened, not since, not in
    /// storage: what the reminder lists draw on (garments the company never saw are not counted).
    pub on_record: i64,
    /// Customers holding them.
    pub customers: i64,
    /// Of those garments, how many are expected to come by the window's end without a call:
    /// Σ P(active) × P(still worn) × (1 − p_not_sent), rounded.
    pub expected_unprompted: i64,
    /// How many would come only after a call, at most (customers who may be called): Σ P(active) × P(still
    /// worn) × p_not_sent, rounded.
    pub call_potential: i64,
    /// Their value at last cleaning prices, in fen.
    pub call_potential_cents: i64,
}

/// A window's count as served: the figures and when the estimates behind them were made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Counted {
    /// When the reminder estimates used were made (they are remade every ten minutes or so).
    pub fitted_at: DateTime<Utc>,
    /// The counts.
    pub figures: WardrobeOutlook,
    /// Set when past windows of this kind had too few put-aways to tell who sends without a call: then nobody is
    /// expected to, and every garment counts as needing a call.
    pub timing_assumed: Option<String>,
}

/// The count of `window` on `on`, kept beside the reminder estimates and remade from the newest of them every
/// ten minutes, in a task of its own so it never delays the lists' fit; a 503 while the first one is made
/// (after `wait`: zero for a caller that must not wait).
pub async fn kept(
    state: &AppState,
    cal: &Calendar,
    window: &SeasonWindow,
    on: NaiveDate,
    wait: Option<Duration>,
) -> AppResult<Arc<Counted>> {
    let args = FitArgs {
        pool: state.pool.clone(),
        settings: (*state.settings).clone(),
        cal: cal.clone(),
        window: window.clone(),
        cache: state.outlook.clone(),
    };
    state
        .outlook
        .wardrobes
        .get_within(
            (on, window.id.clone()),
            move || {
                let a = args.clone();
                async move {
                    let outlook = a
                        .cache
                        .get_within(&a.pool, &a.settings, &a.cal, &a.window, on, None)
                        .await?;
                    let figures =
                        wardrobe_outlook(&a.pool, &a.settings, &outlook, &a.window, on).await?;
                    Ok(Counted {
                        fitted_at: outlook.summary.fitted_at,
                        figures,
                        timing_assumed: outlook.summary.timing_assumed.clone(),
                    })
                }
            },
            wait,
        )
        .await
}

/// One group of a customer's outgoing garments that share an estimate.
#[derive(Debug, Clone, Copy)]
pub struct Group {
    /// The customer's chance of still being one, knowing they have not put the season away yet.
    pub p_active: f64,
    /// Their chance of not sending a garment without a call by the window's end.
    pub p_not_sent: f64,
    /// Each garment's chance of still being owned and worn.
    pub p_in_use: f64,
    /// Garments in the group.
    pub count: i64,
    /// Their cleaning value, in fen.
    pub value_cents: i64,
    /// Whether the customer may be called at all.
    pub callable: bool,
}

/// Running sums before rounding.
#[derive(Debug, Default)]
pub struct Sums {
    on_record: i64,
    customers: std::collections::HashSet<Uuid>,
    unprompted: f64,
    potential: f64,
    potential_cents: f64,
}

impl Sums {
    /// Adds a customer's group of garments.
    pub fn add(&mut self, customer_id: Uuid, g: &Group) {
        let worn = g.p_active * g.p_in_use;
        self.on_record += g.count;
        self.customers.insert(customer_id);
        self.unprompted += worn * (1.0 - g.p_not_sent) * g.count as f64;
        if g.callable {
            self.potential += worn * g.p_not_sent * g.count as f64;
            self.potential_cents += worn * g.p_not_sent * g.value_cents as f64;
        }
    }

    /// The rounded figures.
    pub fn finish(&self) -> WardrobeOutlook {
        WardrobeOutlook {
            on_record: self.on_record,
            customers: self.customers.len() as i64,
            expected_unprompted: self.unprompted.round() as i64,
            call_potential: self.potential.round() as i64,
            call_potential_cents: self.potential_cents.round() as i64,
        }
    }
}

/// Sums every customer's outgoing garments on record for `window` on `on` with the fitted estimates; streamed,
/// so a million customers' garments are never held at once.
pub async fn wardrobe_outlook(
    pool: &PgPool,
    settings: &Settings,
    outlook: &Outlook,
    window: &SeasonWindow,
    on: NaiveDate,
) -> sqlx::Result<WardrobeOutlook> {
    let (in_use_since, window_start, day_end) =
        super::reminders::on_record_span(settings, window, on);
    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.kind, g.material",
        "g.season_class = $1",
        ("$2", "$3", "$4"),
        true,
    );
    let sql = format!(
        "select c.customer_id, c.kind, c.material, c.cleaned_at, count(*), sum(c.price_cents)::bigint,
                not k.do_not_contact
           from ({cleaned}) c join customer k on k.customer_id = c.customer_id
          group by c.customer_id, c.kind, c.material, c.cleaned_at, k.do_not_contact"
    );
    type Row = (
        Uuid,
        GarmentKind,
        Option<Material>,
        DateTime<Utc>,
        i64,
        Option<i64>,
        bool,
    );
    let mut rows = sqlx::query_as::<_, Row>(&sql)
        .bind(window.outgoing)
        .bind(in_use_since)
        .bind(window_start)
        .bind(day_end)
        .persistent(false)
        .fetch(pool);
    // A customer's estimate is worked out once, however many groups they have.
    let mut seen: HashMap<Uuid, (f64, f64, Option<NaiveDate>)> = HashMap::new();
    let mut sums = Sums::default();
    while let Some((customer_id, kind, material, cleaned_at, count, price, callable)) =
        rows.try_next().await?
    {
        let (p_active, p_not_sent, last_seen) = *seen.entry(customer_id).or_insert_with(|| {
            let c = outlook.customer(customer_id);
            (c.p_active, c.p_worn_not_sent, c.last_seen)
        });
        let cleaned_on = settings.clock.local_day(cleaned_at);
        sums.add(
            customer_id,
            &Group {
                p_active,
                p_not_sent,
                p_in_use: outlook.p_in_use(kind, material, cleaned_on, last_seen),
                count,
                value_cents: price.unwrap_or(0),
                callable,
            },
        );
    }
    Ok(sums.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garments_split_between_coming_anyway_and_what_a_call_adds() {
        let mut s = Sums::default();
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let group = |p_active, p_not_sent, count, callable| Group {
            p_active,
            p_not_sent,
            p_in_use: 0.5,
            count,
            value_cents: count * 10_000,
            callable,
        };
        // a: 4 garments, half worn, 0.8 still a customer, 0.25 would not come unprompted.
        s.add(a, &group(0.8, 0.25, 4, true));
        // b: do-not-contact, 2 garments: counted as coming or not, never as a call's potential.
        s.add(b, &group(1.0, 1.0, 2, false));
        s.add(a, &group(0.8, 0.25, 1, true));
        let w = s.finish();
        assert_eq!(w.on_record, 7);
        assert_eq!(w.customers, 2);
        // 0.8 × 0.5 × 0.75 × 5 = 1.5 -> 2; b sends nothing unprompted.
        assert_eq!(w.expected_unprompted, 2);
        // 0.8 × 0.5 × 0.25 × 5 = 0.5 -> 1 (rounded half away from zero); b is not callable.
        assert_eq!(w.call_potential, 1);
        assert_eq!(w.call_potential_cents, 5_000);
    }
}
