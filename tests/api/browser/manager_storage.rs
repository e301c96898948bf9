//! The storage business on the manager's screens: a season's revenue on the dashboard shows the figures
//! `GET /api/v1/storage/report` answers for it, in Chinese on a phone and in English on a laptop; zones are named
//! and added in the settings.

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::office::{account, assert_clean, open, signed_in};
use super::{artefacts, Browser, Options, Served};
use crate::world::{at, World};
use doorstep::domain::{GarmentKind as K, Material as M, Role, SeasonClass as S};

/// Today in company time (Shanghai), as the service sees it.
fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn in_days(n: i64) -> String {
    (today() + chrono::Duration::days(n)).to_string()
}

/// Fen as the page writes them: 123450 is "¥1,234.50".
fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// A storage order taken through the API by a dispatcher, as the customer page does.
async fn order(w: &World, token: &str, customer: Uuid, body: Value) -> Value {
    w.app
        .post_keyed(
            &format!("/api/v1/customers/{customer}/storage-orders"),
            token,
            &Uuid::new_v4().to_string(),
            &body,
        )
        .await
        .ok(StatusCode::CREATED)
}

/// Moves an order's acceptance to noon of `day` (company time): a season's earlier months, or an earlier season.
async fn accepted_on(pool: &PgPool, order: &Value, day: &str) {
    sqlx::query("update storage_order set created_at = $2 where order_id = $1::uuid")
        .bind(order["order_id"].as_str().unwrap())
        .bind(at(day))
        .execute(pool)
        .await
        .unwrap();
}

/// What the API answers a manager for a season's storage revenue.
async fn report(w: &World, manager: &str, season: i32) -> Value {
    w.app
        .get(&format!("/api/v1/storage/report?season={season}"), manager)
        .await
        .ok(StatusCode::OK)
}

/// A screenshot of one element (scrolled past the window if need be) as a test artefact.
pub(super) async fn element_shot(b: &Browser, css: &str, name: &str) {
    use base64::Engine as _;
    let r = b
        .eval(&format!(
            "const r = document.querySelector({css:?}).getBoundingClientRect();
             return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];"
        ))
        .await;
    let f = |i: usize| r[i].as_f64().unwrap();
    let shot = b
        .cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": f(0), "y": f(1), "width": f(2), "height": f(3), "scale": 1}}),
        )
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap_or_default())
        .unwrap();
    std::fs::write(artefacts().join(format!("{name}.png")), png).unwrap();
}

/// The text of `css`, trimmed, or a note that it is not there.
pub(super) async fn shown(b: &Browser, css: &str) -> String {
    let v = b
        .eval(&format!(
            "const e = document.querySelector({css:?}); return e ? e.textContent.trim() : '(no {css})';"
        ))
        .await;
    v.as_str().unwrap().to_owned()
}

/// Picks a season in the section's selector, as a manager would, and waits for its figures.
async fn pick_season(b: &Browser, season: i32) {
    b.eval(&format!(
        "const s = document.querySelector('#revenue-season'); s.value = '{season}';
         s.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    ))
    .await;
    b.until(
        &format!(
            "document.querySelector('#revenue-figures').dataset.season === '{season}'
             && !!document.querySelector('#revenue-total, #revenue-none, #revenue-figures [role=alert]')"
        ),
        20,
    )
    .await;
}

/// The page shows the report's totals and every month and zone row of it.
async fn shows_report(b: &Browser, report: &Value, lang: &str) {
    let what = format!("{} ({lang})", report["season"]);
    assert_eq!(
        shown(b, "#revenue-total strong").await,
        yuan(int(&report["revenue_cents"])),
        "revenue of {what}"
    );
    for (id, field, money) in [
        ("revenue-orders", "orders", false),
        ("revenue-items", "items", false),
        ("revenue-fees", "fee_cents", true),
        ("revenue-premiums", "premium_cents", true),
        ("revenue-declared", "declared_cents", true),
        ("revenue-held", "held_items", false),
        ("revenue-held-declared", "held_declared_cents", true),
        ("revenue-returned", "returned_orders", false),
    ] {
        let n = int(&report[field]);
        let expected = if money { yuan(n) } else { n.to_string() };
        assert_eq!(
            shown(b, &format!("#{id}")).await,
            expected,
            "{field} of {what}"
        );
    }
    for (table, rows) in [
        ("revenue-by-month", &report["by_month"]),
        ("revenue-by-zone", &report["by_zone"]),
    ] {
        let rows = rows.as_array().unwrap();
        assert!(!rows.is_empty(), "{table} of {what}: {report}");
        let shown_rows = b
            .eval(&format!(
                "return document.querySelectorAll('#{table} tbody tr').length;"
            ))
            .await;
        assert_eq!(int(&shown_rows), rows.len() as i64, "{table} of {what}");
        for row in rows {
            let tr = format!(
                "#{table} tr[data-group={:?}]",
                row["group"].as_str().unwrap()
            );
            let cells = b
                .eval(&format!(
                    "return [...document.querySelectorAll('{tr} th, {tr} td')].map(c => c.textContent.trim());"
                ))
                .await;
            // Zones by their name (a shipped one by its catalogue name); months without the year the selector
            // already says (4月, April).
            let name = match (table, lang) {
                ("revenue-by-zone", _) if row["named"] == false => {
                    let lang = doorstep::i18n::Lang::from_tag(lang).unwrap();
                    let key = format!("zone.{}", row["group"].as_str().unwrap());
                    doorstep::i18n::get(lang, &key).unwrap().to_owned()
                }
                ("revenue-by-zone", _) => row["label"].as_str().unwrap().to_owned(),
                (_, "zh-CN") => {
                    let month = row["group"].as_str().unwrap().split_once('-').unwrap().1;
                    format!("{}月", month.parse::<u32>().unwrap())
                }
                _ => row["label"]
                    .as_str()
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned(),
            };
            let expected = json!([
                name,
                yuan(int(&row["revenue_cents"])),
                yuan(int(&row["fee_cents"])),
                yuan(int(&row["premium_cents"])),
                int(&row["items"]).to_string(),
                int(&row["held_items"]).to_string(),
            ]);
            assert_eq!(cells, expected, "{tr} of {what}");
        }
        // Months and zones each split the season's revenue.
        let sum: i64 = rows.iter().map(|r| int(&r["revenue_cents"])).sum();
        assert_eq!(sum, int(&report["revenue_cents"]), "{table} of {what}");
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_manager_reads_a_seasons_storage_revenue_on_the_dashboard(pool: PgPool) {
    let w = World::new(pool.clone()).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let cleaned = (today() - chrono::Duration::days(3)).to_string();
    let (liu, zhou, sun) = (
        w.customer("刘芳").await,
        w.customer("周敏").await,
        w.customer("孙浩").await,
    );
    let fur = w.garment(liu, K::Coat, S::Winter, M::Fur, None).await;
    let coat = w.garment(liu, K::Coat, S::Winter, M::Wool, None).await;
    let knit = w.garment(zhou, K::Sweater, S::Winter, M::Wool, None).await;
    let old = w.garment(sun, K::Coat, S::Winter, M::Wool, None).await;
    w.pickup(liu, &cleaned, &[(fur, 60_000), (coat, 30_000)])
        .await;
    w.pickup(zhou, &cleaned, &[(knit, 12_000)]).await;
    w.pickup(sun, &cleaned, &[(old, 30_000)]).await;

    // This season: a fur and a wool coat held now, and a knit accepted in January and returned since.
    order(
        &w,
        &dispatcher,
        liu,
        json!({"items": [{"garment_id": fur, "declared_value_cents": 800_000},
                         {"garment_id": coat, "declared_value_cents": 200_000}], "term_months": 6}),
    )
    .await;
    let back = order(
        &w,
        &dispatcher,
        zhou,
        json!({"items": [{"garment_id": knit, "declared_value_cents": 30_000}], "term_months": 2,
               "planned_return_on": in_days(40)}),
    )
    .await;
    for status in ["in_storage", "return_requested", "returned"] {
        w.app
            .post(
                &format!(
                    "/api/v1/customers/{zhou}/storage-orders/{}/status",
                    back["order_id"].as_str().unwrap()
                ),
                &dispatcher,
                json!({"status": status}),
            )
            .await
            .ok(StatusCode::OK);
    }
    let season = today().year();
    accepted_on(&pool, &back, &format!("{season}-01-02")).await;
    // Last season: one coat.
    let earlier = order(
        &w,
        &dispatcher,
        sun,
        json!({"items": [{"garment_id": old, "declared_value_cents": 150_000}], "term_months": 6}),
    )
    .await;
    accepted_on(&pool, &earlier, &format!("{}-06-15", season - 1)).await;

    let (user, manager) = account(&w.app, Role::Manager).await;
    let now = report(&w, &manager, season).await;
    let before = report(&w, &manager, season - 1).await;
    assert_eq!((int(&now["orders"]), int(&now["items"])), (2, 3), "{now}");
    assert_eq!(int(&now["returned_orders"]), 1, "{now}");
    assert_eq!(now["by_zone"].as_array().unwrap().len(), 3, "{now}");
    assert_eq!(int(&before["orders"]), 1, "{before}");

    let served = Served::start(pool.clone()).await;
    for (lang, width, height) in [("zh-CN", 390, 844), ("en", 1280, 800)] {
        let b = signed_in(&served, &user, Options::sized(lang, width, height)).await;
        open(&b, &served, "#/dashboard", "#revenue-total").await;
        b.until("document.body.dataset.painted === 'dashboard'", 30)
            .await;
        // Its own section, right after the storage zones.
        let after_zones = b
            .eval("return document.querySelector('#storage').nextElementSibling?.id;")
            .await;
        assert_eq!(after_zones, "storage-revenue");
        let seasons = b
            .eval("return [...document.querySelectorAll('#revenue-season option')].map(o => Number(o.value));")
            .await;
        assert!(
            seasons.as_array().unwrap().len() >= 3 && seasons[0] == season,
            "the seasons to pick: {seasons}"
        );
        let picked = b
            .eval("return document.querySelector('#revenue-season').value;")
            .await;
        assert_eq!(picked, season.to_string(), "the current season first");
        shows_report(&b, &now, lang).await;

        let alerts = b
            .eval("return [...document.querySelectorAll('#storage-revenue [role=alert]')].map(e => e.textContent).join(' | ');")
            .await;
        assert_eq!(alerts, "", "the section loads ({lang})");
        let keys = b
            .eval("return document.body.innerText.match(/\\b[a-z_]+\\.[a-z_]+\\b/g)?.filter(k => /^(dash|common|nav|settings|storage)\\./.test(k)) ?? [];")
            .await;
        assert_eq!(keys, json!([]), "untranslated keys ({lang})");
        if lang == "zh-CN" {
            assert_eq!(shown(&b, "#storage-revenue h2").await, "仓储收入");
            // What the section says is Chinese, the shipped zones' names too (in the capacity bars as well).
            let latin = b
                .eval("return document.querySelector('#storage-revenue').innerText.match(/[A-Za-z]{2,}/g) || [];")
                .await;
            assert_eq!(latin, json!([]), "English words in the Chinese section");
            assert!(
                shown(&b, "#storage")
                    .await
                    .contains("冷藏库（皮草、皮革、麂皮）"),
                "capacity bars: {}",
                shown(&b, "#storage").await
            );
        } else {
            assert_eq!(shown(&b, "#storage-revenue h2").await, "Storage revenue");
        }
        b.assert_no_horizontal_overflow(&format!("dashboard {lang} {width}"))
            .await;
        element_shot(
            &b,
            "#storage-revenue",
            &format!("manager-storage-revenue-{lang}-{width}"),
        )
        .await;

        // Last season, picked on the page; then a season with no orders says so.
        pick_season(&b, season - 1).await;
        shows_report(&b, &before, lang).await;
        b.assert_no_horizontal_overflow(&format!("last season {lang} {width}"))
            .await;
        pick_season(&b, season - 2).await;
        let none = shown(&b, "#revenue-none").await;
        assert!(none.contains(&(season - 2).to_string()), "{none}");
        if lang == "en" {
            element_shot(
                &b,
                "#storage-revenue",
                "manager-storage-revenue-empty-en-1280",
            )
            .await;
        }
        pick_season(&b, season).await;
        shows_report(&b, &now, lang).await;

        assert_clean(b.console_errors().await);
        b.close().await;
    }
}

/// Taps a settings zone card's Save and waits until the page says how it went.
async fn save_zone(b: &Browser, zone: &str) {
    b.eval("document.querySelector('#storage-settings-status').textContent = ''; return 1;")
        .await;
    b.tap(&format!("li[data-zone='{zone}'] button")).await;
    b.until(
        "document.querySelector('#storage-settings-status')?.textContent.length > 0",
        20,
    )
    .await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_manager_names_a_zone_and_adds_one(pool: PgPool) {
    let w = World::new(pool.clone()).await;
    let (user, _) = account(&w.app, Role::Manager).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    open(
        &b,
        &served,
        "#/settings",
        "li[data-zone='cold-vault'] input.zone-name",
    )
    .await;
    // A shipped zone nobody renamed: titled in Chinese, and its name field offers that name until one is typed.
    assert_eq!(
        shown(&b, "li[data-zone=cold-vault] .zone-title").await,
        "冷藏库（皮草、皮革、麂皮）"
    );
    let field = b
        .eval(
            "const i = document.querySelector(\"li[data-zone='cold-vault'] input.zone-name\"); return [i.value, i.placeholder];",
        )
        .await;
    assert_eq!(field, json!(["", "冷藏库（皮草、皮革、麂皮）"]));
    element_shot(&b, "ul.zones", "settings-zones-shipped-zh-CN").await;
    let name = b
        .wait_for("li[data-zone='cold-vault'] input.zone-name", 10)
        .await;
    name.clear().await.unwrap();
    name.send_keys("冷藏库（皮草、皮革、麂皮）").await.unwrap();
    save_zone(&b, "cold-vault").await;
    let zone = |id: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (String, String, i32)>(
                "select name, kind, capacity from storage_zone where zone_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        zone("cold-vault").await,
        (
            "冷藏库（皮草、皮革、麂皮）".to_owned(),
            "cold_vault".to_owned(),
            400
        )
    );
    // Another shipped zone's capacity saved with its name field left empty: still the shipped zone.
    b.eval("const i = document.querySelector(\"li[data-zone='rack-a'] input[type=number]\"); i.value = '1600'; return 1;")
        .await;
    save_zone(&b, "rack-a").await;
    let rack: (String, bool, i32) =
        sqlx::query_as("select name, named, capacity from storage_zone where zone_id = 'rack-a'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        rack,
        (
            "Hanging rack A (coats, suits, down)".to_owned(),
            false,
            1600
        )
    );
    // A new zone: its code, name, kind and capacity.
    b.type_into("#zone-id", "rack-b").await;
    b.type_into("#zone-name", "挂衣架 B（西装）").await;
    b.eval("document.querySelector('#zone-capacity').value = '300'; return 1;")
        .await;
    b.tap("#new-zone button[type=submit]").await;
    b.until("!!document.querySelector(\"li[data-zone='rack-b']\")", 20)
        .await;
    assert_eq!(
        zone("rack-b").await,
        ("挂衣架 B（西装）".to_owned(), "rack".to_owned(), 300)
    );
    b.assert_no_horizontal_overflow("settings zones zh 390")
        .await;
    b.eval("document.querySelector('#new-zone').scrollIntoView(); return 1;")
        .await;
    b.screenshot("settings-zones-zh-CN-390").await;
    assert_clean(b.console_errors().await);
    b.close().await;
}
