//! The client's address. `X-Forwarded-For` and `X-Real-IP` are believed only when the
//! connection comes from one of `server.trusted_proxies`; anyone else could forge them.

use std::net::IpAddr;

use rocket::request::{FromRequest, Outcome};
use rocket::{Request, State};

use crate::app::App;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The address of the client behind `peer`, given the forwarding headers and the proxies
/// to trust: the right-most address in `X-Forwarded-For` that is not a trusted proxy.
pub fn resolve(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    real_ip: Option<&str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    if let Some(chain) = forwarded_for {
        let hops: Vec<IpAddr> = chain
            .split(',')
            .filter_map(|h| h.trim().parse().ok())
            .collect();
        if let Some(client) = hops.iter().rev().find(|ip| !trusted.contains(ip)) {
            return *client;
        }
    }
    real_ip.and_then(|v| v.trim().parse().ok()).unwrap_or(peer)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let peer = req
            .remote()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let trusted = match req.guard::<&State<App>>().await {
            Outcome::Success(app) => app.config.server.trusted_proxies.clone(),
            _ => Vec::new(),
        };
        let headers = req.headers();
        Outcome::Success(ClientIp(resolve(
            peer,
            headers.get_one("X-Forwarded-For"),
            headers.get_one("X-Real-IP"),
            &trusted,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_strangers_are_ignored() {
        let got = resolve(
            ip("203.0.113.5"),
            Some("1.2.3.4"),
            Some("5.6.7.8"),
            &[ip("127.0.0.1")],
        );
        assert_eq!(got, ip("203.0.113.5"));
    }

    #[test]
    fn a_trusted_proxy_is_believed_up_to_the_first_untrusted_hop() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        let got = resolve(
            ip("127.0.0.1"),
            Some("6.6.6.6, 198.51.100.7, 10.0.0.2"),
            None,
            &trusted,
        );
        assert_eq!(
            got,
            ip("198.51.100.7"),
            "the forged left-most entry is not believed"
        );
        let real = resolve(ip("127.0.0.1"), None, Some("198.51.100.9"), &trusted);
        assert_eq!(real, ip("198.51.100.9"));
        let garbage = resolve(ip("127.0.0.1"), Some("nonsense"), None, &trusted);
        assert_eq!(garbage, ip("127.0.0.1"));
    }
}
