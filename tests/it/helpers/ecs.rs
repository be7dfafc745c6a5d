//! A real ECS API for a test: moto server with a cluster, a Fargate task definition like the
//! ones Terraform registers (network mode awsvpc, container `batch`), and the default VPC's
//! subnet and security group, which RunTask's network configuration must name. Tests read back
//! the tasks a run started with ListTasks and DescribeTasks, as an operator would.
//!
//! `Throttler` stands in front of it and answers RunTask with ThrottlingException a given
//! number of times, the way ECS answers a burst of launches.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, NetworkMode, Task};

use super::block_on;
use super::moto::{Moto, read_request};

pub const FAMILY: &str = "batchbox-test-export-worker";

pub struct EcsWorld {
    pub moto: Moto,
    pub cluster_arn: String,
    pub subnet: String,
    pub security_group: String,
}

impl EcsWorld {
    pub fn start() -> EcsWorld {
        let moto = Moto::start();
        let config = moto.sdk_config();
        let (cluster_arn, subnet, security_group) = block_on(async {
            let ecs = aws_sdk_ecs::Client::new(&config);
            let cluster = ecs
                .create_cluster()
                .cluster_name("batchbox-test")
                .send()
                .await
                .expect("moto creates the cluster");
            ecs.register_task_definition()
                .family(FAMILY)
                .requires_compatibilities(Compatibility::Fargate)
                .network_mode(NetworkMode::Awsvpc)
                .cpu("256")
                .memory("512")
                .container_definitions(
                    ContainerDefinition::builder()
                        .name("batch")
                        .image("batchbox:test")
                        .command("export-worker")
                        .essential(true)
                        // moto sums container memory to place a task (ECS takes the task's).
                        .memory(512)
                        .build(),
                )
                .send()
                .await
                .expect("moto registers the task definition");
            let (subnet, group) = default_network(&moto.endpoint());
            (
                cluster
                    .cluster
                    .and_then(|c| c.cluster_arn)
                    .expect("a cluster ARN"),
                subnet,
                group,
            )
        });
        EcsWorld {
            moto,
            cluster_arn,
            subnet,
            security_group,
        }
    }

    /// The `LAUNCH_*` of an entry launching `export-worker` here, reached through `endpoint`.
    pub fn launch_env(
        &self,
        endpoint: &str,
        max_tasks: u32,
        jobs_per_task: u32,
    ) -> Vec<(&'static str, String)> {
        let mut env = Moto::env(endpoint);
        env.extend([
            ("LAUNCH_BATCH", "export-worker".to_owned()),
            ("LAUNCH_MAX_TASKS", max_tasks.to_string()),
            ("LAUNCH_JOBS_PER_TASK", jobs_per_task.to_string()),
            ("LAUNCH_CLUSTER", self.cluster_arn.clone()),
            ("LAUNCH_TASK_DEFINITION", FAMILY.to_owned()),
            ("LAUNCH_CONTAINER", "batch".to_owned()),
            ("LAUNCH_SUBNETS", self.subnet.clone()),
            ("LAUNCH_SECURITY_GROUPS", self.security_group.clone()),
            ("LAUNCH_ASSIGN_PUBLIC_IP", "false".to_owned()),
        ]);
        env
    }

    /// Every task of the cluster started by `started_by`, described.
    pub fn tasks_started_by(&self, started_by: &str) -> Vec<Task> {
        block_on(async {
            let ecs = aws_sdk_ecs::Client::new(&self.moto.sdk_config());
            let arns = ecs
                .list_tasks()
                .cluster(&self.cluster_arn)
                .started_by(started_by)
                .send()
                .await
                .expect("ListTasks")
                .task_arns
                .unwrap_or_default();
            if arns.is_empty() {
                return Vec::new();
            }
            ecs.describe_tasks()
                .cluster(&self.cluster_arn)
                .set_tasks(Some(arns))
                .send()
                .await
                .expect("DescribeTasks")
                .tasks
                .unwrap_or_default()
        })
    }
}

/// The default VPC's first subnet and its default security group, through EC2's query API
/// (moto creates both when it starts; no EC2 SDK is needed for two reads).
fn default_network(endpoint: &str) -> (String, String) {
    let query = |action: &str| -> String {
        let body = format!("Action={action}&Version=2016-11-15");
        let authority = endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).expect("moto answers");
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n\
Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len(),
            region = super::moto::REGION,
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    };
    let first = |text: &str, tag: &str| -> String {
        let open = format!("<{tag}>");
        let start = text
            .find(&open)
            .unwrap_or_else(|| panic!("no <{tag}> in {text}"))
            + open.len();
        let end = start + text[start..].find('<').unwrap();
        text[start..end].to_owned()
    };
    let subnets = query("DescribeSubnets");
    let groups = query("DescribeSecurityGroups");
    (first(&subnets, "subnetId"), first(&groups, "groupId"))
}

/// A proxy in front of moto that refuses the first `refusals` RunTask calls with
/// ThrottlingException and passes everything else on.
pub struct Throttler {
    pub endpoint: String,
    refused: Arc<AtomicUsize>,
}

impl Throttler {
    pub fn start(upstream: &Moto, refusals: usize) -> Throttler {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.endpoint();
        let refused = Arc::new(AtomicUsize::new(0));
        let counter = refused.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let upstream = upstream.clone();
                let counter = counter.clone();
                std::thread::spawn(move || serve(stream, &upstream, refusals, &counter));
            }
        });
        Throttler { endpoint, refused }
    }

    /// How many RunTask calls were refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// One request per connection: refused, or forwarded to moto and its answer passed back.
fn serve(mut stream: TcpStream, upstream: &str, refusals: usize, refused: &AtomicUsize) {
    let Some((head, body)) = read_request(&stream) else {
        return;
    };
    let is_run_task = head.iter().any(|line| {
        line.to_ascii_lowercase().starts_with("x-amz-target:") && line.ends_with(".RunTask")
    });
    if is_run_task && refused.fetch_add(1, Ordering::SeqCst) < refusals {
        let answer = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n\
x-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        return;
    }
    if is_run_task {
        refused.fetch_sub(1, Ordering::SeqCst);
    }
    let authority = upstream.trim_start_matches("http://");
    let Ok(mut moto) = TcpStream::connect(authority) else {
        return;
    };
    let mut request = Vec::new();
    for line in &head {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        request.extend_from_slice(line.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request.extend_from_slice(&body);
    if moto.write_all(&request).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = moto.read_to_end(&mut answer);
    // The answer as moto gave it, saying that the connection closes after it (so the client
    // never reuses a connection this proxy has closed).
    let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let head = String::from_utf8_lossy(&answer[..split]);
    let mut out: Vec<u8> = head
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .flat_map(|line| [line.as_bytes(), b"\r\n"].concat())
        .collect();
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&answer[split + 4..]);
    let _ = stream.write_all(&out);
}
