use lambda_runtime::{service_fn, Error};
use std::sync::Arc;
use syncrocardpay_ingest::{Ingest, IngestSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    syncrocardpay_core::logging::init_lambda();
    let settings = IngestSettings::from_env()?;
    let deployment = syncrocardpay_core::workflow::Deployment::from_env(settings.concurrency).await?;
    let state = Arc::new(Ingest::new(deployment, settings));
    lambda_runtime::run(service_fn(move |event| {
        let state = state.clone();
        async move { state.handle(event).await }
    }))
    .await
}
