//! A customer's composed views over garments, pickups and interactions: the door card and the history.

pub mod db;
mod history;
pub mod kept;
pub mod packed;

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AnyStaff, Authed};
use crate::customers::Customer;
use crate::error::{AppError, AppResult};
use crate::extract::Path;
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

/// The card of a head already read: one more statement, the wardrobe.
pub async fn card_of(conn: &mut sqlx::PgConnection, head: db::CardHead) -> AppResult<CustomerCard> {
    let items = garments::db::wardrobe(&mut *conn, head.customer.customer_id).await?;
    Ok(CustomerCard::of(head, items))
}

impl CustomerCard {
    /// The card of a head and its customer's wardrobe items, one request's or a filler batch's.
    pub(crate) fn of(head: db::CardHead, items: Vec<garments::WardrobeItem>) -> CustomerCard {
        CustomerCard {
            customer: head.customer,
            last_pickups: head.last_pickups.0,
            wardrobe: garments::group_wardrobe(items),
            open_complaints: head.open_complaints.0,
        }
    }
}

/// The door card: who lives here, do-not-contact, open complaints, wardrobe by season and the last pickups (logged).
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/card", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer")), responses((status = 200, body = CustomerCard)))]
async fn get_card(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> AppResult<axum::response::Response> {
    let mut conn = state.pool.acquire().await?;
    let card = kept::card_json(&mut conn, &state.cards, customer_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    drop(conn);
    crate::access::note_read(&state, staff.staff_id, "card_view", customer_id).await;
    card.alone(packed::accepts_gzip(&headers))
}
