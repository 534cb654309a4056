//! Several administrators: a server administrator creates officials; each official sees
//! and acts only on the elections they created; the audit log says who did what.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN, ADMIN_PASSWORD, TestServer, json_error};
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_server::protocol;
use serde_json::{Value, json};

const PASSWORD: &str = "a long official password";

fn description(id: &str) -> String {
    let (trustees, authority) = role_keys(&["Alice"], id.as_bytes());
    format!(
        "id = \"{id}\"\ntitle = \"{id}\"\nthreshold = 1\n\n[[question]]\ntext = \"?\"\nanswers = [\"a\", \"b\"]\nmin = 0\nmax = 1\n{}",
        roles_toml(&trustees, &authority)
    )
}

async fn login(s: &TestServer, name: &str, password: &str) -> String {
    let r = s
        .client
        .post(s.url("/api/admin/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{name}");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = s
        .client
        .request(method.parse().unwrap(), s.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn officials_act_only_on_their_elections() {
    let s = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    let root = login(&s, ADMIN, ADMIN_PASSWORD).await;
    for name in ["olga", "oscar"] {
        let r = call(
            &s,
            "POST",
            "/api/admin/accounts",
            &root,
            Some(json!({"username": name, "password": PASSWORD, "role": "official"})),
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let r = call(
        &s,
        "POST",
        "/api/admin/accounts",
        &root,
        Some(json!({"username": "olga", "password": PASSWORD, "role": "official"})),
    )
    .await;
    assert_eq!(json_error(r).await.1, "account_exists");
    let olga = login(&s, "olga", PASSWORD).await;
    let oscar = login(&s, "oscar", PASSWORD).await;
    for (token, id) in [(&olga, "olga-vote"), (&oscar, "oscar-vote")] {
        let r = call(
            &s,
            "POST",
            "/api/admin/elections",
            token,
            Some(json!({"description": description(id)})),
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let ids = |v: Value| -> Vec<String> {
        v["elections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = |token: String| {
        let s = &s;
        async move {
            call(s, "GET", "/api/admin/elections", &token, None)
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(ids(listed(olga.clone()).await), ["olga-vote"]);
    assert_eq!(ids(listed(oscar.clone()).await), ["oscar-vote"]);
    assert_eq!(ids(listed(root.clone()).await).len(), 2);

    // Oscar's election does not exist for Olga, whatever she tries.
    for (method, path) in [
        ("GET", "/api/admin/elections/oscar-vote"),
        ("POST", "/api/admin/elections/oscar-vote/roles"),
        ("POST", "/api/admin/elections/oscar-vote/open"),
        ("GET", "/api/admin/elections/oscar-vote/audit-log"),
        ("GET", "/api/admin/elections/oscar-vote/mail-status"),
        ("GET", "/api/admin/elections/oscar-vote/roll"),
        ("GET", "/api/admin/elections/oscar-vote/roll.csv"),
        ("DELETE", "/api/admin/elections/oscar-vote/roll/someone"),
    ] {
        let (status, code, _) = json_error(call(&s, method, path, &olga, None).await).await;
        assert_eq!(
            (status, code.as_str()),
            (404, "not_found"),
            "{method} {path}"
        );
    }
    let r = s
        .client
        .post(s.url("/api/admin/elections/oscar-vote/voters"))
        .bearer_auth(&olga)
        .header("content-type", "text/csv")
        .body("mallory,mallory@example.org\n")
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 404);
    // Her own: yes. The server administrator: everything.
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/admin/elections/olga-vote/roles",
            &olga,
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        call(&s, "GET", "/api/admin/elections/oscar-vote", &root, None)
            .await
            .status(),
        200
    );
    // Accounts and the server-wide log are the server administrator's.
    let r = call(
        &s,
        "POST",
        "/api/admin/accounts",
        &olga,
        Some(json!({"username": "eve", "password": PASSWORD, "role": "server"})),
    )
    .await;
    assert_eq!(json_error(r).await.0, 403);
    assert_eq!(
        json_error(call(&s, "GET", "/api/admin/audit-log", &olga, None).await)
            .await
            .0,
        403
    );
    let accounts: Value = call(&s, "GET", "/api/admin/accounts", &root, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        accounts["accounts"],
        json!([
            {"username": "official", "role": "server"},
            {"username": "olga", "role": "official"},
            {"username": "oscar", "role": "official"},
        ])
    );
    // The election's audit log says who did what.
    let log: Value = call(
        &s,
        "GET",
        "/api/admin/elections/olga-vote/audit-log",
        &olga,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let actions: Vec<(String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("olga".into(), "election.create".into())),
        "{actions:?}"
    );
    assert!(
        actions.iter().all(|(actor, _)| actor == "olga"),
        "{actions:?}"
    );
}
