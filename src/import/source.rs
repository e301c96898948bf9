//! Reading an import file as it comes: the whole file's encoding decided before any row, CSV with any line ending
//! and delimiter, `.xlsx` workbooks, and a clear refusal of archives and binaries. Pure: bytes in, rows out.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

/// A file refused whole, with a reason a spreadsheet user can act on (no cell values in it).
pub type Refusal = String;

/// How the rows of a file are laid out once decoded.
pub enum Body {
    /// Delimited text; the delimiter is decided with the header.
    Text(String),
    /// The first sheet of a workbook: each row's spreadsheet row number and cells.
    Sheet(Vec<(u64, Vec<String>)>),
}

/// A file's decoded content and what was decided about it.
pub struct Decoded {
    pub body: Body,
    /// The encoding the text was read in (`xlsx` for a workbook), for the report.
    pub encoding: &'static str,
}

/// Decodes a whole file. `requested` is the `--encoding` label; without it a byte-order mark decides, then
/// UTF-8 (refused when it is not valid UTF-8, or when it reads as GBK just as well).
pub fn decode(bytes: Vec<u8>, requested: Option<&str>) -> Result<Decoded, Refusal> {
    if let Some(kind) = foreign_format(&bytes) {
        return Err(kind);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_workbook(bytes);
    }
    let requested = match requested {
        Some(label) => Some(encoding_for(label)?),
        None => None,
    };
    let bom = Encoding::for_bom(&bytes);
    let (encoding, skip) = match (bom, requested) {
        (Some((found, _)), Some(wanted)) if found != wanted => {
            return Err(format!(
                "the file starts with a {} byte-order mark but --encoding {} was given: leave --encoding out",
                found.name(),
                wanted.name()
            ))
        }
        (Some((found, len)), _) => (Some(found), len),
        (None, Some(wanted)) => (Some(wanted), 0),
        (None, None) => (utf16_without_bom(&bytes), 0),
    };
    let content = &bytes[skip..];
    let text = match encoding {
        Some(enc) if enc == UTF_8 => utf8(content, true)?,
        Some(enc) => strict(enc, content)?,
        None => {
            if looks_binary(content) {
                return Err("is not a text file (it holds binary data): give a CSV file or an .xlsx workbook".into());
            }
            utf8(content, false)?
        }
    };
    Ok(Decoded {
        body: Body::Text(text),
        encoding: encoding.map_or("UTF-8", Encoding::name),
    })
}

/// `--encoding` labels: anything the WHATWG encoding standard names (GBK, GB18030, GB2312, UTF-16, Big5 ...).
pub fn encoding_for(label: &str) -> Result<&'static Encoding, Refusal> {
    let l = label.trim().to_ascii_lowercase();
    let l = match l.as_str() {
        "utf16" => "utf-16",
        "utf8" => "utf-8",
        "cp936" | "ms936" | "windows-936" => "gbk",
        other => other,
    };
    Encoding::for_label(l.as_bytes()).ok_or_else(|| {
        format!("--encoding {label}: unknown encoding; use UTF-8, GBK, GB18030 or UTF-16")
    })
}

/// Formats that are not a table: named so the user knows what to do with them.
fn foreign_format(b: &[u8]) -> Option<Refusal> {
    let msg = |what: &str, todo: &str| {
        Some(format!(
            "is {what}, not a CSV file or .xlsx workbook: {todo}"
        ))
    };
    if b.starts_with(&[0x1f, 0x8b]) {
        return msg("gzip-compressed", "unpack it first (gunzip)");
    }
    if b.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        return msg(
            "an old Excel .xls file (or another OLE document)",
            "save it from Excel as .xlsx or CSV UTF-8",
        );
    }
    let magic: [(&[u8], &str); 8] = [
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"BZh", "bzip2-compressed"),
        (b"\xfd7zXZ\x00", "xz-compressed"),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    ];
    for (m, what) in magic {
        if b.starts_with(m) {
            return msg(what, "export the table as CSV or .xlsx");
        }
    }
    if b.starts_with(b"PK\x05\x06") || b.starts_with(b"PK\x07\x08") {
        return msg("an empty or split zip archive", "unpack it first");
    }
    None
}

/// A file of mostly control bytes is a binary, whatever its name; a few (a stray NUL in a cell) are row errors.
fn looks_binary(b: &[u8]) -> bool {
    let sample = &b[..b.len().min(64 * 1024)];
    let control = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    control > 8.max(sample.len() / 100)
}

/// UTF-16 saved without a byte-order mark: every other byte of the first characters is zero.
fn utf16_without_bom(b: &[u8]) -> Option<&'static Encoding> {
    let head = &b[..b.len().min(200) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let zeros = |odd: usize| (0..pairs).filter(|i| head[2 * i + odd] == 0).count();
    let (even, odd) = (zeros(0), zeros(1));
    if odd * 10 >= pairs * 9 && even == 0 {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 9 && odd == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The 1-based line of byte offset `at` (CRLF, CR and LF each end one line).
fn line_at(text: &[u8], at: usize) -> u64 {
    let mut line = 1;
    let mut i = 0;
    let end = at.min(text.len());
    while i < end {
        match text[i] {
            b'\n' => line += 1,
            b'\r' if text.get(i + 1) != Some(&b'\n') => line += 1,
            _ => {}
        }
        i += 1;
    }
    line
}

/// Decodes strictly: a byte sequence the encoding cannot have refuses the file, naming the line.
fn strict(enc: &'static Encoding, content: &[u8]) -> Result<String, Refusal> {
    if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(content) {
        return Ok(text.into_owned());
    }
    let (lossy, _) = enc.decode_without_bom_handling(content);
    let at = lossy.find('\u{fffd}').unwrap_or(0);
    Err(format!(
        "line {}: is not valid {} text: check --encoding (UTF-8, GBK, GB18030 or UTF-16)",
        line_at(lossy.as_bytes(), at),
        enc.name()
    ))
}

/// Characters UTF-8 text from a Chinese laundry rarely has, but GBK bytes read as UTF-8 often give
/// (郑英 read as UTF-8 is ֣Ӣ, 女士 is Ůʿ): Latin Extended, IPA, Greek, Cyrillic, Hebrew, Arabic, C1 controls.
fn unlikely_in_utf8(c: char) -> bool {
    matches!(c as u32, 0x80..=0x9f | 0x100..=0x7ff)
}

/// The file as UTF-8, refused when it is not, or when it reads as GBK just as well (decided for the whole file,
/// so no row is written garbled). `told`: the user said UTF-8 (a byte-order mark or --encoding).
fn utf8(content: &[u8], told: bool) -> Result<String, Refusal> {
    let gbk = || GB18030.decode_without_bom_handling_and_without_replacement(content);
    match std::str::from_utf8(content) {
        Ok(text) => {
            if !told && text.chars().any(unlikely_in_utf8) {
                if let Some(as_gbk) = gbk() {
                    if as_gbk
                        .chars()
                        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                    {
                        return Err("reads as GBK (Chinese Windows) text as well as UTF-8, and as UTF-8 it holds unlikely characters: give --encoding GBK if it was saved by a Chinese Windows program, or --encoding UTF-8 if it is UTF-8".into());
                    }
                }
            }
            Ok(text.to_owned())
        }
        Err(e) => {
            let line = line_at(content, e.valid_up_to());
            if gbk().is_some() {
                Err(format!("line {line}: is not UTF-8 text; it reads as GBK/GB18030, as Chinese Windows programs save it: rerun with --encoding GB18030"))
            } else {
                Err(format!(
                    "line {line}: is not UTF-8 text: save it as 'CSV UTF-8', or give its encoding with --encoding"
                ))
            }
        }
    }
}

/// The first sheet of an .xlsx workbook as text cells; any other zip archive is refused.
fn read_workbook(bytes: Vec<u8>) -> Result<Decoded, Refusal> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| {
        "is a zip archive but not an Excel workbook (.xlsx): unpack it, or save the sheet as .xlsx or CSV UTF-8"
            .to_owned()
    })?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(format!("the workbook's first sheet cannot be read ({e})")),
        None => return Err("the workbook has no sheet".into()),
    };
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::with_capacity(range.height());
    for (i, row) in range.rows().enumerate() {
        let mut cells: Vec<String> = vec![String::new(); col0 as usize];
        cells.extend(row.iter().map(cell_text));
        rows.push((u64::from(row0) + i as u64 + 1, cells));
    }
    Ok(Decoded {
        body: Body::Sheet(rows),
        encoding: "xlsx",
    })
}

/// A workbook cell as the text a CSV export would hold: whole numbers without decimals, dates in ISO form.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => number(dt.as_f64()),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A spreadsheet number as written: 13812340101 stays whole, 55.5 stays 55.5 (not 55.500000000000001).
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        let s = format!("{:.6}", f);
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// One record of a delimited file: the line it starts on, the line it ends on, and its cells.
#[derive(Debug)]
pub struct Record<'a> {
    pub line: u64,
    pub end_line: u64,
    pub fields: Vec<Cow<'a, str>>,
}

/// A quote that opens a cell and is never closed: the record is refused and reading resumes on the next line.
#[derive(Debug, PartialEq, Eq)]
pub struct Unclosed<'a> {
    pub line: u64,
    /// 0-based cell of the record where the quote opened.
    pub column: usize,
    /// The cells before it, so the row can still be tied to its pickup.
    pub before: Vec<Cow<'a, str>>,
}

/// A CSV tokenizer that keeps the file's own line numbers whatever the line endings (LF, CRLF, CR) and blank
/// lines, with RFC 4180 quoting (`""` inside quotes) and Excel's leniency (text after a closing quote is kept).
pub struct Csv<'a> {
    text: &'a str,
    pos: usize,
    line: u64,
    delimiter: u8,
}

impl<'a> Csv<'a> {
    /// A reader from the start of `text` (line 1).
    pub fn new(text: &'a str, delimiter: u8) -> Csv<'a> {
        Csv {
            text,
            pos: 0,
            line: 1,
            delimiter,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn newline_len(&self, at: usize) -> usize {
        let b = self.text.as_bytes();
        match b.get(at) {
            Some(b'\r') if b.get(at + 1) == Some(&b'\n') => 2,
            Some(b'\r') | Some(b'\n') => 1,
            _ => 0,
        }
    }

    /// The next record, blank lines included (as one empty cell); `None` at the end of the text.
    pub fn next_record(&mut self) -> Option<Result<Record<'a>, Unclosed<'a>>> {
        let b = self.text.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        loop {
            let field_start = self.pos;
            if b.get(self.pos) == Some(&b'"') {
                match self.quoted(field_start) {
                    Some(f) => fields.push(f),
                    None => {
                        let column = fields.len();
                        self.skip_to_line_after(field_start, start_line);
                        return Some(Err(Unclosed {
                            line: start_line,
                            column,
                            before: fields,
                        }));
                    }
                }
            } else {
                let mut i = self.pos;
                while i < b.len() && b[i] != self.delimiter && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                fields.push(Cow::Borrowed(&self.text[self.pos..i]));
                self.pos = i;
            }
            match b.get(self.pos) {
                Some(&c) if c == self.delimiter => self.pos += 1,
                Some(_) => {
                    self.pos += self.newline_len(self.pos);
                    let end_line = self.line;
                    self.line += 1;
                    return Some(Ok(Record {
                        line: start_line,
                        end_line,
                        fields,
                    }));
                }
                None => {
                    return Some(Ok(Record {
                        line: start_line,
                        end_line: self.line,
                        fields,
                    }))
                }
            }
        }
    }

    /// A quoted cell starting at `self.pos` (on the quote); `None` when the text ends inside it.
    fn quoted(&mut self, _start: usize) -> Option<Cow<'a, str>> {
        let b = self.text.as_bytes();
        let mut i = self.pos + 1;
        let mut seg = i;
        let mut owned: Option<String> = None;
        loop {
            match b.get(i) {
                None => return None,
                Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                    owned
                        .get_or_insert_with(String::new)
                        .push_str(&self.text[seg..=i]);
                    i += 2;
                    seg = i;
                }
                Some(b'"') => break,
                Some(b'\r') | Some(b'\n') => {
                    let n = self.newline_len(i);
                    self.line += 1;
                    i += n;
                }
                Some(_) => i += 1,
            }
        }
        let mut cell = match owned {
            Some(mut s) => {
                s.push_str(&self.text[seg..i]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.text[seg..i]),
        };
        i += 1;
        let rest = i;
        while i < b.len() && b[i] != self.delimiter && b[i] != b'\n' && b[i] != b'\r' {
            i += 1;
        }
        if i > rest {
            cell.to_mut().push_str(&self.text[rest..i]);
        }
        self.pos = i;
        Some(cell)
    }

    /// After an unclosed quote: resume at the line after the one the record started on.
    fn skip_to_line_after(&mut self, field_start: usize, start_line: u64) {
        let b = self.text.as_bytes();
        let mut i = field_start;
        while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
            i += 1;
        }
        self.pos = i + self.newline_len(i);
        self.line = start_line + 1;
    }
}

/// Delimiters tried when none is given: comma, semicolon (European Excel), tab (Excel "Unicode text"), bar.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// `--delimiter`: one ASCII character, or `tab`.
pub fn parse_delimiter(raw: &str) -> Result<u8, String> {
    match raw {
        "tab" | "\\t" | "\t" | "TAB" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() && !matches!(s, "\"" | "\n" | "\r") => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(crate::i18n::in_words(
            crate::i18n::from_locale(|v| std::env::var(v).ok()),
            &format!("--delimiter {raw}: give one character such as , ; | or the word tab"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<(u64, Vec<String>)> {
        let mut csv = Csv::new(text, b',');
        let mut out = Vec::new();
        while let Some(r) = csv.next_record() {
            match r {
                Ok(r) => out.push((r.line, r.fields.iter().map(|f| f.to_string()).collect())),
                Err(u) => out.push((u.line, vec![format!("UNCLOSED@{}", u.column)])),
            }
        }
        out
    }

    #[test]
    fn line_numbers_hold_in_every_line_ending() {
        for nl in ["\n", "\r\n", "\r"] {
            let text = ["h1,h2", "a,b", "", "c,\"x", "y\"", "d,e", ""].join(nl);
            let got = records(&text);
            let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
            assert_eq!(lines, [1, 2, 3, 4, 6], "{nl:?}");
            assert_eq!(got[3].1[1], format!("x{nl}y"));
        }
    }

    #[test]
    fn an_unclosed_quote_loses_only_its_own_row() {
        let got = records("h1,h2\na,\"oops\nb,c\nd,e\n");
        assert_eq!(
            got,
            [
                (1, vec!["h1".into(), "h2".into()]),
                (2, vec!["UNCLOSED@1".into()]),
                (3, vec!["b".into(), "c".into()]),
                (4, vec!["d".into(), "e".into()]),
            ]
        );
    }

    #[test]
    fn quotes_follow_rfc_4180_and_excel() {
        let got = records("\"a \"\"b\"\"\",\"c\"d,e\"f\n");
        assert_eq!(got[0].1, ["a \"b\"", "cd", "e\"f"]);
    }

    #[test]
    fn encodings_are_decided_for_the_whole_file() {
        let text = |d: Decoded| match d.body {
            Body::Text(t) => t,
            Body::Sheet(_) => String::new(),
        };
        let (gbk, _, _) = GB18030.encode("姓名\n郑英\n");
        let e = decode(gbk.to_vec(), None).err().expect("test data");
        assert!(e.contains("--encoding GB18030"), "{e}");
        assert_eq!(
            text(decode(gbk.to_vec(), Some("GBK")).expect("test data")),
            "姓名\n郑英\n"
        );
        // Every byte of these GBK names is also valid UTF-8: refused rather than stored as ֣Ӣ.
        let (names, _, _) = GB18030.encode("郑英,女士\n");
        assert!(std::str::from_utf8(&names).is_ok());
        assert!(decode(names.to_vec(), None).is_err());
        assert_eq!(
            text(decode(names.to_vec(), Some("gbk")).expect("test data")),
            "郑英,女士\n"
        );
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend("a\tb\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(text(decode(utf16, None).expect("test data")), "a\tb\n");
        let bad = decode(b"a,b\nc,\xff\n".to_vec(), Some("utf-8"))
            .err()
            .expect("test data");
        assert!(bad.starts_with("line 2:"), "{bad}");
        assert!(decode(vec![0x1f, 0x8b, 8, 0], None)
            .err()
            .expect("test data")
            .contains("gunzip"));
        assert!(decode(b"PK\x03\x04junk".to_vec(), None)
            .err()
            .expect("test data")
            .contains("zip"));
        assert!(decode(vec![0u8; 512], None)
            .err()
            .expect("test data")
            .contains("binary"));
        assert!(decode(b"id,name\n1,a\x00b\n".to_vec(), None).is_ok());
    }

    #[test]
    fn workbook_numbers_read_as_written() {
        assert_eq!(number(13812340101.0), "13812340101");
        assert_eq!(number(55.5), "55.5");
        assert_eq!(number(120.1), "120.1");
    }
}
