//! The seed's writer: staff accounts, and batches of planned customers written by COPY with the service's rollups.

use std::collections::HashMap;

use anyhow::Context;
use chrono::Utc;
use sqlx::PgPool;

use uuid::Uuid;

use super::household::{CustomerPlan, PICKUP_WORKERS};
use super::SeedCounts;
use crate::db::CopyRow;
use crate::domain::username::Username;
use crate::domain::Role;
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

/// Whether this session may write with `session_replication_role = replica` (superuser, or granted that
/// parameter): the seed then skips PostgreSQL's row-by-row foreign-key checks, about two thirds of its COPY
/// time, and checks the same references once a batch by set (`BATCH_REFERENCES`).
pub(super) async fn may_skip_row_checks(pool: &PgPool) -> anyhow::Result<bool> {
    let allowed: bool = sqlx::query_scalar(
        "select current_setting('is_superuser') = 'on'
             or has_parameter_privilege('session_replication_role', 'SET')",
    )
    .fetch_one(pool)
    .await
    .context("asking whether the seed may set session_replication_role")?;
    Ok(allowed)
}

/// Per-session staging for a batch's garments, pickups and lines, emptied at every commit: the garments go in
/// once with their rollups computed from the staged lines, instead of being inserted and then rewritten.
const STAGING: [&str; 5] = [
    "set local client_min_messages = warning",
    // A batch's rollups sort and hash a few hundred thousand staged lines.
    "set local work_mem = '128MB'",
    "create temp table if not exists seed_garment (like garment including defaults) on commit delete rows",
    "create temp table if not exists seed_pickup (like pickup including defaults, seq bigint not null)
         on commit delete rows",
    // A line carries its pickup's order and time and its garment's class and category, so the rollups below
    // read one table; `BATCH_REFERENCES` checks those copies against the pickups and garments.
    "create temp table if not exists seed_line (like pickup_line including defaults, seq bigint not null,
         collected_at timestamptz not null, season_class text not null, category text not null)
         on commit delete rows",
];

/// The batch's rows moved from staging with the rollups one `pickups::db::record_visit` call per pickup, in
/// `seq` order, leaves for new customers: each garment's times cleaned, last cleaning and its price (one visit
/// one cleaning, priced at its cleaning lines); which season classes each pickup held; the intake series; each
/// customer's spend folded pickup by pickup. Change it together with `record_visit`. Rows go in by their
/// primary key, so a customer's garments, visits and lines share heap pages (the card and the per-customer
/// reads find them together); a large seed builds the indexes not led by the customer after its load.
fn batch_moves() -> [String; 6] {
    [
        "insert into garment (customer_id, garment_id, category, kind, season_class, brand, cut, size, special_size,
                              material, colour, tag_code, times_cleaned, last_cleaned_at, last_price_cents)
         select g.customer_id, g.garment_id, g.category, g.kind, g.season_class, g.brand, g.cut, g.size,
                g.special_size, g.material, g.colour, g.tag_code, coalesce(r.n, 0), r.collected_at, r.price_cents
           from seed_garment g
           left join (
               select distinct on (customer_id, garment_id) customer_id, garment_id,
                      count(*) over (partition by customer_id, garment_id)::int as n, collected_at, price_cents
                 from (select customer_id, garment_id, seq, collected_at, sum(price_cents)::bigint as price_cents
                         from seed_line where is_cleaning(service)
                        group by 1, 2, 3, 4) cleanings
                order by customer_id, garment_id, collected_at desc, seq desc
           ) r using (customer_id, garment_id)
          order by g.customer_id, g.garment_id"
            .to_owned(),
        "insert into pickup (customer_id, pickup_id, staff_id, door_code, collected_at, notes)
         select customer_id, pickup_id, staff_id, door_code, collected_at, notes from seed_pickup
          order by customer_id, pickup_id"
            .to_owned(),
        "insert into pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes)
         select customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes
           from seed_line order by customer_id, pickup_id, line_no"
            .to_owned(),
        "insert into pickup_class (customer_id, season_class, collected_at, pickup_id, garments)
         select customer_id, season_class, collected_at, pickup_id, count(distinct garment_id)
           from seed_line where is_cleaning(service)
          group by 1, 2, 3, 4
          order by customer_id, season_class, collected_at, pickup_id"
            .to_owned(),
        // Every pickup is new with all its lines: the intake series is appended here, and the line trigger,
        // told so, looks nothing up (migration 20261202001600).
        "insert into intake_hour_change (hour, season_class, category, garments)
         select date_trunc('hour', collected_at), season_class, category, count(*)
           from (select distinct customer_id, pickup_id, garment_id, collected_at, season_class, category
                   from seed_line) l
          group by 1, 2, 3"
            .to_owned(),
        format!(
            "with totals as (
                 select p.customer_id, p.seq, p.collected_at, coalesce(sum(l.price_cents), 0)::bigint as total
                   from seed_pickup p left join seed_line l using (customer_id, pickup_id)
                  group by 1, 2, 3
             ), {}",
            crate::import::SPEND_FOLD
        ),
    ]
}

/// The staged rows' references, checked by set: a garment's and a pickup's customer is one of the batch's ($1),
/// a pickup's staff one of the seed's ($2), a line's pickup and garment are the batch's, with the order, time,
/// class and category the line carries. Stands in for the foreign keys when their row-by-row checks are
/// skipped. Counts the rows that break one; each count is an anti-join, so it grows with the batch, not its
/// square.
const BATCH_REFERENCES: &str = "with batch as materialized (select unnest($1::uuid[]) as customer_id),
          staff as materialized (select unnest($2::uuid[]) as staff_id)
     select (select count(*) from seed_garment g
              where not exists (select 1 from batch b where b.customer_id = g.customer_id))
          + (select count(*) from seed_pickup p
              where not exists (select 1 from batch b where b.customer_id = p.customer_id))
          + (select count(*) from seed_pickup p where not exists (select 1 from staff s where s.staff_id = p.staff_id))
          + (select count(*) from seed_line l
              where not exists (select 1 from seed_pickup p
                                 where p.customer_id = l.customer_id and p.pickup_id = l.pickup_id
                                   and p.seq = l.seq and p.collected_at = l.collected_at))
          + (select count(*) from seed_line l
              where not exists (select 1 from seed_garment g
                                 where g.customer_id = l.customer_id and g.garment_id = l.garment_id
                                   and g.season_class = l.season_class and g.category = l.category))";

/// Writes one batch of customers in one transaction: every row goes in by COPY (a handful of round trips
/// however large the batch), garments, pickups and lines through per-session staging so that each row is
/// written once, with its rollups (`batch_moves`); `skip_row_checks` as `may_skip_row_checks` answered.
pub(super) async fn write_batch(
    pool: &PgPool,
    staff: &SeedStaff,
    skip_row_checks: bool,
    plans: &[CustomerPlan],
) -> anyhow::Result<SeedCounts> {
    let now = Some(Utc::now());
    let mut rows = BatchRows::default();
    let mut counts = SeedCounts::default();
    let mut seq = 0i64;
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
        let classes: HashMap<Uuid, _> = plan
            .garments
            .iter()
            .map(|g| (g.garment_id, (g.fields.season_class, g.fields.category)))
            .collect();
        for g in plan.garments_seen() {
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
            seq += 1;
            rows.pickups
                .uuid(id)
                .uuid(p.pickup_id)
                .uuid(staff.pickup[p.staff % staff.pickup.len()])
                .text(door_code.map(|c| c.as_str()))
                .time(Some(p.collected_at))
                .text(Some(p.notes))
                .int(Some(seq))
                .end();
            for (no, l) in p.lines.iter().enumerate() {
                let (class, category) = classes.get(&l.garment_id).with_context(|| {
                    format!("line of garment {} the plan does not hold", l.garment_id)
                })?;
                rows.lines
                    .uuid(id)
                    .uuid(p.pickup_id)
                    .int(Some(no as i64 + 1))
                    .uuid(l.garment_id)
                    .text(Some(&l.service.name()))
                    .int(Some(l.price_cents))
                    .text(Some(&l.condition_notes))
                    .int(Some(seq))
                    .time(Some(p.collected_at))
                    .text(Some(&class.name()))
                    .text(Some(&category.name()))
                    .end();
            }
        }
        for i in &plan.interactions {
            rows.interactions
                .uuid(id)
                .uuid(Uuid::new_v4())
                .uuid(staff.dispatcher)
                .text(Some(&i.kind.name()))
                .text(Some(&i.channel.name()))
                .text(Some(&i.body))
                .time(Some(i.occurred_at))
                .time(i.resolved_at)
                .text(
                    i.resolved_at
                        .map(|_| staff.dispatcher.to_string())
                        .as_deref(),
                )
                .text(i.resolution.filter(|_| i.resolved_at.is_some()))
                .end();
        }
        counts.add(&SeedCounts::of(plan));
    }

    let mut tx = pool.begin().await?;
    for sql in STAGING {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    // The batch's customers are logged for the kept lists once, not by each statement's trigger.
    sqlx::query("set local doorstep.list_change_by_writer = 'on'")
        .execute(&mut *tx)
        .await?;
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
            "interaction (customer_id, interaction_id, staff_id, kind, channel, body, occurred_at, \
             resolved_at, resolved_by, resolution)",
            &rows.interactions,
        ),
        (
            "seed_garment (customer_id, garment_id, category, kind, season_class, brand, cut, size, special_size, \
             material, colour, tag_code)",
            &rows.garments,
        ),
        (
            "seed_pickup (customer_id, pickup_id, staff_id, door_code, collected_at, notes, seq)",
            &rows.pickups,
        ),
        (
            "seed_line (customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes, seq, \
             collected_at, season_class, category)",
            &rows.lines,
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
    if skip_row_checks {
        // No trigger fires from here on: the writer does what the list and intake triggers were told it
        // does, checks the references by set, and marks the forecast's input changed (a seed's pickups are
        // history) as the pickup trigger would.
        sqlx::query("set local session_replication_role = replica")
            .execute(&mut *tx)
            .await?;
    }
    let moves = batch_moves();
    for sql in moves.iter() {
        sqlx::query(sql.as_str())
            .persistent(false)
            .execute(&mut *tx)
            .await?;
    }
    let broken: i64 = sqlx::query_scalar(BATCH_REFERENCES)
        .bind(&ids)
        .bind(&staff.pickup)
        .fetch_one(&mut *tx)
        .await?;
    anyhow::ensure!(
        broken == 0,
        "{broken} seeded rows refer to rows the batch does not hold"
    );
    if skip_row_checks {
        sqlx::query("insert into forecast_input_change default values")
            .execute(&mut *tx)
            .await?;
    }
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
