//! `${env:VAR}` and `${env:VAR:-default}` expansion in config values.

use serde_yaml::Value;

/// Expands references in every string of `value`, in place. `path` names the node
/// for errors; `lookup` reads the environment (a parameter so tests need not touch it).
pub fn expand(
    value: &mut Value,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<(String, String)>,
) {
    match value {
        Value::String(s) if s.contains('$') => match expand_str(s, lookup) {
            Ok(expanded) => {
                // A value that is one whole reference takes the type of what it
                // expands to, so `port: ${env:PORT}` is a number.
                let whole = s.starts_with("${") && s.ends_with('}') && s.matches("${").count() == 1;
                *value = match serde_yaml::from_str::<Value>(&expanded) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_))) if whole => v,
                    _ => Value::String(expanded),
                };
            }
            Err(e) => errors.push((path.to_string(), e)),
        },
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                let key = k.as_str().unwrap_or("?");
                let p = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                expand(v, &p, lookup, errors);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                expand(v, &format!("{path}[{i}]"), lookup, errors);
            }
        }
        Value::Tagged(t) => expand(&mut t.value, path, lookup, errors),
        _ => {}
    }
}

fn expand_str(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("$$") {
            out.push('$');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("${") {
            let end = r.find('}').ok_or_else(|| format!("unclosed `${{` in `{s}`"))?;
            out.push_str(&resolve(&r[..end], lookup)?);
            rest = &r[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(reference: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let Some(var) = reference.strip_prefix("env:") else {
        return Err(format!(
            "`${{{reference}}}` is not a reference driftd knows: write `${{env:NAME}}` or `${{env:NAME:-default}}`"
        ));
    };
    let (name, default) = match var.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (var, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not an environment variable name"));
    }
    match (lookup(name), default) {
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => Err(format!(
            "environment variable {name} is not set (set it, or give a default: ${{env:{name}:-value}})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(yaml: &str) -> (Value, Vec<(String, String)>) {
        let mut v: Value = serde_yaml::from_str(yaml).unwrap();
        let mut errors = Vec::new();
        let env = |k: &str| (k == "PORT").then(|| "4317".to_string());
        expand(&mut v, "", &env, &mut errors);
        (v, errors)
    }

    #[test]
    fn expands_whole_and_embedded_references() {
        let (v, errors) = run("a: ${env:PORT}\nb: host:${env:PORT}\nc: ${env:NOPE:-x}\nd: $$5\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(v["a"], Value::from(4317));
        assert_eq!(v["b"], Value::from("host:4317"));
        assert_eq!(v["c"], Value::from("x"));
        assert_eq!(v["d"], Value::from("$5"));
    }

    #[test]
    fn unset_variables_and_bad_references_are_errors_with_paths() {
        let (_, errors) = run("x:\n  y: ${env:MISSING}\n  z: [\"${file:/etc/passwd}\"]\n");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].0, "x.y");
        assert!(errors[0].1.contains("MISSING is not set"));
        assert_eq!(errors[1].0, "x.z[0]");
    }
}
