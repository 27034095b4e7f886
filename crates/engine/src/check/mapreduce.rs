//! Checks for the MapReduce lab. The expected answer is computed here, in
//! Rust, from the lab's trusted data (`ctx.lab_data`), and compared with the
//! `part-*` files the learner's job wrote.

use super::generic::tail_lines;
use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_content::checks::mapreduce::*;
use datalab_mapreduce::{COUNTERS_FILE, Counters};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Key → values in output order (one value each, except for top-N).
pub(crate) type Table = BTreeMap<String, Vec<String>>;

fn words(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
}

fn files_in(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)?
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            !(n.starts_with('.') || n.starts_with('_')) && e.path().is_file()
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

fn csv_rows(path: &Path) -> std::io::Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect())
}

/// The checker's own answer.
pub fn expected(expect: Expect, input: &Path, n: usize) -> std::io::Result<Table> {
    let mut t = Table::new();
    match expect {
        Expect::Wordcount => {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for f in files_in(input)? {
                for line in std::fs::read_to_string(f)?.lines() {
                    for w in words(line) {
                        *counts.entry(w).or_default() += 1;
                    }
                }
            }
            for (w, c) in counts {
                t.insert(w, vec![c.to_string()]);
            }
        }
        Expect::InvertedIndex => {
            let mut docs: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
            for f in files_in(input)? {
                let name = f
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                for line in std::fs::read_to_string(&f)?.lines() {
                    for w in words(line) {
                        docs.entry(w).or_default().insert(name.clone());
                    }
                }
            }
            for (w, d) in docs {
                t.insert(w, vec![d.into_iter().collect::<Vec<_>>().join(",")]);
            }
        }
        Expect::Join => {
            let customers: HashMap<String, (String, String)> =
                csv_rows(&input.join("customers.csv"))?
                    .into_iter()
                    .filter(|r| r.len() == 3)
                    .map(|r| (r[0].clone(), (r[1].clone(), r[2].clone())))
                    .collect();
            for r in csv_rows(&input.join("orders.csv"))? {
                if r.len() != 3 {
                    continue;
                }
                if let Some((name, country)) = customers.get(&r[1]) {
                    t.insert(r[0].clone(), vec![format!("{name}\t{country}\t{}", r[2])]);
                }
            }
        }
        Expect::TopN => {
            let mut rev: BTreeMap<String, HashMap<String, i64>> = BTreeMap::new();
            for r in csv_rows(input)? {
                if r.len() != 5 {
                    continue;
                }
                let q: i64 = r[3].parse().unwrap_or(0);
                let p: i64 = r[4].parse().unwrap_or(0);
                *rev.entry(r[1].clone())
                    .or_default()
                    .entry(r[2].clone())
                    .or_default() += q * p;
            }
            for (region, products) in rev {
                let mut v: Vec<(String, i64)> = products.into_iter().collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                t.insert(
                    region,
                    v.into_iter()
                        .take(n)
                        .map(|(p, r)| format!("{p}\t{r}"))
                        .collect(),
                );
            }
        }
    }
    Ok(t)
}

/// The learner's output: every `part-*` file, key → values in order, and
/// which part file each key came from.
/// Key → the part files it was found in.
pub(crate) type Origins = HashMap<String, HashSet<String>>;

pub(crate) fn read_output(dir: &Path) -> Result<(Table, usize, Origins), String> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("part-"))
        .map(|e| e.path())
        .collect();
    parts.sort();
    let mut texts = Vec::new();
    for p in &parts {
        let name = p
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(p).map_err(|e| format!("{name}: {e}"))?;
        texts.push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(parse_parts(&texts))
}

/// Part files (name, text) as key → values, the number of records and
/// which part file each key came from.
pub(crate) fn parse_parts(parts: &[(String, String)]) -> (Table, usize, Origins) {
    let mut t = Table::new();
    let mut lines = 0;
    let mut origin = Origins::new();
    for (name, text) in parts {
        for line in text.lines() {
            if line.is_empty() {
                continue;
            }
            lines += 1;
            let (k, v) = line.split_once('\t').unwrap_or((line, ""));
            t.entry(k.to_string()).or_default().push(v.to_string());
            origin
                .entry(k.to_string())
                .or_default()
                .insert(name.clone());
        }
    }
    (t, lines, origin)
}

/// A job's output judged against the expected table: the pass message, or
/// the failure's. `label` names the output; `blame` ends failure messages.
pub(crate) fn judge(
    label: &str,
    want: &Table,
    (got, origin): (&Table, &Origins),
    blame: &str,
) -> Result<String, String> {
    // Every key must come from one reducer: the same key in two part
    // files means the records were not grouped by key.
    if let Some((k, files)) = origin.iter().find(|(_, f)| f.len() > 1) {
        let mut f: Vec<&str> = files.iter().map(String::as_str).collect();
        f.sort();
        return Err(format!(
            "key {k:?} is in several part files ({}): each key must be written by one reducer only; is the mapper's key the text before the first tab?{blame}",
            f.join(", "),
        ));
    }
    match compare(want, got) {
        None => Ok(format!("{label}: all {} keys are right", want.len())),
        Some(diff) => Err(format!(
            "{label}: {}. Of {} expected keys: {}{blame}",
            diff.first,
            want.len(),
            diff.counts(),
        )),
    }
}

/// "e.g. "the" → "412"": the first expected key, for an empty output.
pub(crate) fn example(want: &Table) -> String {
    want.iter()
        .next()
        .map(|(k, v)| format!(", e.g. {k:?} → {}", show(v)))
        .unwrap_or_default()
}

fn show(values: &[String]) -> String {
    let v: Vec<String> = values.iter().map(|s| format!("{s:?}")).collect();
    v.join(", ")
}

/// Steps of the check that need more than the trait.
trait Blame {
    fn blame(&self) -> String;
    fn outcome(&self, msg: String) -> Outcome;
    fn step_failed(&self, ctx: &CheckContext) -> Option<Outcome>;
    fn empty_output(&self, dir: &Path, want: &Table) -> Outcome;
}

impl Blame for MapreduceOutput {
    fn blame(&self) -> String {
        if self.files.is_empty() {
            String::new()
        } else {
            format!(" (look at {})", self.files.join(" and "))
        }
    }
    fn outcome(&self, msg: String) -> Outcome {
        let o = Outcome::fail(msg);
        match self.files.first() {
            Some(f) => o.in_file(f),
            None => o,
        }
    }

    /// A failed job leaves no new output (an old one may still be there):
    /// say the job failed instead of judging stale files.
    fn step_failed(&self, ctx: &CheckContext) -> Option<Outcome> {
        let out = ctx.step_output.as_ref()?;
        if out.timed_out {
            return Some(self.outcome(format!("`{}` did not finish in time", out.command)));
        }
        (out.status != Some(0)).then(|| {
            let tail = tail_lines(&out.stderr, 15);
            self.outcome(format!(
                "the job failed, so {} was not written:\n{tail}",
                self.output
            ))
        })
    }

    fn empty_output(&self, dir: &Path, want: &Table) -> Outcome {
        self.outcome(format!(
            "{} is empty: the job ran but wrote no records{}; expected {} keys{}{}",
            self.output,
            why_empty(dir),
            want.len(),
            example(want),
            self.blame()
        ))
    }
}

#[async_trait]
impl Check for MapreduceOutput {
    fn describe(&self) -> String {
        let what = match self.expect {
            Expect::Wordcount => "the word counts",
            Expect::InvertedIndex => "the inverted index",
            Expect::Join => "the joined orders",
            Expect::TopN => "the top products per region",
        };
        format!("{} holds {what}", self.output)
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        if let Some(o) = self.step_failed(ctx) {
            return o;
        }
        let dir = ctx.ws(&self.output);
        if !dir.join("_SUCCESS").exists() {
            return self.outcome(format!(
                "{} has no _SUCCESS file: the job has not run to the end (run the step's command)",
                self.output
            ));
        }
        let input = ctx.lab_data.join(&self.input);
        let want = match expected(self.expect, &input, self.n.unwrap_or(3)) {
            Ok(w) => w,
            Err(e) => {
                return Outcome::error(format!(
                    "cannot read the lab's data {}: {e}",
                    input.display()
                ));
            }
        };
        let (got, lines, origin) = match read_output(&dir) {
            Ok(g) => g,
            Err(e) => return self.outcome(format!("cannot read {}: {e}", self.output)),
        };
        if lines == 0 {
            return self.empty_output(&dir, &want);
        }
        match judge(&self.output, &want, (&got, &origin), &self.blame()) {
            Ok(m) => Outcome::pass(m),
            Err(m) => self.outcome(m),
        }
    }
}

/// How the output differs from what was expected: the first difference
/// in key order, and how many keys are wrong, missing or unexpected.
pub(crate) struct Diff {
    pub first: String,
    wrong: usize,
    missing: usize,
    extra: usize,
}

impl Diff {
    pub fn counts(&self) -> String {
        let mut counts = Vec::new();
        for (n, what) in [
            (self.wrong, "wrong"),
            (self.missing, "missing"),
            (self.extra, "unexpected"),
        ] {
            if n > 0 {
                counts.push(format!("{n} {what}"));
            }
        }
        counts.join(", ")
    }
}

pub(crate) fn compare(want: &Table, got: &Table) -> Option<Diff> {
    let mut d = Diff {
        first: String::new(),
        wrong: 0,
        missing: 0,
        extra: 0,
    };
    let mut first: Option<String> = None;
    for (k, w) in want {
        match got.get(k) {
            None => {
                d.missing += 1;
                first.get_or_insert_with(|| format!("key {k:?} is missing (expected {})", show(w)));
            }
            Some(g) if g != w => {
                d.wrong += 1;
                first.get_or_insert_with(|| wrong_key(k, g, w));
            }
            Some(_) => {}
        }
    }
    for (k, g) in got {
        if !want.contains_key(k) {
            d.extra += 1;
            first.get_or_insert_with(|| format!("key {k:?} should not be there (saw {})", show(g)));
        }
    }
    first.map(|f| Diff { first: f, ..d })
}

fn wrong_key(k: &str, got: &[String], want: &[String]) -> String {
    if got.len() > 1 && want.len() == 1 {
        format!(
            "key {k:?} appears {} times (saw {}), expected once: {}",
            got.len(),
            show(got),
            show(want)
        )
    } else {
        format!("key {k:?}: saw {}, expected {}", show(got), show(want))
    }
}

/// Why the job wrote no records, as the counters tell it.
fn why_empty(dir: &Path) -> String {
    let Some(c) = std::fs::read_to_string(dir.join(COUNTERS_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<Counters>(&t).ok())
    else {
        return String::new();
    };
    if c.map_output_records == 0 && c.malformed_records > 0 {
        format!(
            "; the mappers wrote {} lines without a tab: a record is key<TAB>value",
            c.malformed_records
        )
    } else if c.map_output_records == 0 {
        format!(
            "; the mappers read {} records and wrote none",
            c.map_input_records
        )
    } else {
        format!(
            "; the reducers got {} records and wrote none",
            c.reduce_input_records
        )
    }
}

fn counter(c: &serde_json::Value, name: &str) -> Result<u64, Outcome> {
    c.get(name).and_then(|v| v.as_u64()).ok_or_else(|| {
        Outcome::error(format!(
            "lab.yaml: there is no MapReduce counter named {name:?}"
        ))
    })
}

#[async_trait]
impl Check for MapreduceCounters {
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .at_least
            .iter()
            .map(|(k, v)| format!("{k} ≥ {v}"))
            .collect();
        parts.extend(self.less_than.iter().map(|(a, b)| format!("{a} < {b}")));
        format!("the counters of {}: {}", self.output, parts.join(", "))
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let fail = |m: String| {
            let m = match &self.advice {
                Some(a) => format!("{m}. {a}"),
                None => m,
            };
            match &self.file {
                Some(f) => Outcome::fail(m).in_file(f),
                None => Outcome::fail(m),
            }
        };
        let path = ctx.ws(&self.output).join(COUNTERS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) => {
                return fail(format!(
                    "{}/{COUNTERS_FILE} is missing: the job has not run to the end",
                    self.output
                ));
            }
        };
        let c: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return fail(format!("{}/{COUNTERS_FILE}: {e}", self.output)),
        };
        // Make sure the names are real counters (a typo in lab.yaml is not
        // the learner's fault).
        let known = serde_json::to_value(Counters::default()).unwrap_or_default();
        for name in self
            .at_least
            .keys()
            .chain(self.less_than.keys())
            .chain(self.less_than.values())
        {
            if let Err(o) = counter(&known, name) {
                return o;
            }
        }
        let mut seen = Vec::new();
        for (name, min) in &self.at_least {
            let v = counter(&c, name).unwrap_or(0);
            if v < *min {
                return fail(format!("{name} is {v}, expected at least {min}"));
            }
            seen.push(format!("{name} = {v}"));
        }
        for (a, b) in &self.less_than {
            let (va, vb) = (counter(&c, a).unwrap_or(0), counter(&c, b).unwrap_or(0));
            if va >= vb {
                return fail(format!("{a} is {va}, which is not less than {b} ({vb})"));
            }
            seen.push(format!("{a} = {va} < {b} = {vb}"));
        }
        Outcome::pass(seen.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercase_letter_runs() {
        let w: Vec<String> = words("MapReduce's map, 2 maps!").collect();
        assert_eq!(w, ["mapreduce", "s", "map", "maps"]);
    }
}
