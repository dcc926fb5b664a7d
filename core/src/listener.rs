//! The limits every socket driftd listens on holds, HTTP and gRPC alike
//! (`service.listeners`): how many connections it keeps open, how long a client has to
//! send its headers and to finish a request, and how many requests one HTTP/2
//! connection runs at once. A client that connects and sends nothing, or drips its
//! headers a byte at a time (slowloris), is closed after `header_read_timeout`, and
//! the others are served meanwhile.
//!
//! [`incoming`] is the accept side both kinds of server share: it accepts while fewer
//! than `max_connections` are open (more wait in the kernel's backlog, as with Go's
//! `LimitListener`) and hands a connection on once its first bytes have arrived and,
//! on a listener with `tls:`, its TLS handshake is done, both within
//! `header_read_timeout`.

use crate::build_error::BuildError;
use crate::tls::Tls;
use serde::{Deserialize, Serialize};
use std::io;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

/// How often an idle HTTP/2 connection (gRPC, h2c) is pinged; one that does not
/// answer within `header_read_timeout` is closed.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// `service.listeners`: the limits of every HTTP and gRPC listener. One set for all,
/// because HTTP components configured on one address share its socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerLimits {
    /// How long a client has to send a request's headers, counted from when it
    /// connects or from its previous answer, so it also closes idle keep-alive
    /// connections. A connection that sends nothing at all is closed after it too.
    #[serde(default = "ListenerLimits::default_header_read_timeout", with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// How long one request may take to be read and answered. Past it an HTTP client
    /// gets 408 Request Timeout and a gRPC client CANCELLED.
    #[serde(default = "ListenerLimits::default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Connections a listener keeps open at once. More wait to be accepted until one
    /// closes.
    #[serde(default = "ListenerLimits::default_max_connections")]
    pub max_connections: NonZeroUsize,
    /// Requests in flight on one HTTP/2 connection (gRPC, and h2c on HTTP listeners).
    #[serde(default = "ListenerLimits::default_max_concurrent_streams")]
    pub max_concurrent_streams: NonZeroU32,
}

impl ListenerLimits {
    fn default_header_read_timeout() -> Duration {
        Duration::from_secs(10)
    }

    fn default_request_timeout() -> Duration {
        Duration::from_secs(30)
    }

    fn default_max_connections() -> NonZeroUsize {
        const N: NonZeroUsize = NonZeroUsize::new(1024).unwrap();
        N
    }

    fn default_max_concurrent_streams() -> NonZeroU32 {
        const N: NonZeroU32 = NonZeroU32::new(64).unwrap();
        N
    }

    /// The fields that are wrong, by name: a zero timeout would close every connection.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut problems = Vec::new();
        if self.header_read_timeout.is_zero() {
            problems.push(("header_read_timeout", "must be more than 0s"));
        }
        if self.request_timeout.is_zero() {
            problems.push(("request_timeout", "must be more than 0s"));
        }
        problems
    }
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            header_read_timeout: Self::default_header_read_timeout(),
            request_timeout: Self::default_request_timeout(),
            max_connections: Self::default_max_connections(),
            max_concurrent_streams: Self::default_max_concurrent_streams(),
        }
    }
}

/// An accepted connection, over TLS when its listener has `tls:`. It holds one of its
/// listener's `max_connections` slots until it is dropped.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    _slot: Slot,
}

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }
}

/// Connections whose first bytes have arrived (and whose TLS handshake is done),
/// ready to serve, until `shutdown`.
pub type Incoming = ReceiverStream<io::Result<Conn>>;

/// Accepts on `listener` under `limits` (and `tls`, when given) until `shutdown`. Its
/// address names it in the metrics
/// (`driftd_listener_connections{listener="127.0.0.1:4317"}`).
pub fn incoming(
    listener: TcpListener,
    limits: &ListenerLimits,
    tls: Option<Arc<Tls>>,
    shutdown: CancellationToken,
) -> Incoming {
    let (ready, conns) = mpsc::channel(16);
    let slots = Arc::new(Semaphore::new(limits.max_connections.get()));
    let first_bytes = limits.header_read_timeout;
    let name = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let open = metrics::gauge!("driftd_listener_connections", "listener" => name.clone());
    let timeouts = timeouts(&name);
    let refused = metrics::counter!("driftd_listener_handshake_failures_total", "listener" => name.clone());
    tokio::spawn(async move {
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                _ = shutdown.cancelled() => return,
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.cancelled() => return,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: log, breathe, go on.
                    tracing::warn!(listener = %name, error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Small requests are latency-bound: Nagle would hold their answers back.
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on an accepted socket");
            }
            let ready = ready.clone();
            let slot = Slot::taken(slot, open.clone());
            let (timeouts, refused, tls) = (timeouts.clone(), refused.clone(), tls.clone());
            tokio::spawn(async move {
                let start = async {
                    first_bytes_of(&stream).await?;
                    match tls {
                        None => Ok::<_, io::Error>(Stream::Plain(stream)),
                        Some(tls) => Ok(Stream::Tls(Box::new(tls.acceptor().accept(stream).await?))),
                    }
                };
                match tokio::time::timeout(first_bytes, start).await {
                    Ok(Ok(stream)) => {
                        // A send fails only when the server has stopped: the connection closes.
                        let _ = ready.send(Ok(Conn { stream, _slot: slot })).await;
                    }
                    Ok(Err(e)) => {
                        refused.increment(1);
                        tracing::debug!(%peer, error = %e, "a connection failed before its first request");
                    }
                    Err(_) => {
                        timeouts.increment(1);
                        tracing::debug!(%peer, "closed a connection that did not start a request within header_read_timeout");
                    }
                }
            });
        }
    });
    ReceiverStream::new(conns)
}

/// What an HTTP/2 client sends first.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Returns once `stream` has sent enough for a server to tell its protocol: a first
/// byte of HTTP/1 (whose server then times its headers itself), the whole HTTP/2
/// preface, or the end of the stream. Neither hyper's protocol detection nor its
/// HTTP/2 handshake has a timer of its own.
async fn first_bytes_of(stream: &TcpStream) -> io::Result<()> {
    let mut head = [0; H2_PREFACE.len()];
    loop {
        stream.readable().await?;
        let n = stream.peek(&mut head).await?;
        if n == 0 || n == head.len() || head[..n] != H2_PREFACE[..n] {
            return Ok(());
        }
        // Part of the preface: the rest is on its way (peeking again at once would spin).
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Counts connections `listener` closed because their client was too slow to send
/// its headers.
pub(crate) fn timeouts(listener: &str) -> metrics::Counter {
    metrics::counter!("driftd_listener_timeouts_total", "listener" => listener.to_string())
}

/// One of a listener's `max_connections`, held by an open connection; the
/// `driftd_listener_connections` gauge counts them.
#[derive(Debug)]
struct Slot {
    _permit: OwnedSemaphorePermit,
    open: metrics::Gauge,
}

impl Slot {
    fn taken(permit: OwnedSemaphorePermit, open: metrics::Gauge) -> Slot {
        open.increment(1.0);
        Slot { _permit: permit, open }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.decrement(1.0);
    }
}

/// Binds a TCP listener now, so port errors surface while building.
pub fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, BuildError> {
    let std = std::net::TcpListener::bind(addr).map_err(|source| BuildError::Bind { addr, source })?;
    std.set_nonblocking(true)
        .map_err(|source| BuildError::Bind { addr, source })?;
    TcpListener::from_std(std).map_err(|source| BuildError::Bind { addr, source })
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.tcp().connect_info()
    }
}
