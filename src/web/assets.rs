//! The staff app's own JavaScript, CSS and catalogues, embedded in the binary and served under a build version.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// Its path under the version directory (`app.js`, `i18n/zh-CN.json`).
    pub path: &'static str,
    /// Its content type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $file:literal, $ty:expr) => {
        Asset {
            path: $path,
            content_type: $ty,
            bytes: include_bytes!($file),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every asset of the app. A module's relative imports resolve inside the version directory.
pub static ASSETS: &[Asset] = &[
    asset!("main.js", "assets/main.js", JS),
    asset!("app.js", "assets/app.js", JS),
    asset!("api.js", "assets/api.js", JS),
    asset!("dom.js", "assets/dom.js", JS),
    asset!("format.js", "assets/format.js", JS),
    asset!("i18n.js", "assets/i18n.js", JS),
    asset!("outbox.js", "assets/outbox.js", JS),
    asset!("pickup.js", "assets/pickup.js", JS),
    asset!("scan.js", "assets/scan.js", JS),
    asset!("receipt.js", "assets/receipt.js", JS),
    asset!("login.js", "assets/login.js", JS),
    asset!("kit.js", "assets/kit.js", JS),
    asset!("chart.js", "assets/chart.js", JS),
    asset!("office.js", "assets/office.js", JS),
    asset!("storage.js", "assets/storage.js", JS),
    asset!("manager.js", "assets/manager.js", JS),
    asset!("privacy.js", "assets/privacy.js", JS),
    asset!("wardrobe.js", "assets/wardrobe.js", JS),
    asset!("app.css", "assets/app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "assets/icon.svg", "image/svg+xml"),
    asset!("i18n/en.json", "../i18n/en.json", "application/json"),
    asset!("i18n/zh-CN.json", "../i18n/zh-CN.json", "application/json"),
];

/// The build's asset version: a hash over every asset, so a changed file gets a new URL and old ones can be
/// cached forever.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for a in ASSETS {
        h.update(a.path.as_bytes());
        h.update(a.bytes);
    }
    hex::encode(&h.finalize()[..6])
});

/// The URL of an asset in this build.
pub fn url(path: &str) -> String {
    format!("/app/assets/{}/{path}", *VERSION)
}

/// The asset at `path`, if there is one.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
