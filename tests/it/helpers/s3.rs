//! A real S3 API server for a test: `s3s-fs` (installed by scripts/test.sh) as its own process on
//! a free port, over a directory, checking SigV4 signatures. `stop` is a real outage.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{block_on, eventually};

pub const BUCKET: &str = "batchbox-exports-test";
const ACCESS_KEY: &str = "batchbox-test-key";
const SECRET_KEY: &str = "batchbox-test-secret";

pub struct S3Server {
    pub port: u16,
    root: PathBuf,
    child: Option<Child>,
}

impl S3Server {
    pub fn start(root: &Path) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).expect("bucket directory");
        let port = super::free_port();
        let mut server = S3Server {
            port,
            root: root.to_path_buf(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn restart(&mut self) {
        let binary = std::env::var("S3S_FS_BIN").unwrap_or_else(|_| {
            panic!("S3S_FS_BIN is not set: S3 tests need the s3s-fs server. Run scripts/test.sh, which installs it.")
        });
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {binary}: {e}"));
        self.child = Some(child);
        let port = self.port;
        eventually(
            "the S3 server accepts connections",
            Duration::from_secs(20),
            || TcpStream::connect(("127.0.0.1", port)).ok(),
        );
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What `batch` needs to use this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("EXPORT_BUCKET", BUCKET.to_owned()),
            ("EXPORT_S3_FORCE_PATH_STYLE", "true".to_owned()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
        ]
    }

    fn client(&self) -> aws_sdk_s3::Client {
        let credentials =
            aws_sdk_s3::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{}", self.port))
            .credentials_provider(credentials)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Every object key in the bucket, through the S3 API.
    pub fn keys(&self) -> Vec<String> {
        let client = self.client();
        block_on(async {
            let listed = client
                .list_objects_v2()
                .bucket(BUCKET)
                .send()
                .await
                .expect("ListObjectsV2");
            let mut keys: Vec<String> = listed
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect();
            keys.sort();
            keys
        })
    }

    /// One object's bytes and content type, through the S3 API.
    pub fn get(&self, key: &str) -> (Vec<u8>, Option<String>) {
        let client = self.client();
        block_on(async {
            let object = client
                .get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .expect("GetObject");
            let content_type = object.content_type().map(str::to_owned);
            let bytes = object
                .body
                .collect()
                .await
                .expect("object body")
                .into_bytes()
                .to_vec();
            (bytes, content_type)
        })
    }

    /// Multipart uploads started and neither completed nor aborted. This server has no
    /// ListMultipartUploads; it keeps each open upload as a `.upload-<id>.json` file in its root.
    pub fn open_uploads(&self) -> usize {
        std::fs::read_dir(&self.root)
            .expect("server root")
            .filter_map(Result::ok)
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.starts_with(".upload-") && name.ends_with(".json")
            })
            .count()
    }

    /// Starts a multipart upload and leaves it open (as a killed worker would).
    pub fn leave_upload_open(&self, key: &str) -> String {
        let client = self.client();
        block_on(async {
            let created = client
                .create_multipart_upload()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .expect("CreateMultipartUpload");
            created.upload_id().expect("upload id").to_owned()
        })
    }

    pub fn abort_upload(&self, key: &str, upload_id: &str) {
        let client = self.client();
        block_on(async {
            client
                .abort_multipart_upload()
                .bucket(BUCKET)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await
                .expect("AbortMultipartUpload");
        });
    }

    /// The SDK configuration a library test uses to talk to this server.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        let credentials =
            aws_sdk_s3::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
        block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_sdk_s3::config::Region::new("us-east-1"))
                .endpoint_url(format!("http://127.0.0.1:{}", self.port))
                .credentials_provider(credentials)
                .load(),
        )
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
