//! moto server, the AWS API emulator (installed by scripts/test.sh, found through
//! `MOTO_SERVER_BIN`), as a process of its own on a free port: one per test, so tests never
//! see each other's topics, clusters or tasks. SNS and ECS tests build on it.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{eventually, free_port};

pub const REGION: &str = "ap-northeast-1";

pub struct Moto {
    pub port: u16,
    child: Option<Child>,
}

impl Moto {
    pub fn start() -> Moto {
        let binary = std::env::var("MOTO_SERVER_BIN").unwrap_or_else(|_| {
            panic!("MOTO_SERVER_BIN is not set: these tests need moto server. Run scripts/test.sh, which installs it.")
        });
        let port = free_port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {binary}: {e}"));
        eventually("moto accepts connections", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Moto {
            port,
            child: Some(child),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the tests' own AWS clients use.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config(&self.endpoint())
    }

    /// What `batch` needs to talk to this server (through `endpoint`, which may stand in front
    /// of it).
    pub fn env(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ]
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            aws_sdk_ecs::config::Credentials::new("testing", "testing", None, None, "test"),
        ))
        .build()
}

/// One HTTP/1.1 request read from `stream`: its header lines and its body.
pub fn read_request(stream: &TcpStream) -> Option<(Vec<String>, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
        head.push(line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}
