#![allow(dead_code)] // Shared by two test crates; each uses part of it.
//! Running SIPp for a test, as the trunk (`trunk.xml`) or as a volunteer's phone dialling
//! in (`dial-in.xml`): the scenario written with the volunteer's key presses, bounded in
//! calls and time, on loopback only. Shared by the telephony crate's tests and the
//! binary's end-to-end tests.

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

/// SIPp must be installed (CI installs it); elsewhere the test says loudly that it skipped.
pub fn sipp_or_skip(test: &str) -> bool {
    if installed() {
        return true;
    }
    assert!(
        std::env::var("BARNSTORM_REQUIRE_ALL_SUITES").as_deref() != Ok("1"),
        "{test}: SIPp (apt-get install sip-tester) is required"
    );
    eprintln!("SKIPPED {test}: SIPp is not installed (apt-get install sip-tester)");
    false
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
        Self::run(&scenario, calls, &[])
    }

    /// The same trunk over TCP (one connection, as a trunk provider's edge keeps it).
    pub fn trunk_over_tcp(steps: &[Step], calls: u32) -> Self {
        let template = std::fs::read_to_string(format!("{SCENARIOS}/trunk.xml")).unwrap();
        let scenario = template.replace("<!-- KEYPAD -->", &keypad(steps));
        Self::run(&scenario, calls, &["-t", "t1"])
    }

    /// A trunk that asks for digest credentials and refuses them, for `calls` calls.
    pub fn refusing_trunk(calls: u32) -> Self {
        let scenario = std::fs::read_to_string(format!("{SCENARIOS}/trunk-refuses.xml")).unwrap();
        Self::run(&scenario, calls, &[])
    }

    /// A registrar that asks for digest credentials and accepts them once.
    pub fn registrar() -> Self {
        let scenario = std::fs::read_to_string(format!("{SCENARIOS}/registrar.xml")).unwrap();
        Self::run(&scenario, 1, &[])
    }

    /// A volunteer's phone ringing `number` on the node at 127.0.0.1:`port`, pressing `steps`.
    pub fn dial_in(port: u16, number: &str, steps: &[Step]) -> Self {
        let template = std::fs::read_to_string(format!("{SCENARIOS}/dial-in.xml")).unwrap();
        let scenario = template.replace("<!-- KEYPAD -->", &keypad(steps));
        let target = format!("127.0.0.1:{port}");
        Self::run(&scenario, 1, &[target.as_str(), "-s", number])
    }

    fn run(scenario: &str, calls: u32, extra: &[&str]) -> Self {
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
            .args(extra)
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

    /// Waits for SIPp to finish its calls; true when every call went as the scenario says.
    pub fn succeeded(&mut self, within: Duration) -> bool {
        let Some(child) = self.child.as_mut() else {
            return false;
        };
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
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
