//! A function's route table: the (method, path) pairs it answers, kept beside the router
//! built from them, so a test can hold every function's table against the watch router,
//! `template.yaml`'s events and the OpenAPI document (tests/tests/route_table.rs).

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use axum::Router;

use crate::state::AppState;

#[derive(Default)]
pub struct Routes {
    table: Vec<(Method, &'static str)>,
    router: Router<AppState>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.on(Method::GET, path, routing::get(handler))
    }

    pub fn post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.on(Method::POST, path, routing::post(handler))
    }

    /// A route whose method router carries layers of its own (a body limit). The method
    /// named here is the one the table lists; the route-table test sends it to the router.
    pub fn on(
        mut self,
        method: Method,
        path: &'static str,
        method_router: MethodRouter<AppState>,
    ) -> Self {
        self.table.push((method, path));
        // axum merges method routers given for the same path.
        self.router = self.router.route(path, method_router);
        self
    }

    pub fn table(&self) -> &[(Method, &'static str)] {
        &self.table
    }

    /// The function's whole router: these routes behind every shared layer.
    pub fn serve(self, state: AppState) -> Router {
        let shared_state = state.clone();
        super::serve(self.router.with_state(state), &shared_state)
    }
}
