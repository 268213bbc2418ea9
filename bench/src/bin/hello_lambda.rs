//! The floor for `bench/run lambda`'s init times: a hello-world HTTP function on the same
//! runtime crates (lambda_http, tokio) and profile, measured by the same harness. The
//! issue's reference, "hello-world Rust functions start in about 14 ms on AWS", is this
//! program on AWS; its figure here tells what the harness and this machine add.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"status":"healthy"}"#))
            .map_err(Error::from)
    }))
    .await
}
