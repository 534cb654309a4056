//! A whole election in one process (used by `scrutin demo`, the benchmarks and the
//! end-to-end tests): every role runs through [`crate::ceremony`], ballots are encrypted
//! as a booth would, and the plaintext count is kept aside so that the decrypted result
//! can be compared with it.

use rand_core::{CryptoRng, Rng};
use scrutin_crypto::rng::SeededRng;

use crate::ballot::{self, VotingContext};
use crate::ceremony;
use crate::credential::{self, Credential, IssuedCredential};
use crate::definition::{ElectionDefinition, Question, QuestionChoice, QuestionKind};
use crate::error::{ElectionError, invalid};
use crate::record::Event;
use crate::roles::{Role, RoleKey};
use crate::tally::PerQuestion;
use crate::verify::{NoProgress, RecordState, verify_record};

/// What to simulate.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub title: String,
    pub voters: usize,
    pub trustees: u32,
    pub threshold: u32,
    /// Trustees who do not take part in the decryption.
    pub absent_trustees: Vec<u32>,
    /// Fraction (in percent) of voters who vote twice; the second ballot counts.
    pub revote_percent: u32,
    /// Fraction (in percent) of voters who vote blank where blank is allowed.
    pub blank_percent: u32,
    /// Give voter `i` weight `1 + i mod weights` (1 = all weights 1).
    pub weights: u64,
    pub questions: Vec<Question>,
    /// Stop after this many ballots, leaving the election open.
    pub leave_open: bool,
}

impl DemoOptions {
    /// A default ballot: a single choice with blank, and an approval question.
    pub fn default_questions() -> Vec<Question> {
        vec![
            Question {
                text: "Who should chair the council?".into(),
                answers: vec!["Ada".into(), "Blaise".into(), "Claude".into()],
                min: 1,
                max: 1,
                max_per_answer: 1,
                blank: true,
                kind: None,
                method: None,
                seats: None,
                grades: None,
            },
            Question {
                text: "Which projects should be funded (up to 3)?".into(),
                answers: [
                    "Library",
                    "Bicycle lanes",
                    "Solar roofs",
                    "Community garden",
                    "Youth centre",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                min: 0,
                max: 3,
                max_per_answer: 1,
                blank: false,
                kind: None,
                method: None,
                seats: None,
                grades: None,
            },
        ]
    }
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            title: "scrutin demonstration election".into(),
            voters: 50,
            trustees: 3,
            threshold: 2,
            absent_trustees: vec![],
            revote_percent: 10,
            blank_percent: 10,
            weights: 1,
            questions: Self::default_questions(),
            leave_open: false,
        }
    }
}

/// The outcome: the record and what the result must be.
pub struct DemoOutcome {
    /// The whole record, one event a line.
    pub record: String,
    /// The plaintext count of the last choices of every voter, weighted.
    pub expected: Vec<PerQuestion<u64>>,
    /// The credentials given to the voters (the credential authority's private list).
    pub credentials: Vec<IssuedCredential>,
    /// Ballot events cast (re-votes included).
    pub ballots_cast: usize,
    /// Each trustee's secret file (role key and key-generation secrets), in trustee order.
    pub trustees: Vec<ceremony::TrusteeSecretFile>,
    /// The credential authority's role key.
    pub authority: RoleKey,
}

struct Builder {
    record: String,
}

impl Builder {
    fn state(&self) -> Result<RecordState, ElectionError> {
        verify_record(self.record.as_bytes(), &NoProgress)
            .map(|v| v.state)
            .map_err(|e| {
                ElectionError::Invalid(format!("the demo produced an invalid record: {e}"))
            })
    }

    fn push(
        &mut self,
        state: &RecordState,
        events: &[Event],
    ) -> Result<RecordState, ElectionError> {
        self.record.push_str(&ceremony::lines_after(state, events)?);
        self.state()
    }
}

/// Draws a valid choice for a question.
pub fn random_choice<R: Rng + ?Sized>(
    q: &Question,
    blank_percent: u32,
    rng: &mut R,
) -> QuestionChoice {
    if q.blank && rng.next_u32() % 100 < blank_percent {
        return QuestionChoice::blank();
    }
    if let Some(kind) = q.kind {
        let n = q.answers.len();
        return QuestionChoice::Values(match kind {
            // A random grade index for every answer.
            QuestionKind::Grades => (0..n)
                .map(|_| u64::from(rng.next_u32()) % (q.value_bound() + 1))
                .collect(),
            // The first k answers of a random order ranked 1 … k, the others unranked.
            QuestionKind::Ranked => {
                let mut order: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    order.swap(i, rng.next_u32() as usize % (i + 1));
                }
                let k = 1 + rng.next_u32() as usize % n;
                let mut ranks = vec![0u64; n];
                for (rank, a) in order.iter().take(k).enumerate() {
                    ranks[*a] = rank as u64 + 1;
                }
                ranks
            }
        });
    }
    let target = q.min + u64::from(rng.next_u32()) % (q.max - q.min + 1);
    let mut values = vec![0u64; q.answers.len()];
    let mut sum = 0;
    while sum < target {
        let i = rng.next_u32() as usize % values.len();
        if values[i] < q.max_per_answer {
            values[i] += 1;
            sum += 1;
        }
    }
    QuestionChoice::Values(values)
}

/// Adds `weight ×` a voter's choices to a plaintext count.
pub fn count_choices(expected: &mut [PerQuestion<u64>], choices: &[QuestionChoice], weight: u64) {
    for (e, c) in expected.iter_mut().zip(choices) {
        match c {
            QuestionChoice::Blank(_) => {
                if let Some(b) = e.blank.as_mut() {
                    *b += weight;
                }
            }
            QuestionChoice::Values(v) => {
                for (x, v) in e.choices.iter_mut().zip(v) {
                    *x += v * weight;
                }
            }
        }
    }
}

/// Encrypts one ballot per `(credential, choices)`, on all cores when available.
pub fn encrypt_ballots(
    ctx: &VotingContext,
    votes: &[(Credential, Vec<QuestionChoice>)],
    seed: &[u8; 32],
) -> Result<Vec<Event>, ElectionError> {
    let one = |(i, (cred, choices)): (usize, &(Credential, Vec<QuestionChoice>))| {
        let mut rng = SeededRng::new(&[&seed[..], &(i as u64).to_le_bytes()].concat());
        ballot::encrypt(ctx, cred, choices, &mut rng).map(|(b, _)| Event::Ballot(Box::new(b)))
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        votes.par_iter().enumerate().map(one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        votes.iter().enumerate().map(one).collect()
    }
}

/// Runs a whole election (see the module documentation).
pub fn run<R: CryptoRng + ?Sized>(
    opts: &DemoOptions,
    rng: &mut R,
) -> Result<DemoOutcome, ElectionError> {
    if opts.voters == 0 || opts.voters > 1_000_000 {
        return invalid("the demo takes 1 to 1,000,000 voters");
    }
    // Every role draws its own key, as it would on its own machine (§8.6).
    let trustee_keys: Vec<RoleKey> = (1..=opts.trustees)
        .map(|i| RoleKey::generate(Role::Trustee, &format!("Trustee {i}"), rng))
        .collect();
    let authority_key = RoleKey::generate(Role::Authority, "Credential authority", rng);
    let mut id = [0u8; 8];
    rng.fill_bytes(&mut id);
    let def = ElectionDefinition {
        id: format!("demo-{}", hex::encode(id)),
        title: opts.title.clone(),
        description: "A demonstration election run by scrutin demo.".into(),
        trustees: trustee_keys.iter().map(RoleKey::holder).collect(),
        threshold: opts.threshold,
        authority: authority_key.holder(),
        board_key: None,
        monitors: Vec::new(),
        questions: opts.questions.clone(),
    };
    let mut b = Builder {
        record: String::new(),
    };
    let empty = RecordState::empty();
    let mut state = b.push(&empty, &[ceremony::election_event(&def)?])?;

    // Key generation: commit, deal, check, then the joint key.
    let mut secrets = Vec::new();
    let mut events = Vec::new();
    for key in &trustee_keys {
        let (s, e) = ceremony::trustee_commit(&state, key, rng)?;
        secrets.push(s);
        events.push(e);
    }
    state = b.push(&state, &events)?;
    let deals = secrets
        .iter()
        .map(|s| ceremony::trustee_deal(&state, s, rng))
        .collect::<Result<Vec<_>, _>>()?;
    state = b.push(&state, &deals)?;
    let checks = secrets
        .iter()
        .map(|s| ceremony::trustee_check(&state, s, rng))
        .collect::<Result<Vec<_>, _>>()?;
    state = b.push(&state, &checks)?;
    state = b.push(&state, &[ceremony::election_key_event(&state)?])?;

    // Credentials.
    let voters: Vec<(String, u64)> = (0..opts.voters)
        .map(|i| {
            (
                format!("voter{:06}", i + 1),
                1 + (i as u64) % opts.weights.max(1),
            )
        })
        .collect();
    let (issued, list) = credential::issue(&def.id, &voters, rng)?;
    state = b.push(
        &state,
        &[ceremony::credentials_event(
            &state,
            list,
            &authority_key,
            rng,
        )?],
    )?;
    state = b.push(&state, &[ceremony::open_event(&state)?])?;

    // Voting, with re-votes: a voter's earlier ballot is cast first, the last one counts.
    let ctx = state
        .context
        .as_ref()
        .ok_or_else(|| ElectionError::Invalid("not open".into()))?;
    let mut expected: Vec<PerQuestion<u64>> = def
        .questions
        .iter()
        .map(|q| PerQuestion {
            choices: vec![0; q.tallied_answers()],
            blank: q.blank.then_some(0),
        })
        .collect();
    // The rows of the ranked and graded questions, one per unit of weight (§11.12).
    let mixed = crate::mix::mixed_questions(&def);
    let mut expected_rows: Vec<Vec<Vec<Option<u64>>>> = vec![Vec::new(); mixed.len()];
    let mut votes = Vec::new();
    let mut revotes = Vec::new();
    for (voter, issued) in voters.iter().zip(&issued) {
        let cred = Credential::parse(&issued.credential)?;
        let choices: Vec<QuestionChoice> = def
            .questions
            .iter()
            .map(|q| random_choice(q, opts.blank_percent, rng))
            .collect();
        if rng.next_u32() % 100 < opts.revote_percent {
            let first: Vec<QuestionChoice> = def
                .questions
                .iter()
                .map(|q| random_choice(q, opts.blank_percent, rng))
                .collect();
            votes.push((cred.clone(), first));
            revotes.push((cred, choices.clone()));
        } else {
            votes.push((cred, choices.clone()));
        }
        count_choices(&mut expected, &choices, voter.1);
        for (rows, q) in expected_rows.iter_mut().zip(&mixed) {
            if let Some(QuestionChoice::Values(v)) = choices.get(*q) {
                for _ in 0..voter.1 {
                    rows.push(v.iter().map(|x| Some(*x)).collect());
                }
            }
        }
    }
    votes.extend(revotes);
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let ballots = encrypt_ballots(ctx, &votes, &seed)?;
    let ballots_cast = ballots.len();
    b.record.push_str(&ceremony::lines_after(&state, &ballots)?);
    if opts.leave_open {
        return Ok(DemoOutcome {
            record: b.record,
            expected,
            credentials: issued,
            ballots_cast,
            trustees: secrets,
            authority: authority_key,
        });
    }
    state = b.state()?;
    state = b.push(&state, &[ceremony::close_event(&state)?])?;

    // The shuffles of the ranked and graded rows by the trustees present, in turn.
    let present: Vec<&ceremony::TrusteeSecretFile> = secrets
        .iter()
        .filter(|s| !opts.absent_trustees.contains(&s.dkg.index))
        .collect();
    for s in &present {
        if ceremony::trustee_step(&state, s.dkg.index)? == ceremony::TrusteeStep::Shuffle {
            state = b.push(&state, &ceremony::trustee_shuffle(&state, s, rng)?)?;
        }
    }

    // Decryption by the trustees present, then the result.
    let mut shares = Vec::new();
    for s in secrets
        .iter()
        .filter(|s| !opts.absent_trustees.contains(&s.dkg.index))
    {
        shares.extend(ceremony::trustee_decrypt(&state, s, rng)?);
    }
    state = b.push(&state, &shares)?;
    let state = b.push(&state, &[ceremony::result_event(&state)?])?;
    // The decrypted rows are the voters' rows, shuffled.
    let decrypted = state
        .result
        .as_ref()
        .and_then(|r| r.mixed.clone())
        .unwrap_or_default();
    for (n, (result, mut rows)) in decrypted.into_iter().zip(expected_rows).enumerate() {
        let mut got = result.ballots;
        got.sort();
        rows.sort();
        if got != rows {
            return invalid(format!(
                "the decrypted ballots of ranked or graded question {} are not the ballots cast",
                mixed.get(n).map_or(0, |q| q + 1)
            ));
        }
    }
    Ok(DemoOutcome {
        record: b.record,
        expected,
        credentials: issued,
        ballots_cast,
        trustees: secrets,
        authority: authority_key,
    })
}

/// Role keys drawn from `seed`: one per trustee name, and the credential authority's
/// (for tests and examples that play every role).
pub fn role_keys(trustees: &[&str], seed: &[u8]) -> (Vec<RoleKey>, RoleKey) {
    let mut rng = SeededRng::new(seed);
    let keys = trustees
        .iter()
        .map(|name| RoleKey::generate(Role::Trustee, name, &mut rng))
        .collect();
    let authority = RoleKey::generate(Role::Authority, "Credential authority", &mut rng);
    (keys, authority)
}

/// The TOML tables that name the trustees and the credential authority with their public
/// keys (§8.4), to append to an election description.
pub fn roles_toml(trustees: &[RoleKey], authority: &RoleKey) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::new();
    for t in trustees {
        out.push_str(&format!(
            "\n[[trustee]]\nname = {}\nkey = \"{}\"\n",
            quote(&t.name),
            t.signing_key.to_hex()
        ));
    }
    out.push_str(&format!(
        "\n[authority]\nname = {}\nkey = \"{}\"\n",
        quote(&authority.name),
        authority.signing_key.to_hex()
    ));
    out
}
