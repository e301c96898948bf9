//! PDF documents that print Chinese: a system CJK font embedded and subset (krilla), simple page layout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use rustybuzz::ttf_parser;

/// Fonts tried in order when no `--pdf-font` is set: Noto Sans CJK and WenQuanYi (Debian's `fonts-noto-cjk`,
/// `fonts-wqy-microhei`), then DejaVu Sans, which has no Chinese but keeps Latin receipts readable.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

/// The font PDFs are set in, found once.
pub struct PdfFont {
    font: Font,
    data: Arc<Vec<u8>>,
    index: u32,
    /// Whether it has Chinese characters (else Chinese text prints as boxes and the PDF says so).
    pub cjk: bool,
    /// Where it was read from.
    pub path: PathBuf,
}

static FONT: OnceLock<Option<PdfFont>> = OnceLock::new();
static FONT_PATH: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Sets the font file to use (`--pdf-font`); call before the first PDF is made.
pub fn configure(path: Option<PathBuf>) {
    let _ = FONT_PATH.set(path);
}

/// The face of a collection that is Simplified Chinese when there is one (Noto's SC face, say), else the first.
fn pick_face(data: &[u8]) -> u32 {
    let faces = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    for index in 0..faces {
        let Ok(face) = ttf_parser::Face::parse(data, index) else {
            continue;
        };
        let simplified = face.names().into_iter().any(|n| {
            n.name_id == ttf_parser::name_id::FAMILY
                && n.to_string().is_some_and(|s| {
                    s.ends_with(" SC") || s.contains("Simplified") || s.contains("GB")
                })
                && !n.to_string().is_some_and(|s| s.contains("Mono"))
        });
        if simplified {
            return index;
        }
    }
    0
}

fn load(path: &Path) -> Option<PdfFont> {
    let data = std::fs::read(path).ok()?;
    let index = pick_face(&data);
    let cjk = ttf_parser::Face::parse(&data, index)
        .ok()?
        .glyph_index('洗')
        .is_some();
    let data = Arc::new(data);
    let font = Font::new(data.clone().into(), index)?;
    Some(PdfFont {
        font,
        data,
        index,
        cjk,
        path: path.to_owned(),
    })
}

/// The configured font, else the first candidate that loads; `None` when the machine has none.
pub fn font() -> Option<&'static PdfFont> {
    FONT.get_or_init(|| {
        let configured = FONT_PATH.get().cloned().flatten();
        let found = configured
            .iter()
            .map(PathBuf::as_path)
            .chain(CANDIDATES.iter().map(Path::new))
            .find_map(load);
        match &found {
            Some(f) => tracing::info!(path = %f.path.display(), cjk = f.cjk, "PDF font"),
            None => tracing::warn!("no PDF font found: install fonts-noto-cjk or set --pdf-font"),
        }
        found
    })
    .as_ref()
}

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No font file could be read.
    #[error("no font for PDFs on this server: install fonts-noto-cjk or set --pdf-font")]
    NoFont,
    /// The PDF writer failed.
    #[error("writing the PDF: {0}")]
    Write(String),
}

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;

/// A document being laid out top to bottom, page by page, in points from the top-left corner.
pub struct Layout {
    doc: Document,
    font: &'static PdfFont,
    face: ttf_parser::Face<'static>,
    width: f32,
    height: f32,
    margin: f32,
    ops: Vec<Op>,
    /// The current line's baseline, from the top.
    pub y: f32,
}

enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

impl Layout {
    /// A document with pages of `width` x `height` points and `margin` on every side.
    pub fn new(width: f32, height: f32, margin: f32) -> Result<Layout, PdfError> {
        let font = font().ok_or(PdfError::NoFont)?;
        let data: &'static [u8] = font.data.as_slice();
        let face = ttf_parser::Face::parse(data, font.index)
            .map_err(|e| PdfError::Write(e.to_string()))?;
        Ok(Layout {
            doc: Document::new(),
            font,
            face,
            width,
            height,
            margin,
            ops: Vec::new(),
            y: margin,
        })
    }

    /// Whether the font prints Chinese.
    pub fn cjk(&self) -> bool {
        self.font.cjk
    }

    /// The usable width between the margins.
    pub fn inner_width(&self) -> f32 {
        self.width - 2.0 * self.margin
    }

    /// The left margin.
    pub fn left(&self) -> f32 {
        self.margin
    }

    /// The right edge of the usable area.
    pub fn right(&self) -> f32 {
        self.width - self.margin
    }

    /// The page height.
    pub fn height(&self) -> f32 {
        self.height
    }

    /// How wide `text` is at `size` points.
    pub fn width_of(&self, text: &str, size: f32) -> f32 {
        let upem = f32::from(self.face.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map_or(upem / 2.0, f32::from)
            })
            .sum();
        units / upem * size
    }

    /// Cuts `text` so it fits in `max` points, ending it with "…" when cut.
    pub fn fit(&self, text: &str, size: f32, max: f32) -> String {
        if self.width_of(text, size) <= max {
            return text.to_owned();
        }
        let mut out = String::new();
        for c in text.chars() {
            out.push(c);
            if self.width_of(&out, size) + self.width_of("…", size) > max {
                out.pop();
                break;
            }
        }
        out.push('…');
        out
    }

    /// Breaks `text` into lines no wider than `max` points (at spaces where it can, anywhere in Chinese).
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut last_space: Option<usize> = None;
            for c in para.chars() {
                line.push(c);
                if c == ' ' {
                    last_space = Some(line.len());
                }
                if self.width_of(&line, size) > max && line.chars().count() > 1 {
                    match last_space.filter(|&i| i < line.len()) {
                        Some(i) => {
                            let rest = line.split_off(i);
                            lines.push(line.trim_end().to_owned());
                            line = rest;
                        }
                        None => {
                            let last = line.pop().unwrap_or(' ');
                            lines.push(line);
                            line = last.to_string();
                        }
                    }
                    last_space = None;
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Draws `text` with its left edge at `x` on the current line.
    pub fn text(&mut self, x: f32, size: f32, text: &str) {
        self.text_at(x, self.y, size, text);
    }

    /// Draws `text` with its left edge at `x` and baseline at `y` (from the top).
    pub fn text_at(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        self.ops.push(Op::Text {
            x,
            y,
            size,
            text: clean,
        });
    }

    /// Draws `text` ending at `x_right` on the current line (numbers in columns).
    pub fn text_right(&mut self, x_right: f32, size: f32, text: &str) {
        let x = x_right - self.width_of(text, size);
        self.text(x, size, text);
    }

    /// Draws `text` centred on `x` at baseline `y`.
    pub fn text_centred(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let w = self.width_of(text, size);
        self.text_at(x - w / 2.0, y, size, text);
    }

    /// A filled black rectangle (rules, barcode modules), in points from the top-left.
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.ops.push(Op::Rect { x, y, w, h });
    }

    /// A thin rule across the usable width under the current line.
    pub fn rule(&mut self) {
        let y = self.y + 3.0;
        self.rect(self.margin, y, self.inner_width(), 0.6);
    }

    /// Moves down by `points`, starting a new page when the next line would not fit.
    pub fn down(&mut self, points: f32) {
        self.y += points;
        if self.y > self.height - self.margin {
            self.new_page();
        }
    }

    /// Ends the current page and starts another.
    pub fn new_page(&mut self) {
        self.flush();
        self.y = self.margin;
    }

    fn flush(&mut self) {
        if self.ops.is_empty() {
            return;
        }
        let Some(settings) = PageSettings::from_wh(self.width, self.height) else {
            return;
        };
        let mut page = self.doc.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(Fill {
            paint: rgb::Color::new(0, 0, 0).into(),
            opacity: NormalizedF32::ONE,
            rule: FillRule::default(),
        }));
        for op in self.ops.drain(..) {
            match op {
                Op::Text { x, y, size, text } => surface.draw_text(
                    Point::from_xy(x, y),
                    self.font.font.clone(),
                    size,
                    &text,
                    false,
                    TextDirection::Auto,
                ),
                Op::Rect { x, y, w, h } => {
                    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        if let Some(path) = pb.finish() {
                            surface.draw_path(&path);
                        }
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }

    /// Finishes the document.
    pub fn finish(mut self) -> Result<Vec<u8>, PdfError> {
        if self.ops.is_empty() && self.y == self.margin {
            // An empty document still gets one page.
            self.rect(0.0, 0.0, 0.0, 0.0);
        }
        self.flush();
        self.doc
            .finish()
            .map_err(|e| PdfError::Write(format!("{e:?}")))
    }
}
