//! Real-Chromium tests of the staff app: the service on a port-0 listener over a per-test database, driven
//! through chromedriver (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them).

mod calendar;
mod customer_care;
mod figures;
mod manager_storage;
mod office;
mod office_figures;
mod office_lists;
mod pickup_app;
mod storage;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use doorstep::app;
use doorstep::state::AppState;

/// Where screenshots go: test artefacts for a reviewer, never committed.
pub fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The service running for one test, which can be stopped and started again on the same port.
pub struct Served {
    pub addr: SocketAddr,
    pool: PgPool,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    configure: fn(&mut AppState),
}

impl Served {
    pub async fn start(pool: PgPool) -> Served {
        Served::start_with(pool, |_| {}).await
    }

    /// Serves a state `configure` changed first (a setting the service takes from its command line).
    pub async fn start_with(pool: PgPool, configure: fn(&mut AppState)) -> Served {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut s = Served {
            addr,
            pool,
            stop: None,
            task: None,
            configure,
        };
        s.run(listener);
        s
    }

    fn run(&mut self, listener: TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let mut state = AppState::new(self.pool.clone());
        (self.configure)(&mut state);
        self.task = Some(tokio::spawn(async move {
            app::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        }));
        self.stop = Some(tx);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops answering: every connection is refused until `resume`.
    pub async fn pause(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Serves again on the same port.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.run(listener);
    }
}

/// What a browser session is started with.
pub struct Options {
    pub width: u32,
    pub height: u32,
    /// Accept-Language of the browser.
    pub lang: &'static str,
    /// A Y4M video the fake camera plays (the label in front of the lens).
    pub camera: Option<PathBuf>,
}

impl Options {
    /// A window of `width` x `height` whose browser prefers `lang`.
    pub fn sized(lang: &'static str, width: u32, height: u32) -> Options {
        Options {
            width,
            height,
            lang,
            ..Options::default()
        }
    }
}

/// The middle of `v` (the upper middle for an even count): figures are medians of repeated runs.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 390,
            height: 844,
            lang: "zh-CN",
            camera: None,
        }
    }
}

/// One headless Chromium with its own chromedriver and a fresh profile.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempdir::Dir,
}

mod tempdir {
    use std::path::PathBuf;

    /// A directory removed when dropped.
    pub struct Dir(pub PathBuf);

    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let p = std::env::temp_dir()
                .join(format!("doorstep-{tag}-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A raw chromedriver command (CDP calls and the browser log have no WebDriver command of their own).
#[derive(Debug)]
struct Raw {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or(""), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

impl Browser {
    pub async fn start(opts: Options) -> Browser {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {chromedriver} ({e}): install chromium and chromium-driver (.ci/run does)")
            });
        let profile = tempdir::Dir::new("chromium");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={},{}", opts.width, opts.height),
            format!("--user-data-dir={}", profile.0.display()),
            format!("--lang={}", opts.lang),
            "--use-fake-ui-for-media-stream".into(),
            "--use-fake-device-for-media-stream".into(),
            "--autoplay-policy=no-user-gesture-required".into(),
        ];
        if let Some(video) = &opts.camera {
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                video.display()
            ));
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": args,
                "prefs": {"intl.accept_languages": opts.lang},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let attempt =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver did not start a session: {e}"),
            }
        };
        let browser = Browser {
            client,
            driver,
            _profile: profile,
        };
        // Headless Chromium keeps windows at least 500 px wide: emulate the phone's viewport exactly.
        browser
            .cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": opts.width, "height": opts.height, "deviceScaleFactor": 1, "mobile": opts.width < 600}),
            )
            .await;
        browser
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Waits up to `secs` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, secs: u64) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string());
                let page = self.client.source().await.unwrap_or_default();
                panic!("no {css} within {secs}s: {e}\nat {url:?}\n{page}")
            }
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css, 10).await.text().await.unwrap()
    }

    /// Clicks the element `css` names, once it is there (waiting at most 10 s).
    pub async fn tap(&self, css: &str) {
        self.tap_within(css, 10).await;
    }

    /// Clicks the element `css` names, waiting at most `secs` for it.
    pub async fn tap_within(&self, css: &str, secs: u64) {
        self.wait_for(css, secs).await.click().await.unwrap();
    }

    /// Types `keys` into the element `css` names, once it is there.
    pub async fn type_into(&self, css: &str, keys: &str) {
        self.wait_for(css, 10).await.send_keys(keys).await.unwrap();
    }

    /// Runs script in the page and returns its value.
    pub async fn eval(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// Polls `js` (an expression) until it is truthy, up to `secs`.
    pub async fn until(&self, js: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self
                .client
                .execute(&format!("return ({js});"), vec![])
                .await;
            if let Ok(v) = &v {
                if !v.is_null() && v != &Value::Bool(false) {
                    return v.clone();
                }
            }
            if Instant::now() >= deadline {
                let url = self.client.current_url().await.map(|u| u.to_string());
                let body = self
                    .client
                    .execute(
                        "return document.body ? document.body.innerText.slice(0, 600) : '';",
                        vec![],
                    )
                    .await;
                let shot = self.screenshot("timed-out").await;
                let log = self.console_errors().await;
                panic!(
                    "timed out waiting for {js}: {v:?}\nat {url:?}\npage text: {body:?}\nconsole: {log:?}\nscreenshot: {}",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in through the form, as a worker would.
    pub async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/app/login")).await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.tap("button[type=submit]").await;
        self.until("document.body.dataset.ready === 'true'", 20)
            .await;
    }

    /// Takes the browser off the network (or back on) through DevTools.
    pub async fn set_offline(&self, offline: bool) {
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await;
    }

    /// Throttles the network to a 4G profile: about 9 Mbps down, 3 Mbps up, 40 ms latency.
    pub async fn throttle_4g(&self) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": false, "latency": 40, "downloadThroughput": 9_000_000 / 8, "uploadThroughput": 3_000_000 / 8}),
        )
        .await;
    }

    /// Sends a DevTools command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Raw {
                path: "goog/cdp/execute",
                body: json!({"cmd": cmd, "params": params}),
            })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// Console messages at SEVERE level since the last call (errors, failed loads, CSP violations).
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(Raw {
                path: "se/log",
                body: json!({"type": "browser"}),
            })
            .await
            .unwrap_or(Value::Null);
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// Fails when the page is wider than the window (something overflows sideways).
    pub async fn assert_no_horizontal_overflow(&self, what: &str) {
        let v = self
            .eval("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await;
        let (scroll, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
        assert!(inner <= 1280, "{what}: the window is {inner}px wide");
        assert!(
            scroll <= inner,
            "{what}: page is {scroll}px wide in a {inner}px window"
        );
    }

    /// Saves a screenshot as a test artefact.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let path = artefacts().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
