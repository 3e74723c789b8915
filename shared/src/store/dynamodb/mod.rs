//! The production store: one DynamoDB table with sparse global secondary indexes. The layout
//! (every item's keys, every access pattern and the index it uses) is in `docs/dynamodb.md`;
//! the key formats live in [`keys`].
//!
//! Every call is a `GetItem`, `BatchGetItem`, `Query`, a single conditional write or a
//! `TransactWriteItems` — never a `Scan`. Each change of an access request commits in one
//! transaction with its audit item, conditional on the version the caller read.
//!
//! Retries: the client's own retry policy (the SDK's standard mode with backoff, from
//! `aws_config`) covers throttling and transient failures of each call. A transaction
//! cancelled only because another transaction held the same items (or by throttling) is
//! retried here with jittered backoff, a few times, then reported as `Conflict`.

mod cursor;
mod error;
mod items;
mod keys;
#[cfg(test)]
mod round_trips;
pub mod stream;
mod table;
#[cfg(test)]
pub(super) mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update,
};
use rand::Rng;

pub use self::cursor::CursorKey;
use self::error::{Cancelled, backend, build};
use self::items::{
    Item, KIND, KIND_MARKER, KIND_ORG, KIND_USER, MEMBER_SEQ, MembershipItem, NOTIFICATIONS_MODE,
    ORG_SEQ, REPO_REV, REQUEST_ID, REQUEST_OPTIONAL, Reader, check_item, key, n, s,
};
use self::keys::{AuditPhase, GSI1, GSI2, GSI3, GSI4, Gsi, PK, SK};
use super::{
    Account, CallerKey, CallerRecords, ContextRead, Cursor, FileEntry, MAX_PAGE_SIZE, NewCommit,
    Page, RepoContext, SettingsUpdate, Store, StoreError, StoreResult, TargetRecords, TokenRecord,
};
use crate::domain::{
    AccessRequest, AuditRecord, Day, Member, Name, NotificationsMode, ObjectId, OrgRole,
    Organization, Repo, RepoRef, RequestStatus, RequestTarget, Timestamp, TokenDigest, User,
};

/// Tries of a transaction that other transactions keep cancelling, before `Conflict`.
const TRANSACTION_ATTEMPTS: u32 = 5;
/// Tries of a `BatchGetItem` that keeps leaving keys unprocessed (throttled).
const BATCH_ATTEMPTS: u32 = 8;
/// The most keys one `BatchGetItem` may ask for.
const BATCH_GET_KEYS: usize = 100;

/// The [`Store`] on one DynamoDB table. Cheap to clone: clones share the client.
///
/// Build the client once at start-up from `aws_config::load_defaults`: it finds the region,
/// the credentials, the endpoint (`AWS_ENDPOINT_URL_DYNAMODB`, for DynamoDB Local) and the
/// standard retry policy itself.
#[derive(Clone)]
pub struct DynamoStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    table: String,
    cursor_key: CursorKey,
    /// Set once this process has written the table's "something is stored" marker.
    marked: AtomicBool,
}

impl DynamoStore {
    /// The most files one commit may add or replace: they are written in one transaction
    /// with the repo item and the README's HTML, and a transaction holds at most 100 items.
    pub const MAX_COMMIT_FILES: usize = items::MAX_TRANSACTION_ITEMS - 2;

    pub fn new(client: Client, table: impl Into<String>, cursor_key: CursorKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                table: table.into(),
                cursor_key,
                marked: AtomicBool::new(false),
            }),
        }
    }

    /// Creates the table (with its GSIs, a NEW_IMAGE stream, TTL on attribute `expiresAt`,
    /// on-demand billing) if missing; waits until ACTIVE. Returns true if it created it.
    pub async fn create_table_if_missing(&self) -> StoreResult<bool> {
        table::create_if_missing(self.client(), self.table_name()).await
    }

    pub fn table_name(&self) -> &str {
        &self.inner.table
    }

    fn client(&self) -> &Client {
        &self.inner.client
    }

    // ---- single-item calls ------------------------------------------------------------------

    /// A strongly consistent read of one item.
    async fn get(&self, pk: &str, sk: &str) -> StoreResult<Option<Item>> {
        if !items::key_fits(pk, sk) {
            return Ok(None);
        }
        let output = self
            .client()
            .get_item()
            .table_name(self.table_name())
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))?;
        Ok(output.item)
    }

    /// Writes a new item; false (and nothing written) when one with its key exists.
    async fn put_new(&self, item: Item) -> StoreResult<bool> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table_name())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        conditional_put(put).await
    }

    /// Adds one to a counter on a namespace item of the given kind, and returns the new
    /// value; `None` when there is no such user or organization.
    async fn next_position(
        &self,
        name: &Name,
        kind: &str,
        counter: &str,
    ) -> StoreResult<Option<u64>> {
        let update = self
            .client()
            .update_item()
            .table_name(self.table_name())
            .set_key(Some(key(keys::namespace_pk(name), keys::NAMESPACE_SK)))
            .update_expression("ADD #counter :one")
            .condition_expression("#kind = :kind")
            .expression_attribute_names("#counter", counter)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":kind", s(kind))
            .return_values(ReturnValue::UpdatedNew);
        let result = send_single(|| update.clone().send()).await;
        match result {
            Ok(output) => {
                let attributes = output.attributes.unwrap_or_default();
                Reader::new(&attributes, "namespace").int(counter).map(Some)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    /// Records, once per process, that something is stored: `is_empty` reads this marker
    /// rather than scanning. Written before the first create, so a failure in between can
    /// only make an empty table look used (and so skip a seed), never the reverse.
    async fn mark_not_empty(&self) -> StoreResult<()> {
        if self.inner.marked.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut marker = key(keys::META_PK, keys::META_SK);
        marker.insert(KIND.to_owned(), s("meta"));
        let put = self
            .client()
            .put_item()
            .table_name(self.table_name())
            .set_item(Some(marker));
        send_single(|| put.clone().send())
            .await
            .map_err(|e| backend("PutItem", e))?;
        self.inner.marked.store(true, Ordering::Relaxed);
        Ok(())
    }

    // ---- queries ------------------------------------------------------------------------------

    /// Every item of one partition (of the table or of an index), in sort-key order, page
    /// after page. Reads of the table are strongly consistent; index reads cannot be.
    async fn query_all(
        &self,
        index: Option<Gsi>,
        pk: String,
        sk: Option<SortKey>,
    ) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .query(index, &pk, sk.as_ref())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            found.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(found),
            }
        }
    }

    fn query(
        &self,
        index: Option<Gsi>,
        pk: &str,
        sk: Option<&SortKey>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (pk_name, sk_name) = index.map_or((PK, SK), |gsi| (gsi.pk, gsi.sk));
        let mut query = self
            .client()
            .query()
            .table_name(self.table_name())
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(pk));
        let condition = match sk {
            None => "#pk = :pk",
            Some(SortKey::Equals(value)) => {
                query = query
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":sk", s(value));
                "#pk = :pk AND #sk = :sk"
            }
            Some(SortKey::BeginsWith(prefix)) => {
                query = query
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":sk", s(prefix));
                "#pk = :pk AND begins_with(#sk, :sk)"
            }
        };
        query = query.key_condition_expression(condition);
        match index {
            Some(gsi) => query.index_name(gsi.name),
            None => query.consistent_read(true),
        }
    }

    /// The items with these keys (those that exist), in no particular order; strongly
    /// consistent.
    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(build)?;
            let mut attempt = 0;
            loop {
                let output = self
                    .client()
                    .batch_get_item()
                    .request_items(self.table_name(), pending)
                    .send()
                    .await
                    .map_err(|e| backend("BatchGetItem", e))?;
                if let Some(items) = output
                    .responses
                    .and_then(|mut tables| tables.remove(self.table_name()))
                {
                    found.extend(items);
                }
                match output
                    .unprocessed_keys
                    .and_then(|mut tables| tables.remove(self.table_name()))
                {
                    Some(rest) if !rest.keys().is_empty() => {
                        attempt += 1;
                        if attempt >= BATCH_ATTEMPTS {
                            return Err(StoreError::Unavailable(
                                "DynamoDB BatchGetItem left keys unprocessed after retries \
                                 (throttled)"
                                    .into(),
                            ));
                        }
                        tokio::time::sleep(backoff(attempt)).await;
                        pending = rest;
                    }
                    _ => break,
                }
            }
        }
        Ok(found)
    }

    /// The role of a member of an organization; `None` for anyone else.
    async fn membership(&self, org: &Name, user: &Name) -> StoreResult<Option<OrgRole>> {
        match self
            .get(&keys::namespace_pk(org), &keys::member_sk(user))
            .await?
        {
            Some(item) => Ok(Some(items::membership_from(&item)?.2)),
            None => Ok(None),
        }
    }

    /// The keys of a repo's request with this id, from the id index: keys only, and eventually
    /// consistent, so the item itself must then be read (consistently) and its id checked.
    async fn request_keys_by_id(
        &self,
        repo: &RepoRef,
        id: ObjectId,
    ) -> StoreResult<Vec<(String, String)>> {
        self.query_all(
            Some(GSI3),
            keys::request_id_gsi_pk(id),
            Some(SortKey::Equals(keys::repo_pk(repo))),
        )
        .await?
        .iter()
        .map(|hit| {
            let reader = Reader::new(hit, "request id index entry");
            Ok((reader.str(PK)?.to_owned(), reader.str(SK)?.to_owned()))
        })
        .collect()
    }

    // ---- transactions -------------------------------------------------------------------------

    /// Runs one transaction. `Ok(Err(cancelled))` when a condition failed (nothing written);
    /// retried while other transactions on the same items cancel it, then `Conflict`.
    async fn transact(&self, transaction: Transaction) -> StoreResult<Result<(), Cancelled>> {
        transaction.check()?;
        let Transaction {
            operation, actions, ..
        } = transaction;
        let mut attempt = 0;
        loop {
            let result = self
                .client()
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(Ok(())),
                Err(error) => error,
            };
            let cancelled = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => Cancelled(
                    e.cancellation_reasons()
                        .iter()
                        .map(|reason| reason.code().map(str::to_owned))
                        .collect(),
                ),
                _ => return Err(backend("TransactWriteItems", error)),
            };
            if cancelled.any_condition_failed() {
                return Ok(Err(cancelled));
            }
            if !cancelled.transient() {
                return Err(StoreError::Backend(format!(
                    "DynamoDB TransactWriteItems ({operation}) was cancelled: {}",
                    cancelled.describe()
                )));
            }
            attempt += 1;
            if attempt >= TRANSACTION_ATTEMPTS {
                return Err(if cancelled.throttled() {
                    StoreError::Unavailable(format!(
                        "DynamoDB TransactWriteItems ({operation}) stayed throttled: {}",
                        cancelled.describe()
                    ))
                } else {
                    StoreError::Conflict
                });
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    fn put_action(
        &self,
        item: Item,
        condition: Option<Expression>,
    ) -> StoreResult<TransactWriteItem> {
        let mut put = Put::builder()
            .table_name(self.table_name())
            .set_item(Some(item));
        if let Some(condition) = condition {
            put = put
                .condition_expression(condition.text)
                .set_expression_attribute_names(non_empty(condition.names))
                .set_expression_attribute_values(non_empty(condition.values));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build)?)
            .build())
    }

    fn delete_action(
        &self,
        key: Item,
        condition: Option<Expression>,
    ) -> StoreResult<TransactWriteItem> {
        let mut delete = Delete::builder()
            .table_name(self.table_name())
            .set_key(Some(key));
        if let Some(condition) = condition {
            delete = delete
                .condition_expression(condition.text)
                .set_expression_attribute_names(non_empty(condition.names))
                .set_expression_attribute_values(non_empty(condition.values));
        }
        Ok(TransactWriteItem::builder()
            .delete(delete.build().map_err(build)?)
            .build())
    }

    fn check_action(&self, key: Item, condition: Expression) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(self.table_name())
            .set_key(Some(key))
            .condition_expression(condition.text)
            .set_expression_attribute_names(non_empty(condition.names))
            .set_expression_attribute_values(non_empty(condition.values))
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// An update: `update` holds the update expression (and its names and values),
    /// `condition` the condition's text, whose names and values are merged in.
    fn update_action(
        &self,
        key: Item,
        update: Expression,
        condition: Expression,
    ) -> StoreResult<TransactWriteItem> {
        let merged = update.merge(condition);
        let update = Update::builder()
            .table_name(self.table_name())
            .set_key(Some(key))
            .update_expression(merged.update)
            .condition_expression(merged.condition)
            .set_expression_attribute_names(non_empty(merged.names))
            .set_expression_attribute_values(non_empty(merged.values))
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn listing(repo: &RepoRef, status: Option<RequestStatus>) -> (Gsi, String, String) {
        let label = format!(
            "{}\0{}\0{}",
            repo.repo_type.as_str(),
            repo.id,
            status.map_or("*", RequestStatus::as_str)
        );
        match status {
            None => (GSI1, keys::requests_gsi_pk(repo), label),
            Some(status) => (GSI2, keys::requests_by_status_gsi_pk(repo, status), label),
        }
    }
}

impl fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.inner.table)
            .finish_non_exhaustive()
    }
}

/// The keys of one `BatchGetItem`, each once: DynamoDB refuses a batch that repeats a key.
#[derive(Default)]
struct BatchKeys {
    keys: Vec<Item>,
    seen: HashSet<(String, String)>,
}

impl BatchKeys {
    /// Adds a key, unless it is there already or too long to exist.
    fn add(&mut self, pk: &str, sk: &str) {
        if items::key_fits(pk, sk) && self.seen.insert((pk.to_owned(), sk.to_owned())) {
            self.keys.push(key(pk, sk));
        }
    }
}

/// The items a batch found, by their key.
struct Found(HashMap<(String, String), Item>);

impl Found {
    fn new(items: Vec<Item>) -> StoreResult<Self> {
        let mut found = HashMap::with_capacity(items.len());
        for item in items {
            let reader = Reader::new(&item, "item");
            let item_key = (reader.str(PK)?.to_owned(), reader.str(SK)?.to_owned());
            found.insert(item_key, item);
        }
        Ok(Self(found))
    }

    fn get(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.0.get(&(pk.to_owned(), sk.to_owned()))
    }

    fn user(&self, name: &Name) -> StoreResult<Option<User>> {
        match self.get(&keys::namespace_pk(name), keys::NAMESPACE_SK) {
            Some(item) => items::user_from(item),
            None => Ok(None),
        }
    }

    fn request(&self, repo_pk: &str, user: &Name) -> StoreResult<Option<AccessRequest>> {
        self.get(repo_pk, &keys::request_sk(user))
            .map(items::request_from)
            .transpose()
    }
}

/// A condition on a query's sort key.
enum SortKey {
    Equals(String),
    BeginsWith(String),
}

/// An expression with its placeholders' names and values.
#[derive(Default)]
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// `attribute_not_exists(PK)`: the item must be new.
    fn is_new() -> Self {
        Self::new("attribute_not_exists(#pk)").name("#pk", PK)
    }

    /// The item must be a namespace item of this kind (a user, or an organization).
    fn is_kind(kind: &str) -> Self {
        Self::new("#kind = :kind")
            .name("#kind", KIND)
            .value(":kind", s(kind))
    }

    fn merge(self, condition: Expression) -> MergedExpression {
        let mut names = self.names;
        names.extend(condition.names);
        let mut values = self.values;
        values.extend(condition.values);
        MergedExpression {
            update: self.text,
            condition: condition.text,
            names,
            values,
        }
    }
}

struct MergedExpression {
    update: String,
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// DynamoDB refuses empty name and value maps.
fn non_empty<K, V>(map: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

/// An update expression built clause by clause, with generated placeholders.
#[derive(Default)]
struct UpdateBuilder {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    expression: Expression,
    next: usize,
}

impl UpdateBuilder {
    fn placeholder(&mut self, attribute: &str) -> String {
        let name = format!("#u{}", self.next);
        self.next += 1;
        self.expression
            .names
            .insert(name.clone(), attribute.to_owned());
        name
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":u{}", self.next);
        self.next += 1;
        self.expression.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn set(&mut self, attribute: &str, value: AttributeValue) {
        let (name, value) = (self.placeholder(attribute), self.value(value));
        self.set.push(format!("{name} = {value}"));
    }

    /// Sets the attribute only if the item does not have it yet.
    fn set_if_missing(&mut self, attribute: &str, value: AttributeValue) {
        let (name, value) = (self.placeholder(attribute), self.value(value));
        self.set
            .push(format!("{name} = if_not_exists({name}, {value})"));
    }

    fn set_or_remove(&mut self, attribute: &str, value: Option<AttributeValue>) {
        match value {
            Some(value) => self.set(attribute, value),
            None => self.remove(attribute),
        }
    }

    fn remove(&mut self, attribute: &str) {
        let name = self.placeholder(attribute);
        self.remove.push(name);
    }

    fn add(&mut self, attribute: &str, value: AttributeValue) {
        let (name, value) = (self.placeholder(attribute), self.value(value));
        self.add.push(format!("{name} {value}"));
    }

    fn build(mut self) -> Expression {
        let mut clauses = Vec::new();
        for (keyword, parts) in [
            ("SET", &self.set),
            ("REMOVE", &self.remove),
            ("ADD", &self.add),
        ] {
            if !parts.is_empty() {
                clauses.push(format!("{keyword} {}", parts.join(", ")));
            }
        }
        self.expression.text = clauses.join(" ");
        self.expression
    }
}

/// The actions of one `TransactWriteItems`, with the bytes they write, checked against
/// DynamoDB's limits before the call.
struct Transaction {
    operation: &'static str,
    actions: Vec<TransactWriteItem>,
    bytes: usize,
}

impl Transaction {
    fn new(operation: &'static str) -> Self {
        Self {
            operation,
            actions: Vec::new(),
            bytes: 0,
        }
    }

    fn push(&mut self, action: TransactWriteItem, bytes: usize) {
        self.actions.push(action);
        self.bytes += bytes;
    }

    fn check(&self) -> StoreResult<()> {
        if self.actions.len() > items::MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooLarge(format!(
                "{} records would be written at once, over the limit of {} one write may take",
                self.actions.len(),
                items::MAX_TRANSACTION_ITEMS
            )));
        }
        if self.bytes > items::MAX_TRANSACTION_BYTES {
            return Err(StoreError::TooLarge(format!(
                "about {} bytes would be written at once, over the limit of {} bytes one write may take",
                self.bytes,
                items::MAX_TRANSACTION_BYTES
            )));
        }
        Ok(())
    }
}

/// Sends a conditional put: true when written, false when its condition refused it.
async fn conditional_put(
    put: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
) -> StoreResult<bool> {
    match send_single(|| put.clone().send()).await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(backend("PutItem", e)),
    }
}

/// Sends a single-item write, again (with backoff) while it collides with a transaction on
/// the same item: `TransactionConflictException`, which the SDK's retry policy leaves to the
/// caller. Other errors, and the last conflict, are the caller's to map.
async fn send_single<T, E, R, F, Fut>(send: F) -> Result<T, SdkError<E, R>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    let mut attempt = 0;
    loop {
        match send().await {
            Err(error)
                if attempt + 1 < TRANSACTION_ATTEMPTS
                    && error
                        .as_service_error()
                        .and_then(ProvideErrorMetadata::code)
                        == Some("TransactionConflictException") =>
            {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
            }
            result => return result,
        }
    }
}

/// Full-jitter exponential backoff: up to 25 ms × 2^attempt, at most about 1.6 s.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 25u64 << attempt.min(6);
    Duration::from_millis(rand::rng().random_range(ceiling / 2..=ceiling))
}

fn name_taken(name: &Name) -> StoreError {
    StoreError::AlreadyExists(format!("a user or organization named '{name}'"))
}

fn repo_not_found(repo: &RepoRef) -> StoreError {
    StoreError::NotFound(repo.to_string())
}

fn user_not_found(user: &Name) -> StoreError {
    StoreError::NotFound(format!("user '{user}'"))
}

#[async_trait]
impl Store for DynamoStore {
    async fn is_empty(&self) -> StoreResult<bool> {
        Ok(self.get(keys::META_PK, keys::META_SK).await?.is_none())
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let item = items::user_item(user);
        check_item(&item, "the user")?;
        self.mark_not_empty().await?;
        if !self.put_new(item).await? {
            return Err(name_taken(&user.name));
        }
        Ok(())
    }

    async fn user(&self, name: &Name) -> StoreResult<Option<User>> {
        match self
            .get(&keys::namespace_pk(name), keys::NAMESPACE_SK)
            .await?
        {
            Some(item) => items::user_from(&item),
            None => Ok(None),
        }
    }

    async fn create_organization(&self, org: &Organization) -> StoreResult<()> {
        let item = items::organization_item(org);
        check_item(&item, "the organization")?;
        self.mark_not_empty().await?;
        if !self.put_new(item).await? {
            return Err(name_taken(&org.name));
        }
        Ok(())
    }

    async fn organization(&self, name: &Name) -> StoreResult<Option<Organization>> {
        match self
            .get(&keys::namespace_pk(name), keys::NAMESPACE_SK)
            .await?
        {
            Some(item) => items::organization_from(&item),
            None => Ok(None),
        }
    }

    async fn add_member(
        &self,
        org: &Name,
        user: &Name,
        role: OrgRole,
        at: Timestamp,
    ) -> StoreResult<()> {
        // The next position in the organization's join order and in the user's: atomic
        // counters on the two namespace items, which also prove both exist. A position taken
        // by a membership that then already existed is simply never used.
        let org_position = self
            .next_position(org, KIND_ORG, MEMBER_SEQ)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("organization '{org}'")))?;
        let user_position = self
            .next_position(user, KIND_USER, ORG_SEQ)
            .await?
            .ok_or_else(|| user_not_found(user))?;
        let item = items::membership_item(&MembershipItem {
            org,
            user,
            role,
            joined_at: at,
            org_position,
            user_position,
        });
        if !self.put_new(item).await? {
            return Err(StoreError::AlreadyExists(format!(
                "the membership of '{user}' in '{org}'"
            )));
        }
        Ok(())
    }

    async fn remove_member(&self, org: &Name, user: &Name) -> StoreResult<()> {
        let delete = self
            .client()
            .delete_item()
            .table_name(self.table_name())
            .set_key(Some(key(keys::namespace_pk(org), keys::member_sk(user))))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        let result = send_single(|| delete.clone().send()).await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::NotFound(format!(
                    "the membership of '{user}' in '{org}'"
                )))
            }
            Err(e) => Err(backend("DeleteItem", e)),
        }
    }

    async fn members(&self, org: &Name) -> StoreResult<Vec<Member>> {
        let memberships = self
            .query_all(Some(GSI1), keys::members_gsi_pk(org), None)
            .await?
            .iter()
            .map(items::membership_from)
            .collect::<StoreResult<Vec<_>>>()?;
        let user_keys = memberships
            .iter()
            .map(|(_, user, ..)| key(keys::namespace_pk(user), keys::NAMESPACE_SK))
            .collect();
        let mut users = HashMap::new();
        for item in self.batch_get(user_keys).await? {
            if let Some(user) = items::user_from(&item)? {
                users.insert(user.name.clone(), user);
            }
        }
        // In join order; a membership whose user is gone is left out, as a join would.
        Ok(memberships
            .into_iter()
            .filter_map(|(_, user, role, joined_at)| {
                users.get(&user).map(|user| Member {
                    user: user.clone(),
                    role,
                    joined_at,
                })
            })
            .collect())
    }

    async fn account(&self, name: &Name) -> StoreResult<Option<Account>> {
        let memberships = self
            .query_all(Some(GSI2), keys::memberships_gsi_pk(name), None)
            .await?
            .iter()
            .map(items::membership_from)
            .collect::<StoreResult<Vec<_>>>()?;
        // The user and their organizations: every key is known once the memberships are.
        let mut wanted = BatchKeys::default();
        wanted.add(&keys::namespace_pk(name), keys::NAMESPACE_SK);
        for (org, ..) in &memberships {
            wanted.add(&keys::namespace_pk(org), keys::NAMESPACE_SK);
        }
        let found = Found::new(self.batch_get(wanted.keys).await?)?;
        let Some(user) = found.user(name)? else {
            return Ok(None);
        };
        // In join order; a membership whose organization is gone is left out, as a join would.
        let mut orgs = Vec::with_capacity(memberships.len());
        for (org, _, role, _) in memberships {
            let item = found.get(&keys::namespace_pk(&org), keys::NAMESPACE_SK);
            if let Some(org) = item.map(items::organization_from).transpose()?.flatten() {
                orgs.push((org, role));
            }
        }
        Ok(Some(Account { user, orgs }))
    }

    async fn create_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let token_item = items::token_item(token);
        let name_item = items::token_name_item(token);
        let mut transaction = Transaction::new("create_token");
        transaction.push(
            self.check_action(
                key(keys::namespace_pk(&token.user), keys::NAMESPACE_SK),
                Expression::is_kind(KIND_USER),
            )?,
            0,
        );
        let size = check_item(&name_item, "the token's name")?;
        transaction.push(
            self.put_action(name_item, Some(Expression::is_new()))?,
            size,
        );
        let size = check_item(&token_item, "the token")?;
        transaction.push(
            self.put_action(token_item, Some(Expression::is_new()))?,
            size,
        );
        match self.transact(transaction).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed(0) => Err(user_not_found(&token.user)),
            Err(cancelled) if cancelled.failed(1) => Err(StoreError::AlreadyExists(format!(
                "a token named '{}' of '{}'",
                token.display_name, token.user
            ))),
            Err(_) => Err(StoreError::AlreadyExists(
                "a token with the same secret".into(),
            )),
        }
    }

    async fn token(&self, digest: &TokenDigest) -> StoreResult<Option<TokenRecord>> {
        match self
            .get(&keys::token_pk(&digest.to_hex()), keys::TOKEN_SK)
            .await?
        {
            Some(item) => items::token_from(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn revoke_token(&self, user: &Name, display_name: &str) -> StoreResult<()> {
        let (pk, sk) = (keys::namespace_pk(user), keys::token_name_sk(display_name));
        for _ in 0..TRANSACTION_ATTEMPTS {
            let Some(name_item) = self.get(&pk, &sk).await? else {
                return Err(StoreError::NotFound(format!(
                    "a token named '{display_name}' of '{user}'"
                )));
            };
            let digest = Reader::new(&name_item, "token name").str("digest")?;
            let mut transaction = Transaction::new("revoke_token");
            // Only if the name still points at the token read: a revoke and re-create in
            // between must not take the new token's name along.
            let same_token = Expression::new("#digest = :digest")
                .name("#digest", "digest")
                .value(":digest", s(digest));
            transaction.push(self.delete_action(key(&pk, &sk), Some(same_token))?, 0);
            transaction.push(
                self.delete_action(key(keys::token_pk(digest), keys::TOKEN_SK), None)?,
                0,
            );
            match self.transact(transaction).await? {
                Ok(()) => return Ok(()),
                Err(_) => continue,
            }
        }
        Err(StoreError::Conflict)
    }

    async fn create_repo(&self, repo: &Repo) -> StoreResult<()> {
        let item = items::repo_item(repo);
        check_item(&item, "the repo")?;
        self.mark_not_empty().await?;
        if !self.put_new(item).await? {
            return Err(StoreError::AlreadyExists(repo.repo.to_string()));
        }
        Ok(())
    }

    async fn repo(&self, repo: &RepoRef) -> StoreResult<Option<Repo>> {
        match self.get(&keys::repo_pk(repo), keys::REPO_SK).await? {
            Some(item) => Ok(Some(items::repo_from(&item)?.0)),
            None => Ok(None),
        }
    }

    async fn repo_context(
        &self,
        repo: &RepoRef,
        read: ContextRead<'_>,
    ) -> StoreResult<RepoContext> {
        let repo_pk = keys::repo_pk(repo);
        let token = match read.caller {
            Some(CallerKey::Token(digest)) => self.token(digest).await?,
            _ => None,
        };
        let caller = match read.caller {
            Some(CallerKey::Name(name)) => Some(name),
            Some(CallerKey::Token(_)) => token.as_ref().map(|token| &token.user),
            None => None,
        };
        // A request named by its id: the id index gives its key, and the item comes with the
        // rest, read consistently, so the version a reviewer acts on is the latest one.
        let target_keys = match read.target {
            Some(RequestTarget::Id(id)) => self.request_keys_by_id(repo, *id).await?,
            _ => Vec::new(),
        };
        let namespace = repo.id.namespace();
        let mut wanted = BatchKeys::default();
        wanted.add(&repo_pk, keys::REPO_SK);
        if let Some(caller) = caller {
            wanted.add(&keys::namespace_pk(caller), keys::NAMESPACE_SK);
            wanted.add(&repo_pk, &keys::request_sk(caller));
            // A two-segment repo belongs to its namespace (`create_repo` holds to that), so
            // the membership's key is known before the repo is read.
            if let Some(namespace) = namespace.filter(|namespace| *namespace != caller) {
                wanted.add(&keys::namespace_pk(namespace), &keys::member_sk(caller));
            }
        }
        match read.target {
            Some(RequestTarget::User(user)) => {
                wanted.add(&keys::namespace_pk(user), keys::NAMESPACE_SK);
                wanted.add(&repo_pk, &keys::request_sk(user));
            }
            Some(RequestTarget::Id(_)) => {
                for (pk, sk) in &target_keys {
                    wanted.add(pk, sk);
                }
            }
            None => {}
        }
        if let Some(path) = read.file {
            wanted.add(&repo_pk, &keys::file_sk(path));
        }
        if read.readme_html {
            wanted.add(&repo_pk, keys::README_SK);
        }
        let found = Found::new(self.batch_get(wanted.keys).await?)?;

        let caller_user = match caller {
            Some(caller) => found.user(caller)?,
            None => None,
        };
        let target_user = match read.target {
            Some(RequestTarget::User(user)) => found.user(user)?,
            _ => None,
        };
        let Some(repo_item) = found.get(&repo_pk, keys::REPO_SK) else {
            return Ok(RepoContext::without_repo(token, caller_user, target_user));
        };
        let stored = items::repo_from(repo_item)?.0;
        let caller = match (caller, caller_user) {
            (Some(name), Some(user)) => {
                let membership = if &stored.owner == name {
                    None
                } else if Some(&stored.owner) == namespace {
                    let item =
                        found.get(&keys::namespace_pk(&stored.owner), &keys::member_sk(name));
                    item.map(|item| items::membership_from(item).map(|m| m.2))
                        .transpose()?
                } else {
                    // A one-segment id: only the repo item names its owner.
                    self.membership(&stored.owner, name).await?
                };
                Some(CallerRecords {
                    user,
                    membership,
                    request: found.request(&repo_pk, name)?,
                })
            }
            _ => None,
        };
        let target = match read.target {
            None => TargetRecords::default(),
            Some(RequestTarget::User(user)) => TargetRecords {
                user: target_user,
                request: found.request(&repo_pk, user)?,
            },
            Some(RequestTarget::Id(id)) => {
                let mut request = None;
                for (pk, sk) in &target_keys {
                    let Some(item) = found.get(pk, sk) else {
                        continue;
                    };
                    let candidate = items::request_from(item)?;
                    if candidate.id == *id {
                        request = Some(candidate);
                        break;
                    }
                }
                TargetRecords {
                    user: None,
                    request,
                }
            }
        };
        let file = read
            .file
            .and_then(|path| found.get(&repo_pk, &keys::file_sk(path)))
            .map(items::file_from)
            .transpose()?;
        let readme_html = read
            .readme_html
            .then(|| found.get(&repo_pk, keys::README_SK))
            .flatten()
            .map(items::readme_html_from)
            .transpose()?;
        Ok(RepoContext {
            repo: Some(stored),
            token,
            caller,
            target,
            file,
            readme_html,
        })
    }

    async fn update_repo_settings(
        &self,
        repo: &RepoRef,
        update: &SettingsUpdate,
    ) -> StoreResult<Repo> {
        if update.is_empty() {
            return self.repo(repo).await?.ok_or_else(|| repo_not_found(repo));
        }
        let mut changes = UpdateBuilder::default();
        if let Some(visibility) = update.visibility {
            changes.set("visibility", s(visibility.as_str()));
        }
        if let Some(gate) = update.gate {
            changes.set("gate", s(gate.as_str()));
        }
        if let Some(mode) = update.notifications_mode {
            changes.set("notificationsMode", s(mode.as_str()));
        }
        if let Some(email) = &update.notifications_email {
            changes.set_or_remove("notificationsEmail", email.as_ref().map(|e| s(e.as_str())));
        }
        if let Some(on) = update.requester_emails {
            changes.set(items::REQUESTER_EMAILS, AttributeValue::Bool(on));
        }
        changes.add(REPO_REV, n(1));
        let changes = changes.build();
        let update = self
            .client()
            .update_item()
            .table_name(self.table_name())
            .set_key(Some(key(keys::repo_pk(repo), keys::REPO_SK)))
            .update_expression(changes.text)
            .condition_expression("attribute_exists(#pk)")
            .set_expression_attribute_names(Some(
                changes
                    .names
                    .into_iter()
                    .chain([("#pk".to_owned(), PK.to_owned())])
                    .collect(),
            ))
            .set_expression_attribute_values(non_empty(changes.values))
            .return_values(ReturnValue::AllNew);
        let result = send_single(|| update.clone().send()).await;
        match result {
            Ok(output) => Ok(items::repo_from(&output.attributes.unwrap_or_default())?.0),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(repo_not_found(repo))
            }
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    async fn commit(&self, repo: &RepoRef, commit: &NewCommit) -> StoreResult<Repo> {
        // The same path twice in one commit: the last one wins, as an upsert would have it.
        let files: BTreeMap<&str, &FileEntry> =
            commit.files.iter().map(|f| (f.path.as_str(), f)).collect();
        if files.len() > Self::MAX_COMMIT_FILES {
            return Err(StoreError::TooLarge(format!(
                "a commit may add or replace at most {} files at once; this one has {}",
                Self::MAX_COMMIT_FILES,
                files.len()
            )));
        }
        let file_items = files
            .values()
            .map(|file| {
                let item = items::file_item(repo, file);
                let size = check_item(&item, &format!("the file entry of {}", file.path))?;
                Ok((item, size))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let readme_item = commit
            .readme
            .as_ref()
            .map(|readme| {
                let item = items::readme_item(repo, &readme.html);
                let size = check_item(&item, "the README's HTML")?;
                Ok::<_, StoreError>((item, size))
            })
            .transpose()?;
        let pk = keys::repo_pk(repo);
        // Optimistic: read the repo, write the new commit only if nobody wrote the repo
        // since (its revision is unchanged), so the repo returned is exactly what was stored.
        for _ in 0..TRANSACTION_ATTEMPTS {
            let Some(item) = self.get(&pk, keys::REPO_SK).await? else {
                return Err(repo_not_found(repo));
            };
            let (mut updated, revision) = items::repo_from(&item)?;
            updated.sha = commit.sha.clone();
            updated.last_modified = commit.at;
            if let Some(readme) = &commit.readme {
                updated.front_matter = readme.front_matter.clone();
            }
            let size = check_item(&items::repo_item(&updated), "the repo")?;

            let mut changes = UpdateBuilder::default();
            changes.set("sha", s(&updated.sha));
            changes.set("lastModified", n(updated.last_modified.millis()));
            if commit.readme.is_some() {
                changes.set_or_remove("frontMatter", updated.front_matter.as_ref().map(s));
            }
            changes.set(REPO_REV, n(revision + 1));
            let unchanged = Expression::new("#rev = :rev")
                .name("#rev", REPO_REV)
                .value(":rev", n(revision));
            let mut transaction = Transaction::new("commit");
            transaction.push(
                self.update_action(key(&pk, keys::REPO_SK), changes.build(), unchanged)?,
                size,
            );
            for (item, size) in &file_items {
                transaction.push(self.put_action(item.clone(), None)?, *size);
            }
            if let Some((item, size)) = &readme_item {
                transaction.push(self.put_action(item.clone(), None)?, *size);
            }
            match self.transact(transaction).await? {
                Ok(()) => return Ok(updated),
                Err(_) => continue,
            }
        }
        Err(StoreError::Conflict)
    }

    async fn files(&self, repo: &RepoRef) -> StoreResult<Vec<FileEntry>> {
        self.query_all(
            None,
            keys::repo_pk(repo),
            Some(SortKey::BeginsWith(keys::FILE_PREFIX.to_owned())),
        )
        .await?
        .iter()
        .map(items::file_from)
        .collect()
    }

    async fn access_request(
        &self,
        repo: &RepoRef,
        user: &Name,
    ) -> StoreResult<Option<AccessRequest>> {
        match self
            .get(&keys::repo_pk(repo), &keys::request_sk(user))
            .await?
        {
            Some(item) => items::request_from(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn insert_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
        notifications: NotificationsMode,
    ) -> StoreResult<()> {
        let repo_pk = keys::repo_pk(&request.repo);
        let audit_item = items::audit_item(
            audit,
            keys::audit_sk(audit.request_id, request.version, AuditPhase::Write),
        );
        let audit_size = check_item(&audit_item, "the audit record")?;
        // The request carries its repo's notifications mode (the stream's filter criteria
        // read it), and is written only if the repo still has that mode: the one the caller
        // read the repo with. If the mode has changed since, or the repo is gone, the check
        // fails and nothing is written; the repo is read, and the request written with the
        // mode it has now.
        let mut mode = notifications;
        for _ in 0..TRANSACTION_ATTEMPTS {
            let mut item = items::request_item(request)?;
            item.insert(NOTIFICATIONS_MODE.to_owned(), s(mode.as_str()));
            let size = check_item(&item, "the access request")?;

            let mut transaction = Transaction::new("insert_request");
            transaction.push(self.put_action(item, Some(Expression::is_new()))?, size);
            transaction.push(
                self.put_action(audit_item.clone(), Some(Expression::is_new()))?,
                audit_size,
            );
            let same_mode = Expression::new("#mode = :mode")
                .name("#mode", NOTIFICATIONS_MODE)
                .value(":mode", s(mode.as_str()));
            transaction.push(
                self.check_action(key(&repo_pk, keys::REPO_SK), same_mode)?,
                0,
            );
            transaction.push(
                self.check_action(
                    key(keys::namespace_pk(&request.user), keys::NAMESPACE_SK),
                    Expression::is_kind(KIND_USER),
                )?,
                0,
            );
            match self.transact(transaction).await? {
                Ok(()) => return Ok(()),
                Err(cancelled) if cancelled.failed(0) || cancelled.failed(1) => {
                    return Err(StoreError::Conflict);
                }
                Err(cancelled) if cancelled.failed(3) => {
                    return Err(user_not_found(&request.user));
                }
                // The repo's check failed: it is gone, or its mode changed since it was read.
                Err(_) => {
                    let Some(repo_item) = self.get(&repo_pk, keys::REPO_SK).await? else {
                        return Err(repo_not_found(&request.repo));
                    };
                    mode = items::repo_from(&repo_item)?.0.notifications_mode;
                }
            }
        }
        Err(StoreError::Conflict)
    }

    async fn update_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        // Version 0 follows nothing, so no stored request can match it.
        let Some(previous) = request.version.checked_sub(1) else {
            return Err(StoreError::Conflict);
        };
        let mut item = items::request_item(request)?;
        let size = check_item(&item, "the access request")?;
        let mut changes = UpdateBuilder::default();
        // A request that stays pending keeps the day it became pending; one that leaves
        // pending leaves the pending-by-day index.
        let pending_day = (item.remove(GSI4.pk), item.remove(GSI4.sk));
        item.remove(PK);
        item.remove(SK);
        for optional in REQUEST_OPTIONAL {
            if !item.contains_key(optional) {
                changes.remove(optional);
            }
        }
        let mut attributes: Vec<_> = item.into_iter().collect();
        attributes.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in attributes {
            changes.set(&name, value);
        }
        match pending_day {
            (Some(day), Some(order)) => {
                changes.set_if_missing(GSI4.pk, day);
                changes.set_if_missing(GSI4.sk, order);
            }
            _ => {
                changes.remove(GSI4.pk);
                changes.remove(GSI4.sk);
            }
        }
        let same_version =
            Expression::new("attribute_exists(#pk) AND #id = :id AND #version = :previous")
                .name("#pk", PK)
                .name("#id", REQUEST_ID)
                .name("#version", "version")
                .value(":id", s(request.id.to_string()))
                .value(":previous", n(previous));
        let audit_item = items::audit_item(
            audit,
            keys::audit_sk(audit.request_id, request.version, AuditPhase::Write),
        );
        let mut transaction = Transaction::new("update_request");
        transaction.push(
            self.update_action(
                key(
                    keys::repo_pk(&request.repo),
                    keys::request_sk(&request.user),
                ),
                changes.build(),
                same_version,
            )?,
            size,
        );
        let size = check_item(&audit_item, "the audit record")?;
        transaction.push(
            self.put_action(audit_item, Some(Expression::is_new()))?,
            size,
        );
        match self.transact(transaction).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict),
        }
    }

    async fn delete_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let same_version = Expression::new("#id = :id AND #version = :version")
            .name("#id", REQUEST_ID)
            .name("#version", "version")
            .value(":id", s(request.id.to_string()))
            .value(":version", n(request.version));
        let audit_item = items::audit_item(
            audit,
            keys::audit_sk(audit.request_id, request.version, AuditPhase::Delete),
        );
        let mut transaction = Transaction::new("delete_request");
        transaction.push(
            self.delete_action(
                key(
                    keys::repo_pk(&request.repo),
                    keys::request_sk(&request.user),
                ),
                Some(same_version),
            )?,
            0,
        );
        let size = check_item(&audit_item, "the audit record")?;
        transaction.push(
            self.put_action(audit_item, Some(Expression::is_new()))?,
            size,
        );
        match self.transact(transaction).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict),
        }
    }

    async fn list_requests(
        &self,
        repo: &RepoRef,
        status: Option<RequestStatus>,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page<AccessRequest>> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let (gsi, partition, listing) = Self::listing(repo, status);
        let key_attributes = [PK, SK, gsi.pk, gsi.sk];
        let mut start = match after {
            Some(cursor) => {
                let start = self
                    .inner
                    .cursor_key
                    .verify(&listing, cursor, &key_attributes)?;
                // Signed for this listing, so these hold; checked all the same.
                let reader = Reader::new(&start, "cursor");
                if reader.str(gsi.pk).ok() != Some(partition.as_str())
                    || reader.str(PK).ok() != Some(keys::repo_pk(repo).as_str())
                {
                    return Err(StoreError::InvalidCursor);
                }
                Some(start)
            }
            None => None,
        };
        // One item more than the page tells whether another page follows. A query page
        // also stops at 1 MB, so keep asking until the page is full or the index ends.
        let mut found: Vec<Item> = Vec::with_capacity(limit + 1);
        loop {
            let wanted = limit + 1 - found.len();
            let output = self
                .query(Some(gsi), &partition, None)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            found.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() && found.len() <= limit => start = Some(last),
                _ => break,
            }
        }
        let next = if found.len() > limit {
            found.truncate(limit);
            let last = found.last().map(|item| {
                key_attributes
                    .iter()
                    .filter_map(|name| item.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                    .collect::<Item>()
            });
            match last {
                Some(last) => Some(self.inner.cursor_key.sign(&listing, &last)?),
                None => None,
            }
        } else {
            None
        };
        let items = found
            .iter()
            .map(items::request_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page { items, next })
    }

    async fn audit_trail(
        &self,
        repo: &RepoRef,
        request_id: ObjectId,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.query_all(
            None,
            keys::repo_pk(repo),
            Some(SortKey::BeginsWith(keys::audit_prefix(request_id))),
        )
        .await?
        .iter()
        .map(items::audit_from)
        .collect()
    }

    async fn pending_on(&self, day: Day) -> StoreResult<Vec<AccessRequest>> {
        self.query_all(Some(GSI4), keys::pending_day_gsi_pk(day), None)
            .await?
            .iter()
            .map(items::request_from)
            .collect()
    }

    async fn claim_marker(&self, marker: &str, expires_at: Timestamp) -> StoreResult<bool> {
        let mut item = key(keys::marker_pk(marker), keys::MARKER_SK);
        item.insert(KIND.into(), s(KIND_MARKER));
        // TTL deletes an expired item within days, not at once: the condition lets a key
        // whose claim has run out be claimed again before that.
        item.insert(keys::TTL_ATTRIBUTE.into(), n(expires_at.millis() / 1000));
        let put = self
            .client()
            .put_item()
            .table_name(self.table_name())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#expires", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(Timestamp::now().millis() / 1000));
        conditional_put(put).await
    }

    async fn release_marker(&self, marker: &str) -> StoreResult<()> {
        self.client()
            .delete_item()
            .table_name(self.table_name())
            .set_key(Some(key(keys::marker_pk(marker), keys::MARKER_SK)))
            .send()
            .await
            .map_err(|e| backend("DeleteItem", e))?;
        Ok(())
    }
}
