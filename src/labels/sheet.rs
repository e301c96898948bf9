//! A4 label sheets: 3 x 8 cells, each a QR Code, the code in readable groups and the company name.

use crate::pdf::{Layout, PdfError, MM};

use super::render::{encode_modules, LabelSymbology, RenderError};

/// Columns and rows of a sheet (the common 3 x 8 A4 label stock, 70 x 37 mm cells).
pub const COLUMNS: usize = 3;
/// Rows of a sheet.
pub const ROWS: usize = 8;
/// Cells on one page.
pub const PER_PAGE: usize = COLUMNS * ROWS;

const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const CELL_W: f32 = PAGE_W / COLUMNS as f32;
const CELL_H: f32 = PAGE_H / ROWS as f32;
/// One QR module: 21 modules of 1.1 mm print at 200 dpi as 8.7 px, far above any phone's need.
const MODULE: f32 = 1.1 * MM;
const QUIET_MODULES: f32 = 4.0;

/// One cell of a sheet: the code in the symbol and the lines printed beside it.
pub struct Cell {
    /// What the QR Code carries.
    pub code: String,
    /// The code as people read it (`D7K3-QX9M-2PAF`).
    pub grouped: String,
}

/// Why a sheet could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// A code could not be encoded.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The PDF could not be written.
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// Where cell `i` of a page starts (top-left corner, points).
pub fn cell_origin(i: usize) -> (f32, f32) {
    let (row, col) = (i / COLUMNS, i % COLUMNS);
    (col as f32 * CELL_W, row as f32 * CELL_H)
}

/// The sheet as a PDF: as many A4 pages as the cells need, filled row by row.
pub fn render(company: &str, heading: &str, cells: &[Cell]) -> Result<Vec<u8>, SheetError> {
    let mut doc = Layout::new(PAGE_W, PAGE_H, 0.0)?;
    for (n, cell) in cells.iter().enumerate() {
        let i = n % PER_PAGE;
        if i == 0 && n > 0 {
            doc.new_page();
        }
        let (x0, y0) = cell_origin(i);
        let (modules, cols, rows) = encode_modules(&cell.code, LabelSymbology::Qr)?;
        let symbol = cols as f32 * MODULE;
        let quiet = QUIET_MODULES * MODULE;
        let sx = x0 + 1.5 * MM + quiet;
        let sy = y0 + (CELL_H - rows as f32 * MODULE) / 2.0;
        for r in 0..rows {
            // Runs of dark modules in a row as one rectangle each: fewer paths, no hairline gaps.
            let mut c = 0;
            while c < cols {
                if !modules[(r * cols + c) as usize] {
                    c += 1;
                    continue;
                }
                let start = c;
                while c < cols && modules[(r * cols + c) as usize] {
                    c += 1;
                }
                doc.rect(
                    sx + start as f32 * MODULE,
                    sy + r as f32 * MODULE,
                    (c - start) as f32 * MODULE,
                    MODULE,
                );
            }
        }
        let tx = sx + symbol + quiet * 0.6;
        let width = x0 + CELL_W - 2.0 * MM - tx;
        let mut y = y0 + CELL_H / 2.0 - 6.0 * MM;
        for line in doc.wrap(company, 8.0, width).into_iter().take(2) {
            doc.text_at(tx, y, 8.0, &line);
            y += 10.0;
        }
        let code_size = 11.0;
        let fitted = doc.fit(&cell.grouped, code_size, width);
        doc.text_at(tx, y0 + CELL_H / 2.0 + 5.0 * MM, code_size, &fitted);
        let line = doc.fit(heading, 7.0, width);
        doc.text_at(tx, y0 + CELL_H / 2.0 + 10.0 * MM, 7.0, &line);
    }
    Ok(doc.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_fill_rows_left_to_right() {
        assert_eq!(cell_origin(0), (0.0, 0.0));
        let (x, y) = cell_origin(4);
        assert!((x - CELL_W).abs() < 0.01 && (y - CELL_H).abs() < 0.01);
        let (_, y) = cell_origin(23);
        assert!((y - 7.0 * CELL_H).abs() < 0.01);
    }

    #[test]
    fn a_quiet_zone_and_the_symbol_fit_in_a_cell() {
        let (_, cols, rows) =
            encode_modules("D00DEM0000AN", LabelSymbology::Qr).expect("a short code encodes");
        let side = (cols as f32 + 2.0 * QUIET_MODULES) * MODULE;
        assert!(side < CELL_H, "{side} pt in a {CELL_H} pt cell");
        assert_eq!(cols, rows);
    }

    #[test]
    fn a_sheet_is_a_pdf_that_grows_with_its_cells() {
        if crate::pdf::font().is_none() {
            return; // no font on this machine; the integration tests need one
        }
        let cells: Vec<Cell> = (0..25)
            .map(|_| Cell {
                code: "D00DEM0000AN".into(),
                grouped: "D00D-EM00-00AN".into(),
            })
            .collect();
        let pdf = render("Doorstep Laundry", "door label", &cells).expect("the sheet renders");
        let one = render("Doorstep Laundry", "door label", &cells[..1]).expect("the sheet renders");
        assert!(pdf.starts_with(b"%PDF"));
        assert!(pdf.len() > one.len());
    }
}
