//! The printable storage receipt, in the reader's language: an HTML page (every customer text escaped) and a PDF
//! that prints Chinese.

use std::fmt::Write as _;

use crate::i18n::{day, filled, Lang};
use crate::pdf::{Layout, PdfError};

use super::{ItemView, OrderView};
use crate::domain::money::money;

/// The sentence every English receipt carries, word for word, in both formats (the catalogue's
/// `storage_receipt.liability`; a unit test keeps the two equal).
pub const LIABILITY: &str =
    "Our liability for each item is limited to the value declared for it on this receipt.";

/// A receipt text of `lang` with its `{name}` placeholders filled.
fn say(lang: Lang, key: &str, vars: &[(&str, &str)]) -> String {
    filled(lang, &format!("storage_receipt.{key}"), vars)
}

/// A stored garment in the reader's words: the English description, or category, kind, brand, colour, size and
/// material from the catalogue.
fn garment(lang: Lang, item: &ItemView) -> String {
    if lang == Lang::En {
        return item.description.clone();
    }
    let word = |group: &str, value: &str| crate::pickups::receipt::word(lang, group, value);
    let mut parts = vec![format!(
        "{}{}",
        word("category", &item.category.name()),
        word("kind", &item.kind.name())
    )];
    parts.extend(
        [&item.brand, &item.colour, &item.size]
            .into_iter()
            .flatten()
            .cloned(),
    );
    parts.extend(item.material.map(|m| word("material", &m.name())));
    parts.join(" · ")
}

/// The order's status in the reader's words.
fn status(lang: Lang, order: &OrderView) -> String {
    crate::pickups::receipt::word(lang, "storage_status", order.status.as_str())
}

/// Printed in the PDF when the server has no font with Chinese characters.
pub const NO_CJK_FONT: &str =
    "This server has no Chinese font (install fonts-noto-cjk): Chinese text may not print; the HTML receipt shows it.";

pub use crate::html::escape;

/// A rate in basis points as a percentage: 150 is "1.50 %".
pub fn percent(bp: i32) -> String {
    format!("{}.{:02} %", bp / 100, bp % 100)
}

/// The zone and place of an item as the receipt prints it: a shipped zone nobody renamed by its catalogue name.
fn place(lang: Lang, item: &super::ItemView) -> String {
    let zone = if item.zone_named {
        item.zone_name.as_str()
    } else {
        crate::i18n::get(lang, &format!("zone.{}", item.zone_id)).unwrap_or(&item.zone_name)
    };
    if item.position.is_empty() {
        zone.to_owned()
    } else {
        format!("{zone} / {}", item.position)
    }
}

/// "1 item", "2 items" ("共 2 件").
pub fn item_count(lang: Lang, n: usize) -> String {
    match n {
        1 => say(lang, "item_one", &[]),
        n => say(lang, "items", &[("n", &n.to_string())]),
    }
}

/// The receipt as a self-contained HTML page in `lang`, ready to print, headed by the company's name; amounts in
/// CNY.
pub fn html(order: &OrderView, company: &str, lang: Lang) -> String {
    let e = |s: &str| escape(s);
    let l = |key: &str| escape(&say(lang, key, &[]));
    let mut rows = String::new();
    for (i, item) in order.items.iter().enumerate() {
        let _ =
            writeln!(
            rows,
            "<tr><td>{n}</td><td>{desc}{tag}</td><td>{place}</td><td class=\"num\">{declared}</td>\
             <td class=\"num\">{fee}</td><td class=\"num\">{premium}</td></tr>",
            n = i + 1,
            desc = e(&garment(lang, item)),
            tag = item
                .tag_code
                .as_deref()
                .map(|t| format!("<br><small>{}</small>", e(&say(lang, "tag", &[("code", t)]))))
                .unwrap_or_default(),
            place = e(&place(lang, item)),
            declared = money(item.declared_cents),
            fee = money(item.fee_cents),
            premium = money(item.premium_cents),
        );
    }
    let optional = |key: &str, value: &str| {
        if value.trim().is_empty() {
            String::new()
        } else {
            format!("<dt>{}</dt><dd>{}</dd>", l(key), e(value))
        }
    };
    let title = e(&say(lang, "title", &[("receipt", &order.receipt_no)]));
    format!(
        r#"<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
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
<h1>{title}</h1>
<dl>
<dt>{customer_label}</dt><dd>{name}</dd>
{phone}{address}<dt>{accepted_label}</dt><dd>{accepted}</dd>
<dt>{status_label}</dt><dd>{status}</dd>
<dt>{term_label}</dt><dd>{term}</dd>
<dt>{planned_label}</dt><dd>{planned}</dd>
{booked}<dt>{rate_label}</dt><dd>{rate}</dd>
{preference}{notes}</dl>
<table>
<thead><tr><th>#</th><th>{item_label}</th><th>{place_label}</th><th class="num">{declared_label}</th><th class="num">{fee_label}</th><th class="num">{premium_label}</th></tr></thead>
<tbody>
{rows}</tbody>
<tfoot><tr><td></td><td>{count}</td><td></td><td class="num">{declared}</td><td class="num">{fee}</td><td class="num">{premium}</td></tr>
<tr><td></td><td colspan="4">{total_label}</td><td class="num">{total}</td></tr></tfoot>
</table>
<p class="liability">{liability}</p>
<div class="sign"><div>{sign_customer}</div><div>{sign_company}</div></div>
</body>
</html>
"#,
        html_lang = lang.tag(),
        company = e(company),
        customer_label = l("customer"),
        name = e(&order.customer_name),
        phone = optional("phone", order.customer_phone.as_deref().unwrap_or("")),
        address = optional("address", order.customer_address.as_deref().unwrap_or("")),
        accepted_label = l("accepted"),
        accepted = e(&say(
            lang,
            "accepted_by",
            &[
                ("date", &day(lang, order.accepted_on)),
                ("staff", &order.created_by_name)
            ]
        )),
        status_label = l("status"),
        status = e(&status(lang, order)),
        term_label = l("term"),
        term = e(&say(
            lang,
            "term_value",
            &[
                ("n", &order.term_months.to_string()),
                ("date", &day(lang, order.term_ends_on))
            ]
        )),
        planned_label = l("planned"),
        planned = day(lang, order.planned_return_on),
        booked = order
            .delivery_booked_for
            .map(|d| format!("<dt>{}</dt><dd>{}</dd>\n", l("delivery"), day(lang, d)))
            .unwrap_or_default(),
        rate_label = l("rate"),
        rate = e(&say(
            lang,
            "rate_value",
            &[("rate", &percent(order.insurance_rate_bp))]
        )),
        preference = optional("preference", &order.delivery_preference),
        notes = optional("notes", &order.notes),
        item_label = l("item"),
        place_label = l("place"),
        declared_label = l("declared"),
        fee_label = l("fee"),
        premium_label = l("premium"),
        count = e(&item_count(lang, order.items.len())),
        declared = money(order.declared_cents),
        fee = money(order.fee_cents),
        premium = money(order.premium_cents),
        total_label = l("total"),
        total = money(order.total_cents),
        liability = l("liability"),
        sign_customer = l("sign_customer"),
        sign_company = l("sign_company"),
    )
}

/// The receipt as an A4 PDF in `lang`, set in the server's CJK font (embedded, subset), so Chinese prints; in
/// English where the server has no such font.
pub fn pdf(order: &OrderView, company: &str, lang: Lang) -> Result<Vec<u8>, PdfError> {
    const SIZE: f32 = 9.5;
    const LEAD: f32 = 12.5;
    let mut w = Layout::new(595.0, 842.0, 42.0)?;
    let lang = if w.cjk() { lang } else { Lang::En };
    let l = |key: &str| say(lang, key, &[]);
    let left = w.left();
    let right = w.right();
    let col_desc = left + 24.0;
    let col_place = col_desc + 204.0;
    let (right_declared, right_fee, right_premium) = (420.0, 487.0, right);
    let title = say(lang, "title", &[("receipt", &order.receipt_no)]);
    w.down(16.0);
    w.text(left, 11.0, company);
    w.down(LEAD + 6.0);
    w.text(left, 16.0, &title);
    w.down(2.0 * LEAD);
    let mut fields = vec![(l("customer"), order.customer_name.clone())];
    if let Some(phone) = order.customer_phone.as_deref().filter(|p| !p.is_empty()) {
        fields.push((l("phone"), phone.to_owned()));
    }
    if let Some(address) = order.customer_address.as_deref().filter(|a| !a.is_empty()) {
        fields.push((l("address"), address.to_owned()));
    }
    let accepted = day(lang, order.accepted_on);
    fields.push((
        l("accepted"),
        say(
            lang,
            "accepted_by",
            &[("date", &accepted), ("staff", &order.created_by_name)],
        ),
    ));
    fields.push((l("status"), status(lang, order)));
    let (months, ends) = (order.term_months.to_string(), day(lang, order.term_ends_on));
    fields.push((
        l("term"),
        say(lang, "term_value", &[("n", &months), ("date", &ends)]),
    ));
    fields.push((l("planned"), day(lang, order.planned_return_on)));
    if let Some(d) = order.delivery_booked_for {
        fields.push((l("delivery"), day(lang, d)));
    }
    let rate = percent(order.insurance_rate_bp);
    fields.push((l("rate"), say(lang, "rate_value", &[("rate", &rate)])));
    if !order.delivery_preference.trim().is_empty() {
        fields.push((l("preference"), order.delivery_preference.clone()));
    }
    if !order.notes.trim().is_empty() {
        fields.push((l("notes"), order.notes.clone()));
    }
    for (label, value) in fields {
        w.text(left, SIZE, &label);
        for line in w.wrap(&value, SIZE, right - left - 110.0) {
            w.text(left + 110.0, SIZE, &line);
            w.down(LEAD);
        }
    }
    w.down(LEAD);
    let header = |w: &mut Layout| {
        w.text(left, SIZE, "#");
        w.text(col_desc, SIZE, &l("item"));
        w.text(col_place, SIZE, &l("place"));
        w.text_right(right_declared, SIZE, &l("declared_short"));
        w.text_right(right_fee, SIZE, &l("fee_short"));
        w.text_right(right_premium, SIZE, &l("premium_short"));
        w.rule();
        w.down(LEAD + 4.0);
    };
    header(&mut w);
    for (i, item) in order.items.iter().enumerate() {
        let mut desc = garment(lang, item);
        if let Some(tag) = &item.tag_code {
            desc.push_str(&format!(" ({})", say(lang, "tag", &[("code", tag)])));
        }
        let desc_lines = w.wrap(&desc, SIZE, 196.0);
        let place_lines = w.wrap(&place(lang, item), SIZE, 104.0);
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
    w.text(col_desc, SIZE, &item_count(lang, order.items.len()));
    w.text_right(right_declared, SIZE, &money(order.declared_cents));
    w.text_right(right_fee, SIZE, &money(order.fee_cents));
    w.text_right(right_premium, SIZE, &money(order.premium_cents));
    w.down(LEAD);
    w.text(col_desc, SIZE, &l("total"));
    w.text_right(right_premium, SIZE, &money(order.total_cents));
    w.down(2.0 * LEAD);
    for line in w.wrap(&l("liability"), SIZE, right - left) {
        w.text(left, SIZE, &line);
        w.down(LEAD);
    }
    w.down(3.0 * LEAD);
    w.rule();
    w.down(LEAD);
    w.text(left, SIZE, &l("sign_customer"));
    w.text((left + right) / 2.0, SIZE, &l("sign_company"));
    if !w.cjk() {
        w.down(2.0 * LEAD);
        w.text(left, 8.0, NO_CJK_FONT);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_english_liability_sentence_is_the_catalogues() {
        assert_eq!(say(Lang::En, "liability", &[]), LIABILITY);
        assert_ne!(say(Lang::ZhCn, "liability", &[]), LIABILITY);
    }
}
