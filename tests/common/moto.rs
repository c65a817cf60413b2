//! A throwaway AWS emulator (`python3 -m moto.server`, from `pip install 'moto[server]'`) on a free loopback port, and
//! SDK configuration pointing at it. Tests skip with a message when moto is absent, unless
//! `SYNCRO_NO_SKIP=1` (set by CI) makes that a failure.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        let available = Command::new("python3")
            .args(["-c", "import moto.server, flask"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !available.is_ok_and(|s| s.success()) {
            let msg = "moto_server is not installed (pip install 'moto[server]')";
            super::skip::skip(msg);
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// SDK configuration for the emulator: its endpoint, a region, dummy credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub async fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config().await)
    }

    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
    }

    pub async fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&self.sdk_config().await)
    }

    /// A plain HTTP POST to the emulator (its own API, or an AWS API the tests have no SDK crate for), with an
    /// unsigned AWS authorization header naming `service` so moto routes it. Returns (status, body).
    pub fn post(&self, path: &str, content_type: &str, body: &str, service: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let host = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).expect("connect to moto");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20261125/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send to moto");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read moto's answer");
        let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    /// Make moto execute state machines (its ASL interpreter) and answer Lambda invocations without Docker
    /// (canned responses, else an echo of the payload). Must come before the resources are created.
    pub fn execute_state_machines(&self) {
        let config = r#"{"stepfunctions": {"execute_state_machine": true}, "lambda": {"use_docker": false}}"#;
        let (status, body) = self.post("/moto-api/config", "application/json", config, "moto");
        assert!(status < 300, "moto config: {status} {body}");
    }

    /// Create a Lambda function that never runs our code (moto answers its invocations), returning its ARN.
    pub fn create_lambda(&self, name: &str) -> String {
        let role = "Action=CreateRole&Version=2010-05-08&RoleName=syncrocardpay-test&AssumeRolePolicyDocument=%7B%7D";
        let _ = self.post("/", "application/x-www-form-urlencoded", role, "iam");
        // An empty zip archive (end-of-central-directory record only), base64.
        let function = format!(
            r#"{{"FunctionName": "{name}", "Runtime": "provided.al2023", "Handler": "bootstrap",
                "Role": "arn:aws:iam::123456789012:role/syncrocardpay-test",
                "Code": {{"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}}}"#
        );
        let (status, body) = self.post("/2015-03-31/functions", "application/json", &function, "lambda");
        assert!(status < 300, "create Lambda {name}: {status} {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("CreateFunction answer");
        v["FunctionArn"].as_str().expect("FunctionArn").to_string()
    }

    /// Queue the answers of the next Lambda invocations (any function), in order.
    pub fn queue_lambda_results(&self, results: &[serde_json::Value]) {
        let results: Vec<String> = results.iter().map(|r| r.to_string()).collect();
        let body = serde_json::json!({"results": results, "region": "us-east-1"}).to_string();
        let (status, answer) = self.post("/moto-api/static/lambda-simple/response", "application/json", &body, "moto");
        assert!(status < 300, "queue Lambda results: {status} {answer}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
