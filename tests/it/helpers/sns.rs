//! A real SNS API for a test: moto server (installed by scripts/test.sh, found through
//! `MOTO_SERVER_BIN`) as its own process on a free port, with a topic whose HTTP subscription
//! delivers to a small endpoint in the test, so a test reads what subscribers receive.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::block_on;
use super::moto::{Moto, read_request};

pub struct SnsServer {
    pub topic_arn: String,
    moto: Moto,
    received: Arc<Mutex<Vec<Value>>>,
}

impl SnsServer {
    /// moto with one topic, subscribed by an HTTP endpoint of this test.
    pub fn start() -> SnsServer {
        let moto = Moto::start();
        let received = Arc::new(Mutex::new(Vec::new()));
        let endpoint = serve_endpoint(received.clone());
        let topic_arn = subscribed_topic(&moto, "batchbox-test-alerts", endpoint);
        SnsServer {
            topic_arn,
            moto,
            received,
        }
    }

    /// What `batch` needs to publish to this server's topic.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = Moto::env(&self.moto.endpoint());
        env.push(("WATCH_TOPIC_ARN", self.topic_arn.clone()));
        env
    }

    /// The notifications the subscriber has received so far (`Subject`, `Message`, ...).
    pub fn notifications(&self) -> Vec<Value> {
        notifications(&self.received)
    }

    /// Another topic on the same server, with its own subscribed endpoint (e.g. the chat topic).
    pub fn add_topic(&self, name: &str) -> Topic {
        let received = Arc::new(Mutex::new(Vec::new()));
        let arn = subscribed_topic(&self.moto, name, serve_endpoint(received.clone()));
        Topic { arn, received }
    }

    /// Stops the server: publishing fails from now on.
    pub fn stop(&mut self) {
        self.moto.stop();
    }
}

/// A topic added to the server and what its subscriber received.
pub struct Topic {
    pub arn: String,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Topic {
    pub fn notifications(&self) -> Vec<Value> {
        notifications(&self.received)
    }
}

fn notifications(received: &Mutex<Vec<Value>>) -> Vec<Value> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n["Type"] == "Notification")
        .cloned()
        .collect()
}

/// Creates topic `name` on `moto`, subscribed by the HTTP endpoint on `endpoint`; its ARN.
fn subscribed_topic(moto: &Moto, name: &str, endpoint: u16) -> String {
    block_on(async {
        let client = aws_sdk_sns::Client::new(&moto.sdk_config());
        let topic = client
            .create_topic()
            .name(name)
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
    })
}

/// An HTTP endpoint that keeps every JSON body POSTed to it; returns its port.
fn serve_endpoint(received: Arc<Mutex<Vec<Value>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some((_, body)) = read_request(&stream)
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
