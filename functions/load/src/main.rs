//! Loading Lambda: adds staged files to the dimensions and facts, one transaction per file, and returns
//! per-file counts. Event: `{ "file_ids": [1, 2] }`. Database from `DATABASE_URL`, else SSM Parameter Store (`SSM_PREFIX`/db/…).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use syncrocardpay_core::db::store::LoadCounts;
use syncrocardpay_core::pipeline::{self, Outcome};
use tokio::sync::Mutex;

#[derive(Deserialize)]
struct LoadRequest {
    file_ids: Vec<i64>,
}

#[derive(Serialize)]
struct LoadedFile {
    file_id: i64,
    outcome: Outcome,
    rows: LoadCounts,
}

async fn handle(
    db: &Mutex<tokio_postgres::Client>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Vec<LoadedFile>, Error> {
    let request: LoadRequest = serde_json::from_value(event.payload)?;
    let mut db = db.lock().await;
    let loaded = pipeline::load_files(&mut db, &request.file_ids).await?;
    Ok(loaded.into_iter().map(|(file_id, outcome, rows)| LoadedFile { file_id, outcome, rows }).collect())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().with_target(false).without_time().init();
    let url = syncrocardpay_core::config::deployed_database_url().await?;
    let db = Arc::new(Mutex::new(syncrocardpay_core::db::connect(&url).await?));
    lambda_runtime::run(service_fn(move |event| {
        let db = db.clone();
        async move { handle(&db, event).await }
    }))
    .await
}
