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
