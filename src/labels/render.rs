//! Printable labels: a code rendered as QR Code or Code 128 with its human-readable text beneath.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, GrayImage, ImageEncoder, Luma};
use rxing::{BarcodeFormat, EncodeHints, MultiFormatWriter, Writer};

/// Which barcode a label carries: QR for phone cameras, Code 128 for USB line scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LabelSymbology {
    /// QR Code.
    #[default]
    Qr,
    /// Code 128.
    Code128,
}

/// Why a label could not be drawn; `Encode` and `Caption` are the caller's input, `Image` is ours.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The barcode could not be encoded.
    #[error("cannot encode as a barcode: {0}")]
    Encode(String),
    /// The caption could not be drawn.
    #[error("caption does not fit on a label: {0}")]
    Caption(String),
    /// The image could not be written.
    #[error("could not write the image: {0}")]
    Image(String),
}

const QR_MODULE_PX: u32 = 8;
const QR_QUIET_MODULES: u32 = 4;
const QR_MAX_BYTES: usize = 512;
const C128_MODULE_PX: u32 = 3;
const C128_BAR_PX: u32 = 120;
const C128_QUIET_MODULES: u32 = 10;
const C128_QUIET_Y_PX: u32 = 12;
const MAX_CAPTION_LINES: usize = 4;
const MAX_CAPTION_LINE_CHARS: usize = 40;
/// Pixel scale of the 5x7 font: the first caption line (the code) is drawn larger than the rest.
const FIRST_LINE_SCALE: u32 = 4;
const OTHER_LINE_SCALE: u32 = 3;
const SIDE_MARGIN_PX: u32 = 16;
const BOTTOM_MARGIN_PX: u32 = 16;

/// Renders a label as a grayscale PNG, sized for a 200-300 dpi label printer.
pub fn render_png(
    code: &str,
    caption: &str,
    symbology: LabelSymbology,
) -> Result<Vec<u8>, RenderError> {
    let layout = Layout::new(code, caption, symbology)?;
    let mut img = GrayImage::from_pixel(layout.width, layout.height, Luma([255]));
    for (x, y, w, h) in layout.dark_runs() {
        fill(&mut img, x, y, w, h);
    }
    for line in &layout.lines {
        let advance = GLYPH_ADVANCE * line.scale;
        let mut x = line.left;
        for ch in line.text.chars() {
            let rows = glyph(ch);
            for (gy, bits) in rows.iter().enumerate() {
                for gx in 0..GLYPH_W {
                    if bits & (1 << (GLYPH_W - 1 - gx)) != 0 {
                        fill(
                            &mut img,
                            x + gx * line.scale,
                            line.top + gy as u32 * line.scale,
                            line.scale,
                            line.scale,
                        );
                    }
                }
            }
            x += advance;
        }
    }
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            img.as_raw(),
            layout.width,
            layout.height,
            ExtendedColorType::L8,
        )
        .map_err(|e| RenderError::Image(e.to_string()))?;
    Ok(png)
}

/// Renders the same label as SVG, for printing at any size from a browser.
pub fn render_svg(
    code: &str,
    caption: &str,
    symbology: LabelSymbology,
) -> Result<String, RenderError> {
    use std::fmt::Write as _;
    let layout = Layout::new(code, caption, symbology)?;
    let (w, h) = (layout.width, layout.height);
    let mut svg = String::with_capacity(8 * 1024);
    // Writing to a String cannot fail, so the fmt::Results below are ignored.
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" shape-rendering="crispEdges"><rect width="{w}" height="{h}" fill="#fff"/><g fill="#000">"##
    );
    for (x, y, rw, rh) in layout.dark_runs() {
        let _ = write!(svg, r#"<rect x="{x}" y="{y}" width="{rw}" height="{rh}"/>"#);
    }
    svg.push_str("</g>");
    let centre = w / 2;
    for line in &layout.lines {
        let size = line.scale * 10;
        let baseline = line.top + GLYPH_H * line.scale;
        let _ = write!(
            svg,
            r##"<text x="{centre}" y="{baseline}" font-family="DejaVu Sans Mono,Consolas,monospace" font-size="{size}" font-weight="bold" text-anchor="middle" fill="#000">{}</text>"##,
            xml_escape(&line.text)
        );
    }
    svg.push_str("</svg>\n");
    Ok(svg)
}

/// Geometry shared by the PNG and SVG renderers, in output pixels.
struct Layout {
    modules: Vec<bool>,
    cols: u32,
    module_w: u32,
    module_h: u32,
    /// Top-left pixel of the first module (quiet zone already accounted for).
    origin: (u32, u32),
    lines: Vec<CaptionLine>,
    width: u32,
    height: u32,
}

struct CaptionLine {
    text: String,
    scale: u32,
    left: u32,
    top: u32,
}

impl Layout {
    fn new(code: &str, caption: &str, symbology: LabelSymbology) -> Result<Self, RenderError> {
        let (modules, cols, rows) = encode_modules(code, symbology)?;
        let (module_w, module_h, quiet_x, quiet_y) = match symbology {
            LabelSymbology::Qr => {
                let quiet = QR_QUIET_MODULES * QR_MODULE_PX;
                (QR_MODULE_PX, QR_MODULE_PX, quiet, quiet)
            }
            LabelSymbology::Code128 => (
                C128_MODULE_PX,
                C128_BAR_PX,
                C128_QUIET_MODULES * C128_MODULE_PX,
                C128_QUIET_Y_PX,
            ),
        };
        let symbol_w = cols * module_w + 2 * quiet_x;
        let symbol_h = rows * module_h + 2 * quiet_y;

        let texts = caption_lines(caption)?;
        let mut lines = Vec::with_capacity(texts.len());
        let mut top = symbol_h;
        let mut text_w = 0;
        for (i, text) in texts.into_iter().enumerate() {
            let scale = if i == 0 {
                FIRST_LINE_SCALE
            } else {
                OTHER_LINE_SCALE
            };
            let chars = text.chars().count() as u32;
            let line_w = (chars * GLYPH_ADVANCE).saturating_sub(GLYPH_ADVANCE - GLYPH_W) * scale;
            text_w = text_w.max(line_w);
            lines.push(CaptionLine {
                text,
                scale,
                left: line_w,
                top,
            });
            top += (GLYPH_H + 3) * scale;
        }
        let width = symbol_w.max(text_w + 2 * SIDE_MARGIN_PX);
        let height = if lines.is_empty() {
            symbol_h
        } else {
            top + BOTTOM_MARGIN_PX
        };
        for line in &mut lines {
            // `left` held the line's width until the canvas width was known.
            line.left = (width - line.left) / 2;
        }
        let origin = ((width - symbol_w) / 2 + quiet_x, quiet_y);
        Ok(Layout {
            modules,
            cols,
            module_w,
            module_h,
            origin,
            lines,
            width,
            height,
        })
    }

    /// Dark rectangles `(x, y, w, h)`, one per horizontal run of dark modules.
    fn dark_runs(&self) -> impl Iterator<Item = (u32, u32, u32, u32)> + '_ {
        let cols = self.cols as usize;
        self.modules
            .chunks(cols.max(1))
            .enumerate()
            .flat_map(move |(row, bits)| {
                let mut runs = Vec::new();
                let mut col = 0;
                while col < bits.len() {
                    if !bits[col] {
                        col += 1;
                        continue;
                    }
                    let start = col;
                    while col < bits.len() && bits[col] {
                        col += 1;
                    }
                    runs.push((
                        self.origin.0 + start as u32 * self.module_w,
                        self.origin.1 + row as u32 * self.module_h,
                        (col - start) as u32 * self.module_w,
                        self.module_h,
                    ));
                }
                runs
            })
    }
}

/// Encodes `code` with rxing at one pixel per module and no margin; quiet zones are added by `Layout`.
/// The dark modules of `code`'s barcode, row-major, with its columns and rows (no quiet zone).
pub fn encode_modules(
    code: &str,
    symbology: LabelSymbology,
) -> Result<(Vec<bool>, u32, u32), RenderError> {
    if code.is_empty() {
        return Err(RenderError::Encode("the code is empty".into()));
    }
    let mut hints = EncodeHints {
        Margin: Some("0".into()),
        ..Default::default()
    };
    let format = match symbology {
        LabelSymbology::Qr => {
            if code.len() > QR_MAX_BYTES {
                return Err(RenderError::Encode(format!(
                    "longer than {QR_MAX_BYTES} bytes"
                )));
            }
            hints.ErrorCorrection = Some("M".into());
            BarcodeFormat::QR_CODE
        }
        LabelSymbology::Code128 => {
            // rxing maps some non-ASCII chars to FNC codes; a label only ever wants printable ASCII.
            if let Some(bad) = code.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(RenderError::Encode(format!(
                    "Code 128 cannot carry {bad:?}"
                )));
            }
            BarcodeFormat::CODE_128
        }
    };
    let matrix = MultiFormatWriter
        .encode_with_hints(code, &format, 0, 0, &hints)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    let (cols, rows) = (matrix.width(), matrix.height());
    let modules = (0..rows)
        .flat_map(|y| (0..cols).map(move |x| (x, y)))
        .map(|(x, y)| matrix.get(x, y))
        .collect();
    Ok((modules, cols, rows))
}

/// Splits the caption into printable lines, dropping control characters and blank edges.
fn caption_lines(caption: &str) -> Result<Vec<String>, RenderError> {
    let lines: Vec<String> = caption
        .trim()
        .lines()
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .collect();
    let lines: Vec<String> = if lines.iter().all(String::is_empty) {
        Vec::new()
    } else {
        lines
    };
    if lines.len() > MAX_CAPTION_LINES {
        return Err(RenderError::Caption(format!(
            "more than {MAX_CAPTION_LINES} lines"
        )));
    }
    if lines
        .iter()
        .any(|l| l.chars().count() > MAX_CAPTION_LINE_CHARS)
    {
        return Err(RenderError::Caption(format!(
            "a line is longer than {MAX_CAPTION_LINE_CHARS} characters"
        )));
    }
    Ok(lines)
}

fn fill(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Luma([0]));
        }
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

const GLYPH_W: u32 = 5;
const GLYPH_H: u32 = 7;
const GLYPH_ADVANCE: u32 = GLYPH_W + 1;

/// 5x7 bitmap of `ch`, one byte per row with the leftmost pixel in bit 4; lowercase is drawn as
/// uppercase and anything unknown as '?'.
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        '0' => [
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ],
        '1' => [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        '2' => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        '3' => [
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ],
        '4' => [
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ],
        '5' => [
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ],
        '6' => [
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ],
        '7' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ],
        '8' => [
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ],
        '9' => [
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ],
        'A' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001,
        ],
        'B' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110,
        ],
        'C' => [
            0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110,
        ],
        'D' => [
            0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100,
        ],
        'E' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111,
        ],
        'F' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'G' => [
            0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111,
        ],
        'H' => [
            0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'I' => [
            0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        'J' => [
            0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100,
        ],
        'K' => [
            0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001,
        ],
        'L' => [
            0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111,
        ],
        'M' => [
            0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001,
        ],
        'N' => [
            0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001,
        ],
        'O' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'P' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'Q' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101,
        ],
        'R' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001,
        ],
        'S' => [
            0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110,
        ],
        'T' => [
            0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100,
        ],
        'U' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'V' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100,
        ],
        'W' => [
            0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010,
        ],
        'X' => [
            0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001,
        ],
        'Y' => [
            0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100,
        ],
        'Z' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111,
        ],
        ' ' => [0; 7],
        '-' => [
            0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000,
        ],
        '_' => [
            0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111,
        ],
        '.' => [
            0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100,
        ],
        ',' => [
            0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000,
        ],
        ':' => [
            0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000,
        ],
        '/' => [
            0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000,
        ],
        '#' => [
            0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010,
        ],
        '(' => [
            0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010,
        ],
        ')' => [
            0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000,
        ],
        '\'' => [
            0b01100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000,
        ],
        '!' => [
            0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100,
        ],
        '+' => [
            0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000,
        ],
        '&' => [
            0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101,
        ],
        _ => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOOR: &str = "D7K3QX9M2PAF";
    const CAPTION: &str = "D7K3-QX9M-2PAF\nDoorstep";

    fn decode_png(png: &[u8], format: BarcodeFormat) -> String {
        let img = image::load_from_memory(png).expect("valid PNG").to_luma8();
        let (w, h) = img.dimensions();
        rxing::helpers::detect_in_luma(img.into_raw(), w, h, Some(format))
            .expect("decodes")
            .getText()
            .to_owned()
    }

    #[test]
    fn qr_png_decodes_to_the_code() {
        let png = render_png(DOOR, CAPTION, LabelSymbology::Qr).expect("test label renders");
        assert_eq!(decode_png(&png, BarcodeFormat::QR_CODE), DOOR);
    }

    #[test]
    fn code128_png_decodes_to_the_code() {
        let png = render_png(DOOR, CAPTION, LabelSymbology::Code128).expect("test label renders");
        assert_eq!(decode_png(&png, BarcodeFormat::CODE_128), DOOR);
    }

    #[test]
    fn qr_carries_non_ascii_text() {
        let png = render_png("Zoë 🙂", "", LabelSymbology::Qr).expect("test label renders");
        assert_eq!(decode_png(&png, BarcodeFormat::QR_CODE), "Zoë 🙂");
    }

    #[test]
    fn png_is_grayscale_and_keeps_the_quiet_zone() {
        let png = render_png(DOOR, CAPTION, LabelSymbology::Qr).expect("test label renders");
        let img = image::load_from_memory(&png).expect("test label renders");
        assert_eq!(img.color(), image::ColorType::L8);
        let img = img.to_luma8();
        let quiet = QR_QUIET_MODULES * QR_MODULE_PX;
        assert!((0..img.width()).all(|x| (0..quiet).all(|y| img.get_pixel(x, y).0[0] == 255)));
    }

    #[test]
    fn empty_caption_leaves_only_the_symbol() {
        let png = render_png(DOOR, "  \n ", LabelSymbology::Qr).expect("test label renders");
        let img = image::load_from_memory(&png).expect("test label renders");
        // 21 modules (version 1) plus 4 quiet modules each side, 8 px apiece.
        assert_eq!((img.width(), img.height()), (29 * 8, 29 * 8));
    }

    #[test]
    fn svg_is_well_formed_looking_and_crisp() {
        for symbology in [LabelSymbology::Qr, LabelSymbology::Code128] {
            let svg = render_svg(DOOR, CAPTION, symbology).expect("test label renders");
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            assert!(svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("shape-rendering=\"crispEdges\""));
            assert!(svg.contains(">D7K3-QX9M-2PAF</text>") && svg.contains(">Doorstep</text>"));
            assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
            assert_eq!(svg.matches('<').count(), svg.matches('>').count());
            let layout = Layout::new(DOOR, CAPTION, symbology).expect("test label renders");
            assert!(svg.contains(&format!(
                "viewBox=\"0 0 {} {}\"",
                layout.width, layout.height
            )));
        }
    }

    #[test]
    fn svg_merges_horizontal_runs() {
        let svg = render_svg(DOOR, "", LabelSymbology::Qr).expect("test label renders");
        // A finder pattern's top edge is one 7-module run.
        assert!(svg.contains(&format!(
            "width=\"{}\" height=\"{}\"",
            7 * QR_MODULE_PX,
            QR_MODULE_PX
        )));
        let dark: usize = Layout::new(DOOR, "", LabelSymbology::Qr)
            .expect("test label renders")
            .modules
            .iter()
            .filter(|&&m| m)
            .count();
        assert!(svg.matches("<rect").count() < dark / 2);
    }

    #[test]
    fn svg_escapes_the_caption() {
        let svg = render_svg(DOOR, "Tom & Jerry's <door> \"2F\"", LabelSymbology::Qr)
            .expect("test label renders");
        assert!(svg.contains("Tom &amp; Jerry&apos;s &lt;door&gt; &quot;2F&quot;"));
        assert!(!svg.contains("<door>"));
    }

    #[test]
    fn unencodable_input_is_an_error() {
        for symbology in [LabelSymbology::Qr, LabelSymbology::Code128] {
            assert!(matches!(
                render_png("", CAPTION, symbology),
                Err(RenderError::Encode(_))
            ));
            assert!(matches!(
                render_svg("", CAPTION, symbology),
                Err(RenderError::Encode(_))
            ));
        }
        for bad in ["D7K3QX9M2PAÉ", "tab\there", "ñ", "\u{f1}\u{f2}"] {
            assert!(matches!(
                render_png(bad, "", LabelSymbology::Code128),
                Err(RenderError::Encode(_))
            ));
        }
        assert!(render_png(&"D".repeat(81), "", LabelSymbology::Code128).is_err());
        assert!(render_png(&"D".repeat(QR_MAX_BYTES + 1), "", LabelSymbology::Qr).is_err());
    }

    #[test]
    fn oversized_caption_is_an_error() {
        assert!(matches!(
            render_png(DOOR, &"W".repeat(41), LabelSymbology::Qr),
            Err(RenderError::Caption(_))
        ));
        assert!(matches!(
            render_svg(DOOR, "a\nb\nc\nd\ne", LabelSymbology::Qr),
            Err(RenderError::Caption(_))
        ));
    }

    #[test]
    fn symbology_deserialises_from_lowercase() {
        #[derive(serde::Deserialize, utoipa::ToSchema)]
        struct Q {
            symbology: LabelSymbology,
        }
        let q: Q = serde_json::from_str(r#"{"symbology":"code128"}"#).expect("test label renders");
        assert_eq!(q.symbology, LabelSymbology::Code128);
        assert_eq!(LabelSymbology::default(), LabelSymbology::Qr);
    }
}
