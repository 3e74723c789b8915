//! File contents, addressed by their SHA-256: locally a folder under the data dir, in
//! production an S3 bucket whose objects clients fetch themselves through presigned URLs.

mod s3;

pub use s3::S3Blobs;

use std::io::{SeekFrom, Write};
use std::ops::Range;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::error::Result;
use crate::store::StoreError;

/// A blob's bytes as they are read: in chunks, so a large file never sits in memory.
pub type BlobStream = BoxStream<'static, std::io::Result<Bytes>>;

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `sha256` (its hex digest). Storing the same blob twice is a no-op.
    async fn put(&self, sha256: &str, bytes: Bytes) -> Result<()>;

    /// Reads the bytes `range` of the blob `sha256`, which the caller knows to be within it.
    async fn read(&self, sha256: &str, range: Range<u64>) -> Result<BlobStream>;

    /// A URL where a client may fetch the blob itself for a short while, when this store
    /// hands them out: a download then redirects there rather than passing the bytes on.
    async fn download_url(&self, _sha256: &str) -> Result<Option<String>> {
        Ok(None)
    }
}

/// How much a local read hands on at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// Blobs as files `DIR/ab/abcdef…`, written to a temporary name first and renamed, so a
/// crash never leaves a half-written blob under its final name.
pub struct LocalBlobs {
    dir: PathBuf,
}

impl LocalBlobs {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(sha256)
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, sha256: &str, bytes: Bytes) -> Result<()> {
        let path = self.path(sha256);
        let write = move || -> std::io::Result<()> {
            if path.exists() {
                return Ok(());
            }
            let dir = path.parent().expect("a blob path has a parent");
            std::fs::create_dir_all(dir)?;
            let mut temp = tempfile_in(dir)?;
            temp.1.write_all(&bytes)?;
            temp.1.sync_all()?;
            std::fs::rename(&temp.0, &path)
        };
        tokio::task::spawn_blocking(write)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?
            .map_err(|e| StoreError::Backend(format!("writing a blob: {e}")))?;
        Ok(())
    }

    async fn read(&self, sha256: &str, range: Range<u64>) -> Result<BlobStream> {
        let failed = |e: std::io::Error| StoreError::Backend(format!("reading blob {sha256}: {e}"));
        let mut file = tokio::fs::File::open(self.path(sha256))
            .await
            .map_err(failed)?;
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(failed)?;
        let limited = file.take(range.end.saturating_sub(range.start));
        Ok(ReaderStream::with_capacity(limited, CHUNK_BYTES).boxed())
    }
}

fn tempfile_in(dir: &std::path::Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = format!(".tmp-{}", crate::domain::ObjectId::random());
    let path = dir.join(name);
    let file = std::fs::File::create_new(&path)?;
    Ok((path, file))
}
