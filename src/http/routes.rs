//! Route declarations that keep their own table: every area adds its
//! routes through [`Routes`], which builds the axum router and lists each
//! (method, path) it serves. Tests walk that list ([`super::route_table`]),
//! so a new route cannot be forgotten by the checks every route must pass
//! (Origin and CSRF on state changes).

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use crate::app::AppState;

/// A router and the (method, path) pairs it serves.
#[derive(Debug, Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, &'static str)>,
}

macro_rules! method {
    ($name:ident, $method:ident, $make:ident) => {
        pub fn $name<H, T>(self, path: &'static str, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.add(Method::$method, path, $make(handler))
        }
    };
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    method!(get, GET, get);
    method!(post, POST, post);
    method!(put, PUT, put);
    method!(patch, PATCH, patch);
    method!(delete, DELETE, delete);

    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, route);
        self.table.push((method, path));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Applies `layer` to the routes declared so far (axum's `route_layer`).
    pub fn layered(mut self, layer: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = layer(self.router);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<(Method, &'static str)>) {
        (self.router, self.table)
    }
}
