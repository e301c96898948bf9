//! The printable storage receipt: an HTML page (every customer text escaped) and a PDF that prints Chinese.

use std::fmt::Write as _;

use crate::pdf::{Layout, PdfError};

use super::OrderView;
use crate::domain::money::money;

/// The sentence every receipt carries, word for word, in both formats.
pub const LIABILITY: &str =
    "Our liability for each item is limited to the value declared for it on this receipt.";

/// Printed in the PDF when the server has no font with Chinese characters.
pub const NO_CJK_FONT: &str =
    "This server has no Chinese font (install fonts-noto-cjk): Chinese text may not print; the HTML receipt shows it.";

pub use crate::html::escape;

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

/// "1 item", "2 items".
pub fn item_count(n: usize) -> String {
    match n {
        1 => "1 item".to_owned(),
        n => format!("{n} items"),
    }
}

/// The receipt as a self-contained HTML page, ready to print, headed by the company's name; amounts in CNY.
pub fn html(order: &OrderView, company: &str) -> String {
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
<p class="company">{company}</p>
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
<thead><tr><th>#</th><th>Item</th><th>Zone / place</th><th class="num">Declared value (CNY)</th><th class="num">Storage fee (CNY)</th><th class="num">Insurance premium (CNY)</th></tr></thead>
<tbody>
{rows}</tbody>
<tfoot><tr><td></td><td>{count}</td><td></td><td class="num">{declared}</td><td class="num">{fee}</td><td class="num">{premium}</td></tr>
<tr><td></td><td colspan="4">Total due (fee and premium), CNY</td><td class="num">{total}</td></tr></tfoot>
</table>
<p class="liability">{liability}</p>
<div class="sign"><div>Customer</div><div>For the company</div></div>
</body>
</html>
"#,
        receipt = e(&order.receipt_no),
        company = e(company),
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
        count = item_count(order.items.len()),
        declared = money(order.declared_cents),
        fee = money(order.fee_cents),
        premium = money(order.premium_cents),
        total = money(order.total_cents),
        liability = LIABILITY,
    )
}

/// The receipt as an A4 PDF set in the server's CJK font (embedded, subset), so Chinese names print.
pub fn pdf(order: &OrderView, company: &str) -> Result<Vec<u8>, PdfError> {
    const SIZE: f32 = 9.5;
    const LEAD: f32 = 12.5;
    let mut w = Layout::new(595.0, 842.0, 42.0)?;
    let left = w.left();
    let right = w.right();
    let col_desc = left + 24.0;
    let col_place = col_desc + 204.0;
    let (right_declared, right_fee, right_premium) = (420.0, 487.0, right);
    let title = format!("Storage receipt {}", order.receipt_no);
    w.down(16.0);
    w.text(left, 11.0, company);
    w.down(LEAD + 6.0);
    w.text(left, 16.0, &title);
    w.down(2.0 * LEAD);
    let mut fields = vec![("Customer", order.customer_name.clone())];
    if let Some(phone) = order.customer_phone.as_deref().filter(|p| !p.is_empty()) {
        fields.push(("Phone", phone.to_owned()));
    }
    if let Some(address) = order.customer_address.as_deref().filter(|a| !a.is_empty()) {
        fields.push(("Address", address.to_owned()));
    }
    fields.push((
        "Accepted",
        format!("{} by {}", order.accepted_on, order.created_by_name),
    ));
    fields.push(("Status", order.status.label().to_owned()));
    fields.push((
        "Term",
        format!("{} months, to {}", order.term_months, order.term_ends_on),
    ));
    fields.push(("Planned return", order.planned_return_on.to_string()));
    if let Some(day) = order.delivery_booked_for {
        fields.push(("Return delivery", day.to_string()));
    }
    fields.push((
        "Insurance rate",
        format!("{} of declared value", percent(order.insurance_rate_bp)),
    ));
    if !order.delivery_preference.trim().is_empty() {
        fields.push(("Delivery preference", order.delivery_preference.clone()));
    }
    if !order.notes.trim().is_empty() {
        fields.push(("Notes", order.notes.clone()));
    }
    for (label, value) in fields {
        w.text(left, SIZE, label);
        for line in w.wrap(&value, SIZE, right - left - 110.0) {
            w.text(left + 110.0, SIZE, &line);
            w.down(LEAD);
        }
    }
    w.down(LEAD);
    let header = |w: &mut Layout| {
        w.text(left, SIZE, "#");
        w.text(col_desc, SIZE, "Item");
        w.text(col_place, SIZE, "Zone / place");
        w.text_right(right_declared, SIZE, "Declared, CNY");
        w.text_right(right_fee, SIZE, "Fee, CNY");
        w.text_right(right_premium, SIZE, "Premium, CNY");
        w.rule();
        w.down(LEAD + 4.0);
    };
    header(&mut w);
    for (i, item) in order.items.iter().enumerate() {
        let mut desc = item.description.clone();
        if let Some(tag) = &item.tag_code {
            desc.push_str(&format!(" (tag {tag})"));
        }
        let desc_lines = w.wrap(&desc, SIZE, 196.0);
        let place_lines = w.wrap(&place(item), SIZE, 104.0);
        let height = desc_lines.len().max(place_lines.len()) as f32 * LEAD;
        if w.y + height > w.height() - 60.0 {
            w.new_page();
            header(&mut w);
        }
        let top = w.y;
        w.text(left, SIZE, &(i + 1).to_string());
        for (k, line) in desc_lines.iter().enumerate() {
            w.text_at(col_desc, top + k as f32 * LEAD, SIZE, line);
        }
        for (k, line) in place_lines.iter().enumerate() {
            w.text_at(col_place, top + k as f32 * LEAD, SIZE, line);
        }
        w.text_right(right_declared, SIZE, &money(item.declared_cents));
        w.text_right(right_fee, SIZE, &money(item.fee_cents));
        w.text_right(right_premium, SIZE, &money(item.premium_cents));
        w.down(height + 2.0);
    }
    w.rule();
    w.down(LEAD + 4.0);
    w.text(col_desc, SIZE, &item_count(order.items.len()));
    w.text_right(right_declared, SIZE, &money(order.declared_cents));
    w.text_right(right_fee, SIZE, &money(order.fee_cents));
    w.text_right(right_premium, SIZE, &money(order.premium_cents));
    w.down(LEAD);
    w.text(
        col_desc,
        SIZE,
        "Total due (storage fee and insurance premium), CNY",
    );
    w.text_right(right_premium, SIZE, &money(order.total_cents));
    w.down(2.0 * LEAD);
    for line in w.wrap(LIABILITY, SIZE, right - left) {
        w.text(left, SIZE, &line);
        w.down(LEAD);
    }
    w.down(3.0 * LEAD);
    w.rule();
    w.down(LEAD);
    w.text(left, SIZE, "Customer signature");
    w.text((left + right) / 2.0, SIZE, "For the company");
    if !w.cjk() {
        w.down(2.0 * LEAD);
        w.text(left, 8.0, NO_CJK_FONT);
    }
    w.finish()
}
