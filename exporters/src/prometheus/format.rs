//! The two exposition formats a scrape can ask for, chosen from its `Accept` header,
//! and the one rewrite OpenMetrics needs of the recorder's text-format output.

/// The two exposition formats. They differ where OpenMetrics is stricter: a counter
/// family is named without its samples' `_total` suffix, there are no blank lines, and
/// the text ends with `# EOF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// The format a scraper's `Accept` header prefers: OpenMetrics when it is listed
    /// (with a q above 0) ahead of, or with a higher q than, the text format.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else { return Format::Text };
        let quality = |media: &str| -> Option<(usize, f32)> {
            accept.split(',').enumerate().find_map(|(i, part)| {
                let mut params = part.split(';').map(str::trim);
                if params.next()? != media {
                    return None;
                }
                let q = params
                    .find_map(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                    .unwrap_or(1.0);
                Some((i, q))
            })
        };
        match (quality("application/openmetrics-text"), quality("text/plain")) {
            (Some((_, q)), _) if q <= 0.0 => Format::Text,
            (Some(_), None) => Format::OpenMetrics,
            (Some((om_at, om)), Some((text_at, text))) if om > text || (om == text && om_at < text_at) => {
                Format::OpenMetrics
            }
            _ => Format::Text,
        }
    }

    /// The response's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The recorder's text-format output as OpenMetrics: blank lines dropped and counter
/// families' `# HELP`/`# TYPE` names without `_total` (a family's HELP line comes
/// before its TYPE line, so it is held until the TYPE says what the family is).
pub(super) fn push_recorded_as_openmetrics(out: &mut String, recorded: &str) {
    let line_to = |out: &mut String, parts: &[&str]| {
        parts.iter().for_each(|p| out.push_str(p));
        out.push('\n');
    };
    let mut help: Option<&str> = None;
    for line in recorded.lines().filter(|l| !l.is_empty()) {
        if line.starts_with("# HELP ") {
            if let Some(h) = help.replace(line) {
                line_to(out, &[h]);
            }
            continue;
        }
        let counter = line
            .strip_prefix("# TYPE ")
            .and_then(|r| r.strip_suffix(" counter"))
            .and_then(|name| name.strip_suffix("_total"));
        match counter {
            Some(family) => {
                let text = help.take().and_then(|h| h.strip_prefix("# HELP ")?.split_once(' '));
                if let Some((_, text)) = text {
                    line_to(out, &["# HELP ", family, " ", text]);
                }
                line_to(out, &["# TYPE ", family, " counter"]);
            }
            None => {
                if let Some(h) = help.take() {
                    line_to(out, &[h]);
                }
                line_to(out, &[line]);
            }
        }
    }
    if let Some(h) = help {
        line_to(out, &[h]);
    }
}
