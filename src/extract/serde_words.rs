//! serde's refusals of a body or query value, reworded in the server's own words so the reader's language can word them.

/// serde's message for a value that does not fit, as a person who fills in the field reads it: the Rust type it
/// expected becomes what to write (`u32` -> "a whole number from 0 to 4294967295"), the position is dropped, and
/// a message of a shape not known here stays as serde wrote it.
pub(crate) fn plain(message: &str) -> String {
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .trim();
    if message.starts_with("missing field `") {
        return "required".to_owned();
    }
    if message.starts_with("duplicate field `") {
        return "given twice".to_owned();
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        return match rest.split_once("`, expected ") {
            Some((_, names)) => format!(
                "not a field of this request; the fields are {}",
                names_of(names)
            ),
            None => "not a field of this request".to_owned(),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        return match rest.split_once("`, expected ") {
            Some((value, names)) => format!("'{}' is not one of {}", cut(value), names_of(names)),
            None => format!(
                "'{}' is not allowed here",
                cut(rest.split('`').next().unwrap_or(rest))
            ),
        };
    }
    let mismatch = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((found, expected)) = mismatch.and_then(|m| m.rsplit_once(", expected ")) {
        return must_be(expected, &found_words(found));
    }
    match message {
        // chrono's refusals of a date or time written as text
        "input is out of range" => {
            "not a real date or time: a month, day, hour or minute is out of range".to_owned()
        }
        "input contains invalid characters"
        | "premature end of input"
        | "trailing input"
        | "input is not enough for unique date and time"
        | "no possible date and time matching input"
        | "bad or unsupported format string" => {
            "must be a date as YYYY-MM-DD (or a date and time such as 2026-03-01T09:00:00+08:00)"
                .to_owned()
        }
        // the standard library's refusals of a query parameter's number or flag
        "invalid digit found in string" => "must be a whole number".to_owned(),
        "cannot parse integer from empty string" => "must be a whole number, not empty".to_owned(),
        "number too large to fit in target type" => "too large".to_owned(),
        "number too small to fit in target type" => "too small".to_owned(),
        "invalid float literal" => "must be a number".to_owned(),
        "provided string was not `true` or `false`" => "must be true or false".to_owned(),
        m if m.starts_with("UUID parsing failed") => "must be an id (UUID)".to_owned(),
        m => m.to_owned(),
    }
}

/// The wording of a body that is not JSON at all (serde_json's syntax errors), with where it breaks.
pub(crate) fn not_json(error: &serde_json::Error) -> String {
    let what = error.to_string();
    let what = what
        .rsplit_once(" at line ")
        .map_or(what.as_str(), |(m, _)| m);
    format!(
        "the body is not valid JSON (line {}, column {}): {}",
        error.line(),
        error.column(),
        syntax(what)
    )
}

/// serde_json's syntax complaint as a person who typed the body would put it; each is a `json.<words>` of the
/// catalogue, so the reader's language words it too. One serde_json adds later is kept as written.
fn syntax(what: &str) -> &str {
    match what {
        w if w.starts_with("EOF while parsing") => "the body ends too early",
        "expected `:`" => "missing colon after a key",
        "expected `,` or `]`" => "missing comma or closing bracket",
        "expected `,` or `}`" => "missing comma or closing brace",
        "expected ident" => "misspelled true/false/null",
        "expected value" => "missing or unquoted value",
        "invalid escape"
        | "invalid unicode code point"
        | "lone leading surrogate in hex escape"
        | "unexpected end of hex escape" => "invalid escape in a string",
        "invalid number" => "invalid number",
        w if w.starts_with("control character") => "control character inside a string",
        "key must be a string" => "key not in double quotes",
        "trailing comma" => "trailing comma",
        "trailing characters" => "text after the JSON value",
        "recursion limit exceeded" => "nested too deeply",
        other => other,
    }
}

/// The wording of a number serde_json cannot hold (beyond f64), which it reports as a syntax error.
pub(crate) const TOO_LARGE: &str = "a number too large to read";

/// The wording of a value of the wrong kind that serde_json reports as a syntax error (a number where one of an
/// enumeration's words belongs).
pub(crate) const WRONG_KIND: &str = "must be one of this field's words, in double quotes";

/// serde's "one of `a`, `b`, `c`" (or "`a` or `b`", or "`a`") as "a, b, c".
fn names_of(list: &str) -> String {
    list.strip_prefix("one of ")
        .unwrap_or(list)
        .split('`')
        .filter(|s| !matches!(s.trim(), "" | "," | "or"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The refusal of `found` where serde expected `expected`, the expectation as what to write. Each sentence is
/// written out whole, so its wording in another language can be checked against it.
fn must_be(expected: &str, found: &str) -> String {
    let whole =
        |min: i128, max: u128| format!("must be a whole number from {min} to {max}, not {found}");
    match expected {
        "u8" => whole(0, u8::MAX.into()),
        "u16" => whole(0, u16::MAX.into()),
        "u32" => whole(0, u32::MAX.into()),
        "u64" | "usize" => whole(0, u64::MAX.into()),
        "i8" => whole(i8::MIN.into(), i8::MAX as u128),
        "i16" => whole(i16::MIN.into(), i16::MAX as u128),
        "i32" => whole(i32::MIN.into(), i32::MAX as u128),
        "i64" | "isize" => whole(i64::MIN.into(), i64::MAX as u128),
        "f32" | "f64" => format!("must be a number, not {found}"),
        "a string" | "a borrowed string" => format!("must be text, not {found}"),
        "a boolean" => format!("must be true or false, not {found}"),
        "a character" => format!("must be one character, not {found}"),
        "a formatted date string" => format!("must be a date as YYYY-MM-DD, not {found}"),
        "a formatted time string" => format!("must be a time as HH:MM, not {found}"),
        e if e.contains("date and time") => {
            format!("must be a date and time such as 2026-03-01T09:00:00+08:00, not {found}")
        }
        e if e.contains("UUID") => format!("must be an id (UUID), not {found}"),
        e if e.starts_with("a sequence")
            || e.starts_with("a tuple")
            || e.starts_with("an array") =>
        {
            format!("must be a list, not {found}")
        }
        e if e.starts_with("struct ") || e.starts_with("a map") || e == "map" => {
            format!("must be an object, not {found}")
        }
        e => format!("must be {e}, not {found}"),
    }
}

/// What was sent instead, as JSON writes it: `"abc"`, `-1`, `1.5`, `true`, `null`, `{…}`, `[…]`.
fn found_words(found: &str) -> String {
    let ticked = |prefix: &str| {
        found
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('`'))
            .and_then(|r| r.strip_suffix('`'))
            .map(str::to_owned)
    };
    if let Some(text) = found.strip_prefix("string ") {
        return match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => format!("\"{}\"", cut(inner)),
            None => cut(text),
        };
    }
    ticked("integer ")
        .or_else(|| ticked("floating point "))
        .or_else(|| ticked("boolean "))
        .or_else(|| ticked("character ").map(|c| format!("\"{c}\"")))
        .unwrap_or_else(|| match found {
            "map" => "{…}".to_owned(),
            "sequence" => "[…]".to_owned(),
            "null" | "unit value" => "null".to_owned(),
            other => other.to_owned(),
        })
}

/// A value the client sent, cut to 40 characters so a refusal never repeats a whole body.
fn cut(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(39).collect::<String>())
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_type_names_become_what_to_write() {
        assert_eq!(
            plain(r#"invalid type: string "x", expected u32 at line 1 column 8"#),
            r#"must be a whole number from 0 to 4294967295, not "x""#
        );
        assert_eq!(
            plain("invalid value: integer `-1`, expected u32"),
            "must be a whole number from 0 to 4294967295, not -1"
        );
        assert_eq!(
            plain("invalid type: floating point `1e+30`, expected i64"),
            "must be a whole number from -9223372036854775808 to 9223372036854775807, not 1e+30"
        );
        assert_eq!(
            plain("invalid type: integer `5`, expected a string"),
            "must be text, not 5"
        );
        assert_eq!(
            plain("invalid type: map, expected a boolean"),
            "must be true or false, not {…}"
        );
        assert_eq!(
            plain("invalid type: null, expected struct NewPickup"),
            "must be an object, not null"
        );
        assert_eq!(
            plain("invalid type: integer `5`, expected a sequence"),
            "must be a list, not 5"
        );
        assert_eq!(
            plain("invalid type: integer `5`, expected a formatted date string"),
            "must be a date as YYYY-MM-DD, not 5"
        );
        assert_eq!(
            plain("invalid type: boolean `true`, expected something odd"),
            "must be something odd, not true"
        );
        let long = format!("invalid type: string \"{}\", expected f64", "a".repeat(60));
        assert_eq!(
            plain(&long),
            format!("must be a number, not \"{}…\"", "a".repeat(39))
        );
    }

    #[test]
    fn names_lose_their_backticks() {
        assert_eq!(
            plain("unknown variant `x`, expected one of `wash`, `press`, `repair`"),
            "'x' is not one of wash, press, repair"
        );
        assert_eq!(
            plain("unknown variant `x`, expected `wash` or `press`"),
            "'x' is not one of wash, press"
        );
        assert_eq!(
            plain(&format!(
                "unknown variant `{}`, expected `a`",
                "z".repeat(100)
            )),
            format!("'{}…' is not one of a", "z".repeat(39))
        );
        assert_eq!(
            plain("unknown variant `x`, there are no variants"),
            "'x' is not allowed here"
        );
        assert_eq!(
            plain("unknown field `zz`, expected one of `name`, `phone`"),
            "not a field of this request; the fields are name, phone"
        );
        assert_eq!(
            plain("unknown field `zz`, there are no fields"),
            "not a field of this request"
        );
        assert_eq!(plain("missing field `name` at line 1 column 2"), "required");
        assert_eq!(plain("duplicate field `a`"), "given twice");
    }

    #[test]
    fn dates_numbers_and_unknown_shapes() {
        assert!(plain("input is out of range at line 1 column 17").starts_with("not a real date"));
        assert!(plain("premature end of input").starts_with("must be a date as YYYY-MM-DD"));
        assert_eq!(
            plain("invalid digit found in string"),
            "must be a whole number"
        );
        assert_eq!(
            plain("UUID parsing failed: invalid character"),
            "must be an id (UUID)"
        );
        assert_eq!(
            plain("something serde never said"),
            "something serde never said"
        );
    }

    #[test]
    fn a_body_that_is_not_json_says_where_and_what_in_words() {
        for (body, said) in [
            ("{\"a\":1,}", "(line 1, column 8): trailing comma"),
            ("{\"a\":1", "(line 1, column 6): the body ends too early"),
            ("{\"a\" 1}", "(line 1, column 6): missing colon after a key"),
            (
                "{\"a\":1 \"b\":2}",
                "(line 1, column 8): missing comma or closing brace",
            ),
            (
                "[1 2]",
                "(line 1, column 4): missing comma or closing bracket",
            ),
            (
                "{\"a\":tru}",
                "(line 1, column 9): misspelled true/false/null",
            ),
            ("{\"a\":x}", "(line 1, column 6): missing or unquoted value"),
            ("{a:1}", "(line 1, column 2): key not in double quotes"),
            ("\"\\q\"", "(line 1, column 3): invalid escape in a string"),
            (
                "\"a\u{1}\"",
                "(line 1, column 3): control character inside a string",
            ),
            ("{} x", "(line 1, column 4): text after the JSON value"),
            ("-x", "(line 1, column 2): invalid number"),
        ] {
            let err = serde_json::from_str::<serde_json::Value>(body).unwrap_err();
            assert_eq!(
                not_json(&err),
                format!("the body is not valid JSON {said}"),
                "{body}"
            );
            // Each is worded in Chinese too (the catalogue's `json.<words>`).
            let zh =
                crate::i18n::refusal(crate::i18n::Lang::ZhCn, &not_json(&err)).expect("test data");
            let english = said.split_once(": ").expect("test data").1;
            assert!(
                zh.starts_with("请求内容不是有效的 JSON") && !zh.contains(english),
                "{zh}"
            );
        }
        let deep = "[".repeat(200);
        let err = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
        assert!(not_json(&err).ends_with(": nested too deeply"));
    }
}
