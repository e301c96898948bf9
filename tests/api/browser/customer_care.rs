//! Customer care in headless Chromium: a complaint resolved from the customer screen, and an administrator's
//! personal-data duties (the customer's data handed over, who read it, erasure).

use sqlx::PgPool;
use uuid::Uuid;

use super::office::{account, assert_clean, open, signed_in};
use super::{Browser, Options, Served};
use crate::helpers::{TestApp, LIU_FANG, LIU_FANG_COAT};
use doorstep::domain::Role;

/// `role` signed in with `opts` on Liu Fang's customer screen once `ready` shows: the browser, the server it
/// talks to (kept alive beside it) and the username.
async fn on_liu_fangs_screen(
    pool: &PgPool,
    role: Role,
    opts: Options,
    ready: &str,
) -> (Browser, Served, String) {
    let app = TestApp::new(pool.clone()).await;
    let (user, _) = account(&app, role).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, opts).await;
    open(&b, &served, &format!("#/customers/{LIU_FANG}"), ready).await;
    (b, served, user)
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../../fixtures", scripts("demo"))
)]
async fn a_dispatcher_resolves_a_complaint_on_the_customer_screen(pool: PgPool) {
    let (b, _served, user) = on_liu_fangs_screen(
        &pool,
        Role::Dispatcher,
        Options::default(),
        ".complaint-resolve",
    )
    .await;
    let me: Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    let open_complaints = "select count(*) from interaction
        where customer_id = $1::uuid and kind = 'complaint' and resolved_at is null";
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(LIU_FANG)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count(open_complaints).await, 1);
    // An empty resolution is refused on the page, and nothing is recorded.
    b.tap(".complaint-resolve button").await;
    b.until(
        "!!document.querySelector('.complaint-resolve [role=alert]')",
        10,
    )
    .await;
    assert_eq!(count(open_complaints).await, 1);
    b.screenshot("care-complaint-open-zh-390").await;
    b.type_into(".complaint-resolve textarea", "免费重洗，已致歉")
        .await;
    b.tap(".complaint-resolve button").await;
    b.until("!document.querySelector('.complaint-resolve')", 20)
        .await;
    let (resolution, by): (String, Uuid) = sqlx::query_as(
        "select resolution, resolved_by from interaction
          where customer_id = $1::uuid and kind = 'complaint'",
    )
    .bind(LIU_FANG)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((resolution.as_str(), by), ("免费重洗，已致歉", me));
    assert_eq!(count(open_complaints).await, 0);
    b.assert_no_horizontal_overflow("customer resolved zh 390")
        .await;
    b.screenshot("care-complaint-resolved-zh-390").await;
    assert_clean(b.console_errors().await);
    b.close().await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../../fixtures", scripts("demo"))
)]
async fn an_administrator_hands_over_erases_and_sees_who_read_a_customers_data(pool: PgPool) {
    let en = Options {
        lang: "en",
        ..Options::default()
    };
    let (b, served, _) = on_liu_fangs_screen(&pool, Role::Admin, en, "#export-data").await;
    b.tap("#export-data").await;
    b.until("!!document.querySelector('#export-file')", 20)
        .await;
    b.eval("document.querySelector('#personal-data').scrollIntoView(); return 1;")
        .await;
    b.screenshot("care-personal-data-en-390").await;
    // The page offers the file under the customer's id (the page's policy keeps scripts from reading it back).
    let file = b
        .eval("return document.querySelector('#export-file').getAttribute('download');")
        .await;
    assert_eq!(file, format!("customer-{LIU_FANG}.json").as_str());

    // Who read it: the card view and the export, on the access log filtered to this customer.
    b.tap("#who-read").await;
    b.until("!!document.querySelector('#access-entries table.data')", 20)
        .await;
    let actions = b
        .eval("return [...document.querySelectorAll('#access-entries tbody tr')].map(r => r.cells[2].textContent);")
        .await;
    let actions: Vec<String> = serde_json::from_value(actions).unwrap();
    assert!(
        actions.contains(&"Exported all data".to_owned())
            && actions.contains(&"Opened the card".to_owned()),
        "{actions:?}"
    );
    b.assert_no_horizontal_overflow("access log en 390").await;
    b.screenshot("care-access-log-en-390").await;

    // Erasure takes a second tap; the customer screen then shows what is left.
    open(
        &b,
        &served,
        &format!("#/customers/{LIU_FANG}"),
        "#erase-customer",
    )
    .await;
    let erase = b.wait_for("#erase-customer", 10).await;
    erase.click().await.unwrap();
    let (name,): (String,) =
        sqlx::query_as("select name from customer where customer_id = $1::uuid")
            .bind(LIU_FANG)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(name, "Liu Fang", "one tap erases nothing");
    erase.click().await.unwrap();
    b.until(
        "document.querySelector('h1.customer-name')?.textContent === 'Erased customer'",
        20,
    )
    .await;
    let (phone, labels): (Option<String>, i64) = sqlx::query_as(
        "select phone, (select count(*) from door_label l where l.customer_id = c.customer_id and revoked_at is null)
           from customer c where customer_id = $1::uuid",
    )
    .bind(LIU_FANG)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((phone, labels), (None, 0));
    assert_clean(b.console_errors().await);
    b.close().await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../../fixtures", scripts("demo"))
)]
async fn a_dispatcher_sees_no_personal_data_duties(pool: PgPool) {
    let (b, _served, _) = on_liu_fangs_screen(
        &pool,
        Role::Dispatcher,
        Options::default(),
        "#customer-form",
    )
    .await;
    let shown = b
        .eval("return !!document.querySelector('#export-data, #erase-customer, a[href=\"#/access-log\"]');")
        .await;
    assert_eq!(shown, false);
    b.close().await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../../fixtures", scripts("demo"))
)]
async fn a_dispatcher_corrects_a_garment_from_the_wardrobe(pool: PgPool) {
    let (b, _served, _) = on_liu_fangs_screen(
        &pool,
        Role::Dispatcher,
        Options::default(),
        "button.garment",
    )
    .await;
    let coat = format!("button.garment[data-garment='{LIU_FANG_COAT}']");
    b.tap(&coat).await;
    b.wait_for("#garment-form", 10).await;
    // Filed as winter by mistake: an in-between coat, and its size was written down wrong.
    b.eval("const s = document.querySelector('#g-season'); s.value = 'spring_autumn'; return 1;")
        .await;
    let size = b.wait_for("#g-size", 10).await;
    size.clear().await.unwrap();
    size.send_keys("L").await.unwrap();
    b.screenshot("care-garment-form-zh-390").await;
    b.assert_no_horizontal_overflow("garment form zh 390").await;
    b.tap("#save-garment").await;
    b.until("!document.querySelector('#garment-form')", 20)
        .await;
    let (season, size, brand): (String, Option<String>, Option<String>) =
        sqlx::query_as("select season_class, size, brand from garment where garment_id = $1::uuid")
            .bind(LIU_FANG_COAT)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (season.as_str(), size.as_deref(), brand.as_deref()),
        ("spring_autumn", Some("L"), Some("Max Mara")),
        "only what was changed is changed"
    );
    // The screen shows the wardrobe as it is now.
    b.until(
        &format!("!!document.querySelector(\"{coat}\") && [...document.querySelectorAll('.wardrobe-group')].some(g => g.querySelector(\"{coat}\") && g.querySelector('h3').textContent.startsWith('春秋'))"),
        20,
    )
    .await;
    assert_clean(b.console_errors().await);
    b.close().await;
}
