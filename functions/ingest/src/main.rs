//! Ingestion Lambda: parses, validates and stages one statement file (the load Lambda adds it to the
//! facts). Event: `{ "path": "/mnt/inbox/CIELO03….TXT" }`. Database from `DATABASE_URL`, else SSM Parameter
//! Store (`SSM_PREFIX`/db/…); migrations are applied once at cold start.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use syncrocardpay_core::pipeline::{self, IngestMode, IngestReport};
use tokio::sync::Mutex;

#[derive(Deserialize)]
struct IngestRequest {
    path: PathBuf,
}

async fn handle(
    db: &Mutex<tokio_postgres::Client>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<IngestReport, Error> {
    let request: IngestRequest = serde_json::from_value(event.payload)?;
    let mut db = db.lock().await;
    Ok(pipeline::ingest_file(&mut db, &request.path, "lambda", IngestMode::StageOnly).await?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().with_target(false).without_time().init();
    let url = syncrocardpay_core::config::deployed_database_url().await?;
    let mut client = syncrocardpay_core::db::connect(&url).await?;
    syncrocardpay_core::db::migrate(&mut client).await?;
    let db = Arc::new(Mutex::new(client));
    lambda_runtime::run(service_fn(move |event| {
        let db = db.clone();
        async move { handle(&db, event).await }
    }))
    .await
}
