//! Real Hadoop (the native `hadoop` service: HDFS + YARN + JobHistory in
//! Hadoop's MiniCluster) through the CLI: it comes up and answers (an HDFS
//! put/ls/cat round trip with Hadoop's own FsShell and the written client
//! config), the lab's Python word count run with `--engine hadoop` gives
//! exactly the output of datalab's engine, a reset empties HDFS, and `down`
//! leaves no process of it; and the `mapreduce-hadoop` lab graded on it: the
//! solution passes every check (HDFS output, JobHistory counters, blocks),
//! a wrong answer and the starter fail. Each test has a home of its own and
//! holds [`ONE_HADOOP`]: the MiniCluster fixes some YARN ports, so one
//! Hadoop runs at a time on a machine.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// Held by each test for its whole run: one Hadoop at a time.
static ONE_HADOOP: Mutex<()> = Mutex::new(());

struct Home(PathBuf);

impl Home {
    fn datalab(&self, args: &[&str], cwd: &Path) -> Output {
        let mut cmd = Command::new(common::datalab_bin());
        cmd.args(["--provider", "native"])
            .args(args)
            .current_dir(cwd)
            .env("DATALAB_HOME", &self.0)
            .env("DATALAB_CACHE", common::cache_dir())
            .env_remove("DATALAB_PROVIDER")
            .env_remove("DATALAB_NAMESPACE");
        // Generous for a busy 2-core machine (a start is ~15-40 s, a job
        // ~80 s); only a hung cluster reaches it.
        common::output_within(&mut cmd, std::time::Duration::from_secs(15 * 60))
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

    /// The Java processes of this home's Hadoop (its path is on their
    /// command lines).
    fn java_processes(&self) -> Vec<String> {
        let marker = self.0.join("services/hadoop").display().to_string();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(&marker) && cmdline.contains("java") {
                found.push(cmdline);
            }
        }
        found
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self.datalab(&["services", "down", "hadoop"], &self.0);
    }
}

/// `java -cp <conf>:<jars> FsShell args…` against the running Hadoop.
fn fs_shell(home: &Home, args: &[&str]) -> String {
    let conf = home.0.join("services/hadoop/data/conf");
    let cp_file = std::fs::read_dir(common::cache_dir().join("native"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("classpath.txt"))
        .find(|p| p.to_string_lossy().contains("/hadoop-") && p.is_file())
        .expect("the hadoop classpath in the cache");
    let cp = std::fs::read_to_string(cp_file).unwrap();
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(format!("{}:{}", conf.display(), cp.trim()))
        .arg("org.apache.hadoop.fs.FsShell")
        .args(args);
    let o = common::output_within(&mut cmd, std::time::Duration::from_secs(5 * 60));
    assert!(
        o.status.success(),
        "FsShell {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Hadoop's own log lines (`2026-12-01 11:33:58,356 WARN …`) share stdout.
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let is_log = |l: &&str| l.len() > 23 && l.as_bytes()[4] == b'-' && l.as_bytes()[19] == b',';
    out.lines()
        .filter(|l| !is_log(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every part file of an output folder, in order.
fn parts(dir: &Path) -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("part-"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).unwrap();
            (n, text)
        })
        .collect()
}

fn sorted_lines(parts: &[(String, String)]) -> Vec<String> {
    let mut lines: Vec<String> = parts
        .iter()
        .flat_map(|(_, t)| t.lines().map(str::to_string))
        .collect();
    lines.sort();
    lines
}

#[test]
fn hadoop_runs_hdfs_and_the_word_count_like_datalabs_engine() {
    let _one = ONE_HADOOP.lock().unwrap_or_else(|e| e.into_inner());
    let home = Home(common::test_home().join("hadoop-home"));
    let _ = std::fs::remove_dir_all(&home.0);
    std::fs::create_dir_all(&home.0).unwrap();
    let work = home.0.clone();

    let up = home.ok(&["services", "up", "hadoop"], &work);
    assert!(
        up.contains("hadoop: up (native) at hdfs://127.0.0.1:"),
        "{up}"
    );
    assert!(up.contains("YARN ResourceManager 127.0.0.1:"), "{up}");
    for f in ["core-site", "hdfs-site", "yarn-site", "mapred-site"] {
        let p = home.0.join(format!("services/hadoop/data/conf/{f}.xml"));
        assert!(p.is_file(), "{} missing", p.display());
    }

    // HDFS round trip with Hadoop's own client and the written config.
    let local = work.join("hello.txt");
    std::fs::write(&local, "hello hdfs\n").unwrap();
    fs_shell(&home, &["-mkdir", "-p", "/roundtrip"]);
    fs_shell(
        &home,
        &["-put", &local.display().to_string(), "/roundtrip/"],
    );
    let ls = fs_shell(&home, &["-ls", "/roundtrip"]);
    assert!(ls.contains("/roundtrip/hello.txt"), "{ls}");
    assert_eq!(
        fs_shell(&home, &["-cat", "/roundtrip/hello.txt"]),
        "hello hdfs\n"
    );

    // The lab's word count on both engines, one reducer and two.
    let lab = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("labs/mapreduce");
    for reducers in ["1", "2"] {
        let mut outs = Vec::new();
        for engine in ["datalab", "hadoop"] {
            let out = work.join(format!("wc-{engine}-{reducers}"));
            let args = [
                "mapreduce",
                "run",
                "--engine",
                engine,
                "--quiet",
                "--overwrite",
                "--reducers",
                reducers,
                "--input",
                "data/corpus",
                "--mapper",
                "python3 solution/wordcount/mapper.py",
                "--reducer",
                "python3 solution/wordcount/reducer.py",
                "--output",
                &out.display().to_string(),
            ];
            home.ok(&args, &lab);
            assert!(out.join("_SUCCESS").exists(), "{engine}: no _SUCCESS");
            outs.push(parts(&out));
        }
        let (datalab, hadoop) = (&outs[0], &outs[1]);
        assert!(sorted_lines(datalab).len() > 100, "{datalab:?}");
        if reducers == "1" {
            // One partition: the very same file, sorted the same way.
            assert_eq!(datalab, hadoop);
        } else {
            // Partitioners differ (Java's hashCode vs datalab's): the same
            // lines, each part sorted by key.
            assert_eq!(hadoop.len(), 2);
            assert_eq!(sorted_lines(datalab), sorted_lines(hadoop));
            for (_, text) in hadoop {
                let keys: Vec<&str> = text
                    .lines()
                    .map(|l| l.split('\t').next().unwrap())
                    .collect();
                assert!(keys.windows(2).all(|w| w[0] < w[1]), "a part is not sorted");
            }
        }
    }

    // A reset empties HDFS of lab data.
    let reset = home.ok(&["services", "reset", "hadoop"], &work);
    assert!(reset.contains("/roundtrip"), "{reset}");
    let ls = fs_shell(&home, &["-ls", "/"]);
    assert!(!ls.contains("/roundtrip"), "{ls}");

    let status = home.ok(&["services", "status", "--json"], &work);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&status).unwrap();
    let row = rows.iter().find(|r| r["kind"] == "hadoop").unwrap();
    assert_eq!(row["health"], "up", "{row}");

    home.ok(&["services", "down", "hadoop"], &work);
    let left = home.java_processes();
    assert!(left.is_empty(), "Java processes left after down: {left:?}");
}

/// `datalab grade --lab mapreduce-hadoop` of `ws` (JSON), with `more` args.
fn grade(home: &Home, ws: &Path, more: &[&str]) -> Vec<serde_json::Value> {
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut args = vec!["--content", repo, "grade", "--lab", "mapreduce-hadoop"];
    args.extend(more);
    let ws_arg = ws.display().to_string();
    args.extend(["--format", "json", "--workspace", &ws_arg]);
    let o = home.datalab(&args, ws);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&o.stderr)));
    let checks = report["checks"].as_array().cloned().unwrap_or_default();
    for c in &checks {
        eprintln!(
            "[{}] {} / {}: {}",
            c["status"], c["step"], c["kind"], c["message"]
        );
    }
    checks
}

/// A copy of the lab's `solution/` or `starter/`, without `data/` (the steps
/// read `$DATALAB_LAB_DATA`), as a learner's repository is graded.
fn workspace(home: &Home, files: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ws = home.0.join(files);
    common::copy_dir(&repo.join("labs/mapreduce-hadoop").join(files), &ws);
    ws
}

#[test]
fn the_hadoop_lab_passes_with_the_solution_and_fails_with_the_starter() {
    let _one = ONE_HADOOP.lock().unwrap_or_else(|e| e.into_inner());
    let home = Home(common::test_home().join("hadoop-lab-home"));
    let _ = std::fs::remove_dir_all(&home.0);
    std::fs::create_dir_all(&home.0).unwrap();
    let kinds = ["hdfs_output", "hadoop_counters", "hdfs_blocks"];

    let solution = workspace(&home, "solution");
    let checks = grade(&home, &solution, &[]);
    assert_eq!(checks.len(), 5);
    for c in &checks {
        assert_eq!(c["passed"], true, "the solution fails {c}");
    }
    for kind in kinds {
        assert!(checks.iter().any(|c| c["kind"] == kind), "no {kind} check");
    }
    let blocks = checks.iter().find(|c| c["kind"] == "hdfs_blocks").unwrap();
    assert!(
        blocks["message"]
            .as_str()
            .unwrap()
            .contains("3 blocks of 1048576 bytes"),
        "{blocks}"
    );

    // A wrong answer about the job: the counters check fails and says
    // where to look, without giving the number away.
    let answers = solution.join("answers.yaml");
    let text = std::fs::read_to_string(&answers).unwrap();
    std::fs::write(&answers, text.replace("map_tasks: 8", "map_tasks: 7")).unwrap();
    let checks = grade(&home, &solution, &["--step", "counters"]);
    let wrong = checks
        .iter()
        .find(|c| c["passed"] == false)
        .expect("a failed check");
    assert_eq!(wrong["status"], "fail", "{wrong}");
    let msg = wrong["message"].as_str().unwrap();
    assert!(
        msg.contains("map_tasks: 7") && msg.contains("/ws/v1/history/mapreduce/jobs/"),
        "{msg}"
    );
    assert!(!msg.contains(" 8"), "the answer is given away: {msg}");

    // The starter: every check fails (none errors), pointing at a file.
    let starter = workspace(&home, "starter");
    let checks = grade(&home, &starter, &[]);
    assert_eq!(checks.len(), 5);
    for c in &checks {
        assert_eq!(c["status"], "fail", "the starter: {c}");
        assert!(c["file"].is_string(), "no file to look at: {c}");
    }
    for kind in kinds {
        assert!(checks.iter().any(|c| c["kind"] == kind), "no {kind} check");
    }

    home.ok(&["services", "down", "hadoop"], &home.0);
    let left = home.java_processes();
    assert!(left.is_empty(), "Java processes left after down: {left:?}");
}
