//! What machine the figures were taken on.

use std::process::Command;

/// CPU, cores, memory, OS and compiler, as far as they can be read.
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
}

impl Machine {
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let os = os_release
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| std::env::consts::OS.to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_default();
        let rustc = Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Machine {
            cpu,
            cores,
            memory_gib,
            os,
            kernel,
            rustc,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "{}, {} cores available, {:.1} GiB RAM, {} (Linux {}), {}",
            self.cpu, self.cores, self.memory_gib, self.os, self.kernel, self.rustc
        )
    }
}

/// CPU time counters, to tell how much of the machine other processes took meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    /// Busy and total clock ticks of all CPUs (`/proc/stat`).
    busy: u64,
    total: u64,
    /// Ticks used by this process (`/proc/self/stat`).
    own: u64,
}

impl CpuSnapshot {
    /// `None` where `/proc` cannot be read.
    pub fn take() -> Option<CpuSnapshot> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
        let total = busy + field(3) + field(4);
        let own_stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let after_name = own_stat.rsplit_once(')')?.1;
        let own_fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 and 15 of the file (utime, stime) are 12 and 13 after the name.
        let own =
            own_fields.get(11)?.parse::<u64>().ok()? + own_fields.get(12)?.parse::<u64>().ok()?;
        Some(CpuSnapshot { busy, total, own })
    }

    /// Share of all CPU time since `earlier` that other processes used (0 to 1).
    pub fn others_since(&self, earlier: &CpuSnapshot) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        if total == 0 {
            return 0.0;
        }
        let busy = self.busy.saturating_sub(earlier.busy);
        let own = self.own.saturating_sub(earlier.own);
        busy.saturating_sub(own) as f64 / total as f64
    }
}

/// Share of CPU time other processes used between two snapshots, as text.
pub fn others_text(before: Option<CpuSnapshot>, after: Option<CpuSnapshot>) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!("{:.0}%", a.others_since(&b) * 100.0),
        _ => "unknown".to_owned(),
    }
}

/// The commit of the source tree this binary was run from (`git rev-parse --short HEAD` in
/// the bench's folder), with `+ uncommitted changes` when the working tree differs from it
/// (but for `bench/RESULTS.md`).
pub fn source_commit() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => {
            // The results file is what the benchmarks themselves write.
            let dirty = git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ":/",
                ":(top,exclude)bench/RESULTS.md",
            ])
            .is_some_and(|s| !s.trim().is_empty());
            format!(
                "{}{}",
                head.trim(),
                if dirty { " + uncommitted changes" } else { "" }
            )
        }
        None => "unknown".to_owned(),
    }
}
