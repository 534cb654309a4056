//! `scrutin receipt check`: is the ballot a board acknowledged on the record, at the
//! position it was given (spec §14.2)? A receipt is signed by the board key named in the
//! election definition, so when the ballot is missing from a record that reaches its
//! position, the receipt is evidence that the board removed it or forked the record.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use scrutin_election::roles::{self, Receipt, ReceiptCheck};
use scrutin_election::verify::RecordState;

use crate::record_file::read_small;
use crate::remote::Remote;

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Check a receipt (the JSON the booth or `scrutin ballot cast --server` saved) against
    /// a record file, or against the record a server or monitor serves now. Exits 0 if
    /// the ballot is on the record at its position, 1 otherwise.
    Check {
        /// The receipt file.
        receipt: PathBuf,
        /// The record to check it against.
        #[arg(long, required_unless_present = "server")]
        record: Option<PathBuf>,
        /// Or download the record from this server (or monitor) URL.
        #[arg(long, conflicts_with = "record", requires = "election")]
        server: Option<String>,
        /// The election's id on that server.
        #[arg(long, requires = "server")]
        election: Option<String>,
    },
}

pub fn run(cmd: ReceiptCommand) -> Result<()> {
    let ReceiptCommand::Check {
        receipt,
        record,
        server,
        election,
    } = cmd;
    let text = read_small(&receipt, 1 << 16)?;
    let receipt: Receipt = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a scrutin receipt", receipt.display()))?;
    let (bytes, source) = match (record, server, election) {
        (Some(path), _, _) => (
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, Some(server), Some(election)) => (
            Remote::new(&server, &election, None)?.record()?,
            format!("the record served by {server}"),
        ),
        _ => bail!("give --record FILE, or --server URL and --election ID"),
    };
    let state = RecordState::from_record(&bytes).map_err(|e| {
        anyhow::anyhow!("{source} does not verify ({e}): it cannot confirm or refute a receipt")
    })?;
    match roles::check_receipt(&bytes, &state, &receipt)? {
        ReceiptCheck::OnRecord { replaced_by: None } => {
            println!(
                "The ballot {} is on {source} at position {}, as the board's signed receipt says; it is its credential's last ballot, so it counts (weight {}).",
                receipt.tracker, receipt.seq, receipt.weight
            );
            Ok(())
        }
        ReceiptCheck::OnRecord {
            replaced_by: Some(later),
        } => {
            println!(
                "The ballot {} is on {source} at position {}, but a later ballot of the same credential (position {later}) replaced it: only that one counts.",
                receipt.tracker, receipt.seq
            );
            Ok(())
        }
        ReceiptCheck::NotYet { length } => bail!(
            "{source} has only {length} events: it does not reach position {} yet (download a newer record)",
            receipt.seq
        ),
        ReceiptCheck::Missing { found } => bail!(
            "EVIDENCE: the board signed this receipt for ballot {} at position {} (line hash {}), but {source} holds another line there (hash {found}): the ballot was removed or the record was forked after it. Keep the receipt and this record.",
            receipt.tracker,
            receipt.seq,
            receipt.head
        ),
        ReceiptCheck::WrongWeight { listed } => bail!(
            "EVIDENCE: the board's receipt says weight {} but the credential list gives this ballot's credential weight {listed}",
            receipt.weight
        ),
    }
}
