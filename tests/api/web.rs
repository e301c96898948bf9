//! The web app over plain HTTP: sign-in by form and cookie, CSRF on cookie writes, headers, assets, receipts,
//! and the cleaning price list the pickup page pre-fills from.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, LIU_FANG, LIU_FANG_COAT, PASSWORD};
use doorstep::domain::Role;

async fn username_of_latest(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "select username from staff where username like 'test-%' order by created_at desc limit 1",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Signs in through the form and returns the session cookie (`name=value`).
async fn form_login(app: &TestApp, username: &str, password: &str) -> String {
    let body = format!("username={username}&password={password}");
    let reply = app
        .request(
            Request::post("/app/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> serde_json::Value {
    app.request(
        Request::get("/api/v1/auth/me")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .ok(StatusCode::OK)
}

#[sqlx::test(fixtures(path = "../../fixtures", scripts("demo")))]
async fn cookie_sessions_need_the_csrf_token_to_write(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let _ = app.login(Role::Pickup).await;
    let user = username_of_latest(&pool).await;
    let cookie = form_login(&app, &user, PASSWORD).await;
    let me = me_with_cookie(&app, &cookie).await;
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(me["username"], user.as_str());
    assert_eq!(me["utc_offset_minutes"], 480);

    let note = |token: Option<&str>| {
        let mut r = Request::post(format!("/api/v1/customers/{LIU_FANG}/interactions"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            r = r.header("x-csrf-token", t);
        }
        r.body(Body::from(
            json!({"kind": "note", "channel": "door", "body": "rang twice", "occurred_at": "2026-11-20T10:00:00+08:00"})
                .to_string(),
        ))
        .unwrap()
    };
    // Another site can make the browser send the cookie, but cannot read the token.
    let refused = app.request(note(None)).await.problem(StatusCode::FORBIDDEN);
    assert_eq!(refused["field"], "x-csrf-token");
    app.request(note(Some("0000")))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.request(note(Some(&csrf))).await.ok(StatusCode::CREATED);
    // Reads need no token.
    app.request(
        Request::get(format!("/api/v1/customers/{LIU_FANG}/card"))
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .ok(StatusCode::OK);
    // A bearer token is not a browser credential: no CSRF token, and /auth/me gives none.
    let token = app.login(Role::Pickup).await;
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    assert!(me.get("csrf_token").is_none());

    // Signing out by form needs the token too, and then the cookie is dead.
    let logout = |token: &str| {
        Request::post("/app/logout")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf_token={token}")))
            .unwrap()
    };
    app.request(logout("wrong"))
        .await
        .problem(StatusCode::FORBIDDEN);
    let out = app.request(logout(&csrf)).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    app.request(
        Request::get("/api/v1/auth/me")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn pages_redirect_and_carry_a_strict_policy(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let root = app.send(Method::GET, "/", None, None).await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.headers[header::LOCATION], "/app/");
    let shell = app.send(Method::GET, "/app/", None, None).await;
    assert_eq!(shell.status, StatusCode::SEE_OTHER);
    assert_eq!(shell.headers[header::LOCATION], "/app/login");

    let login = app
        .request(
            Request::get("/app/login")
                .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let csp = login.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    let html = String::from_utf8(login.body).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Sign in"));
    let zh = app
        .request(
            Request::get("/app/login")
                .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(String::from_utf8(zh.body).unwrap().contains("登录"));

    // Assets: hashed version in the path, cached for good, compressed when asked.
    let module = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let js = app
        .request(
            Request::get(&module)
                .header(header::ACCEPT_ENCODING, "br, gzip")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(js.content_type().starts_with("text/javascript"));
    assert!(js.headers.get(header::CONTENT_ENCODING).is_some());
    let sw = app.send(Method::GET, "/app/sw.js", None, None).await;
    let sw = String::from_utf8(sw.body).unwrap();
    assert!(sw.contains("const PRECACHE") && sw.contains(&module));
    app.send(Method::GET, "/app/assets/x/nope.js", None, None)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[sqlx::test(fixtures(path = "../../fixtures", scripts("demo")))]
async fn the_pickup_receipt_prints_chinese(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let token = app.login(Role::Pickup).await;
    sqlx::query("update customer set name = '刘芳' where customer_id = $1")
        .bind(uuid::Uuid::parse_str(LIU_FANG).unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let body = json!({
        "customer_id": LIU_FANG,
        "collected_at": "2026-11-20T09:30:00+08:00",
        "lines": [{"garment_id": LIU_FANG_COAT, "service": "dry_clean", "price_cents": 6000, "condition": "领口有污渍"}]
    });
    let pickup = app
        .post_pickup(&token, "receipt-1", &body)
        .await
        .ok(StatusCode::CREATED);
    let pid = pickup["pickup_id"].as_str().unwrap();

    let json = app
        .get(
            &format!("/api/v1/customers/{LIU_FANG}/pickups/{pid}"),
            &token,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(json["customer_name"], "刘芳");
    assert_eq!(json["total_cents"], 6000);
    assert_eq!(json["lines"].as_array().unwrap().len(), 1);

    let pdf = app
        .get(
            &format!("/api/v1/customers/{LIU_FANG}/pickups/{pid}/receipt.pdf?lang=zh-CN"),
            &token,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.content_type(), "application/pdf");
    let text = pdf_extract::extract_text_from_mem(&pdf.body).unwrap();
    assert!(
        text.contains("刘芳"),
        "the name is in the PDF's text: {text}"
    );
    assert!(text.contains("干洗") && text.contains("60.00"), "{text}");
    assert!(text.contains("共 1 件"), "{text}");

    app.get(
        &format!(
            "/api/v1/customers/{LIU_FANG}/pickups/{}/receipt.pdf",
            uuid::Uuid::new_v4()
        ),
        &token,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(
        Method::GET,
        &format!("/api/v1/customers/{LIU_FANG}/pickups/{pid}"),
    )
    .await;
}

#[sqlx::test]
async fn managers_keep_the_cleaning_price_list(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let worker = app.login(Role::Pickup).await;
    let manager = app.login(Role::Manager).await;
    let list = app
        .get("/api/v1/prices/cleaning", &worker)
        .await
        .ok(StatusCode::OK);
    let items = list["items"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|p| p["service"] == "dry_clean" && p["kind"].is_null() && p["material"].is_null()));

    let set = json!({"service": "dry_clean", "kind": "coat", "material": "cashmere", "price_cents": 8800});
    app.send(
        Method::PUT,
        "/api/v1/prices/cleaning",
        Some(worker.as_str()),
        Some(set.clone()),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let row = app
        .send(
            Method::PUT,
            "/api/v1/prices/cleaning",
            Some(manager.as_str()),
            Some(set.clone()),
        )
        .await
        .ok(StatusCode::OK);
    // Setting it again changes the same row.
    let again = app
        .send(
            Method::PUT,
            "/api/v1/prices/cleaning",
            Some(manager.as_str()),
            Some(json!({"service": "dry_clean", "kind": "coat", "material": "cashmere", "price_cents": 9000})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(row["price_id"], again["price_id"]);
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/prices/cleaning",
            Some(manager.as_str()),
            Some(json!({"service": "dry_clean", "price_cents": -1})),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["field"], "price_cents");
    app.send(
        Method::PUT,
        "/api/v1/prices/cleaning",
        Some(manager.as_str()),
        Some(json!({"service": "steam", "price_cents": 100})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);

    let id = row["price_id"].as_i64().unwrap();
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/prices/cleaning/{id}"),
            Some(manager.as_str()),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let catch_all: i64 = sqlx::query_scalar(
        "select price_id::bigint from cleaning_price where service = 'wash' and kind is null and material is null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let refused = app
        .send(
            Method::DELETE,
            &format!("/api/v1/prices/cleaning/{catch_all}"),
            Some(manager.as_str()),
            None,
        )
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(refused["field"], "price_id");
    app.assert_needs_session(Method::GET, "/api/v1/prices/cleaning")
        .await;
}
