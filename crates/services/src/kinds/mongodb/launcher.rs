//! The MongoDB stand-in both providers run when no `mongod` is at hand:
//! mongo-java-server (H2 backend) from Maven Central, started by
//! `containers/mongodb/Launcher.java`. The launcher is compiled once with the
//! JDK's `javac` into the cache, in a directory named after a digest of its
//! source and the jars it is built against, so an edited launcher is compiled
//! again and an unchanged one is shared by the native provider and the docker
//! image build.

use crate::ServiceError;
use crate::definition::ServiceDef;
use crate::native::{io_err, jvm, other};
use crate::provider::ProgressFn;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The launcher's source, compiled in: part of the services layer, not
/// course content an instructor edits.
const SOURCE: &str = include_str!("../../../../../containers/mongodb/Launcher.java");

/// The stand-in's artifact, whose version names the server.
pub(super) const ARTIFACT: &str = "mongo-java-server";

/// What a start of the stand-in needs: Java, the jars, the compiled launcher.
pub(super) struct StandIn {
    pub(super) java: PathBuf,
    pub(super) classpath: String,
    /// The directory holding `Launcher.class`.
    pub(super) classes: PathBuf,
    /// mongo-java-server's version.
    pub(super) version: String,
}

impl StandIn {
    /// The JVM arguments up to the main class (heap cap and collector from
    /// the definition).
    pub(super) fn jvm_args(&self, def: &ServiceDef, classes: &str, classpath: &str) -> Vec<String> {
        let mut args = def.native.jvm_opts.clone();
        args.push("-cp".into());
        args.push(format!("{classes}:{classpath}"));
        args.push(
            def.native
                .main_class
                .clone()
                .unwrap_or_else(|| "Launcher".into()),
        );
        args
    }
}

/// FNV-1a: a stable digest for the directory name (not a security measure).
fn digest(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// Java, the jars and the launcher, fetched and compiled when missing.
pub(super) async fn stand_in(
    def: &ServiceDef,
    cache: &Path,
    progress: &ProgressFn,
) -> Result<StandIn, ServiceError> {
    let java = jvm::find_java(def.kind).await?;
    let classpath = jvm::maven_classpath(def, cache, progress).await?;
    let version = def
        .native
        .maven_version(ARTIFACT)
        .unwrap_or("?")
        .to_string();
    let key = digest(&[SOURCE, &def.native.maven.join(",")]);
    let classes = cache.join("native").join(format!("mongodb-launcher-{key}"));
    if !classes.join("Launcher.class").is_file() {
        progress("compiling the MongoDB stand-in's launcher with javac (first time only)");
        compile(def, &java, &classpath, &classes).await?;
    }
    Ok(StandIn {
        java,
        classpath,
        classes,
        version,
    })
}

/// `javac -d <classes>` of the launcher, into a fresh directory renamed into
/// place (a half-compiled launcher is never found).
async fn compile(
    def: &ServiceDef,
    java: &Path,
    classpath: &str,
    classes: &Path,
) -> Result<(), ServiceError> {
    let javac = jvm::find_javac(def.kind, java)?;
    let parent = classes.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| io_err("cannot create", parent, e))?;
    let work = tempfile::tempdir_in(parent)
        .map_err(|e| io_err("cannot create a temp dir in", parent, e))?;
    let src = work.path().join("Launcher.java");
    fs::write(&src, SOURCE).map_err(|e| io_err("cannot write", &src, e))?;
    let out = tokio::process::Command::new(&javac)
        .arg("-d")
        .arg(work.path().join("classes"))
        .arg("-cp")
        .arg(classpath)
        .arg(&src)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), out)
        .await
        .map_err(|_| other("javac did not finish within 5 minutes"))?
        .map_err(|e| io_err("cannot run", &javac, e))?;
    if !out.status.success() {
        return Err(other(format!(
            "javac could not compile containers/mongodb/Launcher.java: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let _ = fs::remove_dir_all(classes);
    fs::rename(work.path().join("classes"), classes)
        .map_err(|e| io_err("cannot move", classes, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_is_stable_and_tells_sources_apart() {
        assert_eq!(super::digest(&["a"]), super::digest(&["a"]));
        assert_ne!(super::digest(&["a"]), super::digest(&["b"]));
        assert_eq!(super::digest(&["x"]).len(), 8);
    }
}
