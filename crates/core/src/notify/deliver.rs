//! The delivery engine: claims due rows of the outbox with a lease (`for update skip locked`,
//! so overlapping runs never take the same row, and a run that dies leaves its rows to be
//! claimed again once the lease expires), sends them (e-mail in each relay's batches, Telegram
//! paced under the Bot API's 30 messages a second, webhooks concurrently), and records each
//! outcome: sent; again later with exponential back-off and jitter (or the far side's
//! `Retry-After`); dead after [`MAX_ATTEMPTS`]; or dead at once with the channel disabled when
//! the address itself is the problem. It runs on every scheduler tick, and right after each
//! write that queued something (after that write's response has gone).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use uuid::Uuid;

use super::links::{self, Purpose};
use super::model::{ChannelType, MessageKind};
use super::providers::{self, EmailBatch, Outcome, Recipient};
use super::render::{self, Links};
use crate::config::Config;
use crate::db::Db;
use crate::env::Env;
use crate::outbound::OutRequest;
use crate::public::i18n::Lang;
use crate::public::site::Site;
use crate::repo::outbox::{self, Claimed, Direct};

/// Attempts before a delivery is dead (about four hours of back-off in all).
pub const MAX_ATTEMPTS: i32 = 10;
/// How long a run holds what it claimed, at least (longer when receivers may take longer:
/// [`lease_for`]).
const MIN_LEASE: Duration = Duration::from_secs(120);
/// What a wave must leave of the lease when it ends: the time to record its outcomes.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// Rows claimed per round.
const CLAIM_BATCH: i64 = 2000;
/// Requests in flight at once (relay batches, webhooks).
const CONCURRENCY: usize = 8;
/// Telegram messages go out in small waves, evenly spaced: 4 every 160 ms is 25 a second, and
/// no more than 28 in any one second however the window falls (the Bot API allows about 30
/// messages a second; waves of 25 a second apart put up to 50 in one second's window).
const TELEGRAM_WAVE: usize = 4;
/// See [`TELEGRAM_WAVE`].
const TELEGRAM_WAVE_EVERY: Duration = Duration::from_millis(160);
/// Consecutive failures after which a webhook channel is quarantined.
pub const QUARANTINE_AFTER: i32 = 10;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// Deliveries claimed.
    pub claimed: usize,
    /// Delivered.
    pub sent: usize,
    /// Put back for another attempt.
    pub retried: usize,
    /// Given up on.
    pub dead: usize,
    /// Dropped because their channel was removed or stopped receiving.
    pub cancelled: usize,
    /// Channels disabled (bounced, blocked, gone, quarantined).
    pub channels_disabled: usize,
    /// Claimed but not started before the lease ran short: back in the queue as they were.
    pub released: usize,
}

/// The delay before attempt `attempts + 1`: 30 s doubling to an hour at most, ±20 % jitter; or
/// what the far side asked for.
fn backoff(attempts: i32, asked: Option<Duration>) -> time::Duration {
    if let Some(asked) = asked {
        return time::Duration::seconds(i64::try_from(asked.as_secs().max(1)).unwrap_or(3600));
    }
    let exponent = u32::try_from((attempts - 1).clamp(0, 7)).unwrap_or(0);
    let base = (30_i64 << exponent).min(3600);
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() { i64::from(byte[0]) - 128 } else { 0 };
    time::Duration::milliseconds(base * 1000 + base * 1000 * jitter / 640)
}

/// One request and the deliveries it carries.
struct Job<'a> {
    request: OutRequest,
    deliveries: Vec<&'a Claimed>,
    via: Via,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Email(crate::config::EmailProvider),
    Telegram,
    Webhook,
    Mattermost,
}

/// How long a run holds what it claims: long enough for two waves of the slowest receiver,
/// and never less than [`MIN_LEASE`].
fn lease_for(config: &Config) -> Duration {
    MIN_LEASE.max(config.webhook_timeout() * 2 + LEASE_MARGIN)
}

/// Runs deliveries until nothing is due or `budget` is spent.
///
/// # Errors
/// The database or the configuration failed (sending failures are outcomes, not errors).
pub fn run(env: &dyn Env, budget: Duration) -> Result<RunReport, String> {
    let config = env.config().map_err(|e| e.to_string())?;
    let db = env.db().map_err(|e| e.to_string())?;
    let site = Site::of(config);
    let started = Instant::now();
    let lease = lease_for(config);
    let mut report = RunReport::default();
    loop {
        let now = env.now();
        let lease_for_db = time::Duration::try_from(lease).unwrap_or(time::Duration::minutes(2));
        let claimed = outbox::claim(db, now, lease_for_db, CLAIM_BATCH).map_err(|e| e.to_string())?;
        if claimed.is_empty() {
            break;
        }
        report.claimed += claimed.len();
        let engine = Round { db, config, site: &site, now, lease_ends: Instant::now() + lease };
        engine.deliver(env, &claimed, &mut report).map_err(|e| e.to_string())?;
        if started.elapsed() >= budget {
            break;
        }
    }
    Ok(report)
}

struct Round<'a> {
    db: &'a dyn Db,
    config: &'a Config,
    site: &'a Site,
    now: OffsetDateTime,
    /// When what this round claimed may be claimed by another run: nothing is sent that
    /// might still be in flight then (it would be sent twice).
    lease_ends: Instant,
}

impl Round<'_> {
    fn lang(claimed: &Claimed) -> Lang {
        if claimed.language == "ru" { Lang::Ru } else { Lang::En }
    }

    /// A recipient's own links: one-click unsubscribe for its channel, and the manage page.
    fn links(&self, claimed: &Claimed) -> Option<Links> {
        let channel = claimed.channel_id?;
        claimed.message_id?;
        let token =
            links::sign(&self.config.jwt_secret, Purpose::Unsubscribe, channel, self.now, links::UNSUBSCRIBE_FOR);
        Some(Links {
            unsubscribe: self.site.url(&format!("/subscribers/unsubscribe?token={token}")),
            manage: self.site.url("/subscribers/manage"),
        })
    }

    fn deliver(&self, env: &dyn Env, claimed: &[Claimed], report: &mut RunReport) -> Result<(), crate::db::DbError> {
        let mut jobs: Vec<Job<'_>> = Vec::new();
        // E-mail rows grouped by message and language, the groups in the order claimed.
        let mut emails: Vec<Vec<&Claimed>> = Vec::new();
        let mut email_group: HashMap<(String, String), usize> = HashMap::new();
        for row in claimed {
            if row.orphaned || !row.deliverable {
                let reason = if row.orphaned { "the channel was removed" } else { "the channel no longer receives" };
                outbox::finish(self.db, row.id, "cancelled", reason, self.now)?;
                report.cancelled += 1;
                continue;
            }
            let Ok(kind) = MessageKind::parse(&row.kind) else {
                outbox::finish(self.db, row.id, "dead", &format!("unknown message kind {}", row.kind), self.now)?;
                report.dead += 1;
                continue;
            };
            match ChannelType::parse(&row.channel) {
                Ok(ChannelType::Email) => {
                    // One rendering per message and language, shared by its recipients.
                    let group = row.message_id.map_or_else(|| row.id.to_string(), |m| m.to_string());
                    let index = *email_group.entry((group, row.language.clone())).or_insert_with(|| {
                        emails.push(Vec::new());
                        emails.len() - 1
                    });
                    emails[index].push(row);
                }
                Ok(channel) => match self.single_job(kind, channel, row) {
                    Ok(job) => jobs.push(job),
                    Err(outcome) => self.fail(row, &outcome, report)?,
                },
                Err(e) => self.fail(row, &Outcome::Permanent { reason: e, disable: false }, report)?,
            }
        }
        for rows in &emails {
            self.email_jobs(rows, &mut jobs, report)?;
        }
        let (telegram, other): (Vec<Job<'_>>, Vec<Job<'_>>) = jobs.into_iter().partition(|j| j.via == Via::Telegram);
        self.send_in_waves(env, other, CONCURRENCY, None, report)?;
        // Telegram: paced under the Bot API's limit.
        self.send_in_waves(env, telegram, TELEGRAM_WAVE, Some(TELEGRAM_WAVE_EVERY), report)
    }

    /// Sends `jobs` `width` at a time, recording each wave's outcomes as it ends (a run that
    /// dies loses at most one wave's records), `pace` apart at least. A wave that might
    /// still be in flight when the lease ends is not started: it and the rest go back to the
    /// queue unchanged, for the next run.
    fn send_in_waves(
        &self,
        env: &dyn Env,
        jobs: Vec<Job<'_>>,
        width: usize,
        pace: Option<Duration>,
        report: &mut RunReport,
    ) -> Result<(), crate::db::DbError> {
        let mut pending: VecDeque<Job<'_>> = jobs.into();
        while !pending.is_empty() {
            let wave = next_wave(&mut pending, width);
            let slowest = wave.iter().map(|j| j.request.timeout).max().unwrap_or_default();
            if Instant::now() + slowest + LEASE_MARGIN > self.lease_ends {
                let rest: Vec<uuid::Uuid> =
                    wave.iter().chain(pending.iter()).flat_map(|j| j.deliveries.iter().map(|d| d.id)).collect();
                report.released += rest.len();
                return outbox::release(self.db, &rest, self.now);
            }
            let started = Instant::now();
            self.send(env, wave, width, report)?;
            if let Some(pace) = pace
                && !pending.is_empty()
                && let Some(rest) = pace.checked_sub(started.elapsed())
            {
                env.http().sleep(rest);
            }
        }
        Ok(())
    }

    /// The request that delivers `row`, or why it cannot be made.
    fn single_job<'c>(&self, kind: MessageKind, channel: ChannelType, row: &'c Claimed) -> Result<Job<'c>, Outcome> {
        let refused = |reason: String| Outcome::Permanent { reason, disable: false };
        let lang = Self::lang(row);
        let links = self.links(row);
        let unsubscribe = links.as_ref().map(|l| l.unsubscribe.clone()).unwrap_or_default();
        let (request, via) = match channel {
            ChannelType::Telegram => {
                if !self.config.telegram_enabled() {
                    return Err(refused(
                        "Telegram is not configured (telegram_bot_token, telegram_bot_username)".into(),
                    ));
                }
                let rendered = render::render(kind, &row.payload, lang, self.site, links.as_ref()).map_err(refused)?;
                (providers::telegram_request(self.config, &row.recipient, &rendered.telegram), Via::Telegram)
            }
            ChannelType::Webhook | ChannelType::Mattermost if !self.config.webhook_target_allowed(&row.recipient) => {
                // The configuration changed since the channel was made: the platform would refuse.
                return Err(Outcome::Permanent {
                    reason: format!(
                        "the receiver's host is no longer allowed by webhook_allowed_hosts ({})",
                        self.config.webhook_allowed_hosts
                    ),
                    disable: true,
                });
            }
            ChannelType::Webhook => {
                let body = render::webhook_body(kind, &row.payload, self.site, &unsubscribe).map_err(refused)?;
                let secret = row.secret.clone().unwrap_or_default();
                let request = providers::webhook_request(
                    (&row.recipient, &secret),
                    kind.as_str(),
                    row.id,
                    &body,
                    (self.now.unix_timestamp(), self.config.webhook_timeout()),
                );
                (request, Via::Webhook)
            }
            ChannelType::Mattermost => {
                let rendered = render::render(kind, &row.payload, lang, self.site, links.as_ref()).map_err(refused)?;
                let request = providers::mattermost_request(
                    &row.recipient,
                    &rendered.markdown,
                    &self.site.title,
                    self.config.webhook_timeout(),
                );
                (request, Via::Mattermost)
            }
            ChannelType::Email => unreachable!("e-mail goes in batches"),
        };
        Ok(Job { request, deliveries: vec![row], via })
    }

    fn email_jobs<'c>(
        &self,
        rows: &[&'c Claimed],
        jobs: &mut Vec<Job<'c>>,
        report: &mut RunReport,
    ) -> Result<(), crate::db::DbError> {
        let Some(provider) = self.config.email_provider else {
            for row in rows {
                let outcome =
                    Outcome::Retry { reason: "e-mail is not configured (email_provider)".into(), after: None };
                self.fail(row, &outcome, report)?;
            }
            return Ok(());
        };
        let first = rows[0];
        let kind = MessageKind::parse(&first.kind).unwrap_or(MessageKind::IncidentUpdated);
        let has_links = self.links(first).is_some();
        let marks = has_links.then(providers::marks);
        let message = match render::render(kind, &first.payload, Self::lang(first), self.site, marks.as_ref()) {
            Ok(message) => message,
            Err(reason) => {
                for row in rows {
                    self.fail(row, &Outcome::Permanent { reason: reason.clone(), disable: false }, report)?;
                }
                return Ok(());
            }
        };
        for chunk in rows.chunks(providers::batch_limit(provider)) {
            let recipients = chunk
                .iter()
                .map(|r| Recipient { delivery: r.id, to: r.recipient.clone(), links: self.links(r) })
                .collect();
            let batch = EmailBatch { message: message.clone(), recipients };
            let request = providers::email_request(self.config, provider, &batch);
            jobs.push(Job { request, deliveries: chunk.to_vec(), via: Via::Email(provider) });
        }
        Ok(())
    }

    fn send(
        &self,
        env: &dyn Env,
        jobs: Vec<Job<'_>>,
        concurrency: usize,
        report: &mut RunReport,
    ) -> Result<(), crate::db::DbError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let (requests, carried): (Vec<OutRequest>, Vec<(Vec<&Claimed>, Via)>) =
            jobs.into_iter().map(|j| (j.request, (j.deliveries, j.via))).unzip();
        let responses = env.http().send_all(requests, concurrency);
        let mut sent = Vec::new();
        for ((deliveries, via), response) in carried.into_iter().zip(responses) {
            let outcomes = match via {
                Via::Email(provider) => providers::email_outcomes(provider, &response, deliveries.len()),
                Via::Telegram => vec![providers::telegram_outcome(&response)],
                Via::Webhook => vec![providers::webhook_outcome(&response, false)],
                Via::Mattermost => vec![providers::webhook_outcome(&response, true)],
            };
            for (row, outcome) in deliveries.into_iter().zip(outcomes) {
                if outcome == Outcome::Sent {
                    sent.push(row.id);
                } else {
                    self.fail(row, &outcome, report)?;
                    if matches!(via, Via::Webhook | Via::Mattermost) {
                        self.count_webhook_failure(row, report)?;
                    }
                }
            }
        }
        report.sent += sent.len();
        outbox::mark_sent(self.db, &sent, self.now)
    }

    fn fail(&self, row: &Claimed, outcome: &Outcome, report: &mut RunReport) -> Result<(), crate::db::DbError> {
        match outcome {
            Outcome::Sent => Ok(()),
            Outcome::Retry { reason, after } => {
                let next = self.now + backoff(row.attempts, *after);
                if outbox::mark_failed(self.db, row.id, reason, next, MAX_ATTEMPTS, self.now)? {
                    report.dead += 1;
                } else {
                    report.retried += 1;
                }
                Ok(())
            }
            Outcome::Permanent { reason, disable } => {
                outbox::finish(self.db, row.id, "dead", reason, self.now)?;
                report.dead += 1;
                if *disable && let Some(channel) = row.channel_id {
                    self.disable_channel(channel, reason, report)?;
                }
                Ok(())
            }
        }
    }

    fn count_webhook_failure(&self, row: &Claimed, report: &mut RunReport) -> Result<(), crate::db::DbError> {
        let Some(channel) = row.channel_id else { return Ok(()) };
        if outbox::count_channel_failure(self.db, channel)? == QUARANTINE_AFTER {
            let reason = format!("quarantined after {QUARANTINE_AFTER} consecutive failed deliveries");
            self.disable_channel(channel, &reason, report)?;
        }
        Ok(())
    }

    /// Disables a channel and tells its owner (on the account's e-mail), once.
    fn disable_channel(&self, channel: Uuid, reason: &str, report: &mut RunReport) -> Result<(), crate::db::DbError> {
        crate::repo::channels::disable(self.db, channel, reason, self.now)?;
        report.channels_disabled += 1;
        if let Some(owner) = crate::repo::channels::owner(self.db, channel)? {
            let payload = serde_json::json!({ "target": owner.target, "reason": reason, "channel_id": channel });
            let direct = Direct {
                kind: MessageKind::ChannelDisabled.as_str(),
                channel_type: "email",
                recipient: &owner.email,
                language: &owner.language,
                channel: None,
                payload,
            };
            outbox::queue_direct(self.db, &direct, self.now)?;
        }
        Ok(())
    }
}

/// Whom a job writes to: its channels (or addresses, for direct mail).
fn recipients<'a>(job: &'a Job<'_>) -> impl Iterator<Item = String> + 'a {
    job.deliveries.iter().map(|d| d.channel_id.map_or_else(|| d.recipient.clone(), |c| c.to_string()))
}

/// The next `width` jobs to send at once, taken in order, except that a job writing to a
/// recipient of an earlier job still waiting waits too: one recipient's messages are sent one
/// after the other, in the order they were queued (a window's start before its completion),
/// never side by side.
fn next_wave<'c>(pending: &mut VecDeque<Job<'c>>, width: usize) -> Vec<Job<'c>> {
    let mut wave = Vec::new();
    let mut in_wave: HashSet<String> = HashSet::new();
    let mut held_back: HashSet<String> = HashSet::new();
    let mut rest = VecDeque::new();
    while let Some(job) = pending.pop_front() {
        let whom: Vec<String> = recipients(&job).collect();
        if wave.len() < width && whom.iter().all(|r| !in_wave.contains(r) && !held_back.contains(r)) {
            in_wave.extend(whom);
            wave.push(job);
        } else {
            held_back.extend(whom);
            rest.push_back(job);
        }
    }
    *pending = rest;
    wave
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(channel: u128) -> Claimed {
        Claimed {
            id: Uuid::new_v4(),
            kind: "incident_created".into(),
            channel: "telegram".into(),
            channel_id: Some(Uuid::from_u128(channel)),
            recipient: channel.to_string(),
            language: "en".into(),
            message_id: None,
            payload: serde_json::json!({}),
            attempts: 1,
            secret: None,
            deliverable: true,
            orphaned: false,
        }
    }

    #[test]
    fn a_recipients_messages_go_one_after_the_other_in_order() {
        let rows: Vec<Claimed> = [1, 2, 1, 3, 4, 2, 5].into_iter().map(claimed).collect();
        let job = |row| Job {
            request: OutRequest::post_json(String::new(), &serde_json::json!({}), Duration::from_secs(1)),
            deliveries: vec![row],
            via: Via::Telegram,
        };
        let mut pending: VecDeque<Job<'_>> = rows.iter().map(job).collect();
        let mut waves = Vec::new();
        while !pending.is_empty() {
            let wave = next_wave(&mut pending, 3);
            waves.push(wave.iter().map(|j| j.deliveries[0].recipient.clone()).collect::<Vec<_>>());
        }
        // The second message to 1 waits for the first, and so does everything queued after it
        // for a recipient it holds back; each wave has distinct recipients and at most three.
        assert_eq!(waves, [vec!["1", "2", "3"], vec!["1", "4", "2"], vec!["5"]]);
    }

    #[test]
    fn back_off_doubles_with_jitter_and_honours_the_far_side() {
        for attempts in 1..=10 {
            let base = i128::from((30_i64 << (attempts - 1).min(7)).min(3600) * 1000);
            let delay = backoff(attempts, None).whole_milliseconds();
            assert!(
                delay >= base * 8 / 10 - 1 && delay <= base * 12 / 10 + 1,
                "attempt {attempts}: {delay} ms around {base}"
            );
        }
        assert_eq!(backoff(3, Some(Duration::from_secs(7))), time::Duration::seconds(7));
        assert_eq!(backoff(3, Some(Duration::ZERO)), time::Duration::seconds(1));
    }
}
