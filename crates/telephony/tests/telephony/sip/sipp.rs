//! Running SIPp as the trunk for a test: the scenario written with the volunteer's key
//! presses, bounded in calls and time, on loopback only.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");
/// Where Debian's sip-tester keeps its captures.
pub const PCAPS: &str = "/usr/share/sip-tester";

/// One step of the volunteer's keypad script.
pub enum Step {
    /// Wait this long.
    Pause(Duration),
    /// Press a key (RFC 4733 from SIPp's captures).
    Press(char),
    /// Talk: play G.711 A-law speech for about seven seconds.
    Talk,
}

fn pcap_for(key: char) -> String {
    match key {
        '#' => format!("{PCAPS}/dtmf_2833_pound.pcap"),
        '*' => format!("{PCAPS}/dtmf_2833_star.pcap"),
        digit => format!("{PCAPS}/dtmf_2833_{digit}.pcap"),
    }
}

/// The keypad script as SIPp actions.
pub fn keypad(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|step| match step {
            Step::Pause(wait) => format!("<pause milliseconds=\"{}\"/>\n", wait.as_millis()),
            Step::Press(key) => format!(
                "<nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n<pause milliseconds=\"400\"/>\n",
                pcap_for(*key)
            ),
            Step::Talk => format!(
                "<nop><action><exec play_pcap_audio=\"{PCAPS}/g711a.pcap\"/></action></nop>\n"
            ),
        })
        .collect()
}

/// SIPp running a scenario; killed when dropped.
pub struct Sipp {
    child: Option<Child>,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// Whether SIPp is installed (the tests say so loudly when it is not).
pub fn installed() -> bool {
    Command::new("sipp").arg("-v").output().is_ok()
}

/// A free UDP port on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An even free UDP port with the one above it free too (for an RTP range).
pub fn free_port_range(len: u16) -> (u16, u16) {
    loop {
        let start = free_udp_port() & !1;
        if !(10_000..=60_000).contains(&start) {
            continue;
        }
        let all_free =
            (start..start + len).all(|p| std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return (start, start + len - 1);
        }
    }
}

impl Sipp {
    /// The trunk scenario with `steps` for the volunteer's phone, answering up to `calls` calls.
    pub fn trunk(steps: &[Step], calls: u32) -> Self {
        let template = std::fs::read_to_string(format!("{SCENARIOS}/trunk.xml")).unwrap();
        let scenario = template.replace("<!-- KEYPAD -->", &keypad(steps));
        Self::run(&scenario, calls)
    }

    fn run(scenario: &str, calls: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scenario.xml");
        std::fs::write(&file, scenario).unwrap();
        let port = free_udp_port();
        let media_port = free_port_range(4).0;
        let child = Command::new("sipp")
            .args(["-sf", file.to_str().unwrap()])
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-mi", "127.0.0.1", "-mp", &media_port.to_string()])
            .args([
                "-m",
                &calls.to_string(),
                "-timeout",
                "180s",
                "-timeout_error",
            ])
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        Self {
            child: Some(child),
            port,
            _dir: dir,
        }
    }

    /// The messages SIPp exchanged, for a failing test's report.
    pub fn messages(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self._dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with("_messages.log") || name.ends_with("_errors.log") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
