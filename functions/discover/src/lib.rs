//! Discovery Lambda: lists the acquirer's FTPS server and the S3 inbox, registers what is new in the control
//! table and returns small file references for the state machine's Map state (never file contents).
//!
//! Event: `{"trigger": "schedule"|"manual", "force": bool}` or EventBridge's scheduled event. Result:
//! [`DiscoverResponse`]. Errors carry the workflow's error names (`Transient`, `NotRetryable`, `BadRequest`).

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use syncrocardpay_core::workflow::{self, Deployment, DiscoverLimits, DiscoverRequest, DiscoverResponse, Failure};

/// Files per run when `MAX_FILES_PER_RUN` is not set: a night's backlog beyond it waits for the next run.
pub const DEFAULT_MAX_FILES_PER_RUN: usize = 5000;

/// What the function keeps across invocations.
pub struct Discover {
    pub deployment: Deployment,
    /// Files the Map ingests at once (`MAX_CONCURRENCY`), files per run (`MAX_FILES_PER_RUN`).
    pub limits: DiscoverLimits,
}

impl Discover {
    pub fn limits_from_env() -> DiscoverLimits {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0);
        DiscoverLimits {
            max_concurrency: number("MAX_CONCURRENCY").map_or(4, |n| n as u32),
            max_files: number("MAX_FILES_PER_RUN").map_or(DEFAULT_MAX_FILES_PER_RUN, |n| n as usize),
            fetch_days: number("FETCH_DAYS").map_or(workflow::DEFAULT_FETCH_DAYS, |n| n.min(31) as u32),
        }
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<DiscoverResponse, Diagnostic> {
        self.discover(&event.payload).await.map_err(|f| Diagnostic { error_type: f.error, error_message: f.cause })
    }

    async fn discover(&self, event: &Value) -> Result<DiscoverResponse, Failure> {
        let request = DiscoverRequest::from_event(event).map_err(Failure::bad_request)?;
        let db = syncrocardpay_core::db::pooled(&self.deployment.pool).await?;
        Ok(workflow::discover(&db, &self.deployment.sources, request, self.limits).await?)
    }
}
