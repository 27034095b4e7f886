//! Logins for services that ask for one (a room's shared cluster): which
//! user and password a client presents to which server. One registry per
//! process, keyed by `host:port`, so every console, panel, check and grade
//! that connects to a registered server presents the login without being
//! told, and servers nobody registered (a learner's own local services) are
//! reached as before, without one. The password never appears in `Debug`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A user and password (Kafka SCRAM-SHA-512, a Cassandra role, a MongoDB
/// user).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Login {{ user: {:?}, password: \"***\" }}", self.user)
    }
}

fn registry() -> &'static Mutex<HashMap<String, Login>> {
    static MAP: OnceLock<Mutex<HashMap<String, Login>>> = OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The `host:port` entries of an address list (`a:1,b:2`), or of a
/// `mongodb://[user@]host:port,…/…` URI.
fn hosts(address: &str) -> Vec<String> {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or("");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    rest.split(',')
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect()
}

/// From now on, clients of every server in `address` present `login`.
pub fn register(address: &str, login: &Login) {
    if let Ok(mut map) = registry().lock() {
        for host in hosts(address) {
            map.insert(host, login.clone());
        }
    }
}

/// Has this process a login for any server?
pub fn any() -> bool {
    registry().lock().is_ok_and(|m| !m.is_empty())
}

/// The login registered for any server of `address`.
pub fn login_for(address: &str) -> Option<Login> {
    let map = registry().lock().ok()?;
    hosts(address).iter().find_map(|h| map.get(h).cloned())
}

/// A random password: 24 letters and digits from the OS's randomness.
pub fn new_password() -> std::io::Result<String> {
    use std::io::Read;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_found_by_any_server_of_an_address_and_hides_its_password() {
        let l = Login {
            user: "ada".into(),
            password: "s3cret".into(),
        };
        register("10.9.9.1:9092,10.9.9.2:9092", &l);
        assert_eq!(login_for("10.9.9.2:9092").unwrap().user, "ada");
        assert_eq!(
            login_for("mongodb://10.9.9.1:9092/?x=1").unwrap().user,
            "ada"
        );
        assert!(login_for("10.9.9.3:9092").is_none());
        assert!(!format!("{l:?}").contains("s3cret"));
        let p = new_password().unwrap();
        assert_eq!(p.len(), 24);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
