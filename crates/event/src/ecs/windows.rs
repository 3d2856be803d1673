//! Windows event log layout, following Winlogbeat: System fields under `winlog.*`, event data
//! under `winlog.event_data.*`.

use serde_json::Value as Json;

use crate::{Event, Value};

/// Field names a Windows decoder takes from the record's `System` element. Attributes are
/// joined to their element with `_` (`Provider_Name`, `TimeCreated_SystemTime`), the naming
/// Sigma rules and the evtx crate's flattened output use.
pub const SYSTEM_FIELDS: &[&str] = &[
    "EventID",
    "Qualifiers",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "TimeCreated_SystemTime",
    "EventRecordID",
    "Correlation_ActivityID",
    "Correlation_RelatedActivityID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "Channel",
    "Computer",
    "Provider_Name",
    "Provider_Guid",
    "Provider_EventSourceName",
    "Security_UserID",
];

pub(super) fn document_path(name: &str) -> String {
    let path = match name {
        "EventID" => "winlog.event_id",
        "Qualifiers" => "winlog.qualifiers",
        "Version" => "winlog.version",
        "Level" => "winlog.level",
        "Task" => "winlog.task",
        "Opcode" => "winlog.opcode",
        "Keywords" => "winlog.keywords",
        "TimeCreated_SystemTime" => "winlog.time_created",
        "EventRecordID" => "winlog.record_id",
        "Correlation_ActivityID" => "winlog.activity_id",
        "Correlation_RelatedActivityID" => "winlog.related_activity_id",
        "Execution_ProcessID" => "winlog.process.pid",
        "Execution_ThreadID" => "winlog.process.thread.id",
        "Channel" => "winlog.channel",
        "Computer" => "winlog.computer_name",
        "Provider_Name" => "winlog.provider_name",
        "Provider_Guid" => "winlog.provider_guid",
        "Provider_EventSourceName" => "winlog.event_source_name",
        "Security_UserID" => "winlog.user.identifier",
        _ => return format!("winlog.event_data.{name}"),
    };
    path.to_string()
}

/// Winlogbeat writes event ids and event data as strings; keep that so documents index into
/// the same Elastic mappings.
pub(super) fn document_value(name: &str, value: &Value) -> Json {
    match (name, value) {
        ("EventRecordID" | "Execution_ProcessID" | "Execution_ThreadID" | "Version", _) => value.to_json(),
        (_, Value::Int(i)) => Json::String(i.to_string()),
        _ => value.to_json(),
    }
}

/// Security events about groups: created, changed, deleted, a member added or removed, and the
/// members listed (4799). In them `TargetUserName`, `TargetDomainName` and `TargetSid` name the
/// group, not a user.
const GROUP_MANAGEMENT_EVENTS: &[i64] = &[
    4727, 4728, 4729, 4730, 4731, 4732, 4733, 4734, 4735, 4737, 4744, 4745, 4746, 4747, 4748, 4749, 4750, 4751, 4752,
    4753, 4754, 4755, 4756, 4757, 4758, 4759, 4760, 4761, 4762, 4763, 4764, 4799,
];

pub(super) fn is_group_management(event: &Event) -> bool {
    event.get_source("Channel").and_then(Value::as_str) == Some("Security")
        && event.get_source("EventID").and_then(Value::as_i64).is_some_and(|id| GROUP_MANAGEMENT_EVENTS.contains(&id))
}

/// ECS names that differ in group management events: the group, and as `user` the account that
/// made the change.
pub(super) const GROUP_MANAGEMENT_ALIASES: &[(&str, &[&str])] = &[
    ("user.name", &["SubjectUserName"]),
    ("user.domain", &["SubjectDomainName"]),
    ("user.id", &["SubjectUserSid"]),
    ("group.name", &["TargetUserName"]),
    ("group.domain", &["TargetDomainName"]),
    ("group.id", &["TargetSid"]),
];

pub(super) const ALIASES: &[(&str, &[&str])] = &[
    ("event.code", &["EventID"]),
    ("event.provider", &["Provider_Name"]),
    ("host.name", &["Computer"]),
    ("winlog.channel", &["Channel"]),
    ("winlog.event_id", &["EventID"]),
    ("winlog.provider_name", &["Provider_Name"]),
    ("winlog.computer_name", &["Computer"]),
    ("winlog.record_id", &["EventRecordID"]),
    ("process.executable", &["Image", "NewProcessName"]),
    ("process.command_line", &["CommandLine"]),
    ("process.pid", &["ProcessId", "NewProcessId"]),
    ("process.parent.executable", &["ParentImage", "ParentProcessName"]),
    ("process.parent.command_line", &["ParentCommandLine"]),
    ("process.parent.pid", &["ParentProcessId"]),
    ("process.working_directory", &["CurrentDirectory"]),
    ("user.name", &["User", "TargetUserName", "SubjectUserName"]),
    ("user.domain", &["TargetDomainName", "SubjectDomainName"]),
    ("source.ip", &["IpAddress", "SourceIp", "SourceAddress"]),
    ("source.port", &["IpPort", "SourcePort"]),
    ("source.domain", &["WorkstationName", "SourceHostname"]),
    ("destination.ip", &["DestinationIp", "DestAddress"]),
    ("destination.port", &["DestinationPort", "DestPort"]),
    ("destination.domain", &["DestinationHostname"]),
    ("dns.question.name", &["QueryName"]),
    ("file.path", &["TargetFilename"]),
    ("registry.path", &["TargetObject"]),
    ("service.name", &["ServiceName"]),
];
