//! Where pushes may go: the guard against request forgery through an endpoint.
//!
//! A subscription's endpoint is a URL the client chose, and the server POSTs to it, so
//! an attacker could point it at the cloud metadata service or an admin port on the
//! private network. The address rules are dialtone-preview's ([`AddressPolicy`]: the
//! same forgery, judged in one place); this module adds what push needs: `https` only,
//! every resolved address checked, and connections pinned to those addresses, so DNS
//! rebinding cannot swap in an internal address between the check and the connection.
//!
//! Unlike a preview, a push goes to the same few push services again and again, so the
//! pinned client of an origin is kept (with its pooled TLS connections) for a few
//! minutes, then the name is resolved and checked again.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use dialtone_preview::AddressPolicy;
use reqwest::Client;
use reqwest::redirect::Policy;
use url::{Host, Url};

/// Which endpoints pushes may be sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EndpointPolicy {
    /// The production setting: `https` only, and every address the host resolves to
    /// must be on the public internet (dialtone-preview's rules).
    #[default]
    PublicHttpsOnly,
    /// Exactly these socket addresses (IP and port), over `http` or `https`, and
    /// nothing else, public or not.
    ///
    /// For tests, whose push service listens on 127.0.0.1; every other address stays
    /// refused. Never offer it in configuration.
    AllowList(Vec<SocketAddr>),
}

impl EndpointPolicy {
    /// Whether a connection to `addr` is allowed.
    pub fn permits(&self, addr: SocketAddr) -> bool {
        match self {
            EndpointPolicy::PublicHttpsOnly => AddressPolicy::PublicOnly.permits(addr),
            EndpointPolicy::AllowList(allowed) => allowed.contains(&addr),
        }
    }

    /// Whether an endpoint may use this URL scheme.
    pub(crate) fn permits_scheme(&self, scheme: &str) -> bool {
        match self {
            EndpointPolicy::PublicHttpsOnly => scheme == "https",
            EndpointPolicy::AllowList(_) => scheme == "https" || scheme == "http",
        }
    }

    /// Whether a host name is refused before it is even resolved: `localhost` and its
    /// subdomains, which resolvers may answer from a hosts file without DNS.
    pub(crate) fn refuses_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        matches!(self, EndpointPolicy::PublicHttpsOnly)
            && (name == "localhost" || name.ends_with(".localhost"))
    }
}

/// How long a pinned client (its checked addresses and pooled connections) is reused
/// before the name is resolved and checked again.
const PIN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Above this many origins the client cache starts over (endpoints are user-supplied).
const MAX_PINNED_ORIGINS: usize = 256;

/// Why no connection could be made to an endpoint's host.
#[derive(Debug)]
pub(crate) enum PinError {
    /// An address the policy refuses: final, never retried.
    Forbidden,
    /// The name did not resolve, or resolved to nothing: may pass on a retry.
    Resolve(String),
    /// The client could not be built.
    Client(reqwest::Error),
}

/// Pinned clients per origin.
pub(crate) struct PinnedClients {
    policy: EndpointPolicy,
    request_timeout: Duration,
    clients: Mutex<HashMap<String, (Instant, Client)>>,
}

impl PinnedClients {
    /// Clients that connect only where `policy` allows, each request cut at `timeout`.
    pub(crate) fn new(policy: EndpointPolicy, request_timeout: Duration) -> PinnedClients {
        PinnedClients {
            policy,
            request_timeout,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The policy the clients obey.
    pub(crate) fn policy(&self) -> &EndpointPolicy {
        &self.policy
    }

    /// A client for `url`'s origin that can reach only its checked addresses.
    pub(crate) async fn client_for(&self, url: &Url) -> Result<Client, PinError> {
        let origin = url.origin().ascii_serialization();
        if let Some(client) = self.cached(&origin) {
            return Ok(client);
        }
        let (domain, addrs) = self.resolve(url).await?;
        let client = self.build(domain.as_deref(), &addrs)?;
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if clients.len() >= MAX_PINNED_ORIGINS {
            clients.clear();
        }
        clients.insert(origin, (Instant::now(), client.clone()));
        Ok(client)
    }

    /// Forgets `url`'s client, so the next request resolves again (after a connection
    /// failure: the service may have moved).
    pub(crate) fn forget(&self, url: &Url) {
        let origin = url.origin().ascii_serialization();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.remove(&origin);
    }

    fn cached(&self, origin: &str) -> Option<Client> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .get(origin)
            .filter(|(made, _)| made.elapsed() < PIN_LIFETIME)
            .map(|(_, client)| client.clone())
    }

    /// Resolves the host and refuses it unless the policy permits every address (the
    /// connector may try any of them; one public and one private is what an attacker
    /// answers).
    async fn resolve(&self, url: &Url) -> Result<(Option<String>, Vec<SocketAddr>), PinError> {
        let port = url.port_or_known_default().ok_or(PinError::Forbidden)?;
        let (domain, mut addrs) = match url.host() {
            Some(Host::Ipv4(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
            Some(Host::Ipv6(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
            Some(Host::Domain(name)) => {
                if self.policy.refuses_name(name) {
                    return Err(PinError::Forbidden);
                }
                let addrs = tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|e| PinError::Resolve(e.to_string()))?
                    .collect();
                (Some(name.to_owned()), addrs)
            }
            None => return Err(PinError::Forbidden),
        };
        addrs.sort();
        addrs.dedup();
        if addrs.is_empty() {
            return Err(PinError::Resolve("no address".into()));
        }
        if let Some(refused) = addrs.iter().find(|addr| !self.policy.permits(**addr)) {
            tracing::warn!(host = url.host_str(), address = %refused, "push endpoint refused");
            return Err(PinError::Forbidden);
        }
        Ok((domain, addrs))
    }

    fn build(&self, domain: Option<&str>, addrs: &[SocketAddr]) -> Result<Client, PinError> {
        let mut builder = Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .referer(false)
            .timeout(self.request_timeout)
            .connect_timeout(self.request_timeout)
            .user_agent("dialtone-push")
            .dns_resolver(Arc::new(dialtone_preview::NoLookups));
        if let Some(domain) = domain {
            builder = builder.resolve_to_addrs(domain, addrs);
        }
        builder.build().map_err(PinError::Client)
    }
}
