//! The season calendar: put-away windows by kind, with per-year overrides managers may set.

mod api;
pub mod db;

pub use api::router;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::SeasonClass;
use crate::error::{AppError, AppResult};

/// A kind of put-away window with its default dates (month and day, every year).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WindowKind {
    pub(crate) window_kind: String,
    pub(crate) name: String,
    /// False for a shipped kind nobody renamed: pages show it by its catalogue name in the reader's language.
    pub(crate) named: bool,
    pub(crate) outgoing: SeasonClass,
    pub(crate) start_month: i16,
    pub(crate) start_day: i16,
    pub(crate) end_month: i16,
    pub(crate) end_day: i16,
}

/// A manager's dates for one year of a window kind.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Override {
    window_kind: String,
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

/// One put-away window of one year, e.g. `2026-spring`: the dates every list and campaign works from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeasonWindow {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) year: i32,
    pub(crate) name: String,
    /// As its kind's [`WindowKind::named`].
    #[serde(default = "named_by_default")]
    pub(crate) named: bool,
    pub(crate) outgoing: SeasonClass,
    pub(crate) starts_on: NaiveDate,
    /// Last day of the window (inclusive).
    pub ends_on: NaiveDate,
    /// True when a manager set this year's dates instead of the default.
    pub overridden: bool,
}

impl SeasonWindow {
    /// Whether `day` falls in the window (both ends included).
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

/// A window read without the flag shows its name as stored.
fn named_by_default() -> bool {
    true
}

/// A day of a year, moved back to the month's last day when it does not exist (29 February).
fn day_in(year: i32, month: i16, day: i16) -> Option<NaiveDate> {
    let month = u32::try_from(month).ok()?;
    let mut d = u32::try_from(day).ok()?;
    loop {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, d) {
            return Some(date);
        }
        if d <= 28 {
            return None;
        }
        d -= 1;
    }
}

/// The whole calendar as stored: the kinds and every override.
#[derive(Debug, Clone)]
pub struct Calendar {
    kinds: Vec<WindowKind>,
    overrides: Vec<Override>,
}

impl Calendar {
    /// Every window kind, in calendar order.
    pub fn kinds(&self) -> &[WindowKind] {
        &self.kinds
    }

    /// The window of `kind` that starts in `year`, if that kind exists.
    pub fn window(&self, kind: &str, year: i32) -> Option<SeasonWindow> {
        let k = self.kinds.iter().find(|k| k.window_kind == kind)?;
        let over = self
            .overrides
            .iter()
            .find(|o| o.window_kind == kind && o.year == year);
        let (starts_on, ends_on) = match over {
            Some(o) => (o.starts_on, o.ends_on),
            None => {
                let start = day_in(year, k.start_month, k.start_day)?;
                // A window whose end comes before its start in the year runs into the next year.
                let end_year = if (k.end_month, k.end_day) < (k.start_month, k.start_day) {
                    year + 1
                } else {
                    year
                };
                (start, day_in(end_year, k.end_month, k.end_day)?)
            }
        };
        Some(SeasonWindow {
            id: format!("{year}-{kind}"),
            kind: kind.to_owned(),
            year,
            name: k.name.clone(),
            named: k.named,
            outgoing: k.outgoing,
            starts_on,
            ends_on,
            overridden: over.is_some(),
        })
    }

    /// Every window starting in `year`, in date order.
    pub fn year(&self, year: i32) -> Vec<SeasonWindow> {
        let mut all: Vec<_> = self
            .kinds
            .iter()
            .filter_map(|k| self.window(&k.window_kind, year))
            .collect();
        all.sort_by(|a, b| (a.starts_on, &a.kind).cmp(&(b.starts_on, &b.kind)));
        all
    }

    /// Windows open on `day` (including ones that started the year before).
    pub fn open_on(&self, day: NaiveDate) -> Vec<SeasonWindow> {
        let mut open: Vec<_> = [day.year() - 1, day.year()]
            .into_iter()
            .flat_map(|y| self.year(y))
            .filter(|w| w.contains(day))
            .collect();
        open.sort_by_key(|w| w.starts_on);
        open
    }

    /// Resolves a window id such as `2026-spring`, naming `field` when it is not one.
    pub fn parse_id(&self, field: &str, id: &str) -> AppResult<SeasonWindow> {
        let parsed = id
            .split_once('-')
            .and_then(|(y, k)| Some((y.parse::<i32>().ok()?, k)))
            .filter(|(y, _)| (2000..=2200).contains(y));
        let Some((year, kind)) = parsed else {
            return Err(AppError::invalid(
                field,
                "a window is a year and a window kind, e.g. 2026-spring",
            ));
        };
        self.window(kind, year).ok_or_else(|| {
            let known: Vec<&str> = self.kinds.iter().map(|k| k.window_kind.as_str()).collect();
            AppError::invalid(
                field,
                format!(
                    "no window kind '{kind}'; the calendar has {}",
                    known.join(", ")
                ),
            )
        })
    }

    /// The window a list means: the one named, else the one of `outgoing` (any, if None) open on `day`.
    pub fn pick(
        &self,
        field: &str,
        id: Option<&str>,
        day: NaiveDate,
        outgoing: Option<SeasonClass>,
    ) -> AppResult<SeasonWindow> {
        if let Some(id) = id {
            return self.parse_id(field, id);
        }
        let mut open = self.open_on(day);
        open.retain(|w| outgoing.is_none_or(|o| w.outgoing == o));
        match open.len() {
            1 => Ok(open.remove(0)),
            0 => Err(AppError::invalid(
                field,
                format!(
                    "no put-away window is open on {day}; name one, e.g. {}-spring",
                    day.year()
                ),
            )),
            _ => {
                let ids: Vec<&str> = open.iter().map(|w| w.id.as_str()).collect();
                Err(AppError::invalid(
                    field,
                    format!(
                        "{} windows are open on {day} ({}); name one",
                        ids.len(),
                        ids.join(", ")
                    ),
                ))
            }
        }
    }

    /// The window of `outgoing` (any, if None) open on `day`, else the next one to start: the one an offer or a
    /// plan made on `day` is for.
    pub fn open_or_next(
        &self,
        outgoing: Option<SeasonClass>,
        day: NaiveDate,
    ) -> Option<SeasonWindow> {
        (day.year() - 1..=day.year() + 1)
            .flat_map(|y| self.year(y))
            .filter(|w| w.ends_on >= day && outgoing.is_none_or(|o| w.outgoing == o))
            .min_by_key(|w| w.starts_on)
    }

    /// The next window of any kind to start after `day` (a window already open is not "next").
    pub fn next_to_start(&self, day: NaiveDate) -> Option<SeasonWindow> {
        (day.year()..=day.year() + 1)
            .flat_map(|y| self.year(y))
            .filter(|w| w.starts_on > day)
            .min_by_key(|w| w.starts_on)
    }

    /// The latest window of `outgoing` that starts on or before `day`.
    pub fn latest_of(&self, outgoing: SeasonClass, day: NaiveDate) -> Option<SeasonWindow> {
        [day.year() - 1, day.year()]
            .into_iter()
            .flat_map(|y| self.year(y))
            .filter(|w| w.outgoing == outgoing && w.starts_on <= day)
            .max_by_key(|w| w.starts_on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        let kind = |k: &str, o, sm, sd, em, ed| WindowKind {
            window_kind: k.into(),
            name: k.into(),
            named: true,
            outgoing: o,
            start_month: sm,
            start_day: sd,
            end_month: em,
            end_day: ed,
        };
        Calendar {
            kinds: vec![
                kind("spring", SeasonClass::Winter, 3, 1, 5, 31),
                kind("early_winter", SeasonClass::SpringAutumn, 11, 15, 1, 15),
                kind("leap", SeasonClass::Summer, 2, 29, 3, 10),
            ],
            overrides: vec![Override {
                window_kind: "spring".into(),
                year: 2027,
                starts_on: NaiveDate::from_ymd_opt(2027, 3, 20).expect("test data"),
                ends_on: NaiveDate::from_ymd_opt(2027, 6, 10).expect("test data"),
            }],
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test data")
    }

    #[test]
    fn defaults_overrides_and_year_wrap() {
        let c = cal();
        let w = c.window("spring", 2026).expect("test data");
        assert_eq!(
            (w.starts_on, w.ends_on, w.overridden),
            (d(2026, 3, 1), d(2026, 5, 31), false)
        );
        let w = c.window("spring", 2027).expect("test data");
        assert_eq!(
            (w.starts_on, w.ends_on, w.overridden),
            (d(2027, 3, 20), d(2027, 6, 10), true)
        );
        let w = c.window("early_winter", 2026).expect("test data");
        assert_eq!(w.ends_on, d(2027, 1, 15));
        assert_eq!(
            c.window("leap", 2026).expect("test data").starts_on,
            d(2026, 2, 28)
        );
        assert_eq!(
            c.window("leap", 2028).expect("test data").starts_on,
            d(2028, 2, 29)
        );
    }

    #[test]
    fn open_windows_and_ids() {
        let c = cal();
        let open: Vec<String> = c.open_on(d(2027, 1, 5)).into_iter().map(|w| w.id).collect();
        assert_eq!(open, ["2026-early_winter"]);
        assert_eq!(
            c.pick("window", None, d(2026, 4, 1), None)
                .expect("test data")
                .id,
            "2026-spring"
        );
        assert!(c.pick("window", None, d(2026, 7, 1), None).is_err());
        assert_eq!(
            c.parse_id("window", "2025-spring").expect("test data").year,
            2025
        );
        assert!(c.parse_id("window", "spring").is_err());
        assert!(c.parse_id("window", "2025-monsoon").is_err());
        assert_eq!(
            c.latest_of(SeasonClass::Winter, d(2026, 2, 1))
                .expect("test data")
                .id,
            "2025-spring"
        );
        let id = |w: Option<SeasonWindow>| w.map(|w| w.id);
        assert_eq!(
            id(c.open_or_next(Some(SeasonClass::Winter), d(2026, 12, 2))),
            Some("2027-spring".into())
        );
        assert_eq!(
            id(c.open_or_next(Some(SeasonClass::Winter), d(2026, 4, 2))),
            Some("2026-spring".into())
        );
        assert_eq!(
            id(c.open_or_next(None, d(2026, 12, 2))),
            Some("2026-early_winter".into())
        );
        assert_eq!(
            id(c.next_to_start(d(2026, 12, 2))),
            Some("2027-leap".into())
        );
    }
}
