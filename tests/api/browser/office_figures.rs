//! The office app's figures in headless Chromium (ignored by default): the dispatcher's queue and the manager's
//! dashboard painted on a seeded 9,000-customer company, median of 20 loads each.

use std::time::Instant;

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::office::{account, create_campaign, seeded, signed_in, spring};
use super::{median, Browser, Options, Served};
use crate::helpers::TestApp;
use doorstep::domain::Role;

/// Median of 20 loads, from navigation start to the screen painted (a frame after its data is in the page).
async fn paint_times(b: &Browser, served: &Served, hash: &str, painted: &str) -> Vec<f64> {
    let mut times = Vec::new();
    for _ in 0..20 {
        b.goto(&served.url("/app/login")).await;
        b.goto(&served.url(&format!("/app/{hash}"))).await;
        let ms = b
            .until(
                &format!("document.body.dataset.painted === '{painted}' && performance.now()"),
                60,
            )
            .await;
        times.push(ms.as_f64().unwrap());
    }
    times
}

/// `cargo test --test api browser::office_figures -- --ignored --nocapture`
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
#[ignore = "figures: seeds 9,000 customers and loads each screen 20 times"]
async fn figures(pool: PgPool) {
    let t0 = Instant::now();
    seeded(&pool, 9_000).await;
    println!(
        "seeded 9,000 customers in {:.0}s",
        t0.elapsed().as_secs_f64()
    );
    let app = TestApp::new(pool.clone()).await;
    let (user, token) = account(&app, Role::Manager).await;
    let me: Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    let created = create_campaign(
        &app,
        &token,
        json!({"name": "Spring calls", "list": "reminders", "window": spring()}),
    )
    .await;
    let campaign = created["campaign_id"].as_str().unwrap().to_owned();
    println!("campaign entries: {}", created["entries"]);
    app.assign_campaign(&token, &campaign, &[me]).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    let queue = paint_times(&b, &served, "#/queue", "queue").await;
    let dash = paint_times(&b, &served, "#/dashboard", "dashboard").await;
    // Where the last dashboard load spent its time: each API call's duration as the browser saw it.
    let calls = b
        .eval(
            "return performance.getEntriesByType('resource')
               .filter(r => r.name.includes('/api/v1/'))
               .map(r => `${new URL(r.name).pathname.replace(/[0-9a-f-]{36}/g, ':id')} ${Math.round(r.duration)} ms`);",
        )
        .await;
    println!("dashboard API calls (last load): {calls}");
    println!(
        "queue painted: median {:.0} ms (min {:.0}, max {:.0}) over 20",
        median(queue.clone()),
        queue.iter().cloned().fold(f64::MAX, f64::min),
        queue.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "dashboard painted: median {:.0} ms (min {:.0}, max {:.0}) over 20",
        median(dash.clone()),
        dash.iter().cloned().fold(f64::MAX, f64::min),
        dash.iter().cloned().fold(0.0, f64::max)
    );
    b.close().await;
}
