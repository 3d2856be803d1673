//! The post-incident review report, as Markdown or as one self-contained HTML file (inline
//! style, no scripts, no external resources), with summary, classification, timeline,
//! actions, evidence with hashes, metrics, the lessons-learned questions and action items.

use serde::Serialize;
use tocsin_store::Store;
use tocsin_store::evidence::EvidenceItem;
use tocsin_store::incidents::{Action, ActionItem, IncidentRow, Lesson};

use crate::error::Result;
use crate::metrics::{IncidentMetrics, human_duration, incident_metrics};
use crate::timeline::{TimelineEntry, timeline};

/// The questions NIST SP 800-61 Rev. 2 sets for the lessons-learned meeting (Post-Incident
/// Activity, "Lessons Learned"). The publication is a US government work.
pub const LESSONS_QUESTIONS: &[&str] = &[
    "Exactly what happened, and at what times?",
    "How well did staff and management perform in dealing with the incident? Were the documented procedures followed? Were they adequate?",
    "What information was needed sooner?",
    "Were any steps or actions taken that might have inhibited the recovery?",
    "What would the staff and management do differently the next time a similar incident occurs?",
    "How could information sharing with other organizations have been improved?",
    "What corrective actions can prevent similar incidents in the future?",
    "What precursors or indicators should be watched for in the future to detect similar incidents?",
    "What additional tools or resources are needed to detect, analyze, and mitigate future incidents?",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Html,
}

/// Everything the report shows, gathered from the store.
#[derive(Clone, Debug, Serialize)]
pub struct ReportData {
    pub incident: IncidentRow,
    pub timeline: Vec<TimelineEntry>,
    pub actions: Vec<Action>,
    pub evidence: Vec<EvidenceItem>,
    pub metrics: IncidentMetrics,
    pub lessons: Vec<Lesson>,
    pub action_items: Vec<ActionItem>,
}

pub async fn gather(store: &Store, id: i64) -> Result<ReportData> {
    Ok(ReportData {
        incident: store.incident(id).await?,
        timeline: timeline(store, id).await?,
        actions: store.actions(id).await?,
        evidence: store.evidence(id).await?,
        metrics: incident_metrics(store, id).await?,
        lessons: store.lessons(id).await?,
        action_items: store.action_items(id).await?,
    })
}

pub async fn render(store: &Store, id: i64, format: ReportFormat) -> Result<String> {
    let data = gather(store, id).await?;
    Ok(match format {
        ReportFormat::Markdown => markdown(&data),
        ReportFormat::Html => html(&data),
    })
}

/// The report's content as neutral blocks, rendered by [`markdown`] and [`html`].
enum Block {
    Heading(String),
    Paragraph(String),
    /// Header row, then rows.
    Table(Vec<String>, Vec<Vec<String>>),
    Items(Vec<String>),
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "—".to_string())
}

fn duration(seconds: Option<i64>) -> String {
    seconds.map(human_duration).unwrap_or_else(|| "—".to_string())
}

fn blocks(data: &ReportData) -> Vec<Block> {
    let i = &data.incident;
    let mut out = Vec::new();

    out.push(Block::Heading("Summary".into()));
    out.push(Block::Table(vec!["field".into(), "value".into()], vec![
        vec!["title".into(), i.title.clone()],
        vec!["state".into(), i.state.replace('_', " ")],
        vec!["origin".into(), i.origin.clone()],
        vec!["reported by".into(), opt(&i.reported_by)],
        vec!["assignee".into(), opt(&i.assignee)],
        vec!["alerts".into(), i.alert_count.to_string()],
        vec!["first event".into(), i.first_event_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "—".into())],
        vec!["identified".into(), i.identified_at.to_rfc3339()],
        vec!["last activity".into(), i.last_activity_at.to_rfc3339()],
    ]));
    if !i.description.is_empty() {
        out.push(Block::Paragraph(i.description.clone()));
    }

    out.push(Block::Heading("Classification".into()));
    let severity = match &i.severity_override_reason {
        Some(reason) => format!("{} (computed {}; overridden: {reason})", i.severity, i.computed_severity),
        None => i.severity.clone(),
    };
    out.push(Block::Table(vec!["factor".into(), "value".into()], vec![
        vec!["category".into(), opt(&i.category)],
        vec!["severity".into(), severity],
        vec!["functional impact".into(), opt(&i.functional_impact)],
        vec!["information impact".into(), opt(&i.information_impact)],
        vec!["recoverability".into(), opt(&i.recoverability)],
    ]));
    if let Some(reasons) = i.classification.pointer("/computed/reasons").and_then(|r| r.as_array()) {
        out.push(Block::Items(reasons.iter().filter_map(|r| r.as_str()).map(str::to_string).collect()));
    }

    out.push(Block::Heading("Timeline".into()));
    out.push(Block::Table(
        vec!["time".into(), "kind".into(), "by".into(), "what".into()],
        data.timeline.iter().map(|e| vec![e.at.to_rfc3339(), e.kind.name().into(), opt(&e.actor), e.summary.clone()]).collect(),
    ));

    out.push(Block::Heading("Response actions".into()));
    if data.actions.is_empty() {
        out.push(Block::Paragraph("No response actions were recorded.".into()));
    } else {
        out.push(Block::Table(
            vec!["action".into(), "target".into(), "status".into(), "requested by".into(), "finished".into(), "result".into()],
            data.actions
                .iter()
                .map(|a| {
                    vec![
                        a.kind.clone(),
                        a.target.clone(),
                        a.status.clone(),
                        a.requested_by.clone(),
                        a.finished_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "—".into()),
                        a.result.to_string(),
                    ]
                })
                .collect(),
        ));
    }

    out.push(Block::Heading("Evidence".into()));
    if data.evidence.is_empty() {
        out.push(Block::Paragraph("No evidence was stored.".into()));
    } else {
        out.push(Block::Table(
            vec!["name".into(), "SHA-256".into(), "bytes".into(), "from".into(), "collected by".into(), "collected".into()],
            data.evidence
                .iter()
                .map(|e| vec![e.name.clone(), e.sha256.clone(), e.size.to_string(), e.origin.clone(), e.collected_by.clone(), e.collected_at.to_rfc3339()])
                .collect(),
        ));
    }

    out.push(Block::Heading("Metrics".into()));
    let m = &data.metrics;
    let detect_label = if m.detect_is_log_age { "time to detect (log age: read after the fact)" } else { "time to detect" };
    let contain_label = match m.contain_basis {
        Some(basis) => format!("time to contain (until {basis})"),
        None => "time to contain".to_string(),
    };
    out.push(Block::Table(vec!["metric".into(), "value".into()], vec![
        vec![detect_label.into(), duration(m.time_to_detect)],
        vec!["time to acknowledge".into(), duration(m.time_to_acknowledge)],
        vec![contain_label, duration(m.time_to_contain)],
        vec!["time to recover".into(), duration(m.time_to_recover)],
    ]));

    out.push(Block::Heading("Lessons learned".into()));
    let mut rows: Vec<Vec<String>> = LESSONS_QUESTIONS
        .iter()
        .map(|q| {
            let answers: Vec<String> = data.lessons.iter().filter(|l| l.question == *q).map(|l| format!("{} ({})", l.answer, l.author)).collect();
            vec![q.to_string(), if answers.is_empty() { "not answered yet".into() } else { answers.join("; ") }]
        })
        .collect();
    for lesson in data.lessons.iter().filter(|l| !LESSONS_QUESTIONS.contains(&l.question.as_str())) {
        rows.push(vec![lesson.question.clone(), format!("{} ({})", lesson.answer, lesson.author)]);
    }
    out.push(Block::Table(vec!["question".into(), "answer".into()], rows));

    out.push(Block::Heading("Action items".into()));
    if data.action_items.is_empty() {
        out.push(Block::Paragraph("No action items were recorded.".into()));
    } else {
        out.push(Block::Table(
            vec!["item".into(), "owner".into(), "due".into(), "status".into()],
            data.action_items
                .iter()
                .map(|a| vec![a.title.clone(), opt(&a.owner), a.due.map(|d| d.date_naive().to_string()).unwrap_or_else(|| "—".into()), a.status.clone()])
                .collect(),
        ));
    }
    out
}

/// Escapes text for a Markdown table cell or paragraph: pipes, backslashes, HTML and line
/// breaks, so stored text cannot change the report's structure.
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

pub fn markdown(data: &ReportData) -> String {
    let mut out = format!("# Incident {}: {}\n", data.incident.id, md_escape(&data.incident.title));
    for block in blocks(data) {
        match block {
            Block::Heading(text) => out.push_str(&format!("\n## {text}\n\n")),
            Block::Paragraph(text) => out.push_str(&format!("{}\n\n", md_escape(&text))),
            Block::Items(items) => {
                for item in items {
                    out.push_str(&format!("- {}\n", md_escape(&item)));
                }
                out.push('\n');
            }
            Block::Table(header, rows) => {
                out.push_str(&format!("| {} |\n", header.iter().map(|h| md_escape(h)).collect::<Vec<_>>().join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
                for row in rows {
                    out.push_str(&format!("| {} |\n", row.iter().map(|c| md_escape(c)).collect::<Vec<_>>().join(" | ")));
                }
                out.push('\n');
            }
        }
    }
    out
}

pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1a1a1a}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f2f2f2}td{overflow-wrap:anywhere}";

pub fn html(data: &ReportData) -> String {
    let title = format!("Incident {}: {}", data.incident.id, data.incident.title);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        html_escape(&title),
        html_escape(&title)
    );
    for block in blocks(data) {
        match block {
            Block::Heading(text) => out.push_str(&format!("<h2>{}</h2>\n", html_escape(&text))),
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", html_escape(&text))),
            Block::Items(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", html_escape(&item)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(header, rows) => {
                out.push_str("<table>\n<tr>");
                for h in header {
                    out.push_str(&format!("<th>{}</th>", html_escape(&h)));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str(&format!("<td>{}</td>", html_escape(&cell)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
