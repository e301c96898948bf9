//! The seed's writer: staff accounts, and batches of planned customers written by COPY with the service's rollups.

use anyhow::Context;
use chrono::Utc;
use sqlx::PgPool;

use uuid::Uuid;

use super::household::{CustomerPlan, PICKUP_WORKERS};
use super::SeedCounts;
use crate::db::CopyRow;
use crate::domain::username::Username;
use crate::domain::{InteractionKind, Role};
use crate::import::apply_pickup_rollups;
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

/// Writes one batch of customers in one transaction: every row goes in by COPY (a handful of round trips
/// however large the batch), then the pickups' rollups are applied in one statement by the service's own rule
/// (`import::apply_pickup_rollups`, which leaves what one `insert_lines` call per pickup leaves).
pub(super) async fn write_batch(
    pool: &PgPool,
    staff: &SeedStaff,
    plans: &[CustomerPlan],
) -> anyhow::Result<SeedCounts> {
    let now = Some(Utc::now());
    let mut rows = BatchRows::default();
    let mut order = (Vec::new(), Vec::new());
    let mut counts = SeedCounts::default();
    for plan in plans {
        let id = plan.customer_id;
        let f = &plan.fields;
        rows.customers
            .uuid(id)
            .text(Some(&f.name))
            .text(f.phone.as_ref().map(|p| p.as_str()))
            .text(f.address.as_deref())
            .text(Some(&f.notes))
            .time(f.label_consent_at)
            .text(f.label_consent_method.as_deref())
            .bool(Some(f.do_not_contact))
            .time(now.filter(|_| f.do_not_contact))
            .end();
        if let Some(code) = &plan.door_code {
            rows.labels
                .uuid(id)
                .uuid(Uuid::new_v4())
                .text(Some(code.as_str()))
                .uuid(staff.dispatcher)
                .end();
        }
        for g in &plan.garments {
            let f = &g.fields;
            rows.garments
                .uuid(id)
                .uuid(g.garment_id)
                .text(Some(&f.category.name()))
                .text(Some(&f.kind.name()))
                .text(Some(&f.season_class.name()))
                .text(f.brand.as_deref())
                .text(f.cut.as_deref())
                .text(f.size.as_deref())
                .bool(Some(f.special_size))
                .text(f.material.map(|m| m.name()).as_deref())
                .text(f.colour.as_deref())
                .text(f.tag_code.as_ref().map(|t| t.as_str()))
                .end();
        }
        for p in &plan.pickups {
            let door_code = plan.door_code.as_ref().filter(|_| p.scanned_label);
            rows.pickups
                .uuid(id)
                .uuid(p.pickup_id)
                .uuid(staff.pickup[p.staff % staff.pickup.len()])
                .text(door_code.map(|c| c.as_str()))
                .time(Some(p.collected_at))
                .text(Some(p.notes))
                .end();
            for (no, l) in p.lines.iter().enumerate() {
                rows.lines
                    .uuid(id)
                    .uuid(p.pickup_id)
                    .int(Some(no as i64 + 1))
                    .uuid(l.garment_id)
                    .text(Some(&l.service.name()))
                    .int(Some(l.price_cents))
                    .text(Some(&l.condition_notes))
                    .end();
            }
            order.0.push(id);
            order.1.push(p.pickup_id);
        }
        for i in &plan.interactions {
            let resolved = i.resolution.is_some() && i.kind == InteractionKind::Complaint;
            rows.interactions
                .uuid(id)
                .uuid(Uuid::new_v4())
                .uuid(staff.dispatcher)
                .text(Some(&i.kind.name()))
                .text(Some(&i.channel.name()))
                .text(Some(&i.body))
                .time(Some(i.occurred_at))
                .time(now.filter(|_| resolved))
                .text(resolved.then(|| staff.dispatcher.to_string()).as_deref())
                .text(i.resolution.filter(|_| resolved))
                .end();
        }
        counts.add(&SeedCounts::of(plan));
    }

    let mut tx = pool.begin().await?;
    // The batch's customers are logged for the kept lists once, not by each COPY's trigger.
    sqlx::query("set local doorstep.list_change_by_writer = 'on'")
        .execute(&mut *tx)
        .await?;
    // Every pickup is new with all its lines: the intake series is appended once by the rollups statement
    // instead of by the line trigger's pair-by-pair look.
    sqlx::query("set local doorstep.intake_kept_by_writer = 'on'")
        .execute(&mut *tx)
        .await?;
    let ids: Vec<uuid::Uuid> = plans.iter().map(|p| p.customer_id).collect();
    sqlx::query("insert into list_change (customer_id) select unnest($1::uuid[])")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    for (table, data) in [
        (
            "customer (customer_id, name, phone, address, notes, label_consent_at, label_consent_method, \
             do_not_contact, do_not_contact_at)",
            &rows.customers,
        ),
        (
            "door_label (customer_id, door_label_id, code, issued_by)",
            &rows.labels,
        ),
        (
            "garment (customer_id, garment_id, category, kind, season_class, brand, cut, size, special_size, \
             material, colour, tag_code)",
            &rows.garments,
        ),
        (
            "pickup (customer_id, pickup_id, staff_id, door_code, collected_at, notes)",
            &rows.pickups,
        ),
        (
            "pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes)",
            &rows.lines,
        ),
        (
            "interaction (customer_id, interaction_id, staff_id, kind, channel, body, occurred_at, \
             resolved_at, resolved_by, resolution)",
            &rows.interactions,
        ),
    ] {
        if data.buf.is_empty() {
            continue;
        }
        let mut copy = tx.copy_in_raw(&format!("copy {table} from stdin")).await?;
        copy.send(data.buf.as_slice()).await?;
        copy.finish()
            .await
            .with_context(|| format!("copying into {table}"))?;
    }
    apply_pickup_rollups(&mut *tx, &order.0, &order.1).await?;
    tx.commit().await?;
    Ok(counts)
}

/// A batch's rows in COPY text format, one buffer per table.
#[derive(Default)]
struct BatchRows {
    customers: CopyRow,
    labels: CopyRow,
    garments: CopyRow,
    pickups: CopyRow,
    lines: CopyRow,
    interactions: CopyRow,
}
