//! Serving connections: Kinema's own accept loop over hyper's HTTP/1.1 connections, so that every
//! connection is bounded (a header-read timeout that also ends idle keep-alive connections, a
//! stall timeout on answers nobody reads, `TCP_NODELAY` on every socket) and a stop is bounded too
//! (stop accepting, let requests in flight finish for a grace period, then close the rest).
//!
//! HTTP/2 and TLS belong to a reverse proxy in front of Kinema, which speaks HTTP/1.1 to it.

mod stall;

use std::{future::Future, io, net::SocketAddr, time::Duration};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinSet,
};
use tower::ServiceExt;

pub use stall::StallGuard;

/// Completes once the server is stopping; handed to long-lived answers (live-update streams) so
/// that they end and let their connections close.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// A switch and the signal it flips.
    pub fn channel() -> (StopSwitch, Stopping) {
        let (sender, receiver) = watch::channel(false);
        (StopSwitch(sender), Stopping(receiver))
    }

    /// Waits until the server is stopping (or the switch is gone).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// Flips [`Stopping`].
#[derive(Debug)]
pub struct StopSwitch(watch::Sender<bool>);

impl StopSwitch {
    /// Tells everyone waiting on [`Stopping`] that the server stops.
    pub fn flip(&self) {
        self.0.send_replace(true);
    }
}

/// Bounds on one connection.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Longest wait for a request's headers, counted from when the connection is ready for the
    /// next request (so it also ends idle keep-alive connections).
    pub header_timeout: Duration,
    /// Longest time a write may make no progress because the client does not read.
    pub stall_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, flips `switch`,
/// waits up to `grace` for open connections to finish their requests, and drops the rest.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    switch: StopSwitch,
    grace: Duration,
) {
    let stopping = Stopping(switch.0.subscribe());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        router.clone(),
                        limits,
                        stopping.clone(),
                    ));
                }
                Err(err) => pause_after_accept_error(err).await,
            },
        }
    }
    drop(listener);
    switch.flip();
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            connections = connections.len(),
            "stopping with requests still in flight after the grace period"
        );
        connections.shutdown().await;
    }
}

/// Serves one connection until it closes, or until the server stops (then the request in flight,
/// if any, is finished and the connection closed).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    stopping: Stopping,
) {
    // Small answers (server functions, SSE events) go out at once instead of waiting for more.
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(error = %err, "could not set TCP_NODELAY");
    }
    let io = TokioIo::new(StallGuard::new(stream, limits.stall_timeout));
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(Body::new))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let finished = tokio::select! {
        finished = connection.as_mut() => finished,
        () = stopping.wait() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = finished {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

/// Accept errors about one connection are ignored; others (too many open files) pause accepting
/// briefly instead of spinning.
async fn pause_after_accept_error(err: io::Error) {
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
