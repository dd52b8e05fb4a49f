//! Errors hyper answers by itself, before a request reaches the router (a
//! malformed request line or header, a URI or header block too long): a
//! stream wrapper replaces hyper's bare answer with Jaga's JSON error
//! shape, a request id and the security headers, and logs it once.
//!
//! Only HTTP/1 connections are touched (an HTTP/2 connection, recognised by
//! its preface, is passed through as it is). Hyper's own error answer is a
//! write that is exactly a bare head (status 4xx/5xx, only `content-length:
//! 0`, `date` and `connection` headers, nothing after the blank line), after
//! which hyper closes the connection; every answer the router makes carries
//! `x-request-id`, so it never has that form. The wrapper forces flattened
//! writes so that such a head arrives in one piece.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An acceptor whose streams shape hyper's own error answers.
#[derive(Debug, Clone)]
pub struct ShapedErrors<A> {
    inner: A,
    tls: bool,
}

impl<A> ShapedErrors<A> {
    pub fn new(inner: A, tls: bool) -> Self {
        Self { inner, tls }
    }
}

impl<I, S, A> Accept<I, S> for ShapedErrors<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Shaped<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let tls = self.tls;
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            Ok((
                Shaped {
                    inner: stream,
                    pending: Vec::new(),
                    tls,
                    first: Vec::new(),
                    http1: None,
                },
                service,
            ))
        })
    }
}

/// A connection's stream.
#[derive(Debug)]
pub struct Shaped<S> {
    inner: S,
    /// Our answer, still to be written in place of hyper's.
    pending: Vec<u8>,
    tls: bool,
    /// The connection's first bytes, until its protocol is known.
    first: Vec<u8>,
    /// Known once the first bytes are read: HTTP/2 starts with its preface.
    http1: Option<bool>,
}

/// The start of the HTTP/2 connection preface (a method no HTTP/1 server takes).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

impl<S: AsyncRead + Unpin> AsyncRead for Shaped<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.http1.is_none() {
            let new = buf.filled().get(before..).unwrap_or_default().to_vec();
            let this = &mut *self;
            this.first.extend_from_slice(&new);
            let seen = this.first.len().min(H2_PREFACE.len());
            if this.first.get(..seen) != H2_PREFACE.get(..seen) {
                this.http1 = Some(true);
            } else if seen == H2_PREFACE.len() {
                this.http1 = Some(false);
            } else if new.is_empty() && matches!(polled, Poll::Ready(Ok(()))) {
                // The client closed before saying anything.
                this.http1 = Some(true);
            }
            if this.http1.is_some() {
                this.first = Vec::new();
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> Shaped<S> {
    /// Writes out what is pending; Ready(Ok) once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n.min(self.pending.len()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Shaped<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match this.drain(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        if this.http1 == Some(true)
            && let Some(status) = bare_error_status(buf)
        {
            this.pending = shaped_answer(status, this.tls);
            // hyper's bytes are taken (and dropped); ours go out instead.
            let _ = this.drain(cx);
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The status of hyper's own error answer, if `buf` is exactly one: a 4xx
/// or 5xx head with only `content-length: 0`, `date` and `connection`
/// headers, ending where the write ends.
fn bare_error_status(buf: &[u8]) -> Option<u16> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?.parse::<u16>().ok()?;
    if !(400..600).contains(&code) {
        return None;
    }
    let head = std::str::from_utf8(buf.strip_suffix(b"\r\n\r\n")?).ok()?;
    let mut lines = head.split("\r\n");
    lines.next()?;
    let bare = lines.all(|line| {
        let line = line.to_ascii_lowercase();
        line == "content-length: 0" || line.starts_with("date: ") || line.starts_with("connection: ")
    });
    bare.then_some(code)
}

/// Jaga's answer for an error hyper found in the request itself.
fn shaped_answer(status: u16, tls: bool) -> Vec<u8> {
    let (reason, code, message) = match status {
        414 => ("URI Too Long", "uri_too_long", "The request address is too long."),
        431 => (
            "Request Header Fields Too Large",
            "headers_too_large",
            "The request headers are too large.",
        ),
        505 => (
            "HTTP Version Not Supported",
            "http_version_not_supported",
            "This HTTP version is not supported.",
        ),
        s if s >= 500 => (
            "Internal Server Error",
            "internal",
            "Something went wrong on our side. Quote the request id if you contact us.",
        ),
        _ => ("Bad Request", "bad_request", "The request is malformed."),
    };
    let status = if matches!(status, 414 | 431 | 505) {
        status
    } else if status >= 500 {
        500
    } else {
        400
    };
    let request_id = super::request_id::generate();
    tracing::warn!(
        http.status = status,
        error.code = code,
        request.id = %request_id,
        "request refused before routing"
    );
    let body = serde_json::json!({ "error": code, "message": message, "request_id": request_id }).to_string();
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-request-id: {request_id}\r\n",
        body.len()
    );
    for (name, value) in super::security_headers::fixed() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if tls {
        head.push_str(&format!(
            "strict-transport-security: {}\r\n",
            super::security_headers::HSTS
        ));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_error_heads_are_replaced() {
        assert_eq!(
            bare_error_status(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n"),
            Some(414)
        );
        assert_eq!(bare_error_status(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Some(400));
        // The router's answers carry a request id and a body; successes and
        // text that merely looks like a head (in a body) are never touched.
        assert_eq!(
            bare_error_status(b"HTTP/1.1 404 Not Found\r\nx-request-id: abc\r\n\r\n{}"),
            None
        );
        assert_eq!(
            bare_error_status(b"HTTP/1.1 400 x\r\ncontent-length: 0\r\n\r\n</pre>"),
            None
        );
        assert_eq!(bare_error_status(b"HTTP/1.1 400 x\r\nx-evil: 1\r\n\r\n"), None);
        assert_eq!(bare_error_status(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(bare_error_status(b"{\"error\":\"x\"}"), None);
        let answer = String::from_utf8(shaped_answer(414, false)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(answer.contains("\r\nx-request-id: "));
        assert!(answer.contains("content-security-policy: "));
        assert!(answer.ends_with('}'));
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "uri_too_long");
    }
}
