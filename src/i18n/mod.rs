//! The language catalogue shared by the web app and the import: one flat `key -> text` file per language.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A language the catalogue is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Lang {
    /// Every language, the default (English) first.
    pub const ALL: &'static [Lang] = &[Lang::En, Lang::ZhCn];

    /// The BCP 47 tag, as the catalogue file is named.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a tag names (`en`, `zh-CN`, `zh`; case ignored), if it is one of ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            "zh-cn" | "zh" | "zh-hans" | "zh-hans-cn" => Some(Lang::ZhCn),
            _ => None,
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("en.json"),
            Lang::ZhCn => include_str!("zh-CN.json"),
        }
    }
}

/// The cookie that remembers a browser's chosen language.
pub const LANG_COOKIE: &str = "doorstep_lang";

/// Picks Chinese or English from an `Accept-Language` header by quality, Chinese when neither is named.
pub fn negotiate(accept: &str) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',') {
        let mut bits = part.trim().split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = if tag.starts_with("zh") {
            Lang::ZhCn
        } else if tag.starts_with("en") {
            Lang::En
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::ZhCn, |(_, l)| l)
}

/// The language of a request: the remembered choice (cookie), else the browser's preference, else Chinese.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Lang {
    let chosen = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LANG_COOKIE)
        .and_then(|(_, v)| Lang::from_tag(v));
    chosen.unwrap_or_else(|| {
        negotiate(
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        )
    })
}

/// The language a request asked for itself (the remembered cookie, else an `Accept-Language` header), `None`
/// when it named none: API clients that do not ask keep the API's English.
pub fn asked(headers: &axum::http::HeaderMap) -> Option<Lang> {
    let named = headers.contains_key(axum::http::header::ACCEPT_LANGUAGE)
        || headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(LANG_COOKIE));
    named.then(|| from_headers(headers))
}

/// One language's texts by key.
pub type Catalogue = BTreeMap<String, String>;

/// The catalogue of a language; a file that is not a flat JSON object of strings reads as empty (a unit test
/// keeps that from shipping).
pub fn catalogue(lang: Lang) -> &'static Catalogue {
    static EN: OnceLock<Catalogue> = OnceLock::new();
    static ZH: OnceLock<Catalogue> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::ZhCn => &ZH,
    };
    cell.get_or_init(|| parse(lang.source()).unwrap_or_default())
}

fn parse(source: &str) -> Result<Catalogue, serde_json::Error> {
    serde_json::from_str(source)
}

/// The text of `key` in `lang`, if the catalogue has it.
pub fn get(lang: Lang, key: &str) -> Option<&'static str> {
    catalogue(lang).get(key).map(String::as_str)
}

/// The text of `key` in `lang`, or the key itself when missing (so a gap shows instead of breaking a page).
pub fn text(lang: Lang, key: &str) -> &str {
    get(lang, key).unwrap_or(key)
}

/// The text of `key` in `lang` with its `{name}` placeholders filled from `vars` (as the pages' `t()` does).
pub fn filled(lang: Lang, key: &str, vars: &[(&str, &str)]) -> String {
    let mut out = text(lang, key).to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// A day as the reader writes it: "2026年3月5日" in Chinese, "2026-03-05" in English.
pub fn day(lang: Lang, d: chrono::NaiveDate) -> String {
    match lang {
        Lang::ZhCn => d.format("%Y年%-m月%-d日").to_string(),
        Lang::En => d.to_string(),
    }
}

/// A vocabulary value (`tier`, `gold`) in `lang`: the catalogue's `group.value` (or with `_` for spaces).
pub fn word(lang: Lang, group: &str, value: &str) -> Option<&'static str> {
    get(lang, &format!("{group}.{value}"))
        .or_else(|| get(lang, &format!("{group}.{}", value.replace(' ', "_"))))
}

/// The server's refusals (a field's message, a problem's detail) in a language other than English: keyed by the
/// English text as the server writes it, `{name}` standing for each part the server fills in (`{name:group}` for
/// one that is a word of a vocabulary group). Only the server reads them, so they stay out of the catalogues the
/// pages load; English has none, the server's own words being English.
fn refusals(lang: Lang) -> Option<&'static Catalogue> {
    static ZH: OnceLock<Catalogue> = OnceLock::new();
    match lang {
        Lang::En => None,
        Lang::ZhCn => {
            Some(ZH.get_or_init(|| parse(include_str!("refusals.zh-CN.json")).unwrap_or_default()))
        }
    }
}

/// A server refusal in `lang`: its wording where the message is written exactly so, else the first template whose
/// fixed parts the message follows, its `{name}` parts carried over; `None` when there is no wording (the English
/// stays). The source text is the key, as gettext does, so a message changed in the code drops out instead of
/// being mistranslated (a unit test names it).
pub fn refusal(lang: Lang, message: &str) -> Option<String> {
    if let Some(text) = refusals(lang)?.get(message) {
        return Some(text.clone());
    }
    templates(lang).iter().find_map(|(template, text)| {
        let parts = fill(template, message)?;
        let mut out = (*text).to_owned();
        for (name, value) in parts {
            out = out.replace(&format!("{{{name}}}"), &vocabulary(lang, name, value));
        }
        Some(out)
    })
}

/// A message the server or a command writes in English, in `lang` where the catalogue words it, else as written.
pub fn in_words(lang: Lang, english: &str) -> String {
    refusal(lang, english).unwrap_or_else(|| english.to_owned())
}

/// The language a terminal's user reads: the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that is set
/// (`zh_CN.UTF-8` is Chinese), English when none names one of ours (a command's English is its default).
pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| var(v).filter(|s| !s.is_empty()))
        .next()
        .and_then(|s| {
            let tag = s.split(['.', '@']).next().unwrap_or("").replace('_', "-");
            Lang::from_tag(&tag).or_else(|| {
                tag.to_ascii_lowercase()
                    .starts_with("zh")
                    .then_some(Lang::ZhCn)
            })
        })
        .unwrap_or(Lang::En)
}

/// A part the server filled in, as the reader reads it: a `{name:group}` part is a vocabulary word (`group.<value>`,
/// e.g. `{status:storage_status}`), a `{name:said}` part is itself a message (`{what:said}` in `is {what:said}, not
/// a CSV file`), worded whole or clause by clause (`; `-separated), any other as written.
fn vocabulary(lang: Lang, name: &str, value: &str) -> String {
    match name.split_once(':') {
        Some((_, "said")) => refusal(lang, value).unwrap_or_else(|| {
            value
                .split("; ")
                .map(|clause| in_words(lang, clause))
                .collect::<Vec<_>>()
                .join(clauses(lang))
        }),
        Some((_, group)) => word(lang, group, value).unwrap_or(value).to_owned(),
        None => value.to_owned(),
    }
}

/// What separates the clauses of a sentence in `lang`.
fn clauses(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "; ",
        Lang::ZhCn => "；",
    }
}

/// The refusals with `{name}` parts, as (template, text), the one with the most fixed text first so the most
/// specific wins (`must be text, not {found}` before `must be {expected}, not {found}`).
fn templates(lang: Lang) -> &'static [(&'static str, &'static str)] {
    static ZH: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    let cell = match lang {
        Lang::En => return &[],
        Lang::ZhCn => &ZH,
    };
    let Some(words) = refusals(lang) else {
        return &[];
    };
    cell.get_or_init(|| {
        let mut t: Vec<(&str, &str)> = words
            .iter()
            .filter(|(k, _)| k.contains('{'))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        t.sort_by_key(|(k, _)| {
            let fixed: usize = pieces(k)
                .iter()
                .filter(|p| placeholder(p).is_none())
                .map(|p| p.len())
                .sum();
            (std::cmp::Reverse(fixed), *k)
        });
        t
    })
}

/// Splits a template into its fixed text and `{name}` parts: `("a {x} b", ...)` gives `["a ", "{x}", " b"]`.
fn pieces(template: &'static str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push(&rest[..open]);
        out.push(&rest[open..=close]);
        rest = &rest[close + 1..];
    }
    out.push(rest);
    out
}

/// The name of a `{name}` piece of a template; `None` for its fixed text.
fn placeholder(piece: &'static str) -> Option<&'static str> {
    piece
        .strip_prefix('{')?
        .strip_suffix('}')
        .filter(|n| !n.is_empty())
}

/// The `{name}` parts of `message` when it follows `template` (each part non-empty, the shortest that lets the
/// next fixed text follow).
fn fill<'m>(template: &'static str, message: &'m str) -> Option<Vec<(&'static str, &'m str)>> {
    let pieces = pieces(template);
    let mut at = 0;
    let mut parts = Vec::new();
    let mut pending: Option<&str> = None;
    for (i, piece) in pieces.iter().enumerate() {
        if let Some(name) = placeholder(piece) {
            pending = Some(name);
            continue;
        }
        let last = i == pieces.len() - 1;
        let found = match pending.take() {
            None if message[at..].starts_with(piece) => at,
            None => return None,
            Some(name) => {
                let from = at + message[at..].chars().next()?.len_utf8();
                let pos = if last {
                    (message.len() >= from + piece.len() && message.ends_with(piece))
                        .then(|| message.len() - piece.len())
                } else {
                    message.get(from..)?.find(piece).map(|p| from + p)
                }?;
                parts.push((name, &message[at..pos]));
                pos
            }
        };
        at = found + piece.len();
    }
    (at == message.len()).then_some(parts)
}

/// Folds a label for comparison: case, spaces, hyphens, underscores and full-width forms are ignored.
pub fn fold(s: &str) -> String {
    s.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every label (and every value's own name) of every `group.<value>` key, folded, as `group.label -> value`;
/// the first language's label wins a tie.
fn reverse() -> &'static HashMap<String, &'static str> {
    static REVERSE: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    REVERSE.get_or_init(|| {
        let mut map = HashMap::new();
        for lang in Lang::ALL {
            for (key, text) in catalogue(*lang) {
                if let Some((group, value)) = key.split_once('.') {
                    map.entry(format!("{group}.{}", fold(text)))
                        .or_insert(value);
                    map.entry(format!("{group}.{}", fold(value)))
                        .or_insert(value);
                }
            }
        }
        map
    })
}

/// The value part of the `group.<value>` key whose label, in any language, is `label` (folded), e.g.
/// `("kind", "羽绒服") -> "down_jacket"`; also matches the value's own name (`Down jacket`).
pub fn value_for_label(group: &str, label: &str) -> Option<&'static str> {
    let want = fold(label);
    if want.is_empty() {
        return None;
    }
    reverse().get(&format!("{group}.{want}")).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_follow_the_browser_by_quality() {
        assert_eq!(negotiate("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(negotiate("fr-FR, en;q=0.5"), Lang::En);
        assert_eq!(negotiate("de, fr"), Lang::ZhCn);
        assert_eq!(negotiate(""), Lang::ZhCn);
        assert_eq!(negotiate("en;q=0.2, zh-TW;q=0.7"), Lang::ZhCn);
    }
    use crate::domain::{Category, GarmentKind, Material, SeasonClass, Service};

    fn vocabulary_keys() -> Vec<String> {
        let mut keys = Vec::new();
        keys.extend(
            Category::ALL
                .iter()
                .map(|v| format!("category.{}", v.name())),
        );
        keys.extend(
            SeasonClass::ALL
                .iter()
                .map(|v| format!("season_class.{}", v.name())),
        );
        keys.extend(
            GarmentKind::ALL
                .iter()
                .map(|v| format!("kind.{}", v.name())),
        );
        keys.extend(
            Material::ALL
                .iter()
                .map(|v| format!("material.{}", v.name())),
        );
        keys.extend(Service::ALL.iter().map(|v| format!("service.{}", v.name())));
        use crate::forecasts::model::Candidate;
        keys.extend(
            Candidate::SEASONAL
                .iter()
                .chain(&Candidate::NON_SEASONAL)
                .map(|c| format!("model.{}", c.name())),
        );
        keys
    }

    /// Keys one catalogue has and the other lacks, as `(missing in, key)`.
    fn gaps(a: &Catalogue, a_tag: &str, b: &Catalogue, b_tag: &str) -> Vec<String> {
        let mut out = Vec::new();
        for k in a.keys().filter(|k| !b.contains_key(*k)) {
            out.push(format!("{b_tag} lacks {k}"));
        }
        for k in b.keys().filter(|k| !a.contains_key(*k)) {
            out.push(format!("{a_tag} lacks {k}"));
        }
        out
    }

    #[test]
    fn every_language_has_every_key() {
        for lang in Lang::ALL {
            assert!(
                parse(lang.source()).is_ok(),
                "{} is not a flat JSON object of strings",
                lang.tag()
            );
        }
        let en = catalogue(Lang::En);
        for lang in &Lang::ALL[1..] {
            let missing = gaps(en, "en", catalogue(*lang), lang.tag());
            assert!(missing.is_empty(), "{missing:?}");
        }
    }

    #[test]
    fn a_key_in_one_language_only_is_found() {
        let en = parse(r#"{"a": "A", "b": "B"}"#).expect("test data");
        let zh = parse(r#"{"a": "甲", "c": "丙"}"#).expect("test data");
        assert_eq!(
            gaps(&en, "en", &zh, "zh-CN"),
            ["zh-CN lacks b", "en lacks c"]
        );
    }

    #[test]
    fn every_vocabulary_value_has_a_label_that_reads_back() {
        for key in vocabulary_keys() {
            let (group, value) = key.split_once('.').expect("test data");
            for lang in Lang::ALL {
                let label =
                    get(*lang, &key).unwrap_or_else(|| panic!("{} lacks {key}", lang.tag()));
                assert_eq!(value_for_label(group, label), Some(value), "{label}");
            }
        }
        assert_eq!(value_for_label("kind", "羽绒服"), Some("down_jacket"));
        assert_eq!(value_for_label("service", " Dry-clean "), Some("dry_clean"));
        assert_eq!(value_for_label("kind", "ｔ恤"), Some("t_shirt"));
        assert_eq!(value_for_label("kind", "cape"), None);
    }

    #[test]
    fn refusals_are_worded_from_their_english_template() {
        let zh = |m: &str| refusal(Lang::ZhCn, m);
        assert_eq!(zh("is in the past").as_deref(), Some("日期已过"));
        assert_eq!(zh("must fall in 2027").as_deref(), Some("须在 2027 年之内"));
        assert_eq!(
            zh("冷库 is full: 3 of 3 places taken, 1 of them by earlier items of this order")
                .as_deref(),
            Some("冷库 已满：3 个位置已占用 3 个，其中 1 个是本订单前面的衣物")
        );
        assert_eq!(
            zh("vault is full: 3 of 3 places taken").as_deref(),
            Some("vault 已满：3 个位置已占用 3 个")
        );
        assert_eq!(
            zh("an order that is in_storage can only move to return_requested").as_deref(),
            Some("状态为“在库”的订单只能改为“待送回”")
        );
        for (english, chinese) in [
            // the most fixed text wins over the generic `must be {expected}, not {found}`
            ("must be text, not 5", "须为文字，而不是 5"),
            (
                "must be a whole number from 0 to 255, not \"x\"",
                "须为 0 至 255 之间的整数，而不是 \"x\"",
            ),
            (
                "must be something odd, not true",
                "须为 something odd，而不是 true",
            ),
            (
                "this needs the manager role or higher",
                "需要“经理”或更高的角色",
            ),
        ] {
            assert_eq!(zh(english).as_deref(), Some(chinese), "{english}");
        }
        assert_eq!(zh("must fall in "), None, "a part is never empty");
        assert_eq!(zh("a message the catalogue does not have"), None);
        assert_eq!(refusal(Lang::En, "is in the past"), None);
    }

    /// The server's Rust source (this module aside, whose tests quote messages), for tests that check what it writes.
    fn server_code() -> String {
        fn sources(dir: &std::path::Path, out: &mut String) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("i18n/mod.rs")
                {
                    out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut code = String::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut code,
        );
        code
    }

    /// The text after each `marker` in `code`, up to the next `end`.
    fn each_after<'a>(code: &'a str, marker: &'a str, end: char) -> impl Iterator<Item = &'a str> {
        code.split(marker)
            .skip(1)
            .filter_map(move |rest| rest.split(end).next())
    }

    /// Every refusal the catalogue words must still be written so by the server: a message changed in the code
    /// would otherwise be shown in English on the Chinese pages without anyone noticing.
    #[test]
    fn every_worded_refusal_is_still_written_by_the_server() {
        let code = server_code();
        let words =
            parse(include_str!("refusals.zh-CN.json")).expect("a flat JSON object of strings");
        assert!(!words.is_empty());
        let missing: Vec<&str> = refusals(Lang::ZhCn)
            .into_iter()
            .flat_map(|r| r.keys())
            .map(String::as_str)
            .filter(|m| {
                pieces(m)
                    .iter()
                    .any(|p| placeholder(p).is_none() && !code.contains(p))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "worded refusals the server no longer writes: {missing:#?}"
        );
    }

    /// A wording names only parts its English has (`{how:said}`, not `{how}`): any other is printed as written,
    /// braces and all. (It may leave one out, as `send {what} as JSON` does.)
    #[test]
    fn every_worded_refusal_fills_only_parts_of_its_english() {
        let names = |t: &'static str| -> std::collections::BTreeSet<&'static str> {
            pieces(t).into_iter().filter_map(placeholder).collect()
        };
        let words = refusals(Lang::ZhCn).expect("zh-CN has refusals");
        let wrong: Vec<&String> = words
            .iter()
            .filter(|(english, text)| !names(text).is_subset(&names(english)))
            .map(|(english, _)| english)
            .collect();
        assert!(wrong.is_empty(), "parts differ: {wrong:#?}");
    }

    /// A thing the server says it cannot find (`AppError::NotFound("storage order")`) is named in every language.
    #[test]
    fn every_thing_not_found_has_a_name() {
        let code = server_code();
        let things: std::collections::BTreeSet<&str> =
            each_after(&code, "AppError::NotFound(\"", '"').collect();
        assert!(things.contains("customer"), "{things:?}");
        for thing in things {
            let name = get(Lang::ZhCn, &format!("thing.{}", thing.replace(' ', "_")))
                .unwrap_or_else(|| panic!("zh-CN has no thing.{thing}"));
            assert_eq!(
                refusal(Lang::ZhCn, &format!("{thing} not found")),
                Some(format!("找不到{name}"))
            );
        }
    }

    /// Every column of a CSV export (`CsvRow::header`) has a name in every language.
    #[test]
    fn every_export_column_has_a_name() {
        let code = server_code();
        let columns: std::collections::BTreeSet<&str> =
            each_after(&code, "fn header() -> &'static [&'static str] {", ']')
                .flat_map(|list| list.split('"').skip(1).step_by(2))
                .collect();
        assert!(
            columns.contains("customer_id") && columns.len() > 40,
            "{columns:?}"
        );
        for column in columns {
            for lang in Lang::ALL {
                assert!(
                    get(*lang, &format!("csv.{column}")).is_some(),
                    "{} has no csv.{column}",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn files_are_sorted_one_key_per_line() {
        for lang in Lang::ALL {
            let lines: Vec<&str> = lang.source().lines().collect();
            let keys: Vec<&str> = lines[1..lines.len() - 1]
                .iter()
                .map(|l| l.trim().split('"').nth(1).unwrap_or(""))
                .collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            assert_eq!(keys, sorted, "{} is not sorted by key", lang.tag());
            assert_eq!(
                keys.len(),
                catalogue(*lang).len(),
                "{}: one key per line",
                lang.tag()
            );
        }
    }
}
