//! Config in the OpenTelemetry Collector's shape: what a component's config is
//! ([`ComponentConfig`]), ids, pipelines, secrets, and the errors with their YAML path
//! and line. Loading a whole file against the components a binary ships is
//! `crate::assembly`.

pub(crate) mod env;
mod error;
mod lines;

pub use error::{ConfigError, ConfigErrors};
pub use lines::{LineIndex, Location};
/// The YAML value components are parsed from.
pub use serde_yaml::Value;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A component's config: a closed enum per crate, one variant per component type,
/// each type declared once in [`ComponentConfig::KINDS`].
pub trait ComponentConfig: Sized + Serialize + 'static {
    /// Every component type this enum knows, in the order the docs list them.
    const KINDS: &'static [Kind<Self>];

    /// Parses the YAML body of a component of type `kind` (`otlp` for `otlp/internal`).
    fn parse(kind: &str, body: serde_yaml::Value) -> Result<Self, ParseError> {
        match Self::KINDS.iter().find(|k| k.name == kind) {
            Some(k) => (k.parse)(body),
            None => Err(ParseError::UnknownKind),
        }
    }

    /// The type names, for "unknown type" errors: `otlp, http_json, kafka`.
    fn kind_names() -> String {
        Self::KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
    }

    /// Cross-field rules; paths are relative to the component. No I/O.
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// One component type: its YAML type name, what it does, and how its body parses.
pub struct Kind<C> {
    /// The type name, as in `otlp` or `otlp/internal`.
    pub name: &'static str,
    /// One line on what it does, for the generated config reference.
    pub about: &'static str,
    /// The body the generated reference is made from: `{}` unless a setting is
    /// required or a part is off until it is named (the reference then shows it on).
    pub example: &'static str,
    /// Parses a body into the crate's config enum.
    pub parse: fn(serde_yaml::Value) -> Result<C, ParseError>,
}

/// Why a component body did not parse.
#[derive(Debug)]
pub enum ParseError {
    /// No component of this type exists.
    UnknownKind,
    /// The body does not fit the type; `path` is relative to the component.
    Invalid {
        /// Relative path of the offending node.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A cross-field validation failure at a path relative to the component.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Relative path (`protocols.grpc.endpoint`), empty for the component itself.
    pub path: String,
    /// What to change.
    pub message: String,
}

impl FieldError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Deserializes a component body into `T`, keeping the path of the first error.
/// An empty body (`otlp:` with nothing under it) means all defaults.
pub fn parse_body<T: DeserializeOwned>(body: serde_yaml::Value) -> Result<T, ParseError> {
    let body = match body {
        serde_yaml::Value::Null => serde_yaml::Value::Mapping(Default::default()),
        b => b,
    };
    serde_path_to_error::deserialize(body).map_err(|e| {
        let mut path = String::new();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let message = e.into_inner().to_string();
        // serde names an unknown field in the message but not in the path.
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            if !path.ends_with(field) {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(field);
            }
        }
        ParseError::Invalid { path, message }
    })
}

/// `type[/name]`: a component type and an optional instance name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId {
    kind: String,
    name: Option<String>,
}

impl ComponentId {
    /// Parses `otlp` or `otlp/internal`.
    pub fn parse(s: &str) -> Result<Self, crate::invalid::Invalid> {
        let (kind, name) = match s.split_once('/') {
            Some((k, n)) => (k, Some(n)),
            None => (s, None),
        };
        let valid = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if !valid(kind) || !name.is_none_or(valid) {
            return Err(crate::invalid::Invalid::new(
                s,
                "a component id",
                "use `type` or `type/name` (letters, digits, _ - .)",
            ));
        }
        Ok(ComponentId {
            kind: kind.to_string(),
            name: name.map(str::to_string),
        })
    }

    /// The component type (`otlp`).
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.kind, n),
            None => f.write_str(&self.kind),
        }
    }
}

impl Serialize for ComponentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ComponentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ComponentId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `service:`: pipelines and driftd's own telemetry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Pipelines by id (`metrics`, `metrics/internal`).
    #[serde(default)]
    pub pipelines: BTreeMap<String, PipelineConfig>,
    /// driftd's own logs.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// Limits every HTTP and gRPC listener holds: timeouts and connections.
    #[serde(default)]
    pub listeners: crate::listener::ListenerLimits,
    /// How much memory driftd may hold before it refuses new series, then all data.
    #[serde(default)]
    pub memory_limiter: crate::memory::MemoryLimiterConfig,
    /// How long each phase of a shutdown may take.
    #[serde(default)]
    pub shutdown: crate::service::ShutdownDeadlines,
    /// Extensions to enable (none are built in yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ComponentId>,
}

/// One pipeline: receivers → processors (in order) → exporters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Where points come from.
    #[serde(default)]
    pub receivers: Vec<ComponentId>,
    /// Processing stages, in order.
    #[serde(default)]
    pub processors: Vec<ComponentId>,
    /// Where points and events go.
    #[serde(default)]
    pub exporters: Vec<ComponentId>,
}

/// `service.telemetry`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Log settings.
    #[serde(default)]
    pub logs: LogsConfig,
}

/// `service.telemetry.logs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    /// `error`, `warn`, `info`, `debug` or `trace` (RUST_LOG, when set, wins).
    #[serde(default = "LogsConfig::default_level")]
    pub level: LogLevel,
}

impl LogsConfig {
    fn default_level() -> LogLevel {
        LogLevel::Info
    }
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig { level: LogLevel::Info }
    }
}

/// A log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// Normal operation.
    Info,
    /// Verbose.
    Debug,
    /// Very verbose.
    Trace,
}

impl LogLevel {
    /// The level as a tracing filter directive.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// A secret string (token, password): read from config, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}
