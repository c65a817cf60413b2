use lambda_runtime::{service_fn, Error};
use std::sync::Arc;
use syncrocardpay_load::Load;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The level from RUST_LOG (the template sets it), secrets' targets capped (core's logging module).
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(syncrocardpay_core::logging::filter("info"))
        .with_target(false)
        .without_time()
        .init();
    let state = Arc::new(Load { deployment: syncrocardpay_core::workflow::Deployment::from_env(1).await? });
    lambda_runtime::run(service_fn(move |event| {
        let state = state.clone();
        async move { state.handle(event).await }
    }))
    .await
}
