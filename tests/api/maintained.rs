//! Today's lists are served from kept state brought up to date by the change log: after every kind of write,
//! and with a write still uncommitted while the list is read, each equals the list computed from scratch (with
//! the same estimates, for the reminders).

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use doorstep::domain::{GarmentKind, Material, SeasonClass};
use doorstep::domain::{InteractionKind, Role};
use doorstep::export::Rows;
use doorstep::lists::{maintained, reminders, special_sizes, storage_upsell, value};
use doorstep::seed::{seed, SeedOptions};

use crate::world::World;

/// Every row the API serves, page by page (each page is its own request, so each brings the state up to date).
async fn served(w: &World, token: &str, list: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page = w
            .app
            .get(
                &format!(
                    "/api/v1/lists/{list}{}limit=37&offset={offset}",
                    if list.ends_with(['?', '&']) { "" } else { "?" }
                ),
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

/// The reminder list computed from scratch with the estimates the service holds.
async fn exact_reminders(w: &World) -> Vec<Value> {
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
    listed.into_items().iter().map(as_served).collect()
}

/// The special-size list computed from scratch.
async fn exact_sizes(w: &World) -> Vec<Value> {
    let state = &w.app.state;
    let q = special_sizes::query_from(&state.settings, None, None, None).unwrap();
    let listed = special_sizes::compute(&state.pool, &state.settings, &q, Rows::ALL)
        .await
        .unwrap();
    listed.into_items().iter().map(as_served).collect()
}

/// The at-risk list (one kind of call, or both) computed from scratch.
async fn exact_at_risk(w: &World, status: Option<&str>) -> Vec<Value> {
    let state = &w.app.state;
    let q = value::at_risk_query(&state.settings, None, None, None, status).unwrap();
    let listed = value::compute_at_risk_afresh(state, &q, Rows::ALL)
        .await
        .unwrap();
    listed.into_items().iter().map(as_served).collect()
}

/// The customer-value list (optionally one tier and stage) and its segments, computed from scratch.
async fn exact_value(w: &World, tier: Option<&str>, stage: Option<&str>) -> (Vec<Value>, Value) {
    let state = &w.app.state;
    let on = state.settings.clock.today();
    let q = value::ValueQuery::new(on, tier.map(str::to_owned), stage.map(str::to_owned));
    let mut listed = value::compute_value(&state.pool, &state.settings, &q, Rows::ALL)
        .await
        .unwrap()
        .into_items();
    let active = state
        .outlook
        .active(&state.pool, &state.settings, on)
        .await
        .unwrap();
    value::with_activity(&mut listed, &active);
    let segments = value::segments(&state.pool, &state.settings, on)
        .await
        .unwrap();
    (listed.iter().map(as_served).collect(), as_served(&segments))
}

/// The latest spring window's id: the storage offers are asked for it, so the list has people on it.
async fn spring(w: &World) -> String {
    let cal = doorstep::calendar::Calendar::load(&w.app.pool)
        .await
        .unwrap();
    let on = w.app.state.settings.clock.today();
    let window = cal.latest_of(SeasonClass::Winter, on).unwrap();
    serde_json::to_value(&window).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The storage offers of that window, computed from scratch.
async fn exact_upsell(w: &World) -> Vec<Value> {
    let state = &w.app.state;
    let spring = spring(w).await;
    let q = storage_upsell::query_from(state, Some(&spring), None, None, None)
        .await
        .unwrap();
    let mut listed = storage_upsell::compute(&state.pool, &state.settings, &q, Rows::ALL)
        .await
        .unwrap()
        .into_items();
    let active = state
        .outlook
        .active(&state.pool, &state.settings, q.on())
        .await
        .unwrap();
    storage_upsell::with_activity(&mut listed, &active);
    listed.iter().map(as_served).collect()
}

fn assert_same(served: &[Value], exact: &[Value], what: &str) {
    assert_eq!(served.len(), exact.len(), "{what}");
    for (s, e) in served.iter().zip(exact) {
        assert_eq!(s, e, "{what}");
    }
}

async fn same(w: &World, token: &str, after: &str) -> Vec<Value> {
    let sizes = served(w, token, "special-sizes").await;
    assert_same(
        &sizes,
        &exact_sizes(w).await,
        &format!("special sizes after {after}"),
    );
    for (tier, stage) in [
        (None, None),
        (Some("gold"), None),
        (None, Some("declining")),
    ] {
        let mut list = "customer-value?".to_owned();
        if let Some(t) = tier {
            list.push_str(&format!("tier={t}&"));
        }
        if let Some(s) = stage {
            list.push_str(&format!("stage={s}&"));
        }
        let (exact, segments) = exact_value(w, tier, stage).await;
        assert_same(
            &served(w, token, &list).await,
            &exact,
            &format!("customer value {tier:?} {stage:?} after {after}"),
        );
        let page = w
            .app
            .get("/api/v1/lists/customer-value?limit=1", token)
            .await
            .ok(StatusCode::OK);
        assert_eq!(page["segments"], segments, "segments after {after}");
    }
    let offers = served(
        w,
        token,
        &format!("storage-upsell?window={}&", spring(w).await),
    )
    .await;
    assert!(!offers.is_empty(), "storage offers to compare");
    assert_same(
        &offers,
        &exact_upsell(w).await,
        &format!("storage offers after {after}"),
    );
    for status in [None, Some("gone"), Some("slipping")] {
        let list = match status {
            Some(s) => format!("at-risk?status={s}&"),
            None => "at-risk?".to_owned(),
        };
        let at_risk = served(w, token, &list).await;
        assert_same(
            &at_risk,
            &exact_at_risk(w, status).await,
            &format!("at-risk {status:?} after {after}"),
        );
    }
    let served = served(w, token, "reminders").await;
    let exact = exact_reminders(w).await;
    assert_eq!(served.len(), exact.len(), "after {after}");
    for (s, e) in served.iter().zip(&exact) {
        assert_eq!(s, e, "after {after}");
    }
    served
}

/// An entry as a client reads it: through JSON text (serde_json's float parsing is not always exact, so both
/// sides take the same path).
fn as_served<T: serde::Serialize>(e: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap()
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
async fn todays_kept_lists_equal_the_exact_ones_after_every_kind_of_write(pool: sqlx::PgPool) {
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
    // The first through the API, as a pickup worker records it.
    let lines: Vec<Value> = garments(&list[0])
        .iter()
        .map(|(g, price)| json!({"garment_id": g, "service": "dry_clean", "price_cents": price}))
        .collect();
    let body = json!({"customer_id": id(&list[0]), "collected_at": Utc::now(), "lines": lines});
    w.app
        .post_keyed("/api/v1/pickups", &token, "kept-lists-visit", &body)
        .await
        .ok(StatusCode::CREATED);
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
    // Special sizes: a new special-size garment, one no longer special, a customer who asked not to be called.
    let special: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select customer_id, min(garment_id::text)::uuid from garment where special_size
          group by customer_id order by customer_id limit 3",
    )
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(special.len(), 3, "the seed has special sizes");
    w.garment(
        id(&list[7]),
        GarmentKind::Coat,
        SeasonClass::Winter,
        Material::Wool,
        Some(("4XL", true)),
    )
    .await;
    sqlx::query("update garment set special_size = false where garment_id = $1")
        .bind(special[0].1)
        .execute(&w.app.pool)
        .await
        .unwrap();
    w.do_not_contact(special[1].0).await;
    // At risk: one comes back today, one asks not to be called.
    let at_risk = served(&w, &token, "at-risk?").await;
    assert!(at_risk.len() >= 2, "the seed has customers at risk");
    let back = w
        .garment(
            id(&at_risk[0]),
            GarmentKind::Shirt,
            SeasonClass::AllSeason,
            Material::Cotton,
            None,
        )
        .await;
    w.pickup(id(&at_risk[0]), &day, &[(back, 1500)]).await;
    w.do_not_contact(id(&at_risk[1])).await;
    // Storage offers: a price changes for every customer at once (not a customer's write).
    sqlx::query("update storage_price set monthly_cents = monthly_cents + 700 where kind is null and material is null")
        .execute(&w.app.pool)
        .await
        .unwrap();
    let after = same(&w, &token, "thirteen kinds of write").await;
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

/// Housekeeping keeps the change log for an hour past the snapshot it noted, then drops what lies below it.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_change_log_is_pruned_an_hour_behind(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    w.customer("Ma Li").await;
    let logged = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from list_change")
            .fetch_one(&w.app.pool)
            .await
            .unwrap()
    };
    assert!(logged().await >= 1, "a new customer is logged");
    assert_eq!(
        maintained::prune(&w.app.pool).await.unwrap(),
        0,
        "nothing is an hour old"
    );
    // An hour on: the xmin noted then lies past the customer's write (set here past the log's last row, since
    // the cluster's own xmin also waits for other tests' transactions).
    sqlx::query(
        "update list_change_horizon
            set noted_at = now() - interval '61 minutes',
                next_horizon = ((select max(xid) from list_change)::text::bigint + 1)::text::xid8",
    )
    .execute(&w.app.pool)
    .await
    .unwrap();
    let noted: String = sqlx::query_scalar("select next_horizon::text from list_change_horizon")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    let before = logged().await;
    assert_eq!(maintained::prune(&w.app.pool).await.unwrap(), before as u64);
    assert_eq!(logged().await, 0);
    let (horizon, fresh): (String, bool) = sqlx::query_as(
        "select horizon::text, noted_at > now() - interval '1 minute' from list_change_horizon",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(
        horizon, noted,
        "the horizon moved to the xmin noted an hour before"
    );
    assert!(fresh, "and a new one was noted");
}
