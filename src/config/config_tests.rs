//! Unit tests, compiled only under #[cfg(test)] through a `#[path]` module.

use super::*;

fn config(env: &[(&str, &str)], dev: bool) -> Result<Config, ConfigError> {
    let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    Config::from_layers(&Layers::read(None, env)?, dev)
}

#[test]
fn defaults_are_safe() {
    let c = config(&[], false).unwrap();
    assert_eq!(c.server.listen, vec!["localhost:8080"]);
    assert!(c.tls.is_none());
    assert_eq!(c.keys.path, Path::new(DEFAULT_KEYS_PATH));
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(config(&[], true).unwrap().log.format, LogFormat::Pretty);
}

#[test]
fn out_of_range_value_names_key() {
    let err = config(&[("JAGA_SERVER_MAX_BODY_BYTES", "1")], false).unwrap_err();
    assert_eq!(err.to_string(), "server.max_body_bytes: 1 is outside 1024..=67108864");
}

#[test]
fn half_tls_configuration_is_refused() {
    let err = config(&[("JAGA_TLS_CERT_PATH", "/x.pem")], false).unwrap_err();
    assert!(err.to_string().starts_with("tls.key_path"));
}

#[test]
fn client_certificates_need_tls() {
    let err = config(&[("JAGA_TLS_CLIENT_CA_PATH", "/ca.pem")], false).unwrap_err();
    assert!(err.to_string().starts_with("tls.client_ca_path"), "{err}");
    let with_tls = [
        ("JAGA_TLS_CERT_PATH", "/x.pem"),
        ("JAGA_TLS_KEY_PATH", "/k.pem"),
        ("JAGA_TLS_CLIENT_CA_PATH", "/ca.pem"),
    ];
    let c = config(&with_tls, false).unwrap();
    assert_eq!(c.tls.and_then(|t| t.client_ca_path), Some(PathBuf::from("/ca.pem")));
}

#[test]
fn describe_redacts_secrets() {
    let c = config(
        &[
            (
                "JAGA_DATABASE_URL",
                "postgres://jaga:hunter2@db.internal/jaga?sslmode=require",
            ),
            ("JAGA_KEYS_INLINE", "secret-key-material"),
        ],
        false,
    )
    .unwrap();
    let text = c.describe();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("secret-key-material"), "{text}");
    assert!(
        text.contains("database.url = postgres://<redacted>@db.internal/jaga"),
        "{text}"
    );
    assert!(text.contains("keys.inline = <redacted>"), "{text}");
}

#[test]
fn production_needs_relying_party_and_checks_it() {
    assert!(config(&[], false).unwrap().webauthn.is_none());
    let err = config(&[("JAGA_WEBAUTHN_ORIGINS", "https://a.example")], false).unwrap_err();
    assert!(err.to_string().starts_with("webauthn.rp_id"), "{err}");
    let ok = config(
        &[
            ("JAGA_WEBAUTHN_RP_ID", "jaga.example.go.id"),
            ("JAGA_WEBAUTHN_ORIGINS", "https://jaga.example.go.id"),
        ],
        false,
    );
    assert!(ok.is_ok());
    for bad in [
        "http://jaga.example.go.id",
        "https://evil.example",
        "https://jaga.example.go.id/path",
    ] {
        let r = config(
            &[
                ("JAGA_WEBAUTHN_RP_ID", "jaga.example.go.id"),
                ("JAGA_WEBAUTHN_ORIGINS", bad),
            ],
            false,
        );
        assert!(r.is_err(), "{bad} accepted");
    }
    let dev = config(&[], true).unwrap().webauthn.unwrap();
    assert_eq!(dev.rp_id, "localhost");
    assert_eq!(dev.origins, vec!["http://localhost:8080"]);
}

#[test]
fn cidr_ranges_match_addresses() {
    let net = Cidr::parse("10.1.0.0/16").unwrap();
    assert!(net.contains("10.1.200.3".parse().unwrap()));
    assert!(!net.contains("10.2.0.1".parse().unwrap()));
    assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
    assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
    assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
    assert!(Cidr::parse("10.0.0.0/33").is_none());
    assert!(config(&[("JAGA_SERVER_TRUSTED_PROXIES", "nonsense")], false).is_err());
}

#[test]
fn bad_origin_is_refused() {
    assert!(config(&[("JAGA_AUDIT_ORIGIN", "a b")], false).is_err());
    assert!(config(&[("JAGA_AUDIT_ORIGIN", "a+b")], false).is_err());
}

/// Found by the `config` fuzz target: tracing-subscriber panicked on this
/// filter; it is now refused with the key's name.
#[test]
fn a_filter_that_panicked_tracing_subscriber_is_refused() {
    let found = "   x\" \"; -      \u{0}t\u{0}\u{0}\u{0}PA\u{FFFD}H=";
    // The library itself still panics on it (so this test means something).
    assert!(std::panic::catch_unwind(|| tracing_subscriber::EnvFilter::try_new(found)).is_err());
    for filter in [found, "  é=debug", "   [span]=x", " a,b=\u{fa}"] {
        let outcome = std::panic::catch_unwind(|| super::log_filter(filter).is_some());
        assert!(outcome.is_ok(), "{filter:?} panicked");
    }
}
