//! A PostgreSQL server of one test's own, in a temporary directory on a free port, so that the
//! test can restart it without disturbing the other tests (they share `TEST_DATABASE_URL`'s).
//! It needs PostgreSQL's server binaries (`initdb`, `pg_ctl`), as `scripts/test.sh` does; without
//! them the test fails, it never skips. As root, the server runs as the `postgres` user.

use std::path::PathBuf;
use std::process::Command;

pub struct PgServer {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PgServer {
    pub fn start() -> PgServer {
        let bindir = bindir();
        let dir = tempfile::tempdir().expect("temp dir");
        if is_root() {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let port = super::free_port();
        let server = PgServer { bindir, dir, port };
        run(server
            .as_postgres("initdb")
            .arg("-D")
            .arg(server.data())
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]));
        run(&mut server.pg_ctl("start"));
        server
    }

    /// The admin URL, for `Sandbox::migrated_on`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart` (fast shutdown: every connection is cut), returning once it accepts
    /// connections again.
    pub fn restart(&self) {
        run(&mut self.pg_ctl("restart"));
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, action: &str) -> Command {
        let mut command = self.as_postgres("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("postgres.log"))
            .args(["-w", "-m", "fast", "-o"])
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
                self.port,
                self.dir.path().display()
            ))
            .arg(action);
        command
    }

    fn as_postgres(&self, program: &str) -> Command {
        let program = self.bindir.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// The newest PostgreSQL's server binaries, where Debian puts them or where `pg_config` says.
fn bindir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
    });
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("bin"))
        .chain(from_pg_config)
        .find(|dir| dir.join("initdb").is_file())
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server binaries (initdb, pg_ctl) were not found; \
                 scripts/test.sh installs them"
            )
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
