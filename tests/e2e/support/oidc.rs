//! A real OpenID provider for the single sign-on tests: `tests/oidc/provider.mjs` (the certified
//! `oidc-provider` package) in a Node.js process on 127.0.0.1, stopped when dropped; and a
//! browser-like walk through the sign-in (redirects followed by hand, cookies kept).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{TestApp, TestResponse, repo_root};

/// Where the provider sends people back (the app's `oidc_redirect_url` in the tests): a name
/// that resolves nowhere, so the walk stops there and hands the query to the app itself.
pub const REDIRECT_URL: &str = "http://statuspage.test/api/v1/auth/oidc/callback";

/// The provider process.
pub struct OidcProvider {
    pub issuer: String,
    child: Child,
    client: reqwest::Client,
}

impl OidcProvider {
    /// Starts one and waits until it listens.
    pub fn start() -> Self {
        let dir = repo_root().join("tests/oidc");
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .current_dir(&dir)
            .env("REDIRECT_URI", REDIRECT_URL)
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(std::env::temp_dir().join("statuspage-oidc-provider.log"))
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            )
            .spawn()
            .expect("starting node tests/oidc/provider.mjs (make test installs its packages)");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("the provider's first line");
        // The provider goes on writing notices: keep reading, or its writes fail (EPIPE).
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("provider said {line:?}: {e}"));
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { issuer, child, client }
    }

    /// `oidc_allowed_hosts` for it: its loopback port.
    pub fn allowed_hosts(&self) -> String {
        self.issuer.clone()
    }

    async fn control(&self, path: &str, body: Value) {
        let response = self.client.post(format!("{}{path}", self.issuer)).json(&body).send().await.expect("control");
        assert!(response.status().is_success(), "{path}: {}", response.status());
    }

    /// The person who signs in next.
    pub async fn next_login(&self, account: Value) {
        self.control("/test/next-login", account).await;
    }

    /// The next sign-in is refused by the person.
    pub async fn deny_next(&self) {
        self.control("/test/deny", Value::Null).await;
    }

    /// The next ID token is forged: `tampered`, `audience` or `expired`.
    pub async fn forge_next(&self, kind: &str) {
        self.control("/test/mutate", serde_json::json!({ "kind": kind })).await;
    }

    /// The provider signs with a new key from now on.
    pub async fn rotate_keys(&self) {
        self.control("/test/rotate", Value::Null).await;
    }

    /// How often its key set was fetched.
    pub async fn jwks_fetches(&self) -> i64 {
        let stats: Value = self
            .client
            .get(format!("{}/test/stats", self.issuer))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("json");
        stats["jwks_fetches"].as_i64().expect("count")
    }

    /// Walks the sign-in as a browser does: the app's login redirect, the provider's own
    /// redirects (with its cookies), until the provider sends the person back; answers the
    /// query string the callback receives.
    pub async fn authorize(&self, app: &TestApp) -> String {
        let login = app.send(self.client.get(format!("{}/api/v1/auth/oidc/login", app.address))).await;
        assert_eq!(login.status, 302, "{}", login.text());
        let mut location = login.header("location").expect("a location").to_owned();
        assert!(location.starts_with(&self.issuer), "to the provider: {location}");
        let mut cookies: Vec<(String, String)> = Vec::new();
        for _ in 0..10 {
            if let Some(query) = location.strip_prefix(&format!("{REDIRECT_URL}?")) {
                return query.to_owned();
            }
            let url = if location.starts_with('/') { format!("{}{location}", self.issuer) } else { location.clone() };
            let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            let response = self.client.get(&url).header("cookie", cookie).send().await.expect("provider");
            for set in response.headers().get_all("set-cookie") {
                let pair = set.to_str().unwrap_or_default().split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    cookies.retain(|(n, _)| n != name);
                    cookies.push((name.to_owned(), value.to_owned()));
                }
            }
            let status = response.status();
            location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("the provider answered {status} without a redirect"));
        }
        panic!("too many redirects")
    }

    /// The whole sign-in: answers the callback's response.
    pub async fn sign_in(&self, app: &TestApp) -> TestResponse {
        let query = self.authorize(app).await;
        app.get(&format!("/api/v1/auth/oidc/callback?{query}")).await
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
