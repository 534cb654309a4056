//! Reading, verifying and appending to an election record file.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use scrutin_election::ceremony;
use scrutin_election::record::Event;
use scrutin_election::verify::{Progress, RecordState, VerifiedRecord, verify_record};

/// Largest record read (64 GiB): beyond, the file is surely not a record.
const MAX_RECORD: u64 = 64 << 30;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// Reads and verifies a record; shows a progress bar on a terminal when `show_progress`.
pub fn verify_path(path: &Path, show_progress: bool) -> Result<VerifiedRecord> {
    let bytes = read_record(path)?;
    verify_bytes(&bytes, show_progress)
        .map_err(|e| anyhow::anyhow!("{} does not verify: {e}", path.display()))
}

/// Reads a record file, refusing one larger than any record.
pub fn read_record(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_RECORD {
        bail!("{} is larger than {} bytes", path.display(), MAX_RECORD);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Verifies a record held in memory (spec §12); shows a progress bar on a terminal when
/// `show_progress` and the record is over 1 MiB.
pub fn verify_bytes(
    bytes: &[u8],
    show_progress: bool,
) -> std::result::Result<VerifiedRecord, scrutin_election::verify::VerifyError> {
    let size = bytes.len() as u64;
    let bar = if show_progress && std::io::stderr().is_terminal() && size > 1 << 20 {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("verifying {bar:40} {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(Bar(bar))
    } else {
        None
    };
    let outcome = match &bar {
        Some(b) => verify_record(bytes, b),
        None => verify_record(bytes, &scrutin_election::verify::NoProgress),
    };
    if let Some(b) = bar {
        b.0.finish_and_clear();
    }
    outcome
}

/// Appends events to the record whose verified state is `state`, and syncs the file.
pub fn append(path: &Path, state: &RecordState, events: &[Event]) -> Result<()> {
    let lines = ceremony::lines_after(state, events)?;
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {} for appending", path.display()))?;
    file.write_all(lines.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Creates a new record with its first events; refuses to overwrite a file.
pub fn create(path: &Path, events: &[Event]) -> Result<()> {
    let lines = ceremony::lines_after(&RecordState::empty(), events)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (does it exist already?)", path.display()))?;
    file.write_all(lines.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Writes a secret file readable by its owner only; refuses to overwrite one.
pub fn write_secret(path: &Path, contents: &str) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (does it exist already?)", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Reads a small file (at most `limit` bytes) as text.
pub fn read_small(path: &Path, limit: u64) -> Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > limit {
        bail!("{} is larger than {limit} bytes", path.display());
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}
