//! Test harness: the real router over a per-test database, staff of every role, and request helpers.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

use doorstep::app;
use doorstep::domain::Role;
use doorstep::state::AppState;

pub const PASSWORD: &str = "test-password-123";

/// Demo fixture ids and codes (fixtures/demo.sql).
pub const LIU_FANG: &str = "00000000-0000-4000-9000-00000000000a";
pub const ZHOU_MIN: &str = "00000000-0000-4000-9000-00000000000b";
pub const SUN_HAO: &str = "00000000-0000-4000-9000-00000000000c";
pub const LIU_FANG_CODE: &str = "D00DEM0000AN";
pub const LIU_FANG_COAT: &str = "00000000-0000-4000-b000-0000000000a1";
pub const LIU_FANG_COAT_TAG: &str = "G00DEM0000AE";
pub const ZHOU_MIN_SUIT_TAG: &str = "G00DEM0000BC";

pub struct TestApp {
    pub pool: PgPool,
    pub router: Router,
    /// The service's state behind the router, for comparing what it serves with what it computes afresh.
    pub state: AppState,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem+json answer with this status and returns its body.
    pub fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status.as_u16());
        body
    }

    #[track_caller]
    pub fn ok(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }
}

impl TestApp {
    pub async fn new(pool: PgPool) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn,sqlx=error")
            .try_init();
        // The demo fixture inserts its pickups as rows; give them the rollups the service would have kept.
        let mut conn = pool.acquire().await.unwrap();
        doorstep::demo::apply_demo_rollups(&mut conn).await.unwrap();
        drop(conn);
        let state = AppState::new(pool.clone());
        let router = app::router(state.clone());
        TestApp {
            pool,
            router,
            state,
        }
    }

    /// Creates a staff member with this role (and the test password) and signs them in.
    pub async fn login(&self, role: Role) -> String {
        let username = format!(
            "test-{}-{}",
            format!("{role:?}").to_lowercase(),
            uuid::Uuid::new_v4().simple()
        );
        let hash = doorstep::auth::hash_password(PASSWORD).unwrap();
        let username = doorstep::domain::username::Username::parse(&username).unwrap();
        doorstep::staff::db::insert_staff(&self.pool, &username, "Test", role, &hash)
            .await
            .unwrap();
        let reply = self
            .send(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"username": username, "password": PASSWORD})),
            )
            .await;
        reply.ok(StatusCode::OK)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn request(&self, request: Request<Body>) -> Reply {
        call(self.router.clone(), request).await
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send_with(method, uri, token, body, &[]).await
    }

    /// [`TestApp::send`] with more headers (`Accept`, `Accept-Encoding`, ...).
    pub async fn send_with(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(header::HeaderName, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (name, value) in headers {
            builder = builder.header(name, *value);
        }
        let body = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.request(builder.body(body).unwrap()).await
    }

    /// Adds a window kind of winter clothes that started ten days ago, so a window is open today whatever the
    /// date (an earlier one still open is the open one instead, as good); `token` is a manager's.
    pub async fn open_a_window_today(&self, token: &str) {
        let today = self.state.settings.clock.today();
        let md = |d: chrono::NaiveDate| d.format("%m-%d").to_string().replace("02-29", "02-28");
        self.send(
            Method::PUT,
            "/api/v1/season-calendar/kinds/test_window",
            Some(token),
            Some(
                serde_json::json!({"name": "Test window", "outgoing": "winter",
                "start": md(today - chrono::Duration::days(10)),
                "end": md(today + chrono::Duration::days(20))}),
            ),
        )
        .await
        .ok(StatusCode::OK);
    }

    /// The intake forecast's open window once its count from the wardrobes is served (made in the background
    /// after the first call); `token` is a manager's.
    pub async fn open_window_counted(&self, token: &str) -> Value {
        for _ in 0..120 {
            let f = self
                .get("/api/v1/forecasts/intake", token)
                .await
                .ok(StatusCode::OK);
            assert!(f["open_window"].is_object(), "{}", f["open_window"]);
            if f["open_window"]["from_wardrobes"].is_object() {
                return f["open_window"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        panic!("the open window's count from the wardrobes is never served");
    }

    /// Asserts that a route refuses a caller without a session.
    pub async fn assert_needs_session(&self, method: Method, uri: &str) {
        self.send(method, uri, None, None)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }

    pub async fn get(&self, uri: &str, token: &str) -> Reply {
        self.send(Method::GET, uri, Some(token), None).await
    }

    /// A GET with one more header (`Accept`, `Accept-Encoding`, ...).
    pub async fn get_with(
        &self,
        uri: &str,
        token: &str,
        name: header::HeaderName,
        value: &str,
    ) -> Reply {
        self.send_with(Method::GET, uri, Some(token), None, &[(name, value)])
            .await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, uri, Some(token), Some(body)).await
    }

    pub async fn patch(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PATCH, uri, Some(token), Some(body)).await
    }

    /// Shares a campaign's entries between `staff` (as its creator or a manager) and answers the assignment.
    pub async fn assign_campaign(
        &self,
        token: &str,
        campaign_id: &str,
        staff: &[uuid::Uuid],
    ) -> Value {
        self.post(
            &format!("/api/v1/campaigns/{campaign_id}/assign"),
            token,
            serde_json::json!({ "staff_ids": staff }),
        )
        .await
        .ok(StatusCode::OK)
    }

    /// POSTs a pickup with an Idempotency-Key.
    pub async fn post_pickup(&self, token: &str, key: &str, body: &Value) -> Reply {
        self.request(pickup_request(token, key, body)).await
    }

    /// POSTs JSON with an `Idempotency-Key`.
    pub async fn post_keyed(&self, uri: &str, token: &str, key: &str, body: &Value) -> Reply {
        self.request(keyed_request(uri, token, key, body)).await
    }

    /// POSTs a photo to /scans as multipart.
    pub async fn scan_photo(&self, token: &str, photo: &[u8]) -> Reply {
        self.scan_photo_at("/api/v1/scans", token, photo).await
    }

    /// A photo scan posted to `path` (`/api/v1/scans?viewfinder=true`).
    pub async fn scan_photo_at(&self, path: &str, token: &str, photo: &[u8]) -> Reply {
        let boundary = "doorstep-test-boundary";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"door.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes();
        body.extend_from_slice(photo);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.request(request).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }
}

/// Every role below `role`, for "wrong role" checks.
pub fn roles_below(role: Role) -> Vec<Role> {
    [Role::Pickup, Role::Dispatcher, Role::Manager, Role::Admin]
        .into_iter()
        .filter(|r| !r.at_least(role))
        .collect()
}

/// Sends one request through a router and collects the whole answer.
pub async fn call(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// A pickup POST as a worker's device sends it.
pub fn pickup_request(token: &str, key: &str, body: &Value) -> Request<Body> {
    keyed_request("/api/v1/pickups", token, key, body)
}

/// A JSON POST with an `Idempotency-Key`, as every write that must not repeat takes it.
pub fn keyed_request(uri: &str, token: &str, key: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Visits' season-class rows that differ from a recount of the lines: a class no cleaned garment of the visit has,
/// one missing, or a wrong count of garments.
pub const PICKUP_CLASS_MISMATCHES: &str = "select count(*) from pickup_class k
    full join (select pl.customer_id, g.season_class, p.collected_at, pl.pickup_id,
                      count(distinct pl.garment_id) as n
                 from pickup_line pl join pickup p using (customer_id, pickup_id)
                 join garment g using (customer_id, garment_id)
                where is_cleaning(pl.service)
                group by 1, 2, 3, 4) c using (customer_id, season_class, collected_at, pickup_id)
    where k.customer_id is null or c.customer_id is null or k.garments <> c.n";

/// Runs the card filler's walk over every labelled customer to its end, as the service does after a start (at
/// most 100 rounds); the cards it stored.
pub async fn fill_every_card(pool: &PgPool) -> i64 {
    let (mut walk, mut stored) = (Some(uuid::Uuid::nil()), 0);
    for _ in 0..100 {
        let (n, next) = doorstep::profile::kept::fill_round(pool, walk, std::time::Duration::ZERO)
            .await
            .unwrap();
        stored += n;
        walk = next;
        if walk.is_none() && n == 0 {
            break;
        }
    }
    stored as i64
}

/// A kept card's text: `customer_card.body` is stored packed.
pub fn kept_card_text(body: Vec<u8>) -> String {
    doorstep::profile::kept::Packed::from_stored(body)
        .expect("a packed card")
        .unpack()
        .expect("a card that inflates")
}
