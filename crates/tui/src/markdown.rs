//! Markdown (CommonMark + GFM tables) to ratatui lines, wrapped to a width.
//!
//! Everything is laid out here, not by the `Paragraph` widget, so a screen
//! knows exactly how many lines a text takes (for scrolling and "reached the
//! end") and tables and code blocks keep their shape.

use super::theme::Theme;
use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Render Markdown into lines no wider than `width` columns; long lines of
/// code wrap.
pub(crate) fn render(md: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    lay_out(md, width, theme, None).lines
}

/// Markdown laid out with code blocks that keep their lines.
pub(crate) struct Laid {
    pub(crate) lines: Vec<Line<'static>>,
    /// How many columns the widest code block has beyond the view (0: all
    /// fit); the most a reader can usefully scroll sideways.
    pub(crate) overflow: usize,
}

/// Render Markdown like [`render`], but lines of code are clipped instead of
/// wrapped: shifted `shift` columns to the left, with `‹` and `›` at the
/// edges where a line goes on out of view.
pub(crate) fn render_clipped(md: &str, width: u16, theme: &Theme, shift: usize) -> Laid {
    lay_out(md, width, theme, Some(shift))
}

fn lay_out(md: &str, width: u16, theme: &Theme, code_shift: Option<usize>) -> Laid {
    let mut r = Renderer::new(width.max(10) as usize, *theme);
    r.code_shift = code_shift;
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for ev in Parser::new_ext(md, opts) {
        r.event(ev);
    }
    let overflow = r.overflow;
    Laid {
        lines: r.finish(),
        overflow,
    }
}

/// The display width of a string (terminal columns).
pub(crate) fn str_width(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    str_width(c.encode_utf8(&mut b))
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// A word to wrap: styled fragments with no break between them.
#[derive(Debug, Default)]
struct Word {
    frags: Vec<(String, Style)>,
    width: usize,
    space_before: bool,
}

/// Split styled text into words (whitespace is a break opportunity).
fn words(spans: &[Span<'static>]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut cur = Word::default();
    let mut pending_space = false;
    for span in spans {
        for c in span.content.chars() {
            if c.is_whitespace() {
                if !cur.frags.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                pending_space = true;
                continue;
            }
            if cur.frags.is_empty() {
                cur.space_before = pending_space;
                pending_space = false;
            }
            match cur.frags.last_mut() {
                Some((s, st)) if *st == span.style => s.push(c),
                _ => cur.frags.push((c.to_string(), span.style)),
            }
            cur.width += char_width(c);
        }
    }
    if !cur.frags.is_empty() {
        out.push(cur);
    }
    out
}

fn spans_width(spans: &[Span<'static>]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Greedy word wrap of styled text. The first line starts with
/// `first_prefix`, the others with `rest_prefix`. Words longer than a line
/// are split.
pub(crate) fn wrap_spans(
    spans: &[Span<'static>],
    width: usize,
    first_prefix: Vec<Span<'static>>,
    rest_prefix: Vec<Span<'static>>,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut line: Vec<Span<'static>> = first_prefix;
    let mut w = spans_width(&line);
    let mut has_words = false;
    let rest_w = spans_width(&rest_prefix);
    for word in words(spans) {
        let space = usize::from(has_words && word.space_before);
        if has_words && w + space + word.width > width {
            lines.push(Line::from(std::mem::replace(
                &mut line,
                rest_prefix.clone(),
            )));
            w = rest_w;
            has_words = false;
        } else if space == 1 {
            line.push(Span::raw(" "));
            w += 1;
        }
        if w + word.width <= width || width <= w {
            for (s, st) in word.frags {
                line.push(Span::styled(s, st));
            }
            w += word.width;
            has_words = true;
            continue;
        }
        // Too long for any line: split it character by character.
        for (s, st) in word.frags {
            let mut chunk = String::new();
            for c in s.chars() {
                let cw = char_width(c);
                if w + cw > width && (has_words || !chunk.is_empty()) {
                    if !chunk.is_empty() {
                        line.push(Span::styled(std::mem::take(&mut chunk), st));
                    }
                    lines.push(Line::from(std::mem::replace(
                        &mut line,
                        rest_prefix.clone(),
                    )));
                    w = rest_w;
                    has_words = false;
                }
                chunk.push(c);
                w += cw;
            }
            if !chunk.is_empty() {
                line.push(Span::styled(chunk, st));
                has_words = true;
            }
        }
    }
    lines.push(Line::from(line));
    lines
}

/// Wrap plain text to a width (no prefix); always at least one line.
pub(crate) fn wrap_plain(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        out.extend(wrap_spans(
            &[Span::styled(para.to_string(), style)],
            width,
            vec![],
            vec![],
        ));
    }
    out
}

fn pad(s: &mut Vec<Span<'static>>, used: usize, width: usize, align: Align) -> Vec<Span<'static>> {
    let gap = width.saturating_sub(used);
    let (l, r) = match align {
        Align::Left => (0, gap),
        Align::Right => (gap, 0),
        Align::Center => (gap / 2, gap - gap / 2),
    };
    let mut out = Vec::with_capacity(s.len() + 2);
    if l > 0 {
        out.push(Span::raw(" ".repeat(l)));
    }
    out.append(s);
    if r > 0 {
        out.push(Span::raw(" ".repeat(r)));
    }
    out
}

/// Column widths that fit `avail` columns: every column gets its natural
/// width when all fit, else a max-min fair share (narrow columns keep their
/// width, wide ones share the rest).
fn fit_columns(natural: &[usize], avail: usize) -> Vec<usize> {
    let n = natural.len();
    if n == 0 {
        return vec![];
    }
    if natural.iter().sum::<usize>() <= avail {
        return natural.to_vec();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| natural[i]);
    let mut widths = vec![0; n];
    let mut remaining = avail;
    for (k, &i) in order.iter().enumerate() {
        let share = remaining / (n - k);
        let w = natural[i].min(share).max(3);
        widths[i] = w;
        remaining = remaining.saturating_sub(w);
    }
    widths
}

/// A table laid out as aligned columns separated by `│`, cells wrapped to
/// fit `width`. `rows[0]` is the header when `header` is true; `row_rules`
/// draws a thin rule between body rows (useful when cells wrap).
pub(crate) fn table_lines(
    rows: &[Vec<String>],
    aligns: &[Align],
    header: bool,
    row_rules: bool,
    width: usize,
    theme: &Theme,
    indent: &[Span<'static>],
) -> Vec<Line<'static>> {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if ncols == 0 {
        return vec![];
    }
    let indent_w = spans_width(indent);
    let sep_w = 3 * (ncols - 1);
    let avail = width.saturating_sub(indent_w + sep_w + 1).max(ncols * 3);
    let mut natural = vec![1usize; ncols];
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            natural[c] = natural[c].max(str_width(cell.trim()));
        }
    }
    let widths = fit_columns(&natural, avail);
    let sep = Span::styled(" │ ", theme.border());
    let mut out = Vec::new();
    for (ri, row) in rows.iter().enumerate() {
        let is_header = header && ri == 0;
        if row_rules && ri > usize::from(header) {
            let mut spans: Vec<Span<'static>> = indent.to_vec();
            let rule: Vec<String> = widths.iter().map(|w| "╌".repeat(*w)).collect();
            spans.push(Span::styled(
                format!("╌{}", rule.join("╌┼╌")),
                theme.border(),
            ));
            out.push(Line::from(spans));
        }
        let style = if is_header {
            theme.strong()
        } else {
            theme.plain()
        };
        let cells: Vec<Vec<Line<'static>>> = (0..ncols)
            .map(|c| {
                let text = row.get(c).map(|s| s.trim()).unwrap_or("");
                wrap_plain(text, widths[c], style)
            })
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for li in 0..height {
            let mut spans: Vec<Span<'static>> = indent.to_vec();
            spans.push(Span::raw(" "));
            for c in 0..ncols {
                if c > 0 {
                    spans.push(sep.clone());
                }
                let mut cell: Vec<Span<'static>> = cells[c]
                    .get(li)
                    .map(|l| l.spans.clone())
                    .unwrap_or_default();
                let used = spans_width(&cell);
                let align = if is_header {
                    Align::Left
                } else {
                    aligns.get(c).copied().unwrap_or(Align::Left)
                };
                spans.extend(pad(&mut cell, used, widths[c], align));
            }
            // No trailing blanks: snapshots and copy-paste stay clean.
            while spans
                .last()
                .is_some_and(|s| s.content.trim().is_empty() && s.content != " │ ")
            {
                spans.pop();
            }
            out.push(Line::from(spans));
        }
        if is_header {
            let mut spans: Vec<Span<'static>> = indent.to_vec();
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            spans.push(Span::styled(
                format!("─{}", rule.join("─┼─")),
                theme.border(),
            ));
            out.push(Line::from(spans));
        }
    }
    out
}

struct ListCtx {
    /// Next number for an ordered list.
    next: Option<u64>,
    /// Width of this level's item marker ("• " or "12. ").
    marker_width: usize,
}

struct TableBuf {
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
    has_header: bool,
}

struct Renderer {
    width: usize,
    theme: Theme,
    lines: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    lists: Vec<ListCtx>,
    /// The marker of an item whose first line has not been written yet.
    pending_marker: Option<String>,
    quote_depth: usize,
    code: Option<(String, String)>,
    table: Option<TableBuf>,
    links: Vec<String>,
    /// `Some(columns)`: lines of code are clipped, shifted this far left;
    /// `None`: they wrap.
    code_shift: Option<usize>,
    /// The widest code block's columns beyond the view.
    overflow: usize,
}

impl Renderer {
    fn new(width: usize, theme: Theme) -> Renderer {
        Renderer {
            width,
            theme,
            lines: Vec::new(),
            spans: Vec::new(),
            styles: Vec::new(),
            lists: Vec::new(),
            pending_marker: None,
            quote_depth: 0,
            code: None,
            table: None,
            links: Vec::new(),
            code_shift: None,
            overflow: 0,
        }
    }

    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(Style::new(), |acc, s| acc.patch(*s))
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| l.width() > 0) {
            self.lines.push(Line::default());
        }
    }

    /// The quote bars and list indentation in front of every line.
    fn base_prefix(&self) -> Vec<Span<'static>> {
        let mut p = Vec::new();
        if self.quote_depth > 0 {
            p.push(Span::styled(
                "│ ".repeat(self.quote_depth),
                self.theme.quote(),
            ));
        }
        if !self.lists.is_empty() {
            let levels = self.lists.len();
            let outer: usize = self.lists[..levels - 1]
                .iter()
                .map(|l| l.marker_width)
                .sum();
            p.push(Span::raw(" ".repeat(2 + outer)));
        }
        p
    }

    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let base = self.base_prefix();
        let mut first = base.clone();
        let mut rest = base;
        if let Some(m) = self.pending_marker.take() {
            let w = str_width(&m);
            first.push(Span::styled(m, self.theme.accent()));
            rest.push(Span::raw(" ".repeat(w)));
        } else if let Some(l) = self.lists.last() {
            first.push(Span::raw(" ".repeat(l.marker_width)));
            rest.push(Span::raw(" ".repeat(l.marker_width)));
        }
        (first, rest)
    }

    /// Write the pending inline text as wrapped lines.
    fn flush(&mut self) {
        if self.spans.is_empty() && self.pending_marker.is_none() {
            return;
        }
        let spans = std::mem::take(&mut self.spans);
        let (first, rest) = self.prefixes();
        let lines = wrap_spans(&spans, self.width, first, rest);
        self.lines.extend(lines);
    }

    fn push_text(&mut self, text: &str, style: Style) {
        if let Some(t) = &mut self.table {
            t.cell.push_str(text);
            return;
        }
        if let Some((_, buf)) = &mut self.code {
            buf.push_str(text);
            return;
        }
        self.spans.push(Span::styled(text.to_string(), style));
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                let st = self.style();
                self.push_text(&t, st);
            }
            Event::Code(t) => {
                let st = self.style().patch(self.theme.code());
                self.push_text(&t, st);
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                let st = self.style().patch(self.theme.code());
                self.push_text(&t, st);
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                let st = self.theme.dim();
                self.push_text(&t, st);
            }
            Event::FootnoteReference(t) => {
                let st = self.style();
                self.push_text(&format!("[{t}]"), st);
            }
            Event::SoftBreak => {
                let st = self.style();
                self.push_text(" ", st);
            }
            Event::HardBreak => {
                if let Some(t) = &mut self.table {
                    t.cell.push(' ');
                } else {
                    self.flush();
                }
            }
            Event::Rule => {
                self.flush();
                self.blank();
                let mut p = self.base_prefix();
                let w = self.width.saturating_sub(spans_width(&p));
                p.push(Span::styled("─".repeat(w), self.theme.border()));
                self.lines.push(Line::from(p));
                self.lines.push(Line::default());
            }
            Event::TaskListMarker(done) => {
                let st = self.style();
                self.push_text(if done { "[x] " } else { "[ ] " }, st);
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.flush();
                self.blank();
                let n = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    _ => 3,
                };
                self.styles.push(self.theme.heading(n));
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.blank();
                self.quote_depth += 1;
                self.styles.push(self.theme.quote());
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                if self.lists.is_empty() {
                    self.blank();
                }
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => {
                        l.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::HtmlBlock | Tag::MetadataBlock(_) => {}
            Tag::List(start) => {
                self.flush();
                if self.lists.is_empty() {
                    self.blank();
                }
                self.lists.push(ListCtx {
                    next: start,
                    marker_width: 2,
                });
            }
            Tag::Item => {
                self.flush();
                let depth = self.lists.len();
                let Some(l) = self.lists.last_mut() else {
                    return;
                };
                let marker = match &mut l.next {
                    Some(n) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    None => match depth {
                        1 => "• ".to_string(),
                        2 => "◦ ".to_string(),
                        _ => "▪ ".to_string(),
                    },
                };
                l.marker_width = str_width(&marker);
                self.pending_marker = Some(marker);
            }
            Tag::FootnoteDefinition(name) => {
                self.flush();
                let st = self.theme.dim();
                self.push_text(&format!("[{name}]: "), st);
            }
            Tag::DefinitionList | Tag::DefinitionListTitle | Tag::DefinitionListDefinition => {
                self.flush();
            }
            Tag::Table(aligns) => {
                self.flush();
                self.blank();
                self.table = Some(TableBuf {
                    aligns: aligns
                        .iter()
                        .map(|a| match a {
                            Alignment::Right => Align::Right,
                            Alignment::Center => Align::Center,
                            _ => Align::Left,
                        })
                        .collect(),
                    rows: Vec::new(),
                    row: Vec::new(),
                    cell: String::new(),
                    has_header: false,
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.row.clear();
                }
            }
            Tag::TableCell => {
                if let Some(t) = &mut self.table {
                    t.cell.clear();
                }
            }
            Tag::Emphasis => self.styles.push(self.theme.emphasis()),
            Tag::Strong => self.styles.push(self.theme.strong()),
            Tag::Strikethrough => self
                .styles
                .push(Style::new().add_modifier(ratatui::style::Modifier::CROSSED_OUT)),
            Tag::Superscript | Tag::Subscript => self.styles.push(Style::new()),
            Tag::Link { dest_url, .. } => {
                self.styles.push(self.theme.link());
                self.links.push(dest_url.to_string());
            }
            Tag::Image { dest_url, .. } => {
                self.styles.push(self.theme.dim());
                self.links.push(dest_url.to_string());
                let st = self.style();
                self.push_text("[image: ", st);
            }
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                if self.lists.is_empty() {
                    self.blank();
                }
            }
            TagEnd::Heading(_) => {
                self.styles.pop();
                self.flush();
                self.lines.push(Line::default());
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.styles.pop();
                self.quote_depth = self.quote_depth.saturating_sub(1);
                self.blank();
            }
            TagEnd::CodeBlock => {
                if let Some((lang, text)) = self.code.take() {
                    self.code_box(&lang, &text);
                }
                if self.lists.is_empty() {
                    self.blank();
                }
            }
            TagEnd::HtmlBlock | TagEnd::MetadataBlock(_) => self.flush(),
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank();
                }
            }
            TagEnd::Item => self.flush(),
            TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition => {
                self.flush();
                self.blank();
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    let indent = self.base_prefix();
                    let lines = table_lines(
                        &t.rows,
                        &t.aligns,
                        t.has_header,
                        false,
                        self.width,
                        &self.theme,
                        &indent,
                    );
                    self.lines.extend(lines);
                }
                self.blank();
            }
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                    t.has_header = true;
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell);
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some(url) = self.links.pop()
                    && !url.is_empty()
                    && !url.starts_with('#')
                {
                    let st = self.theme.dim();
                    self.push_text(&format!(" ({url})"), st);
                }
            }
            TagEnd::Image => {
                let st = self.style();
                self.push_text("]", st);
                self.styles.pop();
                self.links.pop();
            }
        }
    }

    /// A code block in a light box, long lines wrapped or clipped.
    fn code_box(&mut self, lang: &str, text: &str) {
        let base = self.base_prefix();
        let mut base = base;
        if let Some(l) = self.lists.last() {
            base.push(Span::raw(" ".repeat(l.marker_width)));
        }
        self.pending_marker = None;
        let base_w = spans_width(&base);
        let inner_max = self.width.saturating_sub(base_w + 4).max(4);
        let text = text.replace('\t', "    ");
        let code_lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
        let longest = code_lines.iter().map(|l| str_width(l)).max().unwrap_or(0);
        let label_w = if lang.is_empty() {
            0
        } else {
            str_width(lang) + 3
        };
        let inner = longest.max(label_w).clamp(4, inner_max);
        let over = longest.saturating_sub(inner);
        self.overflow = self.overflow.max(over);
        let border = self.theme.border();
        let code = self.theme.code_block();
        let mut top = base.clone();
        if lang.is_empty() {
            top.push(Span::styled(format!("┌{}", "─".repeat(inner + 2)), border));
        } else {
            top.push(Span::styled("┌─ ", border));
            top.push(Span::styled(lang.to_string(), self.theme.dim()));
            top.push(Span::styled(
                format!(" {}", "─".repeat((inner + 2).saturating_sub(label_w))),
                border,
            ));
        }
        self.lines.push(Line::from(top));
        for l in code_lines {
            let mut first = base.clone();
            first.push(Span::styled("│ ", border));
            let rest = first.clone();
            let wrapped = match self.code_shift {
                _ if l.is_empty() => vec![Line::from(first)],
                Some(shift) => {
                    let mut line = first;
                    line.push(Span::styled(clip(l, shift.min(over), inner), code));
                    vec![Line::from(line)]
                }
                None => hard_wrap(l, inner, code, first, rest),
            };
            self.lines.extend(wrapped);
        }
        let mut bottom = base;
        bottom.push(Span::styled(format!("└{}", "─".repeat(inner + 2)), border));
        self.lines.push(Line::from(bottom));
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.flush();
        while self.lines.last().is_some_and(|l| l.width() == 0) {
            self.lines.pop();
        }
        self.lines
    }
}

/// The `width` columns of a line of code from column `shift` on, with `‹`
/// in the first column when text is hidden to the left and `›` in the last
/// when the line goes on to the right.
fn clip(text: &str, shift: usize, width: usize) -> String {
    let mut out = String::new();
    let (mut col, mut out_w) = (0, 0);
    let mut hidden_left = false;
    for c in text.chars() {
        let cw = char_width(c);
        if col < shift {
            hidden_left |= !c.is_whitespace();
            col += cw;
            // A wide character cut by the edge leaves a blank.
            out_w = col.saturating_sub(shift);
            out.extend(std::iter::repeat_n(' ', out_w));
            continue;
        }
        if out_w + cw > width {
            break;
        }
        out.push(c);
        out_w += cw;
        col += cw;
    }
    let mut cells: Vec<char> = out.chars().collect();
    if str_width(text) > shift + width {
        // Drop characters until the marker fits in the last column.
        while cells.iter().map(|&c| char_width(c)).sum::<usize>() > width - 1 {
            cells.pop();
        }
        while cells.iter().map(|&c| char_width(c)).sum::<usize>() < width - 1 {
            cells.push(' ');
        }
        cells.push('›');
    }
    if hidden_left && let Some(first) = cells.first_mut() {
        let blank = char_width(*first) > 1;
        *first = '‹';
        if blank {
            cells.insert(1, ' ');
        }
    }
    cells.into_iter().collect()
}

/// Split a line of code at exactly `width` columns (code keeps its spaces).
fn hard_wrap(
    text: &str,
    width: usize,
    style: Style,
    first: Vec<Span<'static>>,
    rest: Vec<Span<'static>>,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut line = first;
    let mut chunk = String::new();
    let mut w = 0;
    for c in text.chars() {
        let cw = char_width(c);
        if w + cw > width && !chunk.is_empty() {
            line.push(Span::styled(std::mem::take(&mut chunk), style));
            out.push(Line::from(std::mem::replace(&mut line, rest.clone())));
            w = 0;
        }
        chunk.push(c);
        w += cw;
    }
    line.push(Span::styled(chunk, style));
    out.push(Line::from(line));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn wraps_words_and_keeps_styled_fragments_together() {
        let lines = render("one **two**, three four five six", 12, &Theme::monochrome());
        assert_eq!(text(&lines), vec!["one two,", "three four", "five six"]);
    }

    #[test]
    fn nested_lists_indent_and_number() {
        let md = "1. first\n   - inner\n2. second\n";
        let lines = render(md, 40, &Theme::monochrome());
        assert_eq!(
            text(&lines),
            vec!["  1. first", "     ◦ inner", "  2. second"]
        );
    }

    #[test]
    fn tables_align_and_wrap_to_width() {
        let md = "| a | b |\n|---|--:|\n| long cell text here | 7 |\n";
        let lines = render(md, 16, &Theme::monochrome());
        let t = text(&lines);
        assert!(t.iter().all(|l| str_width(l) <= 16), "{t:?}");
        assert!(t[1].starts_with("─"), "{t:?}");
        assert!(t.iter().any(|l| l.ends_with("│   7")), "{t:?}");
    }

    #[test]
    fn code_blocks_are_boxed() {
        let md = "```sh\necho hi\n```\n";
        let t = text(&render(md, 40, &Theme::monochrome()));
        assert_eq!(t[0], "┌─ sh ────");
        assert_eq!(t[1], "│ echo hi");
        assert!(t[2].starts_with("└──"));
    }

    #[test]
    fn clipped_code_keeps_its_lines_and_marks_what_is_out_of_view() {
        let md = "```\nshort\n0123456789abcdefghij\n```\n";
        let laid = render_clipped(md, 14, &Theme::monochrome(), 0);
        assert_eq!(laid.overflow, 10);
        let t = text(&laid.lines);
        assert_eq!(t[1], "│ short");
        assert_eq!(t[2], "│ 012345678›");
        assert_eq!(t.len(), 4, "no line wrapped: {t:?}");
        let t = text(&render_clipped(md, 14, &Theme::monochrome(), 4).lines);
        assert_eq!(t[1], "│ ‹");
        assert_eq!(t[2], "│ ‹56789abc›");
        // Scrolled as far as the block goes, no further.
        let t = text(&render_clipped(md, 14, &Theme::monochrome(), 99).lines);
        assert_eq!(t[2], "│ ‹bcdefghij");
    }

    #[test]
    fn clipping_cuts_wide_characters_cleanly() {
        assert_eq!(clip("日本語テキスト", 1, 6), "‹本語›");
        assert_eq!(clip("日本語テキスト", 2, 6), "‹ 語 ›");
        assert_eq!(clip("日本語テキスト", 0, 5), "日本›");
        assert_eq!(str_width(&clip("日本語テキスト", 1, 6)), 6);
        assert_eq!(clip("日本語", 0, 6), "日本語");
    }

    #[test]
    fn quotes_are_barred_and_rules_span_the_width() {
        let t = text(&render(
            "> said\n> twice\n\n---\n\nafter",
            20,
            &Theme::monochrome(),
        ));
        assert_eq!(t[0], "│ said twice");
        assert!(t.contains(&"─".repeat(20)), "{t:?}");
        assert_eq!(t.last().map(String::as_str), Some("after"));
    }

    #[test]
    fn loose_list_paragraphs_keep_their_indent() {
        let md = "- first para\n\n  second para of the same item\n- next\n";
        let t = text(&render(md, 20, &Theme::monochrome()));
        assert_eq!(t[0], "  • first para");
        assert!(t.iter().any(|l| l.starts_with("    second para")), "{t:?}");
        assert!(t.iter().any(|l| l == "  • next"), "{t:?}");
    }

    #[test]
    fn a_long_word_is_split() {
        let t = text(&render("abcdefghijklmnop", 10, &Theme::monochrome()));
        assert_eq!(t, vec!["abcdefghij", "klmnop"]);
    }
}
