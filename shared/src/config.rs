//! Environment → one typed `Config`. Loading never fails: a bad value is kept as a problem
//! that `/health` reports, because a Lambda that fails to initialise answers API Gateway's
//! bare 502 instead of our envelope. Secrets are wrapped so `Debug` and logs never show them.

use std::path::PathBuf;
use std::time::Duration;

use crate::providers::{Provider, ALL};

/// A secret value: prints as `***`, compares only through `expose`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub api_key: Option<Secret>,
    /// Which variable the key came from (or the first one to set when absent).
    pub key_var: &'static str,
    pub base_url: String,
    pub model: String,
}

impl ProviderConfig {
    pub fn configured(&self) -> bool {
        self.api_key.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded default: one SQLite file shared by every local function process.
    Sqlite { path: PathBuf },
    /// DynamoDB tables, named by the deployment (template.yaml passes them in).
    Dynamo {
        models_table: String,
        jobs_table: String,
        /// Small keyed records with a TTL: usage totals, and later rate-limit windows,
        /// idempotency records and cached answers.
        meta_table: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobConfig {
    /// A folder beside the embedded store.
    Local { root: PathBuf },
    /// An S3 bucket (template.yaml passes its name in).
    S3 { bucket: String },
}

/// Signed download URLs for the local folder, served by `scripts/devserver.py` beside the
/// emulator (the emulator loses large responses; S3 presigned URLs do this in AWS).
#[derive(Debug, Clone)]
pub struct LocalBlobUrls {
    /// `http://host:port/blobs`; a key is appended after a `/`.
    pub base: String,
    /// The HMAC-SHA256 key the server checks signatures with.
    pub key: Secret,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub blobs: BlobConfig,
    /// This function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB; 512 when unset, the
    /// models function's): bounds the prediction cache and what a model may need to serve.
    pub function_memory_bytes: u64,
    /// From `MLAAS_LOCAL_BLOB_URL` and `MLAAS_LOCAL_BLOB_SECRET` (hex), set by the dev server.
    pub local_blob_urls: Option<LocalBlobUrls>,
    /// Scratch space for bodies being generated before upload (Lambda: /tmp).
    pub scratch_dir: PathBuf,
    pub providers: Vec<ProviderConfig>,
    /// Every AI call works to this deadline; below API Gateway's 30 s.
    pub request_deadline: Duration,
    /// Requests per minute per endpoint and client.
    pub rate_limits: crate::ratelimit::Limits,
    /// Client API keys (digests); empty means authentication is off.
    pub client_keys: crate::auth::ClientKeys,
    /// How long the AI endpoints' answers are cached; zero turns the cache off.
    pub cache_ttl: Duration,
    /// How a queued training job reaches the worker.
    pub dispatch: Dispatch,
    /// The worker's own limits.
    pub worker: WorkerLimits,
    /// Which certificates the AWS clients trust (`MLAAS_TLS_ROOTS`).
    pub tls_roots: crate::aws::TlsRoots,
    /// Configuration mistakes found while loading; `/health` reports them.
    pub problems: Vec<String>,
}

/// How `POST /v1/models/train` hands a queued job to the training worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// AWS: the jobs table's stream invokes the worker; the models function does nothing.
    Stream,
    /// Local emulator: a stream-shaped event is POSTed to this Invoke API URL from a
    /// background task.
    Invoke { url: String },
    /// In this process, on a background task (tests, and a local run without the emulator).
    Inline,
    /// Nobody: jobs stay queued (for tests of the queue itself).
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerLimits {
    /// The longest one worker invocation trains (`MLAAS_INVOCATION_BUDGET_SECONDS`, or its
    /// older name `MLAAS_MAX_RUNTIME_SECONDS`), and always less than the Lambda's own
    /// deadline: a network job then checkpoints and is handed on to the next invocation;
    /// a job that cannot be handed on ends `failed` (`max_runtime_exceeded`).
    pub max_runtime: Duration,
    /// A resumable job writes a checkpoint at the first epoch end this long after the last
    /// one (`MLAAS_CHECKPOINT_INTERVAL_SECONDS`), so a lost worker loses at most about this
    /// much work.
    pub checkpoint_interval: Duration,
    /// Resumes from the last checkpoint after a lost worker before the job ends
    /// `worker_lost` (`MLAAS_MAX_RESUMES`).
    pub max_resumes: u32,
    /// How often a running worker writes its heartbeat.
    pub heartbeat_interval: Duration,
    /// A running job whose heartbeat is older than this has lost its worker.
    pub heartbeat_timeout: Duration,
    /// The worker's memory (`MLAAS_WORKER_MEMORY_MB`, the template's worker MemorySize): a
    /// job whose estimated peak does not fit is refused at submission.
    pub memory_bytes: u64,
    /// A job still `queued` this long after it was submitted was never claimed (its stream
    /// record was dropped after its retries): it is ended `failed` (`dispatch_lost`).
    pub queued_timeout: Duration,
    /// Test hook: the training loop sleeps this long between batches, standing for a batch
    /// that computes for long. Never read from the environment.
    pub test_batch_pause: Option<Duration>,
}

impl Default for WorkerLimits {
    fn default() -> Self {
        WorkerLimits {
            max_runtime: Duration::from_secs(840),
            checkpoint_interval: Duration::from_secs(60),
            max_resumes: 3,
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(120),
            queued_timeout: Duration::from_secs(3600),
            memory_bytes: 2048 * MIB,
            test_batch_pause: None,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The emulator's function name for the worker.
pub const WORKER_FUNCTION: &str = "training-worker";

pub const DEFAULT_DEADLINE_MS: u64 = 25_000;
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 300;
/// The longest cache TTL accepted: one week.
pub const MAX_CACHE_TTL_SECONDS: u64 = 7 * 24 * 3600;

impl Config {
    pub fn from_env() -> Config {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the config from any variable source, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Config {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let tables = (
            get("MLAAS_MODELS_TABLE"),
            get("MLAAS_JOBS_TABLE"),
            get("MLAAS_META_TABLE"),
        );
        let store = match tables {
            (Some(models_table), Some(jobs_table), Some(meta_table)) => StoreConfig::Dynamo {
                models_table,
                jobs_table,
                meta_table,
            },
            (None, None, None) => {
                let dir = get("MLAAS_DATA_DIR").unwrap_or_else(|| ".mlaas".into());
                let path = get("MLAAS_DB_PATH")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(dir).join("local.db"));
                StoreConfig::Sqlite { path }
            }
            _ => {
                problems.push(
                    "set all of MLAAS_MODELS_TABLE, MLAAS_JOBS_TABLE and MLAAS_META_TABLE, or none"
                        .to_string(),
                );
                StoreConfig::Sqlite {
                    path: PathBuf::from(".mlaas/local.db"),
                }
            }
        };

        let data_dir = PathBuf::from(get("MLAAS_DATA_DIR").unwrap_or_else(|| ".mlaas".into()));
        let blobs = match get("MLAAS_DATASETS_BUCKET") {
            Some(bucket) => BlobConfig::S3 { bucket },
            None => {
                if matches!(store, StoreConfig::Dynamo { .. }) {
                    problems.push(
                        "MLAAS_DATASETS_BUCKET is not set: dataset bodies go to a local folder"
                            .to_string(),
                    );
                }
                BlobConfig::Local {
                    root: data_dir.join("blobs"),
                }
            }
        };
        let local_blob_urls = match (get("MLAAS_LOCAL_BLOB_URL"), get("MLAAS_LOCAL_BLOB_SECRET")) {
            (Some(base), Some(key))
                if (base.starts_with("http://") || base.starts_with("https://"))
                    && hex::decode(&key).is_ok_and(|k| k.len() >= 16) =>
            {
                Some(LocalBlobUrls {
                    base: base.trim_end_matches('/').to_string(),
                    key: Secret::new(key),
                })
            }
            (None, None) => None,
            _ => {
                problems.push(
                    "MLAAS_LOCAL_BLOB_URL must be an http(s) URL and MLAAS_LOCAL_BLOB_SECRET at least 16 hex-encoded bytes, both set or neither".to_string(),
                );
                None
            }
        };
        let scratch_dir = get("MLAAS_SCRATCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);

        let providers = ALL
            .into_iter()
            .map(|provider| {
                let found = provider
                    .key_vars()
                    .iter()
                    .find_map(|var| get(var).map(|v| (*var, Secret::new(v))));
                let (key_var, api_key) = match found {
                    Some((var, key)) => (var, Some(key)),
                    None => (provider.key_vars()[0], None),
                };
                let base_url = get(provider.base_url_var())
                    .unwrap_or_else(|| provider.default_base_url().to_string());
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    problems.push(format!(
                        "{} must be an http(s) URL",
                        provider.base_url_var()
                    ));
                }
                ProviderConfig {
                    provider,
                    api_key,
                    key_var,
                    base_url: base_url.trim_end_matches('/').to_string(),
                    model: get(provider.model_var())
                        .unwrap_or_else(|| provider.default_model().to_string()),
                }
            })
            .collect();

        let request_deadline = match get("MLAAS_REQUEST_DEADLINE_MS") {
            None => Duration::from_millis(DEFAULT_DEADLINE_MS),
            Some(v) => match v.parse::<u64>() {
                Ok(ms) if (100..=29_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    problems.push(
                        "MLAAS_REQUEST_DEADLINE_MS must be milliseconds from 100 to 29000"
                            .to_string(),
                    );
                    Duration::from_millis(DEFAULT_DEADLINE_MS)
                }
            },
        };

        let cache_ttl = match get("MLAAS_CACHE_TTL_SECONDS") {
            None => Duration::from_secs(DEFAULT_CACHE_TTL_SECONDS),
            Some(v) => match v.parse::<u64>() {
                Ok(secs) if secs <= MAX_CACHE_TTL_SECONDS => Duration::from_secs(secs),
                _ => {
                    problems.push(format!(
                        "MLAAS_CACHE_TTL_SECONDS must be seconds from 0 (off) to {MAX_CACHE_TTL_SECONDS}"
                    ));
                    Duration::from_secs(DEFAULT_CACHE_TTL_SECONDS)
                }
            },
        };

        let (client_keys, key_problems) =
            crate::auth::ClientKeys::parse(&get("MLAAS_API_KEYS").unwrap_or_default());
        problems.extend(key_problems);
        let (rate_limits, limit_problems) =
            crate::ratelimit::Limits::parse(get("MLAAS_RATE_LIMITS").as_deref());
        problems.extend(limit_problems);

        let dispatch = match get("MLAAS_WORKER_DISPATCH").as_deref() {
            Some("stream") => Dispatch::Stream,
            Some("inline") => Dispatch::Inline,
            Some("off") => Dispatch::Off,
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Dispatch::Invoke {
                    url: url.to_string(),
                }
            }
            Some(other) => {
                problems.push(format!(
                    "MLAAS_WORKER_DISPATCH must be stream, inline, off or an Invoke API URL, got {other:?}"
                ));
                Dispatch::Inline
            }
            // Deployed with tables: the stream does it. Under the emulator (its Runtime API
            // is set): its Invoke API on the same address. Otherwise in this process.
            None if matches!(store, StoreConfig::Dynamo { .. }) => Dispatch::Stream,
            None => match get("AWS_LAMBDA_RUNTIME_API") {
                Some(api) => Dispatch::Invoke {
                    url: invoke_url(&api),
                },
                None => Dispatch::Inline,
            },
        };
        let mut worker = WorkerLimits::default();
        let invocation_budget = if get("MLAAS_INVOCATION_BUDGET_SECONDS").is_some() {
            "MLAAS_INVOCATION_BUDGET_SECONDS"
        } else {
            "MLAAS_MAX_RUNTIME_SECONDS"
        };
        for (var, field, range) in [
            (invocation_budget, &mut worker.max_runtime, 1..=900u64),
            (
                "MLAAS_CHECKPOINT_INTERVAL_SECONDS",
                &mut worker.checkpoint_interval,
                1..=3600,
            ),
            (
                "MLAAS_HEARTBEAT_TIMEOUT_SECONDS",
                &mut worker.heartbeat_timeout,
                10..=3600,
            ),
            (
                "MLAAS_QUEUED_TIMEOUT_SECONDS",
                &mut worker.queued_timeout,
                60..=86_400,
            ),
        ] {
            if let Some(v) = get(var) {
                match v.parse::<u64>() {
                    Ok(s) if range.contains(&s) => *field = Duration::from_secs(s),
                    _ => problems.push(format!(
                        "{var} must be whole seconds from {} to {}",
                        range.start(),
                        range.end()
                    )),
                }
            }
        }

        if let Some(v) = get("MLAAS_MAX_RESUMES") {
            match v.trim().parse::<u32>() {
                Ok(n) if n <= 100 => worker.max_resumes = n,
                _ => problems.push(format!(
                    "MLAAS_MAX_RESUMES must be a whole number from 0 to 100, got {v:?}"
                )),
            }
        }

        // Lambda's memory range, 128 MB to 10,240 MB.
        let megabytes = |var: &str, default: u64, problems: &mut Vec<String>| match get(var) {
            None => default * MIB,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(mb) if (128..=10_240).contains(&mb) => mb * MIB,
                _ => {
                    problems.push(format!(
                        "{var} must be megabytes from 128 to 10240, got {v:?}"
                    ));
                    default * MIB
                }
            },
        };
        worker.memory_bytes = megabytes("MLAAS_WORKER_MEMORY_MB", 2048, &mut problems);
        let function_memory_bytes =
            megabytes("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 512, &mut problems);

        let tls_roots = match get("MLAAS_TLS_ROOTS") {
            None => crate::aws::TlsRoots::default(),
            Some(v) => crate::aws::TlsRoots::parse(&v).unwrap_or_else(|| {
                problems.push(format!(
                    "MLAAS_TLS_ROOTS must be bundled or native, got {v:?}"
                ));
                crate::aws::TlsRoots::default()
            }),
        };

        Config {
            dispatch,
            function_memory_bytes,
            local_blob_urls,
            worker,
            tls_roots,
            rate_limits,
            client_keys,
            cache_ttl,
            store,
            blobs,
            scratch_dir,
            providers,
            request_deadline,
            problems,
        }
    }

    pub fn provider(&self, p: Provider) -> &ProviderConfig {
        self.providers
            .iter()
            .find(|c| c.provider == p)
            .expect("config holds every provider")
    }

    pub fn configured_providers(&self) -> impl Iterator<Item = &ProviderConfig> {
        self.providers.iter().filter(|p| p.configured())
    }
}

/// The Invoke API URL of the worker on the emulator whose Runtime API is `api`
/// (`host:port` or `host:port/path`: cargo-lambda serves both on one address).
fn invoke_url(api: &str) -> String {
    let host = api
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or(api);
    format!("http://{host}/2015-03-31/functions/{WORKER_FUNCTION}/invocations")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_sqlite_and_no_providers() {
        let c = cfg(&[]);
        assert_eq!(
            c.store,
            StoreConfig::Sqlite {
                path: PathBuf::from(".mlaas/local.db")
            }
        );
        assert_eq!(
            c.blobs,
            BlobConfig::Local {
                root: PathBuf::from(".mlaas/blobs")
            }
        );
        assert_eq!(c.configured_providers().count(), 0);
        assert!(c.problems.is_empty());
        assert_eq!(c.request_deadline, Duration::from_secs(25));
        assert_eq!(c.cache_ttl, Duration::from_secs(300));
        assert_eq!(
            cfg(&[("MLAAS_CACHE_TTL_SECONDS", "0")]).cache_ttl,
            Duration::ZERO
        );
    }

    #[test]
    fn gemini_accepts_google_key_and_blank_keys_do_not_count() {
        let c = cfg(&[("GOOGLE_API_KEY", "g"), ("OPENAI_API_KEY", "  ")]);
        assert!(c.provider(Provider::Gemini).configured());
        assert_eq!(c.provider(Provider::Gemini).key_var, "GOOGLE_API_KEY");
        assert!(!c.provider(Provider::Openai).configured());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = cfg(&[("OPENAI_API_KEY", "sk-sentinel-123")]);
        let printed = format!("{c:?}");
        assert!(!printed.contains("sk-sentinel-123"));
    }

    #[test]
    fn bad_values_become_problems_not_panics() {
        let c = cfg(&[
            ("MLAAS_MODELS_TABLE", "m"),
            ("OPENAI_BASE_URL", "ftp://x"),
            ("MLAAS_REQUEST_DEADLINE_MS", "99999"),
            ("MLAAS_CACHE_TTL_SECONDS", "-1"),
        ]);
        assert_eq!(c.problems.len(), 4, "{:?}", c.problems);
    }

    #[test]
    fn dynamo_when_both_tables_are_named() {
        let c = cfg(&[
            ("MLAAS_MODELS_TABLE", "m"),
            ("MLAAS_JOBS_TABLE", "j"),
            ("MLAAS_META_TABLE", "x"),
            ("MLAAS_DATASETS_BUCKET", "b"),
        ]);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.blobs, BlobConfig::S3 { bucket: "b".into() });
        assert_eq!(
            c.store,
            StoreConfig::Dynamo {
                models_table: "m".into(),
                jobs_table: "j".into(),
                meta_table: "x".into()
            }
        );
    }
}
