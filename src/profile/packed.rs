//! A kept card stored deflated once, and spliced into a gzip answer without compressing anything per request.

use axum::http::{header, HeaderMap};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

/// The first byte of a packed card: the layout below. Another value is not a card this build can read.
const FORMAT: u8 = 1;
/// Format byte, CRC-32 of the text and its length (both little-endian), then the raw deflate blocks.
const PREFIX: usize = 9;
/// A card is deflated once and sent many times: zlib's default level (on 300 cards of a 100k company, 1,422 bytes
/// a card; level 1 leaves 1,657).
const LEVEL: u32 = 6;
/// The longest deflate stored block.
const STORED_MAX: usize = u16::MAX as usize;
/// A gzip member's header: deflate, no flags, no time, unknown OS (RFC 1952, 2.3).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A card's text as raw deflate blocks that end on a byte boundary without a final block (a sync flush), so they
/// can sit between other blocks of one deflate stream; with the text's CRC-32 and length for the gzip trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed(Vec<u8>);

/// Why a card's text could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Longer than a gzip trailer can count.
    #[error("a card of {0} bytes is too long to pack")]
    TooLong(usize),
    /// The compressor refused (it does not with a growing buffer).
    #[error("deflate failed: {0}")]
    Deflate(#[from] flate2::CompressError),
}

impl Packed {
    /// Deflates `text` (a card's JSON) for storing.
    pub fn pack(text: &str) -> Result<Packed, PackError> {
        let len = u32::try_from(text.len()).map_err(|_| PackError::TooLong(text.len()))?;
        let mut out = Vec::with_capacity(PREFIX + text.len() / 3 + 64);
        out.push(FORMAT);
        out.extend_from_slice(&crc32fast::hash(text.as_bytes()).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        let mut z = Compress::new(Compression::new(LEVEL), false);
        let mut rest = text.as_bytes();
        loop {
            out.reserve(rest.len() / 2 + 64);
            let before = z.total_in();
            z.compress_vec(rest, &mut out, FlushCompress::Sync)?;
            rest = &rest[(z.total_in() - before) as usize..];
            // The flush is complete once all input is in and the compressor left room unused.
            if rest.is_empty() && out.len() < out.capacity() {
                return Ok(Packed(out));
            }
        }
    }

    /// A stored packed card, when its layout is one this build reads.
    pub fn from_stored(bytes: Vec<u8>) -> Option<Packed> {
        (bytes.len() > PREFIX && bytes[0] == FORMAT).then_some(Packed(bytes))
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn crc(&self) -> u32 {
        u32::from_le_bytes([self.0[1], self.0[2], self.0[3], self.0[4]])
    }

    fn text_len(&self) -> u32 {
        u32::from_le_bytes([self.0[5], self.0[6], self.0[7], self.0[8]])
    }

    /// The card's text again (for a client that does not take gzip); `None` when the bytes do not inflate to
    /// the text they were packed from.
    pub fn unpack(&self) -> Option<String> {
        let mut out = Vec::new();
        self.unpack_onto(&mut out)
            .then(|| String::from_utf8(out).ok())
            .flatten()
    }

    /// Appends the card's text to `out` (an answer's head), checked against its length and CRC-32; false, with
    /// `out` as it was, when the bytes do not inflate to that text. The text was valid UTF-8 when packed.
    pub fn unpack_onto(&self, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let len = self.text_len() as usize;
        out.reserve(len);
        let mut z = Decompress::new(false);
        let input = &self.0[PREFIX..];
        while (z.total_in() as usize) < input.len() && out.len() - start < len {
            let before = (z.total_in(), z.total_out());
            let inflated =
                z.decompress_vec(&input[z.total_in() as usize..], out, FlushDecompress::Sync);
            if inflated.is_err() || (z.total_in(), z.total_out()) == before {
                out.truncate(start);
                return false;
            }
        }
        let whole = out.len() - start == len && crc32fast::hash(&out[start..]) == self.crc();
        if !whole {
            out.truncate(start);
        }
        whole
    }

    /// One gzip member holding `head`, the card and `tail`: the head and tail go in stored (uncompressed)
    /// blocks around the card's blocks, and the trailer's CRC-32 is combined from the three parts'.
    pub fn gzip_between(&self, head: &[u8], tail: &[u8]) -> Vec<u8> {
        let deflated = &self.0[PREFIX..];
        let framing = 5 * (head.len() / STORED_MAX + tail.len() / STORED_MAX + 2);
        let mut out = Vec::with_capacity(
            GZIP_HEADER.len() + head.len() + deflated.len() + tail.len() + framing + 8,
        );
        out.extend_from_slice(&GZIP_HEADER);
        stored_blocks(&mut out, head, false);
        out.extend_from_slice(deflated);
        stored_blocks(&mut out, tail, true);
        let mut crc = crc32fast::Hasher::new();
        crc.update(head);
        crc.combine(&crc32fast::Hasher::new_with_initial_len(
            self.crc(),
            u64::from(self.text_len()),
        ));
        crc.update(tail);
        let total = head.len() as u64 + u64::from(self.text_len()) + tail.len() as u64;
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out
    }
}

/// `data` as deflate stored blocks at a byte boundary (RFC 1951, 3.2.4); the last one final when `last`.
fn stored_blocks(out: &mut Vec<u8>, data: &[u8], last: bool) {
    let mut chunks = data.chunks(STORED_MAX).peekable();
    if chunks.peek().is_none() {
        if last {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        return;
    }
    while let Some(chunk) = chunks.next() {
        let len = chunk.len() as u16;
        out.push(u8::from(last && chunks.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Whether the request's `Accept-Encoding` takes gzip (named, or `*`, with a q-value above 0; RFC 9110,
/// 12.5.3). A request without the header is answered uncompressed.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| {
                    let (name, v) = p.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next_back()
                .map_or(1.0, |v| v.parse::<f32>().unwrap_or(0.0));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if coding == "*" {
                any = Some(q);
            }
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .expect("test data");
        text
    }

    fn card(n: usize) -> String {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"kind":"coat","brand":"羊绒 {i}","times_cleaned":{}}}"#,
                    i % 7
                )
            })
            .collect();
        format!(r#"{{"name":"刘芳","wardrobe":[{}]}}"#, items.join(","))
    }

    #[test]
    fn a_packed_card_unpacks_to_its_text_and_is_smaller() {
        for n in [0, 1, 40, 3_000] {
            let text = card(n);
            let packed = Packed::pack(&text).expect("test data");
            assert_eq!(packed.unpack().as_deref(), Some(text.as_str()));
            if n >= 40 {
                assert!(packed.as_bytes().len() * 3 < text.len(), "{n}");
            }
            let stored = Packed::from_stored(packed.as_bytes().to_vec()).expect("test data");
            assert_eq!(stored, packed);
        }
    }

    #[test]
    fn the_gzip_answer_is_head_card_and_tail_for_any_gzip_reader() {
        let text = card(200);
        let packed = Packed::pack(&text).expect("test data");
        let big_head = format!(r#"{{"note":"{}","customer":"#, "x".repeat(70_000));
        for (head, tail) in [
            (r#"{"code":"D-1","customer":"#.to_owned(), "}"),
            (String::new(), ""),
            (big_head, "}"),
        ] {
            let gz = packed.gzip_between(head.as_bytes(), tail.as_bytes());
            assert_eq!(gunzip(&gz), format!("{head}{text}{tail}"));
        }
    }

    #[test]
    fn damaged_or_foreign_bytes_are_not_taken_for_a_card() {
        assert!(Packed::from_stored(b"{\"name\":\"x\"}".to_vec()).is_none());
        assert!(Packed::from_stored(vec![FORMAT; 4]).is_none());
        let mut bytes = Packed::pack(&card(30))
            .expect("test data")
            .as_bytes()
            .to_vec();
        let last = bytes.len() - 8;
        bytes[last] ^= 0x55;
        assert_eq!(
            Packed::from_stored(bytes).expect("test data").unpack(),
            None
        );
    }

    #[test]
    fn a_card_unpacks_onto_a_head_or_leaves_it_as_it_was() {
        let text = card(40);
        let mut out = b"{\"customer\":".to_vec();
        assert!(Packed::pack(&text)
            .expect("test data")
            .unpack_onto(&mut out));
        assert_eq!(out, format!("{{\"customer\":{text}").into_bytes());
        let mut bytes = Packed::pack(&text).expect("test data").as_bytes().to_vec();
        let last = bytes.len() - 8;
        bytes[last] ^= 0x55;
        let mut out = b"head".to_vec();
        assert!(!Packed::from_stored(bytes)
            .expect("test data")
            .unpack_onto(&mut out));
        assert_eq!(out, b"head");
    }

    #[test]
    fn gzip_is_taken_as_the_header_says() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, v.parse().expect("test data"));
            accepts_gzip(&h)
        };
        assert!(!accepts_gzip(&HeaderMap::new()));
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(with("x-gzip"));
        assert!(!with("gzip;q=0"));
        assert!(!with("gzip;q=0.000, *;q=1"));
        assert!(!with("br, deflate"));
        assert!(!with("identity"));
        assert!(!with("*;q=0"));
        assert!(!with("gzip;q=junk"));
    }
}
