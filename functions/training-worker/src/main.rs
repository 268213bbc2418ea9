use lambda_runtime::{service_fn, LambdaEvent};
use training_worker::StreamBatch;

fn main() -> Result<(), lambda_runtime::Error> {
    // Before the runtime starts its threads: it sets an environment variable.
    training::fix_thread_count();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> Result<(), lambda_runtime::Error> {
    shared::logging::init();
    let state = shared::AppState::from_env().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<StreamBatch>| {
        let state = state.clone();
        async move {
            let deadline = training_worker::deadline_from_epoch_ms(event.context.deadline);
            Ok::<_, lambda_runtime::Error>(
                training_worker::handle_batch(&state, event.payload, deadline).await,
            )
        }
    }))
    .await
}
