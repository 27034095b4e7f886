//! Who is calling: the bearer token's SHA-256 is compared in constant time
//! with the instructor's and the view token's, and looked up among the
//! learners' token hashes (a lookup by hash reveals nothing usable about
//! a token: finding a token from its hash is preimage-hard).

use crate::token;
use axum::http::{HeaderMap, header};
use std::collections::HashMap;
use std::sync::RwLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    Instructor,
    Viewer,
    Learner { id: u64 },
}

pub(crate) struct Auth {
    instructor: [u8; 32],
    viewer: [u8; 32],
    join_code: [u8; 32],
    learners: RwLock<HashMap<[u8; 32], u64>>,
}

impl Auth {
    pub fn new(instructor_token: &str, view_token: &str, join_code: &str) -> Auth {
        Auth {
            instructor: token::hash(instructor_token),
            viewer: token::hash(view_token),
            join_code: token::hash(&normalize_code(join_code)),
            learners: RwLock::new(HashMap::new()),
        }
    }

    pub fn add_learner(&self, token_hash: [u8; 32], id: u64) {
        let mut map = self.learners.write().unwrap_or_else(|p| p.into_inner());
        map.insert(token_hash, id);
    }

    /// The caller named by the `Authorization: Bearer` header, if any.
    pub fn check(&self, headers: &HeaderMap) -> Option<Principal> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        self.check_token(value.strip_prefix("Bearer ")?)
    }

    /// Who a presented token names (the live stream also takes it in the
    /// query string: a browser's EventSource cannot set headers).
    pub fn check_token(&self, presented: &str) -> Option<Principal> {
        let presented = presented.trim();
        if presented.is_empty() {
            return None;
        }
        let h = token::hash(presented);
        if token::same(&h, &self.instructor) {
            return Some(Principal::Instructor);
        }
        if token::same(&h, &self.viewer) {
            return Some(Principal::Viewer);
        }
        let map = self.learners.read().unwrap_or_else(|p| p.into_inner());
        map.get(&h).map(|id| Principal::Learner { id: *id })
    }

    /// Join codes are compared in constant time, ignoring case and spaces.
    pub fn join_code_matches(&self, code: &str) -> bool {
        token::same(&token::hash(&normalize_code(code)), &self.join_code)
    }
}

fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
