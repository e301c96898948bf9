//! Settings from flags with environment fallbacks; defaults work on a fresh machine with no settings.

use std::net::SocketAddr;
use std::time::Duration;

/// Database and server settings shared by every subcommand that touches the database.
#[derive(Clone, clap::Args)]
pub struct DbConfig {
    /// PostgreSQL URL; the database is created if missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/doorstep",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Most connections the pool opens.
    #[arg(long, env = "DOORSTEP_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// Longest a request waits for a database connection before it answers 503 (milliseconds).
    #[arg(long, env = "DOORSTEP_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1500)]
    pub db_acquire_timeout_ms: u64,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("db_max_connections", &self.db_max_connections)
            .field("db_acquire_timeout_ms", &self.db_acquire_timeout_ms)
            .finish()
    }
}

/// Hides a password in a connection URL so settings can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Settings of the HTTP service.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    #[command(flatten)]
    pub(crate) db: DbConfig,
    /// Address and port to listen on.
    #[arg(long, env = "DOORSTEP_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Wall-time budget for decoding one photo, in milliseconds.
    #[arg(long, env = "DOORSTEP_DECODE_BUDGET_MS", default_value_t = 1500)]
    pub decode_budget_ms: u64,
    /// Photos decoded at once (default: the number of cores).
    #[arg(long, env = "DOORSTEP_DECODE_WORKERS")]
    pub decode_workers: Option<usize>,
    /// Photos allowed to wait for a decoder before scans answer 503.
    #[arg(long, env = "DOORSTEP_DECODE_QUEUE", default_value_t = 8)]
    pub decode_queue: usize,
    /// Largest photo upload, in bytes.
    #[arg(long, env = "DOORSTEP_MAX_PHOTO_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_photo_bytes: usize,
    /// How long a login session lasts, in hours.
    #[arg(long, env = "DOORSTEP_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: i64,
    /// The company's offset from UTC in hours (season windows and list days are local dates).
    #[arg(
        long,
        env = "DOORSTEP_UTC_OFFSET_HOURS",
        default_value_t = 8,
        allow_negative_numbers = true
    )]
    pub utc_offset_hours: i32,
    /// Days after a call, visit or pickup during which a customer is left off reminder lists.
    #[arg(long, env = "DOORSTEP_CONTACT_CAP_DAYS", default_value_t = 14)]
    pub contact_cap_days: i64,
    /// The company's name, printed on receipts.
    #[arg(long, env = "DOORSTEP_COMPANY_NAME", default_value = crate::state::DEFAULT_COMPANY_NAME)]
    pub company_name: String,
    /// Mark the session cookie Secure (set when serving over HTTPS without a proxy that sends X-Forwarded-Proto).
    #[arg(long, env = "DOORSTEP_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Font file for PDFs (default: Noto Sans CJK or WenQuanYi from the system, so Chinese prints).
    #[arg(long, env = "DOORSTEP_PDF_FONT")]
    pub pdf_font: Option<std::path::PathBuf>,
    /// Take the client address (for sign-in throttling) from X-Forwarded-For: only behind a proxy that sets it.
    #[arg(long, env = "DOORSTEP_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Token a Prometheus scraper on another machine sends as `Authorization: Bearer` to read /metrics (loopback
    /// callers need none).
    #[arg(long, env = "DOORSTEP_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Password hashes (argon2) computed at once; more sign-ins wait, then answer 503.
    #[arg(long, env = "DOORSTEP_MAX_CONCURRENT_HASHES", default_value_t = crate::state::DEFAULT_CONCURRENT_HASHES)]
    pub max_concurrent_hashes: usize,
    /// Days an Idempotency-Key (and its stored answer) is kept before the background purge removes it.
    #[arg(long, env = "DOORSTEP_IDEMPOTENCY_RETENTION_DAYS", default_value_t = crate::housekeeping::DEFAULT_IDEMPOTENCY_RETENTION_DAYS)]
    pub idempotency_retention_days: i64,
    /// Longest a request may take before it is answered 408 (photo decoding has its own budget).
    #[arg(long, env = "DOORSTEP_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
}

impl ServeConfig {
    /// The company offset, checked to lie within ±14 hours.
    pub fn local_offset(&self) -> anyhow::Result<chrono::FixedOffset> {
        chrono::FixedOffset::east_opt(self.utc_offset_hours * 3600)
            .filter(|_| self.utc_offset_hours.abs() <= 14)
            .ok_or_else(|| anyhow::anyhow!("--utc-offset-hours must be between -14 and 14"))
    }

    /// Wall-time budget for one photo.
    pub fn decode_budget(&self) -> Duration {
        Duration::from_millis(self.decode_budget_ms)
    }

    /// Photos decoded at once (at least one).
    pub fn decode_workers(&self) -> usize {
        self.decode_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
