//! The web console at `/`: static files compiled into the binary (no CDN, no build
//! step), served without a token. The pages call the query API, which asks for the
//! token when one is configured. uPlot (MIT, `assets/uPlot.LICENSE`) draws the charts.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Every file the console serves, with its content type.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", "text/javascript", include_str!("assets/app.js")),
    ("api.js", "text/javascript", include_str!("assets/api.js")),
    ("chart.js", "text/javascript", include_str!("assets/chart.js")),
    ("evidence.js", "text/javascript", include_str!("assets/evidence.js")),
    ("pipelines.js", "text/javascript", include_str!("assets/pipelines.js")),
    ("style.css", "text/css", include_str!("assets/style.css")),
    ("uPlot.esm.js", "text/javascript", include_str!("assets/uPlot.esm.js")),
    ("uPlot.min.css", "text/css", include_str!("assets/uPlot.min.css")),
    ("uPlot.LICENSE", "text/plain", include_str!("assets/uPlot.LICENSE")),
];

const INDEX: &str = include_str!("assets/index.html");

/// The paths the console adds to the API's listener.
pub(super) const PATHS: [&str; 2] = ["/", "/console/{file}"];

/// `GET /`: the page.
pub(super) async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

/// `GET /console/{file}`.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => page(content_type, body),
        None => (StatusCode::NOT_FOUND, format!("the console has no file `{file}`")).into_response(),
    }
}

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Assets change with the binary: revalidate rather than cache forever.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let sources = std::iter::once(INDEX).chain(ASSETS.iter().map(|(_, _, body)| *body));
        for source in sources {
            for import in source
                .split(['\'', '"'])
                .filter(|s| s.starts_with("./") || s.starts_with("/console/"))
            {
                let name = import.trim_start_matches("./").trim_start_matches("/console/");
                if name.ends_with(".js") || name.ends_with(".css") {
                    assert!(ASSETS.iter().any(|(n, _, _)| *n == name), "`{import}` is not served");
                }
            }
        }
    }
}
