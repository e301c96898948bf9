//! The wardrobe lists (reminders, storage upsell, special sizes, customer value, at-risk) as JSON pages or CSV exports.

pub mod reminders;
pub mod special_sizes;
pub mod storage_upsell;
pub mod value;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use serde::Serialize;

use crate::app::{AppState, Settings};
use crate::error::{AppError, AppResult};
use crate::pagination::PageParams;

// List queries are sent unprepared (`persistent(false)`): a cached generic plan chosen for a 50-row page
// is a poor plan for a 5,000-id export, and planning costs little next to these queries.

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/lists/reminders", get(reminders::handler))
        .route("/api/v1/lists/storage-upsell", get(storage_upsell::handler))
        .route("/api/v1/lists/special-sizes", get(special_sizes::handler))
        .route("/api/v1/lists/customer-value", get(value::value_handler))
        .route("/api/v1/lists/at-risk", get(value::at_risk_handler))
}

/// Which rows a list query returns: one page, or everything (for CSV exports and campaign snapshots).
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    pub limit: Option<i64>,
    pub offset: i64,
}

impl Rows {
    pub const ALL: Rows = Rows {
        limit: None,
        offset: 0,
    };
}

/// A computed list: its rows and how many there are in all.
#[derive(Debug)]
pub struct Listed<T> {
    pub total: i64,
    pub items: Vec<T>,
}

/// A list row that can also be a CSV record.
pub trait CsvRow {
    fn header() -> &'static [&'static str];
    fn record(&self) -> Vec<String>;
    /// Do-not-contact customers never leave the service in an export.
    fn do_not_contact(&self) -> bool {
        false
    }
}

/// How the caller wants the list: a JSON page or a CSV export of every row.
pub enum Output {
    Json(crate::pagination::PageRequest),
    Csv,
}

impl Output {
    /// CSV when `format=csv` or the Accept header asks for text/csv; otherwise a checked JSON page.
    pub fn from_request(
        headers: &HeaderMap,
        format: Option<&str>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> AppResult<Output> {
        let accept_csv = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"));
        match format {
            Some("csv") => return Ok(Output::Csv),
            Some("json") => {}
            Some(_) => return Err(AppError::invalid("format", "json or csv")),
            None if accept_csv => return Ok(Output::Csv),
            None => {}
        }
        Ok(Output::Json(PageParams { limit, offset }.check()?))
    }

    pub fn rows(&self) -> Rows {
        match self {
            Output::Json(p) => Rows {
                limit: Some(p.limit),
                offset: p.offset,
            },
            Output::Csv => Rows::ALL,
        }
    }
}

/// A JSON page of a list with what it was computed for.
#[derive(Debug, Serialize)]
pub struct ListPage<T, M> {
    pub list: &'static str,
    pub on: NaiveDate,
    #[serde(flatten)]
    pub meta: M,
    pub total: i64,
    pub items: Vec<T>,
    pub limit: i64,
    pub offset: i64,
    pub next_offset: Option<i64>,
}

/// Answers a computed list as the caller asked: a JSON page with `meta`, or a CSV attachment.
pub fn respond<T: Serialize + CsvRow, M: Serialize>(
    list: &'static str,
    on: NaiveDate,
    meta: M,
    output: &Output,
    listed: Listed<T>,
) -> AppResult<Response> {
    match output {
        Output::Csv => csv_response(list, on, &listed.items),
        Output::Json(page) => {
            let next = page.offset + listed.items.len() as i64;
            Ok(axum::Json(ListPage {
                list,
                on,
                meta,
                total: listed.total,
                limit: page.limit,
                offset: page.offset,
                next_offset: (next < listed.total).then_some(next),
                items: listed.items,
            })
            .into_response())
        }
    }
}

/// Makes a cell safe to open in a spreadsheet: text that a spreadsheet would run as a formula gets a `'` first.
pub fn csv_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

fn csv_response<T: CsvRow>(list: &str, on: NaiveDate, items: &[T]) -> AppResult<Response> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
        out.write_record(T::header())?;
        for item in items.iter().filter(|i| !i.do_not_contact()) {
            out.write_record(item.record().iter().map(|c| csv_cell(c)))?;
        }
        out.flush()?;
        Ok(())
    };
    write(&mut out).map_err(|e| AppError::Internal(e.into()))?;
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv buffer: {e}")))?;
    let disposition = format!("attachment; filename=\"{list}-{on}.csv\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.into()))?,
            ),
        ],
        body,
    )
        .into_response())
}

/// SQL selecting `columns` of the garments `g` narrowed by `filter` whose last cleaning before `day_end` fell in
/// `[from, to)` and that were not in storage then, with that cleaning as `cleaned_at` (and its price as
/// `price_cents` when `with_price`). The garment rollups answer for garments not cleaned since the list day; the
/// few cleaned after it are looked up in their pickup history, so a list asked for a past day is the list of that
/// day. Stored garments are dropped by a hashed `not in` (garment ids are random UUIDs, unique across customers).
pub fn unstored_as_of(
    columns: &str,
    filter: &str,
    (from, to, day_end): (&str, &str, &str),
    with_price: bool,
) -> String {
    let (price_now, price_then) = if with_price {
        (", g.last_price_cents as price_cents", ", l.price_cents")
    } else {
        ("", "")
    };
    let filter = format!("{filter} and g.garment_id not in ({})", held_on(day_end));
    format!(
        "select {columns}, g.last_cleaned_at as cleaned_at{price_now}
           from garment g
          where {filter} and g.last_cleaned_at >= {from} and g.last_cleaned_at < least({to}, {day_end})
         union all
         select {columns}, l.collected_at{price_then}
           from garment g
           cross join lateral (
               select p.collected_at, pl.price_cents
                 from pickup_line pl
                 join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
                where pl.customer_id = g.customer_id and pl.garment_id = g.garment_id
                  and p.collected_at < {day_end}
                order by p.collected_at desc, pl.line_no desc
                limit 1) l
          where {filter} and g.last_cleaned_at >= {day_end}
            and l.collected_at >= {from} and l.collected_at < {to}"
    )
}

/// SQL selecting the ids of the garments in storage on the list day: on an order taken before `day_end` and not
/// released by then.
fn held_on(day_end: &str) -> String {
    format!(
        "select si.garment_id
           from storage_item si
           join storage_order o on o.customer_id = si.customer_id and o.order_id = si.order_id
          where o.created_at < {day_end} and (si.released_at is null or si.released_at >= {day_end})"
    )
}

/// The list day: the one asked for, else today in the company's time; refused far from today.
pub fn list_day(settings: &Settings, on: Option<NaiveDate>) -> AppResult<NaiveDate> {
    let today = settings.today();
    let day = on.unwrap_or(today);
    if (day - today).num_days().abs() > 5 * 366 {
        return Err(AppError::invalid(
            "on",
            "must be within five years of today",
        ));
    }
    Ok(day)
}

/// Money as a person reads it: 123456 cents is "1,234.56".
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", c % 100)
}

/// Value tier and yearly spend of some customers on a day (the quintile cut points still come from the whole base).
pub async fn tiers(
    pool: &sqlx::PgPool,
    settings: &Settings,
    on: NaiveDate,
    ids: &[uuid::Uuid],
) -> sqlx::Result<std::collections::HashMap<uuid::Uuid, (String, f64)>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let day_end = settings.start_of(on + chrono::Duration::days(1));
    let rows: Vec<(uuid::Uuid, String, f64)> =
        sqlx::query_as("select customer_id, tier, yearly_spend_cents from customer_value($1, $2)")
            .bind(day_end)
            .bind(ids)
            .persistent(false)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, tier, spend)| (id, (tier, spend)))
        .collect())
}

/// Row numbers of a page, from 1 for the first row of the list.
pub fn ranks(rows: Rows) -> impl Iterator<Item = i64> {
    (rows.offset + 1)..
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+86 21 5555"), "'+86 21 5555");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("Wang Fang"), "Wang Fang");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(123456), "1,234.56");
        assert_eq!(money(100_000_000), "1,000,000.00");
        assert_eq!(money(-250), "-2.50");
    }
}
