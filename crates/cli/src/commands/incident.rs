//! `tocsin incident`: the incident queue from the command line.
//!
//! Every change runs as the acting user (`--as`, `TOCSIN_USER`, the configuration's `user`,
//! else the OS user), whose roles come from the store. Those checks catch mistakes; anyone
//! who can write the store file (or the PostgreSQL database) can change anything.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use tocsin_incident::classify::{ClassifyRequest, classify_incident};
use tocsin_incident::grouping::{ManualReport, open_manual};
use tocsin_incident::lifecycle::{Actor, Role, State, move_incident};
use tocsin_incident::policy::Severity;
use tocsin_incident::{metrics, report, timeline};
use tocsin_store::incidents::{IncidentFilter, IncidentRow};
use tocsin_store::{Entity, Store};

use crate::commands::store_args::{StoreArgs, StoreConfig, current_user, open_existing_store, open_store, runtime};
use crate::exit::Status;
use crate::output::sanitize;

#[derive(Debug, Args)]
pub struct IncidentArgs {
    #[command(subcommand)]
    pub command: IncidentCommand,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    Md,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// List incidents, most recently active first. Default: the open ones.
    List {
        /// Only these states (repeatable): identified, classified, responding, investigating,
        /// recovering, in_review, closed, false_positive, reopened.
        #[arg(long = "state", value_name = "STATE")]
        states: Vec<String>,
        /// Include closed incidents and false positives.
        #[arg(long, conflicts_with = "states")]
        all: bool,
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one incident: summary, classification, alerts and timeline.
    Show {
        id: i64,
        /// `json` prints one JSON object.
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
    /// Open an incident from a manual report (a user or IT staff), into the same queue as
    /// detections.
    Open {
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Name of the reporter. Default: the acting user.
        #[arg(long, value_name = "NAME")]
        reported_by: Option<String>,
        /// Level for the policy: informational, low, medium, high, critical.
        #[arg(long, default_value = "medium")]
        level: String,
        /// An entity involved, as FIELD=VALUE (host.name=web-1, source.ip=203.0.113.7);
        /// repeatable. Each becomes an observable.
        #[arg(long = "entity", value_name = "FIELD=VALUE")]
        entities: Vec<String>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Classify an incident with the policy, accepting or overriding its values (security).
    /// Moves an identified or reopened incident to classified.
    Classify {
        id: i64,
        #[arg(long)]
        category: Option<String>,
        /// none, low, medium, high.
        #[arg(long)]
        functional_impact: Option<String>,
        /// none, privacy-breach, proprietary-breach, integrity-loss.
        #[arg(long)]
        information_impact: Option<String>,
        /// regular, supplemented, extended, not-recoverable.
        #[arg(long)]
        recoverability: Option<String>,
        /// low, medium, high, critical; needs --reason when it differs from the computed one.
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Assign an incident to a user (security or management); `-` unassigns.
    Assign { id: i64, user: String },
    /// Move an incident to another state, as the lifecycle and your roles allow.
    Move {
        id: i64,
        state: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Add a note.
    Note { id: i64, text: String },
    /// Add a task or mark one done.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Store an evidence file (content-addressed by SHA-256) or list an incident's evidence.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Add an observable: ip, user, host, hash, access-key, instance, domain, url, file.
    Observable {
        id: i64,
        kind: String,
        value: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Record an answer to a lessons-learned question; QUESTION is its number in the report
    /// (1-9) or your own question.
    Lesson { id: i64, question: String, answer: String },
    /// Add an action item or mark one done (management).
    #[command(subcommand, name = "action-item")]
    ActionItem(ActionItemCommand),
    /// Close an incident (management; from in review).
    Close {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Write the review report.
    Report {
        /// Incident id, as `incident list` shows it.
        id: i64,
        /// Markdown, or one self-contained HTML file.
        #[arg(long, value_enum, default_value_t = ReportFormatArg::Md)]
        format: ReportFormatArg,
        /// Write to FILE instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Median times to detect, acknowledge, contain and recover over a period.
    Metrics {
        /// Start date (UTC, YYYY-MM-DD). Default: 30 days ago.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// End date, exclusive. Default: tomorrow.
        #[arg(long)]
        to: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
    /// Users and roles (security, it, management, admin) kept in the store.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Classification policy (YAML). Default: incident.policy in the configuration, else the
    /// built-in policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Asset inventory (YAML, or `aws ec2 describe-instances` JSON).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    Add {
        id: i64,
        title: String,
        #[arg(long)]
        owner: Option<String>,
    },
    Done { task: i64 },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    Add {
        id: i64,
        file: PathBuf,
        /// Origin of the file: host and path, URL, bucket key. Default: the file's path.
        #[arg(long = "from", value_name = "ORIGIN")]
        origin: Option<String>,
    },
    List { id: i64 },
    /// Print an evidence item's chain of custody.
    Custody { evidence: i64 },
    /// Copy an evidence file out of the store after checking its SHA-256, logging the access
    /// in its chain of custody.
    Export {
        evidence: i64,
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
        /// Purpose of the access, for the custody log.
        #[arg(long, default_value = "exported")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActionItemCommand {
    Add {
        id: i64,
        title: String,
        #[arg(long)]
        owner: Option<String>,
        /// Due date (YYYY-MM-DD).
        #[arg(long)]
        due: Option<NaiveDate>,
    },
    Done { item: i64 },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Set a user's roles (admin; the first user set in an empty store needs no role).
    Set {
        name: String,
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
    },
    List,
}

/// Returns whether a command only reads the store, so that it must not create one.
fn is_read_only(command: &IncidentCommand) -> bool {
    matches!(command, IncidentCommand::List { .. } | IncidentCommand::Show { .. } | IncidentCommand::Report { .. } | IncidentCommand::Metrics { .. })
}

pub fn run(args: &IncidentArgs, config: &StoreConfig) -> Result<Status> {
    // Reading needs no user; a change fails below when none can be determined.
    let user = current_user(&args.store, config);
    runtime()?.block_on(async {
        let store = match is_read_only(&args.command) {
            true => open_existing_store(&args.store, config).await?,
            false => open_store(&args.store, config).await?,
        };
        let actor = match user {
            Ok(name) => Ok(Actor::load(&store, &name).await?),
            Err(error) => Err(error),
        };
        dispatch(&store, actor, &config, &args.command).await
    })
}

/// The roles that may record notes, tasks, observables, evidence and lessons.
const ANY_TEAM: &[Role] = &[Role::Security, Role::It, Role::Management];

async fn dispatch(store: &Store, actor: Result<Actor>, config: &StoreConfig, command: &IncidentCommand) -> Result<Status> {
    let mut out = std::io::stdout().lock();
    let read_only = matches!(
        command,
        IncidentCommand::List { .. }
            | IncidentCommand::Show { .. }
            | IncidentCommand::Report { .. }
            | IncidentCommand::Metrics { .. }
            | IncidentCommand::Evidence(EvidenceCommand::List { .. } | EvidenceCommand::Custody { .. })
            | IncidentCommand::User(UserCommand::List)
    );
    let actor = match actor {
        Ok(actor) => actor,
        Err(_) if read_only => Actor { name: String::new(), roles: Vec::new() },
        Err(error) => return Err(error),
    };
    let actor = &actor;
    match command {
        IncidentCommand::List { states, all, limit, format } => {
            let states = if *all {
                Vec::new()
            } else if states.is_empty() {
                State::ALL.iter().filter(|s| s.is_open()).map(|s| s.name().to_string()).collect()
            } else {
                states.iter().map(|s| parse_state(s).map(|s| s.name().to_string())).collect::<Result<_>>()?
            };
            let incidents = store.incidents(&IncidentFilter { states, active_since: None, limit: *limit }).await?;
            write_list(&mut out, &incidents, *format)?;
        }
        IncidentCommand::Show { id, format } => show(&mut out, store, *id, *format).await?,
        IncidentCommand::Open { title, description, reported_by, level, entities, policy } => {
            let report = ManualReport {
                title: title.clone(),
                description: description.clone(),
                reported_by: reported_by.clone().unwrap_or_else(|| actor.name.clone()),
                level: level.clone(),
                entities: entities.iter().map(|e| parse_entity(e)).collect::<Result<_>>()?,
                first_event_at: None,
            };
            let policy_file = config.policy(policy.policy.as_deref())?;
            let inventory = config.inventory(policy.inventory.as_deref())?;
            let id = open_manual(store, &actor.name, &report, &policy_file, &inventory).await?;
            let incident = store.incident(id).await?;
            writeln!(out, "opened incident {id} ({} severity)", incident.severity)?;
        }
        IncidentCommand::Classify { id, category, functional_impact, information_impact, recoverability, severity, reason, policy } => {
            let severity = match severity {
                Some(text) => Some(Severity::parse(text).with_context(|| format!("invalid severity {text:?}: use low, medium, high or critical"))?),
                None => None,
            };
            let request = ClassifyRequest {
                category: category.clone(),
                functional_impact: functional_impact.clone(),
                information_impact: information_impact.clone(),
                recoverability: recoverability.clone(),
                severity,
                reason: reason.clone(),
            };
            let policy_file = config.policy(policy.policy.as_deref())?;
            let inventory = config.inventory(policy.inventory.as_deref())?;
            let row = classify_incident(store, actor, *id, &policy_file, &inventory, &request).await?;
            writeln!(out, "incident {id}: {} severity (computed {}), category {}, state {}", row.severity, row.computed_severity, row.category.as_deref().unwrap_or("-"), row.state)?;
        }
        IncidentCommand::Assign { id, user } => {
            actor.require(&[Role::Security, Role::Management], &format!("assign incident {id}"))?;
            let assignee = (user != "-").then_some(user.as_str());
            let mut tx = store.begin_write(&actor.name).await?;
            tx.set_assignee(*id, assignee).await?;
            tx.commit().await?;
            writeln!(out, "incident {id} assigned to {}", assignee.unwrap_or("nobody"))?;
        }
        IncidentCommand::Move { id, state, reason } => {
            let to = parse_state(state)?;
            let transition = move_incident(store, actor, *id, to, None, reason.as_deref()).await?;
            writeln!(out, "incident {id}: {} → {}", transition.from_state.as_deref().unwrap_or("-"), transition.to_state)?;
        }
        IncidentCommand::Close { id, reason } => {
            move_incident(store, actor, *id, State::Closed, None, reason.as_deref()).await?;
            writeln!(out, "incident {id} closed")?;
        }
        IncidentCommand::Note { id, text } => {
            actor.require(ANY_TEAM, &format!("add a note to incident {id}"))?;
            let mut tx = store.begin_write(&actor.name).await?;
            let note = tx.add_note(*id, text).await?;
            tx.commit().await?;
            writeln!(out, "note {note} added to incident {id}")?;
        }
        IncidentCommand::Task(TaskCommand::Add { id, title, owner }) => {
            actor.require(ANY_TEAM, &format!("add a task to incident {id}"))?;
            let mut tx = store.begin_write(&actor.name).await?;
            let task = tx.add_task(*id, title, owner.as_deref()).await?;
            tx.commit().await?;
            writeln!(out, "task {task} added to incident {id}")?;
        }
        IncidentCommand::Task(TaskCommand::Done { task }) => {
            actor.require(ANY_TEAM, &format!("complete task {task}"))?;
            let mut tx = store.begin_write(&actor.name).await?;
            tx.set_task_status(*task, true).await?;
            tx.commit().await?;
            writeln!(out, "task {task} done")?;
        }
        IncidentCommand::Evidence(EvidenceCommand::Add { id, file, origin }) => {
            actor.require(ANY_TEAM, &format!("add evidence to incident {id}"))?;
            let origin = origin.clone().unwrap_or_else(|| file.display().to_string());
            let mut tx = store.begin_write(&actor.name).await?;
            let item = tx.add_evidence_file(*id, file, &origin).await?;
            tx.commit().await?;
            writeln!(out, "evidence {} added to incident {id}: {} ({} bytes, SHA-256 {})", item.id, sanitize(&item.name), item.size, item.sha256)?;
        }
        IncidentCommand::Evidence(EvidenceCommand::List { id }) => {
            for item in store.evidence(*id).await? {
                writeln!(
                    out,
                    "{}  {}  {:>10}  {}  {}  {}",
                    item.id,
                    item.sha256,
                    item.size,
                    item.collected_at.to_rfc3339(),
                    sanitize(&item.collected_by),
                    sanitize(&item.name)
                )?;
            }
        }
        IncidentCommand::Evidence(EvidenceCommand::Custody { evidence }) => {
            for entry in store.custody(*evidence).await? {
                writeln!(out, "{}  {}  {}  {}", entry.at.to_rfc3339(), sanitize(&entry.actor), entry.action, sanitize(&entry.detail))?;
            }
        }
        IncidentCommand::Evidence(EvidenceCommand::Export { evidence, output, reason }) => {
            actor.require(ANY_TEAM, &format!("export evidence {evidence}"))?;
            let purpose = format!("{reason} to {}", output.display());
            let bytes = store.open_evidence(&actor.name, *evidence, &purpose).await?;
            std::fs::write(output, &bytes).with_context(|| format!("cannot write evidence {evidence} to {}", output.display()))?;
            writeln!(out, "evidence {evidence} written to {} ({} bytes, SHA-256 verified)", output.display(), bytes.len())?;
        }
        IncidentCommand::Observable { id, kind, value, note } => {
            actor.require(ANY_TEAM, &format!("add an observable to incident {id}"))?;
            let mut tx = store.begin_write(&actor.name).await?;
            let observable = tx.add_observable(*id, kind, value, note.as_deref()).await?;
            tx.commit().await?;
            writeln!(out, "observable {observable} on incident {id}: {kind} {}", sanitize(value))?;
        }
        IncidentCommand::Lesson { id, question, answer } => {
            actor.require(ANY_TEAM, &format!("record a lesson on incident {id}"))?;
            let question = match question.parse::<usize>() {
                Ok(n) if (1..=report::LESSONS_QUESTIONS.len()).contains(&n) => report::LESSONS_QUESTIONS[n - 1].to_string(),
                Ok(n) => bail!("there is no lessons-learned question {n}: use 1 to {}", report::LESSONS_QUESTIONS.len()),
                Err(_) => question.clone(),
            };
            let mut tx = store.begin_write(&actor.name).await?;
            tx.add_lesson(*id, &question, answer).await?;
            tx.commit().await?;
            writeln!(out, "lesson recorded on incident {id}")?;
        }
        IncidentCommand::ActionItem(ActionItemCommand::Add { id, title, owner, due }) => {
            actor.require(&[Role::Management], &format!("add an action item to incident {id}"))?;
            let due = due.map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
            let mut tx = store.begin_write(&actor.name).await?;
            let item = tx.add_action_item(*id, title, owner.as_deref(), due).await?;
            tx.commit().await?;
            writeln!(out, "action item {item} added to incident {id}")?;
        }
        IncidentCommand::ActionItem(ActionItemCommand::Done { item }) => {
            actor.require(&[Role::Management], &format!("complete action item {item}"))?;
            let mut tx = store.begin_write(&actor.name).await?;
            tx.set_action_item_status(*item, true).await?;
            tx.commit().await?;
            writeln!(out, "action item {item} done")?;
        }
        IncidentCommand::Report { id, format, output } => {
            let format = match format {
                ReportFormatArg::Md => report::ReportFormat::Markdown,
                ReportFormatArg::Html => report::ReportFormat::Html,
            };
            let text = report::render(store, *id, format).await?;
            match output {
                Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write the report to {}", path.display()))?,
                None => out.write_all(text.as_bytes())?,
            }
        }
        IncidentCommand::Metrics { from, to, format } => {
            let today = Utc::now().date_naive();
            let from = from.unwrap_or(today - chrono::Duration::days(30));
            let to = to.unwrap_or(today + chrono::Duration::days(1));
            let period = metrics::period_metrics(store, midnight(from), midnight(to)).await?;
            if *format == ShowFormat::Json {
                serde_json::to_writer(&mut out, &period)?;
                writeln!(out)?;
            } else {
                let show = |median: Option<f64>, count: usize| match median {
                    Some(seconds) => format!("{} (over {count} incidents)", metrics::human_duration(seconds.round() as i64)),
                    None => "—".to_string(),
                };
                writeln!(out, "{} incidents identified from {from} to {to} (false positives excluded)", period.incidents)?;
                writeln!(out, "median time to detect:      {}", show(period.median_time_to_detect, period.time_to_detect_count))?;
                writeln!(out, "median time to acknowledge: {}", show(period.median_time_to_acknowledge, period.time_to_acknowledge_count))?;
                writeln!(out, "median time to contain:     {}", show(period.median_time_to_contain, period.time_to_contain_count))?;
                writeln!(out, "median time to recover:     {}", show(period.median_time_to_recover, period.time_to_recover_count))?;
            }
        }
        IncidentCommand::User(UserCommand::Set { name, roles }) => {
            let parsed: Vec<String> = roles
                .iter()
                .map(|r| Role::parse(r).map(|r| r.name().to_string()).with_context(|| format!("unknown role {r:?}: use security, it, management or admin")))
                .collect::<Result<_>>()?;
            let users = store.users().await?;
            let has_admin = users.iter().any(|u| u.roles.iter().any(|r| r == Role::Admin.name()));
            if has_admin {
                actor.require(&[Role::Admin], &format!("set the roles of {name}"))?;
            }
            store.set_user(&actor.name, name, &parsed).await?;
            writeln!(out, "{name}: {}", parsed.join(", "))?;
        }
        IncidentCommand::User(UserCommand::List) => {
            for user in store.users().await? {
                writeln!(out, "{}: {}", sanitize(&user.name), user.roles.join(", "))?;
            }
        }
    }
    Ok(Status::Completed)
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

fn parse_state(text: &str) -> Result<State> {
    State::parse(text).with_context(|| {
        let names: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
        format!("unknown state {text:?}: use one of {}", names.join(", "))
    })
}

fn parse_entity(text: &str) -> Result<Entity> {
    match text.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() && !value.trim().is_empty() => Ok(Entity::new(field.trim(), value.trim())),
        _ => bail!("invalid entity {text:?}: use FIELD=VALUE, e.g. source.ip=203.0.113.7"),
    }
}

const LIST_COLUMNS: &[&str] = &["id", "state", "severity", "category", "alerts", "assignee", "last_activity", "title"];

fn list_cells(i: &IncidentRow) -> Vec<String> {
    vec![
        i.id.to_string(),
        i.state.clone(),
        i.severity.clone(),
        i.category.clone().unwrap_or_default(),
        i.alert_count.to_string(),
        i.assignee.clone().unwrap_or_default(),
        i.last_activity_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        i.title.clone(),
    ]
}

fn write_list(out: &mut impl Write, incidents: &[IncidentRow], format: ListFormat) -> Result<()> {
    match format {
        ListFormat::Json => {
            for incident in incidents {
                serde_json::to_writer(&mut *out, incident)?;
                writeln!(out)?;
            }
        }
        ListFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(LIST_COLUMNS)?;
            for incident in incidents {
                writer.write_record(list_cells(incident))?;
            }
            writer.flush()?;
        }
        ListFormat::Table => {
            writeln!(out, "{:>5}  {:<14}  {:<8}  {:<20}  {:>6}  {:<10}  {:<25}  title", "id", "state", "severity", "category", "alerts", "assignee", "last activity")?;
            for incident in incidents {
                let c = list_cells(incident);
                writeln!(
                    out,
                    "{:>5}  {:<14}  {:<8}  {:<20}  {:>6}  {:<10}  {:<25}  {}",
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    c[4],
                    sanitize(&c[5]),
                    c[6],
                    sanitize(&c[7])
                )?;
            }
        }
    }
    Ok(())
}

async fn show(out: &mut impl Write, store: &Store, id: i64, format: ShowFormat) -> Result<()> {
    let incident = store.incident(id).await?;
    let alerts = store.incident_alerts(id).await?;
    let entries = timeline::timeline(store, id).await?;
    let incident_metrics = metrics::incident_metrics(store, id).await?;

    if format == ShowFormat::Json {
        let alerts: Vec<serde_json::Value> = alerts
            .iter()
            .map(|(a, reason, joined)| serde_json::json!({ "alert": a, "reason": reason, "joined_at": joined }))
            .collect();
        let document = serde_json::json!({
            "incident": incident,
            "alerts": alerts,
            "timeline": entries,
            "metrics": incident_metrics,
            "observables": store.observables(id).await?,
            "tasks": store.tasks(id).await?,
            "evidence": store.evidence(id).await?,
        });
        serde_json::to_writer(&mut *out, &document)?;
        writeln!(out)?;
        return Ok(());
    }

    writeln!(out, "incident {}: {}", incident.id, sanitize(&incident.title))?;
    writeln!(out, "state       {}", incident.state)?;
    match &incident.severity_override_reason {
        Some(reason) => writeln!(out, "severity    {} (computed {}; override: {})", incident.severity, incident.computed_severity, sanitize(reason))?,
        None => writeln!(out, "severity    {}", incident.severity)?,
    }
    writeln!(out, "category    {}", incident.category.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "impact      functional {}, information {}, recoverability {}",
        incident.functional_impact.as_deref().unwrap_or("-"),
        incident.information_impact.as_deref().unwrap_or("-"),
        incident.recoverability.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "origin      {}{}", incident.origin, incident.reported_by.as_ref().map(|r| format!(", reported by {}", sanitize(r))).unwrap_or_default())?;
    writeln!(out, "assignee    {}", incident.assignee.as_deref().map(sanitize).unwrap_or_else(|| "-".into()))?;
    writeln!(out, "identified  {}", incident.identified_at.to_rfc3339())?;

    writeln!(out, "\nalerts ({}):", alerts.len())?;
    for (alert, reason, _) in &alerts {
        let entities: Vec<String> = alert.alert.entities.iter().map(|e| e.to_string()).collect();
        writeln!(out, "  {} {} [{}] {} — {}", alert.alert.id, sanitize(&alert.alert.rule_title), alert.alert.level, sanitize(&entities.join(", ")), sanitize(reason))?;
    }
    writeln!(out, "\ntimeline:")?;
    for entry in &entries {
        writeln!(out, "  {}  {:<10}  {:<10}  {}", entry.at.to_rfc3339(), entry.kind.name(), sanitize(entry.actor.as_deref().unwrap_or("-")), sanitize(&entry.summary))?;
    }
    Ok(())
}
