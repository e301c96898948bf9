//! The printable storage receipt: an HTML page (every customer text escaped) and a PDF in standard Helvetica.

use std::fmt::Write as _;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::OrderView;
use crate::domain::money::money;

/// The sentence every receipt carries, word for word, in both formats.
pub const LIABILITY: &str =
    "Our liability for each item is limited to the value declared for it on this receipt.";

/// Printed in the PDF when some text was outside what its font can show.
pub const SUBSTITUTED: &str =
    "Characters this PDF's font cannot show (e.g. Chinese) are printed as ?; the HTML receipt shows them in full.";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rate in basis points as a percentage: 150 is "1.50 %".
pub fn percent(bp: i32) -> String {
    format!("{}.{:02} %", bp / 100, bp % 100)
}

/// The zone and place of an item as the receipt prints it.
fn place(item: &super::ItemView) -> String {
    if item.position.is_empty() {
        item.zone_name.clone()
    } else {
        format!("{} / {}", item.zone_name, item.position)
    }
}

/// The receipt as a self-contained HTML page, ready to print.
pub fn html(order: &OrderView) -> String {
    let e = |s: &str| escape(s);
    let mut rows = String::new();
    for (i, item) in order.items.iter().enumerate() {
        let _ = writeln!(
            rows,
            "<tr><td>{n}</td><td>{desc}{tag}</td><td>{place}</td><td class=\"num\">{declared}</td>\
             <td class=\"num\">{fee}</td><td class=\"num\">{premium}</td></tr>",
            n = i + 1,
            desc = e(&item.description),
            tag = item
                .tag_code
                .as_deref()
                .map(|t| format!("<br><small>tag {}</small>", e(t)))
                .unwrap_or_default(),
            place = e(&place(item)),
            declared = money(item.declared_cents),
            fee = money(item.fee_cents),
            premium = money(item.premium_cents),
        );
    }
    let optional = |label: &str, value: &str| {
        if value.trim().is_empty() {
            String::new()
        } else {
            format!("<dt>{}</dt><dd>{}</dd>", e(label), e(value))
        }
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Storage receipt {receipt}</title>
<style>
body {{ font-family: "Helvetica Neue", Helvetica, Arial, "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 2em; color: #111; }}
h1 {{ font-size: 1.4em; margin-bottom: 0.2em; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }}
dt {{ font-weight: bold; }} dd {{ margin: 0; }}
table {{ border-collapse: collapse; width: 100%; margin: 1em 0; }}
th, td {{ border-bottom: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }}
.num {{ text-align: right; white-space: nowrap; }}
tfoot td {{ font-weight: bold; border-top: 2px solid #111; }}
.liability {{ font-weight: bold; border: 1px solid #111; padding: 0.5em; }}
.sign {{ margin-top: 3em; display: flex; gap: 4em; }} .sign div {{ border-top: 1px solid #111; padding-top: 0.3em; width: 14em; }}
@media print {{ body {{ margin: 0; }} }}
</style>
</head>
<body>
<h1>Storage receipt {receipt}</h1>
<dl>
<dt>Customer</dt><dd>{name}</dd>
{phone}{address}<dt>Accepted</dt><dd>{accepted} by {staff}</dd>
<dt>Status</dt><dd>{status}</dd>
<dt>Term</dt><dd>{term} months, to {term_ends}</dd>
<dt>Planned return</dt><dd>{planned}</dd>
{booked}<dt>Insurance rate</dt><dd>{rate} of declared value</dd>
{preference}{notes}</dl>
<table>
<thead><tr><th>#</th><th>Item</th><th>Zone / place</th><th class="num">Declared value</th><th class="num">Storage fee</th><th class="num">Insurance premium</th></tr></thead>
<tbody>
{rows}</tbody>
<tfoot><tr><td></td><td>{count} items</td><td></td><td class="num">{declared}</td><td class="num">{fee}</td><td class="num">{premium}</td></tr>
<tr><td></td><td colspan="4">Total due (fee and premium)</td><td class="num">{total}</td></tr></tfoot>
</table>
<p class="liability">{liability}</p>
<div class="sign"><div>Customer</div><div>For the company</div></div>
</body>
</html>
"#,
        receipt = e(&order.receipt_no),
        name = e(&order.customer_name),
        phone = optional("Phone", order.customer_phone.as_deref().unwrap_or("")),
        address = optional("Address", order.customer_address.as_deref().unwrap_or("")),
        accepted = order.accepted_on,
        staff = e(&order.created_by_name),
        status = order.status.label(),
        term = order.term_months,
        term_ends = order.term_ends_on,
        planned = order.planned_return_on,
        booked = order
            .delivery_booked_for
            .map(|d| format!("<dt>Return delivery</dt><dd>{d}</dd>\n"))
            .unwrap_or_default(),
        rate = percent(order.insurance_rate_bp),
        preference = optional("Delivery preference", &order.delivery_preference),
        notes = optional("Notes", &order.notes),
        count = order.items.len(),
        declared = money(order.declared_cents),
        fee = money(order.fee_cents),
        premium = money(order.premium_cents),
        total = money(order.total_cents),
        liability = LIABILITY,
    )
}

/// Text in the PDF's font encoding (WinAnsi); characters it lacks become `?`, control characters spaces.
/// Returns whether anything was substituted.
pub fn win_ansi(text: &str) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(text.len());
    let mut substituted = false;
    for c in text.chars() {
        let byte = match c {
            ' '..='~' => c as u8,
            c if c.is_control() => b' ',
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            _ => {
                substituted = true;
                b'?'
            }
        };
        out.push(byte);
    }
    (out, substituted)
}

/// Helvetica advance widths (1/1000 em) for WinAnsi 32..=126, from the standard font metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/// Width of WinAnsi text in points at `size` (bytes beyond ASCII count as an average letter).
fn width(text: &[u8], size: f32) -> f32 {
    let units: u32 = text
        .iter()
        .map(|&b| match b {
            32..=126 => u32::from(HELVETICA[usize::from(b - 32)]),
            _ => 556,
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Breaks encoded text into lines no wider than `max` points, at spaces where it can.
fn wrap(text: &[u8], size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than the column is broken wherever it must be.
        for &b in word {
            line.push(b);
            if width(&line, size) > max && line.len() > 1 {
                let last = line.pop().unwrap_or(b' ');
                lines.push(std::mem::replace(&mut line, vec![last]));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const SIZE: f32 = 9.5;
const LEAD: f32 = 12.5;

/// Table columns: left edge of each text column, and right edges of the three money columns.
const COL_NO: f32 = MARGIN;
const COL_DESC: f32 = MARGIN + 24.0;
const DESC_W: f32 = 196.0;
const COL_PLACE: f32 = COL_DESC + DESC_W + 8.0;
const PLACE_W: f32 = 112.0;
const RIGHT_DECLARED: f32 = 420.0;
const RIGHT_FEE: f32 = 487.0;
const RIGHT_PREMIUM: f32 = PAGE_W - MARGIN;

/// Lays out pages of text; starts a new page when the current one is full.
struct Writer {
    pages: Vec<Content>,
    y: f32,
    substituted: bool,
    title: Vec<u8>,
}

impl Writer {
    fn new(title: Vec<u8>) -> Self {
        let mut w = Writer {
            pages: Vec::new(),
            y: 0.0,
            substituted: false,
            title,
        };
        w.new_page();
        w
    }

    fn new_page(&mut self) {
        let mut c = Content::new();
        let n = self.pages.len() + 1;
        c.begin_text();
        c.set_font(Name(b"F1"), 8.0);
        c.next_line(MARGIN, 24.0);
        let mut footer = self.title.clone();
        footer.extend_from_slice(format!("  -  page {n}").as_bytes());
        c.show(Str(&footer));
        c.end_text();
        self.pages.push(c);
        self.y = PAGE_H - MARGIN;
    }

    /// Makes room for `lines` lines, starting a page if they do not fit.
    fn need(&mut self, lines: usize) {
        if self.y - lines as f32 * LEAD < MARGIN + 20.0 {
            self.new_page();
        }
    }

    fn content(&mut self) -> &mut Content {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn encode(&mut self, text: &str) -> Vec<u8> {
        let (bytes, substituted) = win_ansi(text);
        self.substituted |= substituted;
        bytes
    }

    fn text_at(&mut self, x: f32, y: f32, bold: bool, size: f32, bytes: &[u8]) {
        let font = if bold { Name(b"F2") } else { Name(b"F1") };
        let c = self.content();
        c.begin_text();
        c.set_font(font, size);
        c.next_line(x, y);
        c.show(Str(bytes));
        c.end_text();
    }

    fn right_at(&mut self, right: f32, y: f32, bold: bool, text: &str) {
        let bytes = self.encode(text);
        let x = right - width(&bytes, SIZE);
        self.text_at(x, y, bold, SIZE, &bytes);
    }

    /// A paragraph across the page, wrapped.
    fn paragraph(&mut self, text: &str, bold: bool) {
        let bytes = self.encode(text);
        for line in wrap(&bytes, SIZE, PAGE_W - 2.0 * MARGIN) {
            self.need(1);
            let y = self.y;
            self.text_at(MARGIN, y, bold, SIZE, &line);
            self.y -= LEAD;
        }
    }

    /// A label and its value, the value wrapped beside the label.
    fn field(&mut self, label: &str, value: &str) {
        let bytes = self.encode(value);
        let lines = wrap(&bytes, SIZE, PAGE_W - 2.0 * MARGIN - 110.0);
        self.need(lines.len());
        let y = self.y;
        let label = self.encode(label);
        self.text_at(MARGIN, y, true, SIZE, &label);
        for line in lines {
            let y = self.y;
            self.text_at(MARGIN + 110.0, y, false, SIZE, &line);
            self.y -= LEAD;
        }
    }

    fn rule(&mut self, weight: f32) {
        let y = self.y + LEAD - 3.0;
        let c = self.content();
        c.set_line_width(weight);
        c.move_to(MARGIN, y);
        c.line_to(PAGE_W - MARGIN, y);
        c.stroke();
    }

    fn table_header(&mut self) {
        self.need(2);
        let y = self.y;
        for (x, label) in [
            (COL_NO, "#"),
            (COL_DESC, "Item"),
            (COL_PLACE, "Zone / place"),
        ] {
            self.text_at(x, y, true, SIZE, label.as_bytes());
        }
        self.right_at(RIGHT_DECLARED, y, true, "Declared");
        self.right_at(RIGHT_FEE, y, true, "Fee");
        self.right_at(RIGHT_PREMIUM, y, true, "Premium");
        self.y -= LEAD;
        self.rule(0.8);
    }
}

/// The receipt as a PDF: A4 pages in Helvetica (not embedded, one of the standard 14 fonts every reader has).
/// Helvetica covers Western European text only; anything else prints as `?` with a note saying so.
pub fn pdf(order: &OrderView) -> Vec<u8> {
    let title = format!("Storage receipt {}", order.receipt_no);
    let (title_bytes, _) = win_ansi(&title);
    let mut w = Writer::new(title_bytes.clone());
    let y = w.y;
    w.text_at(MARGIN, y, true, 16.0, &title_bytes);
    w.y -= 2.0 * LEAD;
    w.field("Customer", &order.customer_name);
    if let Some(phone) = order.customer_phone.as_deref().filter(|p| !p.is_empty()) {
        w.field("Phone", phone);
    }
    if let Some(address) = order.customer_address.as_deref().filter(|a| !a.is_empty()) {
        w.field("Address", address);
    }
    w.field(
        "Accepted",
        &format!("{} by {}", order.accepted_on, order.created_by_name),
    );
    w.field("Status", order.status.label());
    w.field(
        "Term",
        &format!("{} months, to {}", order.term_months, order.term_ends_on),
    );
    w.field("Planned return", &order.planned_return_on.to_string());
    if let Some(day) = order.delivery_booked_for {
        w.field("Return delivery", &day.to_string());
    }
    w.field(
        "Insurance rate",
        &format!("{} of declared value", percent(order.insurance_rate_bp)),
    );
    if !order.delivery_preference.trim().is_empty() {
        w.field("Delivery preference", &order.delivery_preference);
    }
    if !order.notes.trim().is_empty() {
        w.field("Notes", &order.notes);
    }
    w.y -= LEAD;
    w.table_header();
    for (i, item) in order.items.iter().enumerate() {
        let mut desc = item.description.clone();
        if let Some(tag) = &item.tag_code {
            desc.push_str(&format!(" (tag {tag})"));
        }
        let desc = w.encode(&desc);
        let place = w.encode(&place(item));
        let desc_lines = wrap(&desc, SIZE, DESC_W);
        let place_lines = wrap(&place, SIZE, PLACE_W);
        let height = desc_lines.len().max(place_lines.len());
        if w.y - height as f32 * LEAD < MARGIN + 20.0 {
            w.new_page();
            w.table_header();
        }
        let top = w.y;
        w.text_at(COL_NO, top, false, SIZE, (i + 1).to_string().as_bytes());
        for (k, line) in desc_lines.iter().enumerate() {
            w.text_at(COL_DESC, top - k as f32 * LEAD, false, SIZE, line);
        }
        for (k, line) in place_lines.iter().enumerate() {
            w.text_at(COL_PLACE, top - k as f32 * LEAD, false, SIZE, line);
        }
        w.right_at(RIGHT_DECLARED, top, false, &money(item.declared_cents));
        w.right_at(RIGHT_FEE, top, false, &money(item.fee_cents));
        w.right_at(RIGHT_PREMIUM, top, false, &money(item.premium_cents));
        w.y = top - height as f32 * LEAD - 2.0;
    }
    w.need(3);
    w.y -= 2.0;
    w.rule(1.2);
    let y = w.y;
    let count = format!("{} items", order.items.len());
    w.text_at(COL_DESC, y, true, SIZE, count.as_bytes());
    w.right_at(RIGHT_DECLARED, y, true, &money(order.declared_cents));
    w.right_at(RIGHT_FEE, y, true, &money(order.fee_cents));
    w.right_at(RIGHT_PREMIUM, y, true, &money(order.premium_cents));
    w.y -= LEAD;
    let y = w.y;
    w.text_at(
        COL_DESC,
        y,
        true,
        SIZE,
        b"Total due (storage fee and insurance premium)",
    );
    w.right_at(RIGHT_PREMIUM, y, true, &money(order.total_cents));
    w.y -= 2.0 * LEAD;
    w.paragraph(LIABILITY, true);
    w.y -= 3.0 * LEAD;
    w.need(2);
    w.rule(0.5);
    let y = w.y;
    w.text_at(MARGIN, y, false, SIZE, b"Customer signature");
    w.text_at(PAGE_W / 2.0, y, false, SIZE, b"For the company");
    w.y -= 2.0 * LEAD;
    if w.substituted {
        w.paragraph(SUBSTITUTED, false);
    }
    assemble(w.pages, &title)
}

/// Writes the document: catalog, page tree, pages, their content streams and the two fonts.
fn assemble(pages: Vec<Content>, title: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("Doorstep"));
    for (content, page_id) in pages.into_iter().zip(&page_ids) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("刘芳"), "刘芳");
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(150), "1.50 %");
        assert_eq!(percent(5), "0.05 %");
        assert_eq!(percent(10_000), "100.00 %");
    }

    #[test]
    fn text_outside_win_ansi_becomes_a_question_mark() {
        assert_eq!(
            win_ansi("Müller – 5€"),
            (b"M\xfcller \x96 5\x80".to_vec(), false)
        );
        assert_eq!(win_ansi("刘芳 (Liu)"), (b"?? (Liu)".to_vec(), true));
        assert_eq!(win_ansi("a\nb\tc\u{0}"), (b"a b c ".to_vec(), false));
        assert_eq!(win_ansi("😀").0, b"?".to_vec());
    }

    #[test]
    fn helvetica_widths_line_up() {
        assert_eq!(HELVETICA[usize::from(b'0' - 32)], 556);
        assert_eq!(HELVETICA[usize::from(b'W' - 32)], 944);
        assert_eq!(HELVETICA[usize::from(b'~' - 32)], 584);
        assert!((width(b"1,234.56", 10.0) - 3.892 * 10.0).abs() < 0.01);
    }

    #[test]
    fn wrapping_keeps_every_character_within_the_width() {
        let text = b"women's coat, Max Mara, camel, size 40, cashmere AVERYLONGBRANDNAMEWITHOUTANYSPACESATALLINIT";
        let lines = wrap(text, 10.0, 100.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| width(l, 10.0) <= 100.0));
        let joined: Vec<u8> = lines.concat();
        let expected: Vec<u8> = text.iter().copied().filter(|&b| b != b' ').collect();
        assert_eq!(
            joined
                .iter()
                .filter(|&&b| b != b' ')
                .copied()
                .collect::<Vec<_>>(),
            expected
        );
        assert_eq!(wrap(b"", 10.0, 100.0), vec![Vec::<u8>::new()]);
    }

    fn sample(items: usize) -> OrderView {
        use crate::domain::{Category, GarmentKind, Material, SeasonClass};
        use chrono::{NaiveDate, Utc};
        use uuid::Uuid;
        let day = NaiveDate::from_ymd_opt(2026, 3, 20).expect("test data");
        let item = |n: usize| super::super::ItemView {
            order_id: Uuid::nil(),
            garment_id: Uuid::new_v4(),
            description: format!("women's coat no. {n}, (Max) Mara \\ ) Tj ET, 刘芳"),
            category: Category::Women,
            kind: GarmentKind::Coat,
            season_class: SeasonClass::Winter,
            brand: None,
            size: None,
            material: Some(Material::Fur),
            colour: None,
            tag_code: Some("G00DEM0000AE".into()),
            declared_cents: 1_000_000,
            fee_cents: 36_000,
            premium_cents: 15_000,
            zone_id: "cold-vault".into(),
            zone_name: "Cold vault".into(),
            position: "V-12".into(),
            released_at: None,
        };
        OrderView {
            order_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            receipt_no: "ST2026-000042".into(),
            status: super::super::Status::Accepted,
            customer_name: "刘芳 <b>Liu</b> (Fang)".into(),
            customer_phone: Some("+86 21 5555 0100".into()),
            customer_address: Some("1 Test Lane\nShanghai".into()),
            do_not_contact: false,
            accepted_on: day,
            term_months: 6,
            term_ends_on: day,
            planned_return_on: day,
            delivery_booked_for: None,
            delivery_preference: "weekday evenings".into(),
            notes: String::new(),
            insurance_rate_bp: 150,
            declared_cents: 1_000_000 * items as i64,
            fee_cents: 36_000 * items as i64,
            premium_cents: 15_000 * items as i64,
            total_cents: 51_000 * items as i64,
            created_at: Utc::now(),
            created_by: Uuid::nil(),
            created_by_name: "Dispatcher".into(),
            items: (1..=items).map(item).collect(),
            events: Vec::new(),
        }
    }

    /// Checks the file's skeleton: header, every cross-reference offset pointing at its object, trailer.
    fn assert_well_formed(pdf: &[u8]) {
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(pdf);
        assert!(text.trim_end().ends_with("%%EOF"));
        let start: usize = text
            .rsplit("startxref")
            .next()
            .and_then(|t| t.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("startxref");
        assert!(pdf[start..].starts_with(b"xref"));
        let table = String::from_utf8_lossy(&pdf[start..]);
        let mut lines = table.lines().skip(1);
        let count: usize = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .expect("xref count");
        for (id, line) in lines.skip(1).take(count - 1).enumerate() {
            let offset: usize = line[..10].parse().expect("test data");
            let expected = format!("{} 0 obj", id + 1);
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {} is not at {offset}",
                id + 1
            );
        }
    }

    #[test]
    fn the_pdf_is_well_formed_and_lists_everything() {
        let order = sample(3);
        let pdf = pdf(&order);
        assert_well_formed(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(Storage receipt ST2026-000042)"));
        assert!(text.contains(&format!("({LIABILITY})")));
        assert!(text.contains("(10,000.00)"));
        assert!(text.contains("(30,000.00)"));
        assert!(text.contains("(1,530.00)"));
        // Customer text cannot close a string or an operator: parentheses and backslashes are escaped,
        // and what Helvetica cannot show is a '?' with a note saying so.
        assert!(text.contains(r"Mara \\ \) Tj ET,"), "{text}");
        assert!(
            text.contains("(?? <b>Liu</b> \\(Fang\\))") || text.contains("(?? <b>Liu</b> (Fang))")
        );
        assert!(text.contains("(Characters this PDF's font cannot show"));
        assert!(!text.contains("刘"));
    }

    #[test]
    fn a_long_order_runs_onto_more_pages() {
        let pdf = pdf(&sample(120));
        assert_well_formed(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        let count: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .expect("test data");
        assert!(count >= 4, "{count} pages");
        assert!(text.contains("(Storage receipt ST2026-000042  -  page 4)"));
    }

    #[test]
    fn the_html_lists_everything_and_escapes_customer_text() {
        let order = sample(2);
        let page = html(&order);
        assert!(page.contains("Storage receipt ST2026-000042"));
        assert!(page.contains("刘芳 &lt;b&gt;Liu&lt;/b&gt; (Fang)"));
        assert!(!page.contains("<b>Liu"));
        assert_eq!(page.matches("<td class=\"num\">10,000.00</td>").count(), 2);
        assert!(page.contains("<td class=\"num\">20,000.00</td>"));
        assert!(page.contains("<td class=\"num\">1,020.00</td>"));
        assert!(page.contains("Cold vault / V-12"));
        assert!(page.contains(LIABILITY));
        assert!(page.contains("1.50 % of declared value"));
    }
}
