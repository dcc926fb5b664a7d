//! The few WebDriver commands the console test needs, spoken over HTTP to a
//! chromedriver the test starts (W3C WebDriver: sessions, navigation, elements, script,
//! screenshots).

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A chromedriver on a free port, killed on drop.
pub struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    /// Installs Chromium when missing (`scripts/chromium.sh`) and starts chromedriver.
    pub async fn start() -> ChromeDriver {
        let bin = super::installed("chromium.sh");
        let port = super::free_port();
        let mut child = Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(r) = reqwest::get(format!("{url}/status")).await {
                if r.status().is_success() {
                    return ChromeDriver { child, url };
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not start on port {port}");
    }

    /// A new headless browser session with a window of `width` × `height`.
    pub async fn session(&self, width: u32, height: u32) -> Session {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={width},{height}")]
            }
        }}});
        let http = reqwest::Client::new();
        let created = call(http.post(format!("{}/session", self.url)).json(&caps)).await;
        let id = created["sessionId"].as_str().expect("a session id").to_string();
        Session {
            http,
            base: format!("{}/session/{id}", self.url),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

async fn call(req: reqwest::RequestBuilder) -> Value {
    let response = req.send().await.expect("chromedriver answers");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON from chromedriver");
    assert!(status.is_success(), "WebDriver error {status}: {body}");
    body["value"].clone()
}

impl Session {
    async fn post(&self, path: &str, body: Value) -> Value {
        call(self.http.post(format!("{}{path}", self.base)).json(&body)).await
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        let element = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("an element reference")
            .to_string();
        self.post(&format!("/element/{element}/click"), json!({})).await;
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let shot = call(self.http.get(format!("{}/screenshot", self.base))).await;
        base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().expect("base64"))
            .expect("a PNG")
    }

    /// Ends the session (the browser exits).
    pub async fn close(self) {
        call(self.http.delete(&self.base)).await;
    }
}
