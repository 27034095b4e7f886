//! `datalab hdfs dfs …` and `datalab hdfs fsck …`: Hadoop's own HDFS shell
//! (FsShell) and file system check (DFSck) against the `hadoop` service,
//! started when needed; the words after `dfs`/`fsck` are exactly those of
//! `hdfs dfs` and `hdfs fsck` on a real cluster. Hadoop's log chatter is left
//! out; what the tool prints, and its exit code, are kept.

use super::Ctx;
use super::mapreduce_hadoop::{client, java, shown};
use clap::Subcommand;
use std::io::{BufRead, BufReader};
use std::process::{ExitCode, Stdio};

#[derive(Subcommand, Debug)]
pub enum HdfsCommand {
    /// Hadoop's file system shell, as `hdfs dfs`: -ls, -cat, -put,
    /// `-D dfs.blocksize=1m -put FILE /dir/`, -rm -r, -du -h, -stat, …
    #[command(disable_help_flag = true)]
    Dfs {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// HDFS's file system check, as `hdfs fsck`: `PATH -files -blocks
    /// -locations` lists a file's blocks, their replicas and DataNodes
    #[command(disable_help_flag = true)]
    Fsck {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
}

pub fn run(cmd: HdfsCommand, ctx: &Ctx) -> ExitCode {
    let (main, args) = match &cmd {
        HdfsCommand::Dfs { args } => ("org.apache.hadoop.fs.FsShell", args),
        HdfsCommand::Fsck { args } => ("org.apache.hadoop.hdfs.tools.DFSck", args),
    };
    match tool(ctx, main, args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("datalab hdfs: {e}");
            ExitCode::from(1)
        }
    }
}

/// Run one of Hadoop's tools, its output without log lines.
fn tool(ctx: &Ctx, main: &str, args: &[String]) -> Result<ExitCode, String> {
    let client = client(ctx, true)?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = java(&client, main, &args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", client.java.display()))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if shown(&line) {
                println!("{line}");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}
