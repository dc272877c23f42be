//! HTTP, platform-neutral: requests, responses and envelopes, the error model, routing, request
//! ids, pagination. Components convert to and from the Spin SDK types in [`crate::spin_http`].

mod body;
mod error;
mod page;
mod request;
mod request_id;
mod response;
mod router;

pub use body::{Body, present};
pub use error::{ApiError, FieldError};
pub use page::Page;
pub use request::{MAX_BODY_BYTES, Request};
pub use request_id::request_id;
pub use response::{ListMeta, Response};
pub use router::{Cache, Params, Policy, RateClass, RouteMatch, Router};
