//! Fuzzes the photo decoder: any bytes must give an outcome or an error, never a panic or a hang.
#![no_main]

use std::time::Duration;

use doorstep::decode::{decode_photo, DecodeOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run short; the budget bounds the retries, -timeout catches hangs.
    let opts = DecodeOptions {
        budget: Duration::from_millis(300),
        max_bytes: 1 << 20,
        max_pixels: 4_000_000,
        frame: false,
    };
    let _ = decode_photo(data, &opts, &|_| true);
});
