//! Building the registry-free images (`datalab services build-images`):
//! the base image from `containers/docker/setup.sh`, then per kind a build
//! context of `containers/docker/<kind>/` plus what the kind adds to it.

use super::images::{image_present, record_image};
use super::{BASE_IMAGE, connect_for, other};
use crate::definition::ServiceDef;
use crate::kinds;
use crate::provider::ProgressFn;
use crate::{ServiceError, ServiceKind};
use datalab_content::Content;
use std::path::Path;
use std::time::{Duration, Instant};
use testcontainers::bollard::Docker;

/// What one image build did.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub kind: ServiceKind,
    pub image: String,
    pub seconds: f64,
}

async fn run_logged(
    mut cmd: tokio::process::Command,
    what: &str,
    log: &Path,
    limit: Duration,
) -> Result<(), String> {
    let out = tokio::time::timeout(limit, cmd.kill_on_drop(true).output())
        .await
        .map_err(|_| format!("{what} did not finish within {} s", limit.as_secs()))?
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let mut text = out.stdout.clone();
    text.extend_from_slice(&out.stderr);
    let _ = std::fs::write(log, &text);
    if out.status.success() {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&text);
        let tail: Vec<&str> = text.lines().rev().take(8).collect();
        Err(format!(
            "{what} failed (full output in {}):\n    {}",
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
        ))
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> ServiceError {
    other(format!("cannot {what} {}: {e}", path.display()))
}

/// Make sure the Debian base image exists: run `containers/docker/setup.sh`
/// (from the content) when it does not.
async fn ensure_base(
    kind: ServiceKind,
    docker: &Docker,
    content: &Content,
    work: &Path,
    progress: &ProgressFn,
) -> Result<(), ServiceError> {
    if image_present(docker, BASE_IMAGE).await {
        return Ok(());
    }
    progress(&format!(
        "building the base image {BASE_IMAGE} (debootstrap, ~1 min)"
    ));
    let script = work.join("setup.sh");
    let text = content
        .read("containers/docker/setup.sh")
        .map_err(|e| other(format!("containers/docker/setup.sh: {e}")))?;
    std::fs::write(&script, &*text).map_err(|e| io("write", &script, e))?;
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(&script);
    run_logged(
        cmd,
        "containers/docker/setup.sh",
        &work.join("setup.log"),
        Duration::from_secs(900),
    )
    .await
    .map_err(|reason| ServiceError::Unavailable {
        kind,
        reason: format!("the base image {BASE_IMAGE} could not be built: {reason}"),
        fix: "sudo bash containers/docker/setup.sh".into(),
    })
}

/// A fresh build context `ctx` holding `containers/docker/<kind>/`.
fn copy_dockerfiles(content: &Content, kind: ServiceKind, ctx: &Path) -> Result<(), ServiceError> {
    if ctx.exists() {
        std::fs::remove_dir_all(ctx).map_err(|e| io("clear", ctx, e))?;
    }
    std::fs::create_dir_all(ctx).map_err(|e| io("create", ctx, e))?;
    let dir = format!("containers/docker/{kind}");
    let files = content.list_files(&dir);
    if files.is_empty() {
        return Err(other(format!(
            "{}: no Dockerfile for {kind}",
            content.display_path(&dir)
        )));
    }
    for rel in files {
        let name = Path::new(&rel)
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        let bytes = content
            .read(&rel)
            .map_err(|e| other(format!("{}: {e}", content.display_path(&rel))))?;
        std::fs::write(ctx.join(&name), &*bytes).map_err(|e| io("write", ctx, e))?;
    }
    Ok(())
}

/// Build `datalab/<kind>` from `containers/docker/<kind>/` with no registry:
/// base image, build context under `<cache>/docker/ctx-<kind>` (the
/// Dockerfile and scripts, plus what the kind adds: jars, a launcher), `docker
/// build`, and record it as the image the docker provider uses.
pub async fn build_image(
    def: &ServiceDef,
    content: &Content,
    data_dir: &Path,
    cache_dir: &Path,
    progress: &ProgressFn,
) -> Result<BuiltImage, ServiceError> {
    let kind = def.kind;
    let t0 = Instant::now();
    let image = def.images()?.local.clone();
    let docker = connect_for(kind).await?;
    let work = cache_dir.join("docker");
    std::fs::create_dir_all(&work).map_err(|e| io("create", &work, e))?;
    ensure_base(kind, &docker, content, &work, progress).await?;
    let ctx = work.join(format!("ctx-{kind}"));
    copy_dockerfiles(content, kind, &ctx)?;
    kinds::of(kind)
        .image_context(def, cache_dir, &ctx, progress)
        .await?;
    progress(&format!("docker build -t {image} {}", ctx.display()));
    let mut cmd = tokio::process::Command::new("docker");
    // The classic builder: Debian's dockerd 20.10 has no BuildKit frontend
    // to lean on here, and the classic builder needs no registry at all.
    cmd.env("DOCKER_BUILDKIT", "0")
        .args(["build", "--label", "datalab.image=1", "-t", &image])
        .arg(&ctx);
    run_logged(
        cmd,
        &format!("docker build of {image}"),
        &work.join(format!("build-{kind}.log")),
        Duration::from_secs(1800),
    )
    .await
    .map_err(other)?;
    record_image(data_dir, cache_dir, kind, &image).map_err(|e| {
        other(format!(
            "cannot record the image in {}: {e}",
            data_dir.display()
        ))
    })?;
    Ok(BuiltImage {
        kind,
        image,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
