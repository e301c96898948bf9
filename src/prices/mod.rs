//! The cleaning price list (service x garment kind x material) that pre-fills a visit's prices.

pub mod db;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AnyStaff, Authed, Manager};
use crate::domain::{GarmentKind, Material, Service};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path};
use crate::pickups::MAX_PRICE_CENTS;
use crate::state::AppState;

/// One row of the cleaning price list: the price of a service for a kind and/or material (`None` matches any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CleaningPrice {
    /// The row.
    pub price_id: i32,
    /// The work done.
    pub service: Service,
    /// The garment kind it applies to, or any.
    pub kind: Option<GarmentKind>,
    /// The material it applies to, or any.
    pub material: Option<Material>,
    /// The price in fen.
    pub price_cents: i64,
}

impl CleaningPrice {
    fn matches(&self, service: Service, kind: GarmentKind, material: Option<Material>) -> bool {
        self.service == service
            && self.kind.is_none_or(|k| k == kind)
            && self.material.is_none_or(|m| Some(m) == material)
    }

    fn specificity(&self) -> u8 {
        u8::from(self.kind.is_some()) + u8::from(self.material.is_some())
    }
}

/// The price of `service` on a garment: the most specific matching row; between a kind-only and a
/// material-only row the dearer wins (silk shirts pay the silk rate). The pickup app applies the same rule.
pub fn price_for(
    prices: &[CleaningPrice],
    service: Service,
    kind: GarmentKind,
    material: Option<Material>,
) -> Option<i64> {
    prices
        .iter()
        .filter(|p| p.matches(service, kind, material))
        .max_by_key(|p| {
            (
                p.specificity(),
                p.price_cents,
                std::cmp::Reverse(p.price_id),
            )
        })
        .map(|p| p.price_cents)
}

/// The price-list routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_prices, put_price))
        .routes(routes!(delete_price))
}

#[derive(Serialize, utoipa::ToSchema)]
struct PriceList {
    items: Vec<CleaningPrice>,
}

/// `GET /api/v1/prices/cleaning`: the whole list (small), which the pickup app keeps for offline visits.
#[utoipa::path(get, operation_id = "list_cleaning_prices", path = "/api/v1/prices/cleaning", tag = "prices", responses((status = 200, body = PriceList)))]
async fn list_prices(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
) -> AppResult<Json<PriceList>> {
    Ok(Json(PriceList {
        items: db::prices(&state.pool).await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PriceRequest {
    service: Service,
    kind: Option<GarmentKind>,
    material: Option<Material>,
    price_cents: i64,
}

/// `PUT /api/v1/prices/cleaning` (managers): sets the price of a service for a kind and/or material.
#[utoipa::path(put, operation_id = "put_cleaning_price", path = "/api/v1/prices/cleaning", tag = "prices", request_body = PriceRequest, responses((status = 200, body = CleaningPrice)))]
async fn put_price(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Json(req): Json<PriceRequest>,
) -> AppResult<Json<CleaningPrice>> {
    if !(0..=MAX_PRICE_CENTS).contains(&req.price_cents) {
        return Err(AppError::invalid(
            "price_cents",
            "a price is between 0 and 100000000 cents",
        ));
    }
    let row = db::upsert_price(
        &state.pool,
        req.service,
        req.kind,
        req.material,
        req.price_cents,
        staff.staff_id,
    )
    .await?;
    Ok(Json(row))
}

/// `DELETE /api/v1/prices/cleaning/{price_id}` (managers); a service's catch-all row stays.
#[utoipa::path(delete, operation_id = "delete_cleaning_price", path = "/api/v1/prices/cleaning/{price_id}", tag = "prices", params(("price_id" = i32, Path)), responses((status = 204)))]
async fn delete_price(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Path(price_id): Path<i32>,
) -> AppResult<StatusCode> {
    let row = db::price(&state.pool, price_id)
        .await?
        .ok_or(AppError::NotFound("price"))?;
    if row.kind.is_none() && row.material.is_none() {
        return Err(AppError::conflict(
            "price_id",
            format!(
                "this is the catch-all price of {}: change it instead, so every garment has a price",
                row.service.name()
            ),
        ));
    }
    db::delete_price(&state.pool, price_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        id: i32,
        service: Service,
        kind: Option<GarmentKind>,
        material: Option<Material>,
        cents: i64,
    ) -> CleaningPrice {
        CleaningPrice {
            price_id: id,
            service,
            kind,
            material,
            price_cents: cents,
        }
    }

    #[test]
    fn the_most_specific_row_wins_and_ties_go_to_the_dearer() {
        let list = [
            row(1, Service::DryClean, None, None, 3500),
            row(2, Service::DryClean, Some(GarmentKind::Coat), None, 6000),
            row(3, Service::DryClean, None, Some(Material::Cashmere), 6500),
            row(
                4,
                Service::DryClean,
                Some(GarmentKind::Coat),
                Some(Material::Fur),
                30000,
            ),
            row(5, Service::Wash, None, None, 1500),
        ];
        let p = |s, k, m| price_for(&list, s, k, m);
        assert_eq!(p(Service::DryClean, GarmentKind::Shirt, None), Some(3500));
        assert_eq!(
            p(Service::DryClean, GarmentKind::Coat, Some(Material::Wool)),
            Some(6000)
        );
        assert_eq!(
            p(
                Service::DryClean,
                GarmentKind::Coat,
                Some(Material::Cashmere)
            ),
            Some(6500)
        );
        assert_eq!(
            p(Service::DryClean, GarmentKind::Coat, Some(Material::Fur)),
            Some(30000)
        );
        assert_eq!(
            p(Service::Wash, GarmentKind::Coat, Some(Material::Fur)),
            Some(1500)
        );
        assert_eq!(p(Service::Repair, GarmentKind::Coat, None), None);
    }
}
