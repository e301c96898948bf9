//! Pure photo decoding: image bytes in, barcodes out (no HTTP, no SQL).

pub mod pool;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, MultiFormatReader, Reader,
};

/// The barcodes Doorstep reads: door labels (QR Code), scanner labels (Code 128), garment tags (DataMatrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Symbology {
    /// QR Code (door labels and garment tags).
    QrCode,
    /// Code 128 (labels printed by older systems).
    Code128,
    /// Data Matrix (small garment tags).
    DataMatrix,
}

impl Symbology {
    fn format(self) -> BarcodeFormat {
        match self {
            Symbology::QrCode => BarcodeFormat::QR_CODE,
            Symbology::Code128 => BarcodeFormat::CODE_128,
            Symbology::DataMatrix => BarcodeFormat::DATA_MATRIX,
        }
    }

    fn from_format(format: &BarcodeFormat) -> Option<Self> {
        match format {
            BarcodeFormat::QR_CODE => Some(Symbology::QrCode),
            BarcodeFormat::CODE_128 => Some(Symbology::Code128),
            BarcodeFormat::DATA_MATRIX => Some(Symbology::DataMatrix),
            _ => None,
        }
    }
}

/// Limits for one photo, so a single upload can't hold a worker thread or memory for long.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// No new attempt starts once this much time has passed (a running attempt can't be stopped).
    pub budget: Duration,
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Largest image accepted, in pixels.
    pub max_pixels: u64,
    /// A live viewfinder's frame: only the passes that read a label held square to the camera, since the next
    /// frame follows in half a second; the rescues (sharpening, rescaling, rotations) are for a photo taken once.
    pub frame: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            budget: Duration::from_millis(1500),
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 50_000_000,
            frame: false,
        }
    }
}

/// One barcode read from a photo.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Decoded {
    /// The decoded text.
    pub text: String,
    /// The barcode's symbology.
    pub symbology: Symbology,
}

/// What a decode found: the first accepted code, if any, and every distinct code seen on the way.
#[derive(Debug, Clone)]
pub struct DecodeOutcome {
    /// The first code the caller's predicate accepted.
    pub accepted: Option<Decoded>,
    /// Distinct codes in the order found, the accepted one included; never empty.
    pub seen: Vec<Decoded>,
    /// Wall time spent.
    pub elapsed: Duration,
    /// Reader passes run (one binarized frame read for one symbology).
    pub attempts: u32,
}

/// Why a photo gave no code; each maps to one HTTP answer (415, 413, 422, 422).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a JPEG, PNG or WebP image.
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("image too large: {what}")]
    /// The file or image is too large for the limits.
    TooLarge {
        /// What was too large, in words.
        what: String,
    },
    /// No barcode could be read.
    #[error("no barcode found in the photo")]
    NoBarcode,
    /// The budget ran out before a code was read.
    #[error("no barcode found within the time budget")]
    TimedOut,
}

/// Smaller side below which a photo can't hold a readable label; also keeps rxing away from its
/// thin-image hangs (1–12 px wide, ~300 px tall).
const MIN_SIDE: u32 = 20;
/// Long side of the frame read first; larger photos are box-filtered down to this.
const WORK_SIDE: u32 = 1280;
/// Long side below which a 2x upscale is worth a try (modules of 1–2 px).
const SMALL_SIDE: u32 = 640;
/// Long side the close-up passes halve a photo down to, and no further.
const CLOSE_UP_SIDE: u32 = 200;
/// Per-side limit handed to the image decoders (JPEG can't exceed it anyway).
const MAX_SIDE: u32 = 65_535;
/// Angles tried for 1-D codes once the straight passes fail (TRY_HARDER already covers 90°).
const ROTATIONS: [f32; 10] = [
    30.0, -30.0, 60.0, -60.0, 15.0, -15.0, 45.0, -45.0, 75.0, -75.0,
];
const ALL: [Symbology; 3] = [Symbology::QrCode, Symbology::DataMatrix, Symbology::Code128];

/// Reads the first usable code from a photo; `accept` says whether a text is usable (e.g. a valid
/// door code). Stops at the first accepted code; otherwise returns everything seen, or an error
/// when nothing was found.
pub fn decode_photo(
    bytes: &[u8],
    opts: &DecodeOptions,
    accept: &dyn Fn(&str) -> bool,
) -> Result<DecodeOutcome, DecodeError> {
    let start = Instant::now();
    let frame = load_luma(bytes, opts)?;
    let mut scan = Scan {
        start,
        budget: opts.budget,
        frame: opts.frame,
        accept,
        accepted: None,
        seen: Vec::new(),
        attempts: 0,
        out_of_time: false,
        longest: Duration::ZERO,
    };
    scan.run(frame);
    let elapsed = start.elapsed();
    match (scan.accepted, scan.seen.is_empty(), scan.out_of_time) {
        (None, true, true) => Err(DecodeError::TimedOut),
        (None, true, false) => Err(DecodeError::NoBarcode),
        (accepted, _, _) => Ok(DecodeOutcome {
            accepted,
            seen: scan.seen,
            elapsed,
            attempts: scan.attempts,
        }),
    }
}

/// An 8-bit grey image, row-major.
#[derive(Clone)]
struct Frame {
    luma: Vec<u8>,
    width: u32,
    height: u32,
}

impl Frame {
    fn long_side(&self) -> u32 {
        self.width.max(self.height)
    }
}

/// Sniffs the format, checks the header against the limits, decodes, and converts to grey.
fn load_luma(bytes: &[u8], opts: &DecodeOptions) -> Result<Frame, DecodeError> {
    if bytes.len() > opts.max_bytes {
        return Err(DecodeError::TooLarge {
            what: format!("{} bytes, limit {}", bytes.len(), opts.max_bytes),
        });
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(DecodeError::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA8 of the largest allowed photo plus decoder scratch space.
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(4).saturating_add(64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > opts.max_pixels {
        return Err(DecodeError::TooLarge {
            what: format!("{width}x{height} pixels, limit {}", opts.max_pixels),
        });
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::NotAnImage);
    }
    if width.min(height) < MIN_SIDE {
        return Err(DecodeError::NoBarcode);
    }
    if format == ImageFormat::Jpeg && width.max(height) > 2 * WORK_SIDE {
        let budget = opts.max_pixels.saturating_mul(4).saturating_add(64 << 20);
        if let Some(frame) = scaled_jpeg(bytes, width, height, budget) {
            return Ok(frame);
        }
    }
    let image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    let grey = image.into_luma8();
    let (width, height) = grey.dimensions();
    Ok(Frame {
        luma: grey.into_raw(),
        width,
        height,
    })
}

/// Decodes a large JPEG at 1/2, 1/4 or 1/8 scale with the decoder's reduced IDCT, which skips most of
/// the cost of a 12–48 MP phone photo; the result is no smaller than the working size, like the box-filter
/// path would give. `None` when this decoder can't (e.g. CMYK), so the caller falls back to a full decode.
fn scaled_jpeg(bytes: &[u8], width: u32, height: u32, max_alloc: u64) -> Option<Frame> {
    let long = u64::from(width.max(height));
    let want =
        |side: u32| u16::try_from((u64::from(side) * u64::from(WORK_SIDE)).div_ceil(long)).ok();
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    let (w, h) = decoder.scale(want(width)?, want(height)?).ok()?;
    let pixels = decoder.decode().ok()?;
    let info = decoder.info()?;
    let (w, h) = (u32::from(w), u32::from(h));
    let count = w as usize * h as usize;
    let luma: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels,
        jpeg_decoder::PixelFormat::L16 => pixels.chunks_exact(2).map(|p| p[0]).collect(),
        jpeg_decoder::PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .map(|p| {
                ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8) as u8
            })
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => return None,
    };
    (count > 0 && luma.len() == count).then_some(Frame {
        luma,
        width: w,
        height: h,
    })
}

fn image_error(err: ImageError) -> DecodeError {
    match err {
        ImageError::Limits(e) => DecodeError::TooLarge {
            what: e.to_string(),
        },
        _ => DecodeError::NotAnImage,
    }
}

/// The state of one photo's search: budget, findings and the attempt counter.
struct Scan<'a> {
    start: Instant,
    budget: Duration,
    frame: bool,
    accept: &'a dyn Fn(&str) -> bool,
    accepted: Option<Decoded>,
    seen: Vec<Decoded>,
    attempts: u32,
    out_of_time: bool,
    longest: Duration,
}

#[derive(Clone, Copy)]
enum Bin {
    Hybrid,
    Global,
}

impl Scan<'_> {
    /// Attempt order, cheapest and most often successful first (measured on the shared photo set).
    fn run(&mut self, full: Frame) {
        // Keep a finer frame (up to 2x the working size) for small labels in large photos.
        let fine_factor = full.long_side().div_ceil(2 * WORK_SIDE).max(1);
        let fine = if fine_factor > 1 {
            box_shrink(&full, fine_factor)
        } else {
            full
        };
        let (base, fine) = if fine.long_side() > WORK_SIDE {
            (box_shrink(&fine, 2), Some(fine))
        } else {
            (fine, None)
        };

        if self.pass(&base, Bin::Hybrid, false, &ALL)
            || self.pass(&base, Bin::Global, false, &ALL)
            || self.pass(&base, Bin::Hybrid, true, &ALL)
            || self.frame
        {
            return;
        }
        if base.long_side() < SMALL_SIDE {
            let up = upscale2(&base);
            if self.pass(&up, Bin::Hybrid, false, &ALL) || self.pass(&up, Bin::Global, false, &ALL)
            {
                return;
            }
        }
        // Out-of-focus photos: a sharpened copy restores bar edges the binarizer can find.
        let sharp = sharpen(&base);
        if self.pass(&sharp, Bin::Hybrid, false, &ALL) {
            return;
        }
        if base.long_side() < SMALL_SIDE && self.pass(&upscale2(&sharp), Bin::Hybrid, false, &ALL) {
            return;
        }
        // Dim, grainy photos: a 3x3 mean keeps sensor noise from breaking up bars.
        if self.pass(&smooth(&base), Bin::Hybrid, false, &ALL) {
            return;
        }
        // Badly out of focus (or shaken): a wider unsharp mask reaches across a smeared edge, on the upscaled copy
        // too where modules are only a pixel or two wide.
        if self.pass(&unsharp(&base, 2, 4), Bin::Hybrid, false, &ALL) {
            return;
        }
        if base.long_side() < SMALL_SIDE
            && self.pass(&unsharp(&upscale2(&base), 5, 4), Bin::Hybrid, false, &ALL)
        {
            return;
        }
        if let Some(fine) = &fine {
            if self.pass(fine, Bin::Hybrid, false, &ALL) {
                return;
            }
        }
        // A close-up (a label filling a 12 MP photo): its modules are tens of pixels with soft sides, which the
        // readers take for flat ground; halving until the photo is a few hundred pixels makes them crisp again.
        let mut smaller = base.clone();
        while smaller.long_side() / 2 >= CLOSE_UP_SIDE {
            smaller = box_shrink(&smaller, 2);
            if self.pass(&smaller, Bin::Hybrid, false, &ALL) {
                return;
            }
        }
        for angle in ROTATIONS {
            if self.over_budget() {
                return;
            }
            let turned = rotate(&base, angle);
            if self.pass(&turned, Bin::Hybrid, false, &[Symbology::Code128])
                || self.pass(&turned, Bin::Global, false, &[Symbology::Code128])
            {
                return;
            }
            // rxing's Code 128 reader misses codes framed by wide plain margins (measured), such
            // as the canvas of an already-rotated upload; retry on the upright core of the frame.
            if let Some(core) = upright_core(&turned, base.width, base.height, angle) {
                if self.pass(&core, Bin::Hybrid, false, &[Symbology::Code128]) {
                    return;
                }
            }
        }
    }

    /// Out of time when another attempt as long as the longest so far would overrun the budget,
    /// so a photo ends within its budget instead of one attempt past it.
    fn over_budget(&mut self) -> bool {
        if self.start.elapsed() + self.longest >= self.budget {
            self.out_of_time = true;
        }
        self.out_of_time
    }

    /// Binarizes `frame` once and runs each symbology's reader on it; true once a code is accepted
    /// or the budget is spent.
    fn pass(&mut self, frame: &Frame, bin: Bin, inverted: bool, kinds: &[Symbology]) -> bool {
        if self.over_budget() {
            return true;
        }
        let Ok(source) = Luma8Source::new_with_slice(&frame.luma, frame.width, frame.height) else {
            return false;
        };
        let began = Instant::now();
        let done = match bin {
            Bin::Hybrid => self.read(
                BinaryBitmap::new(HybridBinarizer::new(source)),
                inverted,
                kinds,
            ),
            Bin::Global => self.read(
                BinaryBitmap::new(GlobalHistogramBinarizer::new(source)),
                inverted,
                kinds,
            ),
        };
        self.longest = self.longest.max(began.elapsed());
        done
    }

    fn read<B: Binarizer>(
        &mut self,
        mut bitmap: BinaryBitmap<B>,
        inverted: bool,
        kinds: &[Symbology],
    ) -> bool {
        if inverted {
            let flipped = catch_unwind(AssertUnwindSafe(|| bitmap.invert()));
            if flipped.is_err() {
                return false;
            }
        }
        for &kind in kinds {
            if self.over_budget() {
                return true;
            }
            self.attempts += 1;
            let hints = DecodeHints::default()
                .with(rxing::DecodeHintValue::TryHarder(true))
                .with(rxing::DecodeHintValue::PossibleFormats(
                    [kind.format()].into(),
                ));
            let result = catch_unwind(AssertUnwindSafe(|| {
                MultiFormatReader::default().decode_with_hints(&mut bitmap, &hints)
            }));
            let Ok(Ok(found)) = result else { continue };
            let Some(symbology) = Symbology::from_format(found.getBarcodeFormat()) else {
                continue;
            };
            let decoded = Decoded {
                text: found.getText().to_owned(),
                symbology,
            };
            if !self.seen.contains(&decoded) {
                self.seen.push(decoded.clone());
            }
            if (self.accept)(&decoded.text) {
                self.accepted = Some(decoded);
                return true;
            }
        }
        false
    }
}

/// Averages `factor` x `factor` blocks: a cheap area filter that keeps thin bars from aliasing.
fn box_shrink(frame: &Frame, factor: u32) -> Frame {
    if factor <= 1 {
        return frame.clone();
    }
    let (w, h) = (frame.width as usize, frame.height as usize);
    let f = factor as usize;
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    let mut out = Vec::with_capacity(ow * oh);
    let mut sums = vec![0u32; ow];
    let mut counts = vec![0u32; ow];
    for oy in 0..oh {
        sums.iter_mut().for_each(|s| *s = 0);
        counts.iter_mut().for_each(|c| *c = 0);
        for y in oy * f..((oy + 1) * f).min(h) {
            let row = &frame.luma[y * w..(y + 1) * w];
            for (x, &p) in row.iter().enumerate() {
                sums[x / f] += u32::from(p);
                counts[x / f] += 1;
            }
        }
        out.extend(
            sums.iter()
                .zip(&counts)
                .map(|(&s, &c)| (s / c.max(1)) as u8),
        );
    }
    Frame {
        luma: out,
        width: ow as u32,
        height: oh as u32,
    }
}

/// Unsharp mask (3x3 box, amount 2): steepens blurred edges before binarization.
fn sharpen(frame: &Frame) -> Frame {
    map_3x3_mean(frame, |p, mean| (p + 2 * (p - mean)).clamp(0, 255) as u8)
}

/// Unsharp mask over a `(2r+1)`-square box with `amount`: for photos blurred over more than a pixel or two, where
/// the 3x3 mask of [`sharpen`] sees only the flat middle of a smeared edge.
fn unsharp(frame: &Frame, radius: usize, amount: i32) -> Frame {
    let (w, h) = (frame.width as usize, frame.height as usize);
    // Integral image, one row and column of zeros in front.
    let mut sums = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(frame.luma[y * w + x]);
            sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            let total = sums[y1 * (w + 1) + x1] + sums[y0 * (w + 1) + x0]
                - sums[y0 * (w + 1) + x1]
                - sums[y1 * (w + 1) + x0];
            let mean = (total / ((y1 - y0) * (x1 - x0)) as u64) as i32;
            let p = i32::from(frame.luma[y * w + x]);
            out.push((p + amount * (p - mean)).clamp(0, 255) as u8);
        }
    }
    Frame {
        luma: out,
        width: frame.width,
        height: frame.height,
    }
}

/// 3x3 mean filter, the cheapest denoise.
fn smooth(frame: &Frame) -> Frame {
    map_3x3_mean(frame, |_, mean| mean as u8)
}

/// Replaces each inner pixel by `f(pixel, mean of its 3x3 neighbourhood)`; the border is kept.
fn map_3x3_mean(frame: &Frame, f: impl Fn(i32, i32) -> u8) -> Frame {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut out = frame.luma.clone();
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let mut sum = 0i32;
            for row in frame.luma[(y - 1) * w..(y + 2) * w].chunks_exact(w) {
                sum += row[x - 1..x + 2].iter().map(|&p| i32::from(p)).sum::<i32>();
            }
            out[y * w + x] = f(i32::from(frame.luma[y * w + x]), sum / 9);
        }
    }
    Frame {
        luma: out,
        width: frame.width,
        height: frame.height,
    }
}

/// Bilinear 2x upscale, for photos whose modules are only a pixel or two wide.
fn upscale2(frame: &Frame) -> Frame {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let (ow, oh) = (w * 2, h * 2);
    let mut out = Vec::with_capacity(ow * oh);
    for oy in 0..oh {
        let sy = ((oy as f32 + 0.5) / 2.0 - 0.5).max(0.0);
        let y0 = (sy as usize).min(h - 1);
        let y1 = (y0 + 1).min(h - 1);
        let fy = sy - y0 as f32;
        for ox in 0..ow {
            let sx = ((ox as f32 + 0.5) / 2.0 - 0.5).max(0.0);
            let x0 = (sx as usize).min(w - 1);
            let x1 = (x0 + 1).min(w - 1);
            let fx = sx - x0 as f32;
            let p = |x: usize, y: usize| f32::from(frame.luma[y * w + x]);
            let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
            let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
            out.push((top * (1.0 - fy) + bottom * fy + 0.5) as u8);
        }
    }
    Frame {
        luma: out,
        width: ow as u32,
        height: oh as u32,
    }
}

/// Rotates by `degrees` (bilinear) onto a canvas large enough to keep every pixel, so a
/// tilted 1-D code lines up with the reader's horizontal scan lines.
fn rotate(frame: &Frame, degrees: f32) -> Frame {
    let (w, h) = (frame.width as f32, frame.height as f32);
    let (sin, cos) = degrees.to_radians().sin_cos();
    // The small slack keeps float error at right angles from adding a column.
    let ow = (w * cos.abs() + h * sin.abs() - 1e-3).ceil().max(1.0) as usize;
    let oh = (w * sin.abs() + h * cos.abs() - 1e-3).ceil().max(1.0) as usize;
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (ocx, ocy) = (ow as f32 / 2.0, oh as f32 / 2.0);
    let (iw, ih) = (frame.width as usize, frame.height as usize);
    let mut out = Vec::with_capacity(ow * oh);
    for oy in 0..oh {
        let dy = oy as f32 + 0.5 - ocy;
        for ox in 0..ow {
            let dx = ox as f32 + 0.5 - ocx;
            // Inverse mapping: output pixel back into the source.
            let sx = dx * cos + dy * sin + cx - 0.5;
            let sy = -dx * sin + dy * cos + cy - 0.5;
            // Outside the photo, repeat its edge: rxing's Code 128 reader misses codes on a plain
            // white margin (measured), and edge pixels add no new bar patterns.
            let (sx, sy) = (sx.clamp(0.0, w - 1.0), sy.clamp(0.0, h - 1.0));
            let x0 = (sx as usize).min(iw - 1);
            let y0 = (sy as usize).min(ih - 1);
            let x1 = (x0 + 1).min(iw - 1);
            let y1 = (y0 + 1).min(ih - 1);
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let p = |x: usize, y: usize| f32::from(frame.luma[y * iw + x]);
            let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
            let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
            out.push((top * (1.0 - fy) + bottom * fy + 0.5) as u8);
        }
    }
    Frame {
        luma: out,
        width: ow as u32,
        height: oh as u32,
    }
}

/// The central rectangle of a frame rotated by `degrees` that held a `width` x `height` photo
/// which had itself been rotated the other way onto a canvas; None when it would be too small.
fn upright_core(turned: &Frame, width: u32, height: u32, degrees: f32) -> Option<Frame> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (sin, cos) = (sin.abs(), cos.abs());
    let det = cos * cos - sin * sin;
    if det.abs() < 0.2 {
        return None;
    }
    let (w, h) = (width as f32, height as f32);
    let cw = ((w * cos - h * sin) / det).min(turned.width as f32);
    let ch = ((h * cos - w * sin) / det).min(turned.height as f32);
    if cw < MIN_SIDE as f32 || ch < MIN_SIDE as f32 {
        return None;
    }
    let (cw, ch) = (cw as usize, ch as usize);
    let x0 = (turned.width as usize - cw) / 2;
    let y0 = (turned.height as usize - ch) / 2;
    let stride = turned.width as usize;
    let mut luma = Vec::with_capacity(cw * ch);
    for y in y0..y0 + ch {
        luma.extend_from_slice(turned.luma.get(y * stride + x0..y * stride + x0 + cw)?);
    }
    Some(Frame {
        luma,
        width: cw as u32,
        height: ch as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, ImageEncoder, Luma};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = GrayImage::from_pixel(width, height, Luma([255]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::L8)
            .expect("encode png");
        out
    }

    fn any(_: &str) -> bool {
        true
    }

    #[test]
    fn rejects_non_images_and_empty_input() {
        let opts = DecodeOptions::default();
        for bytes in [
            &b""[..],
            b"hello, world",
            b"GIF89a\x01\x00\x01\x00",
            &[0xFF, 0xD8, 0xFF],
        ] {
            assert!(
                matches!(
                    decode_photo(bytes, &opts, &any),
                    Err(DecodeError::NotAnImage)
                ),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn rejects_truncated_header() {
        let bytes = png(64, 64);
        let cut = &bytes[..20];
        assert!(matches!(
            decode_photo(cut, &DecodeOptions::default(), &any),
            Err(DecodeError::NotAnImage)
        ));
    }

    #[test]
    fn enforces_byte_and_pixel_limits() {
        let bytes = png(300, 300);
        let small = DecodeOptions {
            max_bytes: 10,
            ..DecodeOptions::default()
        };
        assert!(matches!(
            decode_photo(&bytes, &small, &any),
            Err(DecodeError::TooLarge { .. })
        ));
        let few = DecodeOptions {
            max_pixels: 300 * 299,
            ..DecodeOptions::default()
        };
        assert!(matches!(
            decode_photo(&bytes, &few, &any),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn rejects_images_too_thin_for_a_label() {
        for (w, h) in [(1, 300), (12, 300), (300, 12), (1, 1), (19, 19)] {
            let result = decode_photo(&png(w, h), &DecodeOptions::default(), &any);
            assert!(matches!(result, Err(DecodeError::NoBarcode)), "{w}x{h}");
        }
    }

    #[test]
    fn blank_image_has_no_barcode() {
        let result = decode_photo(&png(200, 100), &DecodeOptions::default(), &any);
        assert!(matches!(result, Err(DecodeError::NoBarcode)));
    }

    /// rxing hangs on thin images when MaxiCode/RSS are on; guard that our readers alone return.
    #[test]
    fn readers_return_on_thin_frames() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for (w, h) in [(1u32, 300u32), (5, 300), (12, 300), (300, 1)] {
                let frame = Frame {
                    luma: vec![255; (w * h) as usize],
                    width: w,
                    height: h,
                };
                let mut scan = Scan {
                    start: Instant::now(),
                    budget: Duration::from_secs(60),
                    frame: false,
                    accept: &any,
                    accepted: None,
                    seen: Vec::new(),
                    attempts: 0,
                    out_of_time: false,
                    longest: Duration::ZERO,
                };
                scan.pass(&frame, Bin::Hybrid, false, &ALL);
                scan.pass(&frame, Bin::Global, true, &ALL);
            }
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "rxing did not return on a thin frame"
        );
    }

    #[test]
    fn a_wide_unsharp_mask_steepens_a_smeared_edge_and_keeps_flat_grey_flat() {
        // A dark-to-light edge smeared over about 8 px, as an out-of-focus bar's side.
        let row: Vec<u8> = (0..32)
            .map(|x| (60.0 + 130.0 / (1.0 + (-(f64::from(x) - 15.5) / 1.5).exp())).round() as u8)
            .collect();
        let frame = Frame {
            luma: row.repeat(6),
            width: 32,
            height: 6,
        };
        let sharp = unsharp(&frame, 2, 4);
        let at = |f: &Frame, x: usize| i32::from(f.luma[3 * 32 + x]);
        // Across the middle of the smear, the step between neighbours grows by half at least.
        assert!(2 * (at(&sharp, 16) - at(&sharp, 15)) >= 3 * (at(&frame, 16) - at(&frame, 15)));
        // Far from the edge nothing changes.
        assert_eq!(at(&sharp, 2), 60);
        assert_eq!(at(&sharp, 30), 190);
        for (w, h) in [(1, 1), (2, 3), (5, 1)] {
            let flat = Frame {
                luma: vec![128; w * h],
                width: w as u32,
                height: h as u32,
            };
            assert_eq!(unsharp(&flat, 5, 4).luma, flat.luma);
        }
    }

    #[test]
    fn a_viewfinder_frame_skips_the_rescues_a_photo_gets() {
        use rxing::Writer;
        let bars = rxing::MultiFormatWriter
            .encode("DOORSTEP-128", &BarcodeFormat::CODE_128, 360, 90)
            .expect("an encodable text");
        let (w, h) = (bars.getWidth(), bars.getHeight());
        let upright = Frame {
            luma: (0..h)
                .flat_map(|y| (0..w).map(move |x| (y, x)))
                .map(|(y, x)| if bars.get(x, y) { 0 } else { 255 })
                .collect(),
            width: w,
            height: h,
        };
        // Tilted by 30 degrees, the bars cross the readers' scan lines: only the rotation passes read them.
        let tilted = rotate(&upright, 30.0);
        let mut photo = Vec::new();
        image::codecs::png::PngEncoder::new(&mut photo)
            .write_image(
                &tilted.luma,
                tilted.width,
                tilted.height,
                image::ExtendedColorType::L8,
            )
            .expect("encode png");
        let read =
            decode_photo(&photo, &DecodeOptions::default(), &any).expect("a photo is rescued");
        assert_eq!(
            read.accepted.map(|d| d.text).as_deref(),
            Some("DOORSTEP-128")
        );
        let frame = DecodeOptions {
            frame: true,
            ..DecodeOptions::default()
        };
        assert!(matches!(
            decode_photo(&photo, &frame, &any),
            Err(DecodeError::NoBarcode)
        ));
    }

    #[test]
    fn box_shrink_averages_blocks() {
        let frame = Frame {
            luma: vec![0, 255, 0, 255, 0, 255, 0, 255, 9],
            width: 3,
            height: 3,
        };
        let small = box_shrink(&frame, 2);
        assert_eq!((small.width, small.height), (2, 2));
        assert_eq!(small.luma, vec![127, 127, 127, 9]);
    }

    #[test]
    fn rotation_keeps_every_pixel_on_canvas() {
        let frame = Frame {
            luma: vec![0; 100 * 40],
            width: 100,
            height: 40,
        };
        let turned = rotate(&frame, 90.0);
        assert_eq!((turned.width, turned.height), (40, 100));
        assert!(turned.luma.iter().filter(|&&p| p < 128).count() >= 100 * 40 * 9 / 10);
    }

    #[test]
    fn large_jpegs_decode_at_reduced_scale_to_the_working_size() {
        let img = image::GrayImage::from_fn(4032, 3024, |x, y| {
            image::Luma([((x / 7 + y / 5) % 256) as u8])
        });
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).expect("encode");
        let frame = scaled_jpeg(jpeg.get_ref(), 4032, 3024, 1 << 30).expect("scaled decode");
        assert_eq!((frame.width, frame.height), (2016, 1512));
        assert_eq!(frame.luma.len(), 2016 * 1512);
        let full = load_luma(jpeg.get_ref(), &DecodeOptions::default()).expect("load");
        assert_eq!(
            full.long_side(),
            2016,
            "the load path uses the scaled decode"
        );
    }

    #[test]
    fn a_jpeg_claiming_a_large_size_without_the_data_fails_cleanly() {
        let img = image::GrayImage::from_pixel(64, 48, image::Luma([200]));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).expect("encode");
        let mut bytes = jpeg.into_inner();
        // Rewrite the frame header (SOF0: FF C0, length, precision, height, width) to claim 4000x3000.
        let sof = bytes
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("SOF0 marker");
        bytes[sof + 5..sof + 9].copy_from_slice(&[0x0B, 0xB8, 0x0F, 0xA0]);
        let started = Instant::now();
        let result = decode_photo(&bytes, &DecodeOptions::default(), &any);
        assert!(result.is_err(), "{result:?}");
        // A hang guard, not a speed goal: the budget check is what keeps this short.
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
