//! What runs without anyone asking: planned maintenance moving through its window
//! ([`maintenance`]) and the daily clean-up and roll-ups ([`housekeeping`]). The scheduler's
//! tick calls them with its time; each step runs in its own transaction through the same use
//! cases as the API, with [`crate::actor::Actor::Scheduler`] as the actor.

pub mod housekeeping;
pub mod maintenance;
