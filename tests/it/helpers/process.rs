//! `batch` as a process: a finished one (`Output`) and one still running (`Running`), and
//! their JSON log lines.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A finished `batch` process.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub(super) fn of(mut command: Command) -> Output {
        let output = command.output().expect("run batch");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Every stdout line as JSON; panics naming the first line that is not.
    pub fn json_lines(&self) -> Vec<Value> {
        json_lines(&self.stdout)
    }

    /// The one `run finished` line.
    pub fn finished(&self) -> Value {
        finished_line(&self.json_lines())
    }

    pub fn run_id(&self) -> String {
        self.finished()["run_id"]
            .as_str()
            .expect("run_id")
            .to_owned()
    }
}

pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect()
}

pub fn finished_line(lines: &[Value]) -> Value {
    let finished: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "run finished")
        .collect();
    assert_eq!(
        finished.len(),
        1,
        "exactly one `run finished` line in {lines:#?}"
    );
    finished[0].clone()
}

/// A `batch` process still running, its stdout collected line by line.
pub struct Running {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Running {
    pub(super) fn spawn(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn batch");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Waits (polling, with a deadline) for a log line with this message; returns it.
    pub fn wait_for_message(&self, message: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l["message"] == message);
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no `{message}` line within {within:?}; lines so far: {:#?}",
                self.lines.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit (with a deadline) and returns its code and all its lines.
    pub fn wait(mut self, within: Duration) -> (Option<i32>, Vec<String>, Duration) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                panic!("batch did not exit within {within:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let waited = started.elapsed();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("reader thread");
        }
        let lines = self.lines.lock().unwrap().clone();
        (status.code(), lines, waited)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
