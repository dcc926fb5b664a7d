//! Config files: every component driftd ships, loaded from arbitrary text.
#![no_main]

use driftd_core::component::Components;
use libfuzzer_sys::fuzz_target;

/// The binary's component set (src/components.rs), repeated for the fuzzer.
struct All;

impl Components for All {
    type Receiver = driftd_receivers::ReceiverConfig;
    type Processor = driftd_processors::ProcessorConfig;
    type Exporter = driftd_exporters::ExporterConfig;
    type Storage = driftd_exporters::StorageConfig;
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = driftd_core::assembly::load::<All>(text, "fuzz", &|_| None);
    }
});
