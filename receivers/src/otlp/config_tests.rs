use super::config::*;
use crate::ReceiverConfig;
use driftd_core::config::{ComponentConfig, ParseError};

fn parse(yaml: &str) -> Result<OtlpConfig, ParseError> {
    let body: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    ReceiverConfig::parse("otlp", body).map(|c| match c {
        ReceiverConfig::Otlp(c) => c,
        other => panic!("parsed as another receiver: {other:?}"),
    })
}

fn invalid(yaml: &str) -> (String, String) {
    match parse(yaml) {
        Err(ParseError::Invalid { path, message }) => (path, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn messages(c: &OtlpConfig) -> Vec<(String, String)> {
    c.validate().into_iter().map(|e| (e.path, e.message)).collect()
}

#[test]
fn present_protocols_take_the_otlp_defaults() {
    let c = parse("protocols: {grpc: , http: }").unwrap();
    let grpc = c.protocols.grpc.as_ref().unwrap();
    let http = c.protocols.http.as_ref().unwrap();
    assert_eq!(grpc.endpoint, "127.0.0.1:4317".parse().unwrap());
    assert_eq!(grpc.max_recv_msg_size_mib.get(), 4);
    assert_eq!(grpc.max_recv_msg_size(), 4 << 20);
    assert_eq!(http.endpoint, "127.0.0.1:4318".parse().unwrap());
    assert_eq!(http.max_request_body_size.get(), 4 << 20);
    assert_eq!(
        c.identity.resource_attributes[..2],
        ["service.name", "service.namespace"]
    );
    assert!(c
        .identity
        .resource_attributes
        .iter()
        .any(|a| a == "service.instance.id"));
    assert_eq!(c.identity.point_attributes, AttributeSelection::All);
    assert!(c.validate().is_empty());
}

#[test]
fn a_null_grpc_body_enables_grpc_alone() {
    let c = parse("protocols:\n  grpc:\n").unwrap();
    assert_eq!(c.protocols.grpc, Some(GrpcConfig::default()));
    assert_eq!(c.protocols.http, None);
    assert!(c.validate().is_empty());
}

#[test]
fn an_empty_body_fails_validation_saying_how_to_enable_a_protocol() {
    for yaml in ["", "protocols:", "identity: {}"] {
        let c = parse(yaml).unwrap();
        let errors = messages(&c);
        assert_eq!(errors.len(), 1, "{yaml:?}: {errors:?}");
        assert_eq!(errors[0].0, "protocols");
        assert!(errors[0].1.contains("`grpc:`"), "{}", errors[0].1);
    }
}

#[test]
fn unknown_keys_are_rejected_with_their_path() {
    assert_eq!(invalid("protocol: {grpc: }").0, "protocol");
    let (path, message) = invalid("protocols: {grpc: {endpont: 127.0.0.1:1}}");
    assert_eq!(path, "protocols.grpc.endpont");
    assert!(message.contains("unknown field"), "{message}");
    assert_eq!(invalid("protocols: {thrift: }").0, "protocols.thrift");
    assert_eq!(invalid("identity: {labels: []}").0, "identity.labels");
}

#[test]
fn bad_values_are_rejected_with_their_path() {
    assert_eq!(
        invalid("protocols: {grpc: {endpoint: localhost}}").0,
        "protocols.grpc.endpoint"
    );
    assert_eq!(
        invalid("protocols: {grpc: {max_recv_msg_size_mib: 0}}").0,
        "protocols.grpc.max_recv_msg_size_mib"
    );
    assert_eq!(
        invalid("protocols: {http: {max_request_body_size: -1}}").0,
        "protocols.http.max_request_body_size"
    );
    let (path, message) = invalid("protocols: {grpc: }\nidentity: {point_attributes: some}");
    assert_eq!(path, "identity.point_attributes");
    assert!(message.contains("`all` or a list"), "{message}");
}

#[test]
fn point_attributes_take_all_or_a_list() {
    let c = parse("protocols: {grpc: }\nidentity: {point_attributes: [route, code]}").unwrap();
    assert_eq!(
        c.identity.point_attributes,
        AttributeSelection::Only(vec!["route".into(), "code".into()])
    );
    assert!(c.identity.point_attributes.selects("route"));
    assert!(!c.identity.point_attributes.selects("peer"));
    let c = parse("protocols: {grpc: }\nidentity: {point_attributes: all}").unwrap();
    assert_eq!(c.identity.point_attributes, AttributeSelection::All);
}

#[test]
fn grpc_and_http_must_not_share_an_endpoint() {
    let c = parse("protocols: {grpc: {endpoint: 127.0.0.1:4317}, http: {endpoint: 127.0.0.1:4317}}").unwrap();
    let errors = messages(&c);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "protocols.http.endpoint");
    assert!(errors[0].1.contains("127.0.0.1:4317"), "{}", errors[0].1);
    // Port 0 gives each its own port.
    let c = parse("protocols: {grpc: {endpoint: 127.0.0.1:0}, http: {endpoint: 127.0.0.1:0}}").unwrap();
    assert!(c.validate().is_empty());
}

#[test]
fn identity_keys_must_be_non_empty_and_listed_once() {
    let c = parse("protocols: {http: }\nidentity: {resource_attributes: [a, a], point_attributes: ['']}").unwrap();
    let paths: Vec<_> = messages(&c).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        vec!["identity.resource_attributes[1]", "identity.point_attributes[0]"]
    );
}

#[test]
fn the_effective_config_reads_back_the_same() {
    for yaml in [
        "protocols: {grpc: }",
        "protocols: {http: {endpoint: 0.0.0.0:9999}}\nidentity: {point_attributes: [route]}",
    ] {
        let c = parse(yaml).unwrap();
        let text = serde_yaml::to_string(&ReceiverConfig::Otlp(c.clone())).unwrap();
        assert_eq!(parse(&text).unwrap(), c, "{text}");
    }
}

#[test]
fn other_kinds_are_unknown() {
    let body = serde_yaml::Value::Null;
    assert!(matches!(
        ReceiverConfig::parse("jaeger", body),
        Err(ParseError::UnknownKind)
    ));
    assert!(ReceiverConfig::KINDS.iter().any(|k| k.name == "otlp"));
}
