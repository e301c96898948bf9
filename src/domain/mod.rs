//! Domain vocabulary: codes, garment descriptions, services and contact kinds, parsed once at the edge.

pub mod clock;
pub mod code;
pub mod money;
pub mod phone;
pub mod username;

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[allow(missing_docs, reason = "a vocabulary's variants are its words")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "text", rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the order declared: for tables computed over the whole vocabulary.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The snake_case name stored in the database and sent in JSON.
            pub fn name(self) -> String {
                serde_json::to_value(self)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }
        }
    };
}

vocabulary!(
    /// Whose clothes: the first split of every wardrobe report.
    Category { Men, Women, Children }
);

vocabulary!(
    /// When a garment is worn; drives the season-change reminders.
    SeasonClass { Winter, Summer, SpringAutumn, AllSeason }
);

vocabulary!(
    /// What the garment is; a fixed list so reports and storage rules can rely on it.
    GarmentKind {
        Coat, Jacket, DownJacket, Suit, Blazer, Trousers, Skirt, Dress, Shirt, Blouse, Sweater, TShirt, Jeans,
        Scarf, Tie, Uniform, Sportswear, Bedding, Curtain, Other,
    }
);

vocabulary!(
    /// Main material; fur, leather and down decide storage and care.
    Material {
        Wool, Cashmere, Silk, Leather, Suede, Fur, Down, Cotton, Linen, Denim, Synthetic, Blend, Other,
    }
);

vocabulary!(
    /// The work done on one garment in one pickup.
    Service { DryClean, Wash, Press, WashAndPress, Repair, LeatherCare }
);

vocabulary!(
    /// Every contact with a customer; complaints stay open until resolved.
    InteractionKind { Call, Visit, Complaint, Note }
);

vocabulary!(
    /// How a contact happened.
    Channel { Phone, Door, Sms, Email, InPerson, App, Other }
);

vocabulary!(
    /// Staff roles, lowest to highest; each role may do everything the ones below it may.
    Role { Pickup, Dispatcher, Manager, Admin }
);

impl Service {
    /// Whether this service cleans the garment (and so updates its last cleaning and cleaning price); pressing
    /// and repairs do not. The SQL function `is_cleaning` says the same for the rollups.
    pub fn is_cleaning(self) -> bool {
        matches!(
            self,
            Service::DryClean | Service::Wash | Service::WashAndPress | Service::LeatherCare
        )
    }
}

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Pickup => 0,
            Role::Dispatcher => 1,
            Role::Manager => 2,
            Role::Admin => 3,
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn at_least(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("unknown role '{s}': use pickup, dispatcher, manager or admin"))
    }
}

/// One bad field of a request, with a message a person can act on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as the request names it (`lines[2].price_cents`).
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

/// Trims a free-text field; blank means absent.
pub fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Checks a free-text field's length, naming the field when it is too long.
pub fn check_len(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value {
        if v.chars().count() > max {
            errors.push(FieldError {
                field: field.to_owned(),
                message: format!("at most {max} characters"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.at_least(Role::Dispatcher));
        assert!(Role::Dispatcher.at_least(Role::Pickup));
        assert!(!Role::Pickup.at_least(Role::Dispatcher));
        assert_eq!("manager".parse::<Role>(), Ok(Role::Manager));
        assert!("boss".parse::<Role>().is_err());
    }

    #[test]
    fn vocabulary_uses_snake_case() {
        assert_eq!(
            serde_json::to_string(&SeasonClass::SpringAutumn).expect("test data"),
            "\"spring_autumn\""
        );
        assert_eq!(
            serde_json::from_str::<GarmentKind>("\"down_jacket\"").expect("test data"),
            GarmentKind::DownJacket
        );
    }
}
