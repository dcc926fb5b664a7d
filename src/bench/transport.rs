//! Sending pre-encoded `ExportMetricsServiceRequest` bytes over OTLP/gRPC (tonic with a
//! codec that passes bytes through) or OTLP/HTTP (protobuf POST /v1/metrics).

use anyhow::Context;
use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::Status;

/// The OTLP/gRPC metrics method.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
/// Largest message either side of the tool takes.
pub const MAX_MESSAGE: usize = 64 << 20;

/// Which OTLP transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    Http,
}

impl Protocol {
    /// The endpoint a local driftd listens on for this protocol by default.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => "http://127.0.0.1:4317",
            Protocol::Http => "http://127.0.0.1:4318",
        }
    }
}

/// A gRPC codec that sends messages already encoded and hands back the answer's bytes
/// undecoded: neither side of the tool spends time in prost per request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.reserve(item.len());
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// One connection to the target (gRPC), or a connection pool (HTTP/1.1 holds one
/// connection per request in flight). Cloning shares it.
#[derive(Debug, Clone)]
pub enum Sender {
    /// HTTP/2 multiplexes every clone's requests over one connection.
    Grpc(tonic::client::Grpc<Channel>),
    /// POSTs to the full `/v1/metrics` URL.
    Http { client: reqwest::Client, url: String },
}

impl Sender {
    /// Connects to `endpoint` (`http://host:port`).
    pub async fn connect(protocol: Protocol, endpoint: &str) -> anyhow::Result<Sender> {
        match protocol {
            Protocol::Grpc => {
                let channel = tonic::transport::Endpoint::from_shared(endpoint.to_string())?
                    .tcp_nodelay(true)
                    .connect()
                    .await
                    .with_context(|| format!("cannot connect to {endpoint}"))?;
                Ok(Sender::Grpc(
                    tonic::client::Grpc::new(channel).max_decoding_message_size(MAX_MESSAGE),
                ))
            }
            Protocol::Http => {
                let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
                let base = endpoint.trim_end_matches('/');
                let url = if base.ends_with("/v1/metrics") {
                    base.to_string()
                } else {
                    format!("{base}/v1/metrics")
                };
                Ok(Sender::Http { client, url })
            }
        }
    }

    /// Sends one encoded request; on success, how many of its points the target
    /// rejected (OTLP partial success).
    pub async fn send(&mut self, body: Bytes) -> anyhow::Result<u64> {
        let answer = match self {
            Sender::Grpc(grpc) => {
                grpc.ready().await.context("connection lost")?;
                let path = PathAndQuery::from_static(EXPORT_PATH);
                grpc.unary(tonic::Request::new(body), path, RawCodec)
                    .await?
                    .into_inner()
            }
            Sender::Http { client, url } => {
                let resp = client
                    .post(url.as_str())
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await?;
                let status = resp.status();
                let answer = resp.bytes().await?;
                if !status.is_success() {
                    anyhow::bail!("HTTP {status}: {}", String::from_utf8_lossy(&answer));
                }
                answer
            }
        };
        if answer.is_empty() {
            return Ok(0);
        }
        let answer = ExportMetricsServiceResponse::decode(answer).context("answer is not an OTLP export response")?;
        Ok(answer
            .partial_success
            .map_or(0, |p| u64::try_from(p.rejected_data_points).unwrap_or(0)))
    }
}
