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
