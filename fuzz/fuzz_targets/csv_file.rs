//! A CSV replay file with any header: the first line names the columns, every later
//! line is a sample under that header, whose series id is that of its labels.
#![no_main]

use driftd_core::bounds::MAX_VALUE;
use driftd_receivers::file::{Identity, LineParser, Scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut lines = bytes.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    let identity = Identity::new("value", vec![("source".into(), "fuzz".into())]);
    let Ok(csv) = LineParser::csv(header, identity) else {
        return;
    };
    let mut scratch = Scratch::default();
    for line in lines {
        if let Ok(sample) = csv.parse(line, &mut scratch) {
            assert!(
                sample.value.abs() <= MAX_VALUE,
                "a sample value is in bounds: {}",
                sample.value
            );
            let labels = csv.labels(line).expect("a line that parses has labels");
            assert_eq!(labels.id(), sample.series, "the series id is that of its labels");
        }
    }
});
