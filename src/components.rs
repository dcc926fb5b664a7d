//! Every component this binary ships, in one place: the receivers, processors,
//! exporters and storage backends each crate's closed enum lists.

use driftd_core::component::Components;

/// The component set of the `driftd` binary.
pub struct Driftd;

impl Components for Driftd {
    type Receiver = driftd_receivers::ReceiverConfig;
    type Processor = driftd_processors::ProcessorConfig;
    type Exporter = driftd_exporters::ExporterConfig;
    type Storage = driftd_exporters::StorageConfig;
}

#[cfg(test)]
mod tests {
    use super::Driftd;

    /// docs/CONFIG.md is what `driftd config-reference` prints today: a new component,
    /// setting or default changes the reference, and this fails until it is written
    /// again (`driftd config-reference > docs/CONFIG.md`).
    #[test]
    fn the_config_reference_is_current() {
        let generated = driftd_core::assembly::reference::<Driftd>().expect("every example loads");
        let checked_in = include_str!("../docs/CONFIG.md");
        assert!(
            generated == checked_in,
            "docs/CONFIG.md is stale: run `cargo run -- config-reference > docs/CONFIG.md`"
        );
    }
}
