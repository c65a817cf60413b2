//! Loading Lambda: adds the staged files of the state machine's items to the dimensions and facts (one
//! transaction per file, idempotent), sorts the other items into duplicates, rejections and failures, and
//! returns the run's summary ([`LoadSummary`]) — including the references of failed files, which the state
//! machine ingests again.
//!
//! Event: [`LoadRequest`] `{"items": [{"file": …, "ack": …} | {"file": …, "error": …}], "sweep": bool}`.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use syncrocardpay_core::workflow::{self, metrics, Deployment, Failure, LoadRequest, LoadSummary};

/// What the function keeps across invocations.
pub struct Load {
    pub deployment: Deployment,
}

impl Load {
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<LoadSummary, Diagnostic> {
        self.load(event.payload).await.map_err(|f| Diagnostic { error_type: f.error, error_message: f.cause })
    }

    async fn load(&self, event: Value) -> Result<LoadSummary, Failure> {
        let request: LoadRequest = serde_json::from_value(event)
            .map_err(|e| Failure::bad_request(format!("not a load request ({e}): expected {{\"items\": [...]}}")))?;
        let mut db = syncrocardpay_core::db::pooled(&self.deployment.pool).await?;
        let summary = workflow::load(&mut db, &self.deployment.sources, &request).await?;
        // The load's metrics (CloudWatch Embedded Metric Format): one line on stdout, beside the logs.
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        let line = metrics::emf(
            &summary,
            &var("METRICS_NAMESPACE", metrics::NAMESPACE),
            &var("STACK_NAME", "local"),
            request.sweep,
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
        );
        println!("{line}");
        Ok(summary)
    }
}
