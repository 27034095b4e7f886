//! Results as text: a table of strings and its plain-text rendering.

/// A result as text: column headers, rows of cells (same length as the
/// headers) and a one-line summary ("3 documents").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub summary: String,
}

/// `n word(s)`.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// At most `max` characters, the last one `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A plain text table (`a | b` over `--+--`), cells as given.
pub fn text_table(cols: &[String], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = cols.iter().map(|c| c.chars().count()).collect();
    for r in rows {
        for (i, v) in r.iter().enumerate() {
            w[i] = w[i].max(v.chars().count());
        }
    }
    let line = |vals: &[String]| {
        vals.iter()
            .enumerate()
            .map(|(i, v)| format!("{v:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = line(cols) + "\n";
    out += &w
        .iter()
        .map(|n| "-".repeat(*n))
        .collect::<Vec<_>>()
        .join("-+-");
    out.push('\n');
    for r in rows {
        out += &line(r);
        out.push('\n');
    }
    out
}
