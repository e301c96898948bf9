//! Money in fen (cents of a yuan): stored and computed as integers, shown as people read it.

use serde::{Deserialize, Serialize};

/// An amount in fen. Integers only: money is never a float in Doorstep.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// The amount in fen.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses yuan written plainly with at most two decimals (`120.50`, `0.5`, `7`), refusing signs,
    /// separators and amounts above `max_cents`.
    pub fn parse_yuan(raw: &str, max_cents: i64) -> Result<Money, String> {
        let s = raw.trim();
        if s.starts_with('-') {
            return Err("an amount cannot be negative".into());
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || s.ends_with('.') {
            return Err("write yuan with a dot and at most two decimals, like 120.50".into());
        }
        if frac.len() > 2 {
            return Err("at most two decimals (whole fen)".into());
        }
        let too_big = || format!("at most {}", Money(max_cents));
        let whole = whole.trim_start_matches('0');
        if whole.len() > 15 {
            return Err(too_big());
        }
        let yuan: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_big())?
        };
        let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| too_big())?;
        let cents = yuan
            .checked_mul(100)
            .and_then(|c| c.checked_add(fen))
            .filter(|c| *c <= max_cents)
            .ok_or_else(too_big)?;
        Ok(Money(cents))
    }
}

impl std::fmt::Display for Money {
    /// Yuan with thousands separators and two decimals: 123456 fen is "1,234.56".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let c = self.0.unsigned_abs();
        let whole = (c / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}{grouped}.{:02}", c % 100)
    }
}

/// Money as a person reads it: 123456 fen is "1,234.56".
pub fn money(cents: i64) -> String {
    Money(cents).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(123456), "1,234.56");
        assert_eq!(money(100_000_000), "1,000,000.00");
        assert_eq!(money(-250), "-2.50");
        assert_eq!(money(i64::MIN), "-92,233,720,368,547,758.08");
    }

    #[test]
    fn yuan_parse_to_fen() {
        let max = 100_000_000;
        assert_eq!(Money::parse_yuan("120.50", max), Ok(Money(12050)));
        assert_eq!(Money::parse_yuan(" 7 ", max), Ok(Money(700)));
        assert_eq!(Money::parse_yuan("0.5", max), Ok(Money(50)));
        assert_eq!(Money::parse_yuan("1000000.00", max), Ok(Money(max)));
        assert!(Money::parse_yuan("1000000.01", max).is_err());
        assert!(Money::parse_yuan("99999999999999999999", max).is_err());
        assert!(Money::parse_yuan("-1", max).is_err());
        assert!(Money::parse_yuan("1,000", max).is_err());
        assert!(Money::parse_yuan("1.234", max).is_err());
        assert!(Money::parse_yuan("1.", max).is_err());
        assert!(Money::parse_yuan("", max).is_err());
        assert!(Money::parse_yuan("¥5", max).is_err());
    }
}
