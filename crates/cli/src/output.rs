//! Writing events for people and machines.
//!
//! Log content is attacker-controlled. JSON escapes control characters by itself. Text meant
//! for a terminal (tables, error messages) goes through [`sanitize`], so that a crafted log
//! line cannot move the cursor, recolour the screen or hide a line with escape sequences.

use std::borrow::Cow;
use std::io::{self, Write};

use tocsin_event::Event;

/// Writes a line to stderr like `eprintln!`, but ignores a failed write: a closed stderr pipe
/// (`tocsin hunt ... 2>&1 | head`) must end the output, not panic the run.
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use stderr_line;

/// Writes a line to stdout like `println!`, but ignores a failed write, for the short reports
/// of commands whose output may go into a pipe that closes early.
macro_rules! stdout_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use stdout_line;

/// Replaces control characters (C0, DEL, C1) other than tab and newline with visible
/// `\u{..}` escapes.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c != '\t' && c != '\n' && (c.is_control() || ('\u{80}'..='\u{9f}').contains(&c))
}

/// The columns of CSV and table output: the ECS fields that name the action, the place and the
/// actor. Each is looked up through the event's aliases, so it works for every schema.
pub const COLUMNS: &[(&str, &str)] = &[
    ("@timestamp", "time"),
    ("tocsin.schema", "schema"),
    ("host.name", "host"),
    ("event.code", "code"),
    ("event.action", "action"),
    ("event.outcome", "outcome"),
    ("user.name", "user"),
    ("source.ip", "source"),
    ("destination.ip", "destination"),
    ("process.command_line", "command line"),
    ("message", "message"),
    ("tocsin.evidence", "evidence"),
];

/// Returns the text of one column for an event.
pub fn column_text(event: &Event, name: &str) -> String {
    match name {
        "@timestamp" => event.timestamp.map(|t| t.to_string()).unwrap_or_default(),
        "tocsin.schema" => event.schema.name().to_string(),
        "tocsin.evidence" => event.evidence.to_string(),
        _ => event.get(name).map(|v| v.to_text()).unwrap_or_default(),
    }
}

pub fn write_json(out: &mut impl Write, event: &Event) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &event.to_ecs())?;
    out.write_all(b"\n")
}

pub fn csv_header(out: &mut csv::Writer<impl Write>) -> csv::Result<()> {
    out.write_record(COLUMNS.iter().map(|(name, _)| *name))
}

pub fn write_csv(out: &mut csv::Writer<impl Write>, event: &Event) -> csv::Result<()> {
    out.write_record(COLUMNS.iter().map(|(name, _)| column_text(event, name)))
}

/// Column widths of the table; the last column (evidence) is not cut.
const TABLE_WIDTHS: &[usize] = &[27, 10, 16, 6, 22, 8, 16, 15, 15, 40, 40, 0];

pub fn table_header(out: &mut impl Write) -> io::Result<()> {
    let cells: Vec<String> = COLUMNS.iter().map(|(_, title)| title.to_string()).collect();
    write_row(out, &cells)
}

pub fn write_table(out: &mut impl Write, event: &Event) -> io::Result<()> {
    let cells: Vec<String> = COLUMNS.iter().map(|(name, _)| column_text(event, name)).collect();
    write_row(out, &cells)
}

fn write_row(out: &mut impl Write, cells: &[String]) -> io::Result<()> {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(TABLE_WIDTHS) {
        let flat = cell.replace(['\n', '\r', '\t'], " ");
        let clean = sanitize(&flat);
        if *width == 0 {
            line.push_str(&clean);
            continue;
        }
        let mut shown: String = clean.chars().take(*width).collect();
        if clean.chars().count() > *width {
            shown.pop();
            shown.push('…');
        }
        line.push_str(&format!("{shown:<width$}  ", width = *width));
    }
    writeln!(out, "{}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_terminal_controls() {
        assert_eq!(sanitize("ok\x1b[2Jgone\u{9b}x"), "ok\\u{1b}[2Jgone\\u{9b}x");
        assert_eq!(sanitize("plain\ttext"), "plain\ttext");
    }
}
