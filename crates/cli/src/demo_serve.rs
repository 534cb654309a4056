//! `scrutin demo --serve`: a server with an election ready for voting. The administrator,
//! trustee and credential-authority steps go through the same server functions as the
//! HTTP API (`scrutin_server::protocol`), with the trustees' events computed by `ceremony`
//! exactly as `scrutin trustee … --server` computes them.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use scrutin_election::ceremony;
use scrutin_election::credential;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::{Question, QuestionChoice};
use scrutin_election::demo::DemoOptions;
use scrutin_election::record::Event;
use scrutin_election::roles::{Role, RoleKey, Signed};
use scrutin_server::storage::{StorageError, Voter, blocking};
use scrutin_server::{AppState, ServerConfig, auth, protocol};
use serde::Serialize;

use crate::demo::DemoArgs;
use crate::mailing::PrivateCredential;
use crate::record_file::{read_small, write_secret};

/// An election description (the TOML of spec §8) naming its role holders.
#[derive(Serialize)]
pub struct Description<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub threshold: u32,
    pub trustee: Vec<scrutin_election::definition::RoleHolder>,
    pub authority: scrutin_election::definition::RoleHolder,
    pub question: &'a [Question],
}

fn api(e: scrutin_server::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

async fn post(app: &AppState, id: &str, trustee: u32, event: &Event) -> Result<()> {
    let body: serde_json::Value = serde_json::from_str(&event.body_json()?)?;
    protocol::post_trustee_event(app, id, trustee, event.kind(), &body)
        .await
        .map_err(api)?;
    Ok(())
}

/// A choices file (§10.1 `choices`) valid for `questions`: per question, the fewest
/// answers its rules allow (at least one), each as high as it may go; blank if that is
/// not a valid choice.
fn example_choices(questions: &[Question]) -> String {
    let choices: Vec<QuestionChoice> = questions
        .iter()
        .enumerate()
        .map(|(n, q)| {
            let mut left = q.min.max(1).min(q.max).min(q.max_sum());
            let values: Vec<u64> = q
                .answers
                .iter()
                .map(|_| {
                    let v = left.min(q.max_per_answer);
                    left -= v;
                    v
                })
                .collect();
            let choice = QuestionChoice::Values(values);
            match choice.validate(q, n + 1) {
                Ok(()) => choice,
                Err(_) => QuestionChoice::blank(),
            }
        })
        .collect();
    serde_json::to_string(&choices).unwrap_or_default()
}

pub fn run(args: &DemoArgs) -> Result<()> {
    if args.voters == 0 || args.voters > 100_000 {
        bail!("--voters must be 1 to 100000 with --serve");
    }
    let questions: Vec<Question> = match &args.questions {
        Some(path) => crate::demo::questions_of(&read_small(path, 1 << 20)?)?,
        None => DemoOptions::default_questions(),
    };
    // Each role's key, as each would draw it on its own machine (§8.6).
    let trustee_keys: Vec<RoleKey> = (1..=args.trustees)
        .map(|i| RoleKey::generate(Role::Trustee, &format!("Trustee {i}"), &mut os_rng()))
        .collect();
    let authority_key = RoleKey::generate(Role::Authority, "Credential authority", &mut os_rng());
    let toml = toml::to_string(&Description {
        title: "scrutin demonstration election",
        description: "A demonstration election started by scrutin demo --serve.",
        threshold: args.threshold,
        trustee: trustee_keys.iter().map(RoleKey::holder).collect(),
        authority: authority_key.holder(),
        question: &questions,
    })?;
    let data = match &args.data {
        Some(d) => d.clone(),
        None => {
            let mut b = [0u8; 6];
            getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("random generator: {e}"))?;
            std::env::temp_dir().join(format!("scrutin-demo-{}", hex::encode(b)))
        }
    };
    if data.join("board.sqlite").exists() {
        bail!(
            "{} already holds a server's data; give a new --data folder",
            data.display()
        );
    }
    let mut config = ServerConfig {
        data_dir: data.clone(),
        database: args.database.clone(),
        listen: args.listen,
        public_url: format!("http://{}", args.listen),
        ..ServerConfig::default()
    };
    config.mail.outbox = Some(data.join("outbox"));
    config.web_dir = args.web_dir.clone();
    config.validate()?;
    crate::serve::init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = AppState::open(config.clone())?;
        let password = {
            let mut b = [0u8; 12];
            getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("random generator: {e}"))?;
            hex::encode(b)
        };
        let pw = password.clone();
        blocking(&app.storage, move |s| {
            auth::create_admin(s, "admin", &pw).map_err(|e| StorageError::Backend(e.to_string()))
        })
        .await?;
        let meta = protocol::create_election(&app, "admin", toml, None, None)
            .await
            .map_err(api)?;
        let id = meta.id.clone();
        let voters: Vec<Voter> = (1..=args.voters)
            .map(|i| Voter {
                login: format!("voter{i}"),
                email: format!("voter{i}@example.org"),
                weight: 1 + (i as u64 - 1) % args.weights.max(1),
                language: None,
            })
            .collect();
        let (eid, list) = (id.clone(), voters.clone());
        blocking(&app.storage, move |s| s.add_voters(&eid, &list)).await?;
        let tokens = protocol::issue_role_tokens(&app, "admin", &id)
            .await
            .map_err(api)?;
        write_secret(
            &data.join("role-tokens.json"),
            &serde_json::to_string_pretty(&tokens)?,
        )?;

        // Key generation: three rounds, each trustee acting on the verified state.
        let mut secrets = Vec::new();
        for (i, key) in trustee_keys.iter().enumerate() {
            let (s, e) = {
                let locked = app.elections.lock(&app, &id).await.map_err(api)?;
                ceremony::trustee_commit(locked.state().map_err(api)?, key, &mut os_rng())?
            };
            post(&app, &id, i as u32 + 1, &e).await?;
            secrets.push(s);
        }
        for round in 0..2 {
            for s in &secrets {
                let e = {
                    let locked = app.elections.lock(&app, &id).await.map_err(api)?;
                    let st = locked.state().map_err(api)?;
                    if round == 0 {
                        ceremony::trustee_deal(st, s, &mut os_rng())?
                    } else {
                        ceremony::trustee_check(st, s, &mut os_rng())?
                    }
                };
                post(&app, &id, s.dkg.index, &e).await?;
            }
        }

        // Credentials, as the credential authority makes them.
        let named: Vec<(String, u64)> = voters.iter().map(|v| (v.login.clone(), v.weight)).collect();
        let (issued, public) = credential::issue(&id, &named, &mut os_rng())?;
        let context = {
            let locked = app.elections.lock(&app, &id).await.map_err(api)?;
            locked.state().map_err(api)?.election_hash
        };
        let signed = Signed::sign(public, "credentials", &context, &authority_key, &mut os_rng())?;
        protocol::post_credentials(&app, &id, signed)
            .await
            .map_err(api)?;
        write_secret(
            &data.join("authority-key.json"),
            &serde_json::to_string_pretty(&authority_key)?,
        )?;
        // The private file in the one format of the credential authority's files (§9.4),
        // which `scrutin credentials mail` reads.
        let kept: Vec<PrivateCredential> = voters
            .iter()
            .zip(&issued)
            .map(|(v, c)| PrivateCredential {
                login: v.login.clone(),
                email: v.email.clone(),
                weight: v.weight,
                credential: c.credential.clone(),
                language: None,
            })
            .collect();
        write_secret(
            &data.join("credentials.json"),
            &serde_json::to_string_pretty(&kept)?,
        )?;
        for s in &secrets {
            let path: PathBuf = data.join(format!("trustee{}.json", s.dkg.index));
            write_secret(&path, &serde_json::to_string_pretty(s)?)?;
        }
        protocol::open(&app, "admin", &id).await.map_err(api)?;

        crate::serve::spawn_background(&app);
        let server = scrutin_server::start(&config, crate::serve::app(&app)).await?;
        let url = format!("http://{}", server.local_addr());
        println!("scrutin demo server: {url}");
        println!("Data folder: {}", data.display());
        println!("Election {id} is open. Vote in a browser: {url}/elections/{id}");
        println!("Public board: {url}/elections/{id}/board   Officials: {url}/admin");
        println!("Administrator: admin / {password}");
        println!("Voters (all {} credentials are in {}):", issued.len(), data.join("credentials.json").display());
        for c in kept.iter().take(5) {
            println!(
                "  login {:<10} credential {}{}",
                c.login,
                c.credential,
                if c.weight > 1 { format!(" (weight {})", c.weight) } else { String::new() }
            );
        }
        println!(
            "One-time login codes (and ballot confirmations) are written to {} (dry-run outbox).",
            data.join("outbox").display()
        );
        println!("Vote:    echo '{}' > choices.json", example_choices(&questions));
        println!(
            "         scrutin ballot cast --server {url} --election {id} --login voter1 --credential {} --choices choices.json",
            issued.first().map(|c| c.credential.as_str()).unwrap_or("…")
        );
        println!("Verify:  curl -s {url}/api/elections/{id}/record > record.jsonl && scrutin verify record.jsonl");
        println!(
            "Trustee secrets and tokens are in {0}/trustee*.json and {0}/role-tokens.json (for `scrutin trustee decrypt --server …`).",
            data.display()
        );
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        server
            .shutdown(std::time::Duration::from_secs(5))
            .await
            .context("shutdown")?;
        Ok::<(), anyhow::Error>(())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_example_choices_follow_the_questions() {
        assert_eq!(
            example_choices(&DemoOptions::default_questions()),
            "[[1,0,0],[1,0,0,0,0]]"
        );
        let toml = r#"
            [[question]]
            text = "Pick two"
            answers = ["a", "b", "c", "d"]
            min = 2
            max = 2
            [[question]]
            text = "Scores"
            answers = ["x", "y"]
            min = 5
            max = 6
            max_per_answer = 3
            [[question]]
            text = "Nothing to choose but blank"
            answers = ["z"]
            min = 0
            max = 0
            blank = true
        "#;
        #[derive(serde::Deserialize)]
        struct Questions {
            question: Vec<Question>,
        }
        let questions = toml::from_str::<Questions>(toml).unwrap().question;
        let example = example_choices(&questions);
        assert_eq!(example, "[[1,1,0,0],[3,2],[0]]");
        let choices: Vec<QuestionChoice> = serde_json::from_str(&example).unwrap();
        for (n, (q, c)) in questions.iter().zip(&choices).enumerate() {
            c.validate(q, n + 1).unwrap();
        }
    }
}
