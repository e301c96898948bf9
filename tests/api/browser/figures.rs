//! The pickup app's figures, measured in headless Chromium on loopback (ignored by default; see the README):
//! first-load bytes, USB Enter to card, a photo's bytes before and after the page shrinks it, the decode rate
//! of every shared photo after that shrink, and photo to card over a throttled 4G link.
//!
//! `cargo test --release --test api browser::figures -- --ignored --nocapture`

use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine as _;
use serde_json::Value;
use sqlx::PgPool;

use super::{median, Browser, Options, Served};
use crate::helpers::{TestApp, LIU_FANG_CODE, PASSWORD};
use doorstep::decode::{decode_photo, DecodeOptions};
use doorstep::domain::Role;

/// A 12-megapixel camera photo of the demo door label, as a phone would take it (about 4 MB).
fn camera_photo(dir: &Path) -> PathBuf {
    let label = image::open(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-label-D00DEM0000AN.jpg"),
    )
    .unwrap()
    .to_rgb8();
    let big = image::imageops::resize(&label, 4000, 3000, image::imageops::FilterType::CatmullRom);
    let mut noisy = big.clone();
    let mut seed: u32 = 7;
    for p in noisy.pixels_mut() {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n = ((seed >> 24) as i16 - 128) / 16;
        for c in 0..3 {
            p[c] = (i16::from(p[c]) + n).clamp(0, 255) as u8;
        }
    }
    let path = dir.join("camera-12mp.jpg");
    let mut out = std::fs::File::create(&path).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(&noisy)
        .unwrap();
    path
}

fn shared_photos() -> Vec<(String, PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/barcodes");
    let mut out = Vec::new();
    for format in ["qrcode", "code128", "datamatrix"] {
        let Ok(dir) = std::fs::read_dir(root.join(format)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for p in files {
            if p.extension().is_some_and(|e| e == "txt") {
                continue;
            }
            let expected =
                std::fs::read_to_string(format!("{}.txt", p.display())).unwrap_or_default();
            out.push((format.to_owned(), p, expected));
        }
    }
    out
}

/// Runs the page's own shrink on a file given to the photo input and returns the bytes it would send.
async fn shrunk_by_page(b: &Browser, photo: &Path) -> Vec<u8> {
    b.eval("window.__shrunk = null; return 1;").await;
    b.eval(
        "const i = document.createElement('input'); i.type = 'file'; i.id = 'probe'; document.body.append(i);
         i.addEventListener('change', async () => {
           const m = await import(document.querySelector('script[type=module]').src.replace('main.js', 'scan.js'));
           const blob = await m.shrinkPhoto(i.files[0]);
           const buf = new Uint8Array(await blob.arrayBuffer());
           let s = ''; for (const x of buf) s += String.fromCharCode(x);
           window.__shrunk = btoa(s); i.remove();
         }); return 1;",
    )
    .await;
    b.wait_for("#probe", 10)
        .await
        .send_keys(photo.canonicalize().unwrap().to_str().unwrap())
        .await
        .unwrap();
    let v = b.until("window.__shrunk", 30).await;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
#[ignore = "figures for the README; run with --ignored --nocapture"]
async fn figures(pool: PgPool) {
    let served = Served::start(pool.clone()).await;
    let app = TestApp::new(pool.clone()).await;
    let _ = app.login(Role::Pickup).await;
    let user: String =
        sqlx::query_scalar("select username from staff where username like 'test-%' limit 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    let b = Browser::start(Options::default()).await;
    b.sign_in(&served.url(""), &user, PASSWORD).await;

    // 1. Bytes transferred by the first load of the pickup page (compressed, as the browser counted them).
    let load: Value = b
        .eval(
            "const nav = performance.getEntriesByType('navigation')[0];
             const res = performance.getEntriesByType('resource');
             return {page: nav.transferSize + res.reduce((a, r) => a + r.transferSize, 0), n: res.length,
                     decoded: nav.decodedBodySize + res.reduce((a, r) => a + r.decodedBodySize, 0)};",
        )
        .await;
    println!(
        "first load: {} bytes transferred ({} resources, {} bytes decoded)",
        load["page"], load["n"], load["decoded"]
    );

    // 2. USB scanner: Enter to the card painted, 50 times.
    let mut times = Vec::new();
    for _ in 0..50 {
        b.eval("location.hash = '#/'; return 1;").await;
        b.wait_for("#code", 10).await;
        let ms = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const input = document.getElementById('code');
                 input.value = arguments[0];
                 const t0 = performance.now();
                 const check = () => {
                   if (document.querySelector('.customer-name')) {
                     requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
                   } else setTimeout(check, 1);
                 };
                 input.form.requestSubmit();
                 check();",
                vec![Value::String(LIU_FANG_CODE.into())],
            )
            .await
            .unwrap();
        times.push(ms.as_f64().unwrap());
    }
    println!(
        "USB Enter -> card painted: median {:.1} ms, max {:.1} ms (50 scans)",
        median(times.clone()),
        times.iter().cloned().fold(0.0, f64::max)
    );

    // 3. A 12 MP camera photo: bytes before and after the page shrinks it.
    let dir = std::env::temp_dir().join(format!(
        "doorstep-figures-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let photo = camera_photo(&dir);
    b.goto(&served.url("/app/")).await;
    b.until("document.body.dataset.ready === 'true'", 20).await;
    let small = shrunk_by_page(&b, &photo).await;
    println!(
        "camera photo: {} bytes before, {} bytes after the page's shrink",
        std::fs::metadata(&photo).unwrap().len(),
        small.len()
    );

    // 4. Every shared photo through the page's shrink, then the server's decoder.
    let options = DecodeOptions::default();
    let (mut read, mut total, mut before, mut after) = (0, 0, 0u64, 0u64);
    let mut missed = Vec::new();
    for (format, path, expected) in shared_photos() {
        let bytes = shrunk_by_page(&b, &path).await;
        before += std::fs::metadata(&path).unwrap().len();
        after += bytes.len() as u64;
        total += 1;
        let ok = decode_photo(&bytes, &options, &|t: &str| t == expected)
            .ok()
            .is_some_and(|o| o.accepted.is_some_and(|d| d.text == expected));
        if ok {
            read += 1;
        } else {
            missed.push(format!(
                "{format}/{}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    println!("shared photos after the page's shrink: {read} of {total} decoded ({before} -> {after} bytes); missed: {missed:?}");

    // 5. Photo -> card painted over a throttled 4G link (9 Mbps down, 3 up, 40 ms), median of 10.
    b.throttle_4g().await;
    let mut times = Vec::new();
    for _ in 0..10 {
        b.goto(&served.url("/app/")).await;
        b.until("document.body.dataset.ready === 'true'", 30).await;
        let input = b.wait_for("#photo", 10).await;
        let t0 = Instant::now();
        input
            .send_keys(photo.canonicalize().unwrap().to_str().unwrap())
            .await
            .unwrap();
        b.wait_for(".customer-name", 30).await;
        b.eval("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))));").await;
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        let parts = b
            .eval("const d = document.body.dataset; return [d.lastShrinkMs, d.lastScanMs, d.lastDecodeMs];")
            .await;
        println!(
            "  shrink {} ms, upload + scan {} ms (server decode {} ms)",
            parts[0], parts[1], parts[2]
        );
    }
    println!(
        "photo -> card painted on 4G: median {:.0} ms, max {:.0} ms (10 photos)",
        median(times.clone()),
        times.iter().cloned().fold(0.0, f64::max)
    );
    b.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
