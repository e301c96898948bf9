//! The season calendar on the manager's settings page, on a phone: one year's spring dates set and put back to
//! the default, a window kind added under a Chinese name and deleted with a second tap, and kinds that campaigns
//! or the storage settings use kept, saying why, in Chinese and in English.

use chrono::{Datelike, NaiveDate};
use serde_json::json;
use sqlx::PgPool;

use super::manager_storage::{element_shot, shown};
use super::office::{account, create_campaign, open, reminder_world, signed_in, spring};
use super::{Browser, Options, Served};
use doorstep::domain::Role;
use doorstep::i18n::{text, Lang};

/// This year in company time (Shanghai), as the page picks it.
fn this_year() -> i32 {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .date_naive()
        .year()
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// The years a manager set their own dates of a window kind in, with those dates.
async fn overrides(pool: &PgPool, kind: &str) -> Vec<(i32, NaiveDate, NaiveDate)> {
    sqlx::query_as(
        "select year, starts_on, ends_on from season_window_override where window_kind = $1 order by year",
    )
    .bind(kind)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn kind_exists(pool: &PgPool, kind: &str) -> bool {
    sqlx::query_scalar("select exists (select 1 from season_window_kind where window_kind = $1)")
        .bind(kind)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Puts a date into a date field, as the phone's date picker does.
async fn pick_date(b: &Browser, css: &str, iso: &str) {
    b.eval(&format!(
        "const i = document.querySelector({css:?}); i.value = {iso:?};
         i.dispatchEvent(new Event('change', {{bubbles: true}})); return i.value;"
    ))
    .await;
}

/// Taps a kind's Delete twice, as a manager confirms it, checking the first tap only asks.
async fn delete_kind(b: &Browser, pool: &PgPool, kind: &str, lang: Lang) {
    let button = format!("#window-kinds li[data-kind={kind:?}] .delete-kind");
    b.tap(&button).await;
    assert_eq!(
        shown(b, &button).await,
        text(lang, "settings.delete_kind_confirm"),
        "the first tap asks again"
    );
    assert!(
        kind_exists(pool, kind).await,
        "{kind} deleted on the first tap"
    );
    b.tap(&button).await;
}

/// Fills the new-kind form (name, start and end as typed) and sends it.
async fn add_kind(b: &Browser, name: &str, start: &str, end: &str) {
    b.type_into("#nk-name", name).await;
    b.type_into("#nk-start", start).await;
    b.type_into("#nk-end", end).await;
    b.tap("#new-kind button[type=submit]").await;
}

/// What the page shows as refused under a kind's card, once it is there.
async fn kind_refusal(b: &Browser, kind: &str) -> String {
    let css = format!("#window-kinds li[data-kind={kind:?}] .card-status [role=alert]");
    b.until(&format!("!!document.querySelector({css:?})"), 20)
        .await;
    shown(b, &css).await
}

/// The browser logs the refusals this test provokes (422, 409), and nothing else.
fn refused_only(errors: Vec<String>) {
    assert!(
        errors
            .iter()
            .all(|e| e.contains("/season-calendar/") && (e.contains("422") || e.contains("409"))),
        "console errors: {errors:?}"
    );
}

/// Nothing of the calendar sticks out of its section (the page's margin would hide it from the overflow check).
async fn assert_inside(b: &Browser, what: &str) {
    let out = b
        .eval(
            "const edge = document.querySelector('#calendar').getBoundingClientRect().right + 1;
             return [...document.querySelectorAll('#calendar *')]
               .filter(e => e.getBoundingClientRect().right > edge)
               .map(e => e.id || e.className || e.tagName);",
        )
        .await;
    assert_eq!(out, json!([]), "{what}: sticks out of the calendar");
}

/// Page words that are catalogue keys, and (in Chinese) English words in what the calendar says itself.
async fn assert_worded(b: &Browser, lang: Lang) {
    let keys = b
        .eval("return document.querySelector('#calendar').innerText.match(/\\b[a-z_]+\\.[a-z_]+\\b/g) ?? [];")
        .await;
    assert_eq!(keys, json!([]), "untranslated keys ({})", lang.tag());
    if lang == Lang::ZhCn {
        let latin = b
            .eval("return document.querySelector('#calendar').innerText.match(/[A-Za-z]{2,}/g) ?? [];")
            .await;
        assert_eq!(latin, json!([]), "English words in the Chinese calendar");
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_manager_keeps_the_season_calendar_from_the_settings_page(pool: PgPool) {
    let (w, _) = reminder_world(pool.clone(), 2).await;
    let (user, manager) = account(&w.app, Role::Manager).await;
    // A campaign was built on the spring window: spring stays.
    create_campaign(
        &w.app,
        &manager,
        json!({"name": "春季回访", "list": "reminders", "window": spring()}),
    )
    .await;
    let year = this_year();
    let zh = Lang::ZhCn;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    open(
        &b,
        &served,
        "#/settings",
        "#year-windows li[data-kind=spring]",
    )
    .await;
    let shown_year = b
        .eval("return document.querySelector('#calendar-year').value;")
        .await;
    assert_eq!(shown_year, year.to_string(), "this year first");
    let spring_card = "#year-windows li[data-kind=spring]";
    assert_eq!(
        b.eval("return [...document.querySelectorAll('#y-spring-starts, #y-spring-ends')].map(i => i.type);")
            .await,
        json!(["date", "date"])
    );

    // The plum rains came late: spring runs 20 March to 10 June this year only.
    pick_date(&b, "#y-spring-starts", &format!("{year}-03-20")).await;
    pick_date(&b, "#y-spring-ends", &format!("{year}-06-10")).await;
    b.tap(&format!("{spring_card} .save-year")).await;
    b.until(
        &format!("document.querySelector('{spring_card}')?.dataset.overridden === 'true' && document.querySelector('{spring_card} .card-status')?.textContent.length > 0"),
        20,
    )
    .await;
    assert_eq!(
        overrides(&pool, "spring").await,
        vec![(year, day(year, 3, 20), day(year, 6, 10))]
    );
    assert_eq!(
        shown(&b, &format!("{spring_card} .this-year-only")).await,
        text(zh, "settings.this_year_only")
    );
    let said = shown(&b, &format!("{spring_card} .card-status")).await;
    assert!(said.starts_with("已保存"), "{said}");
    assert_eq!(
        b.eval("return document.querySelector('#y-spring-starts').value;")
            .await,
        format!("{year}-03-20")
    );

    // An end before the start: the server's refusal under the end date, in Chinese; nothing changes.
    pick_date(&b, "#y-spring-ends", &format!("{year}-03-01")).await;
    b.tap(&format!("{spring_card} .save-year")).await;
    b.until(
        "!!document.querySelector('#y-spring-ends-note [role=alert]')",
        20,
    )
    .await;
    let fields = b
        .eval("return [...document.querySelectorAll('#y-spring-starts, #y-spring-ends')].map(i => [i.value, i.validationMessage]);")
        .await;
    assert_eq!(
        shown(&b, "#y-spring-ends-note").await,
        text(zh, "settings.err_end"),
        "{fields}"
    );
    assert_eq!(
        b.eval("return document.querySelector('#y-spring-ends').getAttribute('aria-invalid');")
            .await,
        "true"
    );
    assert_eq!(shown(&b, "#y-spring-starts-note").await, "");
    assert_eq!(
        overrides(&pool, "spring").await,
        vec![(year, day(year, 3, 20), day(year, 6, 10))]
    );
    b.assert_no_horizontal_overflow("calendar year zh 390")
        .await;
    assert_inside(&b, "calendar year zh 390").await;
    element_shot(&b, "#calendar", "calendar-year-zh-CN-390").await;

    // Back to the default dates.
    b.tap(&format!("{spring_card} .reset-year")).await;
    b.until(
        &format!("document.querySelector('{spring_card}')?.dataset.overridden === 'false'"),
        20,
    )
    .await;
    assert_eq!(overrides(&pool, "spring").await, vec![]);
    let said = shown(&b, &format!("{spring_card} .card-status")).await;
    assert!(said.starts_with("已恢复默认日期"), "{said}");
    assert_eq!(
        b.eval("return [document.querySelector('#y-spring-starts').value, document.querySelector('#y-spring-ends').value];")
            .await,
        json!([format!("{year}-03-01"), format!("{year}-05-31")])
    );
    assert!(
        b.eval(&format!(
            "return !document.querySelector('{spring_card} .reset-year');"
        ))
        .await
        .as_bool()
        .unwrap(),
        "nothing to reset"
    );

    // Next year's windows, then this year's again.
    b.tap("#next-year").await;
    b.until(
        &format!(
            "document.querySelector('#y-spring-starts')?.value === '{}-03-01'",
            year + 1
        ),
        20,
    )
    .await;
    b.tap("#prev-year").await;
    b.until(
        &format!("document.querySelector('#y-spring-starts')?.value === '{year}-03-01'"),
        20,
    )
    .await;

    // A kind under a Chinese name, dates typed loosely: nobody types its id.
    b.eval("document.querySelector('#nk-outgoing').value = 'spring_autumn'; document.querySelector('#s-return').value = 'autumn'; return 1;")
        .await;
    add_kind(&b, "梅雨季", "6/10", "7月15日").await;
    b.until(
        "document.querySelector('#new-kind-status')?.textContent.includes('梅雨季')",
        20,
    )
    .await;
    let (kind, outgoing, dates): (String, String, Vec<i16>) = sqlx::query_as(
        "select window_kind, outgoing, array[start_month, start_day, end_month, end_day]
           from season_window_kind where name = '梅雨季'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        kind.starts_with("window_") && (2..=31).contains(&kind.len()),
        "{kind}"
    );
    assert_eq!(
        (outgoing.as_str(), dates),
        ("spring_autumn", vec![6, 10, 7, 15])
    );
    assert!(
        b.eval(&format!(
            "return !!document.querySelector('#window-kinds li[data-kind={kind:?}]') && !!document.querySelector('#year-windows li[data-kind={kind:?}]');"
        ))
        .await
        .as_bool()
        .unwrap(),
        "the new kind is listed, with its window of the year"
    );
    // The storage settings can return stored clothes by it at once, the manager's unsaved choice kept.
    b.until(
        &format!("[...document.querySelectorAll('#s-return option')].some((o) => o.value === {kind:?} && o.textContent === '梅雨季') && document.querySelector('#s-return').value === 'autumn'"),
        20,
    )
    .await;
    b.eval(&format!("const s = document.querySelector('#s-return'); s.value = {kind:?}; s.scrollIntoView({{block: 'center'}}); return 1;"))
        .await;
    b.screenshot("calendar-kind-in-storage-returns-zh-CN-390")
        .await;

    // A day that does not exist: refused under the start field, nothing added.
    add_kind(&b, "台风季", "02-30", "10-31").await;
    b.until(
        "!!document.querySelector('#nk-start-note [role=alert]')",
        20,
    )
    .await;
    assert_eq!(
        shown(&b, "#nk-start-note").await,
        text(zh, "settings.err_month_day")
    );
    assert_eq!(shown(&b, "#nk-end-note").await, "");
    let typhoon: i64 =
        sqlx::query_scalar("select count(*) from season_window_kind where name = '台风季'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(typhoon, 0);
    b.assert_no_horizontal_overflow("calendar new kind zh 390")
        .await;
    b.eval("document.querySelector('#new-kind').scrollIntoView(); return 1;")
        .await;
    b.screenshot("calendar-new-kind-zh-CN-390").await;

    // The new kind goes after a second tap.
    delete_kind(&b, &pool, &kind, zh).await;
    b.until(
        &format!("!document.querySelector('#window-kinds li[data-kind={kind:?}]') && document.querySelector('#kinds-status')?.textContent.includes('梅雨季')"),
        20,
    )
    .await;
    assert!(!kind_exists(&pool, &kind).await, "{kind} still there");
    b.until(
        &format!(
            "![...document.querySelectorAll('#s-return option')].some((o) => o.value === {kind:?})"
        ),
        20,
    )
    .await;

    // Spring has a campaign, early winter is the storage return window: both stay, and the page says why.
    delete_kind(&b, &pool, "spring", zh).await;
    assert_eq!(
        kind_refusal(&b, "spring").await,
        text(zh, "settings.kind_in_campaigns")
    );
    delete_kind(&b, &pool, "early_winter", zh).await;
    assert_eq!(
        kind_refusal(&b, "early_winter").await,
        text(zh, "settings.kind_in_storage")
    );
    assert!(kind_exists(&pool, "spring").await && kind_exists(&pool, "early_winter").await);
    assert_worded(&b, zh).await;
    b.assert_no_horizontal_overflow("calendar kinds zh 390")
        .await;
    assert_inside(&b, "calendar kinds zh 390").await;
    element_shot(&b, "#calendar", "calendar-kinds-zh-CN-390").await;
    refused_only(b.console_errors().await);
    b.close().await;

    // In English: the same refusals in English words.
    let en = Lang::En;
    let b = signed_in(&served, &user, Options::sized("en", 390, 844)).await;
    open(
        &b,
        &served,
        "#/settings",
        "#year-windows li[data-kind=spring]",
    )
    .await;
    pick_date(&b, "#y-spring-starts", &format!("{}-12-20", year - 1)).await;
    b.tap(&format!("{spring_card} .save-year")).await;
    b.until(
        "!!document.querySelector('#y-spring-starts-note [role=alert]')",
        20,
    )
    .await;
    assert_eq!(
        shown(&b, "#y-spring-starts-note").await,
        text(en, "settings.err_in_year").replace("{year}", &year.to_string())
    );
    assert_eq!(overrides(&pool, "spring").await, vec![]);
    delete_kind(&b, &pool, "spring", en).await;
    assert_eq!(
        kind_refusal(&b, "spring").await,
        text(en, "settings.kind_in_campaigns")
    );
    assert_worded(&b, en).await;
    b.assert_no_horizontal_overflow("calendar en 390").await;
    assert_inside(&b, "calendar en 390").await;
    element_shot(&b, "#calendar", "calendar-en-390").await;
    refused_only(b.console_errors().await);
    b.close().await;
}
