//! Hadoop through the DOCKER provider: the `datalab/hadoop` container (its
//! own network, every server on the container's address) comes up,
//! `services status` shows it, the lab's Python word count run with
//! `--engine hadoop` from the host gives exactly the output of datalab's
//! engine (HDFS upload and download through the DataNode, YARN, the
//! JobHistory server), `datalab hdfs dfs` puts, lists and reads a file, and
//! `down` leaves no container and no network of the home. Runs only with
//! DATALAB_PROVIDER=docker (tests/run-all.sh step 4, after
//! `services build-images`).

mod common;

use datalab_services::ProviderKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn enabled() -> bool {
    if common::provider() == ProviderKind::Docker {
        return true;
    }
    eprintln!("hadoop_docker: skipped: the provider is not docker (set DATALAB_PROVIDER=docker)");
    false
}

struct Home(PathBuf);

impl Home {
    fn datalab(&self, args: &[&str], cwd: &Path) -> Output {
        let mut cmd = Command::new(common::datalab_bin());
        cmd.args(["--provider", "docker"])
            .args(args)
            .current_dir(cwd)
            .env("DATALAB_HOME", &self.0)
            .env("DATALAB_CACHE", common::cache_dir())
            .env_remove("DATALAB_PROVIDER")
            .env_remove("DATALAB_NAMESPACE");
        // Generous for a busy 2-core machine; only a hung cluster reaches it.
        common::output_within(&mut cmd, Duration::from_secs(15 * 60))
    }

    fn ok(&self, args: &[&str], cwd: &Path) -> String {
        let o = self.datalab(args, cwd);
        assert!(
            o.status.success(),
            "datalab {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    /// `docker <what> ls -q` of what is labelled with this home.
    fn labelled(&self, what: &str) -> Vec<String> {
        common::docker_labelled(what, &self.0.join("services"))
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self.datalab(&["services", "down", "hadoop"], &self.0);
    }
}

/// Every part file of an output folder, in order, with its text.
fn parts(dir: &Path) -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("part-"))
        .collect();
    names.sort();
    let text = |n: &String| std::fs::read_to_string(dir.join(n)).unwrap();
    names.iter().map(|n| (n.clone(), text(n))).collect()
}

/// The lab's word count on `engine`, one reducer; its part files and what
/// the command printed.
fn word_count(home: &Home, engine: &str) -> (Vec<(String, String)>, String) {
    let lab = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("labs/mapreduce");
    let out = home.0.join(format!("wc-{engine}"));
    let out_arg = out.display().to_string();
    let t = Instant::now();
    let o = home.datalab(
        &[
            "mapreduce",
            "run",
            "--engine",
            engine,
            "--overwrite",
            "--reducers",
            "1",
            "--input",
            "data/corpus",
            "--mapper",
            "python3 solution/wordcount/mapper.py",
            "--reducer",
            "python3 solution/wordcount/reducer.py",
            "--output",
            &out_arg,
        ],
        &lab,
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{engine} word count failed:\n{printed}");
    eprintln!("word count on {engine}: {:.1} s", t.elapsed().as_secs_f64());
    assert!(out.join("_SUCCESS").exists(), "{engine}: no _SUCCESS");
    (parts(&out), printed)
}

#[test]
fn hadoop_container_runs_the_word_count_like_datalabs_engine_then_nothing_left() {
    if !enabled() {
        return;
    }
    let home = Home(common::test_home().join("docker-hadoop"));
    let _ = std::fs::remove_dir_all(&home.0);
    std::fs::create_dir_all(&home.0).unwrap();
    let work = home.0.clone();

    let t = Instant::now();
    let up = home.ok(&["services", "up", "hadoop"], &work);
    eprintln!("hadoop container up in {:.1} s", t.elapsed().as_secs_f64());
    assert!(up.contains("hadoop: up (docker) at hdfs://"), "{up}");
    assert!(
        !up.contains("hdfs://127."),
        "clients dial the container's address: {up}"
    );
    assert_eq!(home.labelled("container").len(), 1);
    let conf = home.0.join("services/hadoop/data/conf/core-site.xml");
    let core = std::fs::read_to_string(&conf).expect("the client configuration");
    assert!(!core.contains("127.0.0.1"), "{core}");

    let status = home.ok(&["services", "status", "--json"], &work);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&status).unwrap();
    let row = rows.iter().find(|r| r["kind"] == "hadoop").unwrap();
    assert_eq!(row["health"], "up", "{row}");
    assert_eq!(row["provider"], "docker", "{row}");

    let (datalab, _) = word_count(&home, "datalab");
    let (hadoop, printed) = word_count(&home, "hadoop");
    // Progress while the job runs, not only at its end: the client reaches
    // the job's ApplicationMaster in the container (the name table the
    // client configuration carries).
    assert!(
        printed
            .lines()
            .any(|l| l.trim_start().starts_with("map ") && !l.contains("map 100% reduce 100%")),
        "no progress before the job ended:\n{printed}"
    );
    assert!(
        datalab
            .iter()
            .map(|(_, t)| t.lines().count())
            .sum::<usize>()
            > 100
    );
    assert_eq!(datalab, hadoop, "one reducer: the very same file");

    // Hadoop's own shell from the host: the NameNode and the DataNode.
    std::fs::write(work.join("hello.txt"), "hello hdfs\n").unwrap();
    home.ok(&["hdfs", "dfs", "-mkdir", "-p", "/roundtrip"], &work);
    home.ok(&["hdfs", "dfs", "-put", "hello.txt", "/roundtrip/"], &work);
    let ls = home.ok(&["hdfs", "dfs", "-ls", "/roundtrip"], &work);
    assert!(ls.contains("/roundtrip/hello.txt"), "{ls}");
    let cat = home.ok(&["hdfs", "dfs", "-cat", "/roundtrip/hello.txt"], &work);
    assert!(cat.contains("hello hdfs"), "{cat}");

    home.ok(&["services", "down", "hadoop"], &work);
    let (containers, networks) = (home.labelled("container"), home.labelled("network"));
    assert!(
        containers.is_empty() && networks.is_empty(),
        "left after down: containers {containers:?}, networks {networks:?}"
    );
}
