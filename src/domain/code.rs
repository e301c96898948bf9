//! Door-label and garment-tag codes: random, typo-resistant identifiers with a check character.

use std::fmt;

use rand::Rng;

/// Crockford base32: no I, L, O or U, so codes survive handwriting and phone keyboards.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters after the prefix: 50 bits, so codes cannot be guessed or enumerated.
const BODY_LEN: usize = 10;
/// Prefix + body + check character.
pub const CODE_LEN: usize = 1 + BODY_LEN + 1;

/// Why a scanned or typed code was rejected before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Nothing was typed or scanned.
    #[error("the code is empty")]
    Empty,
    #[error("a code has {expected} characters, this one has {found}")]
    /// Too many or too few characters.
    WrongLength {
        /// Characters a code has.
        expected: usize,
        /// Characters given.
        found: usize,
    },
    /// A character that no code contains.
    #[error("'{0}' cannot appear in a code")]
    InvalidCharacter(char),
    #[error("this is not a {expected} code")]
    /// A valid code of the other kind (a tag where a door label was expected).
    WrongKind {
        /// The kind expected, in words.
        expected: &'static str,
    },
    /// The check character does not match.
    #[error("the check character does not match: the code was misread or mistyped")]
    CheckFailed,
}

/// What a code identifies; the prefix letter tells them apart and is covered by the check character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// A door label (`D...`).
    Door,
    /// A garment tag (`G...`).
    Tag,
}

impl CodeKind {
    fn prefix(self) -> u8 {
        match self {
            CodeKind::Door => b'D',
            CodeKind::Tag => b'G',
        }
    }

    fn noun(self) -> &'static str {
        match self {
            CodeKind::Door => "door label",
            CodeKind::Tag => "garment tag",
        }
    }
}

fn value_of(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c)
}

/// Luhn mod 32: catches every single-character error and most adjacent swaps.
fn check_char(payload: &[u8]) -> u8 {
    let n = ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for &c in payload.iter().rev() {
        let mut addend = factor * value_of(c).unwrap_or(0);
        factor = if factor == 2 { 1 } else { 2 };
        addend = addend / n + addend % n;
        sum += addend;
    }
    ALPHABET[(n - sum % n) % n]
}

/// Folds what scanners and people type into canonical form: upper case, no separators, Crockford aliases.
fn canonical(input: &str) -> Result<Vec<u8>, CodeError> {
    let mut out = Vec::with_capacity(CODE_LEN);
    for ch in input.trim().chars() {
        let c = match ch.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || value_of(c as u8).is_none() {
            return Err(CodeError::InvalidCharacter(ch));
        }
        out.push(c as u8);
    }
    Ok(out)
}

fn parse_kind(input: &str, kind: CodeKind) -> Result<String, CodeError> {
    let bytes = canonical(input)?;
    if bytes.is_empty() {
        return Err(CodeError::Empty);
    }
    if bytes.len() != CODE_LEN {
        return Err(CodeError::WrongLength {
            expected: CODE_LEN,
            found: bytes.len(),
        });
    }
    if bytes[0] != kind.prefix() {
        return Err(CodeError::WrongKind {
            expected: kind.noun(),
        });
    }
    let (payload, check) = bytes.split_at(CODE_LEN - 1);
    if check_char(payload) != check[0] {
        return Err(CodeError::CheckFailed);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn generate_kind<R: Rng + ?Sized>(rng: &mut R, kind: CodeKind) -> String {
    let mut payload = Vec::with_capacity(CODE_LEN);
    payload.push(kind.prefix());
    payload.extend((0..BODY_LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())]));
    payload.push(check_char(&payload));
    String::from_utf8_lossy(&payload).into_owned()
}

fn grouped(code: &str) -> String {
    let (a, rest) = code.split_at(4);
    let (b, c) = rest.split_at(4);
    format!("{a}-{b}-{c}")
}

macro_rules! code_type {
    ($name:ident, $kind:expr) => {
        impl $name {
            /// A fresh random code; collisions are caught by the database's unique key.
            pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> Self {
                Self(generate_kind(rng, $kind))
            }

            /// Accepts scanner and keyboard input (any case, hyphens, spaces, trailing Enter).
            pub fn parse(input: &str) -> Result<Self, CodeError> {
                parse_kind(input, $kind).map(Self)
            }

            /// The canonical code (upper case, no separators).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The form printed under the barcode, easy to read aloud: `D7K3-QX9M-2PAF`.
            pub fn grouped(&self) -> String {
                grouped(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The code on a customer's door label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct DoorCode(String);
code_type!(DoorCode, CodeKind::Door);

/// The code on a permanent garment tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TagCode(String);
code_type!(TagCode, CodeKind::Tag);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn generated_codes_parse_back() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let door = DoorCode::generate(&mut rng);
            assert_eq!(DoorCode::parse(door.as_str()), Ok(door.clone()));
            let tag = TagCode::generate(&mut rng);
            assert_eq!(TagCode::parse(tag.as_str()), Ok(tag));
        }
    }

    #[test]
    fn keyboard_input_is_folded() {
        let mut rng = StdRng::seed_from_u64(1);
        let code = DoorCode::generate(&mut rng);
        let typed = format!(" {}\r\n", code.grouped().to_lowercase());
        assert_eq!(DoorCode::parse(&typed), Ok(code));
    }

    #[test]
    fn every_single_character_error_is_caught() {
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..50 {
            let code = DoorCode::generate(&mut rng);
            for pos in 1..CODE_LEN {
                for &c in ALPHABET {
                    let mut bytes = code.as_str().as_bytes().to_vec();
                    if bytes[pos] == c {
                        continue;
                    }
                    bytes[pos] = c;
                    let typo = String::from_utf8(bytes).expect("test data");
                    assert_eq!(
                        DoorCode::parse(&typo),
                        Err(CodeError::CheckFailed),
                        "{typo}"
                    );
                }
            }
        }
    }

    #[test]
    fn most_adjacent_swaps_are_caught() {
        let mut rng = StdRng::seed_from_u64(3);
        let (mut swaps, mut caught) = (0, 0);
        for _ in 0..200 {
            let code = DoorCode::generate(&mut rng);
            for pos in 1..CODE_LEN - 1 {
                let mut bytes = code.as_str().as_bytes().to_vec();
                if bytes[pos] == bytes[pos + 1] {
                    continue;
                }
                bytes.swap(pos, pos + 1);
                swaps += 1;
                if DoorCode::parse(std::str::from_utf8(&bytes).expect("test data")).is_err() {
                    caught += 1;
                }
            }
        }
        assert!(caught * 100 >= swaps * 90, "caught {caught} of {swaps}");
    }

    #[test]
    fn kinds_are_not_interchangeable() {
        let mut rng = StdRng::seed_from_u64(4);
        let tag = TagCode::generate(&mut rng);
        assert_eq!(
            DoorCode::parse(tag.as_str()),
            Err(CodeError::WrongKind {
                expected: "door label"
            })
        );
    }

    #[test]
    fn malformed_input_is_rejected() {
        assert_eq!(DoorCode::parse("   "), Err(CodeError::Empty));
        assert_eq!(
            DoorCode::parse("D123"),
            Err(CodeError::WrongLength {
                expected: 12,
                found: 4
            })
        );
        assert_eq!(
            DoorCode::parse("D12345678€AB"),
            Err(CodeError::InvalidCharacter('€'))
        );
        assert_eq!(
            DoorCode::parse("D1234567U9AB"),
            Err(CodeError::InvalidCharacter('U'))
        );
    }
}
