//! Where a request came from, as audit events record it.

use super::Event;

/// The request an action belongs to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub request_id: Option<String>,
    /// Client IP address.
    pub source: Option<String>,
}

impl Event {
    /// Stamps the request id and source address.
    pub fn within(self, ctx: &Context) -> Self {
        self.request(ctx.request_id.clone(), ctx.source.clone())
    }
}
