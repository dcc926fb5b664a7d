//! One line of a replay input file, as CSV (with a fixed header) and as JSON lines.
#![no_main]

use driftd_receivers::file::{Identity, LineParser, Scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    let identity = || Identity::new("value", Vec::new());
    let mut scratch = Scratch::default();
    if let Ok(csv) = LineParser::csv(b"timestamp,value,metric,host", identity()) {
        if csv.parse(line, &mut scratch).is_ok() {
            let _ = csv.labels(line);
        }
    }
    let jsonl = LineParser::jsonl(identity());
    if jsonl.parse(line, &mut scratch).is_ok() {
        let _ = jsonl.labels(line);
    }
});
