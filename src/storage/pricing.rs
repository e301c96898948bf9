//! Pure storage rules: the price a garment pays, the insurance premium, totals, and which kind of zone it needs.

use serde::Serialize;

use crate::domain::{GarmentKind, Material};

/// Materials that suffer in a humid summer at home, whatever their season class.
pub const DELICATE: &[&str] = &["fur", "leather", "suede", "down", "cashmere", "silk"];

/// One row of the storage price list: a monthly fee for a garment kind and/or material (`None` matches any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PriceRow {
    pub(crate) price_id: i32,
    pub(crate) kind: Option<GarmentKind>,
    pub(crate) material: Option<Material>,
    pub(crate) monthly_cents: i64,
}

impl PriceRow {
    fn matches(&self, kind: GarmentKind, material: Option<Material>) -> bool {
        self.kind.is_none_or(|k| k == kind) && self.material.is_none_or(|m| Some(m) == material)
    }

    fn specificity(&self) -> u8 {
        u8::from(self.kind.is_some()) + u8::from(self.material.is_some())
    }
}

/// The price-list row for a garment: the most specific matching row; between a kind-only and a material-only
/// row the dearer wins (a fur coat pays the fur rate). The storage-upsell list estimates fees the same way.
pub fn price_for(
    prices: &[PriceRow],
    kind: GarmentKind,
    material: Option<Material>,
) -> Option<&PriceRow> {
    prices
        .iter()
        .filter(|p| p.matches(kind, material))
        .max_by(|a, b| {
            (
                a.specificity(),
                a.monthly_cents,
                std::cmp::Reverse(a.price_id),
            )
                .cmp(&(
                    b.specificity(),
                    b.monthly_cents,
                    std::cmp::Reverse(b.price_id),
                ))
        })
}

/// The fee for a term: the monthly price times the number of months.
pub fn fee_cents(monthly_cents: i64, term_months: i32) -> Option<i64> {
    monthly_cents.checked_mul(i64::from(term_months))
}

/// The insurance premium on a declared value at a rate in basis points, rounded half up to the cent.
pub fn premium_cents(declared_cents: i64, rate_bp: i32) -> Option<i64> {
    if declared_cents < 0 || rate_bp < 0 {
        return None;
    }
    let scaled = i128::from(declared_cents) * i128::from(rate_bp);
    i64::try_from((scaled + 5_000) / 10_000).ok()
}

/// What one item costs, as the receipt and the order record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemCharge {
    pub(crate) monthly_cents: i64,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
}

/// Charges one item: fee for the term and premium on its declared value.
pub fn charge(
    monthly_cents: i64,
    term_months: i32,
    declared_cents: i64,
    rate_bp: i32,
) -> Option<ItemCharge> {
    Some(ItemCharge {
        monthly_cents,
        fee_cents: fee_cents(monthly_cents, term_months)?,
        premium_cents: premium_cents(declared_cents, rate_bp)?,
    })
}

/// The kinds of place a warehouse keeps garments in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ZoneKind {
    /// Cool, dry and dark: fur, leather and suede crack, mould or lose colour elsewhere.
    ColdVault,
    /// Hanging space for garments that must not be folded.
    Rack,
    /// Folded storage for everything else.
    Bin,
}

impl ZoneKind {
    /// The kind as the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::ColdVault => "cold_vault",
            ZoneKind::Rack => "rack",
            ZoneKind::Bin => "bin",
        }
    }
}

/// Materials that must be kept in a cold vault, wherever the caller would put them.
pub fn needs_cold_vault(material: Option<Material>) -> bool {
    matches!(
        material,
        Some(Material::Fur | Material::Leather | Material::Suede)
    )
}

/// Where a garment goes when no zone is named: cold vault for fur and leather, a rack for what hangs, else a bin.
pub fn default_zone_kind(kind: GarmentKind, material: Option<Material>) -> ZoneKind {
    if needs_cold_vault(material) {
        return ZoneKind::ColdVault;
    }
    let hangs = matches!(
        kind,
        GarmentKind::Coat
            | GarmentKind::Jacket
            | GarmentKind::DownJacket
            | GarmentKind::Suit
            | GarmentKind::Blazer
            | GarmentKind::Dress
            | GarmentKind::Uniform
    );
    if hangs || material == Some(Material::Down) {
        ZoneKind::Rack
    } else {
        ZoneKind::Bin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GarmentKind as K;
    use Material as M;

    fn row(id: i32, kind: Option<K>, material: Option<M>, cents: i64) -> PriceRow {
        PriceRow {
            price_id: id,
            kind,
            material,
            monthly_cents: cents,
        }
    }

    fn list() -> Vec<PriceRow> {
        vec![
            row(1, None, None, 1500),
            row(2, None, Some(M::Fur), 6000),
            row(3, Some(K::Coat), None, 2500),
            row(4, Some(K::Coat), Some(M::Cashmere), 3500),
            row(5, None, Some(M::Cashmere), 2500),
        ]
    }

    #[test]
    fn the_most_specific_row_wins() {
        let l = list();
        assert_eq!(
            price_for(&l, K::Coat, Some(M::Cashmere))
                .expect("test data")
                .price_id,
            4
        );
        assert_eq!(
            price_for(&l, K::Sweater, Some(M::Cashmere))
                .expect("test data")
                .price_id,
            5
        );
        assert_eq!(
            price_for(&l, K::Coat, Some(M::Wool))
                .expect("test data")
                .price_id,
            3
        );
        assert_eq!(
            price_for(&l, K::Scarf, None).expect("test data").price_id,
            1
        );
        // Kind-only and material-only rows tie on specificity: the dearer one wins.
        assert_eq!(
            price_for(&l, K::Coat, Some(M::Fur))
                .expect("test data")
                .monthly_cents,
            6000
        );
        assert!(price_for(&l[1..], K::Scarf, None).is_none());
    }

    #[test]
    fn fee_is_monthly_price_times_term() {
        assert_eq!(fee_cents(2500, 6), Some(15_000));
        assert_eq!(fee_cents(0, 24), Some(0));
        assert_eq!(fee_cents(i64::MAX, 2), None);
    }

    #[test]
    fn premium_rounds_half_up_to_the_cent() {
        // 1.5 % of 1,000.00 is 15.00.
        assert_eq!(premium_cents(100_000, 150), Some(1_500));
        // In cents: 1.5 % of 33 is 0.495 -> 0; of 3,333 is 49.995 -> 50; of 3,300 is 49.5 -> 50; of 3,299 is 49.485 -> 49.
        assert_eq!(premium_cents(33, 150), Some(0));
        assert_eq!(premium_cents(3_333, 150), Some(50));
        assert_eq!(premium_cents(3_300, 150), Some(50));
        assert_eq!(premium_cents(3_299, 150), Some(49));
        // 1.25 % of 1,234 cents is 15.425 -> 15; of 1,240 is 15.5 -> 16 (half up, not to even).
        assert_eq!(premium_cents(1_234, 125), Some(15));
        assert_eq!(premium_cents(1_240, 125), Some(16));
        assert_eq!(premium_cents(0, 150), Some(0));
        assert_eq!(premium_cents(500_000, 0), Some(0));
        assert_eq!(premium_cents(100, 10_000), Some(100));
        assert_eq!(premium_cents(-1, 150), None);
        assert_eq!(premium_cents(i64::MAX, 10_000), Some(i64::MAX));
    }

    #[test]
    fn an_item_is_charged_fee_and_premium() {
        assert_eq!(
            charge(6000, 6, 800_000, 150),
            Some(ItemCharge {
                monthly_cents: 6000,
                fee_cents: 36_000,
                premium_cents: 12_000
            })
        );
    }

    #[test]
    fn zones_follow_material_then_kind() {
        assert_eq!(
            default_zone_kind(K::Coat, Some(M::Fur)),
            ZoneKind::ColdVault
        );
        assert_eq!(
            default_zone_kind(K::Jacket, Some(M::Leather)),
            ZoneKind::ColdVault
        );
        assert_eq!(
            default_zone_kind(K::Skirt, Some(M::Suede)),
            ZoneKind::ColdVault
        );
        assert_eq!(default_zone_kind(K::Coat, Some(M::Wool)), ZoneKind::Rack);
        assert_eq!(default_zone_kind(K::Suit, None), ZoneKind::Rack);
        assert_eq!(default_zone_kind(K::Other, Some(M::Down)), ZoneKind::Rack);
        assert_eq!(
            default_zone_kind(K::Sweater, Some(M::Cashmere)),
            ZoneKind::Bin
        );
        assert_eq!(
            default_zone_kind(K::Bedding, Some(M::Cotton)),
            ZoneKind::Bin
        );
        assert!(needs_cold_vault(Some(M::Fur)));
        assert!(!needs_cold_vault(Some(M::Down)));
        assert!(!needs_cold_vault(None));
    }
}
