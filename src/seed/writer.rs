//! The seed's writer: staff accounts and batches of planned customers written through the service's own SQL.

use anyhow::Context;
use sqlx::PgPool;

use uuid::Uuid;

use super::household::{CustomerPlan, PICKUP_WORKERS};
use super::SeedCounts;
use crate::customers::db::insert_customer;
use crate::domain::username::Username;
use crate::domain::Role;
use crate::garments::db::insert_garment;
use crate::interactions::db::{insert_interaction, resolve_complaint, NewInteraction};
use crate::labels::db::insert_label;
use crate::pickups::db::{insert_lines, insert_pickup};
use crate::{auth, staff};

/// The accounts the seeded pickups and interactions are recorded by.
pub(super) struct SeedStaff {
    pickup: Vec<Uuid>,
    dispatcher: Uuid,
}

/// Creates (or reuses, with a fresh unknown password) the seed staff accounts.
pub(super) async fn seed_staff(pool: &PgPool) -> anyhow::Result<SeedStaff> {
    let mut accounts: Vec<(String, String, Role)> = (1..=PICKUP_WORKERS)
        .map(|i| {
            (
                format!("seed-pickup-{i}"),
                format!("Seed pickup worker {i}"),
                Role::Pickup,
            )
        })
        .collect();
    accounts.push((
        "seed-dispatcher".into(),
        "Seed dispatcher".into(),
        Role::Dispatcher,
    ));
    let mut ids = Vec::with_capacity(accounts.len());
    for (username, display, role) in accounts {
        let hash = tokio::task::spawn_blocking(|| auth::hash_password(&auth::generate_password()))
            .await??;
        ids.push(
            staff::db::upsert_staff(pool, &Username::parse(&username)?, &display, role, &hash)
                .await?
                .staff_id,
        );
    }
    let dispatcher = ids.pop().context("no seed dispatcher")?;
    Ok(SeedStaff {
        pickup: ids,
        dispatcher,
    })
}

/// Writes one batch of customers in one transaction through the service's own SQL.
pub(super) async fn write_batch(
    pool: &PgPool,
    staff: &SeedStaff,
    plans: &[CustomerPlan],
) -> anyhow::Result<SeedCounts> {
    let mut tx = pool.begin().await?;
    let mut counts = SeedCounts::default();
    for plan in plans {
        let id = plan.customer_id;
        insert_customer(&mut *tx, id, &plan.fields).await?;
        if let Some(code) = &plan.door_code {
            insert_label(&mut *tx, id, code, staff.dispatcher).await?;
        }
        for g in &plan.garments {
            insert_garment(&mut *tx, id, g.garment_id, &g.fields).await?;
        }
        for p in &plan.pickups {
            let door_code = plan.door_code.as_ref().filter(|_| p.scanned_label);
            let worker = staff.pickup[p.staff % staff.pickup.len()];
            insert_pickup(
                &mut *tx,
                id,
                p.pickup_id,
                worker,
                door_code,
                p.collected_at,
                p.notes,
            )
            .await?;
            insert_lines(&mut *tx, id, p.pickup_id, &p.lines).await?;
        }
        for i in &plan.interactions {
            let row = insert_interaction(
                &mut *tx,
                &NewInteraction {
                    customer_id: id,
                    staff_id: Some(staff.dispatcher),
                    kind: i.kind,
                    channel: i.channel,
                    body: &i.body,
                    occurred_at: i.occurred_at,
                },
            )
            .await?;
            if let Some(resolution) = i.resolution {
                resolve_complaint(
                    &mut *tx,
                    id,
                    row.interaction_id,
                    staff.dispatcher,
                    resolution,
                )
                .await?;
            }
        }
        counts.add(&SeedCounts::of(plan));
    }
    tx.commit().await?;
    Ok(counts)
}
