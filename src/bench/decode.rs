//! Photo-decoder benchmark over a labelled folder of barcode photos, optionally stressed.

use std::fmt::Write as _;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};

use crate::decode::{decode_photo, DecodeError, DecodeOptions};

/// Formats benchmarked by default: the ones Doorstep reads.
pub const DEFAULT_FORMATS: [&str; 3] = ["qrcode", "code128", "datamatrix"];

/// A degradation applied in memory to every photo before it is timed, to see how the decoder copes
/// with conditions the shared photo set lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stress {
    /// Rotated 30° on a white canvas.
    Rot30,
    /// Upscaled to a 4032 px long side, like a 12 MP phone photo.
    Hires,
    /// Darkened (gamma and brightness) with sensor-like noise.
    Dark,
    /// Gaussian blur, sigma 1.8.
    Blur,
}

impl FromStr for Stress {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rot30" => Ok(Stress::Rot30),
            "hires" => Ok(Stress::Hires),
            "dark" => Ok(Stress::Dark),
            "blur" => Ok(Stress::Blur),
            other => anyhow::bail!("unknown stress {other:?}; expected rot30, hires, dark or blur"),
        }
    }
}

/// Benchmarks the default formats; returns the printed report.
pub fn run(dir: &Path, stress: Option<Stress>, opts: &DecodeOptions) -> anyhow::Result<String> {
    run_formats(dir, stress, opts, &DEFAULT_FORMATS)
}

/// Like [`run`], for a chosen list of format folders (e.g. `ean13`).
pub fn run_formats(
    dir: &Path,
    stress: Option<Stress>,
    opts: &DecodeOptions,
    formats: &[&str],
) -> anyhow::Result<String> {
    let mut report = String::new();
    let _ = writeln!(
        report,
        "decode bench: {} stress={stress:?} budget={:?}",
        dir.display(),
        opts.budget
    );
    let _ = writeln!(
        report,
        "{:<11} {:>6} {:>8} {:>6} {:>9} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8}",
        "format",
        "photos",
        "decoded",
        "wrong",
        "not found",
        "med ms",
        "p90 ms",
        "max ms",
        "cpu med",
        "cpu p90",
        "cpu max"
    );
    let mut all = Tally::default();
    let mut misses = Vec::new();
    let mut peak_kib = 0;
    for format in formats {
        let mut tally = Tally::default();
        for (path, expected) in photos(&dir.join(format))? {
            let original =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let bytes = match stress {
                Some(stress) => apply(stress, &original, &path)?,
                None => original,
            };
            reset_peak_memory();
            let cpu_before = thread_cpu();
            let began = Instant::now();
            let result = decode_photo(&bytes, opts, &|_| true);
            let took = began.elapsed();
            let cpu = thread_cpu()
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            peak_kib = peak_kib.max(peak_memory_kib().unwrap_or(0));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let verdict = match result {
                Ok(outcome) => match outcome.accepted {
                    Some(found) if found.text == expected => Verdict::Decoded(outcome.attempts),
                    Some(found) => {
                        Verdict::Wrong(format!("{:?} {:?}", found.symbology, found.text))
                    }
                    None => Verdict::NotFound("nothing accepted".into()),
                },
                Err(DecodeError::NoBarcode) => Verdict::NotFound("no barcode".into()),
                Err(DecodeError::TimedOut) => Verdict::NotFound("timed out".into()),
                Err(err) => Verdict::NotFound(err.to_string()),
            };
            match &verdict {
                Verdict::Decoded(_) => {}
                Verdict::Wrong(got) => misses.push(format!("  WRONG {format}/{name}: got {got}")),
                Verdict::NotFound(why) => {
                    misses.push(format!("  miss  {format}/{name}: {why} ({took:.0?})"))
                }
            }
            tally.add(&verdict, took, cpu);
            all.add(&verdict, took, cpu);
        }
        tally.line(&mut report, format);
    }
    all.line(&mut report, "overall");
    let _ = writeln!(
        report,
        "peak memory during a decode (VmHWM): {} MiB",
        peak_kib / 1024
    );
    let _ = writeln!(report, "attempts on success: {}", all.attempt_summary());
    if !misses.is_empty() {
        let _ = writeln!(report, "not decoded:");
        for line in misses {
            let _ = writeln!(report, "{line}");
        }
    }
    Ok(report)
}

enum Verdict {
    Decoded(u32),
    Wrong(String),
    NotFound(String),
}

#[derive(Default)]
struct Tally {
    photos: usize,
    decoded: usize,
    wrong: usize,
    not_found: usize,
    times: Vec<Duration>,
    /// On-CPU time of the decoding thread, which a busy machine doesn't inflate.
    cpu: Vec<Duration>,
    attempts: Vec<u32>,
}

impl Tally {
    fn add(&mut self, verdict: &Verdict, took: Duration, cpu: Option<Duration>) {
        self.photos += 1;
        self.times.push(took);
        self.cpu.extend(cpu);
        match verdict {
            Verdict::Decoded(attempts) => {
                self.decoded += 1;
                self.attempts.push(*attempts);
            }
            Verdict::Wrong(_) => self.wrong += 1,
            Verdict::NotFound(_) => self.not_found += 1,
        }
    }

    fn line(&mut self, report: &mut String, label: &str) {
        self.times.sort();
        self.cpu.sort();
        let ms = |times: &[Duration], q: f64| {
            let Some(last) = times.len().checked_sub(1) else {
                return 0.0;
            };
            times[((last as f64) * q).round() as usize].as_secs_f64() * 1000.0
        };
        let (wall, cpu) = (&self.times, &self.cpu);
        let rate = 100.0 * self.decoded as f64 / self.photos.max(1) as f64;
        let _ = writeln!(
            report,
            "{label:<11} {:>6} {:>3} {rate:>3.0}% {:>6} {:>9} {:>8.1} {:>8.1} {:>8.1} | {:>8.1} {:>8.1} {:>8.1}",
            self.photos,
            self.decoded,
            self.wrong,
            self.not_found,
            ms(wall, 0.5),
            ms(wall, 0.9),
            ms(wall, 1.0),
            ms(cpu, 0.5),
            ms(cpu, 0.9),
            ms(cpu, 1.0)
        );
    }

    fn attempt_summary(&mut self) -> String {
        self.attempts.sort();
        let Some(&max) = self.attempts.last() else {
            return "-".into();
        };
        let first = self.attempts.iter().filter(|&&a| a <= 3).count();
        format!(
            "{first} of {} within the first pass (<= 3 reads), median {}, max {max}",
            self.attempts.len(),
            self.attempts[self.attempts.len() / 2]
        )
    }
}

/// Photos in one format folder with their expected texts, sorted by name.
fn photos(dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "txt") || !path.is_file() {
            continue;
        }
        let mut txt = path.clone().into_os_string();
        txt.push(".txt");
        let Ok(expected) = std::fs::read_to_string(&txt) else {
            continue;
        };
        out.push((path, expected));
    }
    out.sort();
    Ok(out)
}

/// Makes the stressed copy of one photo, re-encoded as JPEG q90 so the timed path still decodes an image.
fn apply(stress: Stress, bytes: &[u8], path: &Path) -> anyhow::Result<Vec<u8>> {
    let img = image::load_from_memory(bytes)
        .with_context(|| format!("decoding {}", path.display()))?
        .into_rgb8();
    let seed = bytes
        .iter()
        .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let out = match stress {
        Stress::Hires => {
            let (w, h) = img.dimensions();
            let scale = 4032.0 / f64::from(w.max(h));
            let (nw, nh) = (
                (f64::from(w) * scale).round() as u32,
                (f64::from(h) * scale).round() as u32,
            );
            image::imageops::resize(&img, nw.max(1), nh.max(1), FilterType::CatmullRom)
        }
        Stress::Rot30 => rotate_rgb(&img, 30.0),
        Stress::Blur => image::imageops::blur(&img, 1.8),
        Stress::Dark => {
            let mut img = img;
            for p in img.pixels_mut() {
                let noise: f32 = rng.gen_range(-14.0..14.0);
                for c in p.0.iter_mut() {
                    let v = (f32::from(*c) / 255.0).powf(1.8) * 255.0 * 0.45 + 8.0 + noise;
                    *c = v.clamp(0.0, 255.0) as u8;
                }
            }
            img
        }
    };
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut Cursor::new(&mut jpeg), 90).encode_image(&out)?;
    Ok(jpeg)
}

/// Bilinear rotation onto a white canvas that holds the whole rotated photo.
fn rotate_rgb(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let ow = (w * cos.abs() + h * sin.abs()).ceil() as u32;
    let oh = (w * sin.abs() + h * cos.abs()).ceil() as u32;
    let (cx, cy, ocx, ocy) = (w / 2.0, h / 2.0, ow as f32 / 2.0, oh as f32 / 2.0);
    RgbImage::from_fn(ow, oh, |ox, oy| {
        let (dx, dy) = (ox as f32 + 0.5 - ocx, oy as f32 + 0.5 - ocy);
        let sx = dx * cos + dy * sin + cx - 0.5;
        let sy = -dx * sin + dy * cos + cy - 0.5;
        if sx < 0.0 || sy < 0.0 || sx > w - 1.0 || sy > h - 1.0 {
            return Rgb([255, 255, 255]);
        }
        let (x0, y0) = (sx as u32, sy as u32);
        let (x1, y1) = (
            (x0 + 1).min(img.width() - 1),
            (y0 + 1).min(img.height() - 1),
        );
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let mut px = [0u8; 3];
        for (c, out) in px.iter_mut().enumerate() {
            let p = |x, y| f32::from(img.get_pixel(x, y).0[c]);
            let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
            let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
            *out = (top * (1.0 - fy) + bottom * fy + 0.5) as u8;
        }
        Rgb(px)
    })
}

/// Resets the kernel's peak-RSS mark so the next reading covers one decode (Linux; best effort).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Time this thread has spent on a CPU (Linux schedstat, nanoseconds).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
