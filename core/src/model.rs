//! Points and series identity.

use serde::{Deserialize, Serialize};
use std::fmt;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed, Xxh3};

/// The label that names the service a series belongs to (`/v1/health/{service_id}`).
pub const SERVICE_LABEL: &str = "service.name";

/// Identity of a series: a stable 64-bit hash of its metric name and identifying labels.
///
/// Stable across processes and versions (xxh3 with fixed seeds), so checkpoints and
/// event ids survive restarts.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct SeriesId(pub u64);

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<SeriesId> for String {
    fn from(id: SeriesId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for SeriesId {
    type Error = crate::invalid::Invalid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl std::str::FromStr for SeriesId {
    type Err = crate::invalid::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16)
            .map(SeriesId)
            .map_err(|_| crate::invalid::Invalid::new(s, "a series id", "use its 16 hex digits"))
    }
}

/// Builds a [`SeriesId`] from a metric name and labels given in any order.
///
/// Each label is hashed on its own and the hashes are summed, so the result does not
/// depend on the order labels arrive in and nothing is sorted or allocated.
#[derive(Clone, Copy)]
pub struct SeriesHasher {
    name: u64,
    labels: u64,
}

const NAME_SEED: u64 = 0x6472_6966_7464_0001;

impl SeriesHasher {
    /// Starts a series identity with its metric name.
    pub fn new(metric: impl AsRef<[u8]>) -> Self {
        Self::with_suffix(metric, "")
    }

    /// Starts an identity for `metric` + `suffix` (e.g. `_mean` of a histogram) without
    /// concatenating them.
    pub fn with_suffix(metric: impl AsRef<[u8]>, suffix: &str) -> Self {
        // Streaming over both parts hashes exactly as `metric + suffix` would.
        let name = if suffix.is_empty() {
            xxh3_64_with_seed(metric.as_ref(), NAME_SEED)
        } else {
            let mut h = Xxh3::with_seed(NAME_SEED);
            h.update(metric.as_ref());
            h.update(suffix.as_bytes());
            h.digest()
        };
        SeriesHasher { name, labels: 0 }
    }

    /// Adds one identifying label.
    pub fn label(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let k = xxh3_64(key.as_ref());
        self.labels = self.labels.wrapping_add(xxh3_64_with_seed(value.as_ref(), k));
    }

    /// Adds every label of another partial identity (e.g. resource labels shared by
    /// many points).
    pub fn merge(&mut self, other_labels: LabelHash) {
        self.labels = self.labels.wrapping_add(other_labels.0);
    }

    /// The hash of the labels added so far, to merge into other identities.
    pub fn label_hash(&self) -> LabelHash {
        LabelHash(self.labels)
    }

    /// The finished identity.
    pub fn finish(&self) -> SeriesId {
        // Mix so that a name with no labels and labels that cancel do not collide.
        SeriesId(xxh3_64_with_seed(&self.labels.to_le_bytes(), self.name))
    }
}

/// A partial, order-independent hash of a set of labels.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct LabelHash(pub u64);

impl LabelHash {
    /// Hashes a set of labels given in any order.
    pub fn of<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut h = SeriesHasher { name: 0, labels: 0 };
        for (k, v) in labels {
            h.label(k, v);
        }
        h.label_hash()
    }
}

/// How a point's value is to be read.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// The value is the measurement itself.
    Gauge,
    /// A monotonic cumulative total; the processor turns it into a per-second rate.
    CumulativeCounter,
    /// A histogram's bucket distribution. `value` is the point's count; the bucket
    /// bounds and counts come from [`crate::LabelSource::buckets`]. Cumulative
    /// histograms count since their start, delta ones since the previous point.
    Histogram {
        /// Whether the counts are cumulative.
        cumulative: bool,
    },
}

/// One measurement of one series, as small as it can be: labels live elsewhere.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Point {
    /// The series this point belongs to.
    pub series: SeriesId,
    /// Event time, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// The measured value (finite).
    pub value: f64,
    /// How to read `value`.
    pub kind: ValueKind,
    /// Where the point came from inside its request, for [`crate::LabelSource`].
    pub origin: u32,
}

/// The identifying labels of a series, materialised once when the series is first seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesLabels {
    /// Metric name (with a suffix such as `_mean` for derived series).
    pub metric: String,
    /// Identifying labels, sorted by key; a JSON object in serialized form.
    #[serde(with = "label_map")]
    pub labels: Vec<(String, String)>,
}

/// Serde adapter: sorted label pairs <-> a map (`{"service.name": "api"}`).
mod label_map {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(labels: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(labels.len()))?;
        for (k, v) in labels {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        Ok(BTreeMap::<String, String>::deserialize(d)?.into_iter().collect())
    }
}

impl SeriesLabels {
    /// Builds labels, sorting them by key. They are kept for as long as their series
    /// lives (a million series hold a million copies), so spare capacity is given back.
    pub fn new(metric: impl Into<String>, mut labels: Vec<(String, String)>) -> Self {
        labels.sort();
        labels.shrink_to_fit();
        let mut metric = metric.into();
        metric.shrink_to_fit();
        SeriesLabels { metric, labels }
    }

    /// The value of one label.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The service this series belongs to, if it names one.
    pub fn service(&self) -> Option<&str> {
        self.get(SERVICE_LABEL)
    }

    /// The identity these labels hash to (the same one receivers compute on the fly).
    pub fn id(&self) -> SeriesId {
        let mut h = SeriesHasher::new(&self.metric);
        for (k, v) in &self.labels {
            h.label(k, v);
        }
        h.finish()
    }
}

impl fmt::Display for SeriesLabels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{{", self.metric)?;
        for (i, (k, v)) in self.labels.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            write!(f, "{k}={v:?}")?;
        }
        write!(f, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ignores_label_order() {
        let mut a = SeriesHasher::new("latency");
        a.label("service.name", "checkout");
        a.label("region", "eu");
        let mut b = SeriesHasher::new("latency");
        b.label("region", "eu");
        b.label("service.name", "checkout");
        assert_eq!(a.finish(), b.finish());
    }

    #[test]
    fn identity_separates_names_labels_and_values() {
        let id = |m: &str, l: &[(&str, &str)]| {
            let mut h = SeriesHasher::new(m);
            l.iter().for_each(|(k, v)| h.label(k, v));
            h.finish()
        };
        let base = id("latency", &[("a", "1")]);
        assert_ne!(base, id("latency", &[("a", "2")]));
        assert_ne!(base, id("latency", &[("b", "1")]));
        assert_ne!(base, id("latency2", &[("a", "1")]));
        assert_ne!(base, id("latency", &[]));
        // Swapping key and value must not collide.
        assert_ne!(id("m", &[("x", "y")]), id("m", &[("y", "x")]));
    }

    #[test]
    fn merged_resource_labels_equal_labels_added_one_by_one() {
        let resource = LabelHash::of([("service.name", "api")]);
        let mut merged = SeriesHasher::with_suffix("req", "_mean");
        merged.merge(resource);
        merged.label("route", "/a");
        let labels = SeriesLabels::new(
            "req_mean",
            vec![("route".into(), "/a".into()), ("service.name".into(), "api".into())],
        );
        assert_eq!(merged.finish(), labels.id());
    }

    #[test]
    fn series_id_round_trips_as_hex() {
        let id = SeriesId(0x00ab_cdef_0123_4567);
        assert_eq!(id.to_string(), "00abcdef01234567");
        assert_eq!("00abcdef01234567".parse::<SeriesId>(), Ok(id));
        assert!("xyz".parse::<SeriesId>().is_err());
    }
}
