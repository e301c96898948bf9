//! Tests of health probes, sessions and the error shape of unknown routes.

use axum::http::{Method, StatusCode};
use sqlx::PgPool;

use crate::helpers::TestApp;
use doorstep::domain::Role;

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn health_and_readiness(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let r = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn readiness_fails_when_the_database_is_gone(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    pool.close().await;
    let r = app.send(Method::GET, "/readyz", None, None).await;
    r.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers.contains_key("retry-after"));
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn sessions_identify_the_caller(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    assert_eq!(me["role"], "dispatcher");
    assert!(me.get("password_hash").is_none());

    let no_session = app.send(Method::GET, "/api/v1/auth/me", None, None).await;
    assert_eq!(
        no_session.problem(StatusCode::UNAUTHORIZED)["field"],
        "authorization"
    );
    let forged = app.get("/api/v1/auth/me", "0123456789abcdef").await;
    forged.problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn expired_sessions_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    sqlx::query("update staff_session set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn unknown_routes_and_methods_answer_problems(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    app.get("/api/v1/nothing-here", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.send(Method::PUT, "/api/v1/pickups", Some(&token), None)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
}

/// With the session cache on (as the service runs), a sign-out, a deactivation and a revocation written by
/// another process are all refused at once; a live session is answered from memory meanwhile.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn remembered_sessions_are_refused_as_soon_as_they_change(pool: PgPool) {
    let state = doorstep::state::AppState::new(pool.clone());
    let sessions = state.sessions.clone();
    let listener = doorstep::auth::cache::spawn_listener(pool.clone(), sessions.clone());
    let app = TestApp {
        pool: pool.clone(),
        router: doorstep::app::router(state.clone()),
        state,
    };
    for _ in 0..100 {
        if sessions.is_listening() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sessions.is_listening(), "the listener connects");
    let me = |token: String| {
        let app = &app;
        async move {
            app.send(Method::GET, "/api/v1/auth/me", Some(&token), None)
                .await
                .status
        }
    };

    // Signed out through the API of this process.
    let token = app.login(Role::Pickup).await;
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    assert_eq!(
        me(token.clone()).await,
        StatusCode::OK,
        "answered from memory"
    );
    let out = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);

    // Deactivated by an administrator.
    let admin = app.login(Role::Admin).await;
    let token = app.login(Role::Dispatcher).await;
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    let member: uuid::Uuid = sqlx::query_scalar(
        "select staff_id from staff where role = 'dispatcher' order by created_at desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    app.patch(
        &format!("/api/v1/staff/{member}"),
        &admin,
        serde_json::json!({"active": false}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);

    // Revoked by another process (plain SQL here): the database's notice reaches this one at once.
    let token = app.login(Role::Manager).await;
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    sqlx::query("update staff_session set revoked_at = now() where revoked_at is null")
        .execute(&pool)
        .await
        .unwrap();
    let mut refused = false;
    for _ in 0..40 {
        if me(token.clone()).await == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        refused,
        "a revocation committed elsewhere is refused within a second"
    );

    // The heartbeat keeps the listener heard from while nothing changes.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let since = std::time::Instant::now();
    let mut beat = false;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if sessions.last_heard().is_some_and(|at| at > since) {
            beat = true;
            break;
        }
    }
    assert!(beat, "a heartbeat is heard within a few seconds");
    listener.abort();
    let _ = listener.await;
}
