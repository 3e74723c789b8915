//! The table itself: its definition, and creating it when it is missing (local runs and
//! tests; production creates it from the SAM template, with the same definition).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::error::{backend, build};
use super::keys::{INDEXES, PK, SK, TTL_ATTRIBUTE};
use crate::store::{StoreError, StoreResult};

/// How long a new table may take to become usable (DynamoDB takes seconds; tens at worst).
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
const POLL_INTERVAL: Duration = Duration::from_millis(500);

fn key(name: &str, key_type: KeyType) -> StoreResult<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(build)
}

fn string_attribute(name: &str) -> StoreResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build)
}

/// Creates the table if it is missing, and waits until it (and its indexes) can be used.
/// Returns true if this call created it.
pub(super) async fn create_if_missing(client: &Client, table: &str) -> StoreResult<bool> {
    let created = match describe(client, table).await? {
        Some(_) => false,
        None => create(client, table).await?,
    };
    wait_until_active(client, table).await?;
    ensure_time_to_live(client, table).await?;
    Ok(created)
}

async fn create(client: &Client, table: &str) -> StoreResult<bool> {
    let mut attributes = vec![string_attribute(PK)?, string_attribute(SK)?];
    let mut indexes = Vec::with_capacity(INDEXES.len());
    for gsi in INDEXES {
        attributes.push(string_attribute(gsi.pk)?);
        attributes.push(string_attribute(gsi.sk)?);
        let projection = if gsi.keys_only {
            ProjectionType::KeysOnly
        } else {
            ProjectionType::All
        };
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(gsi.name)
                .key_schema(key(gsi.pk, KeyType::Hash)?)
                .key_schema(key(gsi.sk, KeyType::Range)?)
                .projection(Projection::builder().projection_type(projection).build())
                .build()
                .map_err(build)?,
        );
    }
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewImage)
        .build()
        .map_err(build)?;
    let result = client
        .create_table()
        .table_name(table)
        .set_attribute_definitions(Some(attributes))
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .set_global_secondary_indexes(Some(indexes))
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(stream)
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        // Someone else created it between our look and our create: theirs is as good.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(backend("CreateTable", e)),
    }
}

pub(super) async fn describe(
    client: &Client,
    table: &str,
) -> StoreResult<Option<TableDescription>> {
    match client.describe_table().table_name(table).send().await {
        Ok(output) => Ok(output.table),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(backend("DescribeTable", e)),
    }
}

fn is_active(table: &TableDescription) -> bool {
    table.table_status() == Some(&TableStatus::Active)
        && table
            .global_secondary_indexes()
            .iter()
            .all(|index| index.index_status() == Some(&IndexStatus::Active))
}

async fn wait_until_active(client: &Client, table: &str) -> StoreResult<()> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        match describe(client, table).await? {
            Some(description) if is_active(&description) => return Ok(()),
            Some(_) => {}
            None => {
                return Err(StoreError::Backend(format!(
                    "table {table} disappeared while waiting for it to become active"
                )));
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Backend(format!(
                "table {table} is not active after {} seconds",
                ACTIVE_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn ensure_time_to_live(client: &Client, table: &str) -> StoreResult<()> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| backend("DescribeTimeToLive", e))?;
    let status = current
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status());
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .map_err(build)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| backend("UpdateTimeToLive", e))?;
    Ok(())
}
