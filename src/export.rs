//! The list output kit shared by every list and export: JSON pages, CSV attachments with defused cells.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::pagination::PageParams;

/// Which rows a list query returns: one page, or everything (for CSV exports and campaign snapshots).
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    pub(crate) limit: Option<i64>,
    pub(crate) offset: i64,
}

impl Rows {
    /// Every row.
    pub const ALL: Rows = Rows {
        limit: None,
        offset: 0,
    };

    /// The rows to skip and the most to take, as slice bounds.
    pub fn span(self) -> (usize, usize) {
        (
            usize::try_from(self.offset).unwrap_or(usize::MAX),
            self.limit
                .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(0)),
        )
    }
}

/// A computed list: its rows and how many there are in all.
#[derive(Debug)]
pub struct Listed<T> {
    pub(crate) total: i64,
    pub(crate) items: Vec<T>,
}

impl<T> Listed<T> {
    /// The rows, for a caller outside the service (a test or a bench).
    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}

/// A list row that can also be a CSV record.
pub trait CsvRow {
    /// The CSV column names.
    fn header() -> &'static [&'static str];
    /// One row's cells, in header order, worded for the export's reader.
    fn record(&self, words: &Wording) -> Vec<String>;
    /// Do-not-contact customers never leave the service in an export.
    fn do_not_contact(&self) -> bool {
        false
    }
}

/// How the caller wants the list: a JSON page or a CSV export of every row.
pub enum Output {
    /// One page of JSON.
    Json(crate::pagination::PageRequest),
    /// Every row as CSV, worded in the language the request asked for (see [`Wording`]).
    Csv(Option<Lang>),
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
        let csv = || Output::Csv(crate::i18n::asked(headers));
        match format {
            Some("csv") => return Ok(csv()),
            Some("json") => {}
            Some(_) => return Err(AppError::invalid("format", "json or csv")),
            None if accept_csv => return Ok(csv()),
            None => {}
        }
        Ok(Output::Json(PageParams { limit, offset }.check()?))
    }

    /// Which rows to compute for this output.
    pub fn rows(&self) -> Rows {
        match self {
            Output::Json(p) => Rows {
                limit: Some(p.limit),
                offset: p.offset,
            },
            Output::Csv(_) => Rows::ALL,
        }
    }
}

/// A JSON page of a list with what it was computed for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListPage<T, M> {
    pub(crate) list: &'static str,
    pub(crate) on: NaiveDate,
    #[serde(flatten)]
    pub(crate) meta: M,
    pub(crate) total: i64,
    pub(crate) items: Vec<T>,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
    pub(crate) next_offset: Option<i64>,
}

/// Answers a computed list as the caller asked: a JSON page with `meta`, or a CSV attachment.
pub fn respond<T: Serialize + CsvRow, M: Serialize>(
    list: &'static str,
    on: NaiveDate,
    meta: M,
    output: &Output,
    listed: Listed<T>,
    offset: FixedOffset,
) -> AppResult<Response> {
    match output {
        Output::Csv(lang) => csv_response(list, Wording::new(*lang, on, offset), &listed.items),
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

/// [`respond`], recording a CSV export (the whole list leaves the building) in the access log first.
pub async fn respond_logged<T: Serialize + CsvRow, M: Serialize>(
    state: &crate::state::AppState,
    staff_id: uuid::Uuid,
    list: &'static str,
    on: NaiveDate,
    meta: M,
    output: &Output,
    listed: Listed<T>,
) -> AppResult<Response> {
    if matches!(output, Output::Csv(_)) {
        crate::access::note_export(state, staff_id, list, listed.items.len()).await?;
    }
    respond(list, on, meta, output, listed, state.settings.clock.offset)
}

/// Makes a cell safe to open in a spreadsheet: text that a spreadsheet would run as a formula gets a `'` first.
pub fn csv_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// The UTF-8 byte-order mark every CSV export starts with: without it Excel reads the file in the machine's
/// legacy code page and garbles Chinese names (the importer accepts it).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How an export's cells are worded: as the API carries them (ids, English reasons) for a program or an English
/// reader, or in the reader's language for one who asked for another (a dispatcher downloading from the Chinese
/// page opens the list in Excel and reads it there).
#[derive(Debug, Clone, Copy)]
pub struct Wording {
    lang: Option<Lang>,
    on: NaiveDate,
    offset: FixedOffset,
}

impl Wording {
    /// The wording for a request that asked for `lang` (`None`: it named none), of a list computed for `on`, times
    /// shown at the company's UTC `offset`.
    pub fn new(lang: Option<Lang>, on: NaiveDate, offset: FixedOffset) -> Wording {
        Wording {
            lang: lang.filter(|l| *l != Lang::En),
            on,
            offset,
        }
    }

    /// The language cells are worded in, when it is not the API's own.
    pub fn lang(&self) -> Option<Lang> {
        self.lang
    }

    /// The day the list was computed for (lateness in a reason is counted to it).
    pub fn on(&self) -> NaiveDate {
        self.on
    }

    /// A column's name: the catalogue's `csv.<id>`, or the id itself (programs keep these).
    pub fn column(&self, id: &'static str) -> &'static str {
        self.lang
            .and_then(|lang| crate::i18n::get(lang, &format!("csv.{id}")))
            .unwrap_or(id)
    }

    /// A vocabulary value (`tier`, `gold`) as the reader reads it: the catalogue's `group.value`, else as stored.
    pub fn word(&self, group: &str, value: &str) -> String {
        self.lang
            .and_then(|lang| crate::i18n::word(lang, group, value))
            .unwrap_or(value)
            .to_owned()
    }

    /// A yes-or-no cell: `true` / `false` for programs, the reader's words otherwise.
    pub fn yes_no(&self, yes: bool) -> String {
        match self.lang {
            Some(lang) => {
                crate::i18n::text(lang, if yes { "csv.yes" } else { "csv.no" }).to_owned()
            }
            None => yes.to_string(),
        }
    }

    /// A catalogue text with its `{name}` parts filled, in the reader's language (English when none was asked).
    pub fn text(&self, key: &str, parts: &[(&str, &str)]) -> String {
        crate::i18n::filled(self.lang.unwrap_or(Lang::En), key, parts)
    }

    /// The company-time day an instant falls on (a pickup at 07:00 in Shanghai is that day, not the day before).
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.offset).date_naive()
    }

    /// An instant in company time, to the minute, as people in the office read it.
    pub fn time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// A day as the reader writes it: `2026-04-10`, or `2026年4月10日`.
    pub fn date(&self, day: NaiveDate) -> String {
        crate::i18n::day(self.lang.unwrap_or(Lang::En), day)
    }

    /// A garment's kind with its brand as entered: `coat (Max Mara)`, `大衣（Max Mara）`.
    pub fn branded(&self, kind: &str, brand: Option<&str>) -> String {
        let kind = self.word("kind", kind);
        match (brand, self.lang) {
            (None, _) => kind,
            (Some(b), Some(Lang::ZhCn)) => format!("{kind}（{b}）"),
            (Some(b), _) => format!("{kind} ({b})"),
        }
    }

    /// Words in a run (`coat x2, down jacket`), joined as the reader's language joins them.
    pub fn series(&self, parts: &[String]) -> String {
        parts.join(match self.lang {
            Some(Lang::ZhCn) => "、",
            _ => ", ",
        })
    }

    /// Several values in one cell, joined as the reader's language joins a list.
    pub fn join(&self, parts: &[String]) -> String {
        parts.join(match self.lang {
            Some(Lang::ZhCn) => "；",
            _ => "; ",
        })
    }
}

fn csv_response<T: CsvRow>(list: &str, words: Wording, items: &[T]) -> AppResult<Response> {
    let on = words.on();
    let mut out = csv::Writer::from_writer(UTF8_BOM.to_vec());
    let write = |out: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
        out.write_record(T::header().iter().map(|id| words.column(id)))?;
        for item in items.iter().filter(|i| !i.do_not_contact()) {
            out.write_record(item.record(&words).iter().map(|c| csv_cell(c)))?;
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
    fn times_and_days_are_the_companys() {
        let shanghai = FixedOffset::east_opt(8 * 3600).expect("test data");
        let on = NaiveDate::from_ymd_opt(2026, 4, 10).expect("test data");
        let early = "2026-04-09T23:30:00Z"
            .parse::<DateTime<Utc>>()
            .expect("test data");
        for lang in [None, Some(Lang::En), Some(Lang::ZhCn)] {
            let words = Wording::new(lang, on, shanghai);
            assert_eq!(words.time(early), "2026-04-10 07:30");
            assert_eq!(words.day_of(early), on);
        }
        let zh = Wording::new(Some(Lang::ZhCn), on, shanghai);
        assert_eq!(zh.date(on), "2026年4月10日");
        assert_eq!(zh.word("tier", "gold"), "金牌");
        assert_eq!(zh.word("tier", ""), "");
        assert_eq!(zh.branded("coat", Some("Max Mara")), "大衣（Max Mara）");
        let en = Wording::new(Some(Lang::En), on, shanghai);
        assert_eq!(en.date(on), "2026-04-10");
        assert_eq!(en.word("tier", "gold"), "gold");
        assert_eq!(en.yes_no(true), "true");
        assert_eq!(en.branded("coat", Some("Max Mara")), "coat (Max Mara)");
    }
}
