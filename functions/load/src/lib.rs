//! Loading Lambda: adds the staged files of the state machine's items to the dimensions and facts (one
//! transaction per file, idempotent), sorts the other items into duplicates, rejections and failures, and
//! returns the run's summary ([`LoadSummary`]) — including the references of failed files, which the state
//! machine ingests again.
//!
//! Event: [`LoadRequest`] `{"items": [{"file": …, "ack": …} | {"file": …, "error": …}], "sweep": bool}`.

use lambda_runtime::{Diagnostic, LambdaEvent};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What is kept of an invocation's time for the files being loaded and the reconciliation after them.
pub const RESERVE: Duration = Duration::from_secs(240);

/// The time to keep starting files: from now to the invocation's deadline (ms since the epoch), less
/// [`RESERVE`]. `None` without a deadline (not under Lambda).
pub fn budget(deadline_ms: u64) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
    Some(Duration::from_millis(deadline_ms.saturating_sub(now)).saturating_sub(RESERVE))
}
use serde_json::Value;
use syncrocardpay_core::workflow::{self, metrics, Deployment, Failure, LoadRequest, LoadSummary};

/// What the function keeps across invocations.
pub struct Load {
    pub deployment: Deployment,
}

impl Load {
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<LoadSummary, Diagnostic> {
        // Stop starting files with a few minutes of the invocation left (the state machine calls again).
        let budget = budget(event.context.deadline);
        self.load(event.payload, budget).await.map_err(|f| Diagnostic { error_type: f.error, error_message: f.cause })
    }

    async fn load(&self, event: Value, budget: Option<Duration>) -> Result<LoadSummary, Failure> {
        let request: LoadRequest = serde_json::from_value(event)
            .map_err(|e| Failure::bad_request(format!("not a load request ({e}): expected {{\"items\": [...]}}")))?;
        let mut db = syncrocardpay_core::db::pooled(&self.deployment.pool).await?;
        let summary = workflow::load_within(&mut db, &self.deployment.sources, &request, budget).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_keeps_the_reserve_of_the_invocation() {
        assert_eq!(budget(0), None, "no deadline outside Lambda");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let b = budget(now + 900_000).unwrap();
        assert!(b <= Duration::from_secs(660) && b > Duration::from_secs(650), "{b:?}");
        assert_eq!(budget(now + 60_000), Some(Duration::ZERO), "short of the reserve: one file, then more");
    }
}
