//! The few pages the server renders itself: the app shell, the sign-in form and printable receipts.

use crate::i18n::{text, Lang};

use super::assets;

pub use crate::html::escape;

fn head(lang: Lang, title: &str, module: &str) -> String {
    format!(
        r##"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#0b57d0">
<title>{title}</title>
<link rel="icon" href="{icon}" type="image/svg+xml">
<link rel="manifest" href="/app/manifest.webmanifest">
<link rel="stylesheet" href="{css}">
<script type="module" src="{module}"></script>
</head>
"##,
        lang = lang.tag(),
        title = escape(title),
        icon = assets::url("icon.svg"),
        css = assets::url("app.css"),
        module = assets::url(module),
    )
}

/// The app shell: the script fills it; without script it says so and offers the sign-in page.
pub fn shell(lang: Lang) -> String {
    format!(
        r#"{head}<body data-lang="{tag}" data-i18n-en="{en}" data-i18n-zh="{zh}">
<header id="top"></header>
<main id="main"><p class="msg">{loading}</p><noscript><p class="msg error">{noscript}</p></noscript></main>
</body>
</html>
"#,
        head = head(lang, text(lang, "app.name"), "main.js"),
        tag = lang.tag(),
        en = assets::url("i18n/en.json"),
        zh = assets::url("i18n/zh-CN.json"),
        loading = escape(text(lang, "common.loading")),
        noscript = escape(text(lang, "app.noscript")),
    )
}

/// The sign-in form: a plain form that posts, so it works before (and without) any script.
pub fn login(lang: Lang, username: &str, error: Option<&str>) -> String {
    let other = match lang {
        Lang::En => (Lang::ZhCn, "中文"),
        Lang::ZhCn => (Lang::En, "English"),
    };
    let error = error
        .map(|e| format!(r#"<div class="msg error" role="alert">{}</div>"#, escape(e)))
        .unwrap_or_default();
    format!(
        r#"{head}<body>
<main class="login">
<h1>{title}</h1>
{error}
<form method="post" action="/app/login">
<label class="label" for="username">{user_label}</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" required maxlength="64" value="{username}">
<label class="label" for="password">{pass_label}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200">
<button type="submit" class="primary big">{submit}</button>
</form>
<p><a class="button small" href="/app/login?lang={other_tag}" lang="{other_tag}">{other_name}</a></p>
</main>
</body>
</html>
"#,
        head = head(lang, text(lang, "login.title"), "login.js"),
        title = escape(text(lang, "login.title")),
        user_label = escape(text(lang, "login.username")),
        pass_label = escape(text(lang, "login.password")),
        submit = escape(text(lang, "login.submit")),
        username = escape(username),
        other_tag = other.0.tag(),
        other_name = other.1,
    )
}

/// A page around a printable body (receipts), with a print button and the shell's stylesheet.
pub fn printable(lang: Lang, title: &str, body: &str, pdf_href: &str) -> String {
    format!(
        r#"{head}<body>
<main class="receipt-page">
<div class="actions no-print"><a class="button" href="/app/">{back}</a><button type="button" class="primary" data-print>{print}</button><a class="button" href="{pdf}">PDF</a></div>
{body}
</main>
</body>
</html>
"#,
        head = head(lang, title, "receipt.js"),
        back = escape(text(lang, "receipt.back")),
        print = escape(text(lang, "receipt.print")),
        pdf = escape(pdf_href),
    )
}

/// The web app manifest, so the app can be added to a phone's home screen.
pub fn manifest(lang: Lang) -> String {
    serde_json::json!({
        "name": text(lang, "app.name"),
        "short_name": text(lang, "app.name"),
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b57d0",
        "icons": [{"src": assets::url("icon.svg"), "sizes": "any", "type": "image/svg+xml"}]
    })
    .to_string()
}

/// The service worker: the build's version and asset list, then the worker's own code.
pub fn service_worker() -> String {
    let precache: Vec<String> = assets::ASSETS.iter().map(|a| assets::url(a.path)).collect();
    format!(
        "const VERSION = {};\nconst PRECACHE = {};\n{}",
        serde_json::Value::String(assets::VERSION.clone()),
        serde_json::Value::from(precache),
        include_str!("assets/sw.js")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        let page = login(Lang::En, "\"><img src=x onerror=alert(1)>", Some("<b>"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>"));
    }

    #[test]
    fn pages_load_no_inline_script() {
        for page in [
            shell(Lang::ZhCn),
            login(Lang::En, "", None),
            printable(Lang::En, "t", "", "/x.pdf"),
        ] {
            assert!(!page.contains("<script>"), "inline script in a page");
            assert!(!page.contains("onclick"), "inline handler in a page");
            assert!(!page.contains("style="), "inline style in a page");
        }
    }
}
