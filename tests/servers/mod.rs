//! The Redis and PostgreSQL servers the replica tests run against: real ones, on loopback,
//! started by `scripts/test-servers.sh` (which `scripts/test.sh` and `.ci/run` call) and
//! named by `CITEBOT_TEST_REDIS_URL` and `CITEBOT_TEST_DATABASE_URL`.
//!
//! A test that needs a server and finds no variable, or a server that does not answer,
//! fails with a message that says how to start them: it never passes without them.
//! Each test gets its own Redis namespace and its own PostgreSQL database, so that tests
//! running at once do not see each other's keys and rows. A test that stops a server
//! starts servers of its own ([`OwnServers`]).

#![allow(dead_code)] // Each test binary uses its own part of the helpers.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const HOW: &str = "start the test servers first: `eval \"$(scripts/test-servers.sh start)\"` \
                   (or run the tests with scripts/test.sh, as .ci/run does)";

/// A variable naming a server; fails the test when unset.
fn variable(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => panic!("{name} is not set: this test needs a real server; {HOW}"),
    }
}

/// `host:port` of a `scheme://[user@]host:port/...` URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

/// Whether a Redis answers PING at `url`.
pub fn redis_answers(url: &str) -> bool {
    let Some(addr) = host_port(url)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// The test Redis; fails the test when it is not set or does not answer.
pub fn redis_url() -> String {
    let url = variable("CITEBOT_TEST_REDIS_URL");
    assert!(
        redis_answers(&url),
        "CITEBOT_TEST_REDIS_URL={url}: no Redis answers there; {HOW}"
    );
    url
}

/// A namespace no other test uses.
pub fn namespace(test: &str) -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).unwrap();
    format!("test-{test}-{:08x}", u32::from_le_bytes(bytes))
}

/// A fresh, empty database on the test PostgreSQL, for one test; its URL. Call off the
/// async threads (the synchronous client runs a runtime of its own).
pub fn fresh_database(test: &str) -> String {
    let admin = variable("CITEBOT_TEST_DATABASE_URL");
    fresh_database_on(&admin, test)
}

/// [`fresh_database`] on the server that `admin` reaches.
pub fn fresh_database_on(admin: &str, test: &str) -> String {
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap_or_else(|e| {
        panic!("CITEBOT_TEST_DATABASE_URL={admin}: PostgreSQL does not answer ({e}); {HOW}")
    });
    let name = namespace(test).replace('-', "_");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("a database for the test");
    let (base, _) = admin.rsplit_once('/').expect("a URL ending in /DATABASE");
    format!("{base}/{name}")
}

/// A Redis and a PostgreSQL of this test's own, which it may stop and start; stopped when
/// dropped.
pub struct OwnServers {
    dir: tempfile::TempDir,
    pub redis_url: String,
    pub database_url: String,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-servers.sh")
}

impl OwnServers {
    pub fn start() -> OwnServers {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "scripts/test-servers.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8_lossy(&out.stdout).to_string();
        let value = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("{name} not in the script's output: {env}"))
                .to_string()
        };
        OwnServers {
            redis_url: value("CITEBOT_TEST_REDIS_URL"),
            database_url: value("CITEBOT_TEST_DATABASE_URL"),
            dir,
        }
    }

    /// `down` or `up`, `redis` or `postgres`.
    pub fn set(&self, what: &str, server: &str) {
        let status = Command::new("bash")
            .arg(script())
            .args([what, server])
            .arg(self.dir.path())
            .status()
            .expect("bash runs");
        assert!(status.success(), "scripts/test-servers.sh {what} {server}");
    }
}

impl Drop for OwnServers {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}
