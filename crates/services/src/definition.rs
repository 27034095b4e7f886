//! One definition per service in `containers/<kind>.yaml`, read by every
//! provider: the docker provider takes image, port, env and readiness from
//! it; the native provider its recipe (Maven coordinates, main class, JVM
//! options). Extend the structs as providers need, keeping
//! `deny_unknown_fields` so typos in a definition are reported.

use super::ServiceKind;
use datalab_content::Content;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    pub(crate) kind: ServiceKind,
    /// Upstream server version this definition runs.
    pub(crate) version: String,
    /// Absent for kinds with no docker image yet.
    #[serde(default)]
    pub(crate) image: Option<Images>,
    /// The port clients use inside the container (9092, 27017, 9042).
    pub(crate) port: u16,
    /// Container environment.
    #[serde(default)]
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) ready: Ready,
    #[serde(default)]
    pub(crate) native: Native,
    #[serde(default)]
    pub(crate) limits: Limits,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Images {
    /// The official image, `repository:tag`; none when no registry ships
    /// one that runs what datalab runs (Hadoop's MiniCluster): then only the
    /// local build serves, and nothing is pulled.
    #[serde(default)]
    pub(crate) official: Option<String>,
    /// The image `services build-images` builds from `containers/docker/<kind>/`.
    pub(crate) local: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ready {
    /// A line the server logs when it is ready (container readiness).
    #[serde(default)]
    pub(crate) log: Option<String>,
    /// Seconds to wait for readiness before giving up.
    pub(crate) timeout: u64,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Native {
    /// Maven coordinates `group:artifact:version` resolved with their
    /// dependencies into the cache.
    /// `group:artifact:version[:classifier]`, e.g. a `tests` jar.
    #[serde(default)]
    pub(crate) maven: Vec<String>,
    /// Coordinates resolved without their dependencies (a jar whose
    /// dependencies the others already bring, in other versions).
    #[serde(default)]
    pub(crate) maven_alone: Vec<String>,
    #[serde(default)]
    pub(crate) main_class: Option<String>,
    #[serde(default)]
    pub(crate) jvm_opts: Vec<String>,
    /// A binary on PATH preferred when present (e.g. `mongod`).
    #[serde(default)]
    pub(crate) prefer_binary: Option<String>,
}

impl ServiceDef {
    /// Does this kind have a docker image (`services build-images` skips
    /// the ones that do not when none is named)?
    pub fn has_image(&self) -> bool {
        self.image.is_some()
    }

    /// The docker images, or why the docker provider cannot run this kind.
    pub(crate) fn images(&self) -> Result<&Images, super::ServiceError> {
        self.image
            .as_ref()
            .ok_or_else(|| super::ServiceError::Unavailable {
                kind: self.kind,
                reason: format!("there is no docker image for {} yet", self.kind),
                fix: format!(
                    "use the native provider: datalab --provider native services up {}",
                    self.kind
                ),
            })
    }
}

impl Native {
    /// Every Maven coordinate, with and without dependencies.
    pub(crate) fn coordinates(&self) -> Vec<&str> {
        let all = self.maven.iter().chain(&self.maven_alone);
        all.map(String::as_str).collect()
    }

    /// The version of `artifact` among the Maven coordinates.
    pub(crate) fn maven_version(&self, artifact: &str) -> Option<&str> {
        self.maven.iter().find_map(|c| {
            let mut parts = c.split(':');
            let (_, a, v) = (parts.next()?, parts.next()?, parts.next()?);
            (a == artifact).then_some(v)
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    #[serde(default)]
    pub(crate) memory_mb: Option<u64>,
}

/// Load `containers/<kind>.yaml` from the content.
pub fn load(content: &Content, kind: ServiceKind) -> Result<ServiceDef, String> {
    let rel = format!("containers/{}.yaml", kind.name());
    let text = content
        .read_string(&rel)
        .map_err(|e| format!("{}: {e}", content.display_path(&rel)))?;
    serde_saphyr::from_str(&text).map_err(|e| match e.location() {
        Some(l) => format!(
            "{}:{}:{}: {e}",
            content.display_path(&rel),
            l.line(),
            l.column()
        ),
        None => format!("{}: {e}", content.display_path(&rel)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_definition_parses() {
        let content = Content::disk(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        for kind in ServiceKind::ALL {
            let def = load(&content, kind).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(def.kind, kind);
            assert!(def.ready.timeout > 0);
        }
    }
}
