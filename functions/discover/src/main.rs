//! Discovery Lambda: lists the inbox and returns the statement files whose content is not loaded yet,
//! as small references for the state machine's Map state. Event: `{ "inbox": "/mnt/inbox" }` (optional;
//! default `INBOX_DIR`). Database from `DATABASE_URL`, else SSM Parameter Store (`SSM_PREFIX`/db/…).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;
use std::sync::Arc;
use syncrocardpay_core::pipeline::{self, Discovery};
use syncrocardpay_core::source::FolderSource;

#[derive(Deserialize, Default)]
struct DiscoverRequest {
    inbox: Option<String>,
}

async fn handle(db: &tokio_postgres::Client, event: LambdaEvent<serde_json::Value>) -> Result<Discovery, Error> {
    let request: DiscoverRequest = serde_json::from_value(event.payload).unwrap_or_default();
    let inbox = request
        .inbox
        .or_else(|| std::env::var("INBOX_DIR").ok())
        .ok_or("no inbox: pass {\"inbox\": DIR} or set INBOX_DIR")?;
    Ok(pipeline::discover(db, &FolderSource::new(inbox)).await?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().with_target(false).without_time().init();
    let url = syncrocardpay_core::config::deployed_database_url().await?;
    let db = Arc::new(syncrocardpay_core::db::connect(&url).await?);
    lambda_runtime::run(service_fn(move |event| {
        let db = db.clone();
        async move { handle(&db, event).await }
    }))
    .await
}
