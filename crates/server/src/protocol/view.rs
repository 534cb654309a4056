//! What public reads see of an election: a view of its verified state, published after each
//! change and read without the election's lock, so that the board and result pages, the
//! public API, mails and ballot verification never wait behind ballot appends.
//!
//! Invariants:
//! - a view is made only from a verified [`RecordState`] (never ahead of the board): it is
//!   published when the state is loaded or caught up with storage, and after each durable
//!   append;
//! - a reader that finds the election's lock free catches up with the board first (the
//!   appends of other servers), so an idle election's view is the board's; one that finds
//!   an append in flight reads the view of the board just before it, which that append
//!   replaces once durable;
//! - what never changes once on the record (the definition, the voting context, the
//!   result) is shared between successive views, so that publishing after a batch of
//!   ballots costs a few counters.

use std::sync::Arc;

use scrutin_election::Hash32;
use scrutin_election::ballot::VotingContext;
use scrutin_election::credential::ListedCredentials;
use scrutin_election::definition::ElectionDefinition;
use scrutin_election::tally::ElectionResult;
use scrutin_election::verify::{RecordState, Stage};

use super::{TrusteeProgress, trustee_progress};

/// A verified state's public facts.
#[derive(Clone)]
pub struct ElectionView {
    /// The definition, once the `election` event is on the record.
    pub definition: Option<Arc<ElectionDefinition>>,
    /// Where the election stands.
    pub stage: Stage,
    /// The election fingerprint (§8.3), once open.
    pub fingerprint: Option<Hash32>,
    /// What ballots are verified against, once open.
    pub context: Option<Arc<VotingContext>>,
    /// The joint public key, hex.
    pub election_key: Option<String>,
    /// Hash of the last line.
    pub head: Hash32,
    /// Lines on the record.
    pub events: u64,
    /// Number of credentials on the published list.
    pub credentials: Option<u64>,
    /// Some credential has a weight other than 1.
    pub weighted: bool,
    /// Ballots on the record.
    pub ballots: u64,
    /// Credentials whose last ballot counts.
    pub counted: u64,
    /// Each trustee's progress.
    pub trustees: Arc<Vec<TrusteeProgress>>,
    /// The published result.
    pub result: Option<Arc<ElectionResult>>,
}

impl ElectionView {
    /// The view of `st`, sharing with `previous` what cannot have changed.
    pub fn of(st: &RecordState, previous: Option<&ElectionView>) -> Self {
        let same_setup = previous.is_some_and(|p| {
            p.stage == st.stage() && p.definition.is_some() == st.definition.is_some()
        });
        let reuse = previous.filter(|_| same_setup);
        let definition = match reuse.and_then(|p| p.definition.clone()) {
            Some(d) => Some(d),
            None => st.definition.clone().map(Arc::new),
        };
        let (credentials, weighted) = match reuse.filter(|p| p.credentials.is_some()) {
            Some(p) => (p.credentials, p.weighted),
            None => (
                st.credentials.as_ref().map(|c| c.len() as u64),
                st.credentials
                    .as_ref()
                    .is_some_and(ListedCredentials::is_weighted),
            ),
        };
        let result = match previous.and_then(|p| p.result.clone()) {
            Some(r) if st.result.is_some() => Some(r),
            _ => st.result.clone().map(Arc::new),
        };
        // Trustees act only before voting and after it: during voting their progress is
        // the one of the previous view.
        let trustees = match reuse.filter(|p| p.stage == Stage::Open) {
            Some(p) => Arc::clone(&p.trustees),
            None => Arc::new(trustee_progress(st)),
        };
        ElectionView {
            definition,
            stage: st.stage(),
            fingerprint: st.fingerprint,
            context: st.context.clone(),
            election_key: st.joint_key.as_ref().map(|k| k.public_key.to_hex()),
            head: st.head,
            events: st.events,
            credentials,
            weighted,
            ballots: st.ballots,
            counted: st.ballots_counted(),
            trustees,
            result,
        }
    }
}
