//! Discovery Lambda: lists the acquirer's FTPS server and the S3 inbox, registers what is new in the control
//! table and returns small file references for the state machine's Map state (never file contents).
//!
//! Event: `{"trigger": "schedule"|"manual", "force": bool}` or EventBridge's scheduled event. Result:
//! [`DiscoverResponse`]. Errors carry the workflow's error names (`Transient`, `NotRetryable`, `BadRequest`).

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use syncrocardpay_core::workflow::{self, Deployment, DiscoverRequest, DiscoverResponse, Failure};

/// What the function keeps across invocations.
pub struct Discover {
    pub deployment: Deployment,
    /// How many files the Map ingests at once (`MAX_CONCURRENCY`).
    pub max_concurrency: u32,
}

impl Discover {
    pub fn max_concurrency_from_env() -> u32 {
        std::env::var("MAX_CONCURRENCY").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(4)
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<DiscoverResponse, Diagnostic> {
        self.discover(&event.payload).await.map_err(|f| Diagnostic { error_type: f.error, error_message: f.cause })
    }

    async fn discover(&self, event: &Value) -> Result<DiscoverResponse, Failure> {
        let request = DiscoverRequest::from_event(event).map_err(Failure::bad_request)?;
        let db = syncrocardpay_core::db::pooled(&self.deployment.pool).await?;
        Ok(workflow::discover(&db, &self.deployment.sources, request, self.max_concurrency).await?)
    }
}
