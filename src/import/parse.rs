//! Pure parsing of the import files: headers (in English, Chinese or renamed by `--map`), cells (prices, times,
//! booleans, vocabulary in either language) and checked rows.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::DeserializeOwned;

use crate::customers::db::CustomerFields;
use crate::domain::{check_len, non_blank, Category, GarmentKind, Material, SeasonClass, Service};
use crate::error::{AppError, FieldError};
use crate::garments::{GarmentFields, NewGarment};
use crate::i18n::{self, Lang};
use crate::pickups::MAX_CONDITION_CHARS;

use super::columns::*;
use super::values::*;

/// Longest external id accepted: ids come from other systems, but a 100-character key is a mistake.
pub const MAX_EXTERNAL_ID_CHARS: usize = 100;

/// Why a cell or row was refused: the column (or `row`) and a reason a spreadsheet user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub reason: String,
}

impl Problem {
    /// A problem of `field` (a column, or `row`).
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// `--map FILE`: header renames for other systems' exports, one `their column,our column` per line; an empty
/// target or `-` drops the column.
#[derive(Debug, Default, Clone)]
pub struct ColumnMap {
    renames: Vec<(String, Option<String>)>,
}

impl ColumnMap {
    /// Reads a map file's text; errors name the map's line.
    pub fn parse(text: &str) -> Result<ColumnMap, String> {
        let mut renames = Vec::new();
        for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((from, to)) = line
                .split_once(['\t', '=', ','])
                .map(|(a, b)| (a.trim().trim_matches('"'), b.trim().trim_matches('"')))
            else {
                return Err(format!(
                    "line {}: write `their column,our column` (or `their column,-` to leave it out)",
                    i + 1
                ));
            };
            let from = fold_header(from);
            if from.is_empty() {
                return Err(format!("line {}: the column to rename is empty", i + 1));
            }
            let to = match to {
                "" | "-" => None,
                t => {
                    let folded = fold_header(t);
                    let known = [&CUSTOMERS, &GARMENTS, &PICKUPS]
                        .iter()
                        .any(|f| f.columns.iter().any(|c| names_column(&folded, c)));
                    if !known {
                        return Err(format!(
                            "line {}: '{t}' is not a column of any import file",
                            i + 1
                        ));
                    }
                    Some(folded)
                }
            };
            renames.push((from, to));
        }
        Ok(ColumnMap { renames })
    }
}

/// What one header cell turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Column(usize),
    Ignored,
    Unnamed,
    Unknown,
}

fn resolve(format: &Format, map: &ColumnMap, raw: &str) -> Slot {
    let folded = fold_header(raw);
    if folded.is_empty() {
        return Slot::Unnamed;
    }
    let find = |name: &str| format.columns.iter().position(|c| names_column(name, c));
    for (from, to) in &map.renames {
        if *from == folded {
            match to {
                None => return Slot::Ignored,
                Some(t) => {
                    if let Some(i) = find(t) {
                        return Slot::Column(i);
                    }
                }
            }
        }
    }
    find(&folded).map_or(Slot::Unknown, Slot::Column)
}

/// How many header cells name a column of `format`: used to pick the delimiter.
pub fn header_score(format: &Format, map: &ColumnMap, names: &[Cow<'_, str>]) -> usize {
    names
        .iter()
        .filter(|n| matches!(resolve(format, map, n), Slot::Column(_)))
        .count()
}

/// Where each column of a format sits in one file.
pub struct Header {
    format: &'static Format,
    positions: Vec<Option<usize>>,
    /// Columns with an empty name (spreadsheets add them); their cells must stay empty.
    unnamed: Vec<usize>,
    width: usize,
}

impl Header {
    /// Maps a file's header to the format; unknown, repeated or missing required columns are an error. A first
    /// line naming no column at all is not echoed: it is likely a customer's row.
    pub fn new(
        format: &'static Format,
        map: &ColumnMap,
        names: &[Cow<'_, str>],
    ) -> Result<Header, String> {
        let all: Vec<&str> = format.columns.iter().map(|c| c.name).collect();
        let zh: Vec<&str> = format
            .columns
            .iter()
            .map(|c| i18n::text(Lang::ZhCn, c.label))
            .collect();
        if names.iter().all(|n| n.trim().is_empty()) {
            return Err("the file is empty: its first line must name the columns".into());
        }
        if header_score(format, map, names) == 0 {
            return Err(format!(
                "the first line names none of the columns of a {} file, so it is not a header (its cells are not shown, as they may be a customer's data): add a first line naming the columns, such as {} or {}",
                format.noun,
                all.join(","),
                zh.join(",")
            ));
        }
        let mut positions = vec![None; format.columns.len()];
        let (mut unnamed, mut unknown, mut repeated) = (Vec::new(), Vec::new(), Vec::new());
        for (i, raw) in names.iter().enumerate() {
            match resolve(format, map, raw) {
                Slot::Unnamed => unnamed.push(i),
                Slot::Ignored => {}
                Slot::Column(c) if positions[c].is_some() => repeated.push(format.columns[c].name),
                Slot::Column(c) => positions[c] = Some(i),
                Slot::Unknown => unknown.push(shorten(raw.trim())),
            }
        }
        let missing: Vec<&str> = format
            .columns
            .iter()
            .zip(&positions)
            .filter(|(c, at)| c.required && at.is_none())
            .map(|(c, _)| c.name)
            .collect();
        let mut errors = Vec::new();
        if !unknown.is_empty() {
            errors.push(format!(
                "unknown column {} (rename or drop it with --map)",
                quoted(&unknown)
            ));
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
            Err(format!(
                "{}; the columns are {} (or {})",
                errors.join("; "),
                all.join(", "),
                zh.join(", ")
            ))
        }
    }

    /// Cells in the header, for telling a row-shaped text inside a cell.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The file's name for a format column (for warnings about a cell).
    pub fn column_at(&self, index: usize) -> &'static str {
        self.positions
            .iter()
            .position(|p| *p == Some(index))
            .map_or("row", |c| self.format.columns[c].name)
    }

    /// A data row's cells in the format's order, with any problem of the row's shape or characters.
    pub fn cells<'r>(&self, fields: &[Cow<'r, str>]) -> (Cells<'r>, Vec<Problem>) {
        let mut problems = Vec::new();
        if fields.len() != self.width {
            problems.push(Problem::new(
                "row",
                format!(
                    "has {} fields, the header has {}: check for a stray or missing delimiter",
                    fields.len(),
                    self.width
                ),
            ));
        }
        for &i in &self.unnamed {
            if fields.get(i).is_some_and(|f| !f.trim().is_empty()) {
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
        let mut bad = Vec::with_capacity(self.positions.len());
        for (at, column) in self.positions.iter().zip(self.format.columns) {
            let value = at
                .and_then(|i| fields.get(i).cloned())
                .unwrap_or(Cow::Borrowed(""));
            match control_character(&value, column.multiline) {
                Some(reason) => {
                    problems.push(Problem::new(column.name, reason));
                    values.push(Cow::Borrowed(""));
                    bad.push(true);
                }
                None => {
                    values.push(value);
                    bad.push(false);
                }
            }
        }
        (
            Cells {
                format: self.format,
                values,
                bad,
            },
            problems,
        )
    }
}

/// A control character (or a character lost by an earlier encoding error) in a cell, as a reason naming the
/// character and where it is, never the cell's text.
fn control_character(value: &str, multiline: bool) -> Option<String> {
    let (at, c) = value.chars().enumerate().find(|(_, c)| {
        (c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r'))) || *c == '\u{fffd}'
    })?;
    let what = match c {
        '\0' => "the NUL character (U+0000)".to_owned(),
        '\n' | '\r' => "a line break".to_owned(),
        '\t' => "a tab".to_owned(),
        '\u{fffd}' => {
            "U+FFFD, a character lost when the file was saved in another encoding".to_owned()
        }
        c => format!("the control character U+{:04X}", c as u32),
    };
    Some(format!(
        "contains {what} at character {}: remove it",
        at + 1
    ))
}

fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{}'", n.as_ref())).collect();
    q.join(", ")
}

/// One data row's cells by column name; a column the file does not have reads as empty.
pub struct Cells<'r> {
    format: &'static Format,
    values: Vec<Cow<'r, str>>,
    /// Cells already refused (a control character): they read as empty and add no further problem.
    bad: Vec<bool>,
}

impl Cells<'_> {
    /// The cell of `column` (empty when missing or refused).
    pub fn get(&self, column: &str) -> &str {
        let at = self.format.index(column);
        debug_assert!(at.is_some(), "no column {column} in this format");
        at.and_then(|i| self.values.get(i)).map_or("", |v| v)
    }

    fn refused(&self, column: &str) -> bool {
        self.format
            .index(column)
            .and_then(|i| self.bad.get(i).copied())
            .unwrap_or(false)
    }

    fn text(&self, column: &str) -> Option<String> {
        non_blank(Some(self.get(column).to_owned()))
    }

    fn required(&self, column: &str, problems: &mut Vec<Problem>) -> Option<&str> {
        let v = self.get(column).trim();
        if v.is_empty() {
            if !self.refused(column) {
                problems.push(Problem::new(column, "is required"));
            }
            None
        } else {
            Some(v)
        }
    }
}

/// A required external id (trimmed), or a problem naming the column.
pub fn external_id(cells: &Cells, column: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let id = cells.required(column, problems)?;
    if id.chars().count() > MAX_EXTERNAL_ID_CHARS {
        problems.push(Problem::new(
            column,
            format!("at most {MAX_EXTERNAL_ID_CHARS} characters"),
        ));
        None
    } else {
        Some(id.to_owned())
    }
}

fn required_vocab<T: DeserializeOwned>(
    cells: &Cells,
    column: &str,
    noun: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let raw = cells.required(column, problems)?;
    parse_vocab(raw, column, noun)
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
    if method.is_some()
        && cells.get("label_consent_at").trim().is_empty()
        && !cells.refused("label_consent_at")
    {
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
            let errors = errors
                .into_iter()
                .filter(|e| !(e.field == "name" && cells.refused("name")))
                .collect();
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

/// A garment row, checked like a new garment in `POST /pickups`.
pub fn garment(cells: &Cells, problems: &mut Vec<Problem>) -> GarmentRow {
    let before = problems.len();
    let customer = external_id(cells, "customer_external_id", problems);
    let category = required_vocab::<Category>(cells, "category", "category", problems);
    let kind = required_vocab::<GarmentKind>(cells, "kind", "garment kind", problems);
    let season_class =
        required_vocab::<SeasonClass>(cells, "season_class", "season class", problems);
    let material = match cells.get("material").trim() {
        "" => None,
        raw => parse_vocab::<Material>(raw, "material", "material")
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

/// A pickup line's cells, each checked alone; how lines of one pickup agree is checked in staging.
pub fn pickup_line(
    cells: &Cells,
    now: DateTime<Utc>,
    offset: FixedOffset,
    problems: &mut Vec<Problem>,
) -> LineCells {
    let customer = external_id(cells, "customer_external_id", problems);
    let collected_at =
        cells
            .required("collected_at", problems)
            .and_then(|raw| match parse_time(raw, offset) {
                Ok(at) if at > now => {
                    problems.push(Problem::new("collected_at", "is in the future"));
                    None
                }
                Ok(at) => Some(at),
                Err(e) => {
                    problems.push(Problem::new("collected_at", e));
                    None
                }
            });
    let garment = external_id(cells, "garment_external_id", problems);
    let service = required_vocab::<Service>(cells, "service", "service", problems);
    let price_cents = match cells.get("price").trim() {
        "" if cells.refused("price") => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<Cow<'_, str>> {
        s.split(',').map(Cow::Borrowed).collect()
    }

    fn header(format: &'static Format, s: &str) -> Result<Header, String> {
        Header::new(format, &ColumnMap::default(), &names(s))
    }

    fn row<'a>(h: &Header, line: &'a str) -> (Cells<'a>, Vec<Problem>) {
        h.cells(&names(line))
    }

    fn offset() -> FixedOffset {
        crate::domain::clock::DEFAULT_OFFSET
    }

    #[test]
    fn columns_in_any_order_case_or_language() {
        let h = header(&CUSTOMERS, "\u{feff}Name, external_id ,phone").expect("test data");
        let (cells, problems) = row(&h, "Wang Wei,C-1,+86 138 0000 0001");
        assert!(problems.is_empty());
        assert_eq!(cells.get("external_id"), "C-1");
        assert_eq!(cells.get("name"), "Wang Wei");
        assert_eq!(cells.get("address"), "");
        let h = header(&CUSTOMERS, "客户编号,姓名,手机号,地址（详细）").expect("test data");
        let (cells, _) = row(&h, "C-2,郑英,13800000002,徐汇区");
        assert_eq!(
            (
                cells.get("external_id"),
                cells.get("phone"),
                cells.get("address")
            ),
            ("C-2", "13800000002", "徐汇区")
        );
        let h = header(
            &PICKUPS,
            "取件单号,客户编号,取件时间,衣物编号,服务,价格(元),衣物状况",
        )
        .expect("test data");
        assert!(h.positions.iter().all(Option::is_some));
    }

    #[test]
    fn a_map_renames_or_drops_columns() {
        let map =
            ColumnMap::parse("\u{feff}# their export\n会员卡号,external_id\n积分,-\nVIP = \n")
                .expect("test data");
        let h = Header::new(&CUSTOMERS, &map, &names("会员卡号,姓名,积分,VIP")).expect("test data");
        let (cells, problems) = h.cells(&names("C-1,李娜,300,yes"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cells.get("external_id"), "C-1");
        let e = ColumnMap::parse("a,b,c\nx\n").expect_err("test data");
        assert!(e.starts_with("line 1:") && e.contains("'b,c'"), "{e}");
        let e = ColumnMap::parse("x\n").expect_err("test data");
        assert!(e.starts_with("line 1:"), "{e}");
    }

    #[test]
    fn header_errors_name_the_columns_but_never_echo_a_data_row() {
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
        assert!(header(&CUSTOMERS, "").is_err());
        let e = header(&CUSTOMERS, "C-9,Li Na,+86 138 0000 0009,88 Huaihai Rd")
            .err()
            .expect("test data");
        assert!(e.contains("not a header"), "{e}");
        for personal in ["Li Na", "0009", "Huaihai"] {
            assert!(!e.contains(personal), "{e}");
        }
    }

    #[test]
    fn shape_control_characters_and_unnamed_columns() {
        let h = header(&CUSTOMERS, "external_id,name,notes,").expect("test data");
        assert!(row(&h, "C-1,Li Na,,").1.is_empty());
        let (_, p) = row(&h, "C-1,Li Na,,oops");
        assert_eq!(p[0].field, "row");
        assert!(p[0].reason.contains("column 4"), "{p:?}");
        let (_, p) = row(&h, "C-1,Li Na");
        assert!(
            p[0].reason.contains("has 2 fields, the header has 4"),
            "{p:?}"
        );
        let (cells, p) = h.cells(&[
            Cow::Borrowed("C-\u{0}1"),
            Cow::Borrowed("Li\u{7}Na"),
            Cow::Borrowed("line one\nline two"),
            Cow::Borrowed(""),
        ]);
        assert_eq!(
            p,
            [
                Problem::new(
                    "external_id",
                    "contains the NUL character (U+0000) at character 3: remove it"
                ),
                Problem::new(
                    "name",
                    "contains the control character U+0007 at character 3: remove it"
                ),
            ]
        );
        let mut more = Vec::new();
        assert_eq!(external_id(&cells, "external_id", &mut more), None);
        assert!(more.is_empty(), "a refused cell is reported once: {more:?}");
        assert_eq!(cells.get("notes"), "line one\nline two");
    }

    #[test]
    fn prices_are_yuan_with_two_decimals() {
        assert_eq!(parse_price("120.50"), Ok(12050));
        assert_eq!(parse_price(" 80 "), Ok(8000));
        assert_eq!(parse_price("0.5"), Ok(50));
        assert_eq!(parse_price("0"), Ok(0));
        assert_eq!(parse_price("¥120"), Ok(12000));
        assert_eq!(parse_price("￥ 55.5"), Ok(5550));
        assert_eq!(parse_price("120元"), Ok(12000));
        assert_eq!(parse_price("１２０元"), Ok(12000));
        assert_eq!(parse_price("RMB 80"), Ok(8000));
        assert_eq!(
            parse_price("1000000.00"),
            Ok(crate::pickups::MAX_PRICE_CENTS)
        );
        assert!(parse_price("1000000.01")
            .unwrap_err()
            .contains("at most 1000000.00"));
        assert!(parse_price("99999999999999999999")
            .unwrap_err()
            .contains("at most"));
        assert!(parse_price("-5").unwrap_err().contains("negative"));
        assert!(parse_price("1.005").unwrap_err().contains("two decimals"));
        for bad in ["12,50", "$80", "1,200.00", "80.", ".5", "abc", "1e3", "¥"] {
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
        assert_eq!(t("2026/3/5"), Ok("2026-03-04T16:00:00+00:00".into()));
        assert_eq!(t("2026/3/5 9:30"), Ok("2026-03-05T01:30:00+00:00".into()));
        assert_eq!(t("2026年3月5日"), Ok("2026-03-04T16:00:00+00:00".into()));
        assert_eq!(
            t("2026年3月5日 9:30"),
            Ok("2026-03-05T01:30:00+00:00".into())
        );
        assert_eq!(t("2026.03.05"), Ok("2026-03-04T16:00:00+00:00".into()));
        assert!(t("14/03/2026").unwrap_err().contains("is not a date"));
        assert!(t("3/5/2026").is_err());
        assert!(t("2026-02-30").is_err());
        assert!(t("2026年2月30日").is_err());
        assert!(t("1999-12-31").unwrap_err().contains("before 2000"));
    }

    #[test]
    fn booleans_and_vocabulary_in_both_languages() {
        assert_eq!(parse_bool("Yes"), Ok(true));
        assert_eq!(parse_bool("是"), Ok(true));
        assert_eq!(parse_bool("否"), Ok(false));
        assert_eq!(parse_bool(""), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert_eq!(
            parse_vocab("Down jacket", "kind", "kind"),
            Ok(GarmentKind::DownJacket)
        );
        assert_eq!(
            parse_vocab("羽绒服", "kind", "kind"),
            Ok(GarmentKind::DownJacket)
        );
        assert_eq!(
            parse_vocab("wash-and-press", "service", "service"),
            Ok(Service::WashAndPress)
        );
        assert_eq!(
            parse_vocab("干洗", "service", "service"),
            Ok(Service::DryClean)
        );
        assert_eq!(
            parse_vocab("织补", "service", "service"),
            Ok(Service::Repair)
        );
        assert_eq!(
            parse_vocab("皮革护理", "service", "service"),
            Ok(Service::LeatherCare)
        );
        assert_eq!(
            parse_vocab("童装", "category", "category"),
            Ok(Category::Children)
        );
        assert_eq!(
            parse_vocab("春秋", "season_class", "season"),
            Ok(SeasonClass::SpringAutumn)
        );
        assert_eq!(
            parse_vocab("羊绒", "material", "material"),
            Ok(Material::Cashmere)
        );
        assert_eq!(
            parse_vocab("皮草", "material", "material"),
            Ok(Material::Fur)
        );
        let e = parse_vocab::<Category>("mens", "category", "category").unwrap_err();
        assert_eq!(
            e,
            "'mens' is not a category: use one of children/童装, men/男装, women/女装"
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
        let line = format!("G-2,,men,cape,,fur,G123,{long}");
        let (cells, _) = row(&h, &line);
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
        assert!(p[1].reason.contains("coat/大衣"), "{}", p[1].reason);
    }
}
