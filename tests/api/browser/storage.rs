//! The storage pages in headless Chromium: a dispatcher takes a customer's garments into storage, shelves the order,
//! books its return and marks it returned, each step recorded once under its own key, in Chinese on a phone.

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::office::{account, open, signed_in};
use super::{Browser, Options, Served};
use crate::world::World;
use doorstep::domain::{GarmentKind as K, Material as M, Role, SeasonClass as S};

/// Today in company time (Shanghai), as the service sees it.
fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn in_days(n: i64) -> String {
    (today() + chrono::Duration::days(n)).to_string()
}

/// Records every write the page sends with its Idempotency-Key (`api.js` looks `fetch` up at each call); once per
/// document.
const WATCH_WRITES: &str = "if (!window.__writes) { window.__writes = []; const f = window.fetch;
    window.fetch = (url, o = {}) => { if (o.method && o.method !== 'GET') window.__writes.push([String(url), (o.headers || {})['Idempotency-Key'] || null]); return f(url, o); }; }
    return true;";

/// The writes recorded since the last call, as `(url, key)`.
async fn take_writes(b: &Browser) -> Vec<(String, Option<String>)> {
    let v = b
        .eval("const w = window.__writes || []; window.__writes = []; return w;")
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w[0].as_str().unwrap().to_owned(),
                w[1].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// A day as the Chinese page writes it: 2026年3月5日.
fn zh_day(day: &str) -> String {
    let d: NaiveDate = day.parse().unwrap();
    d.format("%Y年%-m月%-d日").to_string()
}

/// Latin words left in `css`'s visible text once the customer's own data (names, addresses, receipt numbers,
/// warehouse places) is taken out: what the page itself says must be in the page's language.
async fn latin_words(b: &Browser, css: &str) -> Value {
    b.eval(&format!(
        "const el = document.querySelector({css:?}); if (!el) return ['(no {css})'];
         const c = el.cloneNode(true);
         for (const x of c.querySelectorAll('.place, .receipt-link, .address, .phone, a[href^=\"#/customers/\"]')) x.remove();
         return c.innerText.replace(/CSV|T-[0-9a-f]{{32}}/g, '').match(/[A-Za-z_]{{2,}}/g) || [];"
    ))
    .await
}

async fn untranslated_keys(b: &Browser) -> Value {
    b.eval("return document.body.innerText.match(/\\b(storage|storage_status|nav|common|lists)\\.[a-z_]+\\b/g) || [];")
        .await
}

/// Sets a date input as the date picker would.
async fn set_date(b: &Browser, css: &str, day: &str) {
    b.wait_for(css, 10).await;
    b.eval(&format!(
        "const i = document.querySelector({css:?}); i.value = {day:?}; i.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    ))
    .await;
}

/// Clicks `css` and waits for the step's confirmation in the storage screen.
async fn step(b: &Browser, css: &str, says: &str) {
    b.eval("document.querySelector('#storage-done')?.remove(); return true;")
        .await;
    b.tap(css).await;
    b.until(
        &format!("document.querySelector('#storage-done')?.textContent.includes({says:?})"),
        20,
    )
    .await;
}

/// An order's status, booked delivery day, and its events as `status/action` in order.
async fn order_state(pool: &PgPool, order: Uuid) -> (String, Option<NaiveDate>, Vec<String>) {
    let (status, booked): (String, Option<NaiveDate>) =
        sqlx::query_as("select status, delivery_booked_for from storage_order where order_id = $1")
            .bind(order)
            .fetch_one(pool)
            .await
            .unwrap();
    let events: Vec<String> = sqlx::query_scalar(
        "select status || '/' || action from storage_event where order_id = $1 order by seq",
    )
    .bind(order)
    .fetch_all(pool)
    .await
    .unwrap();
    (status, booked, events)
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_dispatcher_takes_garments_into_storage_and_back_through_the_pages(pool: PgPool) {
    let w = World::new(pool.clone()).await;
    let c = w.customer("王芳").await;
    let cleaned = (today() - chrono::Duration::days(3)).to_string();
    let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
    let sweater = w.garment(c, K::Sweater, S::Winter, M::Cashmere, None).await;
    let never_cleaned = w.garment(c, K::DownJacket, S::Winter, M::Down, None).await;
    w.pickup(c, &cleaned, &[(coat, 30_000), (sweater, 12_000)])
        .await;
    let (user, _) = account(&w.app, Role::Dispatcher).await;
    let me: Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;

    // The form lists what can be stored; a garment we never cleaned is listed apart, with the reason.
    open(
        &b,
        &served,
        &format!("#/customers/{c}"),
        "#new-storage-order",
    )
    .await;
    b.eval(WATCH_WRITES).await;
    b.tap("#new-storage-order").await;
    b.wait_for("#storage-order-form", 20).await;
    b.eval("document.querySelector('#not-storable').open = true; return true;")
        .await;
    let blocked = b
        .text(&format!("#not-storable li[data-garment='{never_cleaned}']"))
        .await;
    assert!(
        blocked.contains("羽绒服") && blocked.contains("尚未经我们清洗"),
        "the garment and why: {blocked}"
    );
    let line = |g: Uuid| format!("li[data-garment='{g}']");
    b.tap(&format!("#store-{coat}")).await;
    b.type_into(&format!("{} .declared", line(coat)), "1200")
        .await;
    // Typing a value ticks the garment.
    b.type_into(&format!("{} .declared", line(sweater)), "800.5")
        .await;
    assert_eq!(
        b.eval(&format!(
            "return document.querySelector('#store-{sweater}').checked;"
        ))
        .await,
        json!(true)
    );
    let planned = in_days(10);
    set_date(&b, "#planned-return", &planned).await;
    assert_eq!(latin_words(&b, "#storage-form").await, json!([]));
    b.assert_no_horizontal_overflow("storage form zh 390").await;
    b.screenshot("storage-form-zh-390").await;

    // Meanwhile the sweater went into another order: the server refuses, and the form says so at the sweater.
    w.store(c, &cleaned, &[sweater]).await;
    b.tap("#save-storage-order").await;
    let refusal = b
        .until(
            &format!(
                "document.querySelector(\"{} .condition .msg.error\")?.textContent",
                line(sweater)
            ),
            20,
        )
        .await;
    assert!(
        refusal.as_str().unwrap().contains("已在仓储中"),
        "{refusal}"
    );
    b.screenshot("storage-refusal-zh-390").await;
    assert!(b
        .text("#storage-order-status [role=alert]")
        .await
        .contains("未能保存"));
    assert_eq!(latin_words(&b, "#storage-order-status").await, json!([]));
    assert_eq!(
        w.app
            .count(&format!(
                "select count(*) from storage_order where customer_id = '{c}' and created_by = '{me}'"
            ))
            .await,
        0
    );

    // Untick it and send again: one order, one item, one event.
    b.tap(&format!("#store-{sweater}")).await;
    b.tap("#save-storage-order").await;
    b.wait_for("#storage-order-saved", 20).await;
    let (order, receipt, declared): (Uuid, String, i64) = sqlx::query_as(
        "select order_id, receipt_no, declared_cents from storage_order where customer_id = $1 and created_by = $2",
    )
    .bind(c)
    .bind(me)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(declared, 120_000);
    let items: Vec<Uuid> =
        sqlx::query_scalar("select garment_id from storage_item where order_id = $1")
            .bind(order)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(items, vec![coat]);
    let (status, _, events) = order_state(&pool, order).await;
    assert_eq!(status, "accepted");
    assert_eq!(events, ["accepted/status"]);
    assert_eq!(b.text("#storage-order-saved .receipt-link").await, receipt);
    assert!(
        b.text("#storage-order-saved")
            .await
            .contains(&format!("{}年", today().format("%Y"))),
        "dates as people here write them"
    );
    // The customer's order list was read again.
    b.until(
        &format!("document.querySelector('main').innerText.includes({receipt:?})"),
        10,
    )
    .await;
    assert_eq!(latin_words(&b, "#storage-form").await, json!([]));
    let mut writes = take_writes(&b).await;

    // The storage screen: the order waits to be shelved.
    open(
        &b,
        &served,
        "#/storage",
        &format!("#orders-table tr[data-order='{order}']"),
    )
    .await;
    b.eval(WATCH_WRITES).await;
    assert_eq!(latin_words(&b, "main").await, json!([]));
    assert_eq!(untranslated_keys(&b).await, json!([]));
    b.assert_no_horizontal_overflow("storage zh 390").await;
    b.screenshot("storage-zh-390").await;
    step(
        &b,
        &format!("tr[data-order='{order}'] .act-store"),
        "已入库",
    )
    .await;
    let (status, _, events) = order_state(&pool, order).await;
    assert_eq!(status, "in_storage");
    assert_eq!(events, ["accepted/status", "in_storage/status"]);
    // A row in the table books in a panel below it, where the date field has room.
    b.eval("const s = document.querySelector('#order-status'); s.value = 'in_storage'; s.dispatchEvent(new Event('change')); return true;")
        .await;
    b.tap_within(&format!("tr[data-order='{order}'] .act-open-book"), 20)
        .await;
    b.wait_for("#booking-panel .book-date", 10).await;
    assert_eq!(latin_words(&b, "#booking-panel").await, json!([]));

    // Its return, from the list of returns due within a month.
    let due_by = in_days(30);
    set_date(&b, "#due-by", &due_by).await;
    b.tap("#returns-apply").await;
    b.until(
        &format!(
            "document.querySelector('#returns-total')?.textContent.includes({:?})",
            zh_day(&due_by)
        ),
        20,
    )
    .await;
    let card = format!(".return-order[data-order='{order}']");
    b.wait_for(&format!("{card} .act-book"), 20).await;
    assert!(b.text(&card).await.contains("大衣"), "items in Chinese");
    assert_eq!(latin_words(&b, "#storage-returns").await, json!([]));
    let book_day = in_days(5);
    set_date(&b, &format!("{card} .book-date"), &book_day).await;
    b.type_into(&format!("{card} .book-note"), "下午送").await;
    step(&b, &format!("{card} .act-book"), "已预约").await;
    let (status, booked, events) = order_state(&pool, order).await;
    assert_eq!(status, "return_requested");
    assert_eq!(booked.map(|d| d.to_string()), Some(book_day.clone()));
    // Booking asks an order in storage back (its status move) and books the day: one of each.
    assert_eq!(
        events,
        [
            "accepted/status",
            "in_storage/status",
            "return_requested/status",
            "return_requested/delivery"
        ]
    );
    let note: String = sqlx::query_scalar(
        "select note from storage_event where order_id = $1 and action = 'delivery'",
    )
    .bind(order)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(note, "下午送");

    // Returned: a second tap, then the garments leave the warehouse.
    b.tap_within(&format!("{card} .act-returned"), 20).await;
    assert_eq!(
        order_state(&pool, order).await.0,
        "return_requested",
        "one tap does not mark it"
    );
    step(&b, &format!("{card} .act-returned.armed"), "已送回").await;
    let (status, _, events) = order_state(&pool, order).await;
    assert_eq!(status, "returned");
    assert_eq!(events.len(), 5);
    assert_eq!(events[4], "returned/status");
    assert_eq!(
        w.app
            .count(&format!(
                "select count(*) from storage_item where order_id = '{order}' and released_at is null"
            ))
            .await,
        0
    );
    b.until(&format!("!document.querySelector(\"{card}\")"), 10)
        .await;
    let staff: i64 = w
        .app
        .count(&format!(
            "select count(*) from storage_event where order_id = '{order}' and staff_id = '{me}'"
        ))
        .await;
    assert_eq!(staff, 5, "every step is the dispatcher's");

    // Every write went with its own key: the refused first try and its corrected retry share one (the refusal
    // recorded nothing), every later step has a new one.
    writes.extend(take_writes(&b).await);
    let keys: Vec<&str> = writes
        .iter()
        .map(|(url, key)| {
            key.as_deref()
                .unwrap_or_else(|| panic!("a write without a key: {url}"))
        })
        .collect();
    assert_eq!(writes.len(), 5, "{writes:?}");
    assert!(writes[0]
        .0
        .ends_with(&format!("/customers/{c}/storage-orders")));
    assert_eq!(keys[0], keys[1], "the refused try and its retry");
    let mut later = keys[1..].to_vec();
    later.sort();
    later.dedup();
    assert_eq!(later.len(), 4, "one key per step: {keys:?}");

    let errors = b.console_errors().await;
    assert!(
        errors.iter().all(|e| e.contains("409")),
        "console errors: {errors:?}"
    );
    b.close().await;

    // The same pages on a laptop in English: translated, nothing sideways.
    let b = signed_in(&served, &user, Options::sized("en", 1280, 800)).await;
    open(&b, &served, "#/storage", "#orders-table, #no-orders").await;
    b.wait_for("#returns-total", 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(untranslated_keys(&b).await, json!([]));
    assert!(b.text("main h1").await.contains("Storage"));
    b.assert_no_horizontal_overflow("storage en 1280").await;
    b.screenshot("storage-en-1280").await;
    open(
        &b,
        &served,
        &format!("#/customers/{c}"),
        "#new-storage-order",
    )
    .await;
    b.tap("#new-storage-order").await;
    b.wait_for("#storage-order-form", 20).await;
    assert_eq!(untranslated_keys(&b).await, json!([]));
    b.assert_no_horizontal_overflow("storage form en 1280")
        .await;
    b.screenshot("storage-form-en-1280").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.close().await;
}
