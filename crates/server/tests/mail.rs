//! Mail over SMTP to an in-process sink, and delivery failures shown to officials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::TestServer;
use scrutin_server::config::{SmtpConfig, SmtpSecurity};
use scrutin_server::storage::{ElectionState, Voter, blocking};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// A minimal SMTP server: accepts every command, hands each message to `tx`.
async fn smtp_sink(listener: tokio::net::TcpListener, tx: mpsc::UnboundedSender<String>) {
    while let Ok((sock, _)) = listener.accept().await {
        let tx = tx.clone();
        tokio::spawn(async move {
            let (r, mut w) = sock.into_split();
            let mut lines = BufReader::new(r).lines();
            w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            let mut message = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        tx.send(std::mem::take(&mut message)).unwrap();
                        w.write_all(b"250 OK queued\r\n").await.unwrap();
                    } else {
                        message.push_str(&line);
                        message.push('\n');
                    }
                    continue;
                }
                let cmd = line.to_ascii_uppercase();
                let reply: &[u8] = if cmd.starts_with("EHLO") {
                    b"250-sink\r\n250 8BITMIME\r\n"
                } else if cmd.starts_with("DATA") {
                    in_data = true;
                    b"354 end with .\r\n"
                } else if cmd.starts_with("QUIT") {
                    w.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 OK\r\n"
                };
                w.write_all(reply).await.unwrap();
            }
        });
    }
}

async fn server_with_smtp(port: u16) -> TestServer {
    let s = TestServer::start_with(
        |c| {
            c.mail.outbox = None;
            c.mail.smtp = Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port,
                security: SmtpSecurity::Plain,
                username: None,
                password: None,
                timeout_secs: 5,
            });
        },
        axum::Router::new(),
    )
    .await;
    s.election("e1", ElectionState::Open).await;
    blocking(&s.state.storage, |st| {
        st.add_voters(
            "e1",
            &[Voter {
                login: "alice".into(),
                email: "alice@example.org".into(),
                weight: 1,
                language: None,
            }],
        )
    })
    .await
    .unwrap();
    s
}

async fn mail_status(s: &TestServer) -> Value {
    let token = s.admin_token().await;
    s.client
        .get(s.url("/api/admin/elections/e1/mail-status"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn request_code(s: &TestServer) {
    let r = s
        .client
        .post(s.url("/api/elections/e1/login"))
        .json(&json!({"login": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn codes_go_through_smtp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(smtp_sink(listener, tx));
    let s = server_with_smtp(port).await;
    request_code(&s).await;
    let message = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(message.contains("To: alice@example.org"), "{message}");
    let code = message
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap();
    // wait for the status update after the relay accepted it
    let mut status = Value::Null;
    for _ in 0..50 {
        status = mail_status(&s).await;
        if status["counts"]["sent"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status["counts"],
        json!({"queued": 0, "sent": 1, "failed": 0})
    );
    let r = s
        .client
        .post(s.url("/api/elections/e1/verify-code"))
        .json(&json!({"login": "alice", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn failed_delivery_is_recorded_for_officials() {
    // a port with nobody listening
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = server_with_smtp(port).await;
    request_code(&s).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        status = mail_status(&s).await;
        if status["counts"]["failed"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status["counts"],
        json!({"queued": 0, "sent": 0, "failed": 1})
    );
    let failure = &status["recent_failures"][0];
    assert_eq!(failure["login"], "alice");
    assert!(!failure["error"].as_str().unwrap().is_empty());
}
