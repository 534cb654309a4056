//! Connection-level limits: at most `limits.max_connections` open connections, and at most
//! `limits.max_connections_per_ip` from one client address (IPv6 by /64; trusted proxies
//! exempt).
//!
//! Invariants: each accepted connection holds one semaphore permit and one count of its
//! address for its whole life (both live inside the stream wrapper and are released when
//! hyper drops the stream); a connection arriving when either limit is reached is closed at
//! once, before any TLS handshake, so one client holding idle sockets (slowloris) cannot fill
//! the server's connections, and a flood of them cannot exhaust file descriptors or memory.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ratelimit::{ProxyList, client_key};

/// Open connections per client address.
#[derive(Default)]
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address until dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    key: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// An acceptor that refuses connections beyond the limits, then hands over to `inner`.
#[derive(Clone)]
pub struct LimitAcceptor<A> {
    inner: A,
    permits: Arc<Semaphore>,
    per_address: Arc<PerAddress>,
    max_per_address: usize,
    proxies: Arc<ProxyList>,
}

impl<A> LimitAcceptor<A> {
    /// At most `max` connections at once, `max_per_address` from one client address except
    /// from the trusted `proxies`.
    pub fn new(inner: A, max: usize, max_per_address: usize, proxies: ProxyList) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max.max(1))),
            per_address: Arc::default(),
            max_per_address: max_per_address.max(1),
            proxies: Arc::new(proxies),
        }
    }

    /// Counts a connection from `peer`, or `None` when its address already has the most.
    fn admit(&self, peer: Option<IpAddr>) -> Result<Option<AddressSlot>, io::Error> {
        let Some(peer) = peer.filter(|p| !self.proxies.contains(*p)) else {
            return Ok(None);
        };
        let key = client_key(peer);
        let mut open = self
            .per_address
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= self.max_per_address {
            tracing::warn!(
                "connection limit of one client address reached; closing a new connection"
            );
            return Err(io::Error::other("per-address connection limit reached"));
        }
        *n += 1;
        Ok(Some(AddressSlot {
            table: Arc::clone(&self.per_address),
            key,
        }))
    }

    /// Open connections counted against `peer`'s address (for tests and metrics).
    pub fn open_from(&self, peer: IpAddr) -> usize {
        let open = self
            .per_address
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        open.get(&client_key(peer)).copied().unwrap_or(0)
    }
}

/// A stream holding its connection permit and its address's count.
pub struct Limited<S> {
    inner: S,
    _permit: OwnedSemaphorePermit,
    _slot: Option<AddressSlot>,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<A, S> Accept<TcpStream, S> for LimitAcceptor<A>
where
    A: Accept<TcpStream, S> + Clone + Send + Sync + 'static,
    A::Future: Send + 'static,
    A::Stream: Send,
    A::Service: Send,
    S: Send + 'static,
{
    type Stream = Limited<A::Stream>;
    type Service = A::Service;
    type Future = BoxFuture<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let slot = self.admit(stream.peer_addr().ok().map(|a| a.ip()));
        let permit = Arc::clone(&self.permits).try_acquire_owned();
        let inner = self.inner.clone();
        Box::pin(async move {
            let slot = slot?;
            let permit = permit.map_err(|_| {
                tracing::warn!("connection limit reached; closing a new connection");
                io::Error::other("connection limit reached")
            })?;
            let (stream, service) = inner.accept(stream, service).await?;
            Ok((
                Limited {
                    inner: stream,
                    _permit: permit,
                    _slot: slot,
                },
                service,
            ))
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Limited<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Limited<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
