//! `doorstep bench quality`: the reminder list scored against a seed's ground truth, beside a spend-ranked list
//! and a list ranked by the truth itself.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use sqlx::PgPool;
use uuid::Uuid;

use crate::calendar::Calendar;
use crate::export::Rows;
use crate::lists::outlook;
use crate::lists::reminders::{self, ReminderQuery};
use crate::seed::truth::{self, CustomerTruth};
use crate::state::Settings;

/// What to score.
#[derive(Debug, Clone)]
pub struct QualityBench {
    /// The truth file `doorstep seed --truth` wrote for this database.
    pub truth: PathBuf,
    /// How many of each list's first entries are scored.
    pub top: usize,
    /// The window scored, when the truth's day lies in more than one.
    pub window: Option<String>,
    /// Where to write every entry of the list with its estimates and its truth (CSV), if anywhere.
    pub entries: Option<PathBuf>,
}

/// What one customer truly holds for the window on the list day.
#[derive(Debug, Default, Clone, Copy)]
struct Worth {
    /// Outgoing-season garments still owned and not sent yet this window, valued at their cleaning price.
    outstanding: i64,
    /// The part of it the household would not send unprompted by the window's end: what a call can add.
    incremental: i64,
    /// The part of `outstanding` in garments the company has recorded.
    seen: i64,
}

/// One list's scores.
struct Score {
    name: &'static str,
    of: ListScore,
}

/// How one list's first entries score against the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListScore {
    /// Share of the entries with outgoing-season garments truly still owned and not sent.
    pub precision: f64,
    /// Their true outstanding value over the true-value list's.
    pub value: f64,
    /// The part of it the households would not send unprompted, over the true-value list's.
    pub incremental: f64,
    /// Entries who had already left.
    pub gone: usize,
}

/// The scores and the printed report of one list day.
#[derive(Debug, Clone)]
pub struct Report {
    /// The report as printed.
    pub text: String,
    /// The reminder list's scores.
    pub reminders: ListScore,
    /// The spend-ranked list's scores.
    pub spend: ListScore,
    /// The window's count: recorded garments expected to come without a call by its end.
    pub expected_unprompted: i64,
    /// Recorded garments the households truly send unprompted by then.
    pub sent_unprompted: usize,
}

fn score(
    name: &'static str,
    list: &[Uuid],
    worth: &HashMap<Uuid, Worth>,
    churned: &HashSet<Uuid>,
    best_value: i64,
    best_incremental: i64,
) -> Score {
    let w = |c: &Uuid| worth.get(c).copied().unwrap_or_default();
    let n = list.len().max(1) as f64;
    Score {
        name,
        of: ListScore {
            precision: list.iter().filter(|c| w(c).outstanding > 0).count() as f64 / n,
            value: list.iter().map(|c| w(c).outstanding).sum::<i64>() as f64
                / best_value.max(1) as f64,
            incremental: list.iter().map(|c| w(c).incremental).sum::<i64>() as f64
                / best_incremental.max(1) as f64,
            gone: list.iter().filter(|c| churned.contains(c)).count(),
        },
    }
}

fn truth_worth(
    t: &CustomerTruth,
    window: &crate::calendar::SeasonWindow,
    on: chrono::NaiveDate,
    sent: &HashSet<Uuid>,
    recorded: &HashSet<Uuid>,
) -> Worth {
    if t.churned_on.is_some_and(|d| d <= on) {
        return Worth::default();
    }
    let unprompted: HashSet<Uuid> = t
        .future
        .iter()
        .filter(|v| v.day >= on && v.day <= window.ends_on)
        .flat_map(|v| v.garments.iter().copied())
        .collect();
    let mut w = Worth::default();
    for g in &t.garments {
        if g.season_class == window.outgoing && g.owned_on(on) && !sent.contains(&g.garment_id) {
            w.outstanding += g.price_cents;
            if recorded.contains(&g.garment_id) {
                w.seen += g.price_cents;
            }
            if !unprompted.contains(&g.garment_id) {
                w.incremental += g.price_cents;
            }
        }
    }
    w
}

/// Scores the lists and returns the printed report.
pub async fn run(pool: &PgPool, b: &QualityBench) -> anyhow::Result<String> {
    Ok(report(pool, b).await?.text)
}

/// Scores the lists: the figures and the printed report.
pub async fn report(pool: &PgPool, b: &QualityBench) -> anyhow::Result<Report> {
    let file = std::fs::File::open(&b.truth)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", b.truth.display()))?;
    let (header, households) = truth::read(std::io::BufReader::new(file))?;
    let on = header.today;
    let settings = Settings::default();
    let cal = Calendar::load(pool).await?;
    let window = cal
        .pick("window", b.window.as_deref(), on, None)
        .map_err(|e| anyhow::anyhow!("no season window for {on}: {e:?}"))?;
    let top = b.top.max(1);

    // Who may be called at all, by the rule every list shares: not do-not-contact, no call, visit or pickup
    // within the contact cap.
    let (since, contact_until) = reminders::contact_span(&settings, on, settings.contact_cap_days);
    let until = settings.clock.start_of(on);
    let callable: HashSet<Uuid> = sqlx::query_scalar(
        "select c.customer_id from customer c
          where not c.do_not_contact
            and not exists (select 1 from interaction i where i.customer_id = c.customer_id
                               and i.kind in ('call', 'visit') and i.occurred_at > $1 and i.occurred_at <= $2)
            and not exists (select 1 from pickup p where p.customer_id = c.customer_id
                               and p.collected_at > $1 and p.collected_at <= $2)",
    )
    .bind(since)
    .bind(contact_until)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let sent: HashSet<Uuid> = sqlx::query_scalar(
        "select distinct pl.garment_id from pickup_line pl join pickup p using (customer_id, pickup_id)
          where p.collected_at >= $1 and p.collected_at < $2",
    )
    .bind(settings.clock.start_of(window.starts_on))
    .bind(until)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();

    let recorded: HashSet<Uuid> = sqlx::query_scalar("select garment_id from garment")
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    let worth: HashMap<Uuid, Worth> = households
        .values()
        .filter(|t| callable.contains(&t.customer_id))
        .map(|t| (t.customer_id, truth_worth(t, &window, on, &sent, &recorded)))
        .collect();
    let churned: HashSet<Uuid> = households
        .values()
        .filter(|t| t.churned_on.is_some_and(|d| d <= on))
        .map(|t| t.customer_id)
        .collect();
    let ranked_by = |key: fn(&Worth) -> i64| -> Vec<Uuid> {
        let mut all: Vec<(&Uuid, &Worth)> = worth.iter().collect();
        all.sort_by_key(|(c, w)| (std::cmp::Reverse(key(w)), **c));
        all.into_iter().take(top).map(|(c, _)| *c).collect()
    };
    let oracle = ranked_by(|w| w.outstanding);
    let best_value: i64 = oracle.iter().map(|c| worth[c].outstanding).sum();
    let best_incremental: i64 = oracle.iter().map(|c| worth[c].incremental).sum();

    let q = ReminderQuery {
        window: window.clone(),
        on,
        cap_days: settings.contact_cap_days,
    };
    // The whole list once: its first entries are the page a dispatcher sees, all of them feed the experiment.
    let outlook = outlook::fit(pool, &settings, &cal, &window, on)
        .await
        .map_err(|e| anyhow::anyhow!("fitting the reminder estimates: {e:?}"))?;
    let everyone = reminders::compute(pool, &settings, &outlook, &q, Rows::ALL)
        .await
        .map_err(|e| anyhow::anyhow!("computing the reminder list: {e:?}"))?;
    let reminder_ids: Vec<Uuid> = everyone
        .items
        .iter()
        .take(top)
        .map(|e| e.customer_id)
        .collect();
    let spend: Vec<Uuid> = sqlx::query_scalar(
        // A POS campaign's ranking: spend over the last months, decayed to the list day (91-day time constant,
        // the rollup's own), so customers who stopped coming fall down it.
        "select s.customer_id from customer_stats s where s.customer_id = any($1)
          order by s.recent_spend * decay_factor(s.last_pickup_at, $3, 91) desc, s.customer_id limit $2",
    )
    .bind(callable.iter().copied().collect::<Vec<Uuid>>())
    .bind(top as i64)
    .bind(until)
    .fetch_all(pool)
    .await?;

    // The same entries in the order of the README's first rule (outstanding value as last cleaned), to show what
    // the estimates change.
    let mut nominal: Vec<(i64, i64, Uuid)> = everyone
        .items
        .iter()
        .map(|e| (e.expected_value_cents, e.outstanding, e.customer_id))
        .collect();
    nominal.sort_by_key(|(v, n, c)| (std::cmp::Reverse(*v), std::cmp::Reverse(*n), *c));
    let nominal: Vec<Uuid> = nominal.into_iter().take(top).map(|(_, _, c)| c).collect();
    // Each estimate's share: the entries re-ranked by value x P(active), and by in-use value x P(active).
    let by = |key: &dyn Fn(&reminders::ReminderEntry) -> f64| -> Vec<Uuid> {
        let mut all: Vec<(f64, Uuid)> = everyone
            .items
            .iter()
            .map(|e| (key(e), e.customer_id))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(top).map(|(_, c)| c).collect()
    };
    let active_value = by(&|e| e.expected_value_cents as f64 * e.p_active);
    let active_in_use = by(&|e| e.in_use_value_cents as f64 * e.p_active);

    let scores = [
        score(
            "reminders",
            &reminder_ids,
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "reminders by outstanding value (the first rule)",
            &nominal,
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "  ablation: value x P(active)",
            &active_value,
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "  ablation: in-use value x P(active)",
            &active_in_use,
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "spend-ranked",
            &spend,
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "true value (full knowledge)",
            &oracle,
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "true value of recorded garments",
            &ranked_by(|w| w.seen),
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
        score(
            "true incremental value",
            &ranked_by(|w| w.incremental),
            &worth,
            &churned,
            best_value,
            best_incremental,
        ),
    ];
    if let Some(path) = &b.entries {
        write_entries(path, &everyone.items, &worth, &churned)?;
    }
    let mut out = String::new();
    writeln!(
        out,
        "bench quality: list day {on}, window {} ({} to {}, outgoing {:?}), {} households, {} callable, top {top}",
        window.name,
        window.starts_on,
        window.ends_on,
        window.outgoing,
        households.len(),
        callable.len()
    )?;
    writeln!(
        out,
        "| list | precision@{top} | value@{top} | incremental@{top} | gone in top {top} |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for s in &scores {
        writeln!(
            out,
            "| {} | {:.3} | {:.3} | {:.3} | {} |",
            s.name, s.of.precision, s.of.value, s.of.incremental, s.of.gone
        )?;
    }
    writeln!(
        out,
        "value@{top} and incremental@{top} are shares of what the true-value list reaches (best value {:.0} yuan, \
         its incremental value {:.0} yuan).",
        best_value as f64 / 100.0,
        best_incremental as f64 / 100.0
    )?;
    // The forecast's bottom-up count of the window against what the households truly send unprompted.
    let (mut sent_all, mut sent_recorded) = (0usize, 0usize);
    for t in households.values() {
        let outgoing: HashSet<Uuid> = t
            .garments
            .iter()
            .filter(|g| g.season_class == window.outgoing)
            .map(|g| g.garment_id)
            .collect();
        let sent: HashSet<&Uuid> = t
            .future
            .iter()
            .filter(|v| v.day >= on && v.day <= window.ends_on)
            .flat_map(|v| v.garments.iter())
            .filter(|g| outgoing.contains(g))
            .collect();
        sent_all += sent.len();
        sent_recorded += sent.iter().filter(|g| recorded.contains(g)).count();
    }
    let w =
        &crate::lists::expected::wardrobe_outlook(pool, &settings, &outlook, &window, on).await?;
    writeln!(
        out,
        "Wardrobes on record (the intake forecast's count of the open window): {} outgoing garments with {} \
         customers; expected without a call by {}: {}, truly sent unprompted: {} of the recorded garments ({} \
         counting those the company never saw); a round of calls could add at most {}.",
        w.on_record,
        w.customers,
        window.ends_on,
        w.expected_unprompted,
        sent_recorded,
        sent_all,
        w.call_potential
    )?;
    let unseen = |ids: &[Uuid]| {
        let (all, seen) = ids
            .iter()
            .filter_map(|c| worth.get(c))
            .fold((0, 0), |(a, s), w| (a + w.outstanding, s + w.seen));
        1.0 - seen as f64 / all.max(1) as f64
    };
    writeln!(
        out,
        "Share of the true outstanding value in garments the company never recorded: {:.2} in the true-value \
         list's top {top}, {:.2} in the reminders'.",
        unseen(&oracle),
        unseen(&reminder_ids)
    )?;
    Ok(Report {
        text: out,
        // The first and fifth rows of the table above.
        reminders: scores[0].of,
        spend: scores[4].of,
        expected_unprompted: w.expected_unprompted,
        sent_unprompted: sent_recorded,
    })
}

/// Every entry of the list, its estimates beside its truth, for studying where the estimates miss.
fn write_entries(
    path: &std::path::Path,
    items: &[reminders::ReminderEntry],
    worth: &HashMap<Uuid, Worth>,
    churned: &HashSet<Uuid>,
) -> anyhow::Result<()> {
    let mut out = String::from(
        "rank,customer_id,outstanding,expected_value_cents,in_use_value_cents,p_active,p_not_sent,\
         call_value_cents,windows_seen,true_outstanding_cents,true_recorded_cents,true_incremental_cents,churned\n",
    );
    for e in items {
        let w = worth.get(&e.customer_id).copied().unwrap_or_default();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            e.rank,
            e.customer_id,
            e.outstanding,
            e.expected_value_cents,
            e.in_use_value_cents,
            e.p_active,
            e.p_not_sent,
            e.call_value_cents,
            e.usual.as_ref().map_or(0, |u| u.windows_seen),
            w.outstanding,
            w.seen,
            w.incremental,
            churned.contains(&e.customer_id)
        )?;
    }
    std::fs::write(path, out).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}
