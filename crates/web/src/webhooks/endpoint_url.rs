//! Which webhook endpoints may be called: HTTPS on a public address only, so subscribing
//! cannot make the server reach into its own network. Plain HTTP and loopback addresses
//! are allowed only when the operator says so (`--webhook-allow-insecure-loopback`, for
//! tests and local receivers); private, link-local and other special ranges never are.
//! Checked when an endpoint is added and again on every connection (by the resolver).

use barnstorm_domain::limits;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Checks an endpoint URL, returning it parsed or what is wrong with it, in words for the
/// form.
pub fn check_endpoint_url(raw: &str, allow_insecure_loopback: bool) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.chars().count() > limits::URL {
        return Err(format!(
            "The URL is longer than {} characters.",
            limits::URL
        ));
    }
    let url = Url::parse(raw).map_err(|e| format!("The URL is not valid: {e}."))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_loopback => {}
        "http" => {
            return Err(
                "The URL must start with https:// (plain http is refused: deliveries carry signed data)."
                    .to_owned(),
            );
        }
        other => return Err(format!("The URL must start with https://, not {other}://.")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The URL must not carry a user name or password.".to_owned());
    }
    match url.host() {
        None => return Err("The URL has no host.".to_owned()),
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            if (domain == "localhost" || domain.ends_with(".localhost")) && !allow_insecure_loopback
            {
                return Err(
                    "The URL points at this server (localhost), which is refused.".to_owned(),
                );
            }
        }
        Some(Host::Ipv4(ip)) => address_allowed(IpAddr::V4(ip), allow_insecure_loopback)?,
        Some(Host::Ipv6(ip)) => address_allowed(IpAddr::V6(ip), allow_insecure_loopback)?,
    }
    Ok(url)
}

/// Whether a webhook may connect to `ip`; the refusal in words.
pub fn address_allowed(ip: IpAddr, allow_insecure_loopback: bool) -> Result<(), String> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if ip.is_loopback() {
        return if allow_insecure_loopback {
            Ok(())
        } else {
            Err(format!(
                "The address {ip} is this server (loopback), which is refused."
            ))
        };
    }
    let special = match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    };
    if special {
        Err(format!(
            "The address {ip} is private or reserved; webhooks go to public addresses only."
        ))
    } else {
        Ok(())
    }
}

fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking, 198.18.0.0/15, and the reserved 240.0.0.0/4.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_multicast()
        // Unique local (fc00::/7) and link-local (fe80::/10).
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_is_accepted() {
        assert!(check_endpoint_url("https://hooks.example.com/barnstorm", false).is_ok());
        assert!(check_endpoint_url("https://93.184.215.14/in", false).is_ok());
    }

    #[test]
    fn plain_http_is_refused_unless_allowed() {
        let refused = check_endpoint_url("http://hooks.example.com/in", false).unwrap_err();
        assert!(refused.contains("https://"), "{refused}");
        assert!(check_endpoint_url("http://127.0.0.1:9000/in", true).is_ok());
        assert!(check_endpoint_url("ftp://hooks.example.com/", true).is_err());
    }

    #[test]
    fn own_network_addresses_are_refused() {
        for url in [
            "https://127.0.0.1/in",
            "https://localhost/in",
            "https://10.1.2.3/in",
            "https://192.168.0.1/in",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/in",
            "https://[fd00::1]/in",
            "https://[::ffff:10.0.0.1]/in",
            "https://100.64.0.1/in",
            "https://0.0.0.0/in",
        ] {
            assert!(
                check_endpoint_url(url, false).is_err(),
                "{url} was accepted"
            );
        }
        // The operator's flag opens loopback only, never the private ranges.
        assert!(check_endpoint_url("https://[::1]/in", true).is_ok());
        assert!(check_endpoint_url("https://10.1.2.3/in", true).is_err());
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        assert!(check_endpoint_url("https://user:pw@hooks.example.com/", false).is_err());
    }
}
