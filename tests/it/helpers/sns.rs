//! A real SNS API for a test: moto server (installed by scripts/test.sh, found through
//! `MOTO_SERVER_BIN`) as its own process on a free port, with a topic whose HTTP subscription
//! delivers to a small endpoint in the test, so a test reads what subscribers receive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::{block_on, eventually, free_port};

const REGION: &str = "ap-northeast-1";

pub struct SnsServer {
    pub port: u16,
    pub topic_arn: String,
    child: Option<Child>,
    received: Arc<Mutex<Vec<Value>>>,
}

impl SnsServer {
    /// moto with one topic, subscribed by an HTTP endpoint of this test.
    pub fn start() -> SnsServer {
        let binary = std::env::var("MOTO_SERVER_BIN").unwrap_or_else(|_| {
            panic!("MOTO_SERVER_BIN is not set: SNS tests need moto server. Run scripts/test.sh, which installs it.")
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
        let received = Arc::new(Mutex::new(Vec::new()));
        let endpoint = serve_endpoint(received.clone());
        let topic_arn = block_on(async {
            let client = client(port).await;
            let topic = client
                .create_topic()
                .name("batchbox-test-alerts")
                .send()
                .await
                .expect("moto creates the topic")
                .topic_arn
                .expect("a topic ARN");
            client
                .subscribe()
                .topic_arn(&topic)
                .protocol("http")
                .endpoint(format!("http://127.0.0.1:{endpoint}/notify"))
                .send()
                .await
                .expect("moto subscribes the endpoint");
            topic
        });
        SnsServer {
            port,
            topic_arn,
            child: Some(child),
            received,
        }
    }

    /// What `batch` needs to publish to this server's topic.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WATCH_TOPIC_ARN", self.topic_arn.clone()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ]
    }

    /// The notifications the subscriber has received so far (`Subject`, `Message`, ...).
    pub fn notifications(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n["Type"] == "Notification")
            .cloned()
            .collect()
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SnsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn client(port: u16) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new(REGION))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// An HTTP endpoint that keeps every JSON body POSTed to it; returns its port.
fn serve_endpoint(received: Arc<Mutex<Vec<Value>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(body) = read_request(&stream)
                && let Ok(value) = serde_json::from_slice::<Value>(&body)
            {
                received.lock().unwrap().push(value);
            }
            let _ = (&stream)
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    port
}

fn read_request(stream: &TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}
