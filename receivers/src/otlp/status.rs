//! The few `google.rpc` messages OTLP errors are made of, declared by hand rather
//! than pulling in a crate of generated types for four small structs.

use bytes::Bytes;
use prost::Message;

/// `google.rpc.Status`: the body of an OTLP/HTTP error and gRPC's rich error details.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// A `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong, for the developer reading it.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed details such as [`RetryInfo`].
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
pub struct ProtoAny {
    /// `type.googleapis.com/<message name>`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`: how long a client should wait before retrying.
#[derive(Clone, PartialEq, Message)]
pub struct RetryInfo {
    /// The delay.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, Message)]
pub struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds past the seconds.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `google.rpc.Code` values used here.
pub mod code {
    /// The request is malformed.
    pub const INVALID_ARGUMENT: i32 = 3;
    /// Over a limit (size, capacity).
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    /// Not serving right now.
    pub const UNAVAILABLE: i32 = 14;
}

/// An encoded `google.rpc.Status` that asks the client to retry after `seconds`:
/// OTLP clients retry RESOURCE_EXHAUSTED only when such a RetryInfo is attached.
pub fn retry_after_details(code: i32, message: &str, seconds: i64) -> Bytes {
    let retry = RetryInfo {
        retry_delay: Some(ProtoDuration { seconds, nanos: 0 }),
    };
    let status = RpcStatus {
        code,
        message: message.to_string(),
        details: vec![ProtoAny {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".to_string(),
            value: retry.encode_to_vec(),
        }],
    };
    Bytes::from(status.encode_to_vec())
}
