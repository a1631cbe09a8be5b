//! The SIP trunk and its node's addresses as the operator writes them: `--sip-trunk
//! sip:USER:PASS@HOST:PORT;transport=udp|tcp`, registration or IP authentication, an
//! outbound proxy, the public address written into SDP and Contact, and the RTP ports.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;

/// How SIP travels to the trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SipTransport {
    /// UDP (the default).
    Udp,
    /// TCP.
    Tcp,
}

/// The trunk: where calls go and the credentials it asks for.
#[derive(Clone, PartialEq, Eq)]
pub struct Trunk {
    /// The digest user name, when the trunk authenticates by password.
    pub user: Option<String>,
    /// The digest password.
    pub password: Option<String>,
    /// The trunk's host name or address.
    pub host: String,
    /// Its SIP port.
    pub port: u16,
    /// UDP or TCP.
    pub transport: SipTransport,
}

impl fmt::Debug for Trunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trunk")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("transport", &self.transport)
            .finish()
    }
}

impl fmt::Display for Trunk {
    /// The trunk without its password, for logs and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            SipTransport::Udp => "udp",
            SipTransport::Tcp => "tcp",
        };
        match &self.user {
            Some(user) => write!(
                f,
                "sip:{user}@{}:{};transport={transport}",
                self.host, self.port
            ),
            None => write!(f, "sip:{}:{};transport={transport}", self.host, self.port),
        }
    }
}

/// What is wrong with a SIP setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The trunk is not a `sip:` URI.
    #[error(
        "--sip-trunk must start with sip: (for example sip:user:secret@trunk.example.org:5060)"
    )]
    NotSip,
    /// The trunk has no host.
    #[error("--sip-trunk has no host after the @")]
    NoHost,
    /// The port is not a number from 1 to 65535.
    #[error("--sip-trunk port '{0}' is not a number from 1 to 65535")]
    BadPort(String),
    /// The transport parameter is neither udp nor tcp.
    #[error("--sip-trunk transport '{0}' is not supported; use transport=udp or transport=tcp")]
    BadTransport(String),
    /// A parameter Barnstorm does not know.
    #[error("--sip-trunk parameter '{0}' is not known; only transport= is")]
    UnknownParameter(String),
    /// A percent escape is broken.
    #[error("--sip-trunk has a broken %-escape in its user name or password")]
    BadEscape,
    /// Registration needs credentials.
    #[error("--sip-register needs a user name and password in --sip-trunk")]
    RegisterWithoutCredentials,
    /// The RTP port range does not parse or is too small.
    #[error(
        "--rtp-ports '{0}' must be two ports FIRST-LAST with FIRST even, FIRST < LAST, and at least 2 ports"
    )]
    BadPortRange(String),
    /// The outbound proxy is not host:port.
    #[error("--sip-outbound-proxy '{0}' must be HOST or HOST:PORT")]
    BadProxy(String),
}

impl std::str::FromStr for Trunk {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let rest = text
            .trim()
            .strip_prefix("sip:")
            .ok_or(ConfigError::NotSip)?;
        let (address, params) = rest.split_once(';').unwrap_or((rest, ""));
        let (userinfo, hostport) = match address.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, address),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((user, password)) => (user, Some(unescape(password)?)),
                    None => (info, None),
                };
                (Some(unescape(user)?).filter(|u| !u.is_empty()), password)
            }
        };
        let (host, port) = split_host_port(hostport, 5060)
            .map_err(|port| ConfigError::BadPort(port.to_string()))?;
        if host.is_empty() {
            return Err(ConfigError::NoHost);
        }
        let mut transport = SipTransport::Udp;
        for param in params.split(';').filter(|p| !p.is_empty()) {
            match param.split_once('=') {
                Some(("transport", value)) => {
                    transport = match value.to_ascii_lowercase().as_str() {
                        "udp" => SipTransport::Udp,
                        "tcp" => SipTransport::Tcp,
                        _ => return Err(ConfigError::BadTransport(value.to_string())),
                    }
                }
                _ => return Err(ConfigError::UnknownParameter(param.to_string())),
            }
        }
        Ok(Self {
            user,
            password,
            host: host.to_string(),
            port,
            transport,
        })
    }
}

/// `host` or `host:port` (IPv6 in brackets); the port defaults to `default`. The error
/// is the port text that did not parse.
fn split_host_port(text: &str, default: u16) -> Result<(&str, u16), &str> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (text, None),
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    match port {
        None => Ok((host, default)),
        Some(port) => match port.parse::<u16>() {
            Ok(p) if p > 0 => Ok((host, p)),
            _ => Err(port),
        },
    }
}

fn unescape(text: &str) -> Result<String, ConfigError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or(ConfigError::BadEscape)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ConfigError::BadEscape)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ConfigError::BadEscape)
}

/// Parses `--rtp-ports FIRST-LAST`.
pub fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, ConfigError> {
    let bad = || ConfigError::BadPortRange(text.to_string());
    let (first, last) = text.split_once('-').ok_or_else(bad)?;
    let first: u16 = first.trim().parse().map_err(|_| bad())?;
    let last: u16 = last.trim().parse().map_err(|_| bad())?;
    if !first.is_multiple_of(2) || first == 0 || last <= first {
        return Err(bad());
    }
    Ok(first..=last)
}

/// Parses `--sip-outbound-proxy HOST[:PORT]` into host and port.
pub fn parse_proxy(text: &str) -> Result<(String, u16), ConfigError> {
    let bare = text.trim().strip_prefix("sip:").unwrap_or(text.trim());
    let (host, port) =
        split_host_port(bare, 5060).map_err(|_| ConfigError::BadProxy(text.to_string()))?;
    if host.is_empty() {
        return Err(ConfigError::BadProxy(text.to_string()));
    }
    Ok((host.to_string(), port))
}

/// Everything the SIP adapter needs to start.
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// The trunk.
    pub trunk: Trunk,
    /// Register with the trunk (else the trunk trusts this node's address).
    pub register: bool,
    /// Send every request through this proxy instead of straight to the trunk.
    pub outbound_proxy: Option<(String, u16)>,
    /// Where the node listens for SIP.
    pub listen: SocketAddr,
    /// The address written into SDP and Contact, when the node is behind NAT.
    pub public_ip: Option<IpAddr>,
    /// The UDP ports RTP may use.
    pub rtp_ports: RangeInclusive<u16>,
    /// The campaign-wide inbound number callers dial, shown on the caller page.
    pub dial_in_number: Option<String>,
}

impl SipConfig {
    /// Checks the settings that depend on each other.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.register && (self.trunk.user.is_none() || self.trunk.password.is_none()) {
            return Err(ConfigError::RegisterWithoutCredentials);
        }
        Ok(())
    }

    /// The address other parties should send media and requests to.
    pub fn advertised_ip(&self) -> IpAddr {
        self.public_ip.unwrap_or_else(|| {
            let ip = self.listen.ip();
            if ip.is_unspecified() {
                IpAddr::from([127, 0, 0, 1])
            } else {
                ip
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_full_trunk_uri_parses_and_hides_its_password() {
        let trunk: Trunk = "sip:alice:s%40cret@trunk.example.org:5070;transport=tcp"
            .parse()
            .unwrap();
        assert_eq!(trunk.user.as_deref(), Some("alice"));
        assert_eq!(trunk.password.as_deref(), Some("s@cret"));
        assert_eq!(
            (trunk.host.as_str(), trunk.port),
            ("trunk.example.org", 5070)
        );
        assert_eq!(trunk.transport, SipTransport::Tcp);
        assert!(!format!("{trunk:?} {trunk}").contains("s@cret"));
    }

    #[test]
    fn ip_authentication_needs_only_a_host() {
        let trunk: Trunk = "sip:127.0.0.1".parse().unwrap();
        assert_eq!(
            (trunk.user, trunk.port, trunk.transport),
            (None, 5060, SipTransport::Udp)
        );
    }

    #[test]
    fn bad_trunks_say_what_is_wrong() {
        let err = |s: &str| s.parse::<Trunk>().unwrap_err();
        assert_eq!(err("trunk.example.org"), ConfigError::NotSip);
        assert_eq!(err("sip:u:p@"), ConfigError::NoHost);
        assert_eq!(err("sip:host:99999"), ConfigError::BadPort("99999".into()));
        assert_eq!(
            err("sip:host;transport=tls"),
            ConfigError::BadTransport("tls".into())
        );
        assert_eq!(
            err("sip:host;lr"),
            ConfigError::UnknownParameter("lr".into())
        );
        assert_eq!(err("sip:u:%zz@host"), ConfigError::BadEscape);
    }

    #[test]
    fn port_ranges_are_even_and_ordered() {
        assert_eq!(parse_port_range("20000-20999").unwrap(), 20000..=20999);
        for bad in ["20001-20999", "2000", "3000-2000", "a-b", "0-10"] {
            assert!(parse_port_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proxies_default_to_port_5060() {
        assert_eq!(
            parse_proxy("sip:proxy.example.org").unwrap(),
            ("proxy.example.org".into(), 5060)
        );
        assert_eq!(
            parse_proxy("10.0.0.1:5080").unwrap(),
            ("10.0.0.1".into(), 5080)
        );
        assert!(parse_proxy("host:x").is_err());
    }
}
