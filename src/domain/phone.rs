//! Phone numbers as workers type them: checked once, stored as typed, searched by their digits.

use serde::Serialize;

/// A phone number: 5 to 20 digits, and only `+ - ( ) .` or spaces besides.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Phone(String);

/// Why a phone number was refused.
pub const PHONE_RULE: &str =
    "a phone number has 5 to 20 digits and only + - ( ) . or spaces besides";

impl Phone {
    /// Checks a typed number; surrounding spaces are dropped.
    pub fn parse(input: &str) -> Result<Phone, &'static str> {
        let phone = input.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if allowed && (5..=20).contains(&digits) {
            Ok(Phone(phone.to_owned()))
        } else {
            Err(PHONE_RULE)
        }
    }

    /// The number as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its digits only, as searches and `tel:` links use them (a leading `+` kept).
    pub fn dialable(&self) -> String {
        let plus = if self.0.starts_with('+') { "+" } else { "" };
        let digits: String = self.0.chars().filter(char::is_ascii_digit).collect();
        format!("{plus}{digits}")
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_people_type_are_accepted() {
        for ok in [
            "138 0013 8000",
            "+86 21 5555-0101",
            "(021) 6666.7777",
            "12345",
        ] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Phone::parse(" +86 138-0013-8000 ").map(|p| p.dialable()),
            Ok("+8613800138000".to_owned())
        );
    }

    #[test]
    fn other_text_is_refused() {
        for bad in [
            "1234",
            "123456789012345678901",
            "138 0013 8000 ext",
            "电话123456",
            "12\u{0}345",
        ] {
            assert_eq!(Phone::parse(bad), Err(PHONE_RULE), "{bad}");
        }
    }
}
