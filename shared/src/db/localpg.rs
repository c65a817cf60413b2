//! A throwaway PostgreSQL cluster on 127.0.0.1, for local runs and tests when no database is given.
//!
//! Debian's server binaries (`/usr/lib/postgresql/N/bin`) refuse to run as root, so as root every server
//! command runs as the `postgres` OS user (`runuser`), on a data dir, socket dir and log inside one
//! directory that user owns. Durability is off (`fsync`, `synchronous_commit`): it is a throwaway.
//! The cluster is stopped and its directory deleted on drop, unless [`LocalPostgres::detach`]ed.

use crate::error::{Error, Result};
use rand::Rng;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OS_USER: &str = "postgres";
const DB_USER: &str = "syncro";
const DB_NAME: &str = "syncrocardpay";

/// A running throwaway cluster.
pub struct LocalPostgres {
    dir: PathBuf,
    bin: PathBuf,
    url: String,
    port: u16,
    remove_on_drop: bool,
    stopped: bool,
    /// Stops the cluster and deletes its folder if this process dies without doing it (see [`watchdog`]).
    watchdog: Option<std::process::Child>,
}

/// What stops a throwaway cluster whose owner died without stopping it (killed, ended by SIGPIPE in
/// `… | head`, crashed): waits for the owner's pid to be gone, then, if the cluster's data is still there,
/// stops it as a crash would and deletes its folder. Run in a session of its own (`setsid`), so the signal
/// that ends the owner (a terminal's Ctrl-C) does not end it too.
/// Started as soon as the folder exists: an owner killed during `initdb` leaves an `initdb` that goes on
/// writing, so the folder is removed again until it stays gone (30 tries).
const WATCHDOG: &str = r#"owner=$1; data=$2; dir=$3; shift 3
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
i=0
while [ -d "$dir" ] && [ "$i" -lt 30 ]; do
  if [ -f "$data/postmaster.pid" ]; then "$@" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1; fi
  rm -rf "$dir"; i=$((i + 1))
  if [ -d "$dir" ]; then sleep 1; fi
done"#;

fn is_root() -> bool {
    // SAFETY-free: geteuid via /proc is overkill; `id -u` is always present on Debian.
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// The newest installed server's bin directory (`PG_BIN` overrides).
pub fn server_bin_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(p));
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::LocalPostgres(format!("no free port: {e}")))?;
    Ok(l.local_addr().map_err(|e| Error::LocalPostgres(e.to_string()))?.port())
}

/// Run a server binary, as the `postgres` OS user when we are root.
fn run(bin: &Path, tool: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let exe = bin.join(tool);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", OS_USER, "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| Error::LocalPostgres(format!("cannot run {}: {e}", exe.display())))?;
    if !out.status.success() {
        return Err(Error::LocalPostgres(format!(
            "{tool} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

impl LocalPostgres {
    /// Start a new cluster in `dir` (created; a fresh temp dir when `None`) on `port` (free one when `None`).
    pub fn start(dir: Option<&Path>, port: Option<u16>) -> Result<Self> {
        let bin = server_bin_dir().ok_or_else(|| {
            Error::LocalPostgres(
                "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql), \
                 or give a database with DATABASE_URL"
                    .into(),
            )
        })?;
        let (dir, remove_on_drop) = match dir {
            Some(d) => (d.to_path_buf(), false),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("syncrocardpay-pg-")
                    .tempdir()
                    .map_err(|e| Error::LocalPostgres(format!("temp dir: {e}")))?;
                (t.keep(), true)
            }
        };
        let data = dir.join("data");
        if data.join("PG_VERSION").exists() {
            return Err(Error::LocalPostgres(format!("{} already holds a cluster", dir.display())));
        }
        // Only an empty (or new) folder: start changes the owner and mode of what it holds, and stop deletes it.
        if fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(Error::LocalPostgres(format!(
                "{} is not empty: give a new or empty folder (nothing in it was changed)",
                dir.display()
            )));
        }
        let io = |e: std::io::Error| Error::LocalPostgres(format!("{}: {e}", dir.display()));
        fs::create_dir_all(dir.join("sock")).map_err(io)?;
        let watchdog = if remove_on_drop { watchdog(&bin, &dir) } else { None };
        fs::write(dir.join(MARKER), "a throwaway PostgreSQL cluster made by `syncrocardpay db start`\n").map_err(io)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        let password: String = {
            let mut rng = rand::thread_rng();
            (0..32).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)])).collect()
        };
        let pwfile = dir.join("pwfile");
        fs::write(&pwfile, &password).map_err(io)?;
        fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o600)).map_err(io)?;
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", &format!("{OS_USER}:")])
                .arg(&dir)
                .status()
                .map_err(|e| Error::LocalPostgres(format!("chown: {e}")))?;
            if !st.success() {
                return Err(Error::LocalPostgres(format!("cannot give {} to the {OS_USER} user", dir.display())));
            }
        }
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        let mut pg = LocalPostgres {
            dir: dir.clone(),
            bin: bin.clone(),
            url: String::new(),
            port,
            remove_on_drop,
            stopped: true,
            watchdog,
        };
        let data_s = data.to_string_lossy().to_string();
        run(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                DB_USER,
                "--pwfile",
                &pwfile.to_string_lossy(),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            &[],
        )?;
        let _ = fs::remove_file(&pwfile);
        let conf = format!(
            "\n# throwaway cluster (syncrocardpay)\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = '{}'\nmax_connections = 100\nfsync = off\nsynchronous_commit = off\n\
             full_page_writes = off\nshared_buffers = 128MB\nmax_wal_size = 2GB\n",
            dir.join("sock").display()
        );
        let conf_path = data.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf_path).map_err(io)?;
        text.push_str(&conf);
        fs::write(&conf_path, text).map_err(io)?;
        run(
            &bin,
            "pg_ctl",
            &["-D", &data_s, "-l", &dir.join("server.log").to_string_lossy(), "-w", "-t", "60", "start"],
            &[],
        )?;
        pg.stopped = false;
        let port_s = port.to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match run(
                &bin,
                "createdb",
                &["-h", "127.0.0.1", "-p", &port_s, "-U", DB_USER, DB_NAME],
                &[("PGPASSWORD", &password)],
            ) {
                Ok(()) => break,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        pg.url = format!("postgres://{DB_USER}:{password}@127.0.0.1:{port}/{DB_NAME}");
        let env_file = dir.join("env");
        fs::write(&env_file, format!("DATABASE_URL={}\n", pg.url)).map_err(io)?;
        fs::set_permissions(&env_file, fs::Permissions::from_mode(0o600)).map_err(io)?;
        Ok(pg)
    }

    /// Connection URL (contains the generated password: do not print it).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Leave the cluster running after this value is gone (stop it later with [`stop_dir`]).
    pub fn detach(mut self) -> String {
        self.stopped = true;
        self.remove_on_drop = false;
        self.end_watchdog();
        std::mem::take(&mut self.url)
    }

    /// Start a cluster stopped with [`LocalPostgres::stop`] again, on the same port and data.
    pub fn start_again(&mut self) -> Result<()> {
        if self.stopped {
            let data = self.dir.join("data");
            run(
                &self.bin,
                "pg_ctl",
                &[
                    "-D",
                    &data.to_string_lossy(),
                    "-l",
                    &self.dir.join("server.log").to_string_lossy(),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                &[],
            )?;
            self.stopped = false;
        }
        Ok(())
    }

    /// Stop now, as a crash would (immediate shutdown: sessions cut, no checkpoint; idempotent).
    pub fn stop(&mut self) {
        if !self.stopped {
            let data = self.dir.join("data");
            let _ = run(
                &self.bin,
                "pg_ctl",
                &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "-t", "30", "stop"],
                &[],
            );
            self.stopped = true;
        }
    }
}

impl LocalPostgres {
    fn end_watchdog(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        self.stop();
        if self.remove_on_drop {
            let _ = fs::remove_dir_all(&self.dir);
        }
        self.end_watchdog();
    }
}

/// Start the [`WATCHDOG`] of a throwaway cluster in `dir`; `None` (and a warning) when it cannot start: the
/// cluster then lives only as long as its owner stops it.
fn watchdog(bin: &Path, dir: &Path) -> Option<std::process::Child> {
    let mut cmd = Command::new("setsid");
    cmd.args(["sh", "-c", WATCHDOG, "sh"]).arg(std::process::id().to_string()).arg(dir.join("data")).arg(dir);
    if is_root() {
        cmd.args(["runuser", "-u", OS_USER, "--"]);
    }
    cmd.arg(bin.join("pg_ctl")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    match cmd.spawn() {
        Ok(child) => Some(child),
        Err(e) => {
            tracing::warn!(error = %e, "no watchdog for the throwaway cluster: it is stopped only on a normal exit");
            None
        }
    }
}

/// The file `db start` leaves in the folders it makes: `db stop` removes only a folder that has it.
pub const MARKER: &str = ".syncrocardpay-cluster";

/// Stop a detached cluster in `dir` and delete the directory — only a folder `db start` made (it holds
/// [`MARKER`]); any other folder is left as it is. A folder that does not exist is already stopped.
pub fn stop_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.join(MARKER).is_file() {
        return Err(Error::LocalPostgres(format!(
            "{} was not made by `syncrocardpay db start` (no {MARKER} in it): nothing stopped or removed",
            dir.display()
        )));
    }
    let data = dir.join("data");
    if data.join("postmaster.pid").exists() {
        let bin = server_bin_dir().ok_or_else(|| Error::LocalPostgres("server binaries not found".into()))?;
        run(&bin, "pg_ctl", &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "-t", "30", "stop"], &[]).or_else(
            |_| run(&bin, "pg_ctl", &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "-t", "30", "stop"], &[]),
        )?;
    }
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| Error::LocalPostgres(format!("{}: {e}", dir.display())))?;
    }
    Ok(())
}
