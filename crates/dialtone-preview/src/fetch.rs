//! One guarded GET: every hop checked, every connection pinned, every body capped.
//!
//! The address check in `link.rs` is only worth something if the connection goes to the
//! addresses that were checked. Letting the HTTP client resolve the name again would
//! open a window for DNS rebinding (a name that answers a public address to the check
//! and 127.0.0.1 to the connect), so each hop gets a client of its own whose resolver
//! knows that one name, mapped to the checked addresses, and refuses every other
//! lookup. Redirects are followed here, not by the client, so each `Location` goes
//! through the same checks; proxies from the environment are ignored, since a proxy
//! would connect wherever it likes.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_LENGTH, LOCATION};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use url::Url;

use crate::PreviewConfig;
use crate::error::{FetchFailure, PreviewError};
use crate::link::{Target, check_url, resolve};

/// The answer to a GET after any redirects, with the URL that gave it.
pub(crate) struct Answer {
    /// The URL of the last hop: the page's own address, for resolving relative links.
    pub url: Url,
    /// The response, headers read, body not yet.
    pub response: Response,
}

/// GETs `url`, following at most `config.max_redirects` redirects, each hop checked and
/// pinned. Returns the first non-redirect answer if it is a success (2xx).
pub(crate) async fn get(
    mut url: Url,
    accept: &str,
    config: &PreviewConfig,
) -> Result<Answer, PreviewError> {
    let mut redirects: u8 = 0;
    loop {
        let target = resolve(&url, &config.allowed).await?;
        let client = pinned_client(&target, config)?;
        let response = client
            .get(url.clone())
            .header(ACCEPT, accept)
            .send()
            .await
            .map_err(FetchFailure::Connection)?;
        let status = response.status();
        if is_followed_redirect(status) {
            if redirects >= config.max_redirects {
                return Err(PreviewError::TooManyRedirects {
                    limit: config.max_redirects,
                });
            }
            redirects += 1;
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or(FetchFailure::BadRedirect)?;
            let next = url.join(location).map_err(|_| FetchFailure::BadRedirect)?;
            tracing::debug!(from = %url, to = %next, "link preview follows a redirect");
            url = check_url(next)?;
            continue;
        }
        if !status.is_success() {
            return Err(FetchFailure::Status(status.as_u16()).into());
        }
        return Ok(Answer { url, response });
    }
}

/// The redirects a browser follows for a GET; 300 and 304 are answers, not redirects.
fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// A client that can reach only `target`'s checked addresses.
///
/// Built per hop: a client costs a little (its TLS configuration), but it carries no
/// pooled connection or cached name from one host to the next.
fn pinned_client(target: &Target, config: &PreviewConfig) -> Result<Client, PreviewError> {
    let mut builder = Client::builder()
        .redirect(Policy::none())
        .no_proxy()
        .referer(false)
        .pool_max_idle_per_host(0)
        .user_agent(config.user_agent.as_str())
        .dns_resolver(Arc::new(NoLookups));
    if let Some(domain) = &target.domain {
        builder = builder.resolve_to_addrs(domain, &target.addrs);
    }
    builder
        .build()
        .map_err(|e| FetchFailure::Connection(e).into())
}

/// The pinned client's resolver: reqwest consults `resolve_to_addrs` overrides before it,
/// so it is asked only for names that were not checked, and refuses them all. Public for
/// the other clients that pin a URL a user chose (Web Push endpoints).
pub struct NoLookups;

/// Why [`NoLookups`] refused: a name reached the client without being checked.
#[derive(Debug, thiserror::Error)]
#[error("host name {0} was not checked before the connection")]
struct UncheckedName(String);

impl reqwest::dns::Resolve for NoLookups {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let refused: Box<dyn std::error::Error + Send + Sync> = Box::new(UncheckedName(name));
            Err::<Box<dyn Iterator<Item = SocketAddr> + Send>, _>(refused)
        })
    }
}

/// What to do with a body that goes past its limit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Overflow {
    /// Keep the first `limit` bytes and stop reading (pages: the tags a preview needs
    /// are in the `<head>`, at the start).
    Truncate,
    /// Refuse the whole body with [`PreviewError::TooLarge`] (images: half a picture is
    /// no picture).
    Refuse,
}

/// Reads the body up to `limit` bytes, never buffering more than `limit` and stopping
/// the download there.
pub(crate) async fn read_capped(
    mut response: Response,
    limit: usize,
    overflow: Overflow,
) -> Result<Vec<u8>, PreviewError> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let (Overflow::Refuse, Some(length)) = (overflow, declared)
        && length > limit as u64
    {
        return Err(PreviewError::TooLarge { limit });
    }
    let capacity = declared.map_or(0, |length| length.min(limit as u64) as usize);
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(FetchFailure::Connection)? {
        let room = limit - body.len();
        if chunk.len() > room {
            return match overflow {
                Overflow::Truncate => {
                    body.extend_from_slice(&chunk[..room]);
                    Ok(body)
                }
                Overflow::Refuse => Err(PreviewError::TooLarge { limit }),
            };
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_pinned_host_is_reached_at_its_checked_address_without_another_lookup() {
        // `.invalid` never resolves (RFC 6761): the request can only succeed if the client
        // connects to the pinned address instead of asking DNS.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await.unwrap();
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
        });
        let target = Target {
            domain: Some("pinned.invalid".into()),
            addrs: vec![addr],
        };
        let client = pinned_client(&target, &PreviewConfig::default()).unwrap();
        let url = format!("http://pinned.invalid:{}/", addr.port());
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn a_name_that_was_not_checked_is_never_looked_up() {
        let target = Target {
            domain: Some("pinned.invalid".into()),
            addrs: vec!["127.0.0.1:9".parse().unwrap()],
        };
        let client = pinned_client(&target, &PreviewConfig::default()).unwrap();
        let err = client
            .get("http://localhost:8080/")
            .send()
            .await
            .unwrap_err();
        let mut chain = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = cause {
            chain.push(e.to_string());
            cause = e.source();
        }
        assert!(
            chain
                .iter()
                .any(|m| m == "host name localhost was not checked before the connection"),
            "{chain:?}"
        );
    }
}
