//! The `events` Spin component: `/api/v1/events/*`, `/api/v1/templates/*`, `/api/v1/webhooks/*`.
//! Its route table is `statuspage_core::api::routes::events`; the handlers live in the core.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    statuspage_core::spin_http::serve("events", &statuspage_core::api::routes::events(), request, out).await;
}
