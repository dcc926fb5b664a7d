//! The loader: YAML text → `Config`, collecting every error.

use super::Config;
use crate::component::{Components, ExporterFactory, ProcessorFactory, Signal};
use crate::config::env::expand;
use crate::config::{parse_body, ComponentConfig, ComponentId, ConfigError, ConfigErrors, LineIndex, Location};
use crate::config::{ParseError, ServiceConfig};
use serde_yaml::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SECTIONS: &[&str] = &[
    "receivers",
    "processors",
    "exporters",
    "storage",
    "extensions",
    "service",
];

/// Reads and loads a config file, expanding `${env:...}` from the process environment.
pub fn load_file<C: Components>(path: &Path) -> Result<Config<C>, ConfigErrors> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
        source: source.clone(),
        errors: vec![ConfigError {
            path: String::new(),
            location: None,
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    load(&text, &source, &|k| std::env::var(k).ok())
}

/// Loads config text. `source` names it in errors; `env` looks up variables.
pub fn load<C: Components>(
    text: &str,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config<C>, ConfigErrors> {
    let mut l = Loader {
        index: LineIndex::of(text),
        errors: Vec::new(),
        broken: BTreeSet::new(),
    };
    let fail = |errors| ConfigErrors {
        source: source.to_string(),
        errors,
    };
    let mut root: Value = match serde_yaml::from_str(text) {
        Ok(Value::Null) => Value::Mapping(Mapping::new()),
        Ok(v) => v,
        Err(e) => {
            let location = e.location().map(|l| Location {
                line: l.line(),
                column: l.column(),
            });
            return Err(fail(vec![ConfigError {
                path: String::new(),
                location,
                message: format!("not valid YAML: {e}"),
            }]));
        }
    };
    let mut env_errors = Vec::new();
    expand(&mut root, "", env, &mut env_errors);
    for (path, message) in env_errors {
        l.error(&path, message);
    }
    let Value::Mapping(mut root) = root else {
        l.error(
            "",
            "the config must be a mapping with receivers, processors, exporters and service",
        );
        return Err(fail(l.errors));
    };
    for key in root.keys() {
        let k = key.as_str().unwrap_or("?");
        if !SECTIONS.contains(&k) {
            l.error(
                k,
                format!("unknown section `{k}`: expected one of {}", SECTIONS.join(", ")),
            );
        }
    }
    let mut take = |name: &str| root.remove(name).unwrap_or(Value::Null);
    let receivers = l.components::<C::Receiver>("receivers", "receiver", take("receivers"));
    let processors = l.components::<C::Processor>("processors", "processor", take("processors"));
    let exporters = l.components::<C::Exporter>("exporters", "exporter", take("exporters"));
    let storage = l.storage::<C::Storage>(take("storage"));
    let extensions = take("extensions");
    if let Value::Mapping(m) = &extensions {
        for k in m.keys() {
            let k = k.as_str().unwrap_or("?");
            l.error(
                &format!("extensions.{k}"),
                format!("unknown extension type `{k}`: driftd has no extensions yet"),
            );
        }
    }
    let service = match parse_body::<ServiceConfig>(take("service")) {
        Ok(s) => Some(s),
        Err(e) => {
            l.parse_error("service", "", e);
            None
        }
    };
    if let Some(service) = &service {
        l.pipelines(service, &receivers, &processors, &exporters);
    }
    match (service, storage) {
        (Some(service), Some(storage)) if l.errors.is_empty() => Ok(Config {
            receivers,
            processors,
            exporters,
            storage,
            service,
        }),
        _ => {
            l.errors.sort_by_key(|e| e.location.map(|l| (l.line, l.column)));
            Err(fail(l.errors))
        }
    }
}

struct Loader {
    index: LineIndex,
    errors: Vec<ConfigError>,
    /// Components that are declared but did not parse: already reported, so pipelines
    /// naming them are not reported again.
    broken: BTreeSet<String>,
}

impl Loader {
    /// Records an error; a second one at the same path is a consequence of the first
    /// (an unset variable, then the empty value it left) and is dropped.
    fn error(&mut self, path: &str, message: impl Into<String>) {
        if self.errors.iter().any(|e| e.path == path) {
            return;
        }
        self.errors.push(ConfigError {
            path: path.to_string(),
            location: self.index.find(path),
            message: message.into(),
        });
    }

    fn parse_error(&mut self, base: &str, what: &str, e: ParseError) {
        match e {
            ParseError::UnknownKind => self.error(base, format!("unknown {what}")),
            ParseError::Invalid { path, message } => self.error(&join(base, &path), message),
        }
    }

    fn components<T: ComponentConfig>(&mut self, section: &str, role: &str, value: Value) -> BTreeMap<ComponentId, T> {
        let mut out = BTreeMap::new();
        let entries = match value {
            Value::Null => return out,
            Value::Mapping(m) => m,
            _ => {
                self.error(
                    section,
                    format!("`{section}` must be a mapping of {role} ids to their settings"),
                );
                return out;
            }
        };
        for (key, body) in entries {
            let key = key.as_str().unwrap_or("?").to_string();
            let path = format!("{section}.{key}");
            let id = match ComponentId::parse(&key) {
                Ok(id) => id,
                Err(e) => {
                    self.error(&path, e.to_string());
                    continue;
                }
            };
            match T::parse(id.kind(), body) {
                Ok(config) => {
                    for e in config.validate() {
                        self.error(&join(&path, &e.path), e.message);
                    }
                    out.insert(id, config);
                }
                Err(e) => {
                    self.broken.insert(path.clone());
                    match e {
                        ParseError::UnknownKind => self.error(
                            &path,
                            format!("unknown {role} type `{}`: driftd has {}", id.kind(), T::kind_names()),
                        ),
                        e => self.parse_error(&path, role, e),
                    }
                }
            }
        }
        out
    }

    fn storage<T: ComponentConfig>(&mut self, value: Value) -> Option<T> {
        let mut body = match value {
            Value::Null => Mapping::new(),
            Value::Mapping(m) => m,
            _ => {
                self.error("storage", "`storage` must be a mapping with a `backend`");
                return None;
            }
        };
        let backend = match body.remove("backend") {
            None => "memory".to_string(),
            Some(Value::String(s)) => s,
            Some(_) => {
                self.error(
                    "storage.backend",
                    format!("`backend` must be one of {}", T::kind_names()),
                );
                return None;
            }
        };
        match T::parse(&backend, Value::Mapping(body)) {
            Ok(config) => {
                for e in config.validate() {
                    self.error(&join("storage", &e.path), e.message);
                }
                Some(config)
            }
            Err(ParseError::UnknownKind) => {
                self.error(
                    "storage.backend",
                    format!("unknown storage backend `{backend}`: driftd has {}", T::kind_names()),
                );
                None
            }
            Err(e) => {
                self.parse_error("storage", "storage", e);
                None
            }
        }
    }

    fn pipelines<R, P: ProcessorFactory, E: ExporterFactory>(
        &mut self,
        service: &ServiceConfig,
        receivers: &BTreeMap<ComponentId, R>,
        processors: &BTreeMap<ComponentId, P>,
        exporters: &BTreeMap<ComponentId, E>,
    ) {
        if service.pipelines.is_empty() {
            self.error(
                "service.pipelines",
                "no pipelines: add one under service.pipelines (e.g. `metrics:`)",
            );
        }
        for (field, problem) in service.listeners.problems() {
            self.error(&format!("service.listeners.{field}"), problem);
        }
        for (field, problem) in service.memory_limiter.problems() {
            self.error(&format!("service.memory_limiter.{field}"), problem);
        }
        for (i, ext) in service.extensions.iter().enumerate() {
            self.error(
                &format!("service.extensions[{i}]"),
                format!("unknown extension `{ext}`: driftd has no extensions yet"),
            );
        }
        for (name, p) in &service.pipelines {
            let base = format!("service.pipelines.{name}");
            let signal = name.split('/').next().unwrap_or_default();
            if signal != "metrics" {
                self.error(&base, format!(
                    "pipeline `{name}` carries `{signal}`, but driftd pipelines carry metrics: name it `metrics` or `metrics/<name>`"
                ));
            }
            if p.receivers.is_empty() {
                self.error(&base, format!("pipeline `{name}` has no receivers"));
            }
            if p.exporters.is_empty() {
                self.error(&base, format!("pipeline `{name}` has no exporters"));
            }
            self.references(&base, "receivers", "receiver", &p.receivers, |id| {
                receivers.contains_key(id)
            });
            self.references(&base, "processors", "processor", &p.processors, |id| {
                processors.contains_key(id)
            });
            self.references(&base, "exporters", "exporter", &p.exporters, |id| {
                exporters.contains_key(id)
            });

            // Which signals flow is unknown while a processor is broken: judge no exporter.
            if p.processors
                .iter()
                .any(|id| self.broken.contains(&format!("processors.{id}")))
            {
                continue;
            }
            let mut produced = vec![Signal::Metrics];
            if p.processors
                .iter()
                .filter_map(|id| processors.get(id))
                .any(|c| c.emits_events())
            {
                produced.push(Signal::Events);
            }
            for (i, id) in p.exporters.iter().enumerate() {
                let Some(e) = exporters.get(id) else { continue };
                let accepts = e.accepts();
                if !accepts.iter().any(|s| produced.contains(s)) {
                    let takes: Vec<_> = accepts.iter().map(|s| s.as_str()).collect();
                    self.error(&format!("{base}.exporters[{i}]"), format!(
                        "exporter `{id}` takes {}, but pipeline `{name}` produces only metrics: add a `drift` processor to the pipeline",
                        takes.join(" and ")
                    ));
                }
            }
        }
    }

    fn references(
        &mut self,
        base: &str,
        list: &str,
        role: &str,
        ids: &[ComponentId],
        defined: impl Fn(&ComponentId) -> bool,
    ) {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.iter().enumerate() {
            let path = format!("{base}.{list}[{i}]");
            if !defined(id) && !self.broken.contains(&format!("{list}.{id}")) {
                self.error(
                    &path,
                    format!("{role} `{id}` is not defined: add it under `{list}:` or remove it here"),
                );
            }
            if !seen.insert(id) {
                self.error(&path, format!("{role} `{id}` is listed twice"));
            }
        }
    }
}

fn join(base: &str, rel: &str) -> String {
    match (base.is_empty(), rel.is_empty()) {
        (_, true) => base.to_string(),
        (true, false) => rel.to_string(),
        _ if rel.starts_with('[') => format!("{base}{rel}"),
        _ => format!("{base}.{rel}"),
    }
}
