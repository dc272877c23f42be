//! Housekeeping (to come in this module): expired rows removed, delivered outbox rows pruned,
//! daily uptime roll-ups.
