//! Which addresses a preview may connect to.
//!
//! A link preview makes the server fetch a URL a user chose, so without this check any
//! poster could make it read the cloud metadata service (169.254.169.254), an admin page
//! on localhost or a database on the private network (server-side request forgery).
//! Every address a host name resolves to is judged here, before any connection; the
//! connection is then pinned to the judged addresses (see `fetch.rs`).
//!
//! The ranges are IANA's special-purpose registries, written down below rather than
//! taken from std's `is_global` (not stable) so the reader can see each one. IPv6 is
//! judged by allow-list (only global unicast, 2000::/3, may pass) after the forms that
//! carry an IPv4 address inside are judged by that address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which addresses a fetch may connect to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Only addresses on the public internet (the production setting): every address a
    /// host resolves to must be public, or the link is refused.
    #[default]
    PublicOnly,
    /// Exactly these socket addresses (IP and port) and nothing else, public or not.
    ///
    /// For tests, which serve pages on 127.0.0.1 and must still see every other address,
    /// including a second local server, refused. Never offer it in configuration.
    AllowList(Vec<SocketAddr>),
}

impl AddressPolicy {
    /// Whether a connection to `addr` is allowed; the one decision every hop goes through.
    pub fn permits(&self, addr: SocketAddr) -> bool {
        match self {
            AddressPolicy::PublicOnly => non_public_range(addr.ip()).is_none(),
            AddressPolicy::AllowList(allowed) => allowed.contains(&addr),
        }
    }
}

/// IPv4 ranges that are not the public internet: (network, prefix length, what it is).
const V4_NOT_PUBLIC: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" (RFC 791)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (RFC 1918)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "carrier-grade NAT (RFC 6598)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local, cloud metadata (RFC 3927)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (RFC 1918)"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments (RFC 6890)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation TEST-NET-1 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "6to4 relay anycast (RFC 7526)",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private (RFC 1918)"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking (RFC 2544)"),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation TEST-NET-2 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation TEST-NET-3 (RFC 5737)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved, and broadcast 255.255.255.255",
    ),
];

/// IPv6 ranges that are not the public internet, named for the log. Most lie outside
/// 2000::/3 and would be refused anyway; they are listed so the log can say which.
const V6_NOT_PUBLIC: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    (
        Ipv6Addr::UNSPECIFIED,
        96,
        "IPv4-compatible (deprecated, RFC 4291)",
    ),
    (v6(0x64, 0xff9b, 1, 0), 48, "local-use NAT64 (RFC 8215)"),
    (v6(0x100, 0, 0, 0), 64, "discard-only (RFC 6666)"),
    (
        v6(0x2001, 0, 0, 0),
        23,
        "IETF protocol assignments, Teredo (RFC 2928, 4380)",
    ),
    (v6(0x2001, 0xdb8, 0, 0), 32, "documentation (RFC 3849)"),
    (v6(0x3fff, 0, 0, 0), 20, "documentation (RFC 9637)"),
    (v6(0x5f00, 0, 0, 0), 16, "segment routing (RFC 9602)"),
    (v6(0xfc00, 0, 0, 0), 7, "unique local (RFC 4193)"),
    (v6(0xfe80, 0, 0, 0), 10, "link-local"),
    (v6(0xfec0, 0, 0, 0), 10, "site-local (deprecated)"),
    (v6(0xff00, 0, 0, 0), 8, "multicast"),
];

/// The well-known NAT64 prefix 64:ff9b::/96 (RFC 6052): the last 32 bits are the IPv4
/// address a NAT64 gateway will connect to.
const NAT64: Ipv6Addr = v6(0x64, 0xff9b, 0, 0);

/// 6to4, 2002::/16 (RFC 3056): bits 16..48 are the IPv4 address the packets go to.
const SIX_TO_FOUR: Ipv6Addr = v6(0x2002, 0, 0, 0);

/// An IPv6 address from its first four groups, the rest zero (all the tables need).
const fn v6(a: u16, b: u16, c: u16, d: u16) -> Ipv6Addr {
    Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0)
}

/// The name of the non-public range `ip` lies in, or `None` if it is a public address.
pub(crate) fn non_public_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_NOT_PUBLIC
        .iter()
        .find(|(net, prefix, _)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
            bits & mask == u32::from(*net) & mask
        })
        .map(|(_, _, what)| *what)
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // Forms that carry an IPv4 address reach that address: judge them by it. A mapped
    // ::ffff:a.b.c.d is what a dual-stack socket uses for a.b.c.d itself.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let bits = u128::from(ip);
    if in_v6(bits, NAT64, 96) {
        return non_public_v4(Ipv4Addr::from(bits as u32));
    }
    if in_v6(bits, SIX_TO_FOUR, 16) {
        return non_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    if let Some((_, _, what)) = V6_NOT_PUBLIC
        .iter()
        .find(|(net, prefix, _)| in_v6(bits, *net, *prefix))
    {
        return Some(what);
    }
    if !in_v6(bits, v6(0x2000, 0, 0, 0), 3) {
        return Some("not global unicast (outside 2000::/3)");
    }
    None
}

fn in_v6(bits: u128, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    bits & mask == u128::from(net) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (address, expected: None = public, Some(range) = refused as that range).
    const TABLE: &[(&str, Option<&str>)] = &[
        // Public addresses pass, in either family and in the IPv4-carrying forms.
        ("93.184.215.14", None),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("100.63.255.255", None),
        ("100.128.0.0", None),
        ("172.15.255.255", None),
        ("172.32.0.0", None),
        ("192.169.0.0", None),
        ("223.255.255.255", None),
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001:80b::200e", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
        ("2002:808:808::1", None),
        // IPv4.
        ("0.0.0.0", Some("\"this network\" (RFC 791)")),
        ("0.1.2.3", Some("\"this network\" (RFC 791)")),
        ("10.0.0.1", Some("private (RFC 1918)")),
        ("10.255.255.255", Some("private (RFC 1918)")),
        ("100.64.0.1", Some("carrier-grade NAT (RFC 6598)")),
        ("100.127.255.255", Some("carrier-grade NAT (RFC 6598)")),
        ("127.0.0.1", Some("loopback")),
        ("127.255.255.254", Some("loopback")),
        (
            "169.254.169.254",
            Some("link-local, cloud metadata (RFC 3927)"),
        ),
        ("169.254.0.1", Some("link-local, cloud metadata (RFC 3927)")),
        ("172.16.0.1", Some("private (RFC 1918)")),
        ("172.31.255.255", Some("private (RFC 1918)")),
        ("192.0.0.8", Some("IETF protocol assignments (RFC 6890)")),
        ("192.0.2.1", Some("documentation TEST-NET-1 (RFC 5737)")),
        ("192.88.99.1", Some("6to4 relay anycast (RFC 7526)")),
        ("192.168.1.1", Some("private (RFC 1918)")),
        ("198.18.0.1", Some("benchmarking (RFC 2544)")),
        ("198.19.255.255", Some("benchmarking (RFC 2544)")),
        ("198.51.100.7", Some("documentation TEST-NET-2 (RFC 5737)")),
        ("203.0.113.9", Some("documentation TEST-NET-3 (RFC 5737)")),
        ("224.0.0.1", Some("multicast")),
        ("239.255.255.250", Some("multicast")),
        ("240.0.0.1", Some("reserved, and broadcast 255.255.255.255")),
        (
            "255.255.255.255",
            Some("reserved, and broadcast 255.255.255.255"),
        ),
        // IPv6.
        ("::", Some("unspecified")),
        ("::1", Some("loopback")),
        (
            "::127.0.0.1",
            Some("IPv4-compatible (deprecated, RFC 4291)"),
        ),
        ("::8.8.8.8", Some("IPv4-compatible (deprecated, RFC 4291)")),
        ("64:ff9b:1::1", Some("local-use NAT64 (RFC 8215)")),
        ("100::1", Some("discard-only (RFC 6666)")),
        (
            "2001::1",
            Some("IETF protocol assignments, Teredo (RFC 2928, 4380)"),
        ),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            Some("IETF protocol assignments, Teredo (RFC 2928, 4380)"),
        ),
        ("2001:db8::1", Some("documentation (RFC 3849)")),
        ("3fff::1", Some("documentation (RFC 9637)")),
        ("5f00::1", Some("segment routing (RFC 9602)")),
        ("fc00::1", Some("unique local (RFC 4193)")),
        ("fd12:3456:789a::1", Some("unique local (RFC 4193)")),
        ("fe80::1", Some("link-local")),
        ("febf::1", Some("link-local")),
        ("fec0::1", Some("site-local (deprecated)")),
        ("ff02::1", Some("multicast")),
        ("ff0e::1", Some("multicast")),
        ("4000::1", Some("not global unicast (outside 2000::/3)")),
        ("1000::1", Some("not global unicast (outside 2000::/3)")),
        // IPv6 forms that carry a non-public IPv4 address are judged by it.
        ("::ffff:127.0.0.1", Some("loopback")),
        ("::ffff:10.1.2.3", Some("private (RFC 1918)")),
        (
            "::ffff:169.254.169.254",
            Some("link-local, cloud metadata (RFC 3927)"),
        ),
        ("64:ff9b::127.0.0.1", Some("loopback")),
        ("64:ff9b::192.168.0.1", Some("private (RFC 1918)")),
        ("2002:7f00:1::", Some("loopback")),
        (
            "2002:a9fe:a9fe::1",
            Some("link-local, cloud metadata (RFC 3927)"),
        ),
        ("2002:c0a8:101::1", Some("private (RFC 1918)")),
    ];

    #[test]
    fn every_address_in_the_table_is_judged_as_written() {
        let mut wrong = Vec::new();
        for (text, expected) in TABLE {
            let ip: IpAddr = text.parse().unwrap();
            let got = non_public_range(ip);
            if got != *expected {
                wrong.push(format!("{text}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn public_only_permits_public_addresses_on_any_port() {
        let policy = AddressPolicy::PublicOnly;
        assert!(policy.permits("8.8.8.8:443".parse().unwrap()));
        assert!(policy.permits("8.8.8.8:8080".parse().unwrap()));
        assert!(!policy.permits("127.0.0.1:80".parse().unwrap()));
        assert!(!policy.permits("[::1]:443".parse().unwrap()));
    }

    #[test]
    fn an_allow_list_permits_exactly_its_socket_addresses() {
        let policy = AddressPolicy::AllowList(vec!["127.0.0.1:4000".parse().unwrap()]);
        assert!(policy.permits("127.0.0.1:4000".parse().unwrap()));
        assert!(!policy.permits("127.0.0.1:4001".parse().unwrap()));
        assert!(!policy.permits("127.0.0.2:4000".parse().unwrap()));
        assert!(!policy.permits("8.8.8.8:4000".parse().unwrap()));
    }
}
