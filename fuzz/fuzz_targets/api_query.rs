//! The query API's query strings and path segments, through axum's own extractor as a
//! request would take them, then every parser of them.
#![no_main]

use axum::extract::Query;
use axum::http::Uri;
use driftd_core::SeriesId;
use driftd_exporters::api::query::{event_query, history_window, incident_query, page, series_filter, series_id};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let _ = series_id(&text);
    let Ok(uri) = format!("/v1/events?{text}").parse::<Uri>() else {
        return;
    };
    let Ok(Query(params)) = Query::<Vec<(String, String)>>::try_from_uri(&uri) else {
        return;
    };
    if let Ok(p) = page(&params) {
        let mut items: Vec<u32> = (0..100).collect();
        let shown = p.of_sorted(&mut items, |a, b| a.cmp(b));
        assert!(shown.len() <= p.limit.min(100));
    }
    let _ = series_filter(&params);
    let _ = event_query(&params);
    let _ = incident_query(&params);
    let _ = history_window(&params, SeriesId(7));
});
