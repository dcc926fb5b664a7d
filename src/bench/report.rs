//! Figures the load tool prints: latency percentiles, and the target process's CPU time
//! and memory read from /proc (Linux).

use std::time::Duration;

/// Clock ticks per second of /proc/PID/stat times. USER_HZ is 100 on every Linux
/// architecture the kernel exports to user space through /proc.
const TICKS_PER_SECOND: f64 = 100.0;

/// Element at quantile `q` of `sorted` (nearest rank), or zero when empty.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// A duration in milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}ms", d.as_secs_f64() * 1e3)
}

/// `p50 … p99 … max …` of `latencies` (sorted here).
pub fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort_unstable();
    format!(
        "p50 {} p99 {} max {}",
        ms(percentile(latencies, 0.5)),
        ms(percentile(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    )
}

/// CPU seconds (user + system) process `pid` has used so far.
pub fn cpu_seconds(pid: u32) -> std::io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat)
        .map(|ticks| ticks as f64 / TICKS_PER_SECOND)
        .ok_or_else(|| std::io::Error::other(format!("cannot read utime/stime from /proc/{pid}/stat")))
}

/// utime + stime (fields 14 and 15) of a /proc/PID/stat line. The command name
/// (field 2) is in parentheses and may hold spaces, so fields count from its `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory of `pid` now and at its peak, in KiB (VmRSS, VmHWM).
pub fn memory_kib(pid: u32) -> std::io::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// A process's use of the machine over a run: the target's, or the tool's own.
#[derive(Debug)]
pub struct Usage {
    /// `target` or `tool`.
    who: &'static str,
    pid: u32,
    cpu_at_start: f64,
}

impl Usage {
    /// Starts measuring `pid`, called `who` in the report.
    pub fn start(who: &'static str, pid: u32) -> std::io::Result<Self> {
        Ok(Usage {
            who,
            pid,
            cpu_at_start: cpu_seconds(pid)?,
        })
    }

    /// One line: CPU seconds and % over `elapsed`, `points` per CPU-second, RSS and peak.
    pub fn report(&self, elapsed: Duration, points: u64) -> std::io::Result<String> {
        let cpu = cpu_seconds(self.pid)? - self.cpu_at_start;
        let (rss, hwm) = memory_kib(self.pid)?;
        let per_cpu_second = if cpu > 0.0 { points as f64 / cpu } else { 0.0 };
        Ok(format!(
            "{} pid {}: CPU {cpu:.2}s ({:.0}% of one core), {per_cpu_second:.0} points per CPU-second; \
             RSS {:.1} MiB, peak RSS {:.1} MiB",
            self.who,
            self.pid,
            100.0 * cpu / elapsed.as_secs_f64(),
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        let stat = "4242 (tokio (w) 1) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 123 456 789";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn our_own_process_can_be_measured() {
        let me = std::process::id();
        assert!(cpu_seconds(me).expect("stat") >= 0.0);
        let (rss, hwm) = memory_kib(me).expect("status");
        assert!(rss > 0 && hwm >= rss, "{rss} {hwm}");
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let ds: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ds, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&ds, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&ds[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
