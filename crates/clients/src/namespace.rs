//! Per-learner namespaces, so a room can share one cluster.

use serde::{Deserialize, Serialize};

/// A prefix applied to topics, consumer groups, databases and keyspaces.
///
/// The prefix is lowercase ASCII letters, digits and `_`, so it is valid in a
/// Kafka topic, a MongoDB database name and a Cassandra keyspace alike. An
/// empty namespace applies no prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Namespace(String);

impl Namespace {
    /// Build a namespace from a learner name: lowercased, anything outside
    /// `[a-z0-9_]` becomes `_`, at most 24 characters.
    pub fn for_learner(name: &str) -> Namespace {
        let mut s: String = name
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        s.truncate(24);
        if s.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            s.insert(0, 'l');
        }
        Namespace(s)
    }

    pub fn none() -> Namespace {
        Namespace(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn prefixed(&self, name: &str) -> String {
        if self.0.is_empty() {
            name.to_string()
        } else {
            format!("{}_{}", self.0, name)
        }
    }

    /// A Kafka topic name in this namespace.
    pub fn topic(&self, name: &str) -> String {
        self.prefixed(name)
    }
    /// A Kafka consumer group id in this namespace.
    pub fn group(&self, name: &str) -> String {
        self.prefixed(name)
    }
    /// A MongoDB database name in this namespace.
    pub fn database(&self, name: &str) -> String {
        self.prefixed(name)
    }
    /// A Cassandra keyspace name in this namespace.
    pub fn keyspace(&self, name: &str) -> String {
        self.prefixed(name)
    }
    /// Strip this namespace's prefix from a resource name, if it has it.
    pub fn strip<'a>(&self, full: &'a str) -> Option<&'a str> {
        if self.0.is_empty() {
            return Some(full);
        }
        full.strip_prefix(self.0.as_str())?.strip_prefix('_')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learner_names_become_safe_prefixes() {
        let ns = Namespace::for_learner("Ada Lovelace-2");
        assert_eq!(ns.as_str(), "ada_lovelace_2");
        assert_eq!(ns.topic("orders"), "ada_lovelace_2_orders");
        assert_eq!(ns.strip("ada_lovelace_2_orders"), Some("orders"));
        assert_eq!(Namespace::for_learner("7up").as_str(), "l7up");
        assert_eq!(Namespace::none().keyspace("iot"), "iot");
    }
}
