//! `barnstorm serve`'s bridged-calling flags: the SIP trunk and the node's SIP and RTP
//! addresses. Without `--sip-trunk` callers ring contacts from their own phones (`tel:`
//! links) and no SIP or RTP port is opened.

use anyhow::Context;
use barnstorm_telephony::Telephony;
use barnstorm_telephony::media::{Media, Prompts};
use barnstorm_telephony::sip::SipTelephony;
use barnstorm_telephony::sip::config::{SipConfig, Trunk, parse_port_range, parse_proxy};
use barnstorm_telephony::tel::TelLinks;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub(crate) struct SipArgs {
    /// A SIP trunk for bridged calls, numbers hidden both ways:
    /// `sip:USER:PASSWORD@HOST:PORT;transport=udp|tcp` (user and password when the trunk
    /// asks for digest authentication; `sip:HOST` when it trusts this node's address).
    #[arg(long, env = "BARNSTORM_SIP_TRUNK")]
    sip_trunk: Option<String>,
    /// Register with the trunk (needs the user and password); otherwise the trunk must
    /// allow this node's address.
    #[arg(long, env = "BARNSTORM_SIP_REGISTER")]
    sip_register: bool,
    /// Send SIP through this proxy (`HOST[:PORT]`) instead of straight to the trunk.
    #[arg(long, env = "BARNSTORM_SIP_OUTBOUND_PROXY")]
    sip_outbound_proxy: Option<String>,
    /// Where this node listens for SIP.
    #[arg(long, env = "BARNSTORM_SIP_LISTEN", default_value = "0.0.0.0:5060")]
    sip_listen: SocketAddr,
    /// The address the trunk reaches this node on, written into SIP and SDP when the node
    /// is behind NAT.
    #[arg(long, env = "BARNSTORM_SIP_PUBLIC_ADDRESS")]
    sip_public_address: Option<IpAddr>,
    /// UDP ports for call audio, `FIRST-LAST` (two per call: one per leg).
    #[arg(long, env = "BARNSTORM_RTP_PORTS", default_value = "16384-32767")]
    rtp_ports: String,
    /// The number on the trunk that callers dial in on (E.164), shown on the caller page.
    /// Without it, dialling in is not offered.
    #[arg(long, env = "BARNSTORM_DIAL_IN_NUMBER")]
    dial_in_number: Option<String>,
    /// A folder of WAV recordings (8 kHz mono) that replace the built-in prompts by name,
    /// e.g. `welcome.wav`, `enter-pin.wav`.
    #[arg(long, env = "BARNSTORM_PROMPTS")]
    prompts: Option<PathBuf>,
    /// This node's name in call records (default: the host name and HTTP port).
    #[arg(long, env = "BARNSTORM_NODE_NAME")]
    node_name: Option<String>,
}

/// The telephony this node uses, and the dial-in number callers are shown.
pub(crate) struct NodeTelephony {
    pub telephony: Arc<dyn Telephony>,
    pub dial_in_number: Option<String>,
    pub node: String,
}

impl SipArgs {
    /// Starts the SIP adapter when a trunk is given, else the `tel:` one.
    pub(crate) async fn start(&self, http: SocketAddr) -> anyhow::Result<NodeTelephony> {
        let node = self.node_name.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            let host = host.trim();
            format!(
                "{}:{}",
                if host.is_empty() { "barnstorm" } else { host },
                http.port()
            )
        });
        let Some(trunk) = &self.sip_trunk else {
            return Ok(NodeTelephony {
                telephony: Arc::new(TelLinks::new()),
                dial_in_number: None,
                node,
            });
        };
        let trunk: Trunk = trunk.parse()?;
        let dial_in_number = self
            .dial_in_number
            .as_deref()
            .map(|raw| {
                barnstorm_domain::phone::normalise_phone(
                    raw,
                    barnstorm_domain::phone::Region::default(),
                )
                .map(|n| n.as_str().to_string())
                .map_err(|e| anyhow::anyhow!("--dial-in-number / BARNSTORM_DIAL_IN_NUMBER: {e}"))
            })
            .transpose()?;
        let config = SipConfig {
            trunk,
            register: self.sip_register,
            outbound_proxy: self
                .sip_outbound_proxy
                .as_deref()
                .map(parse_proxy)
                .transpose()?,
            listen: self.sip_listen,
            public_ip: self.sip_public_address,
            rtp_ports: parse_port_range(&self.rtp_ports)?,
            dial_in_number: dial_in_number.clone(),
        };
        config.check()?;
        let prompts = match &self.prompts {
            Some(dir) => Prompts::with_dir(dir).with_context(|| {
                format!("--prompts {}: cannot read the recordings", dir.display())
            })?,
            None => Prompts::built_in(),
        };
        let media = Media::new(self.sip_listen.ip(), config.rtp_ports.clone())
            .await
            .context("cannot open the RTP ports for call audio (--rtp-ports)")?;
        let sip = SipTelephony::start(config, media, prompts).await?;
        Ok(NodeTelephony {
            telephony: sip,
            dial_in_number,
            node,
        })
    }
}
