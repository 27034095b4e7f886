//! MongoDB: in docker the official `mongo` image (or the locally built
//! stand-in); natively a `mongod` on PATH when there is one, else the
//! stand-in server (`ferretdb.rs`), one node on 127.0.0.1.

mod ferretdb;

use super::{About, Kind, PingInfo, first_line, split_hosts, unreachable};
use crate::definition::ServiceDef;
use crate::native::{self, NodeCommand, Prepared};
use crate::process::which;
use crate::provider::{ProgressFn, ServiceDirs};
use crate::{Endpoint, Namespace, ServiceError, ServiceKind, UpOptions};
use datalab_clients::mongo;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Mongodb;

const KIND: ServiceKind = ServiceKind::Mongodb;

async fn client(uri: &str, timeout: Duration) -> Result<mongo::Mongo, ServiceError> {
    mongo::connect(uri, timeout)
        .await
        .map_err(|e| unreachable(KIND, uri, first_line(&e.to_string())))
}

/// The server's words for itself, from `buildInfo`.
fn flavor_of(info: &mongodb::bson::Document) -> String {
    match info.get_str("ferretdbVersion") {
        Ok(f) if f != "unknown" => format!(
            "FerretDB {} (MongoDB wire-compatible)",
            f.trim_start_matches('v')
        ),
        Ok(_) => "FerretDB (MongoDB wire-compatible)".to_string(),
        Err(_) => "MongoDB".to_string(),
    }
}

/// The stand-in, built (once) into the cache when no `mongod` is on PATH.
async fn stand_in(
    def: &ServiceDef,
    cache: &Path,
    progress: &ProgressFn,
    why: &str,
) -> Result<(PathBuf, String), ServiceError> {
    ferretdb::launcher(def, cache, progress, why).await
}

fn mongod(def: &ServiceDef) -> Option<PathBuf> {
    def.native.prefer_binary.as_deref().and_then(which)
}

#[async_trait::async_trait]
impl Kind for Mongodb {
    fn about(&self) -> &'static About {
        &About {
            kind: KIND,
            title: "MongoDB",
            env_var: "DATALAB_MONGODB_URI",
            env_example: "export DATALAB_MONGODB_URI=mongodb://host:27017",
            node_noun: "node",
        }
    }

    fn address(&self, hosts: &[String]) -> String {
        format!("mongodb://{}/?directConnection=true", hosts.join(","))
    }

    /// The hosts of a `mongodb://` URI (none for `mongodb+srv://`).
    fn host_ports(&self, address: &str) -> Vec<String> {
        let Some(rest) = address.strip_prefix("mongodb://") else {
            return Vec::new();
        };
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        split_hosts(rest.split(['/', '?']).next().unwrap_or(""), Some(27017))
    }

    fn validate(&self, address: &str) -> Result<(), String> {
        if address.starts_with("mongodb://") || address.starts_with("mongodb+srv://") {
            Ok(())
        } else {
            Err(format!(
                "`{address}` is not a MongoDB URI (it must start with mongodb:// or mongodb+srv://)"
            ))
        }
    }

    fn connect_hint(&self, address: &str) -> String {
        format!("mongosh \"{address}\"")
    }

    async fn ping(&self, address: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
        let info = (client(address, timeout).await?.build_info().await)
            .map_err(|e| unreachable(KIND, address, first_line(&e.to_string())))?;
        Ok(PingInfo {
            version: info.get_str("version").ok().map(str::to_string),
            flavor: Some(flavor_of(&info)),
            nodes: 1,
        })
    }

    /// The namespace's databases (never `admin`, `config` or `local`).
    async fn reset(
        &self,
        address: &str,
        ns: &Namespace,
        timeout: Duration,
    ) -> Result<Vec<String>, ServiceError> {
        let m = client(address, timeout).await?;
        let names = (m.databases().await)
            .map_err(|e| unreachable(KIND, address, first_line(&e.to_string())))?;
        let mut dropped = Vec::new();
        for name in names {
            if matches!(name.as_str(), "admin" | "config" | "local") || ns.strip(&name).is_none() {
                continue;
            }
            m.drop_database(&name).await.map_err(|e| {
                ServiceError::Other(format!("mongodb: could not drop database {name}: {e}"))
            })?;
            dropped.push(format!("database {name}"));
        }
        Ok(dropped)
    }

    /// The stand-in reports the MongoDB version it emulates: that goes into
    /// the flavour, a real mongod's into the version.
    fn describe(&self, endpoint: &mut Endpoint, info: &PingInfo) {
        let Some(wire) = &info.version else { return };
        match &endpoint.flavor {
            Some(f) if f.starts_with("FerretDB") => {
                endpoint.flavor = Some(format!("{f} speaking MongoDB {wire}"));
            }
            _ => endpoint.version = Some(wire.clone()),
        }
    }

    async fn image_context(
        &self,
        def: &ServiceDef,
        cache: &Path,
        ctx: &Path,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        let (bin, _) = stand_in(def, cache, progress, "for the datalab/mongodb image").await?;
        std::fs::copy(&bin, ctx.join("ferretdb"))
            .map(|_| ())
            .map_err(|e| native::io_err("cannot copy", &bin, e))
    }

    async fn native_install(
        &self,
        def: &ServiceDef,
        cache: &Path,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        if mongod(def).is_none() {
            stand_in(def, cache, progress, WHY_STAND_IN).await?;
        }
        Ok(())
    }

    async fn native_prepare(
        &self,
        def: &ServiceDef,
        _opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Prepared, ServiceError> {
        let port = native::free_port()?;
        let data = dirs.data.join("node-0");
        let (command, version, flavor) = match mongod(def) {
            Some(bin) => {
                let log = dirs.logs.join("node-0.log");
                let args = mongod_args(port, &data, &log);
                let flavor = "MongoDB (local mongod)".to_string();
                (NodeCommand::new(bin, args), def.version.clone(), flavor)
            }
            None => {
                let (bin, label) = stand_in(def, &dirs.cache, progress, WHY_STAND_IN).await?;
                let flavor = format!("FerretDB {label} (MongoDB wire-compatible, SQLite backend)");
                (
                    NodeCommand::new(bin, ferretdb_args(port, &data)),
                    label,
                    flavor,
                )
            }
        };
        native::fresh_dirs(dirs)?;
        std::fs::create_dir_all(&data).map_err(|e| native::io_err("cannot create", &data, e))?;
        Ok(Prepared {
            commands: vec![command],
            addresses: vec![format!("127.0.0.1:{port}")],
            version,
            flavor,
        })
    }
}

const WHY_STAND_IN: &str =
    "(the MongoDB-compatible server) since no `mongod` is on PATH; or put a `mongod` on PATH";

fn mongod_args(port: u16, data: &Path, log: &Path) -> Vec<String> {
    vec![
        "--dbpath".into(),
        data.display().to_string(),
        "--bind_ip".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--logpath".into(),
        log.display().to_string(),
    ]
}

fn ferretdb_args(port: u16, data: &Path) -> Vec<String> {
    vec![
        "-listen-addr".into(),
        format!("127.0.0.1:{port}"),
        "-sqlite-url".into(),
        format!("file:{}/", data.display()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_each_uri_form() {
        assert_eq!(
            Mongodb.host_ports("mongodb://u:p@h1:1,h2/?x=y"),
            vec!["h1:1", "h2:27017"]
        );
        assert!(Mongodb.host_ports("mongodb+srv://x").is_empty());
        assert_eq!(
            Mongodb.address(&["127.0.0.1:5".into()]),
            "mongodb://127.0.0.1:5/?directConnection=true"
        );
    }
}
