//! Where dataset bodies (and later model artifacts) live: S3 in AWS, a local folder on the
//! embedded store. Bodies are written from a file, so a large dataset is generated to disk
//! row by row and uploaded as a stream, never held in memory whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::http::timing::{timed, Part};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store error: {0}")]
    Backend(String),
    #[error("invalid blob key {0}")]
    InvalidKey(String),
}

impl From<BlobError> for crate::error::ApiError {
    fn from(e: BlobError) -> Self {
        crate::error::ApiError::internal(e)
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    fn backend(&self) -> &'static str;

    /// Stores the file at `path` under `key`, streaming it.
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), BlobError>;

    /// The whole body, or `None` when absent.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;

    /// A time-limited URL a client can download from directly, where the backend has one.
    async fn presigned_get(&self, key: &str, ttl: Duration) -> Result<Option<String>, BlobError>;

    /// A time-limited URL a client can PUT one body of at most `max_bytes` to, stored under
    /// `key` (an `uploads/` key), where the backend has one: a presigned S3 PUT, or the dev
    /// server's signed PUT route.
    async fn presigned_put(
        &self,
        key: &str,
        ttl: Duration,
        content_type: &str,
        max_bytes: u64,
    ) -> Result<Option<String>, BlobError>;

    /// The body's size, or `None` when absent.
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError>;

    /// Removes the body (absent is fine).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// The largest body worth answering inline; larger ones go by `presigned_get` when the
    /// backend has it.
    fn inline_limit(&self) -> u64;
}

/// S3: a Lambda response stops at 6 MB, and a body that is not text travels base64-encoded
/// (4/3 of its size): bodies above 4 MiB are handed out as a presigned URL.
pub const S3_INLINE_LIMIT: u64 = 4 * 1024 * 1024;

/// Locally the emulator loses large responses now and then (a 4 MB JSONL, a 5 MB CSV; see
/// the README): bodies above 1 MiB go by a signed URL of the dev server, which carries them
/// every time (BENCHMARKS.md has the measurement).
pub const LOCAL_INLINE_LIMIT: u64 = 1024 * 1024;

pub type SharedBlobs = Arc<dyn BlobStore>;

/// Keys are `folder/name.ext` made by this crate; anything else is refused, so a key can
/// never climb out of the local folder.
fn check_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.split('/').all(|part| {
            !part.is_empty()
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
    if ok {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.to_string()))
    }
}

pub struct LocalBlobs {
    root: PathBuf,
    urls: Option<crate::config::LocalBlobUrls>,
}

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBlobs {
            root: root.into(),
            urls: None,
        }
    }

    /// Hands out signed URLs of the dev server's blob route (see `LocalBlobUrls`).
    pub fn with_urls(mut self, urls: Option<crate::config::LocalBlobUrls>) -> Self {
        self.urls = urls;
        self
    }

    pub fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

#[async_trait]
impl BlobStore for LocalBlobs {
    fn backend(&self) -> &'static str {
        "local"
    }

    async fn put_file(&self, key: &str, path: &Path, _content_type: &str) -> Result<(), BlobError> {
        let dest = self.path_of(key)?;
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        // Copy then rename, so a reader never sees half a file.
        let partial = dest.with_extension("partial");
        tokio::fs::copy(path, &partial).await.map_err(io)?;
        tokio::fs::rename(&partial, &dest).await.map_err(io)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path_of(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn presigned_get(&self, key: &str, ttl: Duration) -> Result<Option<String>, BlobError> {
        let Some(urls) = &self.urls else {
            return Ok(None);
        };
        check_key(key)?;
        let expires = unix_now()? + ttl.as_secs();
        let signature = local_signature(&urls.key, &format!("{key}\n{expires}"))?;
        Ok(Some(format!(
            "{}/{key}?expires={expires}&signature={signature}",
            urls.base
        )))
    }

    async fn presigned_put(
        &self,
        key: &str,
        ttl: Duration,
        _content_type: &str,
        max_bytes: u64,
    ) -> Result<Option<String>, BlobError> {
        let Some(urls) = &self.urls else {
            return Ok(None);
        };
        check_key(key)?;
        if !key.starts_with("uploads/") {
            return Err(BlobError::InvalidKey(key.to_string()));
        }
        let expires = unix_now()? + ttl.as_secs();
        let signature = local_signature(&urls.key, &format!("PUT\n{key}\n{expires}\n{max_bytes}"))?;
        Ok(Some(format!(
            "{}/{key}?expires={expires}&max_bytes={max_bytes}&signature={signature}",
            urls.base
        )))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.path_of(key)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }

    fn inline_limit(&self) -> u64 {
        if self.urls.is_some() {
            LOCAL_INLINE_LIMIT
        } else {
            u64::MAX
        }
    }
}

fn unix_now() -> Result<u64, BlobError> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| BlobError::Backend(e.to_string()))?
        .as_secs())
}

/// hex(HMAC-SHA256(secret, message)), as `scripts/devserver.py` checks it: the message is
/// `"{blob key}\n{expires}"` for a download, `"PUT\n{key}\n{expires}\n{max_bytes}"` for an
/// upload.
pub fn local_signature(secret: &crate::config::Secret, message: &str) -> Result<String, BlobError> {
    use hmac::{KeyInit, Mac};
    let secret = hex::decode(secret.expose()).map_err(|e| BlobError::Backend(e.to_string()))?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret)
        .map_err(|e| BlobError::Backend(e.to_string()))?;
    mac.update(message.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

fn s3<E: std::error::Error + ProvideErrorMetadata + 'static>(e: E) -> BlobError {
    BlobError::Backend(DisplayErrorContext(&e).to_string())
}

fn presigning(ttl: Duration) -> Result<PresigningConfig, BlobError> {
    PresigningConfig::expires_in(ttl).map_err(|e| BlobError::Backend(e.to_string()))
}

impl S3Blobs {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    fn backend(&self) -> &'static str {
        "s3"
    }

    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), BlobError> {
        check_key(key)?;
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| BlobError::Backend(e.to_string()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| s3(e.into_service_error()))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        check_key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| BlobError::Backend(e.to_string()))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) => {
                let e = e.into_service_error();
                if e.is_no_such_key() {
                    Ok(None)
                } else {
                    Err(s3(e))
                }
            }
        }
    }

    async fn presigned_get(&self, key: &str, ttl: Duration) -> Result<Option<String>, BlobError> {
        check_key(key)?;
        let config = presigning(ttl)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| s3(e.into_service_error()))?;
        Ok(Some(req.uri().to_string()))
    }

    async fn presigned_put(
        &self,
        key: &str,
        ttl: Duration,
        content_type: &str,
        // S3 cannot bound a presigned PUT's size; the completion checks it.
        _max_bytes: u64,
    ) -> Result<Option<String>, BlobError> {
        check_key(key)?;
        let config = presigning(ttl)?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(config)
            .await
            .map_err(|e| s3(e.into_service_error()))?;
        Ok(Some(req.uri().to_string()))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        check_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.content_length().unwrap_or_default().max(0) as u64)),
            Err(e) => {
                let e = e.into_service_error();
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(s3(e))
                }
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3(e.into_service_error()))?;
        Ok(())
    }

    fn inline_limit(&self) -> u64 {
        S3_INLINE_LIMIT
    }
}

/// A blob store that times every call towards the request's `store` part (`http::timing`).
pub struct TimedBlobs(pub SharedBlobs);

#[async_trait]
impl BlobStore for TimedBlobs {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), BlobError> {
        timed(Part::Store, self.0.put_file(key, path, content_type)).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        timed(Part::Store, self.0.get(key)).await
    }
    async fn presigned_get(&self, key: &str, ttl: Duration) -> Result<Option<String>, BlobError> {
        timed(Part::Store, self.0.presigned_get(key, ttl)).await
    }
    async fn presigned_put(
        &self,
        key: &str,
        ttl: Duration,
        content_type: &str,
        max_bytes: u64,
    ) -> Result<Option<String>, BlobError> {
        timed(
            Part::Store,
            self.0.presigned_put(key, ttl, content_type, max_bytes),
        )
        .await
    }
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        timed(Part::Store, self.0.size(key)).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        timed(Part::Store, self.0.delete(key)).await
    }
    fn inline_limit(&self) -> u64 {
        self.0.inline_limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape() {
        assert!(check_key("datasets/ds_1.csv").is_ok());
        for bad in ["", "../etc/passwd", "a//b", "a/../b", "/abs", "a b"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn local_urls_are_signed_as_the_dev_server_checks() {
        let urls = crate::config::LocalBlobUrls {
            base: "http://127.0.0.1:9/blobs".into(),
            key: crate::config::Secret::new("00112233445566778899aabbccddeeff"),
        };
        let blobs = LocalBlobs::new("/nowhere").with_urls(Some(urls));
        let url = blobs
            .presigned_get("datasets/ds_1.csv", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "http://127.0.0.1:9/blobs/datasets/ds_1.csv");
        let expires: u64 = query
            .strip_prefix("expires=")
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let expected = local_signature(
            &crate::config::Secret::new("00112233445566778899aabbccddeeff"),
            &format!("datasets/ds_1.csv\n{expires}"),
        )
        .unwrap();
        assert!(query.ends_with(&format!("&signature={expected}")), "{url}");
        assert_eq!(blobs.inline_limit(), LOCAL_INLINE_LIMIT);
        assert!(blobs
            .presigned_get("../etc/passwd", Duration::from_secs(60))
            .await
            .is_err());
    }

    /// The value Python's `hmac.new(bytes.fromhex(key), b"datasets/ds_1.csv\n1767225600",
    /// hashlib.sha256).hexdigest()` gives, as `scripts/devserver.py` computes it.
    #[test]
    fn signatures_match_the_dev_servers() {
        let key = crate::config::Secret::new("00112233445566778899aabbccddeeff");
        assert_eq!(
            local_signature(&key, "datasets/ds_1.csv\n1767225600").unwrap(),
            "d4900a8a5514b9073771b29a858973a5f37c3d717212e692ba304ac056db80c7"
        );
        // An upload URL's: hmac.new(key, b"PUT\nuploads/up_1.body\n1767225600\n100", sha256).
        assert_eq!(
            local_signature(&key, "PUT\nuploads/up_1.body\n1767225600\n100").unwrap(),
            "7a86696487c41403b7d5dcfc1ea1a1146e289fc546df6e816b76e495676da222"
        );
    }

    #[tokio::test]
    async fn local_upload_urls_are_for_uploads_only_and_carry_the_size() {
        let urls = crate::config::LocalBlobUrls {
            base: "http://127.0.0.1:9/blobs".into(),
            key: crate::config::Secret::new("00112233445566778899aabbccddeeff"),
        };
        let blobs = LocalBlobs::new("/nowhere").with_urls(Some(urls));
        let ttl = Duration::from_secs(60);
        let url = blobs
            .presigned_put("uploads/up_1.body", ttl, "text/csv", 100)
            .await
            .unwrap()
            .unwrap();
        assert!(url.starts_with("http://127.0.0.1:9/blobs/uploads/up_1.body?expires="));
        assert!(url.contains("&max_bytes=100&signature="), "{url}");
        assert!(blobs
            .presigned_put("datasets/ds_1.csv", ttl, "text/csv", 100)
            .await
            .is_err());
    }

    #[tokio::test]
    async fn local_round_trip() {
        let dir = std::env::temp_dir().join(format!("blobs-{}", ulid::Ulid::new()));
        let blobs = LocalBlobs::new(&dir);
        let src = dir.with_extension("src");
        tokio::fs::write(&src, b"a,b\n1,2\n").await.unwrap();
        blobs
            .put_file("datasets/x.csv", &src, "text/csv")
            .await
            .unwrap();
        assert_eq!(
            blobs.get("datasets/x.csv").await.unwrap().unwrap(),
            b"a,b\n1,2\n"
        );
        assert!(blobs.get("datasets/none.csv").await.unwrap().is_none());
        assert!(blobs
            .presigned_get("datasets/x.csv", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none());
    }
}
