//! Subscriptions and notifications.
//!
//! - [`model`]: channels, message kinds, deliveries.
//! - [`queue`]: an event write's messages and delivery rows, in its own transaction.
//! - [`render`]: every message text (kind × form × language) in one place; [`providers`]: the
//!   relays', Telegram's and webhooks' wire formats and what their answers mean.
//! - [`deliver`]: the engine that claims, sends and records (scheduler ticks, and right after
//!   each write that queued something).
//! - [`channels`]: an account's channels and their verification; [`subscribers`]: public
//!   sign-up, confirmation, manage and unsubscribe; [`telegram`]: the bot's webhook.
//! - [`housekeeping`]: digests, and the operators' delivery-trouble alerts.
//! - [`links`]: signed unsubscribe and manage links.

pub mod channels;
pub mod deliver;
pub mod housekeeping;
pub mod links;
pub mod model;
pub mod providers;
pub mod queue;
pub mod render;
pub mod subscribers;
pub mod telegram;
