//! Cell values as people type them: prices, times, booleans and vocabulary in either language.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::de::value::StrDeserializer;
use serde::de::DeserializeOwned;

use super::columns::vocab_aliases;
use crate::i18n::{self, fold, Lang};

/// Full-width digits, letters and signs (as typed with a Chinese input method) as ASCII.
pub(super) fn half_width(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
                '\u{3000}' => ' ',
                c => c,
            })
            .collect(),
    )
}

/// `true/false`, `yes/no`, `1/0` or `是/否` in any case; empty is false.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match half_width(raw.trim()).to_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" | "否" | "不" => Ok(false),
        "true" | "yes" | "y" | "1" | "是" => Ok(true),
        _ => Err("use true/false, yes/no, 1/0 or 是/否".into()),
    }
}

/// A non-negative amount in yuan with at most two decimals (`120.50`, `¥120`, `120元`), in cents (fen).
pub fn parse_price(raw: &str) -> Result<i64, String> {
    let folded = half_width(raw.trim());
    let mut s = folded.trim();
    for sign in ["¥", "￥", "RMB", "rmb", "CNY", "cny"] {
        if let Some(rest) = s.strip_prefix(sign) {
            s = rest.trim_start();
            break;
        }
    }
    for unit in ["元整", "元", "块"] {
        if let Some(rest) = s.strip_suffix(unit) {
            s = rest.trim_end();
            break;
        }
    }
    if s.starts_with('-') {
        return Err("a price cannot be negative".into());
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || s.ends_with('.') {
        return Err(format!(
            "'{}' is not an amount: write yuan with a dot and at most two decimals, like 120.50, ¥120 or 120元, without thousands separators",
            shorten(raw.trim())
        ));
    }
    if frac.len() > 2 {
        return Err("at most two decimals (whole fen)".into());
    }
    let too_big = || format!("at most {}.00", crate::pickups::MAX_PRICE_CENTS / 100);
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
    if cents > crate::pickups::MAX_PRICE_CENTS {
        return Err(too_big());
    }
    Ok(cents)
}

/// `2026-3-5`, `2026/3/5`, `2026.3.5` (year first; month and day with or without a leading zero).
pub(super) fn local_date(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split(['-', '/', '.']);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || m.is_empty()
        || m.len() > 2
        || d.is_empty()
        || d.len() > 2
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// `9:30`, `09:30:15` or `09:30:15.250`.
pub(super) fn local_time(s: &str) -> Option<NaiveTime> {
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
}

/// RFC 3339, or a date (start of the day) or date and time in company time: `2026-11-23`, `2026/3/5 9:30`,
/// `2026年3月5日`, `2026年3月5日 9:30`.
pub fn parse_time(raw: &str, offset: FixedOffset) -> Result<DateTime<Utc>, String> {
    let s = half_width(raw.trim());
    let s = s.trim();
    let at = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else {
        let normal = s
            .replace(['年', '月'], "-")
            .replace(['日', '号'], " ")
            .replace('时', ":")
            .replace(['分', '秒'], "");
        let normal = normal.trim();
        let (date, time) = match normal.split_once([' ', 'T']) {
            Some((d, t)) => (d, Some(t.trim())),
            None => (normal, None),
        };
        let local = local_date(date).and_then(|d| match time {
            None | Some("") => Some(d.and_time(NaiveTime::MIN)),
            Some(t) => local_time(t.trim_end_matches(':')).map(|t| NaiveDateTime::new(d, t)),
        });
        match local.and_then(|l| offset.from_local_datetime(&l).single()) {
            Some(t) => t.with_timezone(&Utc),
            None => {
                return Err(format!(
                    "'{}' is not a date: use 2026-11-23, 2026/11/23 09:30 or 2026年11月23日 (company time), or 2026-11-23T09:30:00+08:00",
                    shorten(raw.trim())
                ))
            }
        }
    };
    if at < crate::domain::clock::earliest_event() {
        return Err("is before 2000: check the date".into());
    }
    Ok(at)
}

/// A value echoed in a message, cut short so a misplaced cell cannot flood the report.
pub(super) fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// Captures a failed vocabulary read.
#[derive(Debug)]
pub(super) struct VocabError;

impl fmt::Display for VocabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a known value")
    }
}

impl std::error::Error for VocabError {}

impl serde::de::Error for VocabError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        VocabError
    }
}

/// The vocabulary value a cell names: its stored name (`down_jacket`, `Down jacket`), its label in any language
/// of the catalogue (`羽绒服`), or a common synonym (`织补`).
pub fn parse_vocab<T: DeserializeOwned>(raw: &str, group: &str, noun: &str) -> Result<T, String> {
    let value = i18n::value_for_label(group, raw).or_else(|| {
        vocab_aliases()
            .get(&format!("{group}.{}", fold(raw)))
            .copied()
    });
    value
        .and_then(|v| T::deserialize(StrDeserializer::<VocabError>::new(v)).ok())
        .ok_or_else(|| {
            let prefix = format!("{group}.");
            let choices: Vec<String> = i18n::catalogue(Lang::En)
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix).map(|v| (k, v)))
                .map(|(k, v)| format!("{v}/{}", i18n::text(Lang::ZhCn, k)))
                .collect();
            format!(
                "'{}' is not a {noun}: use one of {}",
                shorten(raw.trim()),
                choices.join(", ")
            )
        })
}
