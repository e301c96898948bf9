//! Today's reminder list is served from kept state brought up to date by the change log: after every kind of
//! write, and with a write still uncommitted while the list is read, it equals the list computed from scratch
//! with the same estimates.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

use doorstep::domain::{InteractionKind, Role};
use doorstep::export::Rows;
use doorstep::lists::reminders;
use doorstep::seed::{seed, SeedOptions};

use crate::world::World;

/// Every row the API serves, page by page (each page is its own request, so each brings the state up to date).
async fn served(w: &World, token: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page = w
            .app
            .get(
                &format!("/api/v1/lists/reminders?limit=37&offset={offset}"),
                token,
            )
            .await
            .ok(StatusCode::OK);
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_offset"].as_i64() {
            Some(next) => offset = next,
            None => return rows,
        }
    }
}

/// The same list computed from scratch with the estimates the service holds.
async fn exact(w: &World) -> Vec<Value> {
    let state = &w.app.state;
    let (cal, q) = reminders::query_from(state, None, None, None)
        .await
        .unwrap();
    let outlook = state
        .outlook
        .get(&state.pool, &state.settings, &cal, q.window(), q.on())
        .await
        .unwrap();
    let listed = reminders::compute(&state.pool, &state.settings, &outlook, &q, Rows::ALL)
        .await
        .unwrap();
    listed
        .into_items()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

async fn same(w: &World, token: &str, after: &str) -> Vec<Value> {
    let served = served(w, token).await;
    let exact = exact(w).await;
    assert_eq!(served.len(), exact.len(), "after {after}");
    for (s, e) in served.iter().zip(&exact) {
        assert_eq!(s, e, "after {after}");
    }
    served
}

fn id(v: &Value) -> Uuid {
    v["customer_id"].as_str().unwrap().parse().unwrap()
}

fn garments(v: &Value) -> Vec<(Uuid, i64)> {
    v["garments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["garment_id"].as_str().unwrap().parse().unwrap(),
                g["last_price_cents"].as_i64().unwrap_or(1000),
            )
        })
        .collect()
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_kept_reminder_list_equals_the_exact_one_after_every_kind_of_write(pool: sqlx::PgPool) {
    let opts = SeedOptions {
        batch_size: 60,
        parallel: 2,
        ..SeedOptions::new(240, 2, 31)
    };
    seed(&pool, opts).await.unwrap();
    let w = World::new(pool).await;
    let token = w.app.login(Role::Manager).await;
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let day = today.to_string();

    let list = same(&w, &token, "the first build").await;
    assert!(list.len() >= 20, "a list to change: {}", list.len());

    // A pickup of everything outstanding, a partial pickup, do-not-contact, a call, storage, a booking, a
    // garment reclassified: each moves or drops a customer.
    w.pickup(id(&list[0]), &day, &garments(&list[0])).await;
    let some = garments(&list[1]);
    w.pickup(id(&list[1]), &day, &some[..1]).await;
    w.do_not_contact(id(&list[2])).await;
    w.interaction(id(&list[3]), InteractionKind::Call, &day)
        .await;
    w.store(id(&list[4]), &day, &[garments(&list[4])[0].0])
        .await;
    sqlx::query(
        "insert into pickup_booking (customer_id, booking_id, booked_for, created_by, source)
         values ($1, gen_random_uuid(), $2, $3, 'phone')",
    )
    .bind(id(&list[5]))
    .bind(today + Duration::days(2))
    .bind(w.worker)
    .execute(&w.app.pool)
    .await
    .unwrap();
    sqlx::query("update garment set season_class = 'all_season' where garment_id = $1")
        .bind(garments(&list[6])[0].0)
        .execute(&w.app.pool)
        .await
        .unwrap();
    let after = same(&w, &token, "seven kinds of write").await;
    for gone in [0, 2, 3, 5] {
        assert!(
            after.iter().all(|e| id(e) != id(&list[gone])),
            "customer {gone} left the list"
        );
    }

    // A write still uncommitted while the list is read must show once it commits.
    let mut open = w.app.pool.begin().await.unwrap();
    sqlx::query("update customer set do_not_contact = true, do_not_contact_at = now() where customer_id = $1")
        .bind(id(&after[0]))
        .execute(&mut *open)
        .await
        .unwrap();
    // A later write commits first, so the open one is in the read's snapshot as still running, not merely new.
    w.interaction(id(&after[1]), InteractionKind::Note, &day)
        .await;
    let during = same(&w, &token, "an uncommitted write").await;
    assert_eq!(id(&during[0]), id(&after[0]));
    open.commit().await.unwrap();
    let committed = same(&w, &token, "its commit").await;
    assert!(committed.iter().all(|e| id(e) != id(&after[0])));

    // A change log pruned past the kept snapshot makes the state rebuild, with the same answer.
    sqlx::query("update list_change_horizon set horizon = pg_snapshot_xmin(pg_current_snapshot())")
        .execute(&w.app.pool)
        .await
        .unwrap();
    sqlx::query("delete from list_change")
        .execute(&w.app.pool)
        .await
        .unwrap();
    w.do_not_contact(id(&committed[0])).await;
    let rebuilt = same(&w, &token, "a pruned change log").await;
    assert!(rebuilt.iter().all(|e| id(e) != id(&committed[0])));
}
