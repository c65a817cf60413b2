//! Settings: database, FTPS and acquirer API credentials from AWS SSM Parameter Store (`{prefix}/db/{host,user,
//! password,name,port}`, `{prefix}/ftps/{host,user,password,port}`, `{prefix}/stone/{stone_code,secret_key}`,
//! `{prefix}/pagbank/{user,token}`, SecureString decrypted), or from the environment
//! for local runs (`SYNCROCARDPAY_DB_HOST`…). Secrets are [`Secret`]s: printing one shows `********`, and no
//! error message carries a parameter's value — only its name.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

/// The default parameter path prefix.
pub const DEFAULT_PREFIX: &str = "/syncrocardpay";

/// A value that must never be printed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value itself, for the one place that needs it (a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

/// Why settings could not be read. Names parameters, never their values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing parameter(s): {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("parameter {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("cannot read parameters from {source_name}: {detail}")]
    Unavailable { source_name: String, detail: String },
}

/// PostgreSQL connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub name: String,
    /// Optional `{prefix}/db/sslmode` (`require`, `verify-full`, `disable`…); without it a remote server
    /// must speak TLS (see [`crate::db`]).
    pub sslmode: Option<String>,
    /// Optional `{prefix}/db/sslrootcert`: the CA bundle (PEM text) the server's certificate must chain to,
    /// e.g. Amazon RDS's regional bundle; without it, `PGSSLROOTCERT` or the system's CAs.
    pub ca_bundle: Option<String>,
    /// Optional `{prefix}/db/migrator_{user,password,host}`: who applies the migrations at deploy time (the
    /// owner of the schema, with DDL rights) and where (the instance's own endpoint when the runtime goes
    /// through RDS Proxy). Without them, the runtime user migrates.
    pub migrator: Option<Migrator>,
}

/// The schema owner's credentials (see [`DbConfig::migrator`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrator {
    pub user: String,
    pub password: Secret,
    pub host: Option<String>,
}

impl DbConfig {
    /// `postgres://user:password@host:port/name[?sslmode=…&sslrootcert=…]`, user and password
    /// percent-encoded; a CA bundle is written to a file in the temp dir (named by its content) for the driver.
    /// Contains the secret: pass it to the driver, never print it (use [`crate::db::redact_url`]).
    pub fn url(&self) -> Result<String, ConfigError> {
        let mut url = format!(
            "postgres://{}:{}@{}:{}/{}",
            percent_encode(&self.user),
            percent_encode(self.password.expose()),
            self.host,
            self.port,
            percent_encode(&self.name)
        );
        let mut query = Vec::new();
        if let Some(mode) = &self.sslmode {
            query.push(format!("sslmode={}", percent_encode(mode.trim())));
        }
        if let Some(pem) = &self.ca_bundle {
            let path = private_ca_file(pem).map_err(|e| ConfigError::Invalid {
                name: "db/sslrootcert".into(),
                reason: format!("cannot write it to a private temporary file: {e}"),
            })?;
            query.push(format!("sslrootcert={}", percent_encode(&path.to_string_lossy())));
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        Ok(url)
    }

    /// The URL the migrations run with: the migrator's credentials (and host) when configured, else
    /// [`Self::url`]. Contains the secret.
    pub fn migrator_url(&self) -> Result<String, ConfigError> {
        match &self.migrator {
            None => self.url(),
            Some(m) => DbConfig {
                user: m.user.clone(),
                password: m.password.clone(),
                host: m.host.clone().unwrap_or_else(|| self.host.clone()),
                migrator: None,
                ..self.clone()
            }
            .url(),
        }
    }
}

/// The file the driver reads a CA bundle from: created once per bundle and process, with a random name,
/// `O_EXCL` and mode 0600 (tempfile), so no other local user can plant a certificate of their own where it is
/// looked for (a predictable `/tmp/syncrocardpay-db-ca-<hash>.pem`, reused when present, once allowed that).
/// The files are removed when the process exits normally (they were left behind, one per run).
fn private_ca_file(pem: &str) -> std::io::Result<std::path::PathBuf> {
    use sha2::Digest;
    use std::io::Write;
    let digest = hex::encode(sha2::Sha256::digest(pem.as_bytes()));
    let mut files = CA_FILES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = files.get(&digest) {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
    }
    let mut file = tempfile::Builder::new().prefix("syncrocardpay-db-ca-").suffix(".pem").tempfile()?;
    file.write_all(pem.as_bytes())?;
    file.flush()?;
    let path = file.into_temp_path();
    let kept = path.to_path_buf();
    if files.is_empty() {
        // SAFETY: registering a plain `extern "C" fn` that only takes a lock and removes files.
        unsafe {
            libc::atexit(remove_ca_files);
        }
    }
    files.insert(digest, path);
    Ok(kept)
}

/// The CA bundles written for the driver, by digest; each file removed when its `TempPath` is dropped.
static CA_FILES: std::sync::OnceLock<std::sync::Mutex<HashMap<String, tempfile::TempPath>>> =
    std::sync::OnceLock::new();

/// At exit: drop (so remove) the CA bundles written (statics are never dropped on their own).
extern "C" fn remove_ca_files() {
    if let Some(files) = CA_FILES.get() {
        if let Ok(mut files) = files.lock() {
            files.clear();
        }
    }
}

/// FTPS server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpsConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
}

/// Stone's conciliation API: the merchant's StoneCode and its secret key (`sk_…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoneConfig {
    pub stone_code: String,
    pub secret_key: Secret,
}

/// PagBank's EDI API: the establishment number (the user) and the EDI token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagbankConfig {
    pub user: String,
    pub token: Secret,
}

/// Everything read from the parameter store. A group is `None` when none of its parameters exists; a group
/// with some parameters and not others is an error naming the missing ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub db: Option<DbConfig>,
    pub ftps: Option<FtpsConfig>,
    pub stone: Option<StoneConfig>,
    pub pagbank: Option<PagbankConfig>,
}

/// Where parameters are read from (SSM, the environment…): the values of those of `names` that exist.
pub trait ParameterSource {
    fn describe(&self) -> String;
    fn fetch(&self, names: &[String]) -> impl Future<Output = Result<HashMap<String, String>, ConfigError>> + Send;
}

#[cfg(feature = "sources")]
pub use ssm::SsmParameters;

#[cfg(feature = "sources")]
mod ssm {
    use super::{ConfigError, ParameterSource};
    use std::collections::HashMap;

    /// AWS SSM Parameter Store (SecureString values decrypted). Endpoint, region and credentials come from the
    /// standard AWS environment, so the same code talks to AWS or to an emulator.
    pub struct SsmParameters {
        client: aws_sdk_ssm::Client,
    }

    impl SsmParameters {
        pub fn new(client: aws_sdk_ssm::Client) -> Self {
            SsmParameters { client }
        }

        /// A client from the standard AWS environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, credentials).
        pub async fn from_env() -> Self {
            let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            SsmParameters::new(aws_sdk_ssm::Client::new(&shared))
        }
    }

    impl ParameterSource for SsmParameters {
        fn describe(&self) -> String {
            "SSM Parameter Store".into()
        }

        async fn fetch(&self, names: &[String]) -> Result<HashMap<String, String>, ConfigError> {
            let mut out = HashMap::new();
            // GetParameters takes at most 10 names per call.
            for batch in names.chunks(10) {
                let resp = self
                    .client
                    .get_parameters()
                    .set_names(Some(batch.to_vec()))
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| ConfigError::Unavailable {
                        source_name: self.describe(),
                        detail: aws_sdk_ssm::error::DisplayErrorContext(&e).to_string(),
                    })?;
                for p in resp.parameters() {
                    if let (Some(n), Some(v)) = (p.name(), p.value()) {
                        out.insert(n.to_string(), v.to_string());
                    }
                }
            }
            Ok(out)
        }
    }
}

/// The environment, for local runs: `{prefix}/db/host` is `SYNCROCARDPAY_DB_HOST` (the last two path parts,
/// upper-cased, after `SYNCROCARDPAY_`).
pub struct EnvParameters;

impl EnvParameters {
    pub fn var_name(parameter: &str) -> String {
        let mut parts: Vec<&str> = parameter.rsplit('/').take(2).collect();
        parts.reverse();
        format!("SYNCROCARDPAY_{}", parts.join("_").to_ascii_uppercase())
    }
}

impl ParameterSource for EnvParameters {
    fn describe(&self) -> String {
        "the environment".into()
    }

    async fn fetch(&self, names: &[String]) -> Result<HashMap<String, String>, ConfigError> {
        Ok(names
            .iter()
            .filter_map(|n| std::env::var(Self::var_name(n)).ok().filter(|v| !v.is_empty()).map(|v| (n.clone(), v)))
            .collect())
    }
}

const DB_KEYS: [&str; 5] = ["host", "port", "user", "password", "name"];
const DB_OPTIONAL_KEYS: [&str; 5] = ["sslmode", "sslrootcert", "migrator_user", "migrator_password", "migrator_host"];
const FTPS_KEYS: [&str; 4] = ["host", "port", "user", "password"];
const STONE_KEYS: [&str; 2] = ["stone_code", "secret_key"];
const PAGBANK_KEYS: [&str; 2] = ["user", "token"];

impl Config {
    /// Read both groups under `prefix` (e.g. `/syncrocardpay`) from `source`.
    pub async fn load(source: &impl ParameterSource, prefix: &str) -> Result<Config, ConfigError> {
        let prefix = prefix.trim_end_matches('/');
        let name = |group: &str, key: &str| format!("{prefix}/{group}/{key}");
        let names: Vec<String> = DB_KEYS
            .iter()
            .map(|k| name("db", k))
            .chain(DB_OPTIONAL_KEYS.iter().map(|k| name("db", k)))
            .chain(FTPS_KEYS.iter().map(|k| name("ftps", k)))
            .chain(STONE_KEYS.iter().map(|k| name("stone", k)))
            .chain(PAGBANK_KEYS.iter().map(|k| name("pagbank", k)))
            .collect();
        let values = source.fetch(&names).await?;
        let group = |g: &str, keys: &[&str]| -> Result<Option<HashMap<String, String>>, ConfigError> {
            let wanted: Vec<String> = keys.iter().map(|k| name(g, k)).collect();
            let missing: Vec<String> = wanted.iter().filter(|n| !values.contains_key(*n)).cloned().collect();
            if missing.len() == wanted.len() {
                return Ok(None);
            }
            if !missing.is_empty() {
                return Err(ConfigError::Missing(missing));
            }
            Ok(Some(keys.iter().map(|k| (k.to_string(), values[&name(g, k)].clone())).collect()))
        };
        let port = |g: &str, v: &str| {
            v.trim()
                .parse::<u16>()
                .map_err(|_| ConfigError::Invalid { name: name(g, "port"), reason: format!("{v:?} is not a TCP port") })
        };
        let db = match group("db", &DB_KEYS)? {
            None => None,
            Some(mut m) => Some(DbConfig {
                port: port("db", &m["port"])?,
                host: m.remove("host").unwrap_or_default(),
                user: m.remove("user").unwrap_or_default(),
                password: Secret::new(m.remove("password").unwrap_or_default()),
                name: m.remove("name").unwrap_or_default(),
                sslmode: values.get(&name("db", "sslmode")).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()),
                ca_bundle: values.get(&name("db", "sslrootcert")).filter(|v| !v.trim().is_empty()).cloned(),
                migrator: match (values.get(&name("db", "migrator_user")), values.get(&name("db", "migrator_password")))
                {
                    (Some(user), Some(password)) if !user.trim().is_empty() => Some(Migrator {
                        user: user.trim().to_string(),
                        password: Secret::new(password.clone()),
                        host: values
                            .get(&name("db", "migrator_host"))
                            .map(|h| h.trim().to_string())
                            .filter(|h| !h.is_empty()),
                    }),
                    (None, None) => None,
                    _ => {
                        return Err(ConfigError::Missing(vec![
                            name("db", "migrator_user"),
                            name("db", "migrator_password"),
                        ]))
                    }
                },
            }),
        };
        let ftps = match group("ftps", &FTPS_KEYS)? {
            None => None,
            Some(mut m) => Some(FtpsConfig {
                port: port("ftps", &m["port"])?,
                host: m.remove("host").unwrap_or_default(),
                user: m.remove("user").unwrap_or_default(),
                password: Secret::new(m.remove("password").unwrap_or_default()),
            }),
        };
        let stone = group("stone", &STONE_KEYS)?.map(|mut m| StoneConfig {
            stone_code: m.remove("stone_code").unwrap_or_default().trim().to_string(),
            secret_key: Secret::new(m.remove("secret_key").unwrap_or_default().trim()),
        });
        let pagbank = group("pagbank", &PAGBANK_KEYS)?.map(|mut m| PagbankConfig {
            user: m.remove("user").unwrap_or_default().trim().to_string(),
            token: Secret::new(m.remove("token").unwrap_or_default().trim()),
        });
        Ok(Config { db, ftps, stone, pagbank })
    }

    /// The database settings, or an error naming what is missing.
    pub fn require_db(&self, prefix: &str) -> Result<&DbConfig, ConfigError> {
        self.db
            .as_ref()
            .ok_or_else(|| ConfigError::Missing(DB_KEYS.iter().map(|k| format!("{prefix}/db/{k}")).collect()))
    }
}

/// Percent-encode everything but the URL-unreserved characters and those in `keep`.
pub(crate) fn percent_encode_keeping(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    percent_encode_keeping(s, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = DbConfig {
            host: "h".into(),
            port: 5432,
            user: "u".into(),
            password: Secret::new("s3cr3t;'\""),
            name: "d".into(),
            sslmode: None,
            ca_bundle: None,
            migrator: None,
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert_eq!(c.password.to_string(), "********");
        assert_eq!(c.url().unwrap(), "postgres://u:s3cr3t%3B%27%22@h:5432/d");
        let c = DbConfig { sslmode: Some("verify-full".into()), ..c };
        assert_eq!(c.url().unwrap(), "postgres://u:s3cr3t%3B%27%22@h:5432/d?sslmode=verify-full");
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let c = DbConfig { ca_bundle: Some(pem.into()), ..c };
        let url = c.url().unwrap();
        let path = url.split("sslrootcert=").nth(1).unwrap().replace("%2F", "/");
        assert!(url.starts_with("postgres://u:s3cr3t%3B%27%22@h:5432/d?sslmode=verify-full&sslrootcert="), "{url}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), pem, "the bundle, written for the driver");
        assert_eq!(c.url().unwrap(), url, "the same file next time");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "private to this user");
    }

    /// Another local user who plants a certificate at the name the bundle used to be written to (predictable,
    /// and reused when present) is never trusted: the bundle goes to a private file of a random name.
    #[test]
    fn a_planted_ca_file_is_never_used() {
        use sha2::Digest;
        let pem = "-----BEGIN CERTIFICATE-----\nTRUSTED\n-----END CERTIFICATE-----\n";
        let digest = hex::encode(sha2::Sha256::digest(pem.as_bytes()));
        let planted = std::env::temp_dir().join(format!("syncrocardpay-db-ca-{}.pem", &digest[..16]));
        std::fs::write(&planted, "-----BEGIN CERTIFICATE-----\nATTACKER\n-----END CERTIFICATE-----\n").unwrap();
        let c = DbConfig {
            host: "h".into(),
            port: 5432,
            user: "u".into(),
            password: Secret::new("p"),
            name: "d".into(),
            sslmode: None,
            ca_bundle: Some(pem.into()),
            migrator: None,
        };
        let url = c.url().unwrap();
        let path = url.split("sslrootcert=").nth(1).unwrap().replace("%2F", "/");
        assert_ne!(std::path::Path::new(&path), planted.as_path());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
        let _ = std::fs::remove_file(&planted);
    }

    struct Fixed(HashMap<String, String>);

    impl ParameterSource for Fixed {
        fn describe(&self) -> String {
            "fixed".into()
        }
        async fn fetch(&self, names: &[String]) -> Result<HashMap<String, String>, ConfigError> {
            Ok(names.iter().filter_map(|n| self.0.get(n).map(|v| (n.clone(), v.clone()))).collect())
        }
    }

    /// The API credentials are groups like the others: absent, whole (secrets kept as [`Secret`]s), or an
    /// error naming what is missing.
    #[test]
    fn api_credentials_load_whole_or_name_what_is_missing() {
        let run = |pairs: &[(&str, &str)]| {
            let source = Fixed(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(Config::load(&source, "/p"))
        };
        let c = run(&[]).unwrap();
        assert_eq!((c.stone, c.pagbank), (None, None));
        let c =
            run(&[("/p/stone/stone_code", " 900000001 "), ("/p/stone/secret_key", "sk_x"), ("/p/pagbank/user", "1")]);
        let missing = match c {
            Err(ConfigError::Missing(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(missing, ["/p/pagbank/token"]);
        let c = run(&[("/p/stone/stone_code", " 900000001 "), ("/p/stone/secret_key", "sk_x")]).unwrap();
        let stone = c.stone.unwrap();
        assert_eq!((stone.stone_code.as_str(), stone.secret_key.expose()), ("900000001", "sk_x"));
        assert!(!format!("{stone:?}").contains("sk_x"));
        assert_eq!(EnvParameters::var_name("/syncrocardpay/stone/secret_key"), "SYNCROCARDPAY_STONE_SECRET_KEY");
    }

    #[test]
    fn env_names() {
        assert_eq!(EnvParameters::var_name("/syncrocardpay/db/host"), "SYNCROCARDPAY_DB_HOST");
        assert_eq!(EnvParameters::var_name("/other/prefix/ftps/password"), "SYNCROCARDPAY_FTPS_PASSWORD");
    }
}
