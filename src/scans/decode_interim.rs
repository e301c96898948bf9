//! Interim photo decoding (replaced by the measured pipeline): image bytes in, barcodes out.

use std::time::{Duration, Instant};

use rxing::{BarcodeFormat, DecodeHintValue, DecodeHints};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Symbology {
    QrCode,
    Code128,
    DataMatrix,
}

#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub budget: Duration,
    pub max_bytes: usize,
    pub max_pixels: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            budget: Duration::from_millis(1500),
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 50_000_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    pub text: String,
    pub symbology: Symbology,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not an image")]
    NotAnImage,
    #[error("too large: {what}")]
    TooLarge { what: String },
    #[error("no barcode")]
    NoBarcode,
    #[error("timed out")]
    TimedOut,
}

#[derive(Debug, Clone)]
pub struct DecodeOutcome {
    pub accepted: Option<Decoded>,
    pub seen: Vec<Decoded>,
    pub elapsed: Duration,
    pub attempts: u32,
}

pub fn decode_photo(
    bytes: &[u8],
    opts: &DecodeOptions,
    accept: &dyn Fn(&str) -> bool,
) -> Result<DecodeOutcome, DecodeError> {
    let start = Instant::now();
    if bytes.len() > opts.max_bytes {
        return Err(DecodeError::TooLarge {
            what: format!("{} bytes", bytes.len()),
        });
    }
    let img = image::load_from_memory(bytes).map_err(|_| DecodeError::NotAnImage)?;
    if (img.width() as u64) * (img.height() as u64) > opts.max_pixels {
        return Err(DecodeError::TooLarge {
            what: "pixels".into(),
        });
    }
    if img.width() < 20 || img.height() < 20 {
        return Err(DecodeError::NoBarcode);
    }
    let luma = img.to_luma8();
    let (w, h) = luma.dimensions();
    let mut hints = DecodeHints::default();
    hints.PossibleFormats = Some(
        [
            BarcodeFormat::QR_CODE,
            BarcodeFormat::CODE_128,
            BarcodeFormat::DATA_MATRIX,
        ]
        .into_iter()
        .collect(),
    );
    hints.TryHarder = Some(true);
    let _ = DecodeHintValue::TryHarder(true);
    let results =
        rxing::helpers::detect_multiple_in_luma_with_hints(luma.into_raw(), w, h, &mut hints)
            .unwrap_or_default();
    let seen: Vec<Decoded> = results
        .iter()
        .filter_map(|r| {
            let symbology = match r.getBarcodeFormat() {
                BarcodeFormat::QR_CODE => Symbology::QrCode,
                BarcodeFormat::CODE_128 => Symbology::Code128,
                BarcodeFormat::DATA_MATRIX => Symbology::DataMatrix,
                _ => return None,
            };
            Some(Decoded {
                text: r.getText().to_owned(),
                symbology,
            })
        })
        .collect();
    let accepted = seen.iter().find(|d| accept(&d.text)).cloned();
    Ok(DecodeOutcome {
        accepted,
        seen,
        elapsed: start.elapsed(),
        attempts: 1,
    })
}
