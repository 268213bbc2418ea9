//! Client authentication. `MLAAS_API_KEYS` holds comma-separated keys, or `sha256:<hex>`
//! digests of keys, so a deployment need not hold the keys themselves. Keys are kept only as
//! SHA-256 digests, and a presented key is compared with every digest in constant time.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

#[derive(Clone, Default)]
pub struct ClientKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKeys({} keys)", self.digests.len())
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ClientKeys {
    /// Parses the variable's value; entries that cannot be used are returned as problems
    /// (never echoing the entry, which may be a key).
    pub fn parse(spec: &str) -> (ClientKeys, Vec<String>) {
        let mut keys = ClientKeys::default();
        let mut problems = Vec::new();
        for (i, entry) in spec.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            match entry.strip_prefix("sha256:") {
                Some(hex_digest) => {
                    let mut d = [0u8; 32];
                    match hex::decode_to_slice(hex_digest.trim(), &mut d) {
                        Ok(()) => keys.digests.push(d),
                        Err(_) => problems.push(format!(
                            "MLAAS_API_KEYS entry {} is not sha256: followed by 64 hex digits",
                            i + 1
                        )),
                    }
                }
                None => keys.digests.push(digest(entry)),
            }
        }
        (keys, problems)
    }

    /// Authentication is on when at least one key is configured.
    pub fn enabled(&self) -> bool {
        !self.digests.is_empty()
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Whether `presented` is one of the keys; every digest is compared, in constant time.
    pub fn accepts(&self, presented: &str) -> bool {
        let d = digest(presented);
        let mut matched = Choice::from(0);
        for known in &self.digests {
            matched |= known.ct_eq(&d);
        }
        matched.into()
    }

    /// A stable, non-secret name for the client holding `presented` (for rate limits and
    /// logs): the first 8 bytes of its digest, in hex.
    pub fn client_id(presented: &str) -> String {
        format!("key_{}", hex::encode(&digest(presented)[..8]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_and_digests() {
        let k2 = hex::encode(digest("second-key"));
        let (keys, problems) = ClientKeys::parse(&format!(" first-key , sha256:{k2} ,,"));
        assert!(problems.is_empty());
        assert_eq!(keys.len(), 2);
        assert!(keys.accepts("first-key"));
        assert!(keys.accepts("second-key"));
        assert!(!keys.accepts("first-key "));
        assert!(!keys.accepts(""));
        assert!(!format!("{keys:?}").contains("first"));
    }

    #[test]
    fn bad_digests_are_problems_and_off_when_empty() {
        let (keys, problems) = ClientKeys::parse("sha256:nothex");
        assert_eq!(problems.len(), 1);
        assert!(!problems[0].contains("nothex"));
        assert!(!keys.enabled());
        assert!(!ClientKeys::parse("").0.enabled());
        assert_eq!(ClientKeys::client_id("a"), ClientKeys::client_id("a"));
        assert_ne!(ClientKeys::client_id("a"), ClientKeys::client_id("b"));
    }
}
