//! The projector page: one HTML file with its style and script, built into
//! the binary (no CDN, no build step). It holds no data: its script reads
//! the view token from the URL's `#token=` fragment, follows the live
//! stream and polls the room summary once a second.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("projector/page.html");

/// Scripts and styles only from the page itself; requests only to the room.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
                   script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'";

pub(crate) async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE,
    )
}
