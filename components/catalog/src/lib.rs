//! The `catalog` Spin component: `/api/v1/services/*`, `/api/v1/groups/*`.
//! Its route table is `statuspage_core::api::routes::catalog`; the handlers live in the core.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    statuspage_core::spin_http::serve("catalog", &statuspage_core::api::routes::catalog(), request, out).await;
}
