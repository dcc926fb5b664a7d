//! JSON lines: one object per line, `{"timestamp": ..., "metric": "...", "value": 1.5,
//! "labels": {"host": "a"}}`. `timestamp` is an RFC 3339 string (or the NAB form) or
//! Unix seconds as a number; `metric` and `labels` are optional; label values may be
//! strings, numbers or booleans. Unknown keys are errors, so a typo (`lables`) is not
//! silently a different series.
//!
//! Labels are hashed straight from the parser through a visitor: a good line allocates
//! nothing unless a string needs unescaping.

use super::parse::{Identity, LineError, Sample};
use driftd_core::model::SeriesHasher;
use driftd_core::time::{from_unix_seconds, parse_timestamp, TimestampError};
use driftd_core::SeriesLabels;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

const FIELDS: &[&str] = &["timestamp", "metric", "value", "labels"];

/// Parses one JSON line.
pub fn parse_line(identity: &Identity, line: &[u8]) -> Result<Sample, LineError> {
    let mut labels = HashLabels {
        identity,
        hasher: SeriesHasher::new(""),
    };
    let fields = read(line, &mut labels)?;
    let mut series = SeriesHasher::new(fields.metric.as_deref().unwrap_or(identity.default_metric()));
    series.merge(identity.label_hash());
    series.merge(labels.hasher.label_hash());
    Ok(Sample {
        series: series.finish(),
        time_unix_nano: fields.timestamp,
        value: fields.value,
    })
}

/// The labels of the series of a line [`parse_line`] accepted.
pub fn line_labels(identity: &Identity, line: &[u8]) -> Result<SeriesLabels, LineError> {
    let mut labels = CollectLabels {
        identity,
        own: Vec::new(),
    };
    let fields = read(line, &mut labels)?;
    let metric = fields.metric.as_deref().unwrap_or(identity.default_metric());
    Ok(identity.series_labels(metric, labels.own))
}

/// The fields of a line besides its labels.
struct Fields<'de> {
    timestamp: u64,
    metric: Option<Cow<'de, str>>,
    value: f64,
}

fn read<'de>(line: &'de [u8], labels: &mut dyn LabelSink) -> Result<Fields<'de>, LineError> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let fields = LineSeed { labels }
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f))
        .map_err(|e| LineError::Json(e.to_string()))?;
    if fields.metric.as_deref() == Some("") {
        return Err(LineError::EmptyMetric);
    }
    Ok(fields)
}

/// Where the labels of a line go as they are parsed.
trait LabelSink {
    fn label(&mut self, key: &str, value: &str) -> Result<(), String>;
}

/// Hashes labels into a series identity.
struct HashLabels<'a> {
    identity: &'a Identity,
    hasher: SeriesHasher,
}

impl LabelSink for HashLabels<'_> {
    fn label(&mut self, key: &str, value: &str) -> Result<(), String> {
        if self.identity.sets(key) {
            return Err(LineError::LabelClash { key: key.to_string() }.to_string());
        }
        self.hasher.label(key, value);
        Ok(())
    }
}

/// Collects labels, to materialise a new series.
struct CollectLabels<'a> {
    identity: &'a Identity,
    own: Vec<(String, String)>,
}

impl LabelSink for CollectLabels<'_> {
    fn label(&mut self, key: &str, value: &str) -> Result<(), String> {
        if self.identity.sets(key) {
            return Err(LineError::LabelClash { key: key.to_string() }.to_string());
        }
        self.own.push((key.to_string(), value.to_string()));
        Ok(())
    }
}

struct LineSeed<'s> {
    labels: &'s mut dyn LabelSink,
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = Fields<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object {timestamp, metric?, value, labels?}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut timestamp, mut metric, mut value, mut labels_seen) = (None, None, None, false);
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let seen = match key.0.as_ref() {
                "timestamp" => timestamp.replace(map.next_value::<Timestamp>()?.0).is_some(),
                "metric" => metric.replace(map.next_value::<Text<'de>>()?.0).is_some(),
                "value" => value.replace(map.next_value::<f64>()?).is_some(),
                "labels" => {
                    // A second `labels` would add to the first; refuse it before it does.
                    if labels_seen {
                        return Err(de::Error::duplicate_field("labels"));
                    }
                    labels_seen = true;
                    map.next_value_seed(LabelsSeed {
                        labels: &mut *self.labels,
                    })?;
                    false
                }
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            };
            if seen {
                let name = FIELDS.iter().find(|f| **f == key.0).copied().unwrap_or("field");
                return Err(de::Error::duplicate_field(name));
            }
        }
        let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
        driftd_core::bounds::check_value(value).map_err(de::Error::custom)?;
        Ok(Fields {
            timestamp: timestamp.ok_or_else(|| de::Error::missing_field("timestamp"))?,
            metric,
            value,
        })
    }
}

struct LabelsSeed<'s> {
    labels: &'s mut dyn LabelSink,
}

impl<'de> DeserializeSeed<'de> for LabelsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LabelsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of label names to values")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(()) // `"labels": null` means none
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some((key, value)) = map.next_entry::<Text<'de>, LabelValue<'de>>()? {
            self.labels.label(&key.0, &value.0).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// A string, borrowed from the line unless it had escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor { scalars: false })
    }
}

/// A label value: a string, or a number or boolean taken as its JSON text.
struct LabelValue<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for LabelValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor { scalars: true })
            .map(|t| LabelValue(t.0))
    }
}

struct TextVisitor {
    scalars: bool,
}

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.scalars {
            "a string, number or boolean"
        } else {
            "a string"
        })
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.scalar(if v { "true" } else { "false" }.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.scalar(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.scalar(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.scalar(v.to_string())
    }
}

impl TextVisitor {
    fn scalar<'de, E: de::Error>(&self, text: String) -> Result<Text<'de>, E> {
        if self.scalars {
            Ok(Text(Cow::Owned(text)))
        } else {
            Err(E::invalid_type(de::Unexpected::Str(&text), self))
        }
    }
}

/// Event time: a timestamp string or Unix seconds.
struct Timestamp(u64);

impl<'de> de::Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp string or Unix seconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        parse_timestamp(v.as_bytes())
            .map(Timestamp)
            .map_err(|e| E::custom(LineError::timestamp(v.as_bytes(), e)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        v.checked_mul(1_000_000_000)
            .map(Timestamp)
            .ok_or_else(|| E::custom(LineError::timestamp(v.to_string().as_bytes(), TimestampError::TooLate)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        self.visit_f64(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        from_unix_seconds(v)
            .map(Timestamp)
            .map_err(|e| E::custom(LineError::timestamp(v.to_string().as_bytes(), e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identity {
        Identity::new("value", vec![("env".into(), "prod".into())])
    }

    #[test]
    fn lines_parse_with_and_without_labels() {
        let s = parse_line(&id(), br#"{"timestamp":"2014-04-01 00:00:00","value":1.5}"#).unwrap();
        assert_eq!((s.time_unix_nano, s.value), (1_396_310_400_000_000_000, 1.5));
        let labels = line_labels(&id(), br#"{"timestamp":1,"value":2}"#).unwrap();
        assert_eq!(labels.metric, "value");
        assert_eq!(s.series, labels.id());

        let line = br#"{"labels":{"host":"a\"b","shard":3,"up":true},"metric":"cpu","value":7,"timestamp":1.5}"#;
        let s = parse_line(&id(), line).unwrap();
        let labels = line_labels(&id(), line).unwrap();
        assert_eq!(s.series, labels.id(), "hash and materialised labels agree");
        assert_eq!(labels.get("host"), Some("a\"b"));
        assert_eq!(labels.get("shard"), Some("3"));
        assert_eq!(labels.get("env"), Some("prod"));
        assert_eq!(s.time_unix_nano, 1_500_000_000);
    }

    #[test]
    fn bad_lines_say_why() {
        let err = |l: &str| parse_line(&id(), l.as_bytes()).unwrap_err().to_string();
        assert!(err(r#"{"timestamp":1}"#).contains("missing field `value`"));
        assert!(err(r#"{"value":1}"#).contains("missing field `timestamp`"));
        assert!(err(r#"{"timestamp":1,"value":1,"lables":{}}"#).contains("unknown field `lables`"));
        assert!(err(r#"{"timestamp":1,"value":1,"value":2}"#).contains("duplicate field `value`"));
        assert!(err(r#"{"timestamp":"soon","value":1}"#).contains("timestamp `soon`"));
        assert!(err(r#"{"timestamp":-1,"value":1}"#).contains("before 1970"));
        assert!(err(r#"{"timestamp":1,"value":"1"}"#).contains("invalid type"));
        assert!(err(r#"{"timestamp":1,"value":1,"labels":{"env":"dev"}}"#).contains("label `env`"));
        assert!(err(r#"{"timestamp":1,"value":1,"metric":""}"#).contains("metric name is empty"));
        assert!(err(r#"{"timestamp":1,"value":1} x"#).contains("trailing"));
        assert!(err("[1,2]").contains("an object"));
    }
}
