//! Token-bucket rate limiting, per key (client address, account).
//!
//! Invariants: a bucket holds at most `burst` tokens and refills at `rate` tokens per second;
//! a request takes one token or is refused with the time until one is available (the
//! `Retry-After`, at least one second). The table of keys is bounded by `max_keys`: when it is
//! full, buckets that have refilled completely (indistinguishable from new ones) are dropped;
//! if none can be dropped, an unknown key is let through untracked rather than refused, since
//! the global concurrency limit still protects the server. Time never goes backwards inside a
//! bucket, and non-finite arithmetic cannot occur (rates are validated positive and finite).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One token bucket.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn full(burst: f64, now: Instant) -> Self {
        Self {
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, rate: f64, burst: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        if now > self.last {
            self.last = now;
        }
    }

    /// Takes one token, or returns how long until one is available.
    pub fn try_take(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        self.refill(rate, burst, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / rate;
            let wait = Duration::try_from_secs_f64(wait).unwrap_or(Duration::from_secs(1));
            Err(wait.min(Duration::from_secs(86_400)))
        }
    }

    /// Whether the bucket is full at `now` (so it can be forgotten).
    pub fn is_full(&self, rate: f64, burst: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * rate >= burst
    }
}

/// Seconds for a `Retry-After` header: the wait rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    s.max(1)
}

struct Table<K> {
    buckets: HashMap<K, TokenBucket>,
    last_prune: Option<Instant>,
}

/// A bounded map of token buckets.
pub struct KeyedLimiter<K> {
    rate: f64,
    burst: f64,
    max_keys: usize,
    table: Mutex<Table<K>>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `rate` tokens per second, `burst` capacity, at most `max_keys` tracked keys.
    /// Non-positive or non-finite values are replaced by the smallest sane ones.
    pub fn new(rate: f64, burst: u32, max_keys: usize) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1e-6
        };
        Self {
            rate,
            burst: f64::from(burst.max(1)),
            max_keys: max_keys.max(1),
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                last_prune: None,
            }),
        }
    }

    /// Takes a token for `key` now.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Takes a token for `key` at `now`.
    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = t.buckets.get_mut(key) {
            return b.try_take(self.rate, self.burst, now);
        }
        if t.buckets.len() >= self.max_keys {
            let may_prune = t
                .last_prune
                .is_none_or(|p| now.saturating_duration_since(p) >= Duration::from_secs(1));
            if may_prune {
                let (rate, burst) = (self.rate, self.burst);
                t.buckets.retain(|_, b| !b.is_full(rate, burst, now));
                t.last_prune = Some(now);
            }
            if t.buckets.len() >= self.max_keys {
                return Ok(());
            }
        }
        let mut b = TokenBucket::full(self.burst, now);
        let r = b.try_take(self.rate, self.burst, now);
        t.buckets.insert(key.clone(), b);
        r
    }

    /// Number of tracked keys.
    pub fn tracked(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len()
    }
}

/// The rate-limiting key of a client address: the address itself for IPv4, its /64 prefix
/// for IPv6 (one subscriber usually holds a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The reverse proxies whose `X-Forwarded-For` header is believed: addresses and CIDR
/// blocks, IPv4-mapped IPv6 addresses matched as IPv4.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyList(Vec<(IpAddr, u8)>);

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl ProxyList {
    /// Parses `"10.0.0.1"`, `"10.0.0.0/8"`, `"::1"`, `"fd00::/8"`.
    pub fn parse(items: &[String]) -> Result<Self, String> {
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item.as_str(), None),
            };
            let ip: IpAddr = addr
                .trim()
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or CIDR block"))?;
            let ip = unmap(ip);
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?}: the prefix length must be 0 to {max}"))?,
            };
            list.push((ip, bits));
        }
        Ok(Self(list))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// The client address of a request that came from `peer` with the `X-Forwarded-For`
    /// values `forwarded` (in header order): the peer itself unless it is a trusted proxy;
    /// otherwise the last forwarded entry that is not a trusted proxy (entries to its left
    /// were written by the client and prove nothing), or the peer when there is none.
    pub fn client_of<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let entries: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
        let mut client = peer;
        for entry in entries.iter().rev() {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = unmap(ip);
                    if !self.contains(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn bucket_refills_at_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::full(2.0, t0);
        assert!(b.try_take(1.0, 2.0, t0).is_ok());
        assert!(b.try_take(1.0, 2.0, t0).is_ok());
        let wait = b.try_take(1.0, 2.0, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900));
        assert_eq!(retry_after_secs(wait), 1);
        assert!(
            b.try_take(1.0, 2.0, t0 + Duration::from_millis(500))
                .is_err()
        );
        assert!(
            b.try_take(1.0, 2.0, t0 + Duration::from_millis(1100))
                .is_ok()
        );
        // never above burst
        let later = t0 + Duration::from_secs(3600);
        assert!(b.is_full(1.0, 2.0, later));
        assert!(b.try_take(1.0, 2.0, later).is_ok());
        assert!(b.try_take(1.0, 2.0, later).is_ok());
        assert!(b.try_take(1.0, 2.0, later).is_err());
    }

    #[test]
    fn clock_going_backwards_is_harmless() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut b = TokenBucket::full(1.0, t0);
        assert!(b.try_take(1.0, 1.0, t0).is_ok());
        assert!(b.try_take(1.0, 1.0, t0 - Duration::from_secs(5)).is_err());
    }

    #[test]
    fn keyed_limiter_is_per_key_and_bounded() {
        let l = KeyedLimiter::new(0.5, 1, 2);
        let t0 = Instant::now();
        assert!(l.check_at(&1, t0).is_ok());
        let wait = l.check_at(&1, t0).unwrap_err();
        assert_eq!(retry_after_secs(wait), 2);
        assert!(l.check_at(&2, t0).is_ok());
        // table full, nothing prunable: a third key passes untracked
        assert!(l.check_at(&3, t0).is_ok());
        assert!(l.check_at(&3, t0).is_ok());
        assert_eq!(l.tracked(), 2);
        // later the refilled buckets are pruned and key 3 is tracked
        let t1 = t0 + Duration::from_secs(10);
        assert!(l.check_at(&3, t1).is_ok());
        assert!(l.check_at(&3, t1).is_err());
    }

    #[test]
    fn degenerate_parameters_do_not_panic() {
        let l = KeyedLimiter::new(f64::NAN, 0, 0);
        let t0 = Instant::now();
        assert!(l.check_at(&"a", t0).is_ok());
        let wait = l.check_at(&"a", t0).unwrap_err();
        assert!(retry_after_secs(wait) >= 1);
        let l = KeyedLimiter::new(f64::INFINITY, u32::MAX, usize::MAX);
        assert!(l.check_at(&"a", t0).is_ok());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies =
            ProxyList::parse(&["127.0.0.1".into(), "10.0.0.0/8".into(), "fd00::/8".into()])
                .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // A stranger's header is ignored.
        assert_eq!(
            proxies.client_of(ip("203.0.113.9"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.9")
        );
        // Through one proxy: the last entry.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), ["198.51.100.1"].into_iter()),
            ip("198.51.100.1")
        );
        // A client that writes its own header cannot choose its address: the rightmost
        // entry that is not a trusted proxy wins.
        assert_eq!(
            proxies.client_of(
                ip("127.0.0.1"),
                ["1.2.3.4, 198.51.100.1", "10.1.2.3"].into_iter()
            ),
            ip("198.51.100.1")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            proxies.client_of(ip("10.0.0.1"), ["evil, 10.2.2.2"].into_iter()),
            ip("10.2.2.2")
        );
        assert_eq!(
            proxies.client_of(ip("::ffff:127.0.0.1"), [].into_iter()),
            ip("::ffff:127.0.0.1")
        );
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("fe80::1")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert!(ProxyList::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(ProxyList::parse(&["example.org".into()]).is_err());
        assert!(
            ProxyList::parse(&["0.0.0.0/0".into()])
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
    }

    #[test]
    fn ipv6_keys_by_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let m: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(m), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
