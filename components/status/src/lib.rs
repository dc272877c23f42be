//! The `status` Spin component: the public, read-only surface and operations endpoints
//! (SPEC §7–8). It also owns the catch-all route, so an unknown path gets a JSON 404.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(request: Request) -> Response {
    statuspage_core::spin_http::serve("status", &statuspage_core::api::routes::status(), &request)
}
