//! The `status` Spin component: the public, read-only surface and operations endpoints
//! (`/metrics` among them). It also owns the catch-all route, so an unknown path gets a JSON 404.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    statuspage_core::spin_http::serve("status", &statuspage_core::api::routes::status(), request, out).await;
}
