//! The role commands of an offline election on a record file (spec §6, §9, §10, §11).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use scrutin_election::Hash32;
use scrutin_election::ballot::{self, AuditedBallot};
use scrutin_election::ceremony;
use scrutin_election::ceremony::TrusteeSecretFile;
use scrutin_election::credential::{self, Credential};
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::{ElectionDescription, QuestionChoice, QuestionKind};
use scrutin_election::record::Event;
use scrutin_election::roles::{Role, RoleKey};
use scrutin_election::verify::RecordState;

use crate::output;
use crate::record_file::{append, create, read_small, verify_path, write_secret};
use crate::remote::Remote;

#[derive(Args)]
pub struct RecordArg {
    /// The election record (JSON Lines); verified before anything is appended.
    #[arg(long)]
    record: PathBuf,
}

#[derive(Subcommand)]
pub enum ElectionCommand {
    /// Create a new record from a TOML election description (spec §8).
    Setup {
        /// The election description (TOML).
        #[arg(long)]
        description: PathBuf,
        /// The record to create (must not exist).
        #[arg(long)]
        record: PathBuf,
    },
    /// Publish the election key once every trustee has checked its shares (§6 step 4).
    Key(RecordArg),
    /// Open the election: fixes the fingerprint (needs the key and the credentials).
    Open(RecordArg),
    /// Close the election and publish the encrypted tally.
    Close(RecordArg),
    /// Combine the trustees' decryption shares and publish the result.
    Tally(RecordArg),
}

/// Where the record is: a local file, or an election on a scrutin server.
#[derive(Args)]
pub struct Target {
    /// The election record (JSON Lines); verified before anything is appended.
    #[arg(long, required_unless_present = "server")]
    record: Option<PathBuf>,
    /// Or the URL of a scrutin server: its record is downloaded and verified here, and
    /// only the public event is sent back.
    #[arg(long, conflicts_with = "record", requires = "election")]
    server: Option<String>,
    /// The election's id on the server.
    #[arg(long, requires = "server")]
    election: Option<String>,
}

/// A target and, on a server, the role's token (given by the election's administrator).
#[derive(Args)]
pub struct RoleTarget {
    #[command(flatten)]
    target: Target,
    /// With --server: this role's token for the election.
    #[arg(long, requires = "server")]
    token: Option<String>,
}

/// Where a role acts: on a record file, or on an election of a server.
pub enum Place {
    File(PathBuf),
    Server(Remote),
}

impl Target {
    fn place(&self, token: Option<String>) -> Result<Place> {
        match (&self.record, &self.server, &self.election) {
            (Some(path), None, _) => Ok(Place::File(path.clone())),
            (None, Some(server), Some(election)) => {
                Ok(Place::Server(Remote::new(server, election, token)?))
            }
            _ => bail!("give --record FILE, or --server URL and --election ID"),
        }
    }
}

impl RoleTarget {
    fn place(&self) -> Result<Place> {
        if self.target.server.is_some() && self.token.is_none() {
            bail!("--server needs this role's --token");
        }
        self.target.place(self.token.clone())
    }
}

impl Place {
    fn state(&self) -> Result<RecordState> {
        match self {
            Place::File(path) => Ok(verify_path(path, true)?.state),
            Place::Server(remote) => remote.verified_state(),
        }
    }

    /// The verified state and the bytes it was verified from.
    fn state_and_record(&self) -> Result<(RecordState, Vec<u8>)> {
        let record = match self {
            Place::File(path) => {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
            }
            Place::Server(remote) => remote.record()?,
        };
        let state = RecordState::from_record(&record).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((state, record))
    }

    /// Appends a trustee's event to the file, or posts it to the server; on a server,
    /// returns the sequence number it was recorded as.
    fn publish_trustee_event(&self, state: &RecordState, event: Event) -> Result<Option<u64>> {
        self.publish_trustee_events(state, &[event])
    }

    /// Publishes a trustee's events at once, in order: the parts of a long shuffle or
    /// share and the event itself (spec §11.15) are consecutive lines of the record.
    fn publish_trustee_events(&self, state: &RecordState, events: &[Event]) -> Result<Option<u64>> {
        match self {
            Place::File(path) => append(path, state, events).map(|()| None),
            Place::Server(remote) => {
                let posted = remote.post_trustee_events(events)?;
                Ok(posted["seq"].as_u64())
            }
        }
    }
}

fn print_recorded(seq: Option<u64>) {
    if let Some(seq) = seq {
        println!("The server recorded it as event {seq}.");
    }
}

/// Key generation step 1 (`scrutin trustee commit`): draws the trustee's secrets, writes
/// them to `secret` (mode 0600) and publishes the signed commitment. Refused if the
/// election does not name `key`, or (on a server) if the token is another trustee's.
/// Returns the trustee's number and, on a server, the event's sequence number.
pub fn trustee_commit(place: &Place, key: &RoleKey, secret: &Path) -> Result<(u32, Option<u64>)> {
    let state = place.state()?;
    let def = state
        .definition
        .as_ref()
        .context("the record has no election")?;
    let index = ceremony::trustee_index(def, key)?;
    if let Place::Server(remote) = place {
        let token_index = remote.trustee_index()?;
        if token_index != index {
            bail!(
                "this token is trustee {token_index}'s, but your key is trustee {index}'s in the election definition"
            );
        }
    }
    let (secrets, event) = ceremony::trustee_commit(&state, key, &mut os_rng())?;
    write_secret(secret, &serde_json::to_string_pretty(&secrets)?)?;
    let seq = place.publish_trustee_event(&state, event)?;
    Ok((index, seq))
}

/// Key generation step 2 (`scrutin trustee deal`): deals encrypted shares to every trustee.
pub fn trustee_deal(place: &Place, secret: &Path) -> Result<(u32, Option<u64>)> {
    let (state, secrets) = (place.state()?, read_secrets(secret)?);
    let event = ceremony::trustee_deal(&state, &secrets, &mut os_rng())?;
    Ok((
        secrets.dkg.index,
        place.publish_trustee_event(&state, event)?,
    ))
}

/// Key generation step 3 (`scrutin trustee check`): checks the shares received and
/// publishes the check, with a complaint against each dealer whose share is bad. Returns
/// the trustee's number, the dealers complained about and, on a server, the sequence number.
pub fn trustee_check(place: &Place, secret: &Path) -> Result<(u32, Vec<u32>, Option<u64>)> {
    let (state, secrets) = (place.state()?, read_secrets(secret)?);
    let event = ceremony::trustee_check(&state, &secrets, &mut os_rng())?;
    let complaints = match &event {
        Event::TrusteeCheck(c) => c.body.complaints.iter().map(|c| c.dealer).collect(),
        _ => Vec::new(),
    };
    let seq = place.publish_trustee_event(&state, event)?;
    Ok((secrets.dkg.index, complaints, seq))
}

/// After a commitment: the trustee's next key generation steps (deal, then check) run back
/// to back for as long as the record waits for this trustee alone — the whole ceremony when
/// the election has one trustee. With several, each step waits for every trustee's previous
/// one (§6.6: dealings need every commitment, checks every dealing), so this stops and says
/// so; the trustee runs `deal` and `check` later.
pub fn key_generation_rest(place: &Place, index: u32, secret: &Path) -> Result<()> {
    loop {
        let state = place.state()?;
        match ceremony::trustee_step(&state, index)? {
            ceremony::TrusteeStep::Deal => {
                let (_, seq) = trustee_deal(place, secret)?;
                print_recorded(seq);
                println!("Trustee {index} dealt its shares.");
            }
            ceremony::TrusteeStep::Check => {
                let (_, complaints, seq) = trustee_check(place, secret)?;
                for dealer in complaints {
                    println!(
                        "Trustee {index} received a bad share from trustee {dealer}: complaint published."
                    );
                }
                print_recorded(seq);
                println!("Trustee {index} checked its shares.");
            }
            _ if state.joint_key.is_some() => {
                println!("The key generation is complete: the election key is on the record.");
                return Ok(());
            }
            _ if state.checks.iter().all(Option::is_some) => {
                println!(
                    "Every trustee checked its shares: `scrutin election key` puts the election key on the record."
                );
                return Ok(());
            }
            _ => {
                println!(
                    "Trustee {index} now waits for the other trustees: run `scrutin trustee deal`, then `check`, once they have acted."
                );
                return Ok(());
            }
        }
    }
}

#[derive(Subcommand)]
pub enum TrusteeCommand {
    /// Draw this trustee's long-term signing key (spec §8.6) into a file (mode 0600) and
    /// print its public key and fingerprint, for the election's officials.
    Keygen(KeygenArgs),
    /// Key generation step 1: draw secrets, publish the signed commitment; the secrets go
    /// to a file. Refused if the election does not name this trustee's key.
    Commit {
        #[command(flatten)]
        target: RoleTarget,
        /// This trustee's key file (written by `scrutin trustee keygen` or the trustee
        /// page); its public key must be one the election definition names.
        #[arg(long)]
        key: PathBuf,
        /// Where to write this trustee's secrets for the election (created with mode 0600;
        /// keep it safe: it also holds the key).
        #[arg(long)]
        secret: PathBuf,
        /// Then deal and check too, as long as the record waits for no other trustee: with
        /// one trustee, the whole key generation in one command (spec §6.6).
        #[arg(long)]
        all_steps: bool,
    },
    /// Key generation step 2: deal encrypted shares to every trustee.
    Deal(SecretArgs),
    /// Key generation step 3: check the shares received; complain about a cheating dealer.
    Check(SecretArgs),
    /// After the close, shuffle the ranked and graded answers (spec §11.12): the last
    /// shuffle's outputs (or the counted ballots, first) re-encrypted in a secret order,
    /// with its proof. At least `threshold` trustees shuffle, each once, before anyone
    /// decrypts. Like `decrypt`, only once the monitors agree on the close line.
    Shuffle {
        #[command(flatten)]
        args: SecretArgs,
        /// A monitor of the board (`scrutin monitor`): the shuffle is computed only if
        /// every monitor given holds the same close line as the record downloaded here.
        #[arg(long = "monitor", value_name = "URL")]
        monitors: Vec<String>,
    },
    /// Publish this trustee's decryption share of the closed election's tally, once the
    /// monitors given agree that the close line is the one they hold.
    Decrypt {
        #[command(flatten)]
        args: SecretArgs,
        /// A monitor of the board (`scrutin monitor`): the share is computed only if every
        /// monitor given holds the same close line as the record downloaded here.
        #[arg(long = "monitor", value_name = "URL")]
        monitors: Vec<String>,
    },
}

#[derive(Args)]
pub struct KeygenArgs {
    /// The holder's name, as the officials will write it in the election definition.
    #[arg(long)]
    name: String,
    /// Where to write the key (must not exist; created with mode 0600).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct SecretArgs {
    #[command(flatten)]
    target: RoleTarget,
    /// The trustee's secret file written by `scrutin trustee commit`.
    #[arg(long)]
    secret: PathBuf,
}

#[derive(Subcommand)]
pub enum CredentialsCommand {
    /// Draw the credential authority's long-term signing key (spec §8.6) into a file (mode
    /// 0600) and print its public key and fingerprint, for the election's officials.
    Keygen(KeygenArgs),
    /// Generate one credential per voter, publish the signed public list in the record and
    /// write the private file (login, email, weight, credential; spec §9.4) for mailing.
    Generate {
        #[command(flatten)]
        target: RoleTarget,
        /// The credential authority's key file; its public key must be the one the
        /// election definition names.
        #[arg(long)]
        key: PathBuf,
        /// Voter list: one voter per line, `name` or `name,weight`; `#` starts a comment.
        #[arg(long, conflicts_with = "count")]
        voters: Option<PathBuf>,
        /// Or simply this many voters, named voter1, voter2, …
        #[arg(long)]
        count: Option<usize>,
        /// Where to write the private credentials (JSON, mode 0600; never publish it); once
        /// the election is open, `scrutin credentials mail` mails them from this file.
        #[arg(long)]
        private: PathBuf,
        /// With --server: a monitor of the board (`scrutin monitor`); the list is made only
        /// if every monitor given holds the same record head as the one downloaded here.
        #[arg(long = "monitor", value_name = "URL", requires = "server")]
        monitors: Vec<String>,
    },
    /// Once the election is open, mail each voter its credential from the private file
    /// (written by `generate --server` or saved from the credential authority's web page),
    /// through your own SMTP relay; every credential is first checked against the
    /// election's published list. Each mail, in the voter's language, is headed by the
    /// election's title and carries the voting link (with the election fingerprint, which
    /// the voting page checks), the closing time the server schedules and the fingerprint.
    Mail {
        #[command(flatten)]
        target: Target,
        /// The private credentials: a JSON array of {login, email, weight, credential,
        /// language?}.
        #[arg(long)]
        private: PathBuf,
        #[command(flatten)]
        content: crate::mailing::MailContentArgs,
        /// Write one mail per voter as a file in this folder instead of sending it (dry run).
        #[arg(long, conflicts_with = "send_mail")]
        outbox: Option<PathBuf>,
        /// Mail each voter its credential through this SMTP relay.
        #[command(flatten)]
        send_mail: crate::mailing::SmtpArgs,
        /// With --server: mail only the voters whose credential an official asked to send
        /// again (pending requests on the server), then mark each request done.
        #[arg(long, requires = "server", requires = "token")]
        resend: bool,
        /// With --resend: the credential authority's token for the election.
        #[arg(long, requires = "resend")]
        token: Option<String>,
    },
}

#[derive(Args)]
pub struct VoteArgs {
    #[command(flatten)]
    target: Target,
    /// With --server: the voter's login (a one-time login code is mailed to the voter).
    #[arg(long, requires = "server")]
    login: Option<String>,
    /// With --server: the one-time login code already received (otherwise one is requested and
    /// read from the standard input).
    #[arg(long, requires = "login")]
    code: Option<String>,
    /// The voting credential as typed (e.g. K7QH-2M9P-…). Prefer --credential-file on shared machines.
    #[arg(long, conflicts_with = "credential_file")]
    credential: Option<String>,
    /// A file holding the voting credential.
    #[arg(long)]
    credential_file: Option<PathBuf>,
    /// The choices (JSON): one entry per question, an array of values per answer or "blank".
    #[arg(long)]
    choices: PathBuf,
    /// With --server: where to write the receipt the board signs (for `scrutin receipt check`).
    #[arg(long, requires = "server")]
    receipt: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum BallotCommand {
    /// Encrypt, prove, sign and cast a ballot; prints its tracker.
    Cast(VoteArgs),
    /// Encrypt a ballot and open it for a Benaloh audit instead of casting it (§10.6).
    Audit {
        #[command(flatten)]
        vote: VoteArgs,
        /// Where to write the audit data.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check Benaloh audit data against the election: prints the choices it encrypts.
    CheckAudit {
        #[command(flatten)]
        record: RecordArg,
        /// The audit data written by `scrutin ballot audit` or the booth.
        audit: PathBuf,
    },
    /// Find a ballot tracker on the board.
    Find {
        #[command(flatten)]
        record: RecordArg,
        /// The tracker (64 hexadecimal characters).
        tracker: String,
    },
}

fn read_secrets(path: &Path) -> Result<TrusteeSecretFile> {
    let text = read_small(path, 1 << 20)?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a trustee secret file", path.display()))
}

/// Reads a role key file.
pub fn read_role_key(path: &Path) -> Result<RoleKey> {
    let text = read_small(path, 1 << 20)?;
    RoleKey::from_json(&text)
        .with_context(|| format!("{} is not a scrutin key file", path.display()))
}

fn keygen(role: Role, args: &KeygenArgs) -> Result<()> {
    if args.name.trim().is_empty() {
        bail!("give a --name");
    }
    let key = RoleKey::generate(role, args.name.trim(), &mut os_rng());
    write_secret(&args.out, &serde_json::to_string_pretty(&key)?)?;
    println!(
        "{} key of {:?} written to {} (keep it secret and safe).",
        role.name(),
        key.name,
        args.out.display()
    );
    println!("Give the election's officials, by a channel you trust:");
    println!("  public key   {}", key.signing_key.to_hex());
    println!("  fingerprint  {}", key.fingerprint());
    println!(
        "Before acting in an election, compare this fingerprint with the one its definition shows for you."
    );
    Ok(())
}

fn state_of(record: &RecordArg) -> Result<RecordState> {
    Ok(verify_path(&record.record, true)?.state)
}

pub fn election(cmd: ElectionCommand) -> Result<()> {
    match cmd {
        ElectionCommand::Setup {
            description,
            record,
        } => {
            let text = read_small(&description, 1 << 20)?;
            let def = ElectionDescription::from_toml(&text)?.into_definition(&mut os_rng())?;
            create(&record, &[ceremony::election_event(&def)?])?;
            println!(
                "Created {} for election {} ({} trustees, threshold {}).",
                record.display(),
                def.id,
                def.trustees.len(),
                def.threshold
            );
        }
        ElectionCommand::Key(r) => {
            let state = state_of(&r)?;
            let event = ceremony::election_key_event(&state)?;
            if let Event::ElectionKey(k) = &event {
                println!(
                    "Election key {}; trustees holding a key share: {:?}.",
                    k.public_key.to_hex(),
                    k.decryptors
                );
                if !state.complained.is_empty() {
                    println!(
                        "Trustees {:?} received bad shares and hold no key share.",
                        state.complained
                    );
                }
            }
            append(&r.record, &state, &[event])?;
        }
        ElectionCommand::Open(r) => {
            let state = state_of(&r)?;
            let event = ceremony::open_event(&state)?;
            append(&r.record, &state, &[event])?;
            println!("Election open; fingerprint {}.", state.head);
        }
        ElectionCommand::Close(r) => {
            let state = state_of(&r)?;
            let event = ceremony::close_event(&state)?;
            append(&r.record, &state, &[event])?;
            println!(
                "Election closed: {} ballots counted.",
                state.ballots_counted()
            );
        }
        ElectionCommand::Tally(r) => {
            let state = state_of(&r)?;
            let event = ceremony::result_event(&state)?;
            append(&r.record, &state, &[event])?;
            let state = state_of(&r)?;
            if let (Some(def), Some(result)) = (&state.definition, &state.result) {
                output::print_result(def, result);
            }
        }
    }
    Ok(())
}

pub fn trustee(cmd: TrusteeCommand) -> Result<()> {
    match cmd {
        TrusteeCommand::Keygen(args) => keygen(Role::Trustee, &args)?,
        TrusteeCommand::Commit {
            target,
            key,
            secret,
            all_steps,
        } => {
            let key = read_role_key(&key)?;
            let place = target.place()?;
            let (index, seq) = trustee_commit(&place, &key, &secret)?;
            print_recorded(seq);
            println!(
                "Trustee {index} ({}, key {}) committed; secrets in {}.",
                key.name,
                key.fingerprint(),
                secret.display()
            );
            if all_steps {
                key_generation_rest(&place, index, &secret)?;
            }
        }
        TrusteeCommand::Deal(a) => {
            let (index, seq) = trustee_deal(&a.target.place()?, &a.secret)?;
            print_recorded(seq);
            println!("Trustee {index} dealt its shares.");
        }
        TrusteeCommand::Check(a) => {
            let (index, complaints, seq) = trustee_check(&a.target.place()?, &a.secret)?;
            for dealer in complaints {
                println!(
                    "Trustee {index} received a bad share from trustee {dealer}: complaint published."
                );
            }
            print_recorded(seq);
            println!("Trustee {index} checked its shares.");
        }
        TrusteeCommand::Shuffle { args, monitors } => {
            let place = args.target.place()?;
            let secrets = read_secrets(&args.secret)?;
            let (state, record) = place.state_and_record()?;
            confirm_close(&place, &state, &record, &monitors, "shuffle")?;
            let events = ceremony::trustee_shuffle(&state, &secrets, &mut os_rng())?;
            place.publish_trustee_events(&state, &events)?;
            let threshold = state.definition.as_ref().map_or(0, |d| d.threshold);
            println!(
                "Trustee {} shuffled the ranked and graded answers (shuffle {} of at least {threshold}).",
                secrets.dkg.index,
                state.shuffles.len() + 1
            );
        }
        TrusteeCommand::Decrypt { args, monitors } => {
            let place = args.target.place()?;
            let secrets = read_secrets(&args.secret)?;
            let (state, record) = place.state_and_record()?;
            let close = confirm_close(&place, &state, &record, &monitors, "decrypt")?;
            let events = ceremony::trustee_decrypt(&state, &secrets, &mut os_rng())?;
            print_recorded(place.publish_trustee_events(&state, &events)?);
            println!(
                "Trustee {} published its decryption share of close line {close}.",
                secrets.dkg.index
            );
        }
    }
    Ok(())
}

/// The close line's hash, once the monitors (those given, and on a server those the
/// election names) hold the same close line as `record` (spec §14.4): a trustee shuffles
/// or decrypts only a record everybody sees.
fn confirm_close(
    place: &Place,
    state: &RecordState,
    record: &[u8],
    monitors: &[String],
    action: &str,
) -> Result<Hash32> {
    let close = state
        .close_hash
        .with_context(|| format!("the election is not closed yet: nothing to {action}"))?;
    let close_seq = crate::monitor::seq_of_hash(record, &close)
        .context("the close line is not in the record")?;
    if let Place::Server(remote) = place {
        crate::monitor::confirm_with_monitors(remote.election(), record, close_seq, monitors)?;
    } else if !monitors.is_empty() {
        let Place::File(path) = place else {
            bail!("give --record FILE or --server URL");
        };
        let id = state
            .definition
            .as_ref()
            .map(|d| d.id.clone())
            .with_context(|| format!("{} has no election", path.display()))?;
        crate::monitor::confirm_with_monitors(&id, record, close_seq, monitors)?;
    }
    Ok(close)
}

fn parse_voters(text: &str) -> Result<Vec<(String, u64)>> {
    let mut voters = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split(',').map(str::trim);
        let name = parts.next().unwrap_or("").to_string();
        let weight = match parts.next() {
            Some(w) => w
                .parse::<u64>()
                .with_context(|| format!("line {}: weight {w:?} is not a whole number", n + 1))?,
            None => 1,
        };
        if name.is_empty() || parts.next().is_some() {
            bail!("line {}: expected `name` or `name,weight`", n + 1);
        }
        voters.push((name, weight));
    }
    Ok(voters)
}

pub fn credentials(cmd: CredentialsCommand) -> Result<()> {
    let (target, key, voters, count, private, monitors) = match cmd {
        CredentialsCommand::Keygen(args) => return keygen(Role::Authority, &args),
        CredentialsCommand::Generate {
            target,
            key,
            voters,
            count,
            private,
            monitors,
        } => (target, key, voters, count, private, monitors),
        CredentialsCommand::Mail {
            target,
            private,
            content,
            outbox,
            send_mail,
            resend,
            token,
        } => {
            let place = target.place(token)?;
            let state = place.state()?;
            let remote = match &place {
                Place::Server(remote) => Some(remote),
                Place::File(_) => None,
            };
            return crate::mailing::mail_private(
                &state,
                remote,
                &private,
                &content,
                outbox.as_deref(),
                &send_mail,
                resend,
            );
        }
    };
    let key = read_role_key(&key)?;
    let place = target.place()?;
    if let Place::Server(remote) = &place {
        if voters.is_some() || count.is_some() {
            bail!("with --server the voters are the server's voter list: drop --voters/--count");
        }
        return crate::mailing::generate_remote(remote, &key, &private, &monitors);
    }
    let Place::File(record) = &place else {
        bail!("give --record FILE or --server URL");
    };
    let state = place.state()?;
    let def = state
        .definition
        .as_ref()
        .context("the record has no election")?;
    let voters = match (voters, count) {
        (Some(path), _) => parse_voters(&read_small(&path, 1 << 30)?)?,
        (None, Some(n)) => (1..=n).map(|i| (format!("voter{i}"), 1)).collect(),
        (None, None) => bail!("give --voters FILE or --count N"),
    };
    ceremony::check_authority(def, &key)?;
    let (issued, list) = credential::issue(&def.id, &voters, &mut os_rng())?;
    let event = ceremony::credentials_event(&state, list, &key, &mut os_rng())?;
    // The authority's one private format (§9.4), without addresses: this voter list has none.
    let kept: Vec<crate::mailing::PrivateCredential> = issued
        .iter()
        .map(|c| crate::mailing::PrivateCredential {
            login: c.voter.clone(),
            email: String::new(),
            weight: c.weight,
            credential: c.credential.clone(),
            language: None,
        })
        .collect();
    write_secret(&private, &serde_json::to_string_pretty(&kept)?)?;
    append(record, &state, &[event])?;
    println!(
        "{} credentials published; private credentials in {}.",
        issued.len(),
        private.display()
    );
    Ok(())
}

fn encrypt(
    vote: &VoteArgs,
) -> Result<(
    RecordState,
    ballot::Ballot,
    Vec<ballot::AnswerRandomness>,
    Vec<QuestionChoice>,
)> {
    let state = vote.target.place(None)?.state()?;
    let text = match (&vote.credential, &vote.credential_file) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) => read_small(p, 1024)?,
        (None, None) => bail!("give --credential or --credential-file"),
    };
    let credential = Credential::parse(text.trim())?;
    let choices: Vec<QuestionChoice> = serde_json::from_str(&read_small(&vote.choices, 1 << 20)?)
        .context(
        "the choices file must be a JSON array: per question, an array of values or \"blank\"",
    )?;
    let ctx = state.context.as_ref().context("the election is not open")?;
    let (ballot, randomness) = ballot::encrypt(ctx, &credential, &choices, &mut os_rng())?;
    if state
        .credential_weight(ballot.credential.as_bytes())
        .is_none()
    {
        bail!("this credential is not on the election's list");
    }
    Ok((state, ballot, randomness, choices))
}

pub fn ballot(cmd: BallotCommand) -> Result<()> {
    match cmd {
        BallotCommand::Cast(vote) if vote.target.server.is_some() => {
            let (state, ballot, _, _) = encrypt(&vote)?;
            let Place::Server(mut remote) = vote.target.place(None)? else {
                bail!("give --server URL");
            };
            let login = vote
                .login
                .as_deref()
                .context("give --login with --server")?;
            crate::mailing::cast_remote(
                &mut remote,
                &state,
                login,
                vote.code.as_deref(),
                ballot,
                vote.receipt.as_deref(),
            )?;
        }
        BallotCommand::Cast(vote) => {
            let (state, ballot, _, _) = encrypt(&vote)?;
            let record = vote.target.record.clone().context("give --record FILE")?;
            if state.stage() != scrutin_election::verify::Stage::Open {
                bail!("the election is not open");
            }
            let tracker = ballot.tracker();
            append(&record, &state, &[Event::Ballot(Box::new(ballot))])?;
            println!("Ballot cast. Tracker: {tracker}");
            println!("You may vote again: only your last ballot counts.");
        }
        BallotCommand::Audit { vote, out } => {
            let (_, ballot, randomness, choices) = encrypt(&vote)?;
            let tracker = ballot.tracker();
            let audit = AuditedBallot {
                ballot,
                choices,
                randomness,
            };
            std::fs::write(&out, serde_json::to_string_pretty(&audit)?)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "Audit data for the ballot with tracker {tracker} written to {}.",
                out.display()
            );
            println!("This ballot is now spoiled and must not be cast: cast a new one.");
        }
        BallotCommand::CheckAudit { record, audit } => {
            let state = state_of(&record)?;
            let ctx = state.context.as_ref().context("the election is not open")?;
            let audit: AuditedBallot =
                serde_json::from_str(&read_small(&audit, 16 << 20)?).context("not audit data")?;
            let choices = ballot::check_audit(ctx, &audit)?;
            println!(
                "The audited ballot (tracker {}) is valid and encrypts:",
                audit.ballot.tracker()
            );
            for (q, c) in ctx.definition.questions.iter().zip(&choices) {
                match c {
                    QuestionChoice::Blank(_) => println!("  {}: blank", q.text),
                    QuestionChoice::Values(v) => {
                        let chosen: Vec<String> = q
                            .answers
                            .iter()
                            .zip(v)
                            .filter(|(_, v)| **v > 0 || q.kind == Some(QuestionKind::Grades))
                            .map(|(a, v)| {
                                if q.max_per_answer > 1 || q.is_mixed() {
                                    format!("{a} ({v})")
                                } else {
                                    a.clone()
                                }
                            })
                            .collect();
                        println!(
                            "  {}: {}",
                            q.text,
                            if chosen.is_empty() {
                                "(none)".into()
                            } else {
                                chosen.join(", ")
                            }
                        );
                    }
                }
            }
        }
        BallotCommand::Find { record, tracker } => {
            let state = state_of(&record)?;
            let tracker = Hash32::from_hex(tracker.trim())?;
            match state.trackers.get(&tracker) {
                Some(seq) => println!(
                    "Found: the ballot with tracker {tracker} is event {seq} of the record."
                ),
                None => bail!("no ballot with tracker {tracker} in the record"),
            }
        }
    }
    Ok(())
}
