//! What `/proc` says about processes: the memory of the server nodes and of any processes in
//! front of them (a reverse proxy's master and workers), and how many TCP connections this
//! process holds. Linux only; elsewhere the figures are simply absent.

/// The server's resident and peak memory, and the proxy processes' memory, in MiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// The largest server node's (resident, peak): the per-node figure a deployment sizes
    /// its machines by.
    pub server: Option<(f64, f64)>,
    /// The proxy processes' proportional set sizes summed: pages they share (the
    /// program, the master's memory inherited by workers) count once, not per process.
    pub proxy: Option<f64>,
}

impl Memory {
    /// Reads the memory of the server nodes and the proxy processes now.
    pub fn measure(server_pids: &[u32], proxy_pids: &[u32]) -> Self {
        let proxy = proxy_pids
            .iter()
            .filter_map(|&pid| process_pss_mib(pid))
            .reduce(|a, b| a + b);
        Self {
            server: server_pids
                .iter()
                .filter_map(|&pid| process_rss_mib(pid))
                .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1))),
            proxy,
        }
    }
}

/// A field in kB from a `/proc` file of `Name:   123 kB` lines, in MiB.
fn field_mib(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// A process's proportional set size, from `/proc/PID/smaps_rollup`, in MiB.
fn process_pss_mib(pid: u32) -> Option<f64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    field_mib(&rollup, "Pss:")
}

/// Reads a process's resident and peak memory from `/proc/PID/status`, in MiB.
fn process_rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((field_mib(&status, "VmRSS:")?, field_mib(&status, "VmHWM:")?))
}

/// Established TCP connections this process holds, from `/proc/self/fd` and
/// `/proc/self/net/tcp{,6}` (the runtime's own Unix sockets do not count).
pub(crate) fn open_connections() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let ours: std::collections::HashSet<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy();
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .map(|table| {
            table
                .lines()
                .skip(1)
                .filter(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    // State 01 is ESTABLISHED; field 9 is the socket's inode.
                    fields.get(3) == Some(&"01") && fields.get(9).is_some_and(|i| ours.contains(*i))
                })
                .count() as u64
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_that_is_gone_is_skipped() {
        let own = std::process::id();
        // Touched memory shows in the reading.
        let ballast = vec![1_u8; 64 << 20];
        let gone = u32::MAX - 1;
        let Some((rss, peak)) = Memory::measure(&[gone, own], &[]).server else {
            panic!("no memory read for this process");
        };
        assert!(rss >= 64.0, "resident {rss} MiB with 64 MiB touched");
        assert!(peak >= rss);
        assert!(Memory::measure(&[gone], &[]).server.is_none());
        assert_eq!(
            ballast.iter().map(|&b| usize::from(b)).sum::<usize>(),
            64 << 20
        );
    }
}
