//! Pure storage-intake allocation: how expected storage intake spreads over zones against their capacity.

use std::collections::BTreeMap;

use serde::Serialize;

use super::series::Total;
use crate::domain::{GarmentKind, Material};
use crate::storage::db::ZoneView;
use crate::storage::pricing::{default_zone_kind, ZoneKind};

/// One zone's outlook for the coming put-away window.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ZoneOutlook {
    /// The zone.
    pub zone_id: String,
    /// Its name.
    pub name: String,
    /// False for a shipped zone nobody renamed: shown by its catalogue name (`zone.<zone_id>`).
    pub named: bool,
    /// Cold vault, rack or bin.
    pub kind: &'static str,
    /// Places in all.
    pub capacity: i64,
    /// Places taken now.
    pub in_use_now: i64,
    /// Items planned back before the window starts (their places free up).
    pub due_back_before_window: i64,
    /// Share of the expected items this zone takes (by the garments' default zones).
    pub share: f64,
    /// Items expected into this zone.
    pub expected_in: Option<Total>,
    /// Places expected taken after the window.
    pub expected_occupancy: Option<f64>,
    /// Places left at the upper 80% bound; negative means the zone would overflow.
    pub free_at_hi80: Option<f64>,
    /// Whether the upper 80% bound overflows the zone.
    pub over_capacity_risk: bool,
}

/// Spreads `expected` storage intake over `zones`: each zone kind takes the share of the qualifying garment
/// `mix` (kind, material, count) whose default zone is of that kind, split between zones of a kind by capacity.
pub fn zone_outlook(
    zones: &[ZoneView],
    mix: &[(GarmentKind, Option<Material>, i64)],
    due_back: &BTreeMap<String, i64>,
    expected: Option<Total>,
) -> Vec<ZoneOutlook> {
    let mut by_kind: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut mix_total = 0.0;
    for (kind, material, n) in mix {
        *by_kind
            .entry(default_zone_kind(*kind, *material).as_str())
            .or_default() += *n as f64;
        mix_total += *n as f64;
    }
    let capacity_of_kind = |k: ZoneKind| -> f64 {
        zones
            .iter()
            .filter(|z| z.kind == k)
            .map(|z| f64::from(z.capacity))
            .sum()
    };
    zones
        .iter()
        .map(|z| {
            let kind_cap = capacity_of_kind(z.kind);
            let share = if mix_total > 0.0 && kind_cap > 0.0 {
                by_kind.get(z.kind.as_str()).copied().unwrap_or(0.0) / mix_total
                    * f64::from(z.capacity)
                    / kind_cap
            } else {
                0.0
            };
            let due = due_back.get(&z.zone_id).copied().unwrap_or(0);
            let expected_in = expected.map(|t| t.scaled(share));
            let base = (z.in_use - due) as f64;
            ZoneOutlook {
                zone_id: z.zone_id.clone(),
                name: z.name.clone(),
                named: z.named,
                kind: z.kind.as_str(),
                capacity: i64::from(z.capacity),
                in_use_now: z.in_use,
                due_back_before_window: due,
                share,
                expected_occupancy: expected_in.map(|t| base + t.mean),
                free_at_hi80: expected_in.map(|t| f64::from(z.capacity) - base - t.hi80),
                over_capacity_risk: expected_in
                    .is_some_and(|t| base + t.hi80 > f64::from(z.capacity)),
                expected_in,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: &str, kind: ZoneKind, capacity: i32, in_use: i64) -> ZoneView {
        ZoneView {
            zone_id: id.into(),
            name: id.into(),
            named: true,
            kind,
            capacity,
            in_use,
            free: i64::from(capacity) - in_use,
        }
    }

    #[test]
    fn intake_spreads_by_default_zone_and_capacity() {
        let zones = [
            zone("vault", ZoneKind::ColdVault, 100, 10),
            zone("rack-a", ZoneKind::Rack, 300, 0),
            zone("rack-b", ZoneKind::Rack, 100, 90),
        ];
        // A quarter of the qualifying garments are fur (cold vault), three quarters coats (racks).
        let mix = [
            (GarmentKind::Coat, Some(Material::Fur), 25),
            (GarmentKind::Coat, Some(Material::Wool), 75),
        ];
        let due: BTreeMap<String, i64> = [("rack-b".to_owned(), 5)].into();
        let expected = Total {
            mean: 200.0,
            lo80: 150.0,
            hi80: 260.0,
            lo95: 120.0,
            hi95: 300.0,
        };
        let out = zone_outlook(&zones, &mix, &due, Some(expected));
        let shares: Vec<f64> = out.iter().map(|z| z.share).collect();
        assert_eq!(shares, vec![0.25, 0.5625, 0.1875]);
        assert!((out.iter().map(|z| z.share).sum::<f64>() - 1.0).abs() < 1e-12);
        // rack-b: 90 held, 5 going back, 0.1875 * 260 = 48.75 at the upper bound: over 100.
        assert_eq!(out[2].expected_occupancy, Some(85.0 + 37.5));
        assert!(out[2].over_capacity_risk);
        assert!(!out[1].over_capacity_risk);
        assert_eq!(out[0].free_at_hi80, Some(100.0 - 10.0 - 65.0));
    }

    #[test]
    fn no_mix_means_no_share() {
        let zones = [zone("vault", ZoneKind::ColdVault, 100, 0)];
        let out = zone_outlook(&zones, &[], &BTreeMap::new(), None);
        assert_eq!(out[0].share, 0.0);
        assert_eq!(out[0].expected_in, None);
        assert!(!out[0].over_capacity_risk);
    }
}
