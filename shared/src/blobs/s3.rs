//! Blobs as S3 objects `blobs/<sha256>`. Downloads never pass through the function: the
//! edge worker answers a GET with a presigned URL of the object, so a Lambda's payload and
//! time limits never bound a file's size.

use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::StreamExt;
use tokio_util::io::ReaderStream;

use super::{BlobStore, BlobStream, CHUNK_BYTES};
use crate::error::Result;
use crate::store::StoreError;

/// How long a presigned download URL works: long enough to start any download (S3 checks
/// the signature when a transfer starts, not while it runs), short enough that a URL that
/// leaks from the gate's decision soon stops working.
pub const DOWNLOAD_URL_LIFETIME: Duration = Duration::from_secs(10 * 60);

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    fn key(sha256: &str) -> String {
        format!("blobs/{sha256}")
    }
}

fn failed(action: &str, sha256: &str, error: impl std::error::Error) -> StoreError {
    StoreError::Backend(format!(
        "{action} blob {sha256}: {}",
        DisplayErrorContext(error)
    ))
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, sha256: &str, bytes: Bytes) -> Result<()> {
        // S3 checks the bytes against the digest they are stored under (moto does not).
        let digest = hex::decode(sha256).map_err(|e| failed("naming", sha256, e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::key(sha256))
            .checksum_sha256(STANDARD.encode(digest))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| failed("writing", sha256, e))?;
        Ok(())
    }

    async fn read(&self, sha256: &str, range: Range<u64>) -> Result<BlobStream> {
        if range.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::key(sha256))
            .range(format!("bytes={}-{}", range.start, range.end - 1))
            .send()
            .await
            .map_err(|e| failed("reading", sha256, e))?;
        let reader = object.body.into_async_read();
        Ok(ReaderStream::with_capacity(reader, CHUNK_BYTES).boxed())
    }

    async fn download_url(&self, sha256: &str) -> Result<Option<String>> {
        let lifetime = PresigningConfig::expires_in(DOWNLOAD_URL_LIFETIME)
            .map_err(|e| failed("presigning", sha256, e))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::key(sha256))
            .presigned(lifetime)
            .await
            .map_err(|e| failed("presigning", sha256, e))?;
        Ok(Some(request.uri().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::domain::ObjectId;
    use crate::store::{loopback_emulator, sdk_config};

    /// moto's S3, on a bucket of the test's own; `None` when this run has no emulators.
    async fn blobs() -> Option<S3Blobs> {
        loopback_emulator("AWS_ENDPOINT_URL")?;
        let client = Client::new(&sdk_config(2).await);
        let bucket = format!("gatehouse-test-{}", ObjectId::random());
        client.create_bucket().bucket(&bucket).send().await.unwrap();
        Some(S3Blobs::new(client, bucket))
    }

    async fn collect(mut stream: BlobStream) -> Vec<u8> {
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        bytes
    }

    /// The body of a plain HTTP/1.1 GET of `url` (the emulator is on loopback, over http).
    async fn fetch(url: &str) -> (String, Vec<u8>) {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&answer[..split]).into_owned();
        (head, answer[split + 4..].to_vec())
    }

    #[tokio::test]
    async fn a_blob_is_stored_read_by_range_and_fetched_through_its_presigned_url() {
        let Some(blobs) = blobs().await else { return };
        let bytes = Bytes::from_static(b"hello, presigned world");
        let sha256 = hex::encode(Sha256::digest(&bytes));
        blobs.put(&sha256, bytes.clone()).await.unwrap();
        blobs.put(&sha256, bytes.clone()).await.unwrap();

        assert_eq!(
            collect(blobs.read(&sha256, 7..16).await.unwrap()).await,
            b"presigned"
        );
        assert!(
            collect(blobs.read(&sha256, 3..3).await.unwrap())
                .await
                .is_empty()
        );

        let url = blobs.download_url(&sha256).await.unwrap().unwrap();
        assert!(url.contains(&format!("/blobs/{sha256}?")), "{url}");
        assert!(url.contains("X-Amz-Expires=600"), "{url}");
        let (head, body) = fetch(&url).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, bytes);
    }

    #[tokio::test]
    async fn a_missing_blob_is_an_error_not_an_empty_file() {
        let Some(blobs) = blobs().await else { return };
        assert!(blobs.read(&"0".repeat(64), 0..4).await.is_err());
    }
}
