//! Which image serves a kind: `DATALAB_IMAGE_<KIND>`, else the one
//! `services build-images` recorded, else the official one (replaced by the
//! local build when absent); pulled only when nowhere on this machine.

use super::short;
use crate::definition::{Images, ServiceDef};
use crate::provider::ProgressFn;
use crate::{ServiceError, ServiceKind, process};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use testcontainers::bollard::{self, Docker};

fn env_image_var(kind: ServiceKind) -> String {
    format!("DATALAB_IMAGE_{}", kind.name().to_uppercase())
}

/// `<data dir>/docker-images.json`: what `services build-images` recorded.
pub(crate) fn recorded_images_path(data_dir: &Path) -> PathBuf {
    data_dir.join("docker-images.json")
}

/// `<cache>/docker/images.json`: the same record, shared by every home on
/// this machine (the images live in the machine's daemon, like the cache).
pub(crate) fn shared_images_path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("docker").join("images.json")
}

fn read_record(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Record `image` as the one the docker provider uses for `kind`.
pub(crate) fn record_image(
    data_dir: &Path,
    cache_dir: &Path,
    kind: ServiceKind,
    image: &str,
) -> std::io::Result<()> {
    for path in [
        recorded_images_path(data_dir),
        shared_images_path(cache_dir),
    ] {
        let mut map = read_record(&path);
        map.insert(kind.name().to_string(), image.to_string());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(&map).map_err(std::io::Error::other)?;
        process::write_atomic(&path, &json)?;
    }
    Ok(())
}

/// Which image serves `kind`, and why (for messages).
pub(crate) fn chosen_image(
    def: &ServiceDef,
    data_dir: &Path,
    cache_dir: &Path,
) -> (String, String) {
    let var = env_image_var(def.kind);
    if let Ok(img) = std::env::var(&var)
        && !img.trim().is_empty()
    {
        return (img.trim().to_string(), format!("from {var}"));
    }
    for path in [
        recorded_images_path(data_dir),
        shared_images_path(cache_dir),
    ] {
        if let Some(img) = read_record(&path).get(def.kind.name()) {
            return (img.clone(), format!("recorded in {}", path.display()));
        }
    }
    match def.image.as_ref() {
        Some(Images {
            official: Some(official),
            ..
        }) => (official.clone(), "the official image".into()),
        Some(i) => (i.local.clone(), "the local build".into()),
        None => (String::new(), "no image".into()),
    }
}

pub(super) fn split_image(image: &str) -> (String, String) {
    // The tag is after the last ':' unless that ':' belongs to a registry port.
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

pub(super) async fn image_present(docker: &Docker, image: &str) -> bool {
    docker.inspect_image(image).await.is_ok()
}

/// Try to pull `image` (a registry may be reachable elsewhere); bounded.
async fn try_pull(docker: &Docker, image: &str) -> Result<(), String> {
    let (repo, tag) = split_image(image);
    let opts = bollard::query_parameters::CreateImageOptions {
        from_image: Some(repo),
        tag: Some(tag),
        ..Default::default()
    };
    let pull = async {
        let mut stream = docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            item.map_err(|e| short(&e))?;
        }
        Ok::<(), String>(())
    };
    match tokio::time::timeout(Duration::from_secs(120), pull).await {
        Ok(r) => r,
        Err(_) => Err("the pull did not finish within 2 minutes".into()),
    }
}

/// The image to run for `def`: present locally, else pulled, else a clear
/// error naming `datalab services build-images`.
pub(super) async fn resolve_image(
    docker: &Docker,
    def: &ServiceDef,
    data_dir: &Path,
    cache_dir: &Path,
    progress: &ProgressFn,
) -> Result<String, ServiceError> {
    let images = def.images()?;
    let (image, why) = chosen_image(def, data_dir, cache_dir);
    if image_present(docker, &image).await {
        return Ok(image);
    }
    let official = images.official.as_deref();
    if official == Some(image.as_str()) && image_present(docker, &images.local).await {
        progress(&format!(
            "{} is not on this machine; using the locally built {}",
            image, images.local
        ));
        return Ok(images.local.clone());
    }
    // No registry ships a kind without an official image: only a local
    // build serves (an image named by DATALAB_IMAGE_<KIND> is still pulled).
    let pulled = if official.is_none() && image == images.local {
        Err("no registry ships it".to_string())
    } else {
        progress(&format!("pulling {image} ({why})"));
        try_pull(docker, &image).await
    };
    match pulled {
        Ok(()) => Ok(image),
        Err(reason) => Err(ServiceError::Unavailable {
            kind: def.kind,
            reason: format!(
                "the image {image} ({why}) is not on this machine and cannot be pulled: {reason}"
            ),
            fix: format!(
                "datalab services build-images {} (builds it from containers/docker/ with no registry)",
                def.kind
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(image: &str) -> ServiceDef {
        let yaml = format!(
            "kind: hadoop\nversion: '1'\nimage: {image}\nport: 8020\nready: {{timeout: 1}}\n"
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    #[test]
    fn a_kind_without_an_official_image_uses_its_local_build() {
        let dir = tempfile::tempdir().unwrap();
        let (data, cache) = (dir.path().join("data"), dir.path().join("cache"));
        let local = def("{local: datalab/hadoop:1}");
        assert_eq!(chosen_image(&local, &data, &cache).0, "datalab/hadoop:1");
        let both = def("{official: apache/x:1, local: datalab/x:1}");
        assert_eq!(chosen_image(&both, &data, &cache).0, "apache/x:1");
        record_image(&data, &cache, ServiceKind::Hadoop, "mine:2").unwrap();
        assert_eq!(chosen_image(&local, &data, &cache).0, "mine:2");
    }

    #[tokio::test]
    async fn docker_can_run_an_official_image_or_a_built_one_only() {
        let dir = tempfile::tempdir().unwrap();
        let (data, cache) = (dir.path().join("data"), dir.path().join("cache"));
        let none = def("{local: datalab/not-built-by-anyone:0}");
        assert!(!super::super::can_run(&none, &data, &cache).await);
        let official = def("{official: apache/x:1, local: datalab/x:1}");
        assert!(super::super::can_run(&official, &data, &cache).await);
    }
}
