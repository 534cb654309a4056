//! The result page of ranked and graded questions: an election with an STV question and a
//! majority-judgment question, run to `result` and put on the server's board, shows its
//! rounds, winners, grade distribution and invalid ballots in English and French, and
//! serves the decrypted ballots as BLT (which parses back to the same ballots) and CSV; the
//! public view names the trustees that shuffled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use scrutin_election::count::blt;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::definition::ElectionDescription;
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::mix::CountResult;
use scrutin_election::verify::{NoProgress, verify_record};
use scrutin_server::protocol;
use scrutin_server::storage::{ElectionState, blocking};

const QUESTIONS: &str = r#"
title = "Ranked council"
threshold = 2

[[question]]
text = "Elect two"
answers = ["Ada", "Blaise", "Claude", "Dorothy"]
kind = "ranked"
method = "stv"
seats = 2

[[question]]
text = "Grade each proposal"
answers = ["North", "South"]
kind = "grades"
method = "majority-judgment"
grades = ["Excellent", "Good", "Poor"]
"#;

#[tokio::test]
async fn ranked_and_graded_counts_are_shown_and_ballots_downloadable() {
    let (trustees, authority) = demo::role_keys(&["A", "B", "C"], b"ranked result page");
    let text = format!("{QUESTIONS}{}", demo::roles_toml(&trustees, &authority));
    let questions = ElectionDescription::from_toml(&text).unwrap().questions;
    let outcome = demo::run(
        &DemoOptions {
            voters: 6,
            trustees: 3,
            threshold: 2,
            questions,
            ..Default::default()
        },
        &mut SeededRng::new(b"ranked result page"),
    )
    .unwrap();
    let st = verify_record(outcome.record.as_bytes(), &NoProgress)
        .unwrap()
        .state;
    let result = st.result.clone().unwrap();
    let mixed = result.mixed.clone().unwrap();
    let CountResult::Stv(stv) = &mixed[0].count else {
        panic!("first question is STV")
    };
    let CountResult::MajorityJudgment(mj) = &mixed[1].count else {
        panic!("second question is majority judgment")
    };

    let server = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    server.election("ranked", ElectionState::Tallied).await;
    let lines: Vec<String> = outcome.record.lines().map(str::to_owned).collect();
    blocking(&server.state.storage, move |s| {
        s.append_events("ranked", 0, &lines, &[]).map(|_| ())
    })
    .await
    .unwrap();

    let def = st.definition.clone().unwrap();
    let answers = &def.questions[0].answers;
    let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../web/i18n/en/public.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for (lang, rounds, invalid, elected) in [
        (
            "en",
            "the count round by round",
            "counted as invalid.",
            "Elected",
        ),
        ("fr", "le dépouillement tour par tour", "comme nul", "Élus"),
    ] {
        let r = server
            .client
            .get(server.url(&format!("/elections/ranked/result?lang={lang}")))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let page = r.text().await.unwrap();
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(rounds), "{lang}: rounds caption");
        assert!(page.contains(invalid), "{lang}: invalid ballots shown");
        assert!(page.contains(elected), "{lang}: elected shown");
        // One table row per STV stage, and the quota.
        for i in 1..=stv.stages.len() {
            assert!(
                page.contains(&format!("data-round=\"{i}\"")),
                "{lang}: round {i}"
            );
        }
        assert!(page.contains(&stv.quota.to_string()), "{lang}: quota");
        let winners: Vec<&str> = stv
            .elected
            .iter()
            .map(|c| answers[*c as usize].as_str())
            .collect();
        assert!(
            page.contains(&format!("id=\"q1-elected\">{}<", winners.join(", "))),
            "{lang}: STV winners"
        );
        assert!(
            page.contains("id=\"q1-first\""),
            "{lang}: first-round chart"
        );
        // Majority judgment: the distribution, the stacked chart and the winners.
        assert!(page.contains("id=\"q2-distribution\""));
        assert!(page.contains("id=\"q2-grades\""));
        let mj_answers = &def.questions[1].answers;
        let mj_winners: Vec<&str> = mj.order[0]
            .iter()
            .map(|c| mj_answers[*c as usize].as_str())
            .collect();
        assert!(
            page.contains(&format!("id=\"q2-elected\">{}<", mj_winners.join(", "))),
            "{lang}: MJ winners"
        );
        assert!(page.contains("/api/elections/ranked/result/1/ballots.blt"));
        assert!(page.contains("/api/elections/ranked/result/2/ballots.csv"));
        assert!(!page.contains("/api/elections/ranked/result/2/ballots.blt"));
        for key in keys.keys() {
            assert!(!page.contains(key.as_str()), "{lang}: no text for {key}");
        }
    }

    // The BLT parses back to the valid ballots of the record, in order.
    let r = server
        .client
        .get(server.url("/api/elections/ranked/result/1/ballots.blt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let parsed = blt::parse(&r.text().await.unwrap()).unwrap();
    assert_eq!(parsed.candidates, 4);
    assert_eq!(parsed.seats, 2);
    assert_eq!(&parsed.names, answers);
    let expected = scrutin_server::web::mixed::valid_ranked(&mixed[0]);
    let expand = |b: &[scrutin_election::count::Counted<Vec<Option<u32>>>]| {
        b.iter()
            .flat_map(|c| std::iter::repeat_n(c.ballot.clone(), c.count as usize))
            .collect::<Vec<_>>()
    };
    assert_eq!(expand(&parsed.ballots), expand(&expected));
    assert_eq!(expected.len() as u64, stv.valid_ballots);

    // The CSV has a header and one line per decrypted row; the BLT of a graded question
    // and an unknown question are refused.
    let r = server
        .client
        .get(server.url("/api/elections/ranked/result/2/ballots.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + mixed[1].ballots.len());
    assert_eq!(csv.lines().next(), Some("\"North\",\"South\""));
    // The result's CSV: the ranked and graded questions with their outcome and a link to
    // their ballots; the report states the same outcome.
    let r = server
        .client
        .get(server.url("/api/elections/ranked/result.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let table = r.text().await.unwrap();
    let elected = |c: &u32| answers[*c as usize].clone();
    for c in stv.elected.iter().map(elected) {
        assert!(
            table.contains(&format!(
                "\"1\",\"{}\",\"answer\",\"{c}\",\"\",\"elected\",\"http",
                def.questions[0].text
            )),
            "{c} elected: {table}"
        );
    }
    assert!(table.contains("/api/elections/ranked/result/1/ballots.blt\""));
    assert!(table.contains("/api/elections/ranked/result/2/ballots.csv\",\"\""));
    assert!(table.contains(&format!(
        "\"1\",\"{}\",\"valid\",\"\",\"{}\"",
        def.questions[0].text, stv.valid_ballots
    )));
    let report = server
        .client
        .get(server.url("/elections/ranked/report"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let names: Vec<String> = stv.elected.iter().map(elected).collect();
    assert!(
        report.contains(&format!("data-field=\"elected\">{}</dd>", names.join(", "))),
        "{report}"
    );
    for path in [
        "2/ballots.blt",
        "3/ballots.csv",
        "0/ballots.csv",
        "x/ballots.csv",
    ] {
        let r = server
            .client
            .get(server.url(&format!("/api/elections/ranked/result/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }

    // The public view says which trustees shuffled (§11.12): the trustee page counts them.
    let view: serde_json::Value = server
        .client
        .get(server.url("/api/elections/ranked"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shuffled: Vec<u64> = view["trustees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["shuffled"] == serde_json::Value::Bool(true))
        .map(|t| t["index"].as_u64().unwrap())
        .collect();
    let mut on_record: Vec<u64> = st.shuffles.iter().map(|s| u64::from(s.trustee)).collect();
    on_record.sort_unstable();
    assert!(on_record.len() >= 2, "the demo shuffles at least k times");
    assert_eq!(shuffled, on_record);
}
