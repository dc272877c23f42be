//! The shapes of subscriptions and notifications: channels, what they subscribe to, message
//! kinds and the outbox's delivery rows.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a channel delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelType {
    /// An e-mail address, through the configured relay.
    Email,
    /// A Telegram chat, through the bot.
    Telegram,
    /// An HTTPS endpoint receiving signed Statuspage-shaped JSON.
    Webhook,
    /// A Mattermost (or Slack-compatible) incoming webhook.
    Mattermost,
}

impl ChannelType {
    /// Every type.
    pub const ALL: [Self; 4] = [Self::Email, Self::Telegram, Self::Webhook, Self::Mattermost];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Telegram => "telegram",
            Self::Webhook => "webhook",
            Self::Mattermost => "mattermost",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the types.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| "must be email, telegram, webhook or mattermost".into())
    }
}

/// How often a channel hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Digest {
    /// Every message as it happens.
    Immediate,
    /// One message a day (08:00 UTC) with what happened.
    Daily,
    /// One message a week (Mondays, 08:00 UTC).
    Weekly,
}

impl Digest {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the choices.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "immediate" => Ok(Self::Immediate),
            "daily" => Ok(Self::Daily),
            "weekly" => Ok(Self::Weekly),
            _ => Err("must be immediate, daily or weekly".into()),
        }
    }
}

/// A channel as the API shows it (the old service's names: `is_enabled`, `is_verified`,
/// `is_default`, `subscribe_to_all_services`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Id.
    pub id: Uuid,
    /// The account; `null` for a public subscriber.
    pub user_id: Option<Uuid>,
    /// Its type.
    #[serde(rename = "type")]
    pub channel_type: ChannelType,
    /// The address (an e-mail address, a Telegram chat id once confirmed, a URL).
    pub target: String,
    /// Whether it is on.
    pub is_enabled: bool,
    /// Whether it proved it reaches its owner.
    pub is_verified: bool,
    /// The account's default channel.
    pub is_default: bool,
    /// Every service, or only `subscribed_service_ids` and `subscribed_group_ids`.
    pub subscribe_to_all_services: bool,
    /// Chosen services.
    pub subscribed_service_ids: Vec<Uuid>,
    /// Chosen groups (covering the services they have when a message goes out).
    pub subscribed_group_ids: Vec<Uuid>,
    /// Messages' language (`en`, `ru`).
    pub language: String,
    /// Immediate or a digest.
    pub digest: Digest,
    /// When it was verified.
    #[serde(with = "crate::time::serde::option")]
    pub verified_at: Option<OffsetDateTime>,
    /// Why it stopped receiving, when it did.
    pub disabled_reason: Option<String>,
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
}

/// What a message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// An incident was declared.
    IncidentCreated,
    /// An incident changed.
    IncidentUpdated,
    /// An incident was resolved.
    IncidentResolved,
    /// Maintenance was planned.
    MaintenanceScheduled,
    /// Planned maintenance changed (a message, a new status short of the next step).
    MaintenanceUpdated,
    /// Maintenance started.
    MaintenanceStarted,
    /// Maintenance completed.
    MaintenanceCompleted,
    /// Maintenance that had not started was cancelled.
    MaintenanceCancelled,
    /// Maintenance starts soon.
    MaintenanceReminder,
    /// A service's effective status changed (webhook channels only).
    ComponentUpdate,
    /// A daily or weekly digest.
    Digest,
    /// An e-mail channel's verification code and link.
    ChannelVerification,
    /// A public subscriber's confirmation link.
    SubscriberConfirmation,
    /// A public subscriber's one-time link to manage the subscription.
    SubscriberManage,
    /// A password-reset link.
    PasswordReset,
    /// A webhook test delivery (verification).
    ChannelTest,
    /// A channel's owner is told it stopped receiving.
    ChannelDisabled,
    /// Operators are told that deliveries are in trouble.
    OperatorAlert,
    /// Operators are told that the trouble cleared.
    OperatorAlertCleared,
    /// A Telegram chat is told it is connected.
    TelegramConnected,
}

impl MessageKind {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentCreated => "incident_created",
            Self::IncidentUpdated => "incident_updated",
            Self::IncidentResolved => "incident_resolved",
            Self::MaintenanceScheduled => "maintenance_scheduled",
            Self::MaintenanceUpdated => "maintenance_updated",
            Self::MaintenanceStarted => "maintenance_started",
            Self::MaintenanceCompleted => "maintenance_completed",
            Self::MaintenanceCancelled => "maintenance_cancelled",
            Self::MaintenanceReminder => "maintenance_reminder",
            Self::ComponentUpdate => "component_update",
            Self::Digest => "digest",
            Self::ChannelVerification => "channel_verification",
            Self::SubscriberConfirmation => "subscriber_confirmation",
            Self::SubscriberManage => "subscriber_manage",
            Self::PasswordReset => "password_reset",
            Self::ChannelTest => "channel_test",
            Self::ChannelDisabled => "channel_disabled",
            Self::OperatorAlert => "operator_alert",
            Self::OperatorAlertCleared => "operator_alert_cleared",
            Self::TelegramConnected => "telegram_connected",
        }
    }

    /// Kinds that tell subscribers about an event (and go into digests).
    pub const EVENT_KINDS: [Self; 9] = [
        Self::IncidentCreated,
        Self::IncidentUpdated,
        Self::IncidentResolved,
        Self::MaintenanceScheduled,
        Self::MaintenanceUpdated,
        Self::MaintenanceStarted,
        Self::MaintenanceCompleted,
        Self::MaintenanceCancelled,
        Self::MaintenanceReminder,
    ];

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message naming the value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let all = Self::EVENT_KINDS.into_iter().chain([
            Self::ComponentUpdate,
            Self::Digest,
            Self::ChannelVerification,
            Self::SubscriberConfirmation,
            Self::SubscriberManage,
            Self::PasswordReset,
            Self::ChannelTest,
            Self::ChannelDisabled,
            Self::OperatorAlert,
            Self::OperatorAlertCleared,
            Self::TelegramConnected,
        ]);
        all.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| format!("is not a message kind: {raw}"))
    }
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its turn (or its next attempt).
    Pending,
    /// Claimed by a run.
    Sending,
    /// Delivered.
    Sent,
    /// Given up on after its last attempt, or refused for good.
    Dead,
    /// Waiting for the channel's digest.
    Held,
    /// Delivered as part of a digest.
    Digested,
    /// Not sent: its channel was removed or stopped receiving first.
    Cancelled,
}

impl DeliveryStatus {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Dead => "dead",
            Self::Held => "held",
            Self::Digested => "digested",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the states.
    pub fn parse(raw: &str) -> Result<Self, String> {
        [Self::Pending, Self::Sending, Self::Sent, Self::Dead, Self::Held, Self::Digested, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| "must be pending, sending, sent, dead, held, digested or cancelled".into())
    }
}

/// A delivery as the admin view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Id.
    pub id: Uuid,
    /// What it says.
    pub kind: String,
    /// Its channel type.
    pub channel: ChannelType,
    /// The channel, when it still exists (direct e-mails have none).
    pub channel_id: Option<Uuid>,
    /// The address.
    pub recipient: String,
    /// The message it delivers (direct e-mails have none).
    pub message_id: Option<Uuid>,
    /// The event the message is about.
    pub event_id: Option<Uuid>,
    /// Its state.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When the next attempt is due.
    #[serde(with = "crate::time::serde")]
    pub next_attempt_at: OffsetDateTime,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// When it was delivered.
    #[serde(with = "crate::time::serde::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// Queued.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
}
