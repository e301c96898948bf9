//! Staff usernames: one case-insensitive form, a few characters, and names the system keeps for itself.

use serde::Serialize;

/// A staff member's sign-in name, lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Username(String);

/// Names no person may take: accounts the system records work under.
pub const RESERVED: &[&str] = &["import", "system", "root", "doorstep", "anonymous"];
/// Prefix of the demo accounts, which `doorstep demo` recreates on every start.
pub const DEMO_PREFIX: &str = "demo-";

/// Why a username was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Wrong length or characters.
    #[error("a username has 3 to 64 letters, digits, '.', '_' or '-'")]
    Shape,
    /// A name the system keeps for itself.
    #[error("this username is reserved for the system; choose another")]
    Reserved,
}

impl Username {
    /// Folds case and checks the shape; reserved names pass (see [`Username::parse_for_person`]).
    pub fn parse(input: &str) -> Result<Username, UsernameError> {
        let u = input.trim().to_lowercase();
        let shape = (3..=64).contains(&u.len())
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if shape {
            Ok(Username(u))
        } else {
            Err(UsernameError::Shape)
        }
    }

    /// A name for a new person's account: well-formed and not one the system keeps.
    pub fn parse_for_person(input: &str) -> Result<Username, UsernameError> {
        let u = Username::parse(input)?;
        if u.is_reserved() {
            Err(UsernameError::Reserved)
        } else {
            Ok(u)
        }
    }

    /// Whether the system keeps this name (the import account, the demo accounts, ...).
    pub fn is_reserved(&self) -> bool {
        RESERVED.contains(&self.0.as_str()) || self.0.starts_with(DEMO_PREFIX)
    }

    /// Whether this is an account the system records work under (`import`, ...): nobody may sign in as it, so it
    /// can be neither activated nor given a password.
    pub fn is_system(&self) -> bool {
        RESERVED.contains(&self.0.as_str())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_keep_their_shape() {
        assert_eq!(
            Username::parse("  Li.Wei_2 ").map(|u| u.to_string()),
            Ok("li.wei_2".to_owned())
        );
        assert_eq!(Username::parse("ab"), Err(UsernameError::Shape));
        assert_eq!(Username::parse("wang fang"), Err(UsernameError::Shape));
        assert_eq!(Username::parse("王芳"), Err(UsernameError::Shape));
        assert_eq!(Username::parse(&"x".repeat(65)), Err(UsernameError::Shape));
    }

    #[test]
    fn people_cannot_take_system_names() {
        for name in ["import", "IMPORT", "system", "demo-pickup", "Demo-Manager"] {
            assert_eq!(
                Username::parse_for_person(name),
                Err(UsernameError::Reserved),
                "{name}"
            );
            assert!(Username::parse(name).is_ok());
        }
        assert!(Username::parse_for_person("importer").is_ok());
    }
}
