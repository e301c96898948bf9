//! Pure storage rules: checking a new order and placing its items in zones (no HTTP, no SQL).

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::pricing::{self, ZoneKind};
use super::{db, words};
use crate::calendar::Calendar;
use crate::domain::check_len;
use crate::error::{AppError, AppResult, FieldError};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewOrderRequest {
    pub(super) items: Vec<NewItemRequest>,
    pub(super) term_months: i32,
    pub(super) insurance_rate_bp: Option<i32>,
    pub(super) planned_return_on: Option<NaiveDate>,
    pub(super) delivery_preference: Option<String>,
    pub(super) notes: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewItemRequest {
    pub(super) garment_id: Uuid,
    pub(super) declared_value_cents: i64,
    pub(super) zone_id: Option<String>,
    pub(super) position: Option<String>,
}

const MAX_ITEMS: usize = 200;
const MAX_DECLARED_CENTS: i64 = 100_000_000;

pub(super) fn push(errors: &mut Vec<FieldError>, field: String, message: impl Into<String>) {
    errors.push(FieldError {
        field,
        message: message.into(),
    });
}

/// Everything about a new order that can be checked without the database, every bad field at once.
pub(super) fn check_order(req: &NewOrderRequest, today: NaiveDate) -> AppResult<()> {
    let mut errors = Vec::new();
    if req.items.is_empty() {
        push(
            &mut errors,
            "items".into(),
            "an order needs at least one garment",
        );
    }
    if req.items.len() > MAX_ITEMS {
        push(
            &mut errors,
            "items".into(),
            "at most 200 garments per order",
        );
    }
    let mut seen = HashSet::new();
    for (i, item) in req.items.iter().enumerate() {
        if !seen.insert(item.garment_id) {
            push(
                &mut errors,
                format!("items[{i}].garment_id"),
                "the same garment is in this order twice",
            );
        }
        if !(0..=MAX_DECLARED_CENTS).contains(&item.declared_value_cents) {
            push(
                &mut errors,
                format!("items[{i}].declared_value_cents"),
                "between 0 and 100000000 cents",
            );
        }
        if item
            .zone_id
            .as_deref()
            .is_some_and(|z| z.trim().is_empty() || z.len() > 40)
        {
            push(
                &mut errors,
                format!("items[{i}].zone_id"),
                "a zone id, e.g. cold-vault",
            );
        }
        check_len(
            &mut errors,
            &format!("items[{i}].position"),
            item.position.as_deref(),
            40,
        );
    }
    if !(1..=24).contains(&req.term_months) {
        push(&mut errors, "term_months".into(), "between 1 and 24 months");
    }
    if req
        .insurance_rate_bp
        .is_some_and(|r| !(0..=10_000).contains(&r))
    {
        push(
            &mut errors,
            "insurance_rate_bp".into(),
            "between 0 and 10000 basis points (0 to 100 %)",
        );
    }
    if let Some(day) = req.planned_return_on {
        if day <= today {
            push(
                &mut errors,
                "planned_return_on".into(),
                "must be after today",
            );
        } else if (day - today).num_days() > 2 * 366 {
            push(
                &mut errors,
                "planned_return_on".into(),
                "must be within two years",
            );
        }
    }
    check_len(
        &mut errors,
        "delivery_preference",
        req.delivery_preference.as_deref(),
        500,
    );
    check_len(&mut errors, "notes", req.notes.as_deref(), 2000);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Where one item goes, once the zone is chosen and a place is free.
#[derive(Debug)]
pub(super) struct Placement {
    pub(super) zone_id: String,
}

/// Puts every item in a zone with a free place: the one named, or the first of the kind its garment needs.
/// Zone use comes from rows locked by this transaction, so what it counts cannot change before commit.
pub(super) fn place_items(
    items: &[NewItemRequest],
    garments: &[&db::GarmentForStorage],
    zones: &[db::ZoneView],
) -> AppResult<Vec<Placement>> {
    let by_id: HashMap<&str, &db::ZoneView> =
        zones.iter().map(|z| (z.zone_id.as_str(), z)).collect();
    let mut taken: HashMap<&str, i64> = zones
        .iter()
        .map(|z| (z.zone_id.as_str(), z.in_use))
        .collect();
    let mut mine: HashMap<&str, i64> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, (item, garment)) in items.iter().zip(garments).enumerate() {
        let field = format!("items[{i}].zone_id");
        let zone = match item.zone_id.as_deref().map(str::trim) {
            Some(id) => {
                let zone = by_id
                    .get(id)
                    .ok_or_else(|| AppError::invalid(&field, format!("no storage zone '{id}'")))?;
                if pricing::needs_cold_vault(garment.material) && zone.kind != ZoneKind::ColdVault {
                    return Err(AppError::invalid(
                        &field,
                        format!(
                            "{} must be kept in a cold_vault zone; {} is a {}",
                            words(&garment.material),
                            zone.zone_id,
                            zone.kind.as_str()
                        ),
                    ));
                }
                let used = taken.get(id).copied().unwrap_or(zone.in_use);
                if used >= i64::from(zone.capacity) {
                    return Err(full(zone, used, mine.get(id).copied().unwrap_or(0), &field));
                }
                *zone
            }
            None => {
                let kind = pricing::default_zone_kind(garment.kind, garment.material);
                let mut of_kind = zones.iter().filter(|z| z.kind == kind).peekable();
                if of_kind.peek().is_none() {
                    return Err(AppError::conflict(
                        &field,
                        format!(
                            "there is no {} zone for this {}: name a zone, or a manager adds one",
                            kind.as_str(),
                            words(&garment.kind)
                        ),
                    ));
                }
                let mut fullest = None;
                let mut chosen = None;
                for z in of_kind {
                    let used = taken.get(z.zone_id.as_str()).copied().unwrap_or(z.in_use);
                    if used < i64::from(z.capacity) {
                        chosen = Some(z);
                        break;
                    }
                    fullest.get_or_insert((z, used));
                }
                match (chosen, fullest) {
                    (Some(z), _) => z,
                    (None, Some((z, used))) => {
                        return Err(full(
                            z,
                            used,
                            mine.get(z.zone_id.as_str()).copied().unwrap_or(0),
                            &field,
                        ))
                    }
                    (None, None) => {
                        return Err(AppError::Internal(anyhow::anyhow!("no zone chosen")))
                    }
                }
            }
        };
        *taken.entry(zone.zone_id.as_str()).or_insert(zone.in_use) += 1;
        *mine.entry(zone.zone_id.as_str()).or_insert(0) += 1;
        out.push(Placement {
            zone_id: zone.zone_id.clone(),
        });
    }
    Ok(out)
}

/// The refusal for a full zone, with its numbers.
fn full(zone: &db::ZoneView, used: i64, by_this_order: i64, field: &str) -> AppError {
    let detail = if by_this_order > 0 {
        format!(
            "{} is full: {used} of {} places taken, {by_this_order} of them by earlier items of this order",
            zone.zone_id, zone.capacity
        )
    } else {
        format!(
            "{} is full: {used} of {} places taken",
            zone.zone_id, zone.capacity
        )
    };
    AppError::problem(
        StatusCode::CONFLICT,
        "zone-full",
        "Storage zone full",
        detail,
    )
    .with_field(field)
    .with_hint("name another zone for this item, or ask a manager to raise the zone's capacity")
}

/// The first day after `after` on which a window of `kind` starts.
pub(super) fn next_window_start(cal: &Calendar, kind: &str, after: NaiveDate) -> Option<NaiveDate> {
    (after.year()..=after.year() + 1)
        .filter_map(|y| cal.window(kind, y))
        .map(|w| w.starts_on)
        .find(|d| *d > after)
}

/// The default planned return of an order taken on `today` for `term_months`: the next start of the return
/// window, unless the paid term ends before it, then the term's last day (nothing is held unpaid by default).
pub(super) fn default_return(
    today: NaiveDate,
    term_months: i32,
    window_start: NaiveDate,
) -> NaiveDate {
    let term_ends = today
        .checked_add_months(chrono::Months::new(term_months.unsigned_abs()))
        .unwrap_or(today);
    window_start.min(term_ends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Category, GarmentKind, Material, SeasonClass};
    use crate::storage::{describe, ItemView, Status};
    use chrono::Utc;

    #[test]
    fn orders_move_one_way_one_step_at_a_time() {
        assert_eq!(Status::Accepted.next(), Some(Status::InStorage));
        assert_eq!(Status::InStorage.next(), Some(Status::ReturnRequested));
        assert_eq!(Status::ReturnRequested.next(), Some(Status::Returned));
        assert_eq!(Status::Returned.next(), None);
    }

    fn zone(id: &str, kind: ZoneKind, capacity: i32, in_use: i64) -> db::ZoneView {
        db::ZoneView {
            zone_id: id.into(),
            name: id.into(),
            named: true,
            kind,
            capacity,
            in_use,
            free: i64::from(capacity) - in_use,
        }
    }

    fn garment(kind: GarmentKind, material: Option<Material>) -> db::GarmentForStorage {
        db::GarmentForStorage {
            garment_id: Uuid::new_v4(),
            kind,
            material,
            times_cleaned: 1,
            last_cleaned_at: Some(Utc::now()),
        }
    }

    fn item(zone: Option<&str>) -> NewItemRequest {
        NewItemRequest {
            garment_id: Uuid::new_v4(),
            declared_value_cents: 0,
            zone_id: zone.map(str::to_owned),
            position: None,
        }
    }

    #[test]
    fn items_fill_zones_in_order_and_a_full_zone_refuses() {
        let zones = vec![
            zone("rack-a", ZoneKind::Rack, 2, 1),
            zone("rack-b", ZoneKind::Rack, 5, 0),
            zone("vault", ZoneKind::ColdVault, 1, 1),
        ];
        let coat = garment(GarmentKind::Coat, Some(Material::Wool));
        let fur = garment(GarmentKind::Coat, Some(Material::Fur));
        let placed =
            place_items(&[item(None), item(None)], &[&coat, &coat], &zones).expect("test data");
        let ids: Vec<&str> = placed.iter().map(|p| p.zone_id.as_str()).collect();
        assert_eq!(ids, ["rack-a", "rack-b"]);

        let err = place_items(&[item(None)], &[&fur], &zones).unwrap_err();
        let AppError::Problem(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.status, StatusCode::CONFLICT);
        assert_eq!(p.field.as_deref(), Some("items[0].zone_id"));
        assert_eq!(p.detail, "vault is full: 1 of 1 places taken");

        let err = place_items(
            &[item(Some("rack-a")), item(Some("rack-a"))],
            &[&coat, &coat],
            &zones,
        )
        .unwrap_err();
        let AppError::Problem(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.field.as_deref(), Some("items[1].zone_id"));
        assert!(
            p.detail
                .contains("2 of 2 places taken, 1 of them by earlier items"),
            "{}",
            p.detail
        );

        // Fur never goes on a rack, even when asked.
        let err = place_items(&[item(Some("rack-b"))], &[&fur], &zones).unwrap_err();
        let AppError::Invalid(e) = err else {
            panic!("{err:?}")
        };
        assert_eq!(e[0].field, "items[0].zone_id");
    }

    #[test]
    fn garments_are_described_in_words() {
        let item = ItemView {
            order_id: Uuid::nil(),
            garment_id: Uuid::nil(),
            description: String::new(),
            category: Category::Women,
            kind: GarmentKind::DownJacket,
            season_class: SeasonClass::Winter,
            brand: Some("Moncler".into()),
            size: Some("40".into()),
            material: Some(Material::Down),
            colour: Some("black".into()),
            tag_code: None,
            declared_cents: 0,
            fee_cents: 0,
            premium_cents: 0,
            zone_id: "rack-a".into(),
            zone_name: "Rack A".into(),
            zone_named: true,
            position: String::new(),
            released_at: None,
        };
        assert_eq!(
            describe(&item),
            "women's down jacket, Moncler, black, size 40, down"
        );
        assert_eq!(words(&GarmentKind::TShirt), "T-shirt");
    }

    #[test]
    fn the_default_return_stays_within_the_paid_term() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("test data");
        assert_eq!(
            default_return(d(2026, 12, 2), 12, d(2027, 11, 15)),
            d(2027, 11, 15)
        );
        assert_eq!(
            default_return(d(2026, 12, 2), 6, d(2027, 11, 15)),
            d(2027, 6, 2)
        );
        assert_eq!(
            default_return(d(2026, 3, 10), 8, d(2026, 11, 15)),
            d(2026, 11, 10)
        );
    }
}
