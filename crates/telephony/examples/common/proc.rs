//! Reading a process's CPU time and memory from /proc, for the benchmarks.

use std::error::Error;

/// User plus system CPU time of a process, in clock ticks (1/100 s on Linux).
pub fn cpu_ticks(pid: u64) -> Result<u64, Box<dyn Error>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .ok_or("bad stat")?
        .1
        .split_whitespace()
        .collect();
    let field = |n: usize| -> Result<u64, Box<dyn Error>> {
        Ok(fields.get(n).ok_or("short stat")?.parse()?)
    };
    Ok(field(11)? + field(12)?)
}

/// A process's resident memory, in KiB.
pub fn rss_kib(pid: u64) -> Result<u64, Box<dyn Error>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}
