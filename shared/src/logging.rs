//! The log filter every binary uses: `RUST_LOG` (or the binary's default level), with the libraries that
//! would log secrets held below the level where they do. suppaftp logs every control-channel command at
//! trace level — `PASS <password>` included — so its target is capped at `debug` whatever `RUST_LOG` says.

use tracing_subscriber::EnvFilter;

/// Targets capped, with their highest allowed level.
const CAPPED: &[(&str, &str)] = &[("suppaftp", "debug")];

/// `RUST_LOG` if set (else `default`), less any directive for a capped target, plus the caps.
pub fn filter(default: &str) -> EnvFilter {
    filter_from(std::env::var("RUST_LOG").ok().as_deref(), default)
}

/// The Lambdas' logging: JSON lines (CloudWatch), no time (Lambda stamps them), no target, at the level of
/// `RUST_LOG` (the template sets it; `info` without it), secrets' targets capped. Once, in `main`.
pub fn init_lambda() {
    tracing_subscriber::fmt().json().with_env_filter(filter("info")).with_target(false).without_time().init();
}

fn filter_from(rust_log: Option<&str>, default: &str) -> EnvFilter {
    let given = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or(default);
    let mut directives: Vec<String> = given
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !CAPPED.iter().any(|(target, _)| d.starts_with(target)))
        .map(String::from)
        .collect();
    directives.extend(CAPPED.iter().map(|(target, level)| format!("{target}={level}")));
    EnvFilter::try_new(directives.join(",")).unwrap_or_else(|_| EnvFilter::new(format!("{default},{}", caps())))
}

fn caps() -> String {
    CAPPED.iter().map(|(t, l)| format!("{t}={l}")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_target_never_gets_past_its_cap() {
        for given in ["trace", "suppaftp=trace", "info,suppaftp=trace", "suppaftp::sync_ftp=trace,trace"] {
            let f = filter_from(Some(given), "warn").to_string();
            assert!(f.contains("suppaftp=debug"), "{given}: {f}");
            assert!(!f.contains("suppaftp=trace") && !f.contains("suppaftp::sync_ftp=trace"), "{given}: {f}");
        }
        assert!(filter_from(None, "info").to_string().contains("info"));
    }
}
