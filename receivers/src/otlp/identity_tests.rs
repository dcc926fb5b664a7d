//! Series identity: what the decoder hashes must equal what the labels say.

use super::config::{AttributeSelection, IdentityConfig};
use super::labels::Derived;
use super::test_support::*;
use super::{decode, WireError};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyInner;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality::Cumulative;
use prost::Message;

#[test]
fn identity_does_not_depend_on_attribute_order() {
    let a = request(
        vec![string("service.name", "api"), string("host.name", "h1")],
        vec![gauge(
            "g",
            vec![number(T, 1.0, vec![string("route", "/a"), int("code", 200)])],
        )],
    );
    let b = request(
        vec![string("host.name", "h1"), string("service.name", "api")],
        vec![gauge(
            "g",
            vec![number(T, 1.0, vec![int("code", 200), string("route", "/a")])],
        )],
    );
    assert_eq!(run(&a).0[0].0.series, run(&b).0[0].0.series);
}

#[test]
fn identity_equals_the_materialised_labels_id() {
    let attrs = vec![
        string("route", "/a"),
        int("code", 200),
        attr("ratio", AnyInner::DoubleValue(0.25)),
        attr("ok", AnyInner::BoolValue(true)),
    ];
    let req = request(
        service(),
        vec![
            gauge("g", vec![number(T, 1.0, attrs.clone())]),
            histogram("h", Cumulative, vec![histogram_point(2, Some(4.0), attrs)]),
        ],
    );
    let (points, _) = run(&req);
    assert_eq!(points.len(), 2);
    for (p, labels) in &points {
        assert_eq!(p.series, labels.id(), "{labels}");
    }
    let (_, labels) = &points[0];
    assert_eq!(labels.get("code"), Some("200"));
    assert_eq!(labels.get("ratio"), Some("0.25"));
    assert_eq!(labels.get("ok"), Some("true"));
    // A histogram is one point, under the metric's own name (the processor derives
    // its `_count`, `_mean` and quantile series).
    assert_eq!(points[1].1.metric, "h");
}

#[test]
fn non_ascii_text_keeps_its_identity_and_labels() {
    let req = request(
        vec![string("service.name", "café")],
        vec![gauge("größe_µs", vec![number(T, 1.0, vec![string("路由", "/ä")])])],
    );
    let (points, _) = run(&req);
    let (p, labels) = &points[0];
    assert_eq!(labels.metric, "größe_µs");
    assert_eq!(labels.get("service.name"), Some("café"));
    assert_eq!(labels.get("路由"), Some("/ä"));
    assert_eq!(p.series, labels.id());
}

#[test]
fn text_that_is_not_utf8_fails_the_request() {
    // A resource attribute key, then a value.
    let resource_with = |kv: Vec<u8>| field(1, &[field(1, &field(1, &kv)), field(2, &[])].concat());
    let bad_key = resource_with(field(1, &[b's', 0xff]));
    assert_eq!(run_bytes(&bad_key).unwrap_err(), WireError::NotUtf8(1));
    let bad_value = resource_with([field(1, b"service.name"), field(2, &field(1, &[0xe2, 0x82]))].concat());
    assert_eq!(run_bytes(&bad_value).unwrap_err(), WireError::NotUtf8(1));
}

#[test]
fn array_and_map_attributes_hash_as_their_json_text() {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValueList};
    let list = AnyInner::ArrayValue(ArrayValue {
        values: vec![AnyValue {
            value: Some(AnyInner::IntValue(1)),
        }],
    });
    let map = |kvs| AnyInner::KvlistValue(KeyValueList { values: kvs });
    let req = |m| {
        request(
            service(),
            vec![gauge(
                "g",
                vec![number(T, 1.0, vec![attr("l", list.clone()), attr("m", m)])],
            )],
        )
    };
    let a = run(&req(map(vec![string("x", "1"), int("y", 2)]))).0[0].clone();
    let b = run(&req(map(vec![int("y", 2), string("x", "1")]))).0[0].clone();
    assert_eq!(a.1.get("l"), Some("[1]"));
    assert_eq!(a.1.get("m"), Some(r#"{"x":"1","y":2}"#));
    assert_eq!(a.0.series, a.1.id());
    // Map entries in another order are the same series.
    assert_eq!(a.0.series, b.0.series);
}

#[test]
fn int_and_string_attributes_with_the_same_text_hash_alike() {
    // The identity is textual, so `code: 200` and `code: "200"` are one series: both
    // materialise to the same labels, and a series' id must follow from its labels.
    let a = request(
        service(),
        vec![gauge("g", vec![number(T, 1.0, vec![int("code", 200)])])],
    );
    let b = request(
        service(),
        vec![gauge("g", vec![number(T, 1.0, vec![string("code", "200")])])],
    );
    assert_eq!(run(&a).0[0].0.series, run(&b).0[0].0.series);
}

#[test]
fn configured_attributes_select_the_identity() {
    let req = request(
        vec![
            string("service.name", "api"),
            string("host.name", "h1"),
            string("process.pid", "4242"),
        ],
        vec![gauge(
            "g",
            vec![number(T, 1.0, vec![string("route", "/a"), string("peer", "x")])],
        )],
    );
    // The default names the service and its instance, not per-process attributes.
    let default = run(&req).0[0].clone();
    assert_eq!(default.1.get("host.name"), Some("h1"));
    assert_eq!(default.1.get("process.pid"), None);

    let service_only = IdentityConfig {
        resource_attributes: vec!["service.name".into()],
        ..Default::default()
    };
    let merged = run_with(&req, &service_only).0[0].clone();
    assert_ne!(default.0.series, merged.0.series);
    assert_eq!(merged.1.get("host.name"), None);
    assert_eq!(merged.0.series, merged.1.id());

    let only_route = IdentityConfig {
        point_attributes: AttributeSelection::Only(vec!["route".into()]),
        ..Default::default()
    };
    let routed = run_with(&req, &only_route).0[0].clone();
    assert_ne!(default.0.series, routed.0.series);
    assert_eq!(routed.1.get("peer"), None);
    assert_eq!(routed.1.get("route"), Some("/a"));
    assert_eq!(routed.0.series, routed.1.id());
}

#[test]
fn a_resource_label_wins_over_a_point_attribute_with_the_same_key() {
    let req = request(
        vec![string("service.name", "api")],
        vec![gauge("g", vec![number(T, 1.0, vec![string("service.name", "other")])])],
    );
    let (points, _) = run(&req);
    let (p, labels) = &points[0];
    assert_eq!(labels.labels, vec![("service.name".into(), "api".into())]);
    assert_eq!(p.series, labels.id());
    // Without it on the resource, the point's own value counts.
    let bare = request(
        vec![],
        vec![gauge("g", vec![number(T, 1.0, vec![string("service.name", "other")])])],
    );
    assert_eq!(run(&bare).0[0].1.service(), Some("other"));
}

#[test]
fn points_are_appended_and_origins_index_the_shared_vector() {
    let req = request(service(), vec![gauge("g", vec![number(T, 1.0, vec![])])]);
    let identity = IdentityConfig::default();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    let bytes = req.encode_to_vec();
    decode(&bytes, &identity, &mut points, &mut origins).unwrap();
    decode(&bytes, &identity, &mut points, &mut origins).unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[1].origin, 1);
    assert_eq!(origins[1].derived, Derived::Value);
    assert_eq!(points[0].series, points[1].series);
}
