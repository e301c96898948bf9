//! Test-only generator of phone-photo-like label pictures (the committed `fixtures/demo-label-*.jpg`).

use doorstep::labels::render::{render_png, LabelSymbology};
use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo doors the README's curl example scans: bodies `D00DEM0000A..C` plus their check char.
pub const DEMO_DOOR_CODES: [&str; 3] = ["D00DEM0000AN", "D00DEM0000BK", "D00DEM0000CH"];

const PHOTO_W: u32 = 1600;
const PHOTO_H: u32 = 1200;
const JPEG_QUALITY: u8 = 80;

/// A JPEG of `code`'s QR label stuck on a door, as a phone would take it: textured, unevenly lit
/// background, rotated ~8°, slight keystone, soft focus, sensor noise. Same `seed`, same bytes.
pub fn label_photo(code: &str, seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let caption = format!("{}\nDoorstep", grouped(code));
    let png = render_png(code, &caption, LabelSymbology::Qr).expect("demo code renders");
    let label = image::load_from_memory(&png)
        .expect("renderer writes valid PNG")
        .to_luma8();
    let (lw, lh) = (label.width() as f64, label.height() as f64);

    // Where the label lands: scaled up, turned ~8°, its top edge a little narrower (camera below).
    let scale = rng.gen_range(1.7..1.95);
    let angle = (8.0 + rng.gen_range(-1.0..1.0_f64)).to_radians();
    let keystone = rng.gen_range(0.05..0.08);
    let centre = (
        PHOTO_W as f64 / 2.0 + rng.gen_range(-120.0..120.0),
        PHOTO_H as f64 / 2.0 + rng.gen_range(-60.0..60.0),
    );
    let src = [(0.0, 0.0), (lw, 0.0), (lw, lh), (0.0, lh)];
    let dst = src.map(|(x, y)| {
        let squeeze = 1.0 - keystone * (1.0 - y / lh);
        let (dx, dy) = ((x - lw / 2.0) * scale * squeeze, (y - lh / 2.0) * scale);
        let (s, c) = angle.sin_cos();
        (centre.0 + dx * c - dy * s, centre.1 + dx * s + dy * c)
    });
    let to_label = homography(dst, src);

    let door = DOOR_PAINTS[seed as usize % DOOR_PAINTS.len()];
    let mottle = ValueNoise::new(&mut rng, 12, 9);
    let streaks: Vec<f64> = smoothed_noise(&mut rng, PHOTO_W as usize, 9);
    let groove_x = rng.gen_range(150.0..350.0);
    let light = (
        rng.gen_range(0.2..0.8) * PHOTO_W as f64,
        rng.gen_range(0.1..0.5) * PHOTO_H as f64,
    );
    let shadow_offset = (rng.gen_range(4.0..9.0), rng.gen_range(6.0..12.0));

    let mut photo = RgbImage::new(PHOTO_W, PHOTO_H);
    for (x, y, px) in photo.enumerate_pixels_mut() {
        let (fx, fy) = (x as f64 + 0.5, y as f64 + 0.5);
        let texture = 1.0
            + 0.08 * mottle.at(fx / PHOTO_W as f64, fy / PHOTO_H as f64)
            + 0.03 * streaks[x as usize];
        let groove = if (fx - groove_x).abs() < 7.0 {
            0.7
        } else {
            1.0
        };

        // Soft drop shadow: how far the offset point lies outside the label, in photo pixels.
        let (su, sv) = apply(&to_label, fx - shadow_offset.0, fy - shadow_offset.1);
        let outside = ((-su).max(su - lw).max(0.0)).hypot((-sv).max(sv - lh).max(0.0)) * scale;
        let shadow = 1.0 - 0.4 * (-outside / 10.0).exp();

        let mut rgb = door.map(|c| c * texture * groove * shadow);
        let (u, v) = apply(&to_label, fx, fy);
        let coverage = (u.min(lw - u).min(v).min(lh - v) * scale + 0.5).clamp(0.0, 1.0);
        if coverage > 0.0 {
            let ink = bilinear(&label, u - 0.5, v - 0.5) / 255.0;
            for (ch, paper) in rgb.iter_mut().zip(PAPER) {
                let printed = 22.0 + (paper - 22.0) * ink;
                *ch = *ch * (1.0 - coverage) + printed * coverage;
            }
        }
        let (ldx, ldy) = (fx - light.0, fy - light.1);
        let lighting = 0.6 + 0.5 * (-(ldx * ldx + ldy * ldy) / (2.0 * 700.0 * 700.0)).exp()
            - 0.1 * fy / PHOTO_H as f64;
        *px = Rgb(rgb.map(|c| (c * lighting).clamp(0.0, 255.0) as u8));
    }

    let mut photo = image::imageops::blur(&photo, rng.gen_range(0.9..1.3));
    for px in photo.pixels_mut() {
        let grain: f64 = (0..3).map(|_| rng.gen_range(-3.0..3.0)).sum();
        px.0 =
            px.0.map(|c| (c as f64 + grain + rng.gen_range(-2.0..2.0)).clamp(0.0, 255.0) as u8);
    }

    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(&photo)
        .expect("JPEG encodes");
    jpeg
}

/// Painted-door colours, linear-ish sRGB.
const DOOR_PAINTS: [[f64; 3]; 4] = [
    [32.0, 78.0, 62.0],
    [120.0, 36.0, 34.0],
    [38.0, 58.0, 104.0],
    [150.0, 104.0, 62.0],
];
/// Label stock is a little warm, not pure white.
const PAPER: [f64; 3] = [246.0, 243.0, 234.0];

fn grouped(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Low-frequency noise in [-1, 1]: a random grid, bilinearly interpolated.
struct ValueNoise {
    cols: usize,
    rows: usize,
    grid: Vec<f64>,
}

impl ValueNoise {
    fn new(rng: &mut StdRng, cols: usize, rows: usize) -> Self {
        let grid = (0..cols * rows).map(|_| rng.gen_range(-1.0..1.0)).collect();
        ValueNoise { cols, rows, grid }
    }

    fn at(&self, x: f64, y: f64) -> f64 {
        let gx = x * (self.cols - 1) as f64;
        let gy = y * (self.rows - 1) as f64;
        let (x0, y0) = (
            (gx as usize).min(self.cols - 2),
            (gy as usize).min(self.rows - 2),
        );
        let (tx, ty) = (gx - x0 as f64, gy - y0 as f64);
        let g = |x: usize, y: usize| self.grid[y * self.cols + x];
        let top = g(x0, y0) * (1.0 - tx) + g(x0 + 1, y0) * tx;
        let bottom = g(x0, y0 + 1) * (1.0 - tx) + g(x0 + 1, y0 + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    }
}

/// Per-column noise in about [-1, 1], box-smoothed so it reads as brush strokes / grain.
fn smoothed_noise(rng: &mut StdRng, len: usize, radius: usize) -> Vec<f64> {
    let raw: Vec<f64> = (0..len).map(|_| rng.gen_range(-1.0..1.0)).collect();
    (0..len)
        .map(|i| {
            let window = &raw[i.saturating_sub(radius)..(i + radius + 1).min(len)];
            window.iter().sum::<f64>() / window.len() as f64 * 3.0
        })
        .collect()
}

fn bilinear(img: &GrayImage, x: f64, y: f64) -> f64 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (tx, ty) = (x - x0, y - y0);
    let p = |x: i64, y: i64| {
        img.get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32)
            .0[0] as f64
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = p(x0, y0) * (1.0 - tx) + p(x0 + 1, y0) * tx;
    let bottom = p(x0, y0 + 1) * (1.0 - tx) + p(x0 + 1, y0 + 1) * tx;
    top * (1.0 - ty) + bottom * ty
}

/// The projective map taking each `from` corner to the matching `to` corner.
fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> [f64; 8] {
    let mut a = [[0.0; 9]; 8];
    for (i, (&(x, y), &(u, v))) in from.iter().zip(&to).enumerate() {
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (k, v) in a[row].iter_mut().enumerate().skip(col) {
                    *v -= f * pivot_row[k];
                }
            }
        }
    }
    std::array::from_fn(|i| a[i][8] / a[i][i])
}

fn apply(h: &[f64; 8], x: f64, y: f64) -> (f64, f64) {
    let w = h[6] * x + h[7] * y + 1.0;
    (
        (h[0] * x + h[1] * y + h[2]) / w,
        (h[3] * x + h[4] * y + h[5]) / w,
    )
}

fn decode_qr(jpeg: &[u8]) -> String {
    let luma = image::load_from_memory(jpeg)
        .expect("valid JPEG")
        .to_luma8();
    let (w, h) = luma.dimensions();
    rxing::helpers::detect_in_luma(luma.into_raw(), w, h, Some(rxing::BarcodeFormat::QR_CODE))
        .expect("QR found in photo")
        .getText()
        .to_owned()
}

#[test]
fn demo_codes_carry_their_check_char() {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for code in DEMO_DOOR_CODES {
        let (payload, check) = code.split_at(11);
        let mut factor = 2;
        let mut sum = 0;
        for c in payload.bytes().rev() {
            let addend = factor * ALPHABET.iter().position(|&a| a == c).unwrap();
            factor = 3 - factor;
            sum += addend / 32 + addend % 32;
        }
        assert_eq!(
            check.as_bytes()[0],
            ALPHABET[(32 - sum % 32) % 32],
            "{code}"
        );
    }
}

#[test]
fn label_photo_is_a_deterministic_jpeg_that_scans() {
    let jpeg = label_photo(DEMO_DOOR_CODES[0], 7);
    let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (PHOTO_W, PHOTO_H));
    assert_eq!(label_photo(DEMO_DOOR_CODES[0], 7), jpeg);
    assert_eq!(decode_qr(&jpeg), DEMO_DOOR_CODES[0]);
}

/// Rewrites `fixtures/demo-label-<code>.jpg`; run with `cargo test regenerate_demo_photos -- --ignored`.
#[test]
#[ignore]
fn regenerate_demo_photos() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    for (seed, code) in (1..).zip(DEMO_DOOR_CODES) {
        let path = dir.join(format!("demo-label-{code}.jpg"));
        std::fs::write(&path, label_photo(code, seed)).unwrap();
        assert_eq!(
            decode_qr(&std::fs::read(&path).unwrap()),
            code,
            "{}",
            path.display()
        );
    }
}
