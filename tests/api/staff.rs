//! Tests of staff administration and of signing in and out.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::customers::send_raw;
use crate::helpers::{roles_below, Reply, TestApp};
use doorstep::domain::Role;

const MISSING: &str = "00000000-0000-4000-8000-0000000000ff";
const PASSWORD: &str = "a long enough password";

async fn login(app: &TestApp, username: &str, password: &str) -> Reply {
    app.send(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": username, "password": password})),
    )
    .await
}

/// Creates `username` as an admin would and signs them in; returns their id and token.
async fn create_member(app: &TestApp, admin: &str, username: &str, role: &str) -> (String, String) {
    let body = json!({"username": username, "role": role, "password": PASSWORD});
    let account = app
        .post("/api/v1/staff", admin, body)
        .await
        .ok(StatusCode::CREATED);
    let token = login(app, username, PASSWORD).await.ok(StatusCode::OK)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (account["staff_id"].as_str().unwrap().to_owned(), token)
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn admin_creates_a_member_who_can_sign_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let body = json!({"username": " Xu.Ming ", "display_name": " Xu Ming ", "role": "pickup", "password": PASSWORD});
    let a = app
        .post("/api/v1/staff", &admin, body)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(a["username"], "xu.ming");
    assert_eq!(a["display_name"], "Xu Ming");
    assert_eq!(a["role"], "pickup");
    assert_eq!(a["active"], true);
    assert!(a.get("password_hash").is_none());
    let id = a["staff_id"].as_str().unwrap();
    let sql = format!("select count(*) from staff where staff_id = '{id}' and username = 'xu.ming' and role = 'pickup' and active and password_hash like '$argon2id$%'");
    assert_eq!(app.count(&sql).await, 1);

    let session = login(&app, "xu.ming", PASSWORD).await.ok(StatusCode::OK);
    assert_eq!(session["staff"]["staff_id"], id);
    assert_eq!(session["staff"]["role"], "pickup");
    let me = app
        .get("/api/v1/auth/me", session["token"].as_str().unwrap())
        .await
        .ok(StatusCode::OK);
    assert_eq!(me["username"], "xu.ming");
    assert_eq!(
        app.count(&format!(
            "select count(*) from staff_session where staff_id = '{id}'"
        ))
        .await,
        1
    );

    let plain = app
        .post(
            "/api/v1/staff",
            &admin,
            json!({"username": "he_yu", "role": "manager", "password": PASSWORD}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(plain["display_name"], "he_yu");
    assert_eq!(plain["role"], "manager");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn create_rejects_bad_input(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    app.post(
        "/api/v1/staff",
        &admin,
        json!({"username": "xu.ming", "role": "pickup", "password": PASSWORD}),
    )
    .await
    .ok(StatusCode::CREATED);
    let before = app.count("select count(*) from staff").await;
    for name in ["xu.ming", " XU.Ming "] {
        let p = app
            .post(
                "/api/v1/staff",
                &admin,
                json!({"username": name, "role": "admin", "password": PASSWORD}),
            )
            .await
            .problem(StatusCode::CONFLICT);
        assert_eq!(p["field"], "username");
    }
    let cases = [
        (
            json!({"username": "yu", "role": "pickup", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "bad name!", "role": "pickup", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "wu.jing", "role": "pickup", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "wu.jing", "role": "pickup", "password": "p".repeat(201)}),
            "password",
        ),
        (json!({"username": "wu.jing", "role": "pickup"}), "password"),
        (
            json!({"username": "wu.jing", "role": "boss", "password": PASSWORD}),
            "role",
        ),
        (
            json!({"username": "wu.jing", "role": "pickup", "password": PASSWORD, "display_name": "d".repeat(101)}),
            "display_name",
        ),
        (
            json!({"username": "wu.jing", "role": "pickup", "password": PASSWORD, "email": "w@example.com"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let p = app
            .post("/api/v1/staff", &admin, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{body}");
    }
    send_raw(
        &app,
        Method::POST,
        "/api/v1/staff",
        &admin,
        "{\"username\": \"wu.jing\"",
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(app.count("select count(*) from staff").await, before);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn only_admins_manage_staff(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let (member, _) = create_member(&app, &admin, "xu.ming", "pickup").await;
    let body = json!({"username": "wu.jing", "role": "admin", "password": PASSWORD});
    let member_uri = format!("/api/v1/staff/{member}");
    for role in roles_below(Role::Admin) {
        let t = app.login(role).await;
        app.post("/api/v1/staff", &t, body.clone())
            .await
            .problem(StatusCode::FORBIDDEN);
        app.get("/api/v1/staff", &t)
            .await
            .problem(StatusCode::FORBIDDEN);
        app.patch(&member_uri, &t, json!({"role": "admin"}))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    assert_eq!(roles_below(Role::Admin).len(), 3);
    app.send(Method::POST, "/api/v1/staff", None, Some(body))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.assert_needs_session(Method::GET, "/api/v1/staff").await;
    app.send(
        Method::PATCH,
        &member_uri,
        None,
        Some(json!({"role": "admin"})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("select count(*) from staff where username = 'wu.jing' or role = 'admin' and username = 'xu.ming'").await, 0);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn admin_lists_staff_by_username(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let list = app.get("/api/v1/staff", &admin).await.ok(StatusCode::OK);
    let list = list.as_array().unwrap();
    let names: Vec<&str> = list
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 5);
    assert_eq!(
        names[..4],
        [
            "demo-admin",
            "demo-dispatcher",
            "demo-manager",
            "demo-pickup"
        ]
    );
    assert!(names[4].starts_with("test-admin-"));
    assert!(list
        .iter()
        .all(|s| s.get("password_hash").is_none() && s["active"] == true));
    assert_eq!(list[3]["display_name"], "Wang Lei (pickup)");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn admin_changes_role_and_name(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let (member, token) = create_member(&app, &admin, "xu.ming", "manager").await;
    app.get("/api/v1/customers", &token)
        .await
        .ok(StatusCode::OK);
    let uri = format!("/api/v1/staff/{member}");
    let a = app
        .patch(
            &uri,
            &admin,
            json!({"role": "pickup", "display_name": " Xu M. "}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(a["role"], "pickup");
    assert_eq!(a["display_name"], "Xu M.");
    assert_eq!(a["active"], true);
    let sql = format!("select count(*) from staff where staff_id = '{member}' and role = 'pickup' and display_name = 'Xu M.' and updated_at > created_at");
    assert_eq!(app.count(&sql).await, 1);
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    assert_eq!(
        me["role"], "pickup",
        "a role change applies to the existing session"
    );
    app.post("/api/v1/customers", &token, json!({"name": "Wu"}))
        .await
        .problem(StatusCode::FORBIDDEN);

    let cases = [
        (json!({"password": "short"}), "password"),
        (json!({"display_name": "  "}), "display_name"),
        (json!({"display_name": "d".repeat(101)}), "display_name"),
        (json!({"role": "boss"}), "role"),
        (json!({"active": "no"}), "active"),
        (json!({"username": "other"}), "username"),
    ];
    for (body, field) in cases {
        let p = app
            .patch(&uri, &admin, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{body}");
    }
    send_raw(&app, Method::PATCH, &uri, &admin, "{role}")
        .await
        .problem(StatusCode::BAD_REQUEST);
    let p = app
        .patch("/api/v1/staff/xu.ming", &admin, json!({"role": "admin"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.patch(
        &format!("/api/v1/staff/{MISSING}"),
        &admin,
        json!({"role": "admin"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let sql = format!("select count(*) from staff where staff_id = '{member}' and role = 'pickup' and display_name = 'Xu M.' and active");
    assert_eq!(app.count(&sql).await, 1);
    app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn deactivating_ends_sessions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let (member, token) = create_member(&app, &admin, "xu.ming", "dispatcher").await;
    let (_, bystander) = create_member(&app, &admin, "wu.jing", "dispatcher").await;
    app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);

    let uri = format!("/api/v1/staff/{member}");
    let a = app
        .patch(&uri, &admin, json!({"active": false}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(a["active"], false);
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let open = format!(
        "select count(*) from staff_session where staff_id = '{member}' and revoked_at is null"
    );
    assert_eq!(app.count(&open).await, 0);
    assert_eq!(
        app.count(&format!(
            "select count(*) from staff where staff_id = '{member}' and not active"
        ))
        .await,
        1
    );
    let p = login(&app, "xu.ming", PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(p["field"], "password");
    app.get("/api/v1/auth/me", &bystander)
        .await
        .ok(StatusCode::OK);

    app.patch(&uri, &admin, json!({"active": true}))
        .await
        .ok(StatusCode::OK);
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let fresh = login(&app, "xu.ming", PASSWORD).await.ok(StatusCode::OK);
    app.get("/api/v1/auth/me", fresh["token"].as_str().unwrap())
        .await
        .ok(StatusCode::OK);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn password_reset_ends_sessions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let (member, token) = create_member(&app, &admin, "xu.ming", "pickup").await;
    let uri = format!("/api/v1/staff/{member}");
    let a = app
        .patch(&uri, &admin, json!({"password": "a brand new password"}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(a["active"], true);
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let open = format!(
        "select count(*) from staff_session where staff_id = '{member}' and revoked_at is null"
    );
    assert_eq!(app.count(&open).await, 0);
    login(&app, "xu.ming", PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let fresh = login(&app, "xu.ming", "a brand new password")
        .await
        .ok(StatusCode::OK);
    app.get("/api/v1/auth/me", fresh["token"].as_str().unwrap())
        .await
        .ok(StatusCode::OK);
    app.get("/api/v1/auth/me", &admin).await.ok(StatusCode::OK);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_admin_cannot_lock_themselves_out(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let me = app.get("/api/v1/auth/me", &admin).await.ok(StatusCode::OK);
    let uri = format!("/api/v1/staff/{}", me["staff_id"].as_str().unwrap());
    for (body, field) in [
        (json!({"active": false}), "active"),
        (json!({"role": "manager"}), "role"),
        (json!({"role": "pickup", "active": true}), "role"),
    ] {
        let p = app
            .patch(&uri, &admin, body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field);
    }
    let sql = format!(
        "select count(*) from staff where staff_id = '{}' and active and role = 'admin'",
        me["staff_id"].as_str().unwrap()
    );
    assert_eq!(app.count(&sql).await, 1);
    app.get("/api/v1/staff", &admin).await.ok(StatusCode::OK);

    let renamed = app
        .patch(
            &uri,
            &admin,
            json!({"display_name": "Boss", "active": true, "role": "admin"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(renamed["display_name"], "Boss");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn wrong_password_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    create_member(&app, &admin, "xu.ming", "pickup").await;
    let before = app.count("select count(*) from staff_session").await;
    for (user, password) in [
        ("xu.ming", "not the password"),
        ("nobody", PASSWORD),
        ("xu.ming", ""),
    ] {
        let p = login(&app, user, password)
            .await
            .problem(StatusCode::UNAUTHORIZED);
        assert_eq!(p["type"], "urn:doorstep:problem:bad-credentials");
        assert_eq!(p["field"], "password");
    }
    assert_eq!(
        app.count("select count(*) from staff_session").await,
        before
    );
    let p = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "xu.ming"})),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "password");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn logout_ends_only_that_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let (member, token) = create_member(&app, &admin, "xu.ming", "pickup").await;
    let other = login(&app, "xu.ming", PASSWORD).await.ok(StatusCode::OK)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.assert_needs_session(Method::POST, "/api/v1/auth/logout")
        .await;
    let open = format!(
        "select count(*) from staff_session where staff_id = '{member}' and revoked_at is null"
    );
    assert_eq!(app.count(&open).await, 1);
    app.get("/api/v1/auth/me", &other).await.ok(StatusCode::OK);
    app.get("/api/v1/auth/me", &admin).await.ok(StatusCode::OK);
}

/// Usernames are stored lower-cased, so signing in should not depend on case.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn sign_in_ignores_username_case(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let body = json!({"username": "Xu.Ming", "role": "pickup", "password": PASSWORD});
    app.post("/api/v1/staff", &admin, body)
        .await
        .ok(StatusCode::CREATED);
    login(&app, "Xu.Ming", PASSWORD).await.ok(StatusCode::OK);
}
