//! The first run (`make up`) on a machine where PostgreSQL is installed but no server answers:
//! it starts a private server, serves the app on it, and stops it when it stops. (A port where
//! nothing listens stands in for "no server answers", so the machine's own server keeps serving
//! the other tests.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::repo_root;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn pg_answers(port: u16) -> bool {
    Command::new("pg_isready")
        .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_up_starts_a_private_postgresql_when_none_answers_and_stops_it_with_the_app() {
    let (nothing_there, listen) = (free_port(), format!("127.0.0.1:{}", free_port()));
    let data = std::env::temp_dir().join(format!("statuspage-first-run-{}", crate::support::unique()));
    let mut up = Command::new("bash")
        .arg(repo_root().join("scripts/up.sh"))
        .env("PGPORT", nothing_there.to_string())
        .env("LISTEN", &listen)
        .env("STATUSPAGE_PG_DATA", &data)
        .env_remove("SPIN_VARIABLE_DB_URL")
        .env_remove("SPIN_VARIABLE_DB_HOST")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running scripts/up.sh");
    let stderr = BufReader::new(up.stderr.take().expect("stderr"));
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut said = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !said.iter().any(|l: &String| l.contains("ready at")) {
        let line = lines_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_else(|_| {
            let _ = up.kill();
            panic!("make up did not get ready: {said:#?}")
        });
        said.push(line);
    }
    let started = said.iter().find(|l| l.contains("started a private PostgreSQL on 127.0.0.1:")).expect("it says so");
    let port: u16 = started
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("its port");
    assert!(pg_answers(port), "the private server answers");
    let services: serde_json::Value =
        reqwest::get(format!("http://{listen}/api/v1/services")).await.expect("the app").json().await.expect("json");
    assert_eq!(services["data"].as_array().map(Vec::len), Some(4), "migrated and seeded: {services}");

    Command::new("kill").args(["-TERM", &up.id().to_string()]).status().expect("kill");
    let status = up.wait().expect("exit");
    while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(5)) {
        said.push(line);
    }
    assert!(said.iter().any(|l| l.contains("stopped the private PostgreSQL")), "{said:#?} ({status})");
    assert!(!pg_answers(port), "stopped with the app");
    let _ = std::fs::remove_dir_all(&data);
}
