//! The office app's call lists in headless Chromium: the day a list is for, a list whose estimates are still
//! being prepared, and the dashboard's count of the open window that leads to its list.

use std::time::Duration;

use axum::http::StatusCode;
use sqlx::PgPool;

use super::office::{account, assert_clean, open, reminder_world, signed_in};
use super::{Options, Served};
use crate::helpers::TestApp;
use doorstep::domain::Role;

/// A list asked for a past day says how late a customer's usual put-away was on that day, not today.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_past_days_list_counts_lateness_to_its_own_day(pool: PgPool) {
    let on = chrono::NaiveDate::from_ymd_opt(2026, 4, 10).unwrap();
    let options = doorstep::seed::SeedOptions {
        today: on,
        batch_size: 100,
        parallel: 2,
        ..doorstep::seed::SeedOptions::new(300, 2, 11)
    };
    doorstep::seed::seed(&pool, options).await.unwrap();
    let app = TestApp::new(pool.clone()).await;
    let (user, token) = account(&app, Role::Dispatcher).await;
    let page = app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-10&limit=20",
            &token,
        )
        .await
        .ok(StatusCode::OK);
    let late: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["usual"]["usual_date"].as_str())
        .map(|d| (on - d.parse::<chrono::NaiveDate>().unwrap()).num_days())
        .filter(|days| *days > 0)
        .collect();
    assert!(
        !late.is_empty(),
        "someone on the first page is late: {page}"
    );
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::sized("en", 1280, 800)).await;
    open(
        &b,
        &served,
        "#/lists/reminders/window=2026-spring&on=2026-04-10",
        "#list-total",
    )
    .await;
    let reasons = b
        .eval("return [...document.querySelectorAll('.reason-cell')].slice(0, 20).map(e => e.textContent).join(' | ');")
        .await;
    let reasons = reasons.as_str().unwrap();
    for days in &late {
        assert!(
            reasons.contains(&format!("({days} days ago)")),
            "{days} days late on 2026-04-10: {reasons}"
        );
    }
    assert_clean(b.console_errors().await);
    b.close().await;
}

/// A large company just restarted: the list's estimates are still being fitted when a dispatcher opens the list.
/// The page says so in the dispatcher's language and shows the list by itself once the server has it.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_list_still_being_prepared_says_so_and_comes_by_itself(pool: PgPool) {
    let (w, _) = reminder_world(pool.clone(), 3).await;
    let (user, _) = account(&w.app, Role::Dispatcher).await;
    // No patience at all: the first request is told to come back (503, `Retry-After: 1`) while the fit goes on.
    let served = Served::start_with(pool.clone(), |state| {
        state.outlook = std::sync::Arc::new(doorstep::lists::outlook::OutlookCache::with_patience(
            Duration::ZERO,
            1,
        ));
    })
    .await;
    let b = signed_in(&served, &user, Options::sized("zh-CN", 390, 844)).await;
    open(&b, &served, "#/lists/reminders", "#list-retry").await;
    let alert = b.text("#list-box [role=alert]").await;
    assert!(alert.contains("今天的名单还在准备中"), "{alert}");
    assert!(!alert.contains("Estimates not ready"), "{alert}");
    let retry = b.text("#list-retry").await;
    assert!(retry.contains("1 秒后自动重试"), "{retry}");
    b.screenshot("office-list-being-prepared-zh-390").await;
    // No click: the page asks again and shows the list.
    b.until("!!document.querySelector('#list-total')", 20).await;
    assert_eq!(
        b.eval("return document.querySelectorAll('#list-box [role=alert]').length;")
            .await,
        0
    );
    // The browser logs the 503 itself as a failed load; nothing else may be logged.
    let errors = b.console_errors().await;
    assert_clean(
        errors
            .into_iter()
            .filter(|e| !e.contains("status of 503"))
            .collect(),
    );
    b.close().await;
}

/// The manager's dashboard shows the window open today twice: the weekly forecast's count, and the same window
/// counted from the wardrobes on record, with what calls could add and a way to the call list.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_dashboard_counts_the_open_window_from_the_wardrobes(pool: PgPool) {
    super::office::seeded(&pool, 300).await;
    let app = TestApp::new(pool.clone()).await;
    let (user, token) = account(&app, Role::Manager).await;
    app.open_a_window_today(&token).await;
    // The same figures from the API (the estimates are the same in every process).
    let counted = &app.open_window_counted(&token).await["from_wardrobes"];
    let on_record = counted["figures"]["on_record"].as_i64().unwrap();
    let assumed = counted["timing_assumed"].is_string();
    let grouped = on_record
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let served = Served::start(pool.clone()).await;
    for (lang, width, height, words, pending) in [
        ("zh-CN", 390, 844, "按在册衣橱估算", "正在按在册衣橱估算"),
        (
            "en",
            1280,
            800,
            "From the wardrobes on record",
            "being prepared",
        ),
    ] {
        let b = signed_in(&served, &user, Options::sized(lang, width, height)).await;
        // The first visit starts this server's estimates and says the count is coming; a later visit shows it.
        let mut shown = false;
        open(&b, &served, "#/dashboard", "#open-window h2").await;
        for _ in 0..40 {
            if b.eval("return !!document.querySelector('#from-wardrobes');")
                .await
                .as_bool()
                .unwrap()
            {
                shown = true;
                break;
            }
            let text = b.text("#open-window").await;
            assert!(text.contains(pending), "{text}");
            tokio::time::sleep(Duration::from_secs(1)).await;
            // Opened again: a fresh page, not the one already drawn.
            b.eval("window.seenBefore = true; location.reload(); return true;")
                .await;
            b.until(
                "!window.seenBefore && !!document.querySelector('#open-window h2')",
                20,
            )
            .await;
        }
        assert!(shown, "the count from the wardrobes appears");
        let text = b.text("#from-wardrobes").await;
        assert!(text.contains(words), "{text}");
        // When nobody can be expected to send unprompted (too few past put-aways), the page says why.
        assert_eq!(
            b.eval("return !!document.querySelector('#timing-assumed');")
                .await
                .as_bool(),
            Some(assumed)
        );
        if lang == "zh-CN" {
            // The shipped windows' English default names are shown in Chinese.
            let next = b.text("#put-away").await;
            assert!(
                next.contains("收纳") && !next.contains("put-away"),
                "{next}"
            );
        }
        assert!(
            text.contains(&grouped),
            "{grouped} garments on record: {text}"
        );
        b.eval("document.querySelector('#open-window').scrollIntoView(); return true;")
            .await;
        b.assert_no_horizontal_overflow(&format!("open window {width}"))
            .await;
        b.screenshot(&format!("office-open-window-{lang}-{width}"))
            .await;
        // Its link opens the call list of that window.
        b.eval("document.querySelector('#from-wardrobes a').click(); return true;")
            .await;
        b.until("location.hash.startsWith('#/lists/reminders/window=')", 10)
            .await;
        assert_clean(b.console_errors().await);
        b.close().await;
    }
}
