//! MongoDB: in docker the official `mongo` image (or the locally built
//! stand-in); natively a `mongod` on PATH when there is one, else the
//! stand-in, mongo-java-server with its H2 backend (`launcher.rs`), one node
//! on 127.0.0.1 with its data in one file under the data dir.

mod launcher;

use super::{About, Kind, PingInfo, first_line, split_hosts, unreachable};
use crate::definition::ServiceDef;
use crate::native::{self, NodeCommand, Prepared, io_err};
use crate::process::which;
use crate::provider::{ProgressFn, ServiceDirs};
use crate::{Endpoint, Namespace, ServiceError, ServiceKind, UpOptions};
use datalab_clients::mongo;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Mongodb;

const KIND: ServiceKind = ServiceKind::Mongodb;

async fn client(uri: &str, timeout: Duration) -> Result<mongo::Mongo, ServiceError> {
    mongo::connect(uri, timeout)
        .await
        .map_err(|e| unreachable(KIND, uri, first_line(&e.to_string())))
}

fn mongod(def: &ServiceDef) -> Option<PathBuf> {
    def.native.prefer_binary.as_deref().and_then(which)
}

/// Copy the `*.class` files of `from` into `to`.
fn copy_classes(from: &Path, to: &Path) -> Result<(), ServiceError> {
    fs::create_dir_all(to).map_err(|e| io_err("cannot create", to, e))?;
    let entries = fs::read_dir(from).map_err(|e| io_err("cannot read", from, e))?;
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_some_and(|e| e == "class")
            && let Some(name) = path.file_name()
        {
            fs::copy(&path, to.join(name)).map_err(|e| io_err("cannot copy", &path, e))?;
        }
    }
    Ok(())
}

/// The native stand-in's command line, version and flavour.
async fn stand_in_command(
    def: &ServiceDef,
    dirs: &ServiceDirs,
    port: u16,
    progress: &ProgressFn,
) -> Result<(NodeCommand, String, String), ServiceError> {
    let s = launcher::stand_in(def, &dirs.cache, progress).await?;
    let classes = s.classes.display().to_string();
    let mut args = s.jvm_args(def, &classes, &s.classpath);
    let file = dirs.data.join("node-0").join("mongo.mv.db");
    args.extend([
        "127.0.0.1".into(),
        port.to_string(),
        file.display().to_string(),
    ]);
    let args_file = native::run_dir(dirs).join("node-0.args");
    let command = native::jvm::java_command(&s.java, &args_file, &args)?;
    let flavor = format!(
        "{} {} (MongoDB wire-compatible, H2 backend)",
        launcher::ARTIFACT,
        s.version
    );
    Ok((command, s.version, flavor))
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
            flavor: Some(mongo::Flavor::of_build_info(&info).label()),
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
            Some(f) if f.starts_with(launcher::ARTIFACT) => {
                endpoint.flavor = Some(format!("{f} speaking MongoDB {wire}"));
            }
            _ => endpoint.version = Some(wire.clone()),
        }
    }

    /// The stand-in for the datalab/mongodb image: the jars under `jars/`,
    /// the compiled launcher under `launcher/`, and `jvm.args`: the JVM
    /// arguments of the definition, which the image's entry point runs as
    /// `java @/opt/mongodb/jvm.args HOST PORT FILE`.
    async fn image_context(
        &self,
        def: &ServiceDef,
        cache: &Path,
        ctx: &Path,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        let s = launcher::stand_in(def, cache, progress).await?;
        native::jvm::copy_jars(def, cache, &ctx.join("jars"), progress).await?;
        copy_classes(&s.classes, &ctx.join("launcher"))?;
        let args = s.jvm_args(def, "/opt/mongodb/launcher", "/opt/mongodb/lib/*");
        native::write(&ctx.join("jvm.args"), &native::jvm::argfile(&args))
    }

    async fn native_install(
        &self,
        def: &ServiceDef,
        cache: &Path,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        if mongod(def).is_none() {
            launcher::stand_in(def, cache, progress).await?;
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
        native::fresh_dirs(dirs)?;
        fs::create_dir_all(&data).map_err(|e| io_err("cannot create", &data, e))?;
        let (command, version, flavor) = match mongod(def) {
            Some(bin) => {
                let args = mongod_args(port, &data, &dirs.logs.join("node-0.log"));
                let flavor = "MongoDB (local mongod)".to_string();
                (NodeCommand::new(bin, args), def.version.clone(), flavor)
            }
            None => stand_in_command(def, dirs, port, progress).await?,
        };
        Ok(Prepared {
            commands: vec![command],
            addresses: vec![format!("127.0.0.1:{port}")],
            version,
            flavor,
        })
    }
}

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
