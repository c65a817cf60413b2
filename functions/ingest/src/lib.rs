//! Ingest Lambda, fed by the ingest SQS queue. Two kinds of message arrive there:
//!
//! - **Task-token messages** sent by the state machine's Map (`sqs:sendMessage.waitForTaskToken`):
//!   `{"file": FileRef, "task_token": "…"}`. The file is fetched, validated and staged, and the execution is
//!   told: `SendTaskSuccess` with the [`Ack`], or `SendTaskFailure` with a typed error — `StatementRejected`
//!   (final), or the last attempt's `Transient` error once the queue's receive count is used up (earlier
//!   attempts are left to SQS to redeliver).
//! - **S3 notifications** of an object created in the inbox (`{"Records": [{"s3": …}]}`, parsed tolerantly:
//!   emulators omit fields AWS sends; keys arrive URL-encoded). The object is staged and archived, and a
//!   single-file load execution is started, named after the content's sha256 so that a re-delivered event
//!   starts nothing new.
//!
//! Failed messages are reported one by one (`ReportBatchItemFailures`): one bad message never makes the others
//! run again. While a message is being worked on its visibility is extended (`ChangeMessageVisibility`) and,
//! for a task-token message, the execution is told the work is alive (`SendTaskHeartbeat`, at once and then
//! every period): the state machine's `HeartbeatSeconds` then notices an ingest that died (at init, out of
//! memory, timed out) within minutes instead of waiting out the task's timeout.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::StreamExt;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Deserialize;
use std::time::Duration;
use syncrocardpay_core::intake;
use syncrocardpay_core::pipeline::IngestMode;
use syncrocardpay_core::remote;
use syncrocardpay_core::source::{FileRef, ListedFile, SourceKind};
use syncrocardpay_core::workflow::{self, errors, Ack, Deployment, Item};
use syncrocardpay_core::Error;

/// Settings from the function's environment.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// The state machine single-file loads are started on (`STATE_MACHINE_ARN`).
    pub state_machine_arn: Option<String>,
    /// The queue of a message without a source ARN (`INGEST_QUEUE_URL`). A message's own queue — the
    /// ingest queue of the nightly runs' task tokens, or the upload queue of S3 notifications — is found from
    /// its source ARN.
    pub queue_url: Option<String>,
    /// The queue's `maxReceiveCount` (`MAX_RECEIVE_COUNT`): the attempt after which a task-token message's
    /// transient failure is reported to the execution instead of left to SQS.
    pub max_receives: u32,
    /// How often the visibility of a message in work is extended (`VISIBILITY_HEARTBEAT_SECONDS`); each
    /// extension makes it invisible for three such periods from then. Task heartbeats go at the same pace.
    pub visibility_heartbeat: Duration,
    /// Messages of a batch worked on at once, each on its own database connection (`INGEST_CONCURRENCY`).
    pub concurrency: usize,
    /// Uploads are loaded per window of this many seconds (`UPLOAD_WINDOW_SECONDS`): one execution per
    /// window, not per file ([`workflow::UploadWindow`]). `None` (unset or 0): one execution per file.
    pub upload_window: Option<u32>,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            state_machine_arn: None,
            queue_url: None,
            max_receives: 3,
            visibility_heartbeat: Duration::from_secs(60),
            concurrency: 4,
            upload_window: None,
        }
    }
}

/// Connections one ingest Lambda may hold out of the stack's budget (`DB_CONNECTION_BUDGET`): what the loads
/// (`LOAD_CONCURRENCY`, one each), discovery and the migration (one each) leave, shared by the ingest Lambdas
/// that may run at once (`MAX_CONCURRENCY`). An error, saying the least budget that works, when nothing is left.
pub fn connection_share(budget: u64, max_concurrency: u64, load_concurrency: u64) -> Result<usize, String> {
    let others = load_concurrency + 2;
    let share = budget.saturating_sub(others) / max_concurrency.max(1);
    if share == 0 {
        return Err(format!(
            "DB_CONNECTION_BUDGET {budget} leaves no connection for {max_concurrency} ingest Lambdas once {load_concurrency} \
             loads, discovery and the migration have theirs: raise it to at least {}",
            others + max_concurrency.max(1)
        ));
    }
    Ok(share as usize)
}

impl IngestSettings {
    /// The settings from the environment; with `DB_CONNECTION_BUDGET`, the messages worked on at once (one
    /// connection each) are capped by this Lambda's [`connection_share`].
    pub fn from_env() -> Result<IngestSettings, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &str| var(name).and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0);
        let defaults = IngestSettings::default();
        let mut settings = IngestSettings {
            state_machine_arn: var("STATE_MACHINE_ARN"),
            queue_url: var("INGEST_QUEUE_URL"),
            max_receives: number("MAX_RECEIVE_COUNT").map_or(defaults.max_receives, |n| n as u32),
            visibility_heartbeat: number("VISIBILITY_HEARTBEAT_SECONDS")
                .map_or(defaults.visibility_heartbeat, Duration::from_secs),
            concurrency: number("INGEST_CONCURRENCY").map_or(defaults.concurrency, |n| n as usize),
            upload_window: number("UPLOAD_WINDOW_SECONDS").map(|n| n.min(u64::from(u32::MAX)) as u32),
        };
        if let Some(budget) = number("DB_CONNECTION_BUDGET") {
            // Ingest Lambdas at once: the nightly queue's and the upload queue's.
            let ingest_lambdas = number("MAX_CONCURRENCY").unwrap_or(1) + number("UPLOAD_CONCURRENCY").unwrap_or(0);
            let share = connection_share(budget, ingest_lambdas, number("LOAD_CONCURRENCY").unwrap_or(1))?;
            settings.concurrency = settings.concurrency.min(share);
        }
        Ok(settings)
    }
}

/// What the function keeps across invocations: the deployment, SDK clients, settings.
pub struct Ingest {
    pub deployment: Deployment,
    pub sqs: aws_sdk_sqs::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub settings: IngestSettings,
    /// Queue URLs by queue ARN, found once each.
    queue_urls: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// A message of the ingest queue, as understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// From the state machine's Map: ingest this file and answer on this token.
    Task { file: FileRef, task_token: String },
    /// S3 notification records of created objects.
    S3(Vec<S3Object>),
    /// S3's test message sent when a notification is configured: nothing to do.
    S3TestEvent,
}

/// An object an S3 notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    /// The key, URL-decoded.
    pub key: String,
    pub size: u64,
}

impl Message {
    /// Read a message body. Anything else is an error that names what was expected.
    pub fn parse(body: &str) -> Result<Message, String> {
        #[derive(Deserialize)]
        struct Task {
            file: FileRef,
            task_token: String,
        }
        #[derive(Deserialize)]
        struct Notification {
            #[serde(rename = "Records")]
            records: Vec<Record>,
        }
        #[derive(Deserialize)]
        struct Record {
            #[serde(rename = "eventName", default)]
            event_name: String,
            s3: S3Entity,
        }
        #[derive(Deserialize)]
        struct S3Entity {
            bucket: Bucket,
            object: Object,
        }
        #[derive(Deserialize)]
        struct Bucket {
            name: String,
        }
        #[derive(Deserialize)]
        struct Object {
            key: String,
            #[serde(default)]
            size: u64,
        }
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| format!("the message body is not JSON: {e}"))?;
        if value.get("task_token").is_some() {
            let t: Task = serde_json::from_value(value).map_err(|e| format!("not a task-token message: {e}"))?;
            return Ok(Message::Task { file: t.file, task_token: t.task_token });
        }
        if value.get("Records").is_some() {
            let n: Notification = serde_json::from_value(value).map_err(|e| format!("not an S3 notification: {e}"))?;
            let mut objects = Vec::new();
            for r in n.records {
                if !r.event_name.is_empty() && !r.event_name.starts_with("ObjectCreated") {
                    continue;
                }
                let key = decode_s3_key(&r.s3.object.key)?;
                objects.push(S3Object { bucket: r.s3.bucket.name, key, size: r.s3.object.size });
            }
            return Ok(Message::S3(objects));
        }
        if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
            return Ok(Message::S3TestEvent);
        }
        Err("neither a task-token message ({\"file\", \"task_token\"}) nor an S3 notification ({\"Records\"})".into())
    }
}

/// S3 notification keys are URL-encoded with `+` for spaces.
pub fn decode_s3_key(key: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(&key.replace('+', " "))
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|e| format!("S3 key {key:?} is not UTF-8 once decoded: {e}"))
}

/// Step Functions limits a task failure's error to 256 characters and its cause to 32 768.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The longest a failed message waits before its next delivery: below the state machine's `HeartbeatSeconds`
/// (600), so that a task-token message waiting out its backoff is not taken for a dead ingest.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(300);

/// How long a message that failed on its `receives`-th delivery stays invisible before the next.
pub fn retry_backoff(receives: u32) -> Duration {
    Duration::from_secs(30u64 << receives.saturating_sub(1).min(5)).min(MAX_RETRY_BACKOFF)
}

/// Tells the execution waiting on a task token that its work is alive (`SendTaskHeartbeat`) at once and then
/// every `every`, until dropped. A token the execution no longer waits for stops it.
pub fn keep_task_alive(sfn: aws_sdk_sfn::Client, task_token: String, every: Duration) -> KeepVisible {
    KeepVisible(Some(tokio::spawn(async move {
        loop {
            match sfn.send_task_heartbeat().task_token(&task_token).send().await {
                Ok(_) => tracing::debug!("task heartbeat sent"),
                Err(e) => {
                    let gone = e.as_service_error().is_some_and(|se| {
                        se.is_task_timed_out() || se.is_task_does_not_exist() || se.is_invalid_token()
                    });
                    tracing::warn!(
                        error = %aws_sdk_sfn::error::DisplayErrorContext(&e),
                        "could not send the task heartbeat"
                    );
                    if gone {
                        return;
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    })))
}

/// Extends a message's visibility while it lives; stops when dropped.
pub struct KeepVisible(Option<tokio::task::JoinHandle<()>>);

impl Drop for KeepVisible {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

/// Every `every`, make the message invisible for three more periods, until the guard is dropped.
pub fn keep_visible(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    receipt_handle: String,
    every: Duration,
) -> KeepVisible {
    let timeout = (every.as_secs().max(1) * 3).min(43_200) as i32;
    KeepVisible(Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let r = sqs
                .change_message_visibility()
                .queue_url(&queue_url)
                .receipt_handle(&receipt_handle)
                .visibility_timeout(timeout)
                .send()
                .await;
            match r {
                Ok(_) => tracing::debug!(seconds = timeout, "message visibility extended"),
                Err(e) => tracing::warn!(
                    error = %aws_sdk_sqs::error::DisplayErrorContext(&e),
                    "could not extend the message's visibility"
                ),
            }
        }
    })))
}

impl Ingest {
    pub fn new(deployment: Deployment, settings: IngestSettings) -> Ingest {
        let sqs = aws_sdk_sqs::Client::new(&deployment.sdk);
        let sfn = aws_sdk_sfn::Client::new(&deployment.sdk);
        Ingest { deployment, sqs, sfn, settings, queue_urls: Default::default() }
    }

    /// Work on a batch; the response names the messages that failed (to be delivered again), and only them.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Diagnostic> {
        let records = event.payload.records;
        let results: Vec<(Option<String>, Result<(), String>)> = futures_util::stream::iter(records.iter())
            .map(|m| async move { (m.message_id.clone(), self.process(m).await) })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        for (id, result) in results {
            if let Err(why) = result {
                let id = id.unwrap_or_default();
                tracing::warn!(message_id = %id, reason = %why, "message failed; SQS will deliver it again");
                response.batch_item_failures.push(BatchItemFailure { item_identifier: id });
            }
        }
        Ok(response)
    }

    /// One message: `Ok` when it is dealt with for good (it is then deleted), `Err` to have it delivered again.
    async fn process(&self, m: &SqsMessage) -> Result<(), String> {
        let id = m.message_id.as_deref().unwrap_or("?");
        let receives = m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse::<u32>().ok()).unwrap_or(1);
        let message = match Message::parse(m.body.as_deref().unwrap_or_default()) {
            Ok(message) => message,
            Err(why) => {
                tracing::error!(message_id = %id, reason = %why, "unreadable message");
                self.retry_later(m, receives).await;
                return Err(why);
            }
        };
        let visible = self.keep_visible(m).await;
        let result = match message {
            Message::Task { file, task_token } => {
                let alive = keep_task_alive(self.sfn.clone(), task_token.clone(), self.settings.visibility_heartbeat);
                let result = self.task(&file, &task_token, receives).await;
                drop(alive);
                result
            }
            Message::S3(objects) => {
                let mut result = Ok(());
                for o in &objects {
                    result = self.s3_object(o).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            Message::S3TestEvent => Ok(()),
        };
        drop(visible);
        if result.is_err() {
            self.retry_later(m, receives).await;
        }
        result
    }

    /// A failed message comes back after a backoff (30 s, doubling with each delivery, at most 15 min)
    /// rather than after the queue's whole visibility timeout.
    async fn retry_later(&self, m: &SqsMessage, receives: u32) {
        let (Some(receipt), Ok(url)) = (m.receipt_handle.as_deref(), self.queue_url(m).await) else { return };
        let backoff = retry_backoff(receives);
        let r = self
            .sqs
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(receipt)
            .visibility_timeout(backoff.as_secs() as i32)
            .send()
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "could not set the retry backoff");
        }
    }

    /// The URL of the queue a message came from: found once per queue from its source ARN (the function
    /// reads two queues), else the configured one.
    pub async fn queue_url(&self, m: &SqsMessage) -> Result<String, String> {
        // arn:aws:sqs:REGION:ACCOUNT:NAME
        let Some(arn) = m.event_source_arn.as_deref().filter(|a| !a.is_empty()) else {
            return self
                .settings
                .queue_url
                .clone()
                .ok_or_else(|| "no queue URL and no queue ARN in the message".into());
        };
        let mut known = self.queue_urls.lock().await;
        if let Some(url) = known.get(arn) {
            return Ok(url.clone());
        }
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
            return Err(format!("not a queue ARN: {arn:?}"));
        };
        let resp = self
            .sqs
            .get_queue_url()
            .queue_name(*name)
            .queue_owner_aws_account_id(*account)
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        let url = resp.queue_url().map(str::to_string).ok_or_else(|| "GetQueueUrl gave no URL".to_string())?;
        known.insert(arn.to_string(), url.clone());
        Ok(url)
    }

    async fn keep_visible(&self, m: &SqsMessage) -> Option<KeepVisible> {
        let receipt = m.receipt_handle.clone()?;
        match self.queue_url(m).await {
            Ok(url) => Some(keep_visible(self.sqs.clone(), url, receipt, self.settings.visibility_heartbeat)),
            Err(why) => {
                tracing::warn!(reason = %why, "message visibility will not be extended");
                None
            }
        }
    }

    async fn ingest(&self, file: &FileRef) -> Result<syncrocardpay_core::pipeline::IngestReport, Error> {
        let mut db = syncrocardpay_core::db::pooled(&self.deployment.pool).await?;
        remote::ingest(&mut db, &self.deployment.sources, file, IngestMode::StageOnly).await
    }

    /// A task-token message: ingest, then answer the execution.
    async fn task(&self, file: &FileRef, token: &str, receives: u32) -> Result<(), String> {
        let answer = match self.ingest(file).await {
            Ok(report) => match Ack::from_report(&report) {
                Some(ack) => Ok(ack),
                None => {
                    Err((errors::STATEMENT_REJECTED, format!("{}: {}", file.name(), intake::rejection_reason(&report))))
                }
            },
            Err(Error::AlreadyArchived(reason)) => Ok(Ack::Gone { name: file.name().to_string(), reason }),
            Err(e) if e.is_transient() && receives < self.settings.max_receives => {
                return Err(format!("{} (attempt {receives} of {}): {e}", file.name(), self.settings.max_receives));
            }
            Err(e) => Err((workflow::error_name(&e), format!("{}: {e}", file.name()))),
        };
        let sent = match &answer {
            Ok(ack) => {
                tracing::info!(file = %file.name(), ack = ?ack, "ingested; telling the execution");
                let output = serde_json::to_string(ack).map_err(|e| e.to_string())?;
                self.sfn.send_task_success().task_token(token).output(output).send().await.map(|_| ()).map_err(|e| {
                    let gone = e.as_service_error().is_some_and(|se| {
                        se.is_task_timed_out() || se.is_task_does_not_exist() || se.is_invalid_token()
                    });
                    (gone, aws_sdk_sfn::error::DisplayErrorContext(e).to_string())
                })
            }
            Err((error, cause)) => {
                tracing::warn!(file = %file.name(), error = %error, cause = %cause, "not ingested; telling the execution");
                let r = self
                    .sfn
                    .send_task_failure()
                    .task_token(token)
                    .error(clip(error, 256))
                    .cause(clip(cause, 32_768))
                    .send()
                    .await;
                r.map(|_| ()).map_err(|e| {
                    let gone = e.as_service_error().is_some_and(|se| {
                        se.is_task_timed_out() || se.is_task_does_not_exist() || se.is_invalid_token()
                    });
                    (gone, aws_sdk_sfn::error::DisplayErrorContext(e).to_string())
                })
            }
        };
        match sent {
            Ok(()) => Ok(()),
            // The execution stopped waiting for this token (timed out, retried with a new one, or ended):
            // the work is done and idempotent, there is nobody left to tell.
            Err((true, why)) => {
                tracing::warn!(file = %file.name(), reason = %why, "the execution no longer waits for this task");
                Ok(())
            }
            Err((false, why)) => Err(format!("{}: could not answer the execution: {why}", file.name())),
        }
    }

    /// An object created in the inbox: stage and archive it, then start its single-file load.
    async fn s3_object(&self, o: &S3Object) -> Result<(), String> {
        let Some(store) = &self.deployment.sources.s3 else {
            return Err(format!("s3://{}/{}: no bucket configured (S3_BUCKET)", o.bucket, o.key));
        };
        if o.bucket != store.bucket() {
            tracing::warn!(bucket = %o.bucket, key = %o.key, "notification for another bucket; ignored");
            return Ok(());
        }
        let name = match store.inbox_name(&o.key) {
            Ok(name) => name,
            Err(e) => {
                tracing::warn!(key = %o.key, reason = %e, "not an inbox object; ignored");
                return Ok(());
            }
        };
        let file =
            FileRef { source: SourceKind::S3, file: ListedFile { name, size: o.size, modified: None, copy: None } };
        let report = {
            let mut db = syncrocardpay_core::db::pooled(&self.deployment.pool).await.map_err(|e| e.to_string())?;
            intake::ingest(&mut db, &**store, &file.file, IngestMode::StageOnly).await
        };
        let ack = match report {
            Ok(report) => match Ack::from_report(&report) {
                Some(ack) => ack,
                None => {
                    tracing::warn!(key = %o.key, reason = %intake::rejection_reason(&report), "rejected; archived");
                    return Ok(());
                }
            },
            Err(Error::AlreadyArchived(reason)) => {
                tracing::info!(key = %o.key, reason = %reason, "already processed by another delivery");
                return Ok(());
            }
            Err(Error::SourceMissing(reason)) => {
                tracing::error!(key = %o.key, reason = %reason, "the object left the inbox unprocessed; nothing loaded");
                return Ok(());
            }
            Err(e) => return Err(format!("{}: {e}", o.key)),
        };
        self.start_load(Item { file: Some(file), ack: Some(ack), error: None }).await
    }

    /// Start the load of an ingested upload: the execution of the current upload window (started by the
    /// window's first upload, joined by the others), or without windows a single-file execution (once per
    /// content).
    async fn start_load(&self, item: Item) -> Result<(), String> {
        let Some(arn) = &self.settings.state_machine_arn else {
            tracing::warn!("no STATE_MACHINE_ARN: the staged file waits for the next scheduled load");
            return Ok(());
        };
        let Some(Ack::Staged { sha256, .. } | Ack::Duplicate { sha256, .. } | Ack::Archive { sha256, .. }) = &item.ack
        else {
            return Ok(());
        };
        let (name, input) = match self.settings.upload_window {
            Some(seconds) => {
                let (name, input) = workflow::UploadWindow::now(seconds).execution();
                (name, input.to_string())
            }
            None => (workflow::execution_name(sha256), serde_json::to_string(&item).map_err(|e| e.to_string())?),
        };
        match self.sfn.start_execution().state_machine_arn(arn).name(&name).input(input).send().await {
            Ok(out) => {
                tracing::info!(execution = %out.execution_arn(), "load started");
                Ok(())
            }
            Err(e) if e.as_service_error().is_some_and(|se| se.is_execution_already_exists()) => {
                // This content's, or this window's: it loads what is staged once the window closes. (Were a
                // window's execution somehow over already, the file stays staged for the next window's or
                // the night's load, which load every staged file.)
                tracing::info!(execution = %name, "load already started for this content or window");
                Ok(())
            }
            Err(e) => Err(format!("starting the load {name}: {}", aws_sdk_sfn::error::DisplayErrorContext(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let task = r#"{"file": {"source": "s3", "name": "A.TXT", "size": 5}, "task_token": "tok"}"#;
        let file = ListedFile { name: "A.TXT".into(), size: 5, modified: None, copy: None };
        assert_eq!(
            Message::parse(task).unwrap(),
            Message::Task { file: FileRef { source: SourceKind::S3, file }, task_token: "tok".into() }
        );
        // The shape moto sends: no userIdentity / requestParameters; a URL-encoded key.
        let s3 = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
                   "object": {"key": "inbox/CIELO+03%C3%A7.TXT", "size": 1200, "eTag": "x"}}}]}"#;
        assert_eq!(
            Message::parse(s3).unwrap(),
            Message::S3(vec![S3Object { bucket: "b".into(), key: "inbox/CIELO 03ç.TXT".into(), size: 1200 }])
        );
        assert_eq!(
            Message::parse(r#"{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}"#).unwrap(),
            Message::S3TestEvent
        );
        assert!(Message::parse("garbage").unwrap_err().contains("not JSON"));
        assert!(Message::parse(r#"{"task_token": "t"}"#).unwrap_err().contains("task-token"));
        assert!(Message::parse(r#"{"hello": 1}"#).unwrap_err().contains("neither"));
        assert_eq!(clip("ação", 2), "a");
        // The connection budget: 20 for 4 ingest Lambdas and 2 loads leaves 4 each; 6 leaves nothing.
        assert_eq!(connection_share(20, 4, 2), Ok(4));
        assert_eq!(connection_share(7, 4, 2), Err(
            "DB_CONNECTION_BUDGET 7 leaves no connection for 4 ingest Lambdas once 2 loads, discovery and the migration have theirs: raise it to at least 8".into()
        ));
        assert_eq!(connection_share(8, 4, 2), Ok(1));
        let backoffs: Vec<u64> = (1..=7).map(|n| retry_backoff(n).as_secs()).collect();
        assert_eq!(backoffs, [30, 60, 120, 240, 300, 300, 300]);
    }
}
