//! Loading with validation. Every problem becomes a [`Diagnostic`] that reads
//! `path:line:col: message`, so an instructor's editor can jump to it.

use super::balance;
use super::model::*;
use super::{Content, Course, Day, Session, Unit};
use crate::ServiceKind;
use crate::lab::{Lab, LabDef};
use serde::de::DeserializeOwned;
use serde_saphyr::{Location, Spanned};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one content file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, as [`Content::display_path`] names it.
    pub(crate) path: String,
    pub(crate) line: u64,
    pub(crate) col: u64,
    pub(crate) message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}:{}: {sev}{}",
            self.path, self.line, self.col, self.message
        )
    }
}

/// Collects diagnostics for one content tree.
struct Sink<'a> {
    content: &'a Content,
    diags: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn at(&mut self, severity: Severity, rel: &str, loc: Location, message: impl Into<String>) {
        let (line, col) = if loc == Location::UNKNOWN {
            (1, 1)
        } else {
            (loc.line(), loc.column())
        };
        self.diags.push(Diagnostic {
            severity,
            path: self.content.display_path(rel),
            line,
            col,
            message: message.into(),
        });
    }
    fn error(&mut self, rel: &str, loc: Location, message: impl Into<String>) {
        self.at(Severity::Error, rel, loc, message)
    }
    fn warn(&mut self, rel: &str, loc: Location, message: impl Into<String>) {
        self.at(Severity::Warning, rel, loc, message)
    }
    fn file_error(&mut self, rel: &str, message: impl Into<String>) {
        self.error(rel, Location::UNKNOWN, message)
    }
}

/// The message of a YAML error without the location and snippet the crate
/// adds (we print our own `path:line:col:` prefix).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim().to_string();
    // Drop a trailing " at line N column M" the crate may append.
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first,
    }
}

/// Parse a YAML content file into `T`; errors carry line and column.
pub(crate) fn parse_yaml<T: DeserializeOwned>(
    content: &Content,
    rel: &str,
) -> Result<T, Vec<Diagnostic>> {
    let mut sink = Sink {
        content,
        diags: Vec::new(),
    };
    match content.read_string(rel) {
        Err(e) => {
            sink.file_error(rel, format!("cannot read: {e}"));
            Err(sink.diags)
        }
        Ok(text) => match serde_saphyr::from_str::<T>(&text) {
            Ok(v) => Ok(v),
            Err(e) => {
                let loc = e.location().unwrap_or(Location::UNKNOWN);
                sink.error(rel, loc, yaml_message(&e));
                Err(sink.diags)
            }
        },
    }
}

fn parse_into<T: DeserializeOwned>(sink: &mut Sink, rel: &str) -> Option<T> {
    match parse_yaml::<T>(sink.content, rel) {
        Ok(v) => Some(v),
        Err(d) => {
            sink.diags.extend(d);
            None
        }
    }
}

/// Load everything, collecting every problem. Returns the course when the
/// agenda itself parsed (units with broken files are still listed, so the
/// caller can decide), and all diagnostics.
pub(crate) fn load_all(content: Content) -> (Option<Course>, Vec<Diagnostic>) {
    let mut sink = Sink {
        content: &content,
        diags: Vec::new(),
    };
    let Some(def) = parse_into::<CourseDef>(&mut sink, "course.yaml") else {
        return (None, sink.diags);
    };
    let mut course = Course {
        title: def.title.clone(),
        subtitle: def.subtitle.clone(),
        days: Vec::new(),
        units: Vec::new(),
        lessons: BTreeMap::new(),
        quizzes: BTreeMap::new(),
        comparisons: BTreeMap::new(),
        activities: BTreeMap::new(),
        labs: BTreeMap::new(),
    };
    let mut seen = Seen::default();
    if def.days.is_empty() {
        sink.file_error("course.yaml", "the agenda has no days");
    }
    for (di, day) in def.days.iter().enumerate() {
        check_id(&mut sink, "course.yaml", &day.id);
        let sessions = day
            .sessions
            .iter()
            .enumerate()
            .map(|(si, s)| load_session(&mut sink, &mut course, &mut seen, s, (di, si)))
            .collect();
        course.days.push(Day {
            id: day.id.value.clone(),
            title: day.title.clone(),
            sessions,
        });
    }
    (Some(course), sink.diags)
}

/// Ids already used in the agenda.
#[derive(Default)]
struct Seen {
    units: HashSet<String>,
    sessions: HashSet<String>,
}

/// One session of the agenda: its own checks, then each of its units loaded.
fn load_session(
    sink: &mut Sink,
    course: &mut Course,
    seen: &mut Seen,
    s: &SessionDef,
    (day, session): (usize, usize),
) -> Session {
    check_id(sink, "course.yaml", &s.id);
    if !seen.sessions.insert(s.id.value.clone()) {
        let msg = format!("session id `{}` is used twice", s.id.value);
        sink.error("course.yaml", s.id.referenced, msg);
    }
    if s.minutes == 0 {
        let msg = format!("session `{}` has no planned minutes", s.id.value);
        sink.error("course.yaml", s.id.referenced, msg);
    }
    let mut unit_idx = Vec::new();
    for u in &s.units {
        let Some(title) = load_unit(sink, course, seen, u) else {
            continue;
        };
        unit_idx.push(course.units.len());
        course.units.push(Unit {
            id: u.id.value.clone(),
            kind: u.kind,
            title,
            day,
            session,
        });
    }
    Session {
        id: s.id.value.clone(),
        title: s.title.clone(),
        minutes: s.minutes,
        units: unit_idx,
    }
}

/// One unit: its id checked, its file parsed and checked, and the result
/// stored in the course. Returns its title when it loaded.
fn load_unit(sink: &mut Sink, course: &mut Course, seen: &mut Seen, u: &UnitRef) -> Option<String> {
    let id = &u.id.value;
    check_id(sink, "course.yaml", &u.id);
    if !seen.units.insert(id.clone()) {
        sink.error(
            "course.yaml",
            u.id.referenced,
            format!("unit id `{id}` is used twice"),
        );
        return None;
    }
    let rel = u.kind.path(id);
    let content = sink.content;
    if !content.exists(&rel) {
        let msg = format!("{} `{id}` has no file: expected {rel}", u.kind.name());
        sink.error("course.yaml", u.id.referenced, msg);
        return None;
    }
    let id = id.clone();
    match u.kind {
        UnitKind::Lesson => load_lesson(sink, &rel).map(|l| {
            let t = l.title.clone();
            course.lessons.insert(id, l);
            t
        }),
        UnitKind::Quiz => parse_into::<Quiz>(sink, &rel).map(|q| {
            check_quiz(sink, &rel, &q);
            let t = q.title.clone();
            course.quizzes.insert(id, q);
            t
        }),
        UnitKind::Comparison => parse_into::<Comparison>(sink, &rel).map(|c| {
            check_comparison(sink, &rel, &c);
            let t = c.title.clone();
            course.comparisons.insert(id, c);
            t
        }),
        UnitKind::Activity => parse_into::<Activity>(sink, &rel).map(|a| {
            check_activity(sink, &rel, &a);
            let t = a.title.clone();
            course.activities.insert(id, a);
            t
        }),
        UnitKind::Lab => parse_into::<LabDef>(sink, &rel).map(|def| {
            check_lab(sink, content, &id, &def);
            let t = def.title.clone();
            let lab = Lab {
                id: id.clone(),
                def,
                content: content.clone(),
            };
            course.labs.insert(id, lab);
            t
        }),
    }
}

/// Lint a content tree: everything [`load_all`] finds, plus files no unit
/// references and labs without a reference solution.
pub fn lint(content: &Content) -> Vec<Diagnostic> {
    let (course, mut diags) = load_all(content.clone());
    let mut sink = Sink {
        content,
        diags: Vec::new(),
    };
    if let Some(course) = &course {
        check_balance(&mut sink, course);
        let mut referenced: BTreeSet<String> = BTreeSet::new();
        for u in &course.units {
            referenced.insert(u.kind.path(&u.id));
        }
        // Files that failed to load were referenced too.
        for d in &diags {
            referenced.insert(d.path.clone());
        }
        let mut candidates = Vec::new();
        candidates.extend(
            content
                .list_files("lessons")
                .into_iter()
                .filter(|p| p.ends_with(".md")),
        );
        candidates.extend(content.list_files("lessons/comparisons"));
        candidates.extend(content.list_files("lessons/activities"));
        candidates.extend(content.list_files("quizzes"));
        for dir in content.list_dirs("labs") {
            let f = format!("{dir}/lab.yaml");
            if content.exists(&f) {
                candidates.push(f);
            }
        }
        for f in candidates {
            if f.ends_with("README.md") {
                continue;
            }
            if !referenced.contains(&f) && !referenced.contains(&content.display_path(&f)) {
                sink.warn(
                    &f,
                    Location::UNKNOWN,
                    "no unit in course.yaml refers to this file",
                );
            }
        }
    }
    diags.extend(sink.diags);
    diags
}

fn check_id(sink: &mut Sink, rel: &str, id: &Spanned<String>) {
    let ok = !id.value.is_empty()
        && id
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        sink.error(
            rel,
            id.referenced,
            format!(
                "id `{}` must be lowercase letters, digits, `-` or `_`",
                id.value
            ),
        );
    }
}

fn load_lesson(sink: &mut Sink, rel: &str) -> Option<Lesson> {
    let text = match sink.content.read_string(rel) {
        Ok(t) => t,
        Err(e) => {
            sink.file_error(rel, format!("cannot read: {e}"));
            return None;
        }
    };
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let Some(title) = first.strip_prefix("# ") else {
        sink.file_error(rel, "a lesson must start with a `# Title` line");
        return None;
    };
    Some(Lesson {
        title: title.trim().to_string(),
        markdown: text,
    })
}

fn check_quiz(sink: &mut Sink, rel: &str, q: &Quiz) {
    if q.questions.is_empty() {
        sink.file_error(rel, "the quiz has no questions");
    }
    let mut ids = HashSet::new();
    for question in &q.questions {
        check_id(sink, rel, &question.id);
        let at = question.id.referenced;
        let qid = &question.id.value;
        if !ids.insert(qid.clone()) {
            sink.error(rel, at, format!("question id `{qid}` is used twice"));
        }
        if question.explanation.trim().is_empty() {
            sink.error(rel, at, format!("question `{qid}` needs an explanation"));
        }
        let ans_at = question.answer.referenced;
        match question.kind {
            QuestionKind::TrueFalse => {
                if !matches!(question.answer.value, AnswerValue::Bool(_)) {
                    sink.error(rel, ans_at, "a true_false answer must be `true` or `false`");
                }
                if !question.options.is_empty() {
                    sink.error(
                        rel,
                        at,
                        format!("question `{qid}` is true_false: it takes no options"),
                    );
                }
            }
            QuestionKind::Choice => {
                if !(2..=9).contains(&question.options.len()) {
                    sink.error(
                        rel,
                        at,
                        format!("choice question `{qid}` needs 2 to 9 options"),
                    );
                }
                let mut seen = HashSet::new();
                for o in &question.options {
                    if !seen.insert(o.as_str()) {
                        sink.error(rel, at, format!("option {o:?} appears twice in `{qid}`"));
                    }
                }
                let answers: Vec<&str> = match &question.answer.value {
                    AnswerValue::Text(t) => vec![t.as_str()],
                    AnswerValue::List(l) if !l.is_empty() => l.iter().map(String::as_str).collect(),
                    _ => {
                        sink.error(
                            rel,
                            ans_at,
                            "a choice answer must be one of the options, or a list of them",
                        );
                        vec![]
                    }
                };
                for a in answers {
                    if !question.options.iter().any(|o| o == a) {
                        sink.error(
                            rel,
                            ans_at,
                            format!("answer {a:?} is not one of the options of `{qid}`"),
                        );
                    }
                }
            }
            QuestionKind::Numeric => {
                match question.answer.value {
                    AnswerValue::Number(n) if n.is_finite() => {
                        if question.magnitude == Some(true) && n <= 0.0 {
                            sink.error(
                                rel,
                                ans_at,
                                "an order-of-magnitude answer must be positive",
                            );
                        }
                    }
                    _ => sink.error(rel, ans_at, "a numeric answer must be a number"),
                }
                match (question.tolerance, question.magnitude) {
                    (Some(t), None) if t >= 0.0 => {}
                    (Some(_), None) => sink.error(rel, at, format!("`{qid}`: tolerance must not be negative")),
                    (None, Some(true)) => {}
                    _ => sink.error(
                        rel,
                        at,
                        format!("numeric question `{qid}` needs exactly one of `tolerance: N` or `magnitude: true`"),
                    ),
                }
                if !question.options.is_empty() {
                    sink.error(
                        rel,
                        at,
                        format!("question `{qid}` is numeric: it takes no options"),
                    );
                }
            }
        }
        if question.kind != QuestionKind::Numeric
            && (question.tolerance.is_some()
                || question.magnitude.is_some()
                || question.unit.is_some())
        {
            sink.error(
                rel,
                at,
                format!("`{qid}`: tolerance, magnitude and unit are for numeric questions"),
            );
        }
    }
}

/// Answers guessable without reading, per quiz and over the whole course.
fn check_balance(sink: &mut Sink, course: &Course) {
    let mut all = Vec::new();
    for (id, quiz) in &course.quizzes {
        let rel = UnitKind::Quiz.path(id);
        let questions: Vec<&Question> = quiz.questions.iter().collect();
        for (message, q) in balance::clusters(&questions, balance::PER_QUIZ) {
            sink.warn(&rel, q.id.referenced, message);
        }
        all.extend(questions);
    }
    for (message, _) in balance::clusters(&all, balance::COURSE) {
        sink.warn(
            "course.yaml",
            Location::UNKNOWN,
            format!("across the course's quizzes, {message}"),
        );
    }
}

fn check_comparison(sink: &mut Sink, rel: &str, c: &Comparison) {
    let ids: Vec<&str> = c.options.iter().map(|o| o.id.value.as_str()).collect();
    if ids.len() < 2 {
        sink.file_error(rel, "a comparison needs at least two options");
    }
    for o in &c.options {
        check_id(sink, rel, &o.id);
    }
    for crit in &c.criteria {
        for id in &ids {
            if !crit.values.contains_key(*id) {
                sink.error(
                    rel,
                    crit.name.referenced,
                    format!(
                        "criterion {:?} has no value for option `{id}`",
                        crit.name.value
                    ),
                );
            }
        }
        for key in crit.values.keys() {
            if !ids.contains(&key.as_str()) {
                sink.error(
                    rel,
                    crit.name.referenced,
                    format!(
                        "criterion {:?} names `{key}`, which is not an option",
                        crit.name.value
                    ),
                );
            }
        }
    }
    for s in &c.scenarios {
        if !ids.contains(&s.verdict.value.as_str()) {
            sink.error(
                rel,
                s.verdict.referenced,
                format!(
                    "verdict `{}` is not one of the options ({})",
                    s.verdict.value,
                    ids.join(", ")
                ),
            );
        }
    }
}

fn check_activity(sink: &mut Sink, rel: &str, a: &Activity) {
    if a.phases.is_empty() {
        sink.file_error(rel, "an activity needs at least one phase");
    }
    for p in &a.phases {
        if p.minutes.value == 0 {
            sink.error(
                rel,
                p.minutes.referenced,
                format!("phase {:?} must last at least a minute", p.title),
            );
        }
    }
}

fn check_lab(sink: &mut Sink, content: &Content, id: &str, def: &LabDef) {
    let rel = UnitKind::Lab.path(id);
    if !content.is_dir(&format!("labs/{id}/solution")) {
        sink.file_error(
            &rel,
            format!("lab `{id}` has no solution/ folder: every lab ships a reference solution"),
        );
    }
    if !content.is_dir(&format!("labs/{id}/starter")) {
        sink.file_error(&rel, format!("lab `{id}` has no starter/ folder"));
    }
    // The lab model keeps step ids as plain strings; read them again with
    // their places so each message points at its line.
    #[derive(serde::Deserialize)]
    struct StepAt {
        id: Spanned<String>,
    }
    #[derive(serde::Deserialize)]
    struct StepsAt {
        #[serde(default)]
        steps: Vec<StepAt>,
    }
    let at: Vec<Spanned<String>> = content
        .read_string(&rel)
        .ok()
        .and_then(|t| serde_saphyr::from_str::<StepsAt>(&t).ok())
        .map(|s| s.steps.into_iter().map(|s| s.id).collect())
        .unwrap_or_default();
    let mut ids = HashSet::new();
    for (i, s) in def.steps.iter().enumerate() {
        let id = at.get(i).cloned().unwrap_or_else(|| Spanned {
            value: s.id.clone(),
            referenced: Location::UNKNOWN,
            defined: Location::UNKNOWN,
        });
        check_id(sink, &rel, &id);
        if !ids.insert(s.id.as_str()) {
            sink.error(
                &rel,
                id.referenced,
                format!("step id `{}` is used twice", s.id),
            );
        }
        if s.checks.is_empty() {
            sink.error(
                &rel,
                id.referenced,
                format!("step `{}` has no checks", s.id),
            );
        }
        for m in hadoop_problems(def, s) {
            sink.error(&rel, id.referenced, format!("step `{}`: {m}", s.id));
        }
        let stops_nodes =
            (s.checks.iter()).any(|c| matches!(c, crate::checks::CheckSpec::CqlNodeFailure(_)));
        if stops_nodes && s.nodes.unwrap_or(1) < 3 {
            sink.error(
                &rel,
                id.referenced,
                format!(
                    "step `{}` checks a node failure, which needs `nodes: 3` (it has {})",
                    s.id,
                    s.nodes.unwrap_or(1)
                ),
            );
        }
    }
}

/// What is wrong with a step's Hadoop checks: a path that is not
/// `hdfs:///…`, a lab that does not start `hadoop`, an answer about a fact
/// `hdfs_blocks` does not know.
fn hadoop_problems(def: &LabDef, s: &crate::lab::Step) -> Vec<String> {
    use crate::checks::CheckSpec;
    let mut out = Vec::new();
    for c in &s.checks {
        for p in c.hdfs_paths() {
            let path = p
                .strip_prefix("hdfs://")
                .and_then(|r| r.find('/').map(|i| &r[i..]));
            if path.is_none_or(|p| p.len() < 2) {
                out.push(format!(
                    "`{p}` is not an hdfs:// path (hdfs:///folder/file)"
                ));
            }
        }
        if !c.hdfs_paths().is_empty() && !def.services.contains(&ServiceKind::Hadoop) {
            out.push(format!(
                "{} needs `services: [hadoop]` in the lab",
                c.kind()
            ));
        }
        if let CheckSpec::HadoopCounters(k) = c {
            let names = (k.at_least.keys().chain(k.less_than.keys()))
                .chain(k.less_than.values())
                .chain(k.answers.iter().flat_map(|a| a.keys.values()));
            let known = crate::checks::hadoop::COUNTERS;
            for name in names.filter(|n| !known.contains(&n.as_str())) {
                out.push(format!("hadoop_counters knows no counter `{name}`"));
            }
        }
        if let (CheckSpec::HdfsBlocks(_), Some(a)) = (c, c.hadoop_answers()) {
            let facts = crate::checks::hadoop::BLOCK_FACTS;
            for fact in a.keys.values().filter(|f| !facts.contains(&f.as_str())) {
                out.push(format!(
                    "hdfs_blocks knows no `{fact}` (only {})",
                    facts.join(", ")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        let def: LabDef = serde_saphyr::from_str(yaml).unwrap();
        hadoop_problems(&def, &def.steps[0])
    }

    #[test]
    fn hadoop_checks_want_hdfs_paths_the_service_and_known_names() {
        let ok = "title: t\nservices: [hadoop]\nsteps:\n  - id: a\n    title: a\n    instructions: a\n    checks:\n      - hdfs_blocks: { path: hdfs:///lab/f, answers: { path: a.yaml, keys: { n: blocks } } }\n";
        assert!(problems(ok).is_empty(), "{:?}", problems(ok));
        let bad = "title: t\nsteps:\n  - id: a\n    title: a\n    instructions: a\n    checks:\n      - hdfs_output: { path: out/wc, expect: wordcount, input: corpus }\n      - hadoop_counters: { output: hdfs:///lab/wc, at_least: { MAP_INPUT_RECORD: 1 } }\n      - hdfs_blocks: { path: hdfs:///lab/f, answers: { path: a.yaml, keys: { n: block } } }\n";
        let p = problems(bad).join("\n");
        assert!(p.contains("`out/wc` is not an hdfs:// path"), "{p}");
        assert!(p.contains("hdfs_output needs `services: [hadoop]`"), "{p}");
        assert!(p.contains("no counter `MAP_INPUT_RECORD`"), "{p}");
        assert!(p.contains("hdfs_blocks knows no `block`"), "{p}");
    }
}
