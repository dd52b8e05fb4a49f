//! Security headers and request ids.

use crate::support::{Backend, Sandbox};

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

#[tokio::test]
async fn every_response_carries_security_headers() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
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

#[tokio::test]
async fn request_id_is_returned_and_in_every_log_line_of_the_request() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
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
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let logs = app.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&id_a)).collect();
    assert!(!lines.is_empty(), "no log line carries {id_a}:\n{logs}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["span"]["request.id"], id_a.as_str(), "{line}");
    }
}

#[tokio::test]
async fn tls_serves_hsts_and_only_modern_protocols() {
    let sandbox_dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = sandbox_dir.path().join("cert.pem");
    let key_path = sandbox_dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let mut sandbox = Sandbox::new(Backend::Sqlite).await;
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
    // TLS 1.1 and older are refused.
    let old = tls_handshake_with_max_version(&port, 0x0302).await;
    assert!(!old, "a TLS 1.1 handshake succeeded");
}

/// Sends a minimal ClientHello capped at `version` and reports whether the
/// server answered with a ServerHello (0x16 0x03 …, type 2).
async fn tls_handshake_with_max_version(port: &str, version: u16) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut hello = Vec::new();
    hello.extend_from_slice(&version.to_be_bytes());
    hello.extend_from_slice(&[0u8; 32]); // random
    hello.push(0); // session id
    hello.extend_from_slice(&[0, 4, 0x00, 0x2f, 0x00, 0x35]); // AES-CBC suites
    hello.extend_from_slice(&[1, 0]); // null compression
    let mut handshake = vec![1u8, 0, 0, hello.len() as u8];
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01, 0, handshake.len() as u8];
    record.extend_from_slice(&handshake);
    s.write_all(&record).await.unwrap();
    let mut buf = [0u8; 6];
    match tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf)).await {
        Ok(Ok(n)) if n >= 6 => buf[0] == 0x16 && buf[5] == 2,
        _ => false,
    }
}
