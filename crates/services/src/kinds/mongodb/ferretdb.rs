//! The FerretDB launcher both providers run as their MongoDB-compatible
//! server (when no `mongod` is at hand): `containers/ferretdb/main.go`, built
//! once from the Go module proxy into the cache. The binary's name carries the
//! module version and a digest of the source, so an edited launcher is
//! rebuilt and an unchanged one is shared by the native provider and the
//! docker image build.

use crate::definition::ServiceDef;
use crate::provider::ProgressFn;
use crate::{ServiceError, process};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The launcher's Go source, compiled in: it is part of the services layer,
/// not course content an instructor edits.
const MAIN_GO: &str = include_str!("../../../../../containers/ferretdb/main.go");

/// FerretDB's SQLite backend stores documents as JSON and decodes every one a
/// query reads with `encoding/json` (a lab check reads the whole collection:
/// only string/ObjectId `_id` filters reach SQL). Built with Go's JSON v2
/// behind the v1 API that decoding is about a quarter faster (MongoDB lab
/// queries 123 → 88 ms p50 on a loaded 2-core box). Go 1.25+ knows the
/// experiment; go.mod asks for 1.25, so an older `go` fetches a newer
/// toolchain from the module proxy.
const GO_EXPERIMENT: &str = "jsonv2";

/// Building may take this long (first build fetches FerretDB's modules).
const BUILD_LIMIT: Duration = Duration::from_secs(1200);

fn other(msg: impl Into<String>) -> ServiceError {
    ServiceError::Other(msg.into())
}

/// FNV-1a: a stable digest for the file name (not a security measure).
fn digest(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

fn find_go() -> Option<PathBuf> {
    process::which("go").or_else(|| {
        let p = PathBuf::from("/usr/local/go/bin/go");
        process::is_executable(&p).then_some(p)
    })
}

/// The launcher binary and the FerretDB version it runs, built when missing.
/// `why_go` says what Go is needed for, in the error when it is absent.
pub(crate) async fn launcher(
    def: &ServiceDef,
    cache: &Path,
    progress: &ProgressFn,
    why_go: &str,
) -> Result<(PathBuf, String), ServiceError> {
    let kind = def.kind;
    let (module, version) = def.native.go_module(kind).map_err(other)?;
    let gomod =
        format!("module datalab.local/ferretdb\n\ngo 1.25\n\nrequire {module} v{version}\n");
    let bin = cache.join("go/bin").join(format!(
        "datalab-ferretdb-{version}-{}",
        digest(&[MAIN_GO, &gomod, GO_EXPERIMENT])
    ));
    if process::is_executable(&bin) {
        return Ok((bin, version.to_string()));
    }
    let go = find_go().ok_or_else(|| ServiceError::Unavailable {
        kind,
        reason: format!("Go (1.25+, or one that fetches it from the module proxy) is needed once to build FerretDB {why_go}"),
        fix: "install Go (e.g. apt-get install -y golang-go; Go fetches a newer toolchain from the Go module proxy itself)".into(),
    })?;
    let src = cache.join("native").join(format!("ferretdb-{version}"));
    let io = |what: &str, e: std::io::Error| other(format!("cannot {what} {}: {e}", src.display()));
    std::fs::create_dir_all(&src).map_err(|e| io("create", e))?;
    process::write_atomic(&src.join("main.go"), MAIN_GO.as_bytes()).map_err(|e| io("write", e))?;
    if std::fs::read_to_string(src.join("go.mod")).map_or(true, |m| !m.starts_with(&gomod)) {
        process::write_atomic(&src.join("go.mod"), gomod.as_bytes()).map_err(|e| io("write", e))?;
    }
    progress(&format!(
        "building FerretDB {version} from the Go module proxy (first time only, a few minutes)"
    ));
    for args in [
        vec!["mod".to_string(), "tidy".to_string()],
        vec![
            "build".into(),
            "-o".into(),
            bin.display().to_string(),
            ".".into(),
        ],
    ] {
        let out = tokio::time::timeout(
            BUILD_LIMIT,
            tokio::process::Command::new(&go)
                .current_dir(&src)
                .env("GOPATH", cache.join("go"))
                .env("GOFLAGS", "-mod=mod")
                .env("CGO_ENABLED", "0")
                .env("GOEXPERIMENT", GO_EXPERIMENT)
                .args(&args)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| {
            other(format!(
                "building FerretDB took more than {} minutes",
                BUILD_LIMIT.as_secs() / 60
            ))
        })?
        .map_err(|e| other(format!("cannot run {}: {e}", go.display())))?;
        let mut log = out.stdout.clone();
        log.extend_from_slice(&out.stderr);
        let _ = std::fs::write(src.join("go.log"), &log);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            return Err(ServiceError::Unavailable {
                kind,
                reason: format!(
                    "`go {}` failed for FerretDB {version} (log: {}): {}",
                    args.join(" "),
                    src.join("go.log").display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ),
                fix: "check that the Go module proxy is reachable (go env GOPROXY), then run `datalab services install mongodb`".into(),
            });
        }
    }
    Ok((bin, version.to_string()))
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
