//! The parts of a metric the decoder reads in more than one pass: its data (which
//! protobuf may send in several pieces) and a histogram point's bucket layout.

use super::summary::Refusal;
use super::wire::{Fields, Text, WireError};

/// A histogram point's bucket layout, checked as it is read.
#[derive(Default)]
pub(super) struct Layout {
    pub(super) buckets: usize,
    bounds: usize,
    last_bound: f64,
    disordered: bool,
}

impl Layout {
    pub(super) fn bound(&mut self, b: f64) {
        let increasing = self.bounds == 0 || b > self.last_bound;
        self.disordered |= !(b.is_finite() && increasing);
        self.last_bound = b;
        self.bounds += 1;
    }

    /// `Err` for a layout that contradicts itself; none at all (only a count and a
    /// sum) is fine.
    pub(super) fn check(&self) -> Result<(), Refusal> {
        let none = self.buckets == 0 && self.bounds == 0;
        if !none && (self.buckets != self.bounds + 1 || self.disordered) {
            return Err(Refusal::HistogramBucketsInvalid);
        }
        Ok(())
    }
}

/// A `Metric`'s data: one of 5 gauge, 7 sum, 9 histogram, 10 exponential histogram,
/// 11 summary. As protobuf merges them, a data field sent again adds to the one before
/// (its points add up), and another kind replaces it.
pub(super) struct MetricData<'a> {
    metric: &'a [u8],
    /// The data field's number.
    pub(super) kind: u32,
    /// The index, among the metric's fields, of the first field of the kind that won.
    from: usize,
    /// That field's bytes, and how many fields of its kind follow from it: nearly
    /// always one, which is then read without walking the metric again.
    first: &'a [u8],
    parts: usize,
}

impl<'a> MetricData<'a> {
    /// The metric's name (field 1) and data; `None` for a metric without data.
    pub(super) fn read(metric: &'a [u8]) -> Result<Option<(Text<'a>, Self)>, WireError> {
        let (mut name, mut kind, mut from, mut first, mut parts) = (Text::default(), 0, 0, &[][..], 0);
        for (i, f) in Fields::new(metric).enumerate() {
            let f = f?;
            match f.number {
                1 => name = f.text()?,
                5 | 7 | 9 | 10 | 11 => {
                    let part = f.bytes()?;
                    if f.number != kind {
                        (kind, from, first, parts) = (f.number, i, part, 0);
                    }
                    parts += 1;
                }
                _ => {}
            }
        }
        let data = MetricData {
            metric,
            kind,
            from,
            first,
            parts,
        };
        Ok((kind != 0).then_some((name, data)))
    }

    /// Calls `each` with every part of the data, in wire order.
    pub(super) fn each(&self, mut each: impl FnMut(&'a [u8]) -> Result<(), WireError>) -> Result<(), WireError> {
        if self.parts == 1 {
            return each(self.first);
        }
        for f in Fields::new(self.metric).skip(self.from) {
            let f = f?;
            if f.number == self.kind {
                each(f.bytes()?)?;
            }
        }
        Ok(())
    }

    /// How many data points (field 1 of each part) the data holds.
    pub(super) fn count_points(&self) -> Result<usize, WireError> {
        let mut n = 0;
        self.each(|part| {
            for f in Fields::new(part) {
                n += usize::from(f?.number == 1);
            }
            Ok(())
        })?;
        Ok(n)
    }
}
