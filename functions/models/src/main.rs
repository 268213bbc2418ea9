fn main() -> Result<(), lambda_http::Error> {
    // Before the runtime starts its threads: it sets an environment variable.
    training::fix_thread_count();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> Result<(), lambda_http::Error> {
    shared::logging::init();
    let state = shared::AppState::from_env().await;
    lambda_http::run(models::router(state)).await
}
