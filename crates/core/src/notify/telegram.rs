//! The Telegram bot's webhook (`POST /api/v1/telegram/webhook`): `/start <token>` from the deep
//! link a channel was given connects that chat to it; `/stop`, or blocking the bot, stops
//! every channel of the chat.

use serde_json::Value;
use time::OffsetDateTime;

use super::model::{ChannelType, MessageKind};
use crate::auth::tokens;
use crate::db::Db;
use crate::error::Error;
use crate::repo::channels as repo;
use crate::repo::outbox::{self, Direct};

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A chat confirmed a channel.
    Connected,
    /// A chat stopped its channels.
    Stopped,
    /// Nothing for us.
    Ignored,
}

fn chat_id(update: &Value, path: &str) -> Option<String> {
    let chat = update.pointer(path)?;
    chat.as_i64().map(|id| id.to_string()).or_else(|| chat.as_str().map(str::to_owned))
}

/// Handles one update (inside a transaction).
///
/// # Errors
/// Database errors.
pub fn handle(db: &dyn Db, update: &Value, now: OffsetDateTime) -> Result<Handled, Error> {
    // The bot was blocked or removed from the chat: stop writing to it.
    if let Some(chat) = chat_id(update, "/my_chat_member/chat/id")
        && matches!(
            update.pointer("/my_chat_member/new_chat_member/status").and_then(Value::as_str),
            Some("kicked" | "left")
        )
    {
        return stop(db, &chat, "the bot was blocked or removed from the chat", now);
    }
    let text = update.pointer("/message/text").and_then(Value::as_str).unwrap_or_default().trim();
    let Some(chat) = chat_id(update, "/message/chat/id") else { return Ok(Handled::Ignored) };
    if let Some(token) = text.strip_prefix("/start ") {
        // A channel made for a named chat is connected by that chat only.
        let Some(channel) = repo::find_by_token(db, &tokens::hash_secret(token.trim()), now)?
            .filter(|c| c.channel_type == ChannelType::Telegram && (c.target.is_empty() || c.target == chat))
        else {
            return Ok(Handled::Ignored);
        };
        repo::mark_verified(db, channel.id, Some(&chat), now)?;
        let direct = Direct {
            kind: MessageKind::TelegramConnected.as_str(),
            channel_type: "telegram",
            recipient: &chat,
            language: &channel.language,
            channel: Some(channel.id),
            payload: serde_json::json!({}),
        };
        outbox::queue_direct(db, &direct, now)?;
        return Ok(Handled::Connected);
    }
    if text == "/stop" {
        return stop(db, &chat, "stopped from Telegram (/stop)", now);
    }
    Ok(Handled::Ignored)
}

fn stop(db: &dyn Db, chat: &str, reason: &str, now: OffsetDateTime) -> Result<Handled, Error> {
    for channel in repo::telegram_chat_channels(db, chat)? {
        repo::disable(db, channel, reason, now)?;
    }
    Ok(Handled::Stopped)
}
