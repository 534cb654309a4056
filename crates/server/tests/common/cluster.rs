//! PostgreSQL clusters of a test's own, on loopback, for the crash and failover tests: a
//! primary made with `initdb`, a streaming standby made with `pg_basebackup -R`, killed with
//! SIGKILL (the postmaster and every backend at once, as a power cut would), restarted or
//! promoted with `pg_ctl`. Each lives in a temporary folder and is stopped when dropped.
//!
//! PostgreSQL refuses to run as root: when the tests run as root (CI), every PostgreSQL
//! command runs as the `postgres` user through `runuser`, and the folders are given to it.
//! The server binaries are found in `SCRUTIN_PG_BIN`, else the newest
//! `/usr/lib/postgresql/*/bin`, else `pg_config --bindir`. Without them the test says so
//! loudly and passes, unless `SCRUTIN_REQUIRE_POSTGRES=1` (CI), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether missing tools must fail the test rather than skip it.
pub fn required() -> bool {
    std::env::var("SCRUTIN_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

/// Says loudly that `test` is skipped, or fails it when tools are required.
pub fn skip(test: &str, why: &str) {
    assert!(
        !required(),
        "SCRUTIN_REQUIRE_POSTGRES=1 but {test} cannot run: {why}"
    );
    let _ = writeln!(std::io::stderr(), "\n**** {test}: skipped: {why} ****\n");
}

/// The folder of the PostgreSQL server binaries (`initdb`, `pg_ctl`, `pg_basebackup`), or
/// `None` after [`skip`].
pub fn bin_dir(test: &str) -> Option<PathBuf> {
    let has = |d: &Path| {
        ["initdb", "pg_ctl", "pg_basebackup", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    if let Ok(d) = std::env::var("SCRUTIN_PG_BIN") {
        let d = PathBuf::from(d);
        if has(&d) {
            return Some(d);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let d = e.path().join("bin");
            has(&d).then_some((v, d))
        })
        .collect();
    found.sort();
    if let Some((_, d)) = found.pop() {
        return Some(d);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has(&d) {
            return Some(d);
        }
    }
    skip(
        test,
        "the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) were not found: \
         install the Debian package postgresql or set SCRUTIN_PG_BIN",
    );
    None
}

/// Whether this process runs as root (then PostgreSQL runs as the `postgres` user).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command of PostgreSQL's, run as the `postgres` user when this process is root.
fn pg_command(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A temporary folder the PostgreSQL user may write in.
pub fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        let mut c = Command::new("chown");
        c.args(["postgres:postgres"]).arg(dir.path());
        run(c, "chown");
    }
    dir
}

/// The superuser of the test clusters (trust authentication on loopback only).
pub const USER: &str = "scrutin";

/// One PostgreSQL server: its data folder, port and log.
pub struct Cluster {
    bin: PathBuf,
    pub data: PathBuf,
    pub port: u16,
    pub log: PathBuf,
    running: bool,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    fn settings(dir: &Path, name: &str, port: u16) -> String {
        format!(
            "\n# test settings\nport = {port}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\nmax_connections = 100\nfsync = on\n\
             synchronous_commit = on\nwal_level = replica\nmax_wal_senders = 5\n\
             hot_standby = on\nwal_keep_size = '256MB'\ncluster_name = '{name}'\n\
             shared_buffers = '32MB'\nlogging_collector = off\n",
            dir.display()
        )
    }

    /// A new primary, initialised with `initdb` in `root/name` (not started).
    pub fn init(bin: &Path, root: &Path, name: &str) -> Self {
        let data = root.join(name);
        let mut c = pg_command(&bin.join("initdb"));
        c.args([
            "-U",
            USER,
            "-A",
            "trust",
            "--no-instructions",
            "-E",
            "UTF8",
            "-D",
        ])
        .arg(&data);
        run(c, "initdb");
        let port = free_port();
        let cluster = Self {
            bin: bin.to_owned(),
            log: root.join(format!("{name}.log")),
            data,
            port,
            running: false,
        };
        cluster.configure(&Self::settings(root, name, port));
        cluster
    }

    /// A streaming standby of `primary` (running), made with `pg_basebackup -R` in
    /// `root/name` (not started).
    pub fn standby_of(primary: &Cluster, root: &Path, name: &str) -> Self {
        let data = root.join(name);
        let mut c = pg_command(&primary.bin.join("pg_basebackup"));
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            USER,
        ])
        .args(["-R", "-X", "stream", "--checkpoint=fast", "-D"])
        .arg(&data)
        .arg("-d")
        .arg(format!(
            "host=127.0.0.1 port={} user={USER} application_name={name}",
            primary.port
        ));
        run(c, "pg_basebackup");
        let port = free_port();
        let cluster = Self {
            bin: primary.bin.clone(),
            log: root.join(format!("{name}.log")),
            data,
            port,
            running: false,
        };
        cluster.configure(&Self::settings(root, name, port));
        cluster
    }

    /// Appends settings to `postgresql.conf` (later lines win).
    pub fn configure(&self, settings: &str) {
        let path = self.data.join("postgresql.conf");
        let mut conf = std::fs::read_to_string(&path).unwrap();
        conf.push_str(settings);
        conf.push('\n');
        std::fs::write(&path, conf).unwrap();
    }

    /// Starts the server and waits until it accepts connections (a standby: until it is
    /// up in recovery).
    pub fn start(&mut self) {
        let mut c = pg_command(&self.bin.join("pg_ctl"));
        c.args(["start", "-w", "-t", "60", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = c.stdin(Stdio::null()).output().unwrap();
            if out.status.success() {
                break;
            }
            // After a kill, the old processes may still be going away.
            assert!(
                Instant::now() < deadline,
                "pg_ctl start failed: {}\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        self.running = true;
    }

    /// The postmaster's process id, from `postmaster.pid`.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// SIGKILL to the postmaster and all its processes at once (no shutdown, no
    /// checkpoint: crash recovery at the next start).
    pub fn kill9(&mut self) {
        let Some(pid) = self.pid() else {
            panic!("no postmaster.pid in {}", self.data.display());
        };
        let mut pids = vec![pid];
        pids.extend(children(pid));
        let mut c = Command::new("kill");
        c.arg("-KILL").args(pids.iter().map(u32::to_string));
        let _ = c.stdin(Stdio::null()).output();
        // Until every one of them is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while pids
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.running = false;
    }

    /// `pg_ctl promote`: the standby becomes a primary that accepts writes.
    pub fn promote(&self) {
        let mut c = pg_command(&self.bin.join("pg_ctl"));
        c.args(["promote", "-w", "-t", "60", "-D"]).arg(&self.data);
        run(c, "pg_ctl promote");
    }

    /// `pg_ctl stop -m immediate`.
    pub fn stop(&mut self) {
        if self.running {
            let mut c = pg_command(&self.bin.join("pg_ctl"));
            c.args(["stop", "-m", "immediate", "-w", "-D"])
                .arg(&self.data);
            let _ = c.stdin(Stdio::null()).output();
            self.running = false;
        }
    }

    /// The URL of database `db` on this server, as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://{USER}@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The processes whose parent is `pid` (from `/proc`).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces, so split after its ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}
