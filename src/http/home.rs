//! The landing page at `/`, until the citizen portal arrives.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

const PAGE: &str = r#"<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jaga — Layanan identitas dan perlindungan data pribadi</title>
</head>
<body>
<main>
<h1>Jaga</h1>
<p>Jaga menjaga identitas dan data pribadi warga untuk layanan publik digital.
Layanan ini berjalan.</p>
<p lang="en">Jaga guards citizens' identities and personal data for digital public
services. The service is running.</p>
<ul>
<li><a href="/healthz">Status layanan / Service status</a></li>
<li><a href="/openapi.json">Dokumentasi API (OpenAPI) / API documentation</a></li>
</ul>
</main>
</body>
</html>
"#;

async fn home() -> Html<&'static str> {
    Html(PAGE)
}
