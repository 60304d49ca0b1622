//! Container inspect, the one Docker call every command makes, as a bare
//! HTTP/1.0 request on Docker's unix socket.
//!
//! Through bollard and hyper the call costs a fresh process about 0.5 ms
//! (building the client, then much code run for the first time); dockerd
//! itself answers in under 0.2 ms. HTTP/1.0 makes the answer simple: the
//! server closes the connection after it, with no chunked encoding, so the
//! body is everything after the headers (or Content-Length bytes of it).
//! The answer is read into bollard's own model, so both roads see the same
//! container. Every other call, and inspect on a TCP `DOCKER_HOST` (or of
//! a reference that would need escaping, which the CLI's checks never let
//! through), still goes through bollard.

use std::io;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Larger answers are refused (an inspect is a few kilobytes).
const MAX_RESPONSE: u64 = 16 << 20;

/// A status code and a body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Whether `reference` can go into the request path as it is: Docker names
/// and IDs are made of these characters only.
pub fn is_plain(reference: &str) -> bool {
    !reference.is_empty()
        && !reference.starts_with('.')
        && reference.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `GET path` on the unix socket `socket`; `Err(TimedOut)` after `timeout`.
pub async fn get(socket: &Path, path: &str, timeout: Duration) -> io::Result<Response> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n");
    let exchange = async {
        let stream = match sent_at_once(socket, request.as_bytes()) {
            Some(stream) => stream,
            None => {
                let mut stream = tokio::net::UnixStream::connect(socket).await?;
                stream.write_all(request.as_bytes()).await?;
                stream
            }
        };
        let mut raw = Vec::with_capacity(16 * 1024);
        stream.take(MAX_RESPONSE).read_to_end(&mut raw).await?;
        parse(&raw)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Connect and send `request` right now, without waiting for the runtime
/// to report the new socket writable (one turn of its loop, which the
/// other lookups started at the same time would fill first): a unix
/// socket's connect and a small first write complete at once unless the
/// server's backlog or our buffer is full. None if they did not: the
/// caller then goes the usual way.
fn sent_at_once(socket: &Path, request: &[u8]) -> Option<tokio::net::UnixStream> {
    use nix::sys::socket::{connect, socket as new_socket, AddressFamily, SockFlag, SockType, UnixAddr};
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let fd = new_socket(AddressFamily::Unix, SockType::Stream, flags, None).ok()?;
    connect(fd.as_raw_fd(), &UnixAddr::new(socket).ok()?).ok()?;
    let mut stream = std::os::unix::net::UnixStream::from(fd);
    if stream.write(request).ok()? != request.len() {
        return None;
    }
    tokio::net::UnixStream::from_std(stream).ok()
}

fn bad(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed HTTP answer: {why}"))
}

/// The status and body of a complete answer (httparse reads the head).
fn parse(raw: &[u8]) -> io::Result<Response> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Response::new(&mut headers);
    let end = match head.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(bad("no end of headers")),
        Err(e) => return Err(bad(&e.to_string())),
    };
    let status = head.code.ok_or_else(|| bad("no status code"))?;
    let mut body = &raw[end..];
    let mut chunked = false;
    for h in head.headers.iter() {
        let value = std::str::from_utf8(h.value).map_err(|_| bad("header value is not UTF-8"))?.trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let len: usize = value.parse().map_err(|_| bad("bad Content-Length"))?;
            if len > body.len() {
                return Err(bad("body shorter than its Content-Length"));
            }
            body = &body[..len];
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = if chunked { dechunk(body)? } else { body.to_vec() };
    Ok(Response { status, body })
}

/// Chunked transfer coding (not used by Go servers for HTTP/1.0, but cheap
/// to accept from whatever else serves the API).
fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let (start, size) = match httparse::parse_chunk_size(data) {
            Ok(httparse::Status::Complete(found)) => found,
            _ => return Err(bad("chunk size")),
        };
        let size = usize::try_from(size).map_err(|_| bad("chunk size"))?;
        data = &data[start..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size.saturating_add(2) {
            return Err(bad("truncated chunk"));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_references_only() {
        for r in ["web1", "c474a0e2830e", "my_app.db-1"] {
            assert!(is_plain(r), "{r}");
        }
        for r in ["", "/web1", "a b", "../info", ".", "x?y", "x#y", "x%20", "é"] {
            assert!(!is_plain(r), "{r}");
        }
    }

    #[test]
    fn answers_are_parsed() {
        let ok = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"Id\":\"x\"}";
        assert_eq!(parse(ok).unwrap(), Response { status: 200, body: b"{\"Id\":\"x\"}".to_vec() });
        let missing = b"HTTP/1.0 404 Not Found\r\nContent-Length: 13\r\n\r\n{\"message\":1}\n";
        assert_eq!(parse(missing).unwrap(), Response { status: 404, body: b"{\"message\":1}".to_vec() });
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\n\r\n";
        assert_eq!(parse(chunked).unwrap().body, b"abcdef".to_vec());
        for broken in [
            &b"HTTP/1.0 200 OK\r\n"[..],
            b"SSH-2.0-x\r\n\r\n",
            b"HTTP/1.0 abc OK\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nContent-Length: 99\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab",
        ] {
            assert!(parse(broken).is_err(), "{}", String::from_utf8_lossy(broken));
        }
    }
}
