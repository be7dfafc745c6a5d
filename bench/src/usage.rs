//! What a phase of this process costs: wall time, CPU time (user + system, all threads) and the
//! peak resident set size, read from the kernel.

use std::time::Instant;

/// A phase being measured; `finish` gives its figures.
pub struct Phase {
    started: Instant,
    cpu_before: f64,
    rss_before_kib: u64,
}

pub struct Figures {
    pub wall_s: f64,
    pub cpu_s: f64,
    /// Resident set size when the phase began.
    pub rss_before_kib: u64,
    /// Peak resident set size during the phase (the kernel's high-water mark, reset at its start).
    pub peak_kib: u64,
}

impl Phase {
    pub fn start() -> Phase {
        // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0 and later), so the
        // peak read at the end belongs to this phase, not to loading its input.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Phase {
            rss_before_kib: status_kib("VmRSS:"),
            cpu_before: cpu_seconds(),
            started: Instant::now(),
        }
    }

    pub fn finish(self) -> Figures {
        Figures {
            wall_s: self.started.elapsed().as_secs_f64(),
            cpu_s: cpu_seconds() - self.cpu_before,
            rss_before_kib: self.rss_before_kib,
            peak_kib: status_kib("VmHWM:"),
        }
    }
}

impl Figures {
    pub fn json(&self) -> String {
        format!(
            r#""wall_s":{:.4},"cpu_s":{:.4},"rss_before_kib":{},"peak_kib":{}"#,
            self.wall_s, self.cpu_s, self.rss_before_kib, self.peak_kib
        )
    }
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
