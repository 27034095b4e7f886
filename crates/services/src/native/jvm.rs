//! The JVM tools native servers need: a Java 17+ runtime, their jars
//! resolved by Maven into the cache (offline after the first time), and JVM
//! argument files. The docker image builds copy the same jars.

use super::{NodeCommand, io_err, other, write};
use crate::definition::ServiceDef;
use crate::kinds;
use crate::process::{self, which};
use crate::provider::ProgressFn;
use crate::{ServiceError, ServiceKind};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const JAVA_FIX: &str = "apt-get install -y openjdk-17-jre-headless (or set JAVA_HOME to a JDK 17+)";

fn java_missing(kind: ServiceKind, reason: String) -> ServiceError {
    ServiceError::Unavailable {
        kind,
        reason,
        fix: JAVA_FIX.into(),
    }
}

/// The `java` to run servers with, checked to be Java 17 or newer.
pub(crate) async fn find_java(kind: ServiceKind) -> Result<PathBuf, ServiceError> {
    let title = kinds::of(kind).title();
    let java = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin/java"))
        .filter(|p| process::is_executable(p))
        .or_else(|| which("java"))
        .ok_or_else(|| java_missing(kind, format!(
            "Java 17 is needed for native {title} but no Java runtime was found (no JAVA_HOME, no `java` on PATH)"
        )))?;
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(&java).arg("-version").output(),
    )
    .await
    .map_err(|_| other(format!("`{} -version` did not answer", java.display())))?
    .map_err(|e| io_err("cannot run", &java, e))?;
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    match java_major(&text) {
        Some(m) if m >= 17 => Ok(java),
        _ => Err(java_missing(
            kind,
            format!(
                "Java 17 is needed for native {title} but {} is {}",
                java.display(),
                text.lines().next().unwrap_or("of an unknown version")
            ),
        )),
    }
}

/// The `javac` of the JDK `java` belongs to (or one on PATH): a JRE alone
/// cannot compile.
pub(crate) fn find_javac(kind: ServiceKind, java: &Path) -> Result<PathBuf, ServiceError> {
    let beside = fs::canonicalize(java)
        .ok()
        .and_then(|j| j.parent().map(|d| d.join("javac")));
    beside
        .filter(|p| process::is_executable(p))
        .or_else(|| which("javac"))
        .ok_or_else(|| ServiceError::Unavailable {
            kind,
            reason: format!(
                "a JDK's javac is needed once to compile the native {}'s launcher, but {} has none beside it and no `javac` is on PATH",
                kinds::of(kind).title(),
                java.display()
            ),
            fix: "apt-get install -y openjdk-17-jdk-headless (or set JAVA_HOME to a JDK 17+)".into(),
        })
}

/// `openjdk version "17.0.15"` → 17; `java version "1.8.0_392"` → 8.
fn java_major(text: &str) -> Option<u32> {
    let v = text.split('"').nth(1)?;
    let mut parts = v.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// A JVM argument file (`java @file`): one argument per line, quoted.
pub(crate) fn argfile(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `java @args_file`, with `args` written to `args_file` (a classpath is
/// longer than a command line should be).
pub(crate) fn java_command(
    java: &Path,
    args_file: &Path,
    args: &[String],
) -> Result<NodeCommand, ServiceError> {
    write(args_file, &argfile(args))?;
    Ok(NodeCommand::new(
        java.to_path_buf(),
        vec![format!("@{}", args_file.display())],
    ))
}

/// One `<dependency>` of `group:artifact:version[:classifier]`; `alone`
/// excludes its dependencies.
fn dependency_of(kind: ServiceKind, coord: &str, alone: bool) -> Result<String, ServiceError> {
    let parts: Vec<&str> = coord.split(':').collect();
    let (g, a, v, classifier) = match parts[..] {
        [g, a, v] => (g, a, v, String::new()),
        [g, a, v, c] => (g, a, v, format!("<classifier>{c}</classifier>")),
        _ => {
            return Err(other(format!(
                "containers/{kind}.yaml: native.maven entry `{coord}` is not group:artifact:version[:classifier]"
            )));
        }
    };
    let exclusions = if alone {
        "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>"
    } else {
        ""
    };
    Ok(format!(
        "<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>{classifier}{exclusions}</dependency>\n"
    ))
}

/// A pom whose dependencies are the definition's `native.maven` coordinates
/// (and `native.maven_alone` ones, without their dependencies).
fn pom_of(def: &ServiceDef) -> Result<String, ServiceError> {
    let kind = def.kind;
    let mut deps = String::new();
    for coord in &def.native.maven {
        deps.push_str(&dependency_of(kind, coord, false)?);
    }
    for coord in &def.native.maven_alone {
        deps.push_str(&dependency_of(kind, coord, true)?);
    }
    Ok(format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>\n\
         <!-- generated by datalab: the jars of native {kind} -->\n\
         <groupId>datalab.native</groupId><artifactId>{kind}</artifactId><version>1</version><packaging>pom</packaging>\n\
         <dependencies>\n{deps}</dependencies></project>\n"
    ))
}

/// The classpath resolved earlier for this very pom, when its jars are all
/// still there.
fn cached_classpath(pom_path: &Path, pom: &str, cp_path: &Path) -> Option<String> {
    if fs::read_to_string(pom_path).ok()? != pom {
        return None;
    }
    let cp = fs::read_to_string(cp_path).ok()?.trim().to_string();
    let complete = !cp.is_empty() && cp.split(':').all(|j| Path::new(j).is_file());
    complete.then_some(cp)
}

/// Resolve Maven coordinates with their runtime dependencies into the cache
/// and return the classpath. Offline after the first time.
pub(crate) async fn maven_classpath(
    def: &ServiceDef,
    cache: &Path,
    progress: &ProgressFn,
) -> Result<String, ServiceError> {
    let kind = def.kind;
    let dir = (cache.join("native")).join(format!("{}-{}", kind.name(), def.version));
    fs::create_dir_all(&dir).map_err(|e| io_err("cannot create", &dir, e))?;
    let pom = pom_of(def)?;
    let (pom_path, cp_path) = (dir.join("pom.xml"), dir.join("classpath.txt"));
    if let Some(cp) = cached_classpath(&pom_path, &pom, &cp_path) {
        return Ok(cp);
    }
    write(&pom_path, &pom)?;
    let title = kinds::of(kind).title();
    let mvn = which("mvn").ok_or_else(|| ServiceError::Unavailable {
        kind,
        reason: format!(
            "Maven is needed once to download the {title} jars into {} (then it works offline)",
            cache.display()
        ),
        fix: "apt-get install -y maven".into(),
    })?;
    progress(&format!(
        "resolving the {title} jars ({}) with Maven into {} (first time only)",
        def.native.coordinates().join(", "),
        cache.join("m2").display()
    ));
    run_maven(def, &mvn, &dir, cache).await?;
    let cp = fs::read_to_string(&cp_path).map_err(|e| io_err("cannot read", &cp_path, e))?;
    Ok(cp.trim().to_string())
}

/// `mvn dependency:build-classpath` in `dir`: offline first, then online.
async fn run_maven(
    def: &ServiceDef,
    mvn: &Path,
    dir: &Path,
    cache: &Path,
) -> Result<(), ServiceError> {
    let mut last = String::new();
    for offline in [true, false] {
        let mut c = tokio::process::Command::new(mvn);
        c.current_dir(dir)
            .args(["-B", "-q"])
            .arg(format!("-Dmaven.repo.local={}", cache.join("m2").display()));
        if offline {
            c.arg("-o");
        }
        c.args([
            "dependency:build-classpath",
            "-Dmdep.outputFile=classpath.txt",
            "-Dmdep.includeScope=runtime",
        ])
        .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(900), c.output())
            .await
            .map_err(|_| other("Maven did not finish within 15 minutes"))?
            .map_err(|e| io_err("cannot run", mvn, e))?;
        if out.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
    }
    let errors: Vec<&str> = last
        .lines()
        .filter(|l| l.contains("ERROR"))
        .take(5)
        .collect();
    Err(ServiceError::Unavailable {
        kind: def.kind,
        reason: format!(
            "Maven could not resolve {}: {}",
            def.native.coordinates().join(", "),
            errors.join(" | ")
        ),
        fix: format!(
            "check that Maven Central is reachable, then run `datalab services install {}`",
            def.kind
        ),
    })
}

/// The jars of a definition (the ones native starts use), copied flat into
/// `jars` (a docker build context's `jars/`).
pub(crate) async fn copy_jars(
    def: &ServiceDef,
    cache: &Path,
    jars: &Path,
    progress: &ProgressFn,
) -> Result<(), ServiceError> {
    let cp = maven_classpath(def, cache, progress).await?;
    let title = kinds::of(def.kind).title();
    progress(&format!("copying the {title} jars from the Maven cache"));
    fs::create_dir_all(jars).map_err(|e| io_err("cannot create", jars, e))?;
    for jar in cp.split(':').map(Path::new) {
        let name = jar.file_name().ok_or_else(|| {
            other(format!(
                "a classpath entry without a file name: {}",
                jar.display()
            ))
        })?;
        fs::copy(jar, jars.join(name)).map_err(|e| io_err("cannot copy", jar, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_parse() {
        assert_eq!(
            java_major("openjdk version \"17.0.15\" 2025-04-15"),
            Some(17)
        );
        assert_eq!(java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major("garbage"), None);
    }

    #[test]
    fn classifiers_and_lone_jars_make_their_dependencies() {
        let k = ServiceKind::Hadoop;
        let d = dependency_of(k, "g:a:1:tests", false).unwrap();
        assert!(d.contains("<classifier>tests</classifier>"), "{d}");
        assert!(!d.contains("exclusion"), "{d}");
        let d = dependency_of(k, "g:a:1", true).unwrap();
        assert!(d.contains("<artifactId>*</artifactId>"), "{d}");
        assert!(dependency_of(k, "g:a", false).is_err());
    }

    #[test]
    fn argfiles_quote_every_argument() {
        assert_eq!(
            argfile(&["-cp".into(), "/a b/c.jar".into()]),
            "\"-cp\"\n\"/a b/c.jar\"\n"
        );
    }
}
