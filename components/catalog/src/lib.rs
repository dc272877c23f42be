//! The `catalog` Spin component: `/api/v1/services/*`, `/api/v1/groups/*` (SPEC §4).
//! Routing only; the handlers live in `statuspage_core::api::catalog`.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use statuspage_core::api::catalog;
use statuspage_core::app::Handler;
use statuspage_core::http::Router;

fn router() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/api/v1/services", catalog::list_services)
        .get("/api/v1/services/:slug", catalog::get_service)
}

#[http_component]
fn handle(request: Request) -> Response {
    statuspage_core::spin_http::serve("catalog", &router(), &request)
}
