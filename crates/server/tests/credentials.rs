//! The credential list the server accepts: signed by the credential authority the
//! definition names, with exactly the voter list's weights.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN, TestServer};
use scrutin_election::credential;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_election::roles::Signed;
use scrutin_server::protocol;
use scrutin_server::storage::{Voter, blocking};

const DESCRIPTION: &str = r#"
title = "Weighted assembly"
threshold = 1

[[question]]
text = "Adopt the budget?"
answers = ["Yes", "No"]
min = 1
max = 1
"#;

/// The credential authority moves weight between credentials while keeping the number of
/// credentials and the total weight: the roll says 1, 2, 3; the list says 2, 2, 2. The
/// server refuses it; the same list with the roll's weights (in another order) is accepted.
#[tokio::test]
async fn a_list_with_the_voter_lists_count_and_total_but_other_weights_is_refused() {
    let s = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    let app = &s.state;
    let (trustees, authority) = role_keys(&["Alice"], b"credential weights");
    let toml = format!("{DESCRIPTION}{}", roles_toml(&trustees, &authority));
    let id = protocol::create_election(app, ADMIN, toml, None, None)
        .await
        .unwrap()
        .id;
    let roll: Vec<Voter> = [("ann", 1), ("ben", 2), ("cat", 3)]
        .into_iter()
        .map(|(login, weight)| Voter {
            login: login.into(),
            email: format!("{login}@example.org"),
            weight,
            language: None,
        })
        .collect();
    let eid = id.clone();
    blocking(&app.storage, move |st| st.add_voters(&eid, &roll))
        .await
        .unwrap();
    let context = {
        let locked = app.elections.lock(app, &id).await.unwrap();
        locked.state().unwrap().election_hash
    };
    let signed = |weights: [u64; 3]| {
        let named: Vec<(String, u64)> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (format!("v{i}"), *w))
            .collect();
        let (_, list) = credential::issue(&id, &named, &mut os_rng()).unwrap();
        Signed::sign(list, "credentials", &context, &authority, &mut os_rng()).unwrap()
    };
    let events = |app: &scrutin_server::AppState| {
        let eid = id.clone();
        let storage = app.storage.clone();
        async move {
            blocking(&storage, move |st| st.events_from(&eid, 0, 100))
                .await
                .unwrap()
        }
    };
    let before = events(app).await;

    let e = protocol::post_credentials(app, &id, signed([2, 2, 2]))
        .await
        .unwrap_err();
    assert_eq!(e.code, "credentials_mismatch", "{e:?}");
    assert!(e.message.contains("distributed differently"), "{e:?}");
    // The count or the total differing is refused too.
    for weights in [[1, 2, 2], [1, 2, 4]] {
        let e = protocol::post_credentials(app, &id, signed(weights))
            .await
            .unwrap_err();
        assert_eq!(e.code, "credentials_mismatch", "{weights:?}: {e:?}");
    }
    assert_eq!(events(app).await, before);

    // The roll's weights, in another order: accepted.
    protocol::post_credentials(app, &id, signed([3, 1, 2]))
        .await
        .unwrap();
    assert_eq!(events(app).await.len(), before.len() + 1);
}
