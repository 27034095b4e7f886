//! The Kafka console, shared by `datalab kafka …` (the CLI) and the Kafka
//! panel of the TUI: the command words (clap), and running a command
//! against a broker into lines of output. Nothing here prints or reads
//! stdin: the CLI prints the [`Output`] and hands stdin in, the TUI shows it
//! in a panel.
//!
//! Topic and group names live in the learner's namespace: `orders` is
//! `<ns>_orders` on the broker, and output shows the short name again.

use super::{Bad, Failure, Io, Output};
use crate::Namespace;
use crate::kafka::{
    ConsumeOptions, GroupInfo, Kafka, KafkaError, NewRecord, ProduceOptions, TopicInfo,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// `println!` into an [`Output`].
macro_rules! outln {
    ($o:expr, $($t:tt)*) => { $o.line(format!($($t)*)) };
}
/// `eprintln!` into an [`Output`].
macro_rules! note {
    ($o:expr, $($t:tt)*) => { $o.notes.push(format!($($t)*)) };
}

/// `datalab kafka …`: the words after `kafka`, shared by the CLI and the
/// TUI console.
#[derive(Parser, Debug)]
#[command(name = "kafka", no_binary_name = false)]
pub struct KafkaArgs {
    /// Print JSON instead of tables (consume: one JSON object a line)
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds each request to the broker may take
    #[arg(long, global = true, default_value_t = 5)]
    pub timeout: u64,
    #[command(subcommand)]
    pub command: KafkaCommand,
}

#[derive(Subcommand, Debug)]
pub enum KafkaCommand {
    /// Create, describe, alter and delete topics
    #[command(subcommand)]
    Topics(TopicsCommand),
    /// Produce records: one a line from --file or stdin, `key<TAB>value` allowed
    Produce(ProduceArgs),
    /// Consume records of a topic, alone or as a member of a consumer group
    Consume(ConsumeArgs),
    /// Consumer groups: members, assignment, committed offsets and lag
    #[command(subcommand)]
    Groups(GroupsCommand),
}

#[derive(Subcommand, Debug)]
pub enum TopicsCommand {
    /// Create a topic
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        /// Copies of each partition [default: the broker's default]
        #[arg(long)]
        replication_factor: Option<i32>,
        /// A topic config, `key=value` (repeatable): retention.ms=3600000, cleanup.policy=compact
        #[arg(long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
        /// Succeed without changes when the topic exists
        #[arg(long)]
        if_not_exists: bool,
    },
    /// Describe a topic (partitions, leader, replicas, ISR, configs), or list the topics
    Describe { name: Option<String> },
    /// Add partitions or set configs
    Alter {
        name: String,
        #[arg(long)]
        partitions: Option<i32>,
        #[arg(long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
    },
    /// Delete a topic
    Delete {
        name: String,
        /// Succeed when the topic does not exist
        #[arg(long)]
        if_exists: bool,
    },
}

#[derive(Args, Debug)]
pub struct ProduceArgs {
    pub(crate) topic: String,
    /// Records given on the command line, one each (instead of --file or stdin)
    #[arg(value_name = "VALUE")]
    pub(crate) values: Vec<String>,
    /// Key for lines that have no `key<TAB>` part
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// Read records from this file, one a line [default: stdin]
    #[arg(long, conflicts_with = "values")]
    pub(crate) file: Option<PathBuf>,
    /// all (default, idempotent producer), 1 or 0
    #[arg(long, default_value = "all")]
    pub(crate) acks: String,
    /// Send all records in one transaction and commit it
    #[arg(long)]
    pub(crate) transactional: bool,
    /// With --transactional: abort the transaction instead of committing
    #[arg(long, requires = "transactional")]
    pub(crate) abort: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Isolation {
    #[value(name = "read_committed")]
    ReadCommitted,
    #[value(name = "read_uncommitted")]
    ReadUncommitted,
}

#[derive(Args, Debug)]
pub struct ConsumeArgs {
    pub(crate) topic: String,
    /// Consume as a member of this group and commit its offsets at the end
    #[arg(long)]
    pub(crate) group: Option<String>,
    /// Start at the earliest offset (a group resumes from its committed offsets)
    #[arg(long)]
    pub(crate) from_beginning: bool,
    /// Stop after this many records
    #[arg(long)]
    pub(crate) max: Option<usize>,
    #[arg(long, value_enum, default_value_t = Isolation::ReadUncommitted)]
    pub(crate) isolation: Isolation,
    /// Stay in the group this many seconds, even when there is nothing to read
    #[arg(long, value_name = "SECONDS")]
    pub(crate) stay: Option<u64>,
    /// Do not commit the group's offsets
    #[arg(long)]
    pub(crate) no_commit: bool,
    /// Print `key<TAB>value` lines (for scripts), instead of a table
    #[arg(long, conflicts_with = "json")]
    pub(crate) tsv: bool,
    /// Return once this member has partitions, and go on consuming in the
    /// background (command line only; its output goes where this command's
    /// goes: redirect it to a file)
    #[arg(long, requires = "group")]
    pub(crate) detach: bool,
}

#[derive(Subcommand, Debug)]
pub enum GroupsCommand {
    /// Members, assignment, and per partition the committed offset, end offset and lag
    Describe {
        group: String,
        /// Only this topic's offsets
        #[arg(long)]
        topic: Option<String>,
    },
    /// Delete a group's committed offsets (the group must have no members)
    Delete {
        group: String,
        #[arg(long)]
        if_exists: bool,
    },
}

/// Parse a typed line as the words after `datalab kafka` (shell quoting:
/// `'a b'`, `"x y"`).
pub fn parse_line(line: &str) -> Result<KafkaArgs, Failure> {
    super::line::parse("kafka", line, false, HINT)
}

/// What to type, for an empty line.
const HINT: &str = "type a command, e.g. `topics describe orders`";

enum Fail {
    Usage(Bad),
    Kafka(KafkaError),
}

impl From<KafkaError> for Fail {
    fn from(e: KafkaError) -> Self {
        Fail::Kafka(e)
    }
}

impl KafkaCommand {
    /// The group a `consume --group G --detach` joins before it returns.
    pub fn detaches(&self) -> Option<&str> {
        match self {
            KafkaCommand::Consume(c) if c.detach => c.group.as_deref(),
            _ => None,
        }
    }

    /// Whether the command reads its records from stdin.
    pub fn reads_stdin(&self) -> bool {
        matches!(self, KafkaCommand::Produce(p) if p.file.is_none() && p.values.is_empty())
    }
}

/// The longest a command may take, at most, with this request timeout
/// (a consumer that `--stay`s takes that long): a caller's outer bound.
pub fn time_limit(cmd: &KafkaCommand, timeout: Duration) -> Duration {
    let stay = match cmd {
        KafkaCommand::Consume(c) => c.stay.unwrap_or(0),
        _ => 0,
    };
    Duration::from_secs(stay) + timeout * 12
}

/// Run one console command against `kafka` in namespace `ns`.
pub async fn execute(
    cmd: KafkaCommand,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    io: &Io,
) -> Result<Output, Failure> {
    let mut out = Output::default();
    let res = match cmd {
        KafkaCommand::Topics(t) => topics(t, k, ns, json, &mut out).await,
        KafkaCommand::Produce(p) => produce(p, k, ns, json, io, &mut out).await,
        KafkaCommand::Consume(c) => consume(c, k, ns, json, io, &mut out).await,
        KafkaCommand::Groups(g) => groups(g, k, ns, json, &mut out).await,
    };
    match res {
        Ok(()) => Ok(out),
        Err(Fail::Usage(b)) => Err(Failure::Usage(b)),
        Err(Fail::Kafka(e)) => Err(Failure::Service(unprefix(ns, &e.to_string()))),
    }
}

fn parse_configs(items: &[String]) -> Result<Vec<(String, String)>, Bad> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| {
                    Bad::in_word(
                        s,
                        format!("--config {s:?}: expected KEY=VALUE, e.g. retention.ms=3600000"),
                    )
                })
        })
        .collect()
}

/// Show a broker-side name without the namespace prefix.
fn short<'a>(ns: &Namespace, full: &'a str) -> &'a str {
    ns.strip(full).unwrap_or(full)
}

fn unprefix(ns: &Namespace, text: &str) -> String {
    if ns.is_empty() {
        text.to_string()
    } else {
        text.replace(&format!("{}_", ns.as_str()), "")
    }
}

async fn topics(
    t: TopicsCommand,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    out: &mut Output,
) -> Result<(), Fail> {
    match t {
        TopicsCommand::Create {
            name,
            partitions,
            replication_factor,
            configs,
            if_not_exists,
        } => {
            let new = NewTopic {
                name: &name,
                partitions,
                replication_factor,
                configs: &configs,
                if_not_exists,
            };
            create_topic(new, k, ns, json, out).await?;
        }
        TopicsCommand::Describe { name: None } => list_topics(k, ns, json, out).await?,
        TopicsCommand::Describe { name: Some(name) } => {
            describe_topic(&name, k, ns, json, out).await?
        }
        TopicsCommand::Alter {
            name,
            partitions,
            configs,
        } => {
            let configs = parse_configs(&configs).map_err(Fail::Usage)?;
            if partitions.is_none() && configs.is_empty() {
                return Err(Fail::Usage(Bad::new(
                    "nothing to change: give --partitions N and/or --config KEY=VALUE",
                )));
            }
            k.alter_topic(&ns.topic(&name), partitions, &configs)
                .await?;
            report(out, json, &name, "altered");
        }
        TopicsCommand::Delete { name, if_exists } => {
            let full = ns.topic(&name);
            match k.delete_topic(&full).await {
                Ok(()) => {
                    k.wait_topic_gone(&full).await?;
                    report(out, json, &name, "deleted");
                }
                Err(KafkaError::NoTopic(_)) if if_exists => report(out, json, &name, "absent"),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// `topics create`'s words.
struct NewTopic<'a> {
    name: &'a str,
    partitions: i32,
    replication_factor: Option<i32>,
    configs: &'a [String],
    if_not_exists: bool,
}

async fn create_topic(
    t: NewTopic<'_>,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    out: &mut Output,
) -> Result<(), Fail> {
    let NewTopic {
        name,
        partitions,
        replication_factor,
        configs,
        if_not_exists,
    } = t;
    let configs = parse_configs(configs).map_err(Fail::Usage)?;
    if partitions < 1 {
        return Err(Fail::Usage(Bad::in_word(
            "--partitions",
            "--partitions must be at least 1",
        )));
    }
    let full = ns.topic(name);
    if if_not_exists && k.describe_topic(&full, false).await?.is_some() {
        report(out, json, name, "exists");
        return Ok(());
    }
    k.create_topic(&full, partitions, replication_factor, &configs)
        .await?;
    report(out, json, name, "created");
    Ok(())
}

/// `topics describe` without a name: the brokers and the namespace's topics.
async fn list_topics(k: &Kafka, ns: &Namespace, json: bool, out: &mut Output) -> Result<(), Fail> {
    let (brokers, all) = k.cluster().await?;
    let mine: Vec<&str> = all
        .iter()
        .filter(|t| !t.starts_with("__"))
        .filter_map(|t| ns.strip(t))
        .collect();
    if json {
        out.json(&serde_json::json!({"brokers": brokers, "topics": mine}));
    } else {
        outln!(out, "{} broker(s) at {}", brokers.len(), k.bootstrap());
        for t in mine {
            outln!(out, "{t}");
        }
    }
    Ok(())
}

async fn describe_topic(
    name: &str,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    out: &mut Output,
) -> Result<(), Fail> {
    let full = ns.topic(name);
    let mut found = k.describe_topic(&full, true).await?;
    if found.is_none() {
        // On a cluster, a broker may not know a topic created a
        // moment ago through another one: ask once more.
        tokio::time::sleep(Duration::from_millis(300)).await;
        found = k.describe_topic(&full, true).await?;
    }
    let Some(mut info) = found else {
        return Err(KafkaError::NoTopic(full).into());
    };
    info.name = name.to_string();
    if json {
        out.json(&info);
    } else {
        print_topic(out, &info);
    }
    Ok(())
}

fn report(out: &mut Output, json: bool, name: &str, what: &str) {
    if json {
        out.json(&serde_json::json!({"topic": name, "result": what}));
    } else {
        outln!(out, "topic {name} {what}");
    }
}

fn print_topic(out: &mut Output, t: &TopicInfo) {
    outln!(
        out,
        "topic {}: {} partition(s), replication factor {}",
        t.name,
        t.partitions.len(),
        t.replication_factor()
    );
    outln!(
        out,
        "  {:>9}  {:>6}  {:<12}  {:<12}",
        "partition",
        "leader",
        "replicas",
        "isr"
    );
    for p in &t.partitions {
        outln!(
            out,
            "  {:>9}  {:>6}  {:<12}  {:<12}",
            p.partition,
            p.leader_text(),
            p.replicas_text(),
            p.isr_text()
        );
    }
    let important = [
        "cleanup.policy",
        "retention.ms",
        "min.insync.replicas",
        "segment.ms",
    ];
    let mut shown: Vec<&String> = t.overrides.iter().collect();
    for k in important {
        if let Some((name, _)) = t.configs.get_key_value(k)
            && !shown.contains(&name)
        {
            shown.push(name);
        }
    }
    if !shown.is_empty() {
        outln!(out, "  configs:");
        for k in shown {
            let set = if t.overrides.contains(k) {
                ""
            } else {
                " (default)"
            };
            outln!(
                out,
                "    {k}={}{set}",
                t.configs.get(k).map(String::as_str).unwrap_or("")
            );
        }
    }
}

async fn produce(
    p: ProduceArgs,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    io: &Io,
    out: &mut Output,
) -> Result<(), Fail> {
    let text = match (&p.file, &io.stdin) {
        (Some(f), _) => std::fs::read_to_string(io.cwd.join(f)).map_err(|e| {
            Fail::Usage(Bad::in_word(
                &f.to_string_lossy(),
                format!("cannot read {}: {e}", f.display()),
            ))
        })?,
        (None, _) if !p.values.is_empty() => p.values.join("\n"),
        (None, Some(s)) => s.clone(),
        (None, None) => {
            return Err(Fail::Usage(Bad::new(format!(
                "nothing to produce: give the records after the topic (`produce {} hello`) or --file PATH",
                p.topic
            ))));
        }
    };
    let records: Vec<NewRecord> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(|l| NewRecord::from_line(l, p.key.as_deref()))
        .collect();
    let full = ns.topic(&p.topic);
    let opts = ProduceOptions {
        acks: p.acks.clone(),
        // Starts with the namespaced topic: inside the learner's namespace,
        // where a shared cluster lets them use transactional ids.
        transactional_id: p.transactional.then(|| {
            format!(
                "{full}.datalab-tx-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0)
            )
        }),
        abort: p.abort,
    };
    let mut r = k.produce(&full, records, &opts).await?;
    r.topic = p.topic.clone();
    if json {
        out.json(&r);
    } else {
        let parts: Vec<String> = r
            .partitions
            .iter()
            .map(|(p, n)| format!("p{p}: {n}"))
            .collect();
        outln!(
            out,
            "produced {} record(s) to {} (acks={}){}{}",
            r.records,
            r.topic,
            p.acks,
            if parts.is_empty() {
                String::new()
            } else {
                format!(" [{}]", parts.join(", "))
            },
            r.transaction
                .as_deref()
                .map(|t| format!(", transaction {t}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

async fn consume(
    c: ConsumeArgs,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    io: &Io,
    out: &mut Output,
) -> Result<(), Fail> {
    if c.detach && io.joined.is_none() {
        return Err(Fail::Usage(Bad::in_word(
            "--detach",
            "--detach is for the command line; here a consumer already runs beside the prompt",
        )));
    }
    let opts = ConsumeOptions {
        group: c.group.as_deref().map(|g| ns.group(g)),
        from_beginning: c.from_beginning,
        max: c.max,
        read_committed: c.isolation == Isolation::ReadCommitted,
        commit: !c.no_commit,
        stay: c.stay.map(Duration::from_secs),
        stop: io.stop.clone(),
        joined: io.joined.clone(),
    };
    let records = k.consume(&ns.topic(&c.topic), &opts).await?;
    if json {
        for r in &records {
            outln!(
                out,
                "{}",
                serde_json::json!({"partition": r.partition, "offset": r.offset, "key": r.key, "value": r.value})
            );
        }
    } else if c.tsv {
        for r in &records {
            outln!(out, "{}\t{}", r.key.as_deref().unwrap_or(""), r.value);
        }
    } else {
        outln!(
            out,
            "{:>9}  {:>6}  {:<10}  value",
            "partition",
            "offset",
            "key"
        );
        for r in &records {
            outln!(
                out,
                "{:>9}  {:>6}  {:<10}  {}",
                r.partition,
                r.offset,
                r.key.as_deref().unwrap_or("-"),
                r.value
            );
        }
        note!(
            out,
            "{} record(s){}",
            records.len(),
            match (&c.group, c.no_commit) {
                (Some(g), false) if !records.is_empty() =>
                    format!(", offsets committed for group {g}"),
                _ => String::new(),
            }
        );
    }
    Ok(())
}

async fn groups(
    g: GroupsCommand,
    k: &Kafka,
    ns: &Namespace,
    json: bool,
    out: &mut Output,
) -> Result<(), Fail> {
    match g {
        GroupsCommand::Describe { group, topic } => {
            let topics: Vec<String> = topic.iter().map(|t| ns.topic(t)).collect();
            let mut info = k.describe_group(&ns.group(&group), &topics).await?;
            info.group = group;
            // Only this namespace's topics, shown by their short names.
            info.offsets.retain(|o| ns.strip(&o.topic).is_some());
            for o in &mut info.offsets {
                o.topic = short(ns, &o.topic).to_string();
            }
            for m in &mut info.members {
                for a in &mut m.assignment {
                    a.topic = short(ns, &a.topic).to_string();
                }
            }
            if json {
                out.json(&info);
            } else {
                print_group(out, &info);
            }
        }
        GroupsCommand::Delete { group, if_exists } => {
            let existed = k.delete_group(&ns.group(&group)).await?;
            if !existed && !if_exists {
                return Err(KafkaError::Failed(format!("group {group} does not exist")).into());
            }
            if json {
                out.json(
                    &serde_json::json!({"group": group, "result": if existed {"deleted"} else {"absent"}}),
                );
            } else {
                outln!(
                    out,
                    "group {group} {}",
                    if existed { "deleted" } else { "absent" }
                );
            }
        }
    }
    Ok(())
}

fn print_group(out: &mut Output, g: &GroupInfo) {
    outln!(
        out,
        "group {}: {}{}, {} member(s)",
        g.group,
        g.state,
        if g.protocol.is_empty() {
            String::new()
        } else {
            format!(" ({})", g.protocol)
        },
        g.members.len()
    );
    for m in &g.members {
        let parts: Vec<String> = m
            .assignment
            .iter()
            .map(|a| {
                format!(
                    "{} [{}]",
                    a.topic,
                    a.partitions
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        outln!(
            out,
            "  member {} ({}): {}",
            m.client_id,
            m.host,
            parts.join("; ")
        );
    }
    if g.offsets.is_empty() {
        outln!(out, "  no committed offsets");
        return;
    }
    outln!(
        out,
        "  {:<20}  {:>9}  {:>9}  {:>6}  {:>6}",
        "topic",
        "partition",
        "committed",
        "end",
        "lag"
    );
    for o in &g.offsets {
        outln!(
            out,
            "  {:<20}  {:>9}  {:>9}  {:>6}  {:>6}",
            o.topic,
            o.partition,
            o.committed
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            o.end,
            o.lag
        );
    }
    outln!(out, "  total lag: {}", g.total_lag());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed line and the same words as a shell hands them to the CLI
    /// parse to the same command; a bad one says where.
    #[test]
    fn a_line_parses_as_the_cli_words() {
        let cases: [(&str, &[&str]); 3] = [
            (
                "produce seen --key c1 hello 'two words'",
                &["produce", "seen", "--key", "c1", "hello", "two words"],
            ),
            (
                "--json topics create t --partitions 3 --config retention.ms=1",
                &[
                    "--json",
                    "topics",
                    "create",
                    "t",
                    "--partitions",
                    "3",
                    "--config",
                    "retention.ms=1",
                ],
            ),
            (
                "consume t --group g --stay 5",
                &["consume", "t", "--group", "g", "--stay", "5"],
            ),
        ];
        for (line, argv) in cases {
            let typed = parse_line(line).unwrap();
            let cli =
                KafkaArgs::try_parse_from(std::iter::once("kafka").chain(argv.iter().copied()))
                    .unwrap();
            assert_eq!(format!("{typed:?}"), format!("{cli:?}"), "{line}");
        }
        let e = |l: &str| super::super::line::panel_text(&parse_line(l).unwrap_err(), l, false);
        assert_eq!(
            e("topics frobnicate"),
            "1:8: unrecognized subcommand 'frobnicate'"
        );
        assert!(e("consume t --max x").starts_with("1:17: invalid value 'x'"));
        assert!(e("consume t --nope").starts_with("1:11: unexpected argument '--nope'"));
        assert!(matches!(parse_line("topics --help"), Err(Failure::Help(_))));
    }

    /// `--detach` needs a group, and only the command line can detach: a
    /// panel (no `joined` cell in its Io) is told so before anything runs.
    #[tokio::test]
    async fn detach_is_for_a_group_on_the_command_line() {
        assert!(parse_line("consume t --detach").is_err());
        let args = parse_line("consume t --group g --detach").unwrap();
        assert_eq!(args.command.detaches(), Some("g"));
        let dead = Kafka::new("127.0.0.1:9", Duration::from_secs(1));
        let Err(Failure::Usage(b)) = execute(
            args.command,
            &dead,
            &Namespace::none(),
            false,
            &Io::default(),
        )
        .await
        else {
            panic!("a panel's --detach was not refused");
        };
        assert!(
            b.message.contains("--detach is for the command line"),
            "{}",
            b.message
        );
    }
}
