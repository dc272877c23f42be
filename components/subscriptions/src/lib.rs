//! The `subscriptions` Spin component: `/api/v1/me/channels/*`, `/api/v1/me/subscriptions`,
//! `/api/v1/subscribers/*`, `/api/v1/telegram/webhook`, `/api/v1/notifications/*`. Its route table
//! is `statuspage_core::api::routes::subscriptions`; the handlers live in the core.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    statuspage_core::spin_http::serve("subscriptions", &statuspage_core::api::routes::subscriptions(), request, out)
        .await;
}
