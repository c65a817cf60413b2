//! Progress of long work as a person sees it: bars on a terminal (indicatif), a plain line every so often
//! when the output is a file or a pipe (logs, CI), nothing with `--quiet` or `--json`. The core reports to
//! it through `syncrocardpay_core::progress`; what the commands print goes through [`suspend`], so a bar
//! never garbles a result line.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use syncrocardpay_core::progress::{FileEvent, Observer, ReconStep};
use syncrocardpay_core::source::printable_name;

/// How often a plain line is written for the same file or reconciliation: every 10 s, or every
/// `SYNCROCARDPAY_PROGRESS_SECONDS` (0: at every report).
fn line_every() -> Duration {
    static EVERY: OnceLock<Duration> = OnceLock::new();
    *EVERY.get_or_init(|| {
        let seconds = std::env::var("SYNCROCARDPAY_PROGRESS_SECONDS").ok().and_then(|s| s.parse().ok());
        Duration::from_secs(seconds.unwrap_or(10))
    })
}

static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Run `f` (which prints) with the bars taken off the screen, then drawn again.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match BARS.get() {
        Some(bars) => bars.suspend(f),
        None => f(),
    }
}

/// Show progress from now on: bars when standard error is a terminal, plain lines on it otherwise.
pub fn install() {
    let observer: Box<dyn Observer> = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bars = BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        Box::new(Bars { bars: bars.clone(), files: Mutex::default(), recon: Mutex::default() })
    } else {
        Box::new(Lines { seen: Mutex::default() })
    };
    syncrocardpay_core::progress::observe(observer);
}

fn short(name: &str) -> String {
    let name = printable_name(name.rsplit('/').next().unwrap_or(name));
    if name.chars().count() > 40 {
        format!("…{}", name.chars().rev().take(39).collect::<Vec<_>>().into_iter().rev().collect::<String>())
    } else {
        name
    }
}

struct Bars {
    bars: MultiProgress,
    files: Mutex<HashMap<String, ProgressBar>>,
    recon: Mutex<Option<(String, ProgressBar)>>,
}

impl Observer for Bars {
    fn file(&self, name: &str, event: FileEvent) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            FileEvent::Started { bytes } => {
                let bar = self.bars.add(ProgressBar::new(bytes));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:40!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(short(name));
                bar.set_message("reading");
                files.insert(name.to_string(), bar);
            }
            FileEvent::Read { bytes, rows } => {
                if let Some(bar) = files.get(name) {
                    bar.set_position(bytes);
                    bar.set_message(format!("{rows} rows"));
                }
            }
            FileEvent::Loading { rows } => {
                if let Some(bar) = files.get(name) {
                    bar.set_position(bar.length().unwrap_or(0));
                    bar.set_message(format!("{rows} lines read; loading into the facts…"));
                }
            }
            FileEvent::Done => {
                if let Some(bar) = files.remove(name) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
            }
        }
    }

    fn reconcile(&self, step: &ReconStep) {
        let mut recon = self.recon.lock().unwrap_or_else(|e| e.into_inner());
        if step.area == "done" {
            if let Some((_, bar)) = recon.take() {
                bar.finish_and_clear();
                self.bars.remove(&bar);
            }
            return;
        }
        if recon.as_ref().is_none_or(|(scope, _)| scope != step.scope) {
            if let Some((_, bar)) = recon.take() {
                bar.finish_and_clear();
                self.bars.remove(&bar);
            }
            let bar = self.bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} reconciling {prefix}: {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.set_prefix(printable_name(step.scope));
            *recon = Some((step.scope.to_string(), bar));
        }
        if let Some((_, bar)) = recon.as_ref() {
            bar.set_message(format!("{}, {} items so far", step.area, step.items));
        }
    }
}

/// Plain lines: when a file or a reconciliation has been going for a while, a line about it every
/// [`line_every`] (short work prints nothing more than its result).
struct Lines {
    /// Per file or scope: when it started and when a line was last written, and its size.
    seen: Mutex<HashMap<String, (Instant, Instant, u64)>>,
}

impl Lines {
    /// Whether a line is due for `key` (started long enough ago, none written lately).
    fn due(&self, key: &str) -> Option<u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (started, last, size) = seen.entry(key.to_string()).or_insert((now, now, 0));
        let every = line_every();
        if now.duration_since(*started) >= every && (now.duration_since(*last) >= every || every.is_zero()) {
            *last = now;
            Some(*size)
        } else {
            None
        }
    }
}

impl Observer for Lines {
    fn file(&self, name: &str, event: FileEvent) {
        match event {
            FileEvent::Started { bytes } => {
                let now = Instant::now();
                self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), (now, now, bytes));
            }
            FileEvent::Read { bytes, rows } => {
                if let Some(size) = self.due(name) {
                    let percent = (bytes * 100).checked_div(size).unwrap_or(100);
                    eprintln!(
                        "{}: {percent}% read ({} of {} MB), {rows} rows",
                        printable_name(name),
                        bytes >> 20,
                        size >> 20
                    );
                }
            }
            FileEvent::Loading { rows } => {
                if self.due(name).is_some() {
                    eprintln!("{}: {rows} lines read; loading into the facts…", printable_name(name));
                }
            }
            FileEvent::Done => {
                self.seen.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
            }
        }
    }

    fn reconcile(&self, step: &ReconStep) {
        let key = format!("reconcile {}", step.scope);
        if step.area == "done" {
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        } else if self.due(&key).is_some() {
            eprintln!("reconciling {}: {}, {} items so far", printable_name(step.scope), step.area, step.items);
        }
    }
}
