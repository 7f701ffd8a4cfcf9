//! From a link's text to the addresses it may be fetched from, refusing on the way every
//! link that is not plain http(s) to a public address.
//!
//! The checks run in order of cost: the text (length, scheme, credentials, port) before
//! any name is resolved, then every resolved address against the [`AddressPolicy`]. The
//! `url` crate parses hosts as browsers do (WHATWG), so numeric spellings of IPv4
//! addresses (`2130706433`, `0x7f.1`, `0177.0.0.1`) arrive here as the address they
//! mean, 127.0.0.1, and are judged as such.

use std::net::SocketAddr;

use url::{Host, Url};

use crate::address::{AddressPolicy, non_public_range};
use crate::error::{FetchFailure, InvalidUrl, PreviewError};

/// The longest link accepted, in bytes of its text and of its normalised form.
///
/// Browsers and CDNs commonly stop near 2 KiB; a longer link is not a page to preview.
pub const MAX_URL_LEN: usize = 2048;

/// Ports the Fetch standard blocks for browsers ("bad ports"): services whose protocol
/// could read an HTTP request as its own commands (SMTP, IRC, …). Any other port is
/// allowed: public sites do run on 8080 or 8443, and the harm of server-side request
/// forgery lies in the address, which the policy decides whatever the port.
const BAD_PORTS: &[u16] = &[
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427,
    465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
    993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
    6668, 6669, 6679, 6697, 10080,
];

/// Parses a link given by a user and checks what can be checked without the network.
pub(crate) fn parse_link(text: &str) -> Result<Url, InvalidUrl> {
    if text.len() > MAX_URL_LEN {
        return Err(InvalidUrl::TooLong { limit: MAX_URL_LEN });
    }
    let url = Url::parse(text.trim()).map_err(InvalidUrl::Unparsable)?;
    check_url(url)
}

/// Checks a URL however it was made (typed, a redirect's `Location`, an `og:image`), and
/// drops its fragment, which is never sent to a server.
pub(crate) fn check_url(mut url: Url) -> Result<Url, InvalidUrl> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(InvalidUrl::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InvalidUrl::Credentials);
    }
    if url.host().is_none() {
        return Err(InvalidUrl::NoHost);
    }
    if let Some(port) = url.port()
        && BAD_PORTS.contains(&port)
    {
        return Err(InvalidUrl::BlockedPort(port));
    }
    url.set_fragment(None);
    if url.as_str().len() > MAX_URL_LEN {
        return Err(InvalidUrl::TooLong { limit: MAX_URL_LEN });
    }
    Ok(url)
}

/// A checked URL with the addresses it was judged by: the only ones it may connect to.
#[derive(Debug)]
pub(crate) struct Target {
    /// The host name to pin to `addrs`, or `None` when the URL holds an IP address.
    pub domain: Option<String>,
    /// Every address the host resolved to, all permitted by the policy.
    pub addrs: Vec<SocketAddr>,
}

/// Resolves the URL's host and refuses it unless the policy permits every address.
///
/// Every address, not just one: the connector may try any of them, and a host that
/// answers with one public and one private address is exactly what an attacker makes.
pub(crate) async fn resolve(url: &Url, policy: &AddressPolicy) -> Result<Target, PreviewError> {
    let port = url.port_or_known_default().ok_or(InvalidUrl::Scheme)?;
    let (domain, addrs) = match url.host() {
        Some(Host::Ipv4(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
        Some(Host::Ipv6(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
        Some(Host::Domain(name)) => {
            let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(FetchFailure::Resolve)?
                .collect();
            addrs.sort();
            addrs.dedup();
            (Some(name.to_owned()), addrs)
        }
        None => return Err(InvalidUrl::NoHost.into()),
    };
    if addrs.is_empty() {
        return Err(FetchFailure::NoAddress.into());
    }
    if let Some(refused) = addrs.iter().find(|addr| !policy.permits(**addr)) {
        tracing::debug!(
            host = url.host_str(),
            address = %refused,
            range = non_public_range(refused.ip()),
            "link preview refused an address",
        );
        return Err(PreviewError::ForbiddenAddress);
    }
    Ok(Target { domain, addrs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_spellings_of_loopback_are_parsed_as_the_address_they_mean() {
        for text in [
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
        ] {
            let url = parse_link(text).unwrap();
            assert_eq!(
                url.host(),
                Some(Host::Ipv4("127.0.0.1".parse().unwrap())),
                "{text}"
            );
        }
    }

    #[test]
    fn a_mapped_ipv6_literal_is_parsed_as_ipv6() {
        let url = parse_link("http://[::ffff:127.0.0.1]/").unwrap();
        assert_eq!(
            url.host(),
            Some(Host::Ipv6("::ffff:7f00:1".parse().unwrap()))
        );
    }

    #[test]
    fn links_are_refused_for_their_text_alone() {
        let too_long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        let cases: &[(&str, &str)] = &[
            (
                "file:///etc/passwd",
                "only http and https links are previewed",
            ),
            ("gopher://x", "only http and https links are previewed"),
            ("ftp://x", "only http and https links are previewed"),
            (
                "javascript:alert(1)",
                "only http and https links are previewed",
            ),
            (
                "data:text/html,<b>x</b>",
                "only http and https links are previewed",
            ),
            (
                "http://user:pw@example.com/",
                "links with a user name or password are refused",
            ),
            (
                "http://user@example.com/",
                "links with a user name or password are refused",
            ),
            ("http://example.com:25/", "port 25 is not fetched"),
            ("http://example.com:0/", "port 0 is not fetched"),
            ("example.com", "it is not a URL"),
            ("http://", "it is not a URL"),
            (&too_long, "it is longer than 2048 characters"),
        ];
        for (text, message) in cases {
            let err = parse_link(text).unwrap_err();
            assert_eq!(err.to_string(), *message, "{text}");
        }
    }

    #[test]
    fn ordinary_links_keep_their_port_and_lose_their_fragment() {
        let url = parse_link(" https://Example.COM:8443/a/b?q=1#part ").unwrap();
        assert_eq!(url.as_str(), "https://example.com:8443/a/b?q=1");
    }

    #[tokio::test]
    async fn a_literal_private_address_is_refused_without_resolving() {
        let url = parse_link("http://10.0.0.1/").unwrap();
        let err = resolve(&url, &AddressPolicy::PublicOnly).await.unwrap_err();
        assert_eq!(err.code(), "forbidden_address");
    }
}
