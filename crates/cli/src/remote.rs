//! A small blocking client of a scrutin server, for the roles that run against its URL:
//! every command downloads the record, verifies it locally (the server is not trusted),
//! computes its event with `ceremony` and posts only public data. A request refused with
//! 503 and `Retry-After` because it was not done (the node is busy, its view of the board
//! was behind another node's, its database is failing over) is sent again after the wait.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use scrutin_election::record::Event;
use scrutin_election::verify::RecordState;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The longest `Retry-After` waited for before sending a refused request again (seconds).
const MAX_WAIT: u64 = 10;
/// Downloads of the record tried after a network error, the first included.
const RECORD_TRIES: u32 = 5;
/// How many times a request refused with 503 and `Retry-After` is sent again.
const MAX_WAITS: u32 = 20;

/// A connection to one election on a server.
pub struct Remote {
    base: String,
    election: String,
    token: Option<String>,
    http: reqwest::blocking::Client,
}

impl Remote {
    /// A client for `election` on the server at `server` (`https://…` or `http://…`).
    pub fn new(server: &str, election: &str, token: Option<String>) -> Result<Self> {
        if !(server.starts_with("https://") || server.starts_with("http://")) {
            bail!("--server must be an http:// or https:// URL");
        }
        // No pooled connections: the server closes idle ones, and a command makes few
        // requests, so a fresh connection each time avoids reusing one being closed.
        let http = reqwest::blocking::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(600))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Remote {
            base: server.trim_end_matches('/').to_owned(),
            election: election.to_owned(),
            token,
            http,
        })
    }

    /// The server's URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The election's id.
    pub fn election(&self) -> &str {
        &self.election
    }

    /// Uses `token` as bearer from now on.
    pub fn set_token(&mut self, token: String) {
        self.token = Some(token);
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/elections/{}{path}", self.base, self.election)
    }

    fn send(&self, req: reqwest::blocking::RequestBuilder) -> Result<reqwest::blocking::Response> {
        let mut req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let mut waits = 0;
        let (status, text) = loop {
            let retry = req.try_clone();
            let resp = req.send().context("cannot reach the server")?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = resp.text().unwrap_or_default();
            // Not done, and to be tried again shortly: another node of the same database
            // appended first (`board_moved`), the node is saturated (`overloaded`), its
            // database is failing over (`unavailable`), or the ballot is on the board and the
            // node is reading its state again (`state_reloading`: the retry gets the receipt).
            // A request that timed out may have been done, so it is not sent again.
            let code = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned));
            let again = matches!(
                code.as_deref(),
                Some("board_moved" | "overloaded" | "unavailable" | "state_reloading")
            );
            match (status.as_u16(), retry, retry_after) {
                (503, Some(r), Some(secs)) if again && secs <= MAX_WAIT && waits < MAX_WAITS => {
                    waits += 1;
                    std::thread::sleep(Duration::from_secs(secs.max(1)));
                    req = r;
                }
                _ => break (status, text),
            }
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => bail!(
                "the server refused ({}, {}): {}",
                status.as_u16(),
                v["error"].as_str().unwrap_or("error"),
                v["message"].as_str().unwrap_or("")
            ),
            Err(_) => bail!("the server answered {status}"),
        }
    }

    /// GET a JSON document under the election's URL.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.http.get(self.url(path)))?
            .json()
            .context("unexpected answer from the server")
    }

    /// POST a JSON body under the election's URL.
    pub fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.http.post(self.url(path)).json(body))?
            .json()
            .context("unexpected answer from the server")
    }

    /// POST a JSON body, ignoring the answer's body.
    pub fn post_only<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<()> {
        self.send(self.http.post(self.url(path)).json(body))?;
        Ok(())
    }

    /// POST a JSON body to `path` from the server's root (`/api/admin/…`), with this
    /// client's token.
    pub fn post_root<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))?
            .json()
            .context("unexpected answer from the server")
    }

    /// POST a CSV text to `path` from the server's root, with this client's token.
    pub fn post_csv_root<T: DeserializeOwned>(&self, path: &str, csv: String) -> Result<T> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(csv);
        self.send(req)?
            .json()
            .context("unexpected answer from the server")
    }

    /// Downloads the whole record. A download that fails on the network (cut short by a
    /// node restarting) is started again, up to [`RECORD_TRIES`] times in all.
    pub fn record(&self) -> Result<Vec<u8>> {
        let mut tries = 1;
        loop {
            let got = self
                .send(self.http.get(self.url("/record")))
                .and_then(|r| r.bytes().context("cannot download the record"));
            match got {
                Ok(bytes) => return Ok(bytes.to_vec()),
                Err(e) if tries < RECORD_TRIES && e.chain().any(|c| c.is::<reqwest::Error>()) => {
                    tracing::debug!("record download failed ({e:#}); trying again");
                    std::thread::sleep(Duration::from_millis(200 << tries));
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Downloads the record and verifies it here; the server is not trusted.
    pub fn verified_state(&self) -> Result<RecordState> {
        let record = self.record()?;
        RecordState::from_record(&record)
            .map_err(|e| anyhow::anyhow!("the server's record does not verify: {e}"))
    }

    /// Posts a trustee's events, appended together as consecutive lines (the parts of a
    /// long shuffle or share, then the event: spec §11.15).
    pub fn post_trustee_events(&self, events: &[Event]) -> Result<serde_json::Value> {
        let mut list = Vec::with_capacity(events.len());
        for e in events {
            let body: serde_json::Value = serde_json::from_str(&e.body_json()?)?;
            list.push(serde_json::json!({"type": e.kind(), "body": body}));
        }
        match <[serde_json::Value; 1]>::try_from(list) {
            Ok([one]) => self.post("/trustee/events", &one),
            Err(list) => self.post("/trustee/events", &serde_json::json!({ "events": list })),
        }
    }

    /// The trustee number of this client's token.
    pub fn trustee_index(&self) -> Result<u32> {
        let who: serde_json::Value = self.get("/role")?;
        match (who["role"].as_str(), who["index"].as_u64()) {
            (Some("trustee"), Some(i)) => u32::try_from(i).context("bad trustee number"),
            _ => bail!("this token is not a trustee's token for this election"),
        }
    }
}
