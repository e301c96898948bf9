//! A customer's composed views over garments, pickups and interactions: the door card and the history.

pub mod db;
mod history;

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AnyStaff, Authed};
use crate::customers::Customer;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path};
use crate::state::AppState;
use crate::{garments, interactions, pickups};

/// The card and history routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_card))
        .routes(routes!(history::get_history))
}

/// Everything a pickup worker needs at the door, in one answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerCard {
    pub(crate) customer: Customer,
    pub(crate) last_pickups: Vec<pickups::PickupSummary>,
    pub(crate) wardrobe: Vec<garments::WardrobeGroup>,
    pub(crate) open_complaints: Vec<interactions::Interaction>,
}

/// Assembles a card from the parts the database composed (one statement: [`db::card`]).
pub fn card_of(row: db::CardRow) -> Option<CustomerCard> {
    Some(CustomerCard {
        customer: row.customer?.0,
        last_pickups: row.last_pickups.0,
        wardrobe: garments::group_wardrobe(row.wardrobe.0),
        open_complaints: row.open_complaints.0,
    })
}

/// The card of a customer, recording the read as `action` in the access log; `None` when there is no such
/// customer.
pub async fn load_card(
    pool: &sqlx::PgPool,
    customer_id: Uuid,
    staff_id: Uuid,
    action: &str,
) -> AppResult<Option<CustomerCard>> {
    let row = db::card(
        pool,
        db::CardTarget::Customer(customer_id),
        staff_id,
        action,
    )
    .await?;
    Ok(row.and_then(card_of))
}

/// The door card: who lives here, do-not-contact, open complaints, wardrobe by season and the last pickups (logged).
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/card", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer")), responses((status = 200, body = CustomerCard)))]
async fn get_card(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<CustomerCard>> {
    let card = load_card(&state.pool, customer_id, staff.staff_id, "card_view")
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    Ok(Json(card))
}
