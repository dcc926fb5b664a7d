//! A gzip request body under the receivers' size limit: never more than the limit is
//! inflated, and a body within it comes back whole.
#![no_main]

use driftd_receivers::body::{gunzip, BodyError};
use flate2::read::MultiGzDecoder;
use libfuzzer_sys::fuzz_target;
use std::io::Read;

const LIMIT: usize = 64 * 1024;

fuzz_target!(|bytes: &[u8]| {
    // What the whole body inflates to, up to one byte past the limit.
    let mut reference = Vec::new();
    let whole = MultiGzDecoder::new(bytes)
        .take(LIMIT as u64 + 1)
        .read_to_end(&mut reference);
    match gunzip(bytes, LIMIT) {
        Ok(out) => {
            assert!(out.len() <= LIMIT);
            assert!(whole.is_ok() && out == reference);
        }
        Err(BodyError::DecompressedTooLarge(n)) => {
            assert_eq!(n, LIMIT);
            assert!(reference.len() > LIMIT);
        }
        Err(BodyError::Gzip(_)) => assert!(whole.is_err()),
        Err(e) => panic!("unexpected error from gunzip: {e}"),
    }
});
