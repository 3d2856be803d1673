//! Windows events as JSON lines, mapped to the same field names as EVTX so that Sigma rules
//! written for Windows match them:
//!
//! - Winlogbeat 7 and later (ECS): `winlog.channel`, `winlog.event_id`, `winlog.event_data.*`, …
//! - Winlogbeat 6: `log_name`, `event_id`, `source_name`, `computer_name`, `event_data.*`, …
//! - Flat exports (nxlog, Logstash, the OTRF/Mordor datasets): `EventID`, `Channel`,
//!   `Hostname`, `SourceName`, `ProviderGuid`, event data as top-level keys.
//! - Azure Monitor (Log Analytics) syslog records whose `SyslogMessage` is a Sysmon for Linux
//!   event in Windows event XML, and `SecurityEvent` records whose `EventData` is XML.
//!
//! Azure Monitor records of other Linux sources (auoms audit lines, plain syslog) are not
//! Windows events: [`sniff`] does not claim them, and a line of that kind inside a Windows file
//! is reported as an error.

use std::io::{self, BufRead};

use serde_json::{Map, Value as Json};
use tocsin_event::{Event, Evidence, Schema, Str, Timestamp, Value};

use super::winxml::{parse_system_time, EventXml, TRUNCATED};
use crate::{flatten_json, Context, LineError, LineReader, Location};

/// Recognises a JSON line carrying a Windows event in one of the layouts above, from its first
/// line. The sniffs of CloudTrail, CloudWatch, GuardDuty, Security Hub and journald run first.
pub fn sniff(head: &[u8]) -> bool {
    let line = match memchr::memchr(b'\n', head) {
        Some(end) => &head[..end],
        None => head,
    };
    if !line.trim_ascii_start().starts_with(b"{") {
        return false;
    }
    let has = |key: &[u8]| memchr::memmem::find(line, key).is_some();
    let winlogbeat = has(b"\"winlog\"") && (has(b"\"event_id\"") || has(b"\"channel\""));
    let winlogbeat6 = has(b"\"event_id\"") && has(b"\"log_name\"");
    let flat = has(b"\"EventID\"") && (has(b"\"Channel\"") || has(b"\"SourceName\"") || has(b"\"Hostname\"") || has(b"\"ProviderName\""));
    let azure_sysmon = has(b"\"SyslogMessage\"") && (has(b"<Event><System>") || has(b"\\u003cEvent\\u003e\\u003cSystem\\u003e"));
    winlogbeat || winlogbeat6 || flat || azure_sysmon
}

/// Decodes JSON lines; blank lines are skipped, and each other line is one record.
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
    let mut builder = EventXml::default();
    let mut reported_utf8 = false;

    while let Some(line) = lines.next_line() {
        let line = match line {
            Ok(line) => line,
            Err(LineError::TooLong { number, offset, length }) => {
                ctx.record();
                ctx.error(Location::Line { line: number, offset }, format!("line of {length} bytes exceeds the limit; skipped"));
                continue;
            }
            Err(LineError::Io { error, .. }) => return Err(error),
        };
        if line.bytes.trim_ascii().is_empty() {
            continue;
        }
        ctx.record();
        let location = Location::Line { line: line.number, offset: line.offset };
        let text = match std::str::from_utf8(line.bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => {
                if !reported_utf8 {
                    reported_utf8 = true;
                    ctx.error(location, "invalid UTF-8; this and later lines of the file are decoded lossily");
                }
                String::from_utf8_lossy(line.bytes)
            }
        };
        let evidence = Evidence::line(ctx.source.clone(), line.number, line.offset);
        match parse_with(&text, evidence, &mut builder) {
            Ok((event, warning)) => {
                ctx.emit(event);
                if let Some(warning) = warning {
                    ctx.error(location, warning);
                }
            }
            Err(message) => ctx.error(location, message),
        }
    }
    Ok(())
}

/// Decodes one JSON record (a Windows event shipped in a CloudWatch Logs message, say).
///
/// A record whose embedded event XML was cut short (syslog transports cut long messages) is
/// returned with the fields read before the cut and `tocsin.truncated` set.
pub fn parse_record_text(text: &str, evidence: Evidence) -> Result<Event, String> {
    parse_with(text, evidence, &mut EventXml::default()).map(|(event, _)| event)
}

/// Returns the event and, for a record that was decoded only in part, why.
fn parse_with(text: &str, evidence: Evidence, builder: &mut EventXml) -> Result<(Event, Option<String>), String> {
    let json: Json = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Json::Object(object) = json else {
        return Err("JSON record is not an object".into());
    };
    let mut event = Event::with_capacity(Schema::Windows, evidence, 48);
    let mut warning = None;
    if object.get("winlog").is_some_and(Json::is_object) {
        from_winlogbeat(object, &mut event);
    } else if object.contains_key("event_data") || object.contains_key("log_name") {
        from_winlogbeat6(object, &mut event);
    } else if let Some(Json::String(message)) = object.get("SyslogMessage") {
        warning = from_azure_syslog(message, &object, &mut event, builder)?;
    } else {
        from_flat(object, &mut event, builder)?;
    }
    event.raw = Some(text.into());
    Ok((event, warning))
}

/// Winlogbeat 7+ `winlog.*` names and the System field each one carries.
const WINLOG_SYSTEM: &[(&str, &str)] = &[
    ("channel", "Channel"),
    ("event_id", "EventID"),
    ("provider_name", "Provider_Name"),
    ("provider_guid", "Provider_Guid"),
    ("event_source_name", "Provider_EventSourceName"),
    ("computer_name", "Computer"),
    ("record_id", "EventRecordID"),
    ("process.pid", "Execution_ProcessID"),
    ("process.thread.id", "Execution_ThreadID"),
    ("user.identifier", "Security_UserID"),
    ("activity_id", "Correlation_ActivityID"),
    ("related_activity_id", "Correlation_RelatedActivityID"),
    ("version", "Version"),
    ("opcode", "Opcode"),
    ("task", "Task"),
    ("keywords", "Keywords"),
];

fn from_winlogbeat(mut object: Map<String, Json>, event: &mut Event) {
    let Some(Json::Object(mut winlog)) = object.remove("winlog") else { return };
    let event_data = winlog.remove("event_data");
    let user_data = winlog.remove("user_data");

    let mut rest = Vec::new();
    let mut leaves = Event::new(Schema::Json, event.evidence.clone());
    flatten_json(&mut leaves, "", &Json::Object(winlog));
    for field in leaves.fields() {
        match WINLOG_SYSTEM.iter().find(|(name, _)| *name == field.name) {
            Some((_, system)) => event.push(*system, system_value(system, &field.value)),
            None => rest.push((Str::from(format!("winlog.{}", field.name)), field.value.clone())),
        }
    }
    push_data(event, event_data.as_ref());
    push_data(event, user_data.as_ref());
    for (name, value) in rest {
        event.push(name, value);
    }
    push_common(object, event);
}

/// Winlogbeat 6 top-level names and the System field each one carries.
const WINLOGBEAT6_SYSTEM: &[(&str, &str)] = &[
    ("log_name", "Channel"),
    ("event_id", "EventID"),
    ("source_name", "Provider_Name"),
    ("provider_guid", "Provider_Guid"),
    ("computer_name", "Computer"),
    ("record_number", "EventRecordID"),
    ("process_id", "Execution_ProcessID"),
    ("thread_id", "Execution_ThreadID"),
    ("activity_id", "Correlation_ActivityID"),
    ("related_activity_id", "Correlation_RelatedActivityID"),
    ("version", "Version"),
    ("opcode", "winlog.opcode"),
    ("task", "winlog.task"),
    ("keywords", "winlog.keywords"),
    ("level", "log.level"),
];

fn from_winlogbeat6(mut object: Map<String, Json>, event: &mut Event) {
    for (name, system) in WINLOGBEAT6_SYSTEM {
        if let Some(json) = object.remove(*name) {
            event.push(*system, system_value(system, &Value::from_json(&json)));
        }
    }
    if let Some(identifier) = object.get_mut("user").and_then(Json::as_object_mut).and_then(|user| user.remove("identifier")) {
        event.push("Security_UserID", Value::from_json(&identifier));
    }
    push_data(event, object.remove("event_data").as_ref());
    push_data(event, object.remove("user_data").as_ref());
    if let Some(Json::Object(user)) = object.remove("user") {
        for (key, value) in user {
            event.push(format!("winlog.user.{key}"), Value::from_json(&value));
        }
    }
    push_common(object, event);
}

/// Flat-export names that carry a System field under another name.
const FLAT_RENAMES: &[(&str, &str)] = &[
    ("Hostname", "Computer"),
    ("SourceName", "Provider_Name"),
    ("ProviderName", "Provider_Name"),
    ("ProviderGuid", "Provider_Guid"),
    ("RecordNumber", "EventRecordID"),
    ("ExecutionProcessID", "Execution_ProcessID"),
    ("ThreadID", "Execution_ThreadID"),
    ("UserID", "Security_UserID"),
    ("Message", "message"),
];

fn from_flat(mut object: Map<String, Json>, event: &mut Event, builder: &mut EventXml) -> Result<(), String> {
    // Azure Monitor SecurityEvent records carry the event data as an XML fragment.
    if let Some(Json::String(xml)) = object.get("EventData")
        && xml.trim_start().starts_with('<')
    {
        let wrapped = format!("<Event>{xml}</Event>");
        builder.build(wrapped.as_bytes(), event).map_err(|e| format!("invalid EventData XML: {e}"))?;
        object.remove("EventData");
    }
    if let Some(time) = take_time(&mut object) {
        event.timestamp = Some(time);
    }
    let mut leaves = Event::new(Schema::Json, event.evidence.clone());
    flatten_json(&mut leaves, "", &Json::Object(object));
    for field in leaves.fields() {
        let name = FLAT_RENAMES.iter().find(|(flat, _)| *flat == field.name).map_or(field.name.as_str(), |(_, system)| system);
        event.push(name, system_value(name, &field.value));
    }
    Ok(())
}

fn from_azure_syslog(message: &str, object: &Map<String, Json>, event: &mut Event, builder: &mut EventXml) -> Result<Option<String>, String> {
    if !message.trim_start().starts_with("<Event") {
        let source = object.get("ProcessName").and_then(Json::as_str).unwrap_or("unknown");
        return Err(format!("Azure Monitor syslog record from {source} holds no Windows event XML; unsupported"));
    }
    let mut warning = None;
    match builder.build(message.as_bytes(), event) {
        Ok(()) => {}
        Err(e) if e == TRUNCATED => {
            event.push("tocsin.truncated", Value::Bool(true));
            warning = Some(format!(
                "event XML in SyslogMessage is cut short after {} bytes; the event keeps the fields before the cut",
                message.len()
            ));
        }
        Err(e) => return Err(format!("invalid event XML in SyslogMessage: {e}")),
    }
    if event.timestamp.is_none() {
        event.timestamp = object.get("TimeGenerated").and_then(Json::as_str).and_then(Timestamp::parse_rfc3339);
    }
    event.push("cloud.provider", "azure");
    for (key, ecs_name) in [("TenantId", "cloud.account.id"), ("_ResourceId", "cloud.instance.id"), ("HostIP", "host.ip")] {
        if let Some(value) = object.get(key) {
            event.push(ecs_name, Value::from_json(value));
        }
    }
    Ok(warning)
}

/// Pushes event data (`event_data`, `user_data`) under the field names EVTX uses.
fn push_data(event: &mut Event, data: Option<&Json>) {
    if let Some(data @ Json::Object(_)) = data {
        flatten_json(event, "", data);
    }
}

/// Pushes the remaining top-level ECS fields as they are and sets the timestamp.
fn push_common(mut object: Map<String, Json>, event: &mut Event) {
    if let Some(time) = take_time(&mut object) {
        event.timestamp = Some(time);
    }
    object.remove("@metadata");
    if let Some(message) = object.remove("message") {
        event.push("message", Value::from_json(&message));
    }
    flatten_json(event, "", &Json::Object(object));
}

/// Takes the event time: `@timestamp`, else `TimeCreated`, else `EventTime`. Times without a
/// zone (`2020-10-19 12:28:44.333`) are read as UTC.
fn take_time(object: &mut Map<String, Json>) -> Option<Timestamp> {
    if let Some(Json::String(text)) = object.remove("@timestamp") {
        return parse_time(&text);
    }
    ["TimeCreated", "EventTime"].iter().find_map(|key| object.get(*key).and_then(Json::as_str).and_then(parse_time))
}

fn parse_time(text: &str) -> Option<Timestamp> {
    if let Some(time) = Timestamp::parse_rfc3339(text) {
        return Some(time);
    }
    // NOTE: zone-less exports (nxlog `EventTime`) are in the collector's local time, which the
    // record does not name. They are read as UTC, and only used when `@timestamp` is missing.
    let normalized = format!("{}Z", text.replacen(' ', "T", 1));
    parse_system_time(&normalized)
}

/// Numeric System fields as integers, as the EVTX decoder stores them.
fn system_value(name: &str, value: &Value) -> Value {
    const NUMERIC: &[&str] = &["EventID", "EventRecordID", "Execution_ProcessID", "Execution_ThreadID", "Version", "Level", "Task", "Opcode", "Qualifiers"];
    if NUMERIC.contains(&name)
        && let Value::Str(text) = value
        && let Ok(number) = text.trim().parse::<i64>()
    {
        return Value::Int(number);
    }
    value.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::SourceRef;

    fn parse(text: &str) -> Event {
        parse_record_text(text, Evidence::new(SourceRef::new("t.json"))).unwrap()
    }

    #[test]
    fn flat_export_fields() {
        let event = parse(
            r#"{"EventID":4688,"Channel":"Security","Hostname":"WS1","SourceName":"Microsoft-Windows-Security-Auditing","NewProcessName":"C:\\Windows\\System32\\sc.exe","Task":"13312","Message":"A new process","@timestamp":"2020-10-21T08:45:33.684Z"}"#,
        );
        assert_eq!(event.get("EventID"), Some(&Value::Int(4688)));
        assert_eq!(event.get_str("Computer"), Some("WS1"));
        assert_eq!(event.get_str("Provider_Name"), Some("Microsoft-Windows-Security-Auditing"));
        assert_eq!(event.get_str("process.executable"), Some("C:\\Windows\\System32\\sc.exe"));
        assert_eq!(event.get("Task"), Some(&Value::Int(13312)));
        assert_eq!(event.get_str("message"), Some("A new process"));
        assert_eq!(event.timestamp.unwrap().to_string(), "2020-10-21T08:45:33.684Z");
    }

    #[test]
    fn winlogbeat_ecs_fields() {
        let event = parse(
            r#"{"@timestamp":"2023-05-01T10:00:00.123Z","event":{"code":"1","provider":"Microsoft-Windows-Sysmon"},"host":{"name":"ws1"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","provider_name":"Microsoft-Windows-Sysmon","computer_name":"ws1.example.test","record_id":7,"process":{"pid":2000,"thread":{"id":3000}},"event_data":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami"},"api":"wineventlog"}}"#,
        );
        assert_eq!(event.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(event.get_str("Channel"), Some("Microsoft-Windows-Sysmon/Operational"));
        assert_eq!(event.get_str("Computer"), Some("ws1.example.test"));
        assert_eq!(event.get("Execution_ProcessID"), Some(&Value::Int(2000)));
        assert_eq!(event.get_str("CommandLine"), Some("cmd /c whoami"));
        assert_eq!(event.get_str("winlog.api"), Some("wineventlog"));
        assert_eq!(event.get_str("host.name"), Some("ws1"));
    }

    #[test]
    fn azure_syslog_sysmon_for_linux() {
        let event = parse(
            r#"{"TimeGenerated":"2022-05-11T18:10:20.4Z","Computer":"ubuntu1","SyslogMessage":"<Event><System><Provider Name=\"Linux-Sysmon\"/><EventID>1</EventID><TimeCreated SystemTime=\"2022-05-11T18:10:20.399931000Z\"/><Channel>Linux-Sysmon/Operational</Channel><Computer>ubuntu1</Computer></System><EventData><Data Name=\"Image\">/usr/bin/bash</Data></EventData></Event>","ProcessName":"sysmon"}"#,
        );
        assert_eq!(event.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(event.get_str("Image"), Some("/usr/bin/bash"));
        assert_eq!(event.timestamp.unwrap().to_string(), "2022-05-11T18:10:20.399931000Z");
    }

    #[test]
    fn azure_auoms_record_rejected() {
        let result = parse_record_text(
            r#"{"SyslogMessage":"type=AUOMS_EXECVE audit(1.0:1): syscall=execve","ProcessName":"auoms"}"#,
            Evidence::new(SourceRef::new("t.json")),
        );
        assert!(result.unwrap_err().contains("unsupported"));
    }

    #[test]
    fn sniff_layouts() {
        assert!(sniff(br#"{"EventID":1,"Channel":"Security"}"#));
        assert!(sniff(br#"{"winlog":{"event_id":"1"}}"#));
        assert!(sniff(br#"{"event_id":1,"log_name":"System"}"#));
        assert!(!sniff(br#"{"eventVersion":"1.08","eventName":"GetObject"}"#));
        assert!(!sniff(br#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"x"}"#));
        assert!(!sniff(br#"{"SyslogMessage":"type=AUOMS_EXECVE audit(1.0:1)"}"#));
        assert!(!sniff(br#"[{"EventID":1,"Channel":"Security"}]"#));
    }
}
