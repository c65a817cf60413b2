use lambda_runtime::{service_fn, Error};
use std::sync::Arc;
use syncrocardpay_load::Load;

#[tokio::main]
async fn main() -> Result<(), Error> {
    syncrocardpay_core::logging::init_lambda();
    let state = Arc::new(Load { deployment: syncrocardpay_core::workflow::Deployment::from_env(1).await? });
    lambda_runtime::run(service_fn(move |event| {
        let state = state.clone();
        async move { state.handle(event).await }
    }))
    .await
}
