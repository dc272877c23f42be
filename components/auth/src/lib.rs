//! The `auth` Spin component: `/api/v1/auth/*`, `/api/v1/me`, `/api/v1/users/*`,
//! `/api/v1/api-keys/*`, `/api/v1/audit-log`, `/api/v1/auth/oidc/*`. Its route table is
//! `statuspage_core::api::routes::auth`; the handlers live in the core.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    statuspage_core::spin_http::serve("auth", &statuspage_core::api::routes::auth(), request, out).await;
}
