//! Which store the binary works on: the embedded SQLite store under the data dir (the
//! default), or a DynamoDB table, the same one the Lambda functions use; and where file
//! blobs live: under the data dir, or in the S3 bucket the edge worker serves from.

use std::path::Path;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use shared::blobs::{BlobStore, LocalBlobs, S3Blobs};
use shared::store::{CursorKey, DynamoStore, SqliteStore, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Sqlite,
    Dynamodb,
}

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// Where the data lives.
    #[arg(
        long = "store",
        global = true,
        env = "GATEHOUSE_STORE",
        value_enum,
        default_value = "sqlite"
    )]
    kind: StoreKind,
    /// The DynamoDB table (with --store dynamodb).
    #[arg(long, global = true, env = "GATEHOUSE_TABLE")]
    table: Option<String>,
    /// Create the DynamoDB table, with its indexes and stream, if it is missing.
    #[arg(long, global = true)]
    create_table: bool,
    /// The secret (at least 32 bytes) that signs DynamoDB pagination cursors; every server on
    /// one table needs the same one. Without it, a random key: cursors then last one process.
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_CURSOR_KEY",
        hide_env_values = true
    )]
    cursor_key: Option<String>,
    /// An S3 bucket for the files' blobs (the template's blob bucket); without it they live
    /// under the data dir. With it, a download redirects to a presigned URL of the blob.
    #[arg(long, global = true, env = "GATEHOUSE_BLOB_BUCKET")]
    blob_bucket: Option<String>,
    /// The AWS SDK's configuration, loaded once for DynamoDB and S3 alike.
    #[arg(skip)]
    sdk: tokio::sync::OnceCell<aws_config::SdkConfig>,
}

impl StoreArgs {
    pub fn is_sqlite(&self) -> bool {
        self.kind == StoreKind::Sqlite
    }

    /// Opens the chosen store. DynamoDB is found the way the AWS SDK finds it everywhere:
    /// region, credentials and endpoint (`AWS_ENDPOINT_URL_DYNAMODB`) from the environment.
    pub async fn open(
        &self,
        data_dir: &Path,
    ) -> Result<Arc<dyn Store>, Box<dyn std::error::Error>> {
        match self.kind {
            StoreKind::Sqlite => Ok(Arc::new(self.open_sqlite(data_dir)?)),
            StoreKind::Dynamodb => {
                let table = self
                    .table
                    .clone()
                    .ok_or("--store dynamodb needs --table NAME (or GATEHOUSE_TABLE)")?;
                let cursor_key = match &self.cursor_key {
                    Some(secret) => CursorKey::from_secret(secret)
                        .map_err(|e| format!("invalid --cursor-key: {e}"))?,
                    None => CursorKey::random(),
                };
                let sdk = self.sdk().await;
                let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table, cursor_key);
                if self.create_table && store.create_table_if_missing().await? {
                    tracing::info!(table = store.table_name(), "created the DynamoDB table");
                }
                Ok(Arc::new(store))
            }
        }
    }

    /// [`open`](Self::open), and the embedded store itself when it is the one chosen: the
    /// server runs its change feed.
    pub async fn open_with_feed(
        &self,
        data_dir: &Path,
    ) -> Result<(Arc<dyn Store>, Option<SqliteStore>), Box<dyn std::error::Error>> {
        match self.kind {
            StoreKind::Sqlite => {
                let store = self.open_sqlite(data_dir)?;
                Ok((Arc::new(store.clone()), Some(store)))
            }
            StoreKind::Dynamodb => Ok((self.open(data_dir).await?, None)),
        }
    }

    fn open_sqlite(&self, data_dir: &Path) -> Result<SqliteStore, Box<dyn std::error::Error>> {
        if self.table.is_some() || self.create_table {
            return Err("--table and --create-table go with --store dynamodb".into());
        }
        Ok(SqliteStore::open(data_dir)?)
    }

    /// Region, credentials and endpoints, found the way the AWS SDK finds them everywhere.
    async fn sdk(&self) -> &aws_config::SdkConfig {
        self.sdk
            .get_or_init(|| aws_config::load_defaults(aws_config::BehaviorVersion::latest()))
            .await
    }

    /// Where file blobs are written and read: the bucket, found the way the AWS SDK finds S3
    /// everywhere (`AWS_ENDPOINT_URL_S3` for an emulator), or `DATA_DIR/blobs`.
    pub async fn blobs(&self, data_dir: &Path) -> Arc<dyn BlobStore> {
        match &self.blob_bucket {
            Some(bucket) => {
                let sdk = self.sdk().await;
                Arc::new(S3Blobs::new(aws_sdk_s3::Client::new(sdk), bucket))
            }
            None => Arc::new(LocalBlobs::new(data_dir.join("blobs"))),
        }
    }
}
