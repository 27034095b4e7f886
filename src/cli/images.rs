//! `datalab services build-images [KIND...]`: build the Kafka, Cassandra,
//! MongoDB-stand-in and Hadoop images from `containers/docker/` with no image registry
//! and record them as the images the docker provider uses.

use super::Ctx;
use datalab_services::ServiceKind;
use datalab_services::definition;
use datalab_services::docker;
use std::process::ExitCode;

/// Build the images of `kinds` (every kind with an image when empty). Prints one line per
/// image with the time it took; a failure says what to run.
pub async fn build_images(kinds: Vec<ServiceKind>, ctx: &Ctx) -> ExitCode {
    // None named: every kind that has an image.
    let every = kinds.is_empty();
    let kinds = if every {
        ServiceKind::ALL.to_vec()
    } else {
        kinds
    };
    let config = &ctx.services.config;
    let mut failed = false;
    for kind in kinds {
        let def = match definition::load(&ctx.content, kind) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("datalab: {e}");
                failed = true;
                continue;
            }
        };
        if every && !def.has_image() {
            eprintln!("{kind}: no docker image (it runs with the native provider)");
            continue;
        }
        let label = kind.name().to_string();
        let progress = move |msg: &str| eprintln!("{label}: {msg}");
        match docker::build_image(
            &def,
            &ctx.content,
            &config.data_dir,
            &config.cache_dir,
            &progress,
        )
        .await
        {
            Ok(built) => println!(
                "{}: built {} in {:.1} s (the docker provider uses it from now on)",
                built.kind, built.image, built.seconds
            ),
            Err(e) => {
                eprintln!("datalab: {kind}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
