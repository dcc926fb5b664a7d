//! Where each node of a YAML document starts, by path (`service.pipelines.metrics
//! .receivers[1]`), so errors found after parsing can still name a line.

use saphyr_parser::{Event, Parser};
use std::collections::HashMap;

/// A 1-based line and column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Path → location of every key and sequence item in a document.
#[derive(Debug, Default)]
pub struct LineIndex {
    at: HashMap<String, Location>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

impl LineIndex {
    /// Indexes `text`; a document that does not parse gives an empty index (the YAML
    /// error itself carries the location).
    pub fn of(text: &str) -> Self {
        let mut index = LineIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let here = Location {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            // The path of a node that starts at this event, when it is a value.
            let value_path = |stack: &mut Vec<Frame>| -> Option<String> {
                match stack.last_mut()? {
                    Frame::Map { path, key } => key.take().map(|k| join(path, &k)),
                    Frame::Seq { path, next } => {
                        *next += 1;
                        Some(format!("{path}[{}]", *next - 1))
                    }
                }
            };
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { path, key: key @ None }) = stack.last_mut() {
                        let p = join(path, &value);
                        index.at.entry(p).or_insert(here);
                        *key = Some(value.into_owned());
                    } else if let Some(p) = value_path(&mut stack) {
                        index.at.entry(p).or_insert(here);
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let path = match value_path(&mut stack) {
                        Some(p) => {
                            index.at.entry(p.clone()).or_insert(here);
                            p
                        }
                        None => String::new(),
                    };
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { path, key: None }
                    } else {
                        Frame::Seq { path, next: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                Event::Alias(_) => {
                    value_path(&mut stack);
                }
                _ => {}
            }
        }
        index
    }

    /// The location of `path`, or of its nearest ancestor that is in the document.
    pub fn find(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(l) = self.at.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "receivers:\n  otlp/internal:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:4317\nservice:\n  pipelines:\n    metrics:\n      receivers: [otlp, other]\n";

    #[test]
    fn finds_keys_and_sequence_items() {
        let idx = LineIndex::of(DOC);
        let at = |p| idx.find(p).map(|l| (l.line, l.column));
        assert_eq!(at("receivers.otlp/internal"), Some((2, 3)));
        assert_eq!(at("receivers.otlp/internal.protocols.grpc.endpoint"), Some((5, 9)));
        assert_eq!(at("service.pipelines.metrics.receivers[1]"), Some((9, 25)));
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let idx = LineIndex::of(DOC);
        let l = idx.find("receivers.otlp/internal.protocols.grpc.missing").unwrap();
        assert_eq!(l.line, 4);
    }
}
