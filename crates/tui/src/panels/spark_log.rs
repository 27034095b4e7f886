//! The jobs and stages of one Spark application, folded from its event log
//! (the JSON lines Spark writes with `spark.eventLog.enabled`, uncompressed:
//! see `datalab spark submit`). Only the scheduler's events matter here;
//! every other line (environment, SQL plans, block updates) is skipped.

use serde::Deserialize;

/// What became of a job or a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Running,
    Succeeded,
    Failed,
    /// Never ran: its job ended without it (its shuffle output was there).
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageView {
    pub id: u32,
    /// The attempt shown (a stage is run again when a shuffle fetch fails).
    pub attempt: u32,
    /// The first job that needed it.
    pub job: u32,
    pub name: String,
    pub tasks: u32,
    pub done: u32,
    pub running: u32,
    pub failed: u32,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub id: u32,
    pub stages: Vec<u32>,
    pub status: Status,
}

/// One application's jobs and stages, in the order they appeared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparkLog {
    pub app: Option<String>,
    pub jobs: Vec<JobView>,
    pub stages: Vec<StageView>,
    /// The application ended (`SparkListenerApplicationEnd`).
    pub ended: bool,
}

#[derive(Debug, Deserialize)]
pub struct StageInfo {
    #[serde(rename = "Stage ID")]
    id: u32,
    #[serde(rename = "Stage Attempt ID", default)]
    attempt: u32,
    #[serde(rename = "Stage Name", default)]
    name: String,
    #[serde(rename = "Number of Tasks", default)]
    tasks: u32,
    #[serde(rename = "Failure Reason")]
    failure: Option<String>,
    #[serde(rename = "RDD Info", default)]
    rdds: Vec<RddInfo>,
}

/// One RDD of a stage; SQL plans name the operator that made it in `Scope`
/// (itself JSON: `{"id":"…","name":"Exchange"}`).
#[derive(Debug, Deserialize)]
pub struct RddInfo {
    #[serde(rename = "RDD ID", default)]
    id: u32,
    #[serde(rename = "Scope")]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct Scope {
    name: String,
}

impl StageInfo {
    /// The stage's name for a learner: the PySpark action that made it
    /// (without the call site every PySpark action has, the Python call
    /// reaching Spark through Java reflection), then the plan operators its
    /// RDDs run, in order: `save: AQEShuffleRead → WriteFiles`. Spark 4 runs a
    /// DataFrame's stages from a thread pool and names them by its internal
    /// call site (`$anonfun$withThreadLocalCaptured$1 at
    /// CompletableFuture.java:…`): those get the operators alone.
    fn label(&self) -> String {
        let action = self
            .name
            .strip_suffix(" at NativeMethodAccessorImpl.java:0")
            .unwrap_or(&self.name);
        let ops = self.operators();
        match (action.contains("$anonfun$"), ops.is_empty()) {
            (_, true) => action.to_string(),
            (true, false) => ops,
            (false, false) => format!("{action}: {ops}"),
        }
    }

    fn operators(&self) -> String {
        let mut rdds: Vec<&RddInfo> = self.rdds.iter().collect();
        rdds.sort_by_key(|r| r.id);
        let mut ops: Vec<String> = Vec::new();
        for op in rdds.iter().filter_map(|r| operator(r.scope.as_deref()?)) {
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
        ops.join(" → ")
    }
}

/// The plan operator of an RDD's scope, without the code-generation
/// wrapper every stage has (`WholeStageCodegen (2)`).
fn operator(scope: &str) -> Option<String> {
    let name = serde_json::from_str::<Scope>(scope).ok()?.name;
    let name = name.trim();
    (!name.is_empty() && !name.starts_with("WholeStageCodegen")).then(|| name.to_string())
}

#[derive(Debug, Deserialize)]
pub struct Reason {
    #[serde(rename = "Reason")]
    reason: String,
}

#[derive(Debug, Deserialize)]
pub struct JobResult {
    #[serde(rename = "Result")]
    result: String,
}

/// The event-log lines this view reads.
#[derive(Debug, Deserialize)]
#[serde(tag = "Event")]
pub enum SparkEvent {
    #[serde(rename = "SparkListenerApplicationStart")]
    AppStart {
        #[serde(rename = "App Name")]
        name: String,
    },
    #[serde(rename = "SparkListenerJobStart")]
    JobStart {
        #[serde(rename = "Job ID")]
        job: u32,
        #[serde(rename = "Stage Infos", default)]
        stages: Vec<StageInfo>,
    },
    #[serde(rename = "SparkListenerStageSubmitted")]
    StageSubmitted {
        #[serde(rename = "Stage Info")]
        stage: StageInfo,
    },
    #[serde(rename = "SparkListenerTaskStart")]
    TaskStart {
        #[serde(rename = "Stage ID")]
        stage: u32,
        #[serde(rename = "Stage Attempt ID", default)]
        attempt: u32,
    },
    #[serde(rename = "SparkListenerTaskEnd")]
    TaskEnd {
        #[serde(rename = "Stage ID")]
        stage: u32,
        #[serde(rename = "Stage Attempt ID", default)]
        attempt: u32,
        #[serde(rename = "Task End Reason")]
        reason: Reason,
    },
    #[serde(rename = "SparkListenerStageCompleted")]
    StageCompleted {
        #[serde(rename = "Stage Info")]
        stage: StageInfo,
    },
    #[serde(rename = "SparkListenerJobEnd")]
    JobEnd {
        #[serde(rename = "Job ID")]
        job: u32,
        #[serde(rename = "Job Result")]
        result: JobResult,
    },
    #[serde(rename = "SparkListenerApplicationEnd")]
    AppEnd {},
    #[serde(other)]
    Other,
}

impl SparkLog {
    /// Fold events read from the log, in order.
    pub fn apply_all(&mut self, events: impl IntoIterator<Item = SparkEvent>) {
        for e in events {
            self.apply(e);
        }
    }

    /// Fold whole lines of an event log (tests, previews); a last line
    /// without its newline is left out, as the live reader does.
    pub fn feed(&mut self, text: &str) {
        let whole = text.rfind('\n').map_or("", |end| &text[..end]);
        let events = whole.lines().filter_map(|l| serde_json::from_str(l).ok());
        self.apply_all(events.collect::<Vec<SparkEvent>>());
    }

    pub fn apply(&mut self, e: SparkEvent) {
        match e {
            SparkEvent::AppStart { name } => self.app = Some(name),
            SparkEvent::JobStart { job, stages } => self.job_start(job, stages),
            SparkEvent::StageSubmitted { stage } => self.stage_submitted(stage),
            SparkEvent::TaskStart { stage, attempt } => {
                if let Some(s) = self.attempt_mut(stage, attempt) {
                    s.running += 1;
                }
            }
            SparkEvent::TaskEnd {
                stage,
                attempt,
                reason,
            } => self.task_end(stage, attempt, &reason.reason),
            SparkEvent::StageCompleted { stage } => self.stage_completed(stage),
            SparkEvent::JobEnd { job, result } => self.job_end(job, &result.result),
            SparkEvent::AppEnd {} => self.ended = true,
            SparkEvent::Other => {}
        }
    }

    /// The job started last, if any.
    pub fn last_job(&self) -> Option<&JobView> {
        self.jobs.last()
    }

    fn stage_mut(&mut self, id: u32) -> Option<&mut StageView> {
        self.stages.iter_mut().find(|s| s.id == id)
    }

    /// The stage if `attempt` is the one shown (tasks of an older attempt
    /// that still finish do not count).
    fn attempt_mut(&mut self, id: u32, attempt: u32) -> Option<&mut StageView> {
        self.stage_mut(id).filter(|s| s.attempt == attempt)
    }

    fn job_start(&mut self, job: u32, mut infos: Vec<StageInfo>) {
        infos.sort_by_key(|i| i.id);
        for i in &infos {
            if self.stage_mut(i.id).is_none() {
                self.stages.push(StageView {
                    id: i.id,
                    attempt: i.attempt,
                    job,
                    name: i.label(),
                    tasks: i.tasks,
                    done: 0,
                    running: 0,
                    failed: 0,
                    status: Status::Pending,
                });
            }
        }
        self.jobs.push(JobView {
            id: job,
            stages: infos.iter().map(|i| i.id).collect(),
            status: Status::Running,
        });
    }

    fn stage_submitted(&mut self, i: StageInfo) {
        let job = self.last_job().map_or(0, |j| j.id);
        match self.stage_mut(i.id) {
            Some(s) => {
                if i.attempt != s.attempt {
                    (s.done, s.running, s.failed) = (0, 0, 0);
                }
                s.attempt = i.attempt;
                s.tasks = i.tasks;
                s.status = Status::Running;
            }
            None => self.stages.push(StageView {
                id: i.id,
                attempt: i.attempt,
                job,
                name: i.label(),
                tasks: i.tasks,
                done: 0,
                running: 0,
                failed: 0,
                status: Status::Running,
            }),
        }
    }

    fn task_end(&mut self, stage: u32, attempt: u32, reason: &str) {
        let Some(s) = self.attempt_mut(stage, attempt) else {
            return;
        };
        s.running = s.running.saturating_sub(1);
        if reason == "Success" {
            s.done = (s.done + 1).min(s.tasks);
        } else {
            s.failed += 1;
        }
    }

    fn stage_completed(&mut self, i: StageInfo) {
        let Some(s) = self.attempt_mut(i.id, i.attempt) else {
            return;
        };
        s.running = 0;
        s.status = match i.failure {
            Some(_) => Status::Failed,
            None => Status::Succeeded,
        };
    }

    fn job_end(&mut self, id: u32, result: &str) {
        let Some(j) = self.jobs.iter_mut().find(|j| j.id == id) else {
            return;
        };
        j.status = match result {
            "JobSucceeded" => Status::Succeeded,
            _ => Status::Failed,
        };
        let ids = j.stages.clone();
        for s in self.stages.iter_mut().filter(|s| ids.contains(&s.id)) {
            if s.status == Status::Pending {
                s.status = Status::Skipped;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A word count's log as Spark 4 writes it (trimmed: each event keeps
    /// the fields read here and a few it does not), cut in the middle of
    /// its last line as a running job's log is.
    const LOG: &str = concat!(
        r#"{"Event":"SparkListenerLogStart","Spark Version":"4.2.0"}"#,
        "\n",
        r#"{"Event":"SparkListenerApplicationStart","App Name":"wordcount","App ID":"local-1764600000000","Timestamp":1764600000000,"User":"me"}"#,
        "\n",
        r#"{"Event":"SparkListenerJobStart","Job ID":0,"Submission Time":1764600001000,"Stage Infos":[{"Stage ID":1,"Stage Attempt ID":0,"Stage Name":"save at NativeMethodAccessorImpl.java:0","Number of Tasks":2,"RDD Info":[],"Parent IDs":[0],"Details":"","Accumulables":[],"Resource Profile Id":0},{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"text at NativeMethodAccessorImpl.java:0","Number of Tasks":3,"RDD Info":[],"Parent IDs":[],"Details":"","Accumulables":[],"Resource Profile Id":0}],"Stage IDs":[0,1],"Properties":{"spark.job.description":"save"}}"#,
        "\n",
        r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"text at NativeMethodAccessorImpl.java:0","Number of Tasks":3,"RDD Info":[],"Parent IDs":[],"Details":"","Submission Time":1764600001100,"Accumulables":[],"Resource Profile Id":0},"Properties":{}}"#,
        "\n",
        r#"{"Event":"SparkListenerTaskStart","Stage ID":0,"Stage Attempt ID":0,"Task Info":{"Task ID":0,"Index":0,"Attempt":0}}"#,
        "\n",
        r#"{"Event":"SparkListenerTaskStart","Stage ID":0,"Stage Attempt ID":0,"Task Info":{"Task ID":1,"Index":1,"Attempt":0}}"#,
        "\n",
        r#"{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"ShuffleMapTask","Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":0,"Failed":false,"Killed":false},"Task Metrics":{"Executor Run Time":120}}"#,
        "\n",
        r#"{"Event":"SparkListenerBlockUpdated","Block Updated Info":{"Block ID":"broadcast_0"}}"#,
        "\n",
        r#"{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"ShuffleMapTask","Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":1,"Failed":false,"Killed":false}}"#,
        "\n",
        r#"{"Event":"SparkListenerTaskStart","Stage ID":0,"Stage Attempt ID":0,"Task Info":{"Task ID":2,"Index":2,"Attempt":0}}"#,
        "\n",
        r#"{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"ShuffleMapTask","Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":2,"Fai"#,
    );

    #[test]
    fn a_running_log_gives_its_stages_and_skips_the_cut_line() {
        let mut log = SparkLog::default();
        log.feed(LOG);
        assert_eq!(log.app.as_deref(), Some("wordcount"));
        assert_eq!(log.jobs.len(), 1);
        assert_eq!(log.jobs[0].stages, [0, 1]);
        assert_eq!(log.jobs[0].status, Status::Running);
        let s0 = &log.stages[0];
        assert_eq!((s0.id, s0.job, s0.tasks), (0, 0, 3));
        assert_eq!(s0.name, "text");
        // The third task's end is cut: it still runs.
        assert_eq!((s0.done, s0.running, s0.status), (2, 1, Status::Running));
        let s1 = &log.stages[1];
        assert_eq!(
            (s1.id, s1.tasks, s1.done, s1.status),
            (1, 2, 0, Status::Pending)
        );
        assert!(!log.ended);
    }

    #[test]
    fn the_rest_of_the_line_completes_the_job() {
        let mut log = SparkLog::default();
        log.feed(LOG);
        let rest = concat!(
            r#"led":false,"Killed":false}}"#,
            "\n",
            r#"{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"text at NativeMethodAccessorImpl.java:0","Number of Tasks":3,"Completion Time":1764600002000}}"#,
            "\n",
            r#"{"Event":"SparkListenerJobEnd","Job ID":0,"Completion Time":1764600002100,"Job Result":{"Result":"JobSucceeded"}}"#,
            "\n",
            r#"{"Event":"SparkListenerApplicationEnd","Timestamp":1764600003000}"#,
            "\n",
        );
        // Read again from the last whole line, as the live reader does.
        let cut = &LOG[LOG.rfind('\n').unwrap() + 1..];
        let mut again = SparkLog::default();
        again.feed(&LOG[..=LOG.rfind('\n').unwrap()]);
        again.feed(&format!("{cut}{rest}"));
        let s0 = &again.stages[0];
        assert_eq!((s0.done, s0.running, s0.status), (3, 0, Status::Succeeded));
        // Its job ended without stage 1: skipped.
        assert_eq!(again.stages[1].status, Status::Skipped);
        assert_eq!(again.jobs[0].status, Status::Succeeded);
        assert!(again.ended);
        assert_ne!(again, log);
    }

    #[test]
    fn a_failed_task_and_a_new_stage_attempt() {
        let mut log = SparkLog::default();
        log.feed(concat!(
            r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":4,"Stage Attempt ID":0,"Stage Name":"count","Number of Tasks":2}}"#,
            "\n",
            r#"{"Event":"SparkListenerTaskEnd","Stage ID":4,"Stage Attempt ID":0,"Task End Reason":{"Reason":"ExceptionFailure","Description":"boom"}}"#,
            "\n",
            r#"{"Event":"SparkListenerTaskEnd","Stage ID":4,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"}}"#,
            "\n",
            r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":4,"Stage Attempt ID":1,"Stage Name":"count","Number of Tasks":1}}"#,
            "\n",
            r#"{"Event":"SparkListenerTaskEnd","Stage ID":4,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"}}"#,
            "\n",
        ));
        let s = &log.stages[0];
        assert_eq!((s.attempt, s.tasks, s.done, s.failed), (1, 1, 0, 0));
        assert_eq!(s.status, Status::Running);
    }

    /// Spark 4 names a DataFrame's stages by an internal call site; the view
    /// names them by the plan operators of their RDDs (a line of a real
    /// word count's log, trimmed to the fields read here).
    #[test]
    fn a_stage_named_by_a_thread_pool_is_named_by_its_operators() {
        let line = concat!(
            r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"#,
            r#""Stage Name":"$anonfun$withThreadLocalCaptured$1 at CompletableFuture.java:1768","Number of Tasks":2,"RDD Info":["#,
            r#"{"RDD ID":3,"Name":"MapPartitionsRDD","Scope":"{\"id\":\"spark_plan_45\",\"name\":\"Exchange\"}"},"#,
            r#"{"RDD ID":1,"Name":"MapPartitionsRDD","Scope":"{\"id\":\"spark_plan_19\",\"name\":\"Scan text \"}"},"#,
            r#"{"RDD ID":2,"Name":"MapPartitionsRDD","Scope":"{\"id\":\"spark_plan_44\",\"name\":\"WholeStageCodegen (1)\"}"},"#,
            r#"{"RDD ID":0,"Name":"FileScanRDD","Scope":"{\"id\":\"spark_plan_19\",\"name\":\"Scan text \"}"}]}}"#,
            "\n"
        );
        let mut log = SparkLog::default();
        log.feed(line);
        assert_eq!(log.stages[0].name, "Scan text → Exchange");
        let start = concat!(
            r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":1,"#,
            r#""Stage Name":"start at NativeMethodAccessorImpl.java:0","Number of Tasks":2,"RDD Info":["#,
            r#"{"RDD ID":9,"Scope":"{\"id\":\"7\",\"name\":\"StateStoreSave\"}"},"#,
            r#"{"RDD ID":8,"Scope":"{\"id\":\"6\",\"name\":\"Exchange\"}"}]}}"#,
            "\n"
        );
        log.feed(start);
        assert_eq!(log.stages[1].name, "start: Exchange → StateStoreSave");
    }
}
