//! Check kinds that need no service: files, command output, answer files.

use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_content::checks::generic::*;
use std::path::Path;

#[async_trait]
impl Check for FileExists {
    fn describe(&self) -> String {
        format!("{} exists", self.path)
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let p = ctx.ws(&self.path);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() && m.len() > 0 => Outcome::pass(format!("{} is there", self.path)),
            Ok(m) if m.is_file() => {
                Outcome::fail(format!("{} is empty", self.path)).in_file(&self.path)
            }
            Ok(_) => Outcome::fail(format!("{} is not a file", self.path)).in_file(&self.path),
            Err(_) => Outcome::fail(format!("{} is missing from the workspace", self.path)),
        }
    }
}

/// Parse a text in a format; the error carries `line:col` when the parser
/// gives one.
pub fn parse_text(text: &str, format: Format) -> Result<serde_json::Value, String> {
    match format {
        Format::Json => {
            serde_json::from_str(text).map_err(|e| format!("{}:{}: {e}", e.line(), e.column()))
        }
        Format::Jsonl => {
            let mut all = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(line)
                    .map_err(|e| format!("{}:{}: {e}", i + 1, e.column()))?;
                all.push(v);
            }
            Ok(serde_json::Value::Array(all))
        }
        Format::Yaml => {
            serde_saphyr::from_str::<serde_json::Value>(text).map_err(|e| match e.location() {
                Some(l) => format!("{}:{}: {e}", l.line(), l.column()),
                None => e.to_string(),
            })
        }
    }
}

/// Read and parse a workspace file; the error is a ready failure outcome.
pub(crate) fn read_parsed(
    ctx: &CheckContext,
    rel: &str,
    format: Format,
) -> Result<serde_json::Value, Outcome> {
    let p = ctx.ws(rel);
    let text = std::fs::read_to_string(&p)
        .map_err(|e| Outcome::fail(format!("cannot read {rel}: {}", io_reason(&e))).in_file(rel))?;
    parse_text(&text, format).map_err(|e| Outcome::fail(format!("{rel}:{e}")).in_file(rel))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "the file does not exist".into(),
        _ => e.to_string(),
    }
}

#[async_trait]
impl Check for FileParses {
    fn describe(&self) -> String {
        format!("{} is valid {:?}", self.path, self.format).to_lowercase()
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        match read_parsed(ctx, &self.path, self.format) {
            Ok(_) => Outcome::pass(format!("{} parses", self.path)),
            Err(o) => o,
        }
    }
}

#[async_trait]
impl Check for CommandOutputCheck {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.exit_code {
            parts.push(format!("exits with {c}"));
        }
        if let Some(s) = &self.contains {
            parts.push(format!("prints {s:?}"));
        }
        if let Some(s) = &self.matches {
            parts.push(format!("output matches /{s}/"));
        }
        format!("the step's command {}", parts.join(" and "))
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let Some(out) = &ctx.step_output else {
            return Outcome::error("this step has no command to look at (lab.yaml: add `run:`)");
        };
        if out.timed_out {
            return Outcome::fail(format!("`{}` did not finish in time", out.command));
        }
        if let Some(want) = self.exit_code
            && out.status != Some(want)
        {
            let tail = tail_lines(&out.stderr, 5);
            return Outcome::fail(format!(
                "`{}` exited with {}, expected {want}{}",
                out.command,
                out.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "a signal".into()),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("\n{tail}")
                }
            ));
        }
        let all = format!("{}{}", out.stdout, out.stderr);
        if let Some(s) = &self.contains
            && !all.contains(s.as_str())
        {
            return Outcome::fail(format!("`{}` did not print {s:?}", out.command));
        }
        if let Some(pat) = &self.matches {
            match regex::Regex::new(pat) {
                Ok(re) if re.is_match(&all) => {}
                Ok(_) => {
                    return Outcome::fail(format!(
                        "`{}` printed nothing matching /{pat}/",
                        out.command
                    ));
                }
                Err(e) => return Outcome::error(format!("lab.yaml: bad pattern /{pat}/: {e}")),
            }
        }
        Outcome::pass(format!("`{}` did what was asked", out.command))
    }
}

/// The last `n` non-empty lines of a text.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Steps of the check that need more than the trait.
trait ReadAnswer {
    fn read(&self, ctx: &CheckContext) -> Result<String, Outcome>;
}

impl ReadAnswer for Answer {
    fn read(&self, ctx: &CheckContext) -> Result<String, Outcome> {
        let p = ctx.ws(&self.path);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            Outcome::fail(format!("cannot read {}: {}", self.path, io_reason(&e)))
                .in_file(&self.path)
        })?;
        let Some(key) = &self.key else {
            return Ok(text.trim().to_string());
        };
        let fmt = if Path::new(&self.path)
            .extension()
            .is_some_and(|e| e == "json")
        {
            Format::Json
        } else {
            Format::Yaml
        };
        let v = parse_text(&text, fmt)
            .map_err(|e| Outcome::fail(format!("{}:{e}", self.path)).in_file(&self.path))?;
        let got = v.get(key).ok_or_else(|| {
            Outcome::fail(format!("{} has no `{key}:` answer", self.path)).in_file(&self.path)
        })?;
        Ok(match got {
            serde_json::Value::String(s) => s.trim().to_string(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        })
    }
}

#[async_trait]
impl Check for Answer {
    fn describe(&self) -> String {
        match &self.key {
            Some(k) => format!("the answer `{k}` in {}", self.path),
            None => format!("the answer in {}", self.path),
        }
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let got = match self.read(ctx) {
            Ok(g) => g,
            Err(o) => return o,
        };
        if got.is_empty() || got.contains("TODO") {
            return Outcome::fail(format!("{} is not answered yet", self.describe()))
                .in_file(&self.path);
        }
        if let Some(want) = self.number {
            let tol = self.tolerance.unwrap_or(0.0);
            return match got.parse::<f64>() {
                Ok(n) if (n - want).abs() <= tol => Outcome::pass(format!("{got} is right")),
                Ok(n) => Outcome::fail(format!("{} is {n}, which is not right", self.describe()))
                    .in_file(&self.path),
                Err(_) => Outcome::fail(format!(
                    "{} should be a number, got {got:?}",
                    self.describe()
                ))
                .in_file(&self.path),
            };
        }
        if self.one_of.iter().any(|w| w.eq_ignore_ascii_case(&got)) {
            Outcome::pass(format!("{got} is right"))
        } else {
            Outcome::fail(format!(
                "{} is {got:?}, which is not right",
                self.describe()
            ))
            .in_file(&self.path)
        }
    }
}
