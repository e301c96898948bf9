//! Pure parsing of the import files: headers, cells (prices, times, booleans, vocabulary) and checked rows.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::de::value::StrDeserializer;
use serde::de::DeserializeOwned;

use crate::customers::db::CustomerFields;
use crate::domain::{check_len, non_blank, Category, GarmentKind, Material, SeasonClass, Service};
use crate::error::{AppError, FieldError};
use crate::garments::{GarmentFields, NewGarment};
use crate::pickups::{MAX_CONDITION_CHARS, MAX_LINES, MAX_PRICE_CENTS};

/// Longest external id accepted: ids come from other systems, but a 100-character key is a mistake.
pub const MAX_EXTERNAL_ID_CHARS: usize = 100;

/// Why a cell or row was refused: the column (or `row`) and a reason a spreadsheet user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub reason: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The columns of one import file: name and whether the header must have it.
pub struct Format {
    pub columns: &'static [(&'static str, bool)],
}

pub const CUSTOMERS: Format = Format {
    columns: &[
        ("external_id", true),
        ("name", true),
        ("phone", false),
        ("address", false),
        ("notes", false),
        ("do_not_contact", false),
        ("label_consent_at", false),
        ("label_consent_method", false),
    ],
};

pub const GARMENTS: Format = Format {
    columns: &[
        ("external_id", true),
        ("customer_external_id", true),
        ("category", true),
        ("kind", true),
        ("season_class", true),
        ("brand", false),
        ("cut", false),
        ("size", false),
        ("special_size", false),
        ("material", false),
        ("colour", false),
        ("tag_code", false),
    ],
};

pub const PICKUPS: Format = Format {
    columns: &[
        ("pickup_external_id", true),
        ("customer_external_id", true),
        ("collected_at", true),
        ("garment_external_id", true),
        ("service", true),
        ("price", true),
        ("condition_notes", false),
    ],
};

/// Where each column of a format sits in one file.
pub struct Header {
    format: &'static Format,
    positions: Vec<Option<usize>>,
    /// Columns with an empty name (spreadsheets add them); their cells must stay empty.
    unnamed: Vec<usize>,
    width: usize,
}

impl Header {
    /// Maps a file's header to the format; unknown, repeated or missing required columns are an error.
    pub fn new(format: &'static Format, names: &[String]) -> Result<Header, String> {
        if names.iter().all(|n| n.trim().is_empty()) {
            return Err("the file is empty: its first line must name the columns".into());
        }
        let mut positions = vec![None; format.columns.len()];
        let (mut unnamed, mut unknown, mut repeated) = (Vec::new(), Vec::new(), Vec::new());
        for (i, raw) in names.iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim().to_lowercase();
            if name.is_empty() {
                unnamed.push(i);
                continue;
            }
            match format.columns.iter().position(|(c, _)| *c == name) {
                Some(c) if positions[c].is_some() => repeated.push(name),
                Some(c) => positions[c] = Some(i),
                None => unknown.push(name),
            }
        }
        let missing: Vec<&str> = format
            .columns
            .iter()
            .zip(&positions)
            .filter(|((_, required), at)| *required && at.is_none())
            .map(|((name, _), _)| *name)
            .collect();
        let mut errors = Vec::new();
        if !unknown.is_empty() {
            let mut e = format!("unknown column {}", quoted(&unknown));
            if unknown.iter().any(|n| n.contains(';') || n.contains('\t')) {
                e.push_str(" (the file seems to use ';' or tabs between columns: save it as comma-separated CSV)");
            }
            errors.push(e);
        }
        if !repeated.is_empty() {
            errors.push(format!("column {} appears twice", quoted(&repeated)));
        }
        if !missing.is_empty() {
            errors.push(format!("missing required column {}", quoted(&missing)));
        }
        if errors.is_empty() {
            Ok(Header {
                format,
                positions,
                unnamed,
                width: names.len(),
            })
        } else {
            let all: Vec<&str> = format.columns.iter().map(|(c, _)| *c).collect();
            Err(format!(
                "{}; the columns are {}",
                errors.join("; "),
                all.join(", ")
            ))
        }
    }

    /// A data row's cells in the format's order, with any problem of the row's shape or encoding.
    pub fn cells<'r>(&self, record: impl IntoIterator<Item = &'r [u8]>) -> (Cells, Vec<Problem>) {
        let fields: Vec<&[u8]> = record.into_iter().collect();
        let mut problems = Vec::new();
        if fields.len() != self.width {
            problems.push(Problem::new(
                "row",
                format!(
                    "has {} fields, the header has {}: check for a stray or missing comma",
                    fields.len(),
                    self.width
                ),
            ));
        }
        for &i in &self.unnamed {
            if fields.get(i).is_some_and(|f| !f.trim_ascii().is_empty()) {
                problems.push(Problem::new(
                    "row",
                    format!(
                        "a value in column {}, which has no name in the header",
                        i + 1
                    ),
                ));
            }
        }
        let mut values = Vec::with_capacity(self.positions.len());
        for (at, (name, _)) in self.positions.iter().zip(self.format.columns) {
            let bytes = at.and_then(|i| fields.get(i).copied()).unwrap_or_default();
            match std::str::from_utf8(bytes) {
                Ok(s) => values.push(s.to_owned()),
                Err(_) => {
                    problems.push(Problem::new(
                        *name,
                        "is not UTF-8 text: save the file as \"CSV UTF-8\"",
                    ));
                    values.push(String::from_utf8_lossy(bytes).into_owned());
                }
            }
        }
        (
            Cells {
                format: self.format,
                values,
            },
            problems,
        )
    }
}

fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{}'", n.as_ref())).collect();
    q.join(", ")
}

/// One data row's cells by column name; a column the file does not have reads as empty.
pub struct Cells {
    format: &'static Format,
    values: Vec<String>,
}

impl Cells {
    pub fn get(&self, column: &str) -> &str {
        let at = self.format.columns.iter().position(|(c, _)| *c == column);
        debug_assert!(at.is_some(), "no column {column} in this format");
        at.and_then(|i| self.values.get(i))
            .map_or("", String::as_str)
    }

    fn text(&self, column: &str) -> Option<String> {
        non_blank(Some(self.get(column).to_owned()))
    }
}

/// A required external id (trimmed), or a problem naming the column.
pub fn external_id(cells: &Cells, column: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let id = cells.get(column).trim();
    if id.is_empty() {
        problems.push(Problem::new(column, "is required"));
        None
    } else if id.chars().count() > MAX_EXTERNAL_ID_CHARS {
        problems.push(Problem::new(
            column,
            format!("at most {MAX_EXTERNAL_ID_CHARS} characters"),
        ));
        None
    } else {
        Some(id.to_owned())
    }
}

/// `true/false`, `yes/no` or `1/0` in any case; empty is false.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "" | "false" | "no" | "0" => Ok(false),
        "true" | "yes" | "1" => Ok(true),
        _ => Err("use true/false, yes/no or 1/0".into()),
    }
}

/// A non-negative amount in yuan with at most two decimals (`120.50`), in cents (fen).
pub fn parse_price(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    if s.starts_with('-') {
        return Err("a price cannot be negative".into());
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || s.ends_with('.') {
        return Err(format!(
            "'{}' is not an amount: write yuan with a dot and at most two decimals, like 120.50, \
             without currency signs or thousands separators",
            shorten(s)
        ));
    }
    if frac.len() > 2 {
        return Err("at most two decimals (whole fen)".into());
    }
    let too_big = || format!("at most {}.00", MAX_PRICE_CENTS / 100);
    let whole = whole.trim_start_matches('0');
    if whole.len() > 12 {
        return Err(too_big());
    }
    let yuan: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_big())?
    };
    let fen: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    let cents = yuan * 100 + fen;
    if cents > MAX_PRICE_CENTS {
        return Err(too_big());
    }
    Ok(cents)
}

/// Earliest date accepted: anything older is a typo or a wrong date format.
fn earliest() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// RFC 3339, or a plain `YYYY-MM-DD` (start of the day) or `YYYY-MM-DD HH:MM[:SS]` in company time.
pub fn parse_time(raw: &str, offset: FixedOffset) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    let at = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else {
        let local = [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })
        .and_then(|l| offset.from_local_datetime(&l).single());
        match local {
            Some(t) => t.with_timezone(&Utc),
            None => {
                return Err(format!(
                    "'{}' is not a date: use 2026-11-23 or 2026-11-23 09:30 (company time), \
                     or 2026-11-23T09:30:00+08:00",
                    shorten(s)
                ))
            }
        }
    };
    if at < earliest() {
        return Err("is before 2000: check the date".into());
    }
    Ok(at)
}

/// A value echoed in a message, cut short so a misplaced cell cannot flood the report.
fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// Captures the allowed names serde lists when a vocabulary value is unknown.
#[derive(Debug)]
struct VocabError(Option<&'static [&'static str]>);

impl fmt::Display for VocabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a known value")
    }
}

impl std::error::Error for VocabError {}

impl serde::de::Error for VocabError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        VocabError(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        VocabError(Some(expected))
    }
}

/// A vocabulary value by its snake_case name; case, spaces and hyphens are forgiven (`Down jacket`).
pub fn parse_vocab<T: DeserializeOwned>(raw: &str, noun: &str) -> Result<T, String> {
    let folded = raw.trim().to_lowercase().replace([' ', '-'], "_");
    T::deserialize(StrDeserializer::<VocabError>::new(&folded)).map_err(|e| match e.0 {
        Some(allowed) => format!(
            "'{}' is not a {noun}: use one of {}",
            shorten(raw.trim()),
            allowed.join(", ")
        ),
        None => format!("'{}' is not a {noun}", shorten(raw.trim())),
    })
}

fn required_vocab<T: DeserializeOwned>(
    cells: &Cells,
    column: &str,
    noun: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let raw = cells.get(column);
    if raw.trim().is_empty() {
        problems.push(Problem::new(column, "is required"));
        return None;
    }
    parse_vocab(raw, noun)
        .map_err(|e| problems.push(Problem::new(column, e)))
        .ok()
}

fn bool_cell(cells: &Cells, column: &str, problems: &mut Vec<Problem>) -> bool {
    parse_bool(cells.get(column))
        .map_err(|e| problems.push(Problem::new(column, e)))
        .unwrap_or(false)
}

/// Field errors of the API's own checks, renamed to the file's columns.
fn api_errors(errors: Vec<FieldError>, rename: &[(&str, &str)], problems: &mut Vec<Problem>) {
    for e in errors {
        let field = e.field.trim_start_matches('.');
        let field = rename
            .iter()
            .find(|(api, _)| *api == field)
            .map_or(field, |(_, column)| column);
        problems.push(Problem::new(field, e.message));
    }
}

/// A customer row, checked by the same rules as `POST /customers`.
pub fn customer(
    cells: &Cells,
    offset: FixedOffset,
    problems: &mut Vec<Problem>,
) -> Option<CustomerFields> {
    let before = problems.len();
    let do_not_contact = bool_cell(cells, "do_not_contact", problems);
    let consent_at = match cells.get("label_consent_at").trim() {
        "" => None,
        raw => parse_time(raw, offset)
            .map_err(|e| problems.push(Problem::new("label_consent_at", e)))
            .ok(),
    };
    let method = cells.text("label_consent_method");
    if method.is_some() && cells.get("label_consent_at").trim().is_empty() {
        problems.push(Problem::new(
            "label_consent_at",
            "give the date consent to a door label was given along with its method",
        ));
    }
    let fields = crate::customers::db::CustomerDraft {
        name: cells.get("name").to_owned(),
        phone: cells.text("phone"),
        address: cells.text("address"),
        notes: cells.get("notes").trim().to_owned(),
        label_consent_at: consent_at,
        label_consent_method: method,
        do_not_contact,
    };
    let fields = match crate::customers::check_fields(fields) {
        Ok(f) => Some(f),
        Err(AppError::Invalid(errors)) => {
            let rename = [
                ("label_consent.given_at", "label_consent_at"),
                ("label_consent.method", "label_consent_method"),
            ];
            api_errors(errors, &rename, problems);
            None
        }
        Err(e) => {
            problems.push(Problem::new("row", e.to_string()));
            None
        }
    };
    fields.filter(|_| problems.len() == before)
}

/// A garment row: its owner's external id and the fields `POST /pickups` would accept for a new garment.
pub struct GarmentRow {
    pub customer: Option<String>,
    pub fields: Option<GarmentFields>,
}

pub fn garment(cells: &Cells, problems: &mut Vec<Problem>) -> GarmentRow {
    let before = problems.len();
    let customer = external_id(cells, "customer_external_id", problems);
    let category = required_vocab::<Category>(cells, "category", "category", problems);
    let kind = required_vocab::<GarmentKind>(cells, "kind", "garment kind", problems);
    let season_class =
        required_vocab::<SeasonClass>(cells, "season_class", "season class", problems);
    let material = match cells.get("material").trim() {
        "" => None,
        raw => parse_vocab::<Material>(raw, "material")
            .map_err(|e| problems.push(Problem::new("material", e)))
            .ok(),
    };
    let special_size = bool_cell(cells, "special_size", problems);
    // Placeholders let the free-text checks run even when a vocabulary cell is bad; the row is refused anyway.
    let new = NewGarment {
        category: category.unwrap_or(Category::Women),
        kind: kind.unwrap_or(GarmentKind::Other),
        season_class: season_class.unwrap_or(SeasonClass::AllSeason),
        brand: cells.text("brand"),
        cut: cells.text("cut"),
        size: cells.text("size"),
        special_size,
        material,
        colour: cells.text("colour"),
        tag_code: cells.text("tag_code"),
    };
    let mut errors = Vec::new();
    let fields = new.check("", &mut errors);
    api_errors(errors, &[], problems);
    GarmentRow {
        customer,
        fields: Some(fields).filter(|_| problems.len() == before),
    }
}

/// One pickup line as read; a value is `None` when its cell was bad (the problem says why).
#[derive(Debug, Clone)]
pub struct LineCells {
    pub customer: Option<String>,
    pub collected_at: Option<DateTime<Utc>>,
    pub garment: Option<String>,
    pub service: Option<Service>,
    pub price_cents: Option<i64>,
    pub condition_notes: String,
}

pub fn pickup_line(
    cells: &Cells,
    now: DateTime<Utc>,
    offset: FixedOffset,
    problems: &mut Vec<Problem>,
) -> LineCells {
    let customer = external_id(cells, "customer_external_id", problems);
    let collected_at = match cells.get("collected_at").trim() {
        "" => {
            problems.push(Problem::new("collected_at", "is required"));
            None
        }
        raw => match parse_time(raw, offset) {
            Ok(at) if at > now => {
                problems.push(Problem::new("collected_at", "is in the future"));
                None
            }
            Ok(at) => Some(at),
            Err(e) => {
                problems.push(Problem::new("collected_at", e));
                None
            }
        },
    };
    let garment = external_id(cells, "garment_external_id", problems);
    let service = required_vocab::<Service>(cells, "service", "service", problems);
    let price_cents = match cells.get("price").trim() {
        "" => {
            problems.push(Problem::new("price", "is required (0 for free work)"));
            None
        }
        raw => parse_price(raw)
            .map_err(|e| problems.push(Problem::new("price", e)))
            .ok(),
    };
    let condition_notes = cells.get("condition_notes").trim().to_owned();
    let mut errors = Vec::new();
    check_len(
        &mut errors,
        "condition_notes",
        Some(&condition_notes),
        MAX_CONDITION_CHARS,
    );
    api_errors(errors, &[], problems);
    LineCells {
        customer,
        collected_at,
        garment,
        service,
        price_cents,
        condition_notes,
    }
}

/// A pickup line with its file line and everything wrong with it so far.
#[derive(Debug, Clone)]
pub struct PickupLine {
    pub line: u64,
    pub cells: LineCells,
    pub problems: Vec<Problem>,
}

/// Checks that the lines of one pickup agree with its first line (customer, time), that no garment has the
/// same service twice, and that the pickup is not larger than the API allows.
pub fn check_pickup(lines: &mut [PickupLine]) {
    let Some(first) = lines.first().cloned() else {
        return;
    };
    let mut seen = HashSet::new();
    for (i, l) in lines.iter_mut().enumerate() {
        if i == MAX_LINES {
            l.problems.push(Problem::new(
                "pickup_external_id",
                format!("a pickup has at most {MAX_LINES} lines"),
            ));
        }
        if i > 0 {
            if let (Some(a), Some(b)) = (&first.cells.customer, &l.cells.customer) {
                if a != b {
                    l.problems.push(Problem::new(
                        "customer_external_id",
                        format!(
                            "differs from line {}, the first line of this pickup",
                            first.line
                        ),
                    ));
                }
            }
            if let (Some(a), Some(b)) = (first.cells.collected_at, l.cells.collected_at) {
                if a != b {
                    l.problems.push(Problem::new(
                        "collected_at",
                        format!(
                            "differs from line {}, the first line of this pickup",
                            first.line
                        ),
                    ));
                }
            }
        }
        if let (Some(g), Some(s)) = (&l.cells.garment, l.cells.service) {
            if !seen.insert((g.clone(), s)) {
                l.problems.push(Problem::new(
                    "service",
                    "this garment already has this service in this pickup",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(format: &'static Format, names: &str) -> Result<Header, String> {
        let names: Vec<String> = names.split(',').map(str::to_owned).collect();
        Header::new(format, &names)
    }

    fn row(h: &Header, line: &str) -> (Cells, Vec<Problem>) {
        h.cells(line.split(',').map(str::as_bytes))
    }

    fn offset() -> FixedOffset {
        crate::domain::clock::DEFAULT_OFFSET
    }

    #[test]
    fn columns_in_any_order_and_case() {
        let h = header(&CUSTOMERS, "\u{feff}Name, external_id ,phone").expect("test data");
        let (cells, problems) = row(&h, "Wang Wei,C-1,+86 138 0000 0001");
        assert!(problems.is_empty());
        assert_eq!(cells.get("external_id"), "C-1");
        assert_eq!(cells.get("name"), "Wang Wei");
        assert_eq!(cells.get("address"), "");
    }

    #[test]
    fn header_errors_name_the_columns() {
        let e = header(&CUSTOMERS, "external_id,name,color,name")
            .err()
            .expect("test data");
        assert!(e.contains("unknown column 'color'"), "{e}");
        assert!(e.contains("'name' appears twice"), "{e}");
        let e = header(&GARMENTS, "external_id,kind")
            .err()
            .expect("test data");
        assert!(
            e.contains(
                "missing required column 'customer_external_id', 'category', 'season_class'"
            ),
            "{e}"
        );
        let e = header(&CUSTOMERS, "external_id;name")
            .err()
            .expect("test data");
        assert!(e.contains("';'"), "{e}");
        assert!(header(&CUSTOMERS, "").is_err());
    }

    #[test]
    fn shape_and_unnamed_columns() {
        let h = header(&CUSTOMERS, "external_id,name,").expect("test data");
        assert!(row(&h, "C-1,Li Na,").1.is_empty());
        let (_, p) = row(&h, "C-1,Li Na,oops");
        assert_eq!(p[0].field, "row");
        assert!(p[0].reason.contains("column 3"), "{p:?}");
        let (_, p) = row(&h, "C-1,Li Na");
        assert!(
            p[0].reason.contains("has 2 fields, the header has 3"),
            "{p:?}"
        );
        let (_, p) = h.cells([&b"C-1"[..], b"Li \xff", b""]);
        assert_eq!(
            p,
            vec![Problem::new(
                "name",
                "is not UTF-8 text: save the file as \"CSV UTF-8\""
            )]
        );
    }

    #[test]
    fn prices_are_yuan_with_two_decimals() {
        assert_eq!(parse_price("120.50"), Ok(12050));
        assert_eq!(parse_price(" 80 "), Ok(8000));
        assert_eq!(parse_price("0.5"), Ok(50));
        assert_eq!(parse_price("0"), Ok(0));
        assert_eq!(parse_price("1000000.00"), Ok(MAX_PRICE_CENTS));
        assert!(parse_price("1000000.01")
            .unwrap_err()
            .contains("at most 1000000.00"));
        assert!(parse_price("99999999999999999999")
            .unwrap_err()
            .contains("at most"));
        assert!(parse_price("-5").unwrap_err().contains("negative"));
        assert!(parse_price("1.005").unwrap_err().contains("two decimals"));
        for bad in ["12,50", "¥80", "1,200.00", "80.", ".5", "abc", "1e3"] {
            assert!(
                parse_price(bad).unwrap_err().contains("not an amount"),
                "{bad}"
            );
        }
    }

    #[test]
    fn times_in_company_time_or_with_offset() {
        let t = |s: &str| parse_time(s, offset()).map(|t| t.to_rfc3339());
        assert_eq!(t("2026-03-14"), Ok("2026-03-13T16:00:00+00:00".into()));
        assert_eq!(
            t("2026-03-14 09:30"),
            Ok("2026-03-14T01:30:00+00:00".into())
        );
        assert_eq!(
            t("2026-03-14T09:30:15"),
            Ok("2026-03-14T01:30:15+00:00".into())
        );
        assert_eq!(
            t("2026-03-14T09:30:00Z"),
            Ok("2026-03-14T09:30:00+00:00".into())
        );
        assert_eq!(
            t("2026-03-14 09:30:00+08:00"),
            Ok("2026-03-14T01:30:00+00:00".into())
        );
        assert!(t("14/03/2026").unwrap_err().contains("is not a date"));
        assert!(t("2026-02-30").is_err());
        assert!(t("1999-12-31").unwrap_err().contains("before 2000"));
    }

    #[test]
    fn booleans_and_vocabulary() {
        assert_eq!(parse_bool("Yes"), Ok(true));
        assert_eq!(parse_bool("1"), Ok(true));
        assert_eq!(parse_bool(""), Ok(false));
        assert_eq!(parse_bool("FALSE"), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert_eq!(
            parse_vocab("Down jacket", "kind"),
            Ok(GarmentKind::DownJacket)
        );
        assert_eq!(
            parse_vocab("wash-and-press", "service"),
            Ok(Service::WashAndPress)
        );
        let e = parse_vocab::<Category>("mens", "category").unwrap_err();
        assert_eq!(
            e,
            "'mens' is not a category: use one of men, women, children"
        );
    }

    #[test]
    fn customer_rows_follow_the_api_rules() {
        let h = header(
            &CUSTOMERS,
            "external_id,name,phone,label_consent_at,label_consent_method,do_not_contact",
        )
        .expect("test data");
        let mut p = Vec::new();
        let (cells, _) = row(&h, "C-1, Li Na ,021 5555 0101,2026-03-01,signed form,no");
        let f = customer(&cells, offset(), &mut p).expect("test data");
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(f.name, "Li Na");
        assert_eq!(f.label_consent_method.as_deref(), Some("signed form"));

        let (cells, _) = row(&h, "C-2, ,12,,verbal,perhaps");
        assert!(customer(&cells, offset(), &mut p).is_none());
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["do_not_contact", "label_consent_at", "name", "phone"]
        );
    }

    #[test]
    fn garment_rows_report_every_bad_cell() {
        let h = header(
            &GARMENTS,
            "external_id,customer_external_id,category,kind,season_class,material,tag_code,brand",
        )
        .expect("test data");
        let mut p = Vec::new();
        let (cells, _) = row(
            &h,
            "G-1,C-1,Women,down jacket,winter,DOWN,g00dem0000ae,Bosideng",
        );
        let g = garment(&cells, &mut p);
        assert!(p.is_empty(), "{p:?}");
        let f = g.fields.expect("test data");
        assert_eq!(
            (f.kind, f.material),
            (GarmentKind::DownJacket, Some(Material::Down))
        );
        assert_eq!(
            f.tag_code.as_ref().map(|t| t.as_str()),
            Some("G00DEM0000AE")
        );
        assert_eq!(g.customer.as_deref(), Some("C-1"));

        let long = "x".repeat(101);
        let (cells, _) = row(&h, &format!("G-2,,men,cape,,fur,G123,{long}"));
        let g = garment(&cells, &mut p);
        assert!(g.fields.is_none());
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "customer_external_id",
                "kind",
                "season_class",
                "tag_code",
                "brand"
            ]
        );
        assert!(
            p[1].reason.contains("use one of coat, jacket, down_jacket"),
            "{}",
            p[1].reason
        );
    }

    #[test]
    fn pickup_lines_must_agree() {
        let h = header(&PICKUPS, "pickup_external_id,customer_external_id,collected_at,garment_external_id,service,price").expect("test data");
        let now = Utc::now();
        let line = |n: u64, s: &str| {
            let (cells, mut problems) = row(&h, s);
            let cells = pickup_line(&cells, now, offset(), &mut problems);
            PickupLine {
                line: n,
                cells,
                problems,
            }
        };
        let mut lines = vec![
            line(2, "P-1,C-1,2026-03-01 10:00,G-1,dry_clean,120"),
            line(3, "P-1,C-2,2026-03-01 10:00,G-2,wash,80"),
            line(4, "P-1,C-1,2026-03-02,G-1,dry_clean,120"),
            line(5, "P-1,C-1,2999-01-01,G-3,wash,-1"),
        ];
        check_pickup(&mut lines);
        let got: Vec<(u64, &str)> = lines
            .iter()
            .flat_map(|l| l.problems.iter().map(move |p| (l.line, p.field.as_str())))
            .collect();
        assert_eq!(
            got,
            [
                (3, "customer_external_id"),
                (4, "collected_at"),
                (4, "service"),
                (5, "collected_at"),
                (5, "price"),
            ]
        );
        assert_eq!(lines[3].problems[0].reason, "is in the future");
    }
}
