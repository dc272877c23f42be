//! The `scheduler` component of the Spin cron trigger (world `fermyon:spin-cron@2.0.0`, WIT
//! vendored in `wit/spin-cron`). Each tick runs `statuspage_core::scheduler::tick` at the
//! tick's time; an `Err` is logged by the trigger and the schedule goes on.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

wit_bindgen::generate!({
    world: "spin-cron",
    path: "../../wit/spin-cron",
});

use statuspage_core::spin_http::SpinEnv;

struct Scheduler;

impl Guest for Scheduler {
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        run(metadata.timestamp).map_err(|message| {
            statuspage_core::log::event("error", "scheduler", &message, serde_json::json!({}));
            Error::Other(message)
        })
    }
}

fn run(timestamp: u64) -> Result<(), String> {
    let at = statuspage_core::time::from_unix_seconds(timestamp)?;
    let env = SpinEnv::default();
    let report = statuspage_core::scheduler::tick(&env, at)?;
    let fields = serde_json::to_value(&report).unwrap_or_default();
    statuspage_core::log::event("info", "scheduler", "tick done", fields);
    Ok(())
}

export!(Scheduler);
