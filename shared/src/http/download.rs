//! A stored body answered as a file download: a redirect to a signed URL above the blob
//! backend's inline limit (S3 presigned in AWS, the dev server's signed route locally; a
//! Lambda response stops at 6 MB), else the body inline as an attachment. Shared by the
//! dataset and model download routes.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::blobs::SharedBlobs;
use crate::{ApiError, ApiResult};

/// How long a signed download URL stays valid.
pub const PRESIGNED_TTL: Duration = Duration::from_secs(900);

/// One download: the blob `key` (holding `size` bytes), or `body` when the caller already
/// has the bytes and they fit inline.
pub struct Download<'a> {
    pub key: &'a str,
    pub size: u64,
    pub body: Option<Vec<u8>>,
    pub content_type: &'a str,
    /// The attachment's file name.
    pub filename: String,
    /// Text for lambda_http (see below), else binary (base64 through API Gateway).
    pub text: bool,
}

/// The response for `d`; `missing` is the error when the blob is not in the store.
pub async fn answer(
    blobs: &SharedBlobs,
    d: Download<'_>,
    missing: impl FnOnce() -> ApiError,
) -> ApiResult<Response> {
    if d.size > blobs.inline_limit() {
        if let Some(url) = blobs.presigned_get(d.key, PRESIGNED_TTL).await? {
            return Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response());
        }
    }
    let body = match d.body {
        Some(b) => b,
        None => blobs.get(d.key).await?.ok_or_else(missing)?,
    };
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, d.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", d.filename),
            ),
        ],
        body,
    )
        .into_response();
    if d.text {
        // lambda_http base64-encodes any type it does not know as text (JSON Lines among
        // them, +33 %); this header tells it the body is text.
        response.headers_mut().insert(
            header::HeaderName::from_static("x-lambda-http-content-encoding"),
            HeaderValue::from_static("text"),
        );
    }
    Ok(response)
}
