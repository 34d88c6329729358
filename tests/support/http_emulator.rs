//! A tiny HTTP/1.1 server for the API emulators of the host tests (UIS, Binotel, redirecting Centrifugo fronts):
//! one request per connection, answered by a closure, and everything it saw reported on a channel.
#![allow(dead_code)] // each test binary reads a different part of what was seen

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

/// What the server saw of one request (header names in lower case).
#[derive(Debug)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Serves on a free loopback port until the test ends: each request is answered with `answer(path, body)` —
/// status and JSON body — plus `extra_headers` (whole `Name: value\r\n` lines), then the connection closes.
/// Returns the server's `http://127.0.0.1:port` address and the record of the requests.
pub fn serve(
    extra_headers: String,
    answer: impl Fn(&str, &str) -> (u16, String) + Send + 'static,
) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let (seen_tx, seen_rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let body = String::from_utf8_lossy(&body).into_owned();
            let (status, reply) = answer(&path, &body);
            let _ = seen_tx.send(Seen {
                path,
                headers,
                body,
            });
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\n{extra_headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (address, seen_rx)
}
