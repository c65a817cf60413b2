//! Migrate Lambda: the deploy step that applies the database migrations, as the schema's owner, before the
//! other functions run against it (they only check the schema's version: the runtime user has no DDL rights,
//! and no session advisory lock pins an RDS Proxy connection at their cold starts).
//!
//! Two events:
//! - a **CloudFormation custom resource** request (`SchemaMigration` in template.yaml), on every deploy whose
//!   migrations changed: `Create` and `Update` migrate and grant the runtime user read/write rights, `Delete`
//!   does nothing (the data stays). The answer is always sent — success with what was applied, or failure
//!   with the reason (never a secret) — so that a deploy never waits an hour, and a failed migration rolls the
//!   deploy back. On the first deploy, before the operator has put the database settings, there is nothing to
//!   migrate yet: it succeeds saying so.
//! - `{"action": "migrate"}`, invoked by hand (`aws lambda invoke`, after putting the settings): migrates and
//!   returns the [`MigrationReport`].

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceRequest as Request, CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status,
};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use std::collections::HashMap;
use syncrocardpay_core::workflow::{MigrationReport, MigrationTarget};

/// The custom resource's physical id: there is one schema.
pub const PHYSICAL_ID: &str = "syncrocardpay-schema";

/// What the function keeps across invocations.
pub struct Migrate {
    /// Where to migrate; `None`: read the deployed settings at each invocation (they may be put after the
    /// function was created).
    pub target: Option<MigrationTarget>,
    pub http: reqwest::Client,
}

impl Migrate {
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let payload = event.payload;
        if payload.get("ResponseURL").is_some() {
            let request: Request = serde_json::from_value(payload)
                .map_err(|e| diagnostic(format!("not a custom resource request: {e}")))?;
            let (url, response) = self.answer(request).await;
            self.send(&url, &response).await?;
            return Ok(json!({"status": response.status, "data": response.data}));
        }
        if payload == json!({"action": "migrate"}) {
            let report = self.migrate().await.map_err(diagnostic)?;
            return match report {
                Some(r) => Ok(serde_json::to_value(r).map_err(|e| diagnostic(e.to_string()))?),
                None => Err(diagnostic("no database settings: put them under SSM_PREFIX first".into())),
            };
        }
        Err(Diagnostic {
            error_type: "BadRequest".into(),
            error_message: "expected a CloudFormation custom resource request or {\"action\": \"migrate\"}".into(),
        })
    }

    /// Migrate where the settings say; `Ok(None)` when there are no database settings yet.
    async fn migrate(&self) -> Result<Option<MigrationReport>, String> {
        let target = match &self.target {
            Some(t) => t.clone(),
            None => match MigrationTarget::from_env().await.map_err(|e| e.to_string())? {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        target.migrate().await.map(Some).map_err(|e| e.to_string())
    }

    /// Do what the request asks and say how it went (the response URL, the response).
    async fn answer(&self, request: Request) -> (String, Response) {
        let (url, stack, request_id, logical, physical, migrate) = match request {
            Request::Create(r) => (r.response_url, r.stack_id, r.request_id, r.logical_resource_id, None, true),
            Request::Update(r) => {
                (r.response_url, r.stack_id, r.request_id, r.logical_resource_id, Some(r.physical_resource_id), true)
            }
            Request::Delete(r) => {
                (r.response_url, r.stack_id, r.request_id, r.logical_resource_id, Some(r.physical_resource_id), false)
            }
        };
        let mut data = HashMap::new();
        let outcome = if migrate {
            self.migrate().await
        } else {
            tracing::info!("stack deleted: the schema and its data are kept");
            data.insert("Deleted".to_string(), "nothing: the schema and its data are kept".to_string());
            Ok(None)
        };
        let (status, reason) = match outcome {
            Ok(Some(r)) => {
                data.insert("SchemaVersion".to_string(), r.version.to_string());
                data.insert("Applied".to_string(), r.applied.join(", "));
                (Status::Success, None)
            }
            Ok(None) => {
                if migrate {
                    let why =
                        "no database settings yet: put them, then invoke this function with {\"action\": \"migrate\"}";
                    tracing::warn!(reason = why, "nothing migrated");
                    data.insert("Skipped".to_string(), why.to_string());
                }
                (Status::Success, None)
            }
            Err(why) => {
                tracing::error!(reason = %why, "migration failed");
                (Status::Failed, Some(format!("migration failed: {why}")))
            }
        };
        let response = Response {
            status,
            reason,
            physical_resource_id: physical.unwrap_or_else(|| PHYSICAL_ID.to_string()),
            stack_id: stack,
            request_id,
            logical_resource_id: logical,
            no_echo: false,
            data,
        };
        (url, response)
    }

    async fn send(&self, url: &str, response: &Response) -> Result<(), Diagnostic> {
        let body = serde_json::to_vec(response).map_err(|e| diagnostic(e.to_string()))?;
        // The presigned URL is signed without a content type: send none.
        let sent = self.http.put(url).header("content-type", "").body(body).send().await;
        match sent.and_then(|r| r.error_for_status()) {
            Ok(_) => Ok(()),
            Err(e) => Err(diagnostic(format!("could not answer CloudFormation: {}", e.without_url()))),
        }
    }
}

fn diagnostic(message: String) -> Diagnostic {
    Diagnostic { error_type: "NotRetryable".into(), error_message: message }
}
