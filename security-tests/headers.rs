//! Security headers and request ids.

use crate::support::Sandbox;
use crate::support::backend_test;

const REQUIRED: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cache-control", "no-store"),
];

fn assert_security_headers(resp: &reqwest::Response, tls: bool) {
    let h = resp.headers();
    for (name, value) in REQUIRED {
        assert_eq!(
            h.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{name} on {}",
            resp.url()
        );
    }
    let csp = h.get("content-security-policy").expect("CSP").to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(h.contains_key("strict-transport-security"), tls, "HSTS only with TLS");
    assert!(h.contains_key("x-request-id"));
}

backend_test! {
    async fn every_response_carries_security_headers(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        for path in ["/healthz", "/readyz", "/openapi.json", "/metrics", "/no/such/route"] {
            let resp = app.get(path).await;
            assert_security_headers(&resp, false);
        }
        let big = app
            .client
            .post(app.url("/healthz"))
            .body(vec![b'x'; 2 << 20])
            .send()
            .await
            .unwrap();
        assert_eq!(big.status(), 413);
        assert_security_headers(&big, false);
    }
}

backend_test! {
    async fn request_id_is_returned_and_in_every_log_line_of_the_request(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let a = app.get("/healthz").await;
        let b = app.get("/healthz").await;
        let id_a = a.headers()["x-request-id"].to_str().unwrap().to_owned();
        let id_b = b.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id_a.len(), 32);
        assert!(id_a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id_a, id_b);
        // A client cannot choose its own id.
        let forged = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", "chosen-by-attacker")
            .send()
            .await
            .unwrap();
        assert_ne!(forged.headers()["x-request-id"], "chosen-by-attacker");
        // Read once the service has stopped and flushed every line.
        let (_, logs) = app.stop();
        let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&id_a)).collect();
        assert!(!lines.is_empty(), "no log line carries {id_a}:\n{logs}");
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["span"]["request.id"], id_a.as_str(), "{line}");
        }
    }
}

backend_test! {
    async fn tls_serves_hsts_and_only_modern_protocols(backend) {
        let sandbox_dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert_path = sandbox_dir.path().join("cert.pem");
        let key_path = sandbox_dir.path().join("key.pem");
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![
            ("JAGA_TLS_CERT_PATH".into(), cert_path.display().to_string()),
            ("JAGA_TLS_KEY_PATH".into(), key_path.display().to_string()),
            // With TLS, a non-loopback address is allowed.
            ("JAGA_SERVER_LISTEN".into(), "0.0.0.0:0".into()),
        ];
        let app = sandbox.serve();
        assert!(app.base.starts_with("https://"), "{}", app.base);
        let port = app.base.rsplit(':').next().unwrap().to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only([root])
            .resolve("localhost", ([127, 0, 0, 1], port.parse().unwrap()).into())
            .build()
            .unwrap();
        let resp = client
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_security_headers(&resp, true);
        assert_eq!(
            resp.headers()["strict-transport-security"],
            "max-age=63072000; includeSubDomains"
        );
        // Positive control: a TLS 1.2 hello with ECDHE and AES-GCM gets a
        // ServerHello, so the refusals below are the server's choice and
        // not a malformed hello.
        let modern = tls_answer(&port, 0x0303, &[0xc02b, 0xc02f]).await;
        assert_eq!(modern, TlsAnswer::ServerHello(0x0303), "a modern TLS 1.2 hello");
        // TLS 1.0 and 1.1 get a protocol_version alert (70)…
        for version in [0x0301, 0x0302] {
            let answer = tls_answer(&port, version, &[0xc02b, 0xc02f]).await;
            assert_eq!(answer, TlsAnswer::Alert(70), "TLS version {version:#06x}");
        }
        // …and TLS 1.2 offering only CBC (non-AEAD) suites a
        // handshake_failure (40).
        let cbc = tls_answer(&port, 0x0303, &[0x002f, 0x0035, 0xc009, 0xc013, 0xc023, 0xc027]).await;
        assert_eq!(cbc, TlsAnswer::Alert(40), "CBC-only TLS 1.2 hello");
    }
}

/// What a server answered to a ClientHello.
#[derive(Debug, PartialEq, Eq)]
enum TlsAnswer {
    /// A ServerHello with this version.
    ServerHello(u16),
    /// A fatal alert with this description.
    Alert(u8),
    /// Anything else (nothing, a closed connection, garbage).
    Other(Vec<u8>),
}

/// Sends a ClientHello for `version` offering `suites` (with the
/// extensions an ECDHE handshake needs) and reads the first record back.
async fn tls_answer(port: &str, version: u16, suites: &[u16]) -> TlsAnswer {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    fn with_u16_len(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }
    fn extension(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend_from_slice(&with_u16_len(data));
        out
    }
    let mut hello = version.to_be_bytes().to_vec();
    hello.extend_from_slice(&[7u8; 32]); // random
    hello.push(0); // no session id
    let suite_bytes: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
    hello.extend_from_slice(&with_u16_len(&suite_bytes));
    hello.extend_from_slice(&[1, 0]); // null compression
    let mut extensions = Vec::new();
    extensions.extend(extension(0x000a, &with_u16_len(&[0x00, 0x1d, 0x00, 0x17]))); // x25519, P-256
    extensions.extend(extension(0x000b, &[1, 0])); // uncompressed points
    extensions.extend(extension(
        0x000d,
        &with_u16_len(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01]), // ECDSA-P256-SHA256, RSA-PSS, RSA-PKCS1
    ));
    extensions.extend(extension(0xff01, &[0])); // renegotiation_info
    hello.extend_from_slice(&with_u16_len(&extensions));
    let mut handshake = vec![1u8];
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&with_u16_len(&handshake));
    let mut s = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    s.write_all(&record).await.unwrap();
    let mut buf = [0u8; 16];
    let mut got = 0;
    while got < 11 {
        match tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf[got..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => got += n,
        }
    }
    let buf = &buf[..got];
    match buf {
        [0x15, 0x03, _, 0x00, 0x02, 2, description, ..] => TlsAnswer::Alert(*description),
        [0x16, 0x03, _, _, _, 2, _, _, _, major, minor, ..] => {
            TlsAnswer::ServerHello(u16::from_be_bytes([*major, *minor]))
        }
        other => TlsAnswer::Other(other.to_vec()),
    }
}
