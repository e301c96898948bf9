//! Why a list entry ranks where it does, in the reader's words, from the entry's fields (as the app's pages word it).

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::money::money;
use crate::export::Wording;

/// Money as the pages show it: `¥1,234.50`.
fn yuan(cents: f64) -> String {
    let cents = cents.round() as i64;
    if cents < 0 {
        format!("-¥{}", money(-cents))
    } else {
        format!("¥{}", money(cents))
    }
}

fn percent(p: f64) -> String {
    format!("{:.0}", (p * 100.0).round())
}

/// The reason of an entry of any list (or of a campaign's snapshot of one), shaped by the fields it has: the
/// reminders' outstanding garments, the storage upsell's candidates, the special sizes' share, the at-risk
/// rhythm. `None` for an entry of none of these shapes.
fn reason(words: &Wording, x: &Value) -> Option<String> {
    let num = |k: &str| x.get(k).and_then(Value::as_f64);
    let text = |key: &str, parts: &[(&str, &str)]| words.text(key, parts);
    let mut parts = Vec::new();
    if let (Some(outstanding), Some(expected)) = (num("outstanding"), num("expected_value_cents")) {
        let worn = num("in_use_value_cents").unwrap_or(expected);
        parts.push(text(
            "reason.outstanding",
            &[("n", &outstanding.to_string()), ("value", &yuan(worn))],
        ));
        if let Some(kinds) = kinds(words, x) {
            parts.push(kinds);
        }
        let usual = x
            .pointer("/usual/usual_date")
            .and_then(Value::as_str)
            .and_then(|d| d.parse::<NaiveDate>().ok());
        if let Some(usual) = usual {
            let late = (words.on() - usual).num_days();
            let date = words.date(usual);
            parts.push(if late > 0 {
                text(
                    "reason.usual_late",
                    &[("date", &date), ("days", &late.to_string())],
                )
            } else {
                text("reason.usual", &[("date", &date)])
            });
        }
        if let Some(p) = num("p_active") {
            parts.push(text("reason.active", &[("pct", &percent(p))]));
        }
        if let Some(v) = num("call_value_cents") {
            parts.push(text("reason.call_value", &[("value", &yuan(v))]));
        }
    } else if let (Some(n), Some(fee)) = (num("candidates"), num("estimated_fee_cents")) {
        parts.push(text(
            "reason.to_store",
            &[("n", &n.to_string()), ("fee", &yuan(fee))],
        ));
        if let Some(p) = num("p_active") {
            parts.push(text("reason.active", &[("pct", &percent(p))]));
        }
    } else if let (Some(n), Some(all)) = (num("special_garments"), num("garments")) {
        let sizes: Vec<&str> = x
            .get("sizes")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(text(
            "reason.special",
            &[
                ("n", &n.to_string()),
                ("all", &all.to_string()),
                ("pct", &percent(num("share").unwrap_or(0.0))),
                ("sizes", &sizes.join(", ")),
            ],
        ));
        if let Some(spend) = num("yearly_spend_cents") {
            parts.push(text("reason.spends", &[("money", &yuan(spend))]));
        }
    } else if let (Some(days), Some(usual)) = (num("days_since"), num("usual_interval_days")) {
        parts.push(text(
            "reason.overdue",
            &[
                ("days", &format!("{:.0}", days.round())),
                ("usual", &format!("{:.0}", usual.round())),
                ("x", &format!("{:.1}", days / usual.max(1.0))),
            ],
        ));
        if let Some(loss) = num("yearly_loss_cents") {
            parts.push(text("reason.spends", &[("money", &yuan(loss))]));
        }
        if let Some(p) = num("p_active") {
            parts.push(text("reason.active", &[("pct", &percent(p))]));
            let gone = x.get("status").and_then(Value::as_str) == Some("gone");
            parts.push(text(
                if gone {
                    "reason.gone"
                } else {
                    "reason.slipping"
                },
                &[],
            ));
        }
    } else {
        return None;
    }
    if let Some(tier) = x.get("tier").and_then(Value::as_str) {
        parts.push(text("reason.tier", &[("tier", &words.word("tier", tier))]));
    }
    if x.get("open_complaint").and_then(Value::as_bool) == Some(true) {
        parts.push(text("reason.complaint", &[]));
    }
    Some(words.join(&parts))
}

/// The outstanding garments' kinds, the most numerous first: `大衣 ×2、羽绒服`.
fn kinds(words: &Wording, x: &Value) -> Option<String> {
    let garments = x.get("garments")?.as_array()?;
    let counts = by_count(garments.iter().filter_map(|g| g.get("kind")?.as_str()));
    if counts.is_empty() {
        return None;
    }
    let named: Vec<String> = counts
        .into_iter()
        .map(|(k, n)| {
            let word = words.word("kind", k);
            if n > 1 {
                format!("{word} ×{n}")
            } else {
                word
            }
        })
        .collect();
    Some(words.series(&named))
}

/// Each distinct item with how often it comes, the most frequent first (ties in order of first appearance).
pub(crate) fn by_count<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<(T, usize)> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(k, _)| *k == item) {
            Some((_, n)) => *n += 1,
            None => counts.push((item, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
}

/// The reason cell of an export: the reader's words where an entry's shape is known, else `english` as the API
/// carries it (and always for a program or an English reader).
pub fn reason_cell<T: serde::Serialize>(words: &Wording, entry: &T, english: &str) -> String {
    if words.lang().is_none() {
        return english.to_owned();
    }
    serde_json::to_value(entry)
        .ok()
        .and_then(|x| reason(words, &x))
        .unwrap_or_else(|| english.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use serde_json::json;

    /// The wording of a list of 2026-04-10 in Shanghai.
    fn words(lang: Option<Lang>) -> Wording {
        let shanghai = chrono::FixedOffset::east_opt(8 * 3600).expect("test data");
        Wording::new(
            lang,
            NaiveDate::from_ymd_opt(2026, 4, 10).expect("test data"),
            shanghai,
        )
    }

    fn zh() -> Wording {
        words(Some(Lang::ZhCn))
    }

    #[test]
    fn a_reminder_reads_in_chinese() {
        let entry = json!({
            "outstanding": 3, "expected_value_cents": 60000, "in_use_value_cents": 42000,
            "garments": [{"kind": "coat"}, {"kind": "down_jacket"}, {"kind": "coat"}],
            "usual": {"usual_date": "2026-04-05"}, "p_active": 0.923, "call_value_cents": 15000,
            "tier": "gold", "open_complaint": true
        });
        assert_eq!(
            reason(&zh(), &entry).expect("test data"),
            "3 件衣物待送洗，仍在穿的约 ¥420.00；大衣 ×2、羽绒服；通常在 2026年4月5日 前送洗（已过 5 天）；\
             仍是客户的可能 92%；致电预计多收约 ¥150.00；金牌客户；有未解决的投诉"
        );
    }

    #[test]
    fn each_list_shape_has_its_reason() {
        let overdue = json!({"days_since": 90.4, "usual_interval_days": 30.0, "yearly_loss_cents": 120000,
                             "p_active": 0.2, "status": "gone"});
        assert_eq!(
            reason(&zh(), &overdue).expect("test data"),
            "上次取件在 90 天前，通常每 30 天一次（是平常间隔的 3.0 倍）；每年消费约 ¥1,200.00；仍是客户的可能 20%；\
             可能已流失：挽回电话"
        );
        let sizes =
            json!({"special_garments": 2, "garments": 3, "share": 0.667, "sizes": ["4XL", "46"]});
        assert_eq!(
            reason(&zh(), &sizes).expect("test data"),
            "3 件中 2 件为特殊尺码（67%）：4XL, 46"
        );
        let store = json!({"candidates": 2, "estimated_fee_cents": 36000, "p_active": 0.81});
        assert_eq!(
            reason(&zh(), &store).expect("test data"),
            "2 件衣物可存放，约 ¥360.00；仍是客户的可能 81%"
        );
        assert_eq!(reason(&zh(), &json!({"rank": 1})), None);
    }

    #[test]
    fn programs_keep_the_api_reason() {
        let program = words(None);
        let entry = json!({"candidates": 2, "estimated_fee_cents": 36000});
        assert_eq!(reason_cell(&program, &entry, "as sent"), "as sent");
        let english = words(Some(Lang::En));
        assert_eq!(reason_cell(&english, &entry, "as sent"), "as sent");
        assert_eq!(
            reason_cell(&zh(), &entry, "as sent"),
            "2 件衣物可存放，约 ¥360.00"
        );
    }
}
