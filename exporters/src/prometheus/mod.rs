//! `prometheus`: a scrape endpoint with driftd's own telemetry (recorded through the
//! `metrics` crate everywhere) and per-series drift gauges read from the series tables
//! at scrape time. Nothing is pushed to it per point.

mod config;
mod format;
pub mod help;
pub mod render;

pub use config::PrometheusConfig;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use driftd_core::auth::protect;
use driftd_core::component::{BuildContext, BuildError, Exporter};
use driftd_core::config::ComponentId;
use driftd_core::view::SeriesViews;
use http_body::Frame;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global `metrics` recorder that the scrape endpoint renders, once per
/// process, and returns a handle to it. Later calls return the same handle.
///
/// When some other recorder was installed first, driftd's own telemetry goes there
/// and the handle renders nothing; the drift gauges are unaffected.
pub fn install_recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => help::describe(),
                Err(e) => tracing::warn!(error = %e, "another metrics recorder is installed; driftd's own telemetry will not be scraped"),
            }
            handle
        })
        .clone()
}

/// What a scrape reads.
struct Scrape {
    recorder: PrometheusHandle,
    views: Arc<SeriesViews>,
    series_metrics: bool,
}

/// Bytes per chunk of a scrape response: small enough to come from the allocator's
/// free lists (no fresh pages per scrape), large enough to keep the socket busy.
const CHUNK: usize = 256 * 1024;

impl Scrape {
    fn render(&self, format: render::Format, emit: &mut dyn FnMut(String)) {
        // Upkeep at scrape time drains histogram buckets and expires idle metrics
        // without a background task.
        self.recorder.run_upkeep();
        let recorded = self.recorder.render();
        let mut series = Vec::new();
        if self.series_metrics {
            series.reserve(self.views.series_count());
            self.views.for_each(&mut |s| series.push(s));
        }
        let entities = self.views.entities();
        let exposition = render::Exposition {
            entities: &entities,
            recorded: &recorded,
            series_tracked: self.views.series_count(),
            points_processed: self.views.points_processed(),
            series: &series,
            format,
        };
        render::render_chunks(&exposition, CHUNK, emit);
    }
}

/// A scrape response body: chunks as the renderer fills them.
struct Chunks {
    chunks: mpsc::Receiver<String>,
    render: Option<JoinHandle<()>>,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(chunk) = ready!(self.chunks.poll_recv(cx)) {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))));
        }
        // No more chunks: a renderer that failed ends the body with an error, so the
        // scraper sees a broken response rather than a silently short one.
        let Some(render) = self.render.as_mut() else {
            return Poll::Ready(None);
        };
        let done = ready!(Pin::new(render).poll(cx));
        self.render = None;
        Poll::Ready(match done {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(error = %e, "scrape failed");
                Some(Err(std::io::Error::other(format!("scrape failed: {e}"))))
            }
        })
    }
}

/// Registers the scrape route on the configured endpoint.
pub(crate) fn build(
    config: &PrometheusConfig,
    id: &ComponentId,
    ctx: &mut BuildContext,
) -> Result<Exporter, BuildError> {
    config::check_route_path(&config.path).map_err(|e| BuildError::setting("path", e))?;
    let scrape = Arc::new(Scrape {
        recorder: install_recorder(),
        views: ctx.views.clone(),
        series_metrics: config.series_metrics,
    });
    let router = Router::new().route(&config.path, get(serve)).with_state(scrape);
    let router = protect(config.auth.as_ref(), router);
    ctx.http.add(
        config.endpoint,
        &id.to_string(),
        &[&config.path],
        router,
        config.tls.as_ref(),
    )?;
    Ok(Exporter::Pull)
}

async fn serve(State(scrape): State<Arc<Scrape>>, headers: axum::http::HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = render::Format::negotiate(accept);
    // Walking and rendering 100,000 series takes tens of milliseconds: off the runtime,
    // sent chunk by chunk while the rest renders.
    let (tx, chunks) = mpsc::channel(4);
    let render = tokio::task::spawn_blocking(move || {
        // A scraper that went away makes sends fail: the rest is rendered for nothing.
        scrape.render(format, &mut |chunk| drop(tx.blocking_send(chunk)));
    });
    let body = Chunks {
        chunks,
        render: Some(render),
    };
    ([(header::CONTENT_TYPE, format.content_type())], Body::new(body)).into_response()
}

#[cfg(test)]
mod tests;
