//! Windows decoders (EVTX, event XML, JSON lines) over the public samples and hand-made inputs.

mod common;

use std::path::{Path, PathBuf};

use tocsin_event::Value;
use tocsin_ingest::{Collect, Event, FileStats, Format, Location, Options};

use common::{decode_file, decode_file_with, local_data, test_data};

/// Splits one CSV line into fields, with `"..."` quoting and `""` escapes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Reads `(relative path, record count)` pairs from an INDEX.csv that has `file` and `records`
/// columns (counts made with another EVTX parser).
fn index_counts(folder: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(folder.join("INDEX.csv")).expect("INDEX.csv is readable");
    let mut lines = text.lines();
    let header = csv_fields(lines.next().expect("INDEX.csv has a header"));
    let file_column = header.iter().position(|h| h == "file").expect("INDEX.csv has a file column");
    let records_column = header.iter().position(|h| h == "records").expect("INDEX.csv has a records column");
    lines
        .filter(|line| !line.trim().is_empty())
        .map(csv_fields)
        .filter(|fields| fields[file_column].ends_with(".evtx"))
        .map(|fields| (fields[file_column].clone(), fields[records_column].parse().expect("records is a number")))
        .collect()
}

fn evtx_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "evtx") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn one_stats(stats: &[FileStats]) -> &FileStats {
    assert_eq!(stats.len(), 1, "one input expected, got {stats:?}");
    &stats[0]
}

/// Decodes every EVTX file of a folder and compares its event count with INDEX.csv.
fn check_evtx_folder(name: &str) -> usize {
    let Some(folder) = test_data(name) else { return 0 };
    let counts = index_counts(&folder);
    assert!(!counts.is_empty(), "{name}/INDEX.csv lists no EVTX file");
    let mut mismatches = Vec::new();
    for (relative, expected) in &counts {
        let path = folder.join(relative);
        let (out, stats) = decode_file(&path);
        let stats = one_stats(&stats);
        assert_eq!(stats.format, Some(Format::Evtx), "{relative}");
        if out.events.len() as u64 != *expected || !out.errors.is_empty() {
            mismatches.push(format!("{relative}: {} events, INDEX.csv says {expected}; errors: {:?}", out.events.len(), out.errors));
        }
        assert_eq!(stats.records, *expected, "{relative}: records counted");
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(evtx_files(&folder).len(), counts.len(), "{name}: every EVTX file is listed in INDEX.csv");
    counts.len()
}

#[test]
fn evtx_counts_sbousseaden() {
    check_evtx_folder("sbousseaden-evtx-attack-samples");
}

#[test]
fn evtx_counts_evtx_to_mitre_attack() {
    check_evtx_folder("evtx-to-mitre-attack");
}

#[test]
fn evtx_counts_deepbluecli() {
    check_evtx_folder("deepbluecli");
}

/// sigma-regression-data has no record counts in its INDEX.csv. Every case there has the same
/// events as JSON next to the EVTX file (one JSON document per record, made with another
/// parser), so the count of documents is the independent count.
#[test]
fn evtx_counts_sigma_regression() {
    let Some(folder) = test_data("sigma-regression-data") else { return };
    let files = evtx_files(&folder);
    assert!(files.len() > 100);
    let mut mismatches = Vec::new();
    for path in &files {
        let json_path = path.with_extension("json");
        let Ok(json) = std::fs::read_to_string(&json_path) else { continue };
        let expected = count_json_documents(&json);
        let (out, _) = decode_file(path);
        if out.events.len() != expected || !out.errors.is_empty() {
            mismatches.push(format!("{}: {} events, {expected} JSON documents; errors {:?}", path.display(), out.events.len(), out.errors));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

fn count_json_documents(text: &str) -> usize {
    let mut count = 0;
    for document in serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>() {
        match document.expect("valid JSON") {
            serde_json::Value::Array(items) => count += items.len(),
            _ => count += 1,
        }
    }
    count
}

fn evtx_sample(folder: &str, relative: &str) -> Option<PathBuf> {
    test_data(folder).map(|f| f.join(relative))
}

fn first_with_event_id(events: &[Event], id: i64) -> &Event {
    events.iter().find(|e| e.get_i64("EventID") == Some(id)).unwrap_or_else(|| panic!("no event {id}"))
}

#[test]
fn evtx_sysmon_process_creation_fields() {
    let Some(path) = evtx_sample("sbousseaden-evtx-attack-samples", "Execution/exec_sysmon_1_11_lolbin_rundll32_zipfldr_RouteTheCall.evtx") else { return };
    let (out, _) = decode_file(&path);
    let event = &out.events[0];
    assert_eq!(event.get("EventID"), Some(&Value::Int(1)));
    assert_eq!(event.get_str("Channel"), Some("Microsoft-Windows-Sysmon/Operational"));
    assert_eq!(event.get_str("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
    assert_eq!(event.get_str("Computer"), Some("IEWIN7"));
    assert_eq!(event.get("EventRecordID"), Some(&Value::Int(16442)));
    assert_eq!(event.get_str("Image"), Some(r"C:\Python27\python.exe"));
    assert_eq!(event.get_str("CommandLine"), Some(r"python  winpwnage.py -u execute -i 14 -p c:\Windows\System32\calc.exe"));
    assert_eq!(event.get_str("ParentImage"), Some(r"C:\Windows\System32\cmd.exe"));
    assert_eq!(event.get_str("process.parent.executable"), Some(r"C:\Windows\System32\cmd.exe"));
    assert_eq!(event.timestamp.unwrap().to_string(), "2019-05-12T13:58:39.850134000Z");
    assert_eq!(event.evidence.record_id, Some(1));
    assert_eq!(event.evidence.offset, Some(4096 + 512), "first record of the first chunk");
}

#[test]
fn evtx_security_failed_logon_fields() {
    let Some(path) = evtx_sample("evtx-to-mitre-attack", "TA0001-Initial access/T1078-Valid accounts/ID4625-failed login with denied access due to account restriction.evtx") else { return };
    let (out, _) = decode_file(&path);
    let event = first_with_event_id(&out.events, 4625);
    assert_eq!(event.get_str("Channel"), Some("Security"));
    assert_eq!(event.get_str("TargetUserName"), Some("-"));
    assert_eq!(event.get_str("IpAddress"), Some("10.23.23.9"));
    assert_eq!(event.get_str("source.ip"), Some("10.23.23.9"));
    assert_eq!(event.get_str("LogonType"), Some("10"));
    assert_eq!(event.get_str("ProcessName"), Some(r"C:\Windows\System32\winlogon.exe"));
    assert_eq!(event.get("EventRecordID"), Some(&Value::Int(90907)));
    assert_eq!(event.timestamp.unwrap().to_string(), "2021-10-23T21:50:11.666519700Z");
}

#[test]
fn evtx_openssh_operational_fields() {
    let Some(path) = evtx_sample("evtx-to-mitre-attack", "TA0006-Credential Access/T1110.xxx-Brut force/ID4-OpenSSH brutforce with non existing users (sshd logs).evtx") else { return };
    let (out, _) = decode_file(&path);
    let event = &out.events[0];
    assert_eq!(event.get_str("Channel"), Some("OpenSSH/Operational"));
    assert_eq!(event.get_str("Provider_Name"), Some("OpenSSH"));
    assert_eq!(event.get("EventID"), Some(&Value::Int(4)));
    assert_eq!(event.get_str("process"), Some("sshd"));
    assert_eq!(event.get_str("payload"), Some("Invalid user hacker from 10.23.23.9 port 60096"));
    assert_eq!(event.get_str("Security_UserID"), Some("S-1-5-18"));
    assert_eq!(event.get("Execution_ProcessID"), Some(&Value::Int(5848)));
    // Empty System elements (<Correlation/>) must not turn into event data.
    assert_eq!(event.get_source("Correlation"), None);
    assert_eq!(event.get_source("Provider"), None);
}

#[test]
fn evtx_event_id_with_qualifiers() {
    let Some(path) = evtx_sample("deepbluecli", "evtx/metasploit-psexec-native-target-system.evtx") else { return };
    let (out, _) = decode_file(&path);
    let event = first_with_event_id(&out.events, 7045);
    assert_eq!(event.get("Qualifiers"), Some(&Value::Int(16384)));
    assert_eq!(event.get_str("Provider_EventSourceName"), Some("Service Control Manager"));
    assert_eq!(event.get_str("ServiceName"), Some("KgXItsbKgTJzdzwl"));
    assert_eq!(event.get_str("ImagePath"), Some(r"%SYSTEMROOT%\duKhLYUX.exe"));
}

/// B03 on a real classic-provider record: unnamed `<Data>` elements become param1, param2, ...
#[test]
fn evtx_unnamed_data_as_params() {
    let Some(path) = evtx_sample("deepbluecli", "evtx/many-events-application.evtx") else { return };
    let (out, _) = decode_file(&path);
    let event = &out.events[0];
    assert_eq!(event.get_str("Provider_Name"), Some("Microsoft-Windows-EventSystem"));
    assert_eq!(event.get_str("param1"), Some("86400"));
    assert_eq!(event.get_str("param2"), Some("SuppressDuplicateDuration"));
    assert_eq!(event.get_str("param3"), Some(r"Software\Microsoft\EventSystem\EventLog"));
    let doc = event.to_ecs();
    assert_eq!(doc["winlog"]["event_data"]["param2"], "SuppressDuplicateDuration");
}

/// B06: TimeCreated keeps its 7 fraction digits, and the record header's own time (which
/// differs here by about 0.7 s) is kept in its own field.
#[test]
fn evtx_header_time_kept_apart() {
    let Some(path) = evtx_sample("evtx-to-mitre-attack", "TA0006-Credential Access/T1110.xxx-Brut force/ID4-OpenSSH brutforce with non existing users (sshd logs).evtx") else { return };
    let (out, _) = decode_file(&path);
    let event = &out.events[0];
    assert_eq!(event.get_str("TimeCreated_SystemTime"), Some("2021-05-20T12:49:51.6281728Z"));
    assert_eq!(event.timestamp.unwrap().to_string(), "2021-05-20T12:49:51.628172800Z");
    let header = event.get(tocsin_ingest::decode::evtx::HEADER_TIME_FIELD).expect("header time field");
    assert_eq!(header.to_text(), "2021-05-20T12:49:52.315863700Z");
}

#[test]
fn evtx_ecs_document_layout() {
    let Some(path) = evtx_sample("sbousseaden-evtx-attack-samples", "Execution/exec_sysmon_1_11_lolbin_rundll32_zipfldr_RouteTheCall.evtx") else { return };
    let (out, _) = decode_file(&path);
    let doc = out.events[0].to_ecs();
    assert_eq!(doc["winlog"]["channel"], "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(doc["winlog"]["event_id"], "1");
    assert_eq!(doc["winlog"]["record_id"], 16442);
    assert_eq!(doc["winlog"]["provider_name"], "Microsoft-Windows-Sysmon");
    assert_eq!(doc["winlog"]["computer_name"], "IEWIN7");
    assert_eq!(doc["winlog"]["event_data"]["Image"], r"C:\Python27\python.exe");
    assert_eq!(doc["process"]["command_line"], r"python  winpwnage.py -u execute -i 14 -p c:\Windows\System32\calc.exe");
    assert_eq!(doc["@timestamp"], "2019-05-12T13:58:39.850134000Z");
    assert_eq!(doc["tocsin"]["evidence"]["record_id"], 1);
    assert_eq!(doc["log"]["offset"], 4608);
}

// Damaged EVTX files, made by patching a real 33-chunk sample in a temporary folder.

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn chunk_start(number: usize) -> usize {
    FILE_HEADER + number * CHUNK
}

fn read_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().unwrap())
}

/// Recomputes a chunk's two CRC32s: the records' (512..free space) and the header's.
fn fix_chunk_checksums(chunk: &mut [u8]) {
    let free_space = read_u32(chunk, 48) as usize;
    let data_crc = evtx::checksum_ieee(&chunk[512..free_space]);
    chunk[52..56].copy_from_slice(&data_crc.to_le_bytes());
    let mut header = chunk[..120].to_vec();
    header.extend_from_slice(&chunk[128..512]);
    let header_crc = evtx::checksum_ieee(&header);
    chunk[124..128].copy_from_slice(&header_crc.to_le_bytes());
}

fn application_sample() -> Option<Vec<u8>> {
    let path = evtx_sample("deepbluecli", "evtx/many-events-application.evtx")?;
    Some(std::fs::read(path).unwrap())
}

fn decode_patched(name: &str, data: &[u8]) -> (Collect, FileStats, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    let (out, stats) = decode_file(&path);
    let stats = one_stats(&stats).clone();
    (out, stats, path.display().to_string())
}

fn record_ids(out: &Collect) -> Vec<u64> {
    out.events.iter().map(|e| e.evidence.record_id.unwrap()).collect()
}

#[test]
fn evtx_corrupted_chunk_others_decode() {
    let Some(clean) = application_sample() else { return };
    let (clean_out, _, _) = decode_patched("clean.evtx", &clean);
    assert!(clean_out.errors.is_empty(), "{:?}", clean_out.errors);

    // Flip a run of bytes in the middle of chunk 1's records (record ids 126..=222).
    let mut damaged = clean.clone();
    let start = chunk_start(1) + 512 + 20_000;
    for byte in &mut damaged[start..start + 600] {
        *byte ^= 0xA5;
    }
    let (out, stats, path) = decode_patched("damaged.evtx", &damaged);
    assert!(!out.errors.is_empty(), "damage must be reported");
    for error in &out.errors {
        assert_eq!(error.path, path);
        let offset_in_chunk_1 = matches!(error.location, Location::Offset { offset } if (chunk_start(1)..chunk_start(2)).contains(&(offset as usize)));
        let record_in_chunk_1 = matches!(error.location, Location::Record { record_id } if (126..=222).contains(&record_id));
        assert!(offset_in_chunk_1 || record_in_chunk_1, "error outside chunk 1: {error}");
    }
    assert!(out.errors.iter().any(|e| e.message.contains("chunk 1")), "{:?}", out.errors);
    let ids = record_ids(&out);
    for id in record_ids(&clean_out).into_iter().filter(|id| !(126..=222).contains(id)) {
        assert!(ids.contains(&id), "record {id} outside the damaged chunk is missing");
    }
    assert_eq!(stats.errors, out.errors.len() as u64);
}

/// B01: a chunk header that claims 5 more records and nearly the whole chunk as used space,
/// with zeroed slack. Every real record is read, and no error is reported when the checksums
/// match; with stale checksums the only error is the checksum notice.
#[test]
fn evtx_chunk_header_overclaims_records() {
    let Some(clean) = application_sample() else { return };
    let mut patched = clean.clone();
    let chunk = &mut patched[chunk_start(0)..chunk_start(1)];
    let free_space = read_u32(chunk, 48) as usize;
    chunk[free_space..].fill(0);
    let last_id = u64::from_le_bytes(chunk[32..40].try_into().unwrap());
    chunk[32..40].copy_from_slice(&(last_id + 5).to_le_bytes());
    chunk[48..52].copy_from_slice(&((CHUNK - 8) as u32).to_le_bytes());
    let stale = patched.clone();
    fix_chunk_checksums(&mut patched[chunk_start(0)..chunk_start(1)]);

    let (clean_out, _, _) = decode_patched("clean.evtx", &clean);
    let (out, _, _) = decode_patched("overclaim.evtx", &patched);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(record_ids(&out), record_ids(&clean_out));

    let (out, _, _) = decode_patched("overclaim-stale-crc.evtx", &stale);
    assert_eq!(record_ids(&out), record_ids(&clean_out));
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(out.errors[0].message.contains("CRC32"), "{}", out.errors[0]);
}

/// B07: a valid file, one truncated halfway through chunk 2, and one whose first record has a
/// size field of 0xFFFFFFF0. Every intact record is read and each damaged spot is reported
/// with the file and offset.
#[test]
fn evtx_damaged_files_isolated() {
    let Some(clean) = application_sample() else { return };
    let (clean_out, _, _) = decode_patched("valid.evtx", &clean);
    assert!(clean_out.errors.is_empty());
    let total = clean_out.events.len();

    let truncated = &clean[..chunk_start(2) + CHUNK / 2];
    let (out, stats, path) = decode_patched("truncated.evtx", truncated);
    let chunk_2_ids = {
        let chunk = &clean[chunk_start(2)..chunk_start(3)];
        u64::from_le_bytes(chunk[24..32].try_into().unwrap())..=u64::from_le_bytes(chunk[32..40].try_into().unwrap())
    };
    let ids = record_ids(&out);
    assert!(ids.iter().filter(|id| !chunk_2_ids.contains(id)).count() == 222, "chunks 0 and 1 are whole");
    assert!(ids.iter().any(|id| chunk_2_ids.contains(id)), "records in the first half of chunk 2 are read");
    assert!(!out.errors.is_empty(), "truncation must be reported");
    assert!(out.errors.iter().all(|e| e.path == path));
    assert!(out.errors.iter().any(|e| matches!(e.location, Location::Offset { offset } if offset as usize >= chunk_start(2))), "{:?}", out.errors);
    assert!(stats.errors > 0);

    let mut bad_size = clean.clone();
    let record = chunk_start(0) + 512;
    bad_size[record + 4..record + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    fix_chunk_checksums(&mut bad_size[chunk_start(0)..chunk_start(1)]);
    let (out, _, path) = decode_patched("bad-size.evtx", &bad_size);
    assert_eq!(out.events.len(), total - 1, "only the damaged record is lost");
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_eq!(out.errors[0].path, path);
    assert_eq!(out.errors[0].location, Location::Offset { offset: record as u64 });
}

/// B09: the first record's template definition claims 0x7FFFFFFF bytes of data. The records
/// that use that template fail, memory stays small, and the other records are read.
#[test]
fn evtx_huge_template_size_bounded() {
    let Some(clean) = application_sample() else { return };
    let mut patched = clean.clone();
    let binxml = chunk_start(0) + 512 + 24;
    // Fragment header (4 bytes), then TemplateInstance: token, unknown byte, template id,
    // definition offset. The first record contains the definition right after.
    assert_eq!(patched[binxml + 4], 0x0C, "record starts with a template instance");
    let definition = read_u32(&patched, binxml + 10) as usize;
    assert_eq!(definition, binxml + 14 - chunk_start(0), "definition is inline");
    let size_field = binxml + 14 + 4 + 16;
    patched[size_field..size_field + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    fix_chunk_checksums(&mut patched[chunk_start(0)..chunk_start(1)]);

    let (clean_out, _, _) = decode_patched("clean.evtx", &clean);
    let (out, _, path) = decode_patched("huge-template.evtx", &patched);
    assert!(!out.errors.is_empty());
    assert!(out.errors.iter().all(|e| e.path == path));
    assert!(out.events.len() + out.errors.len() >= clean_out.events.len() - 125, "{} events", out.events.len());
    let ids = record_ids(&out);
    assert!(ids.iter().filter(|&&id| id > 125).count() == clean_out.events.len() - 125, "chunks after the damaged one are whole");
}

// OTRF (Mordor) host exports: zip and tar.gz archives of JSON lines.

/// Counts the non-blank lines of every JSON member of an archive, read with the zip, tar and
/// flate2 crates directly (not through tocsin's input layer). A member cut short by a
/// truncated archive counts its complete lines only.
fn archive_json_lines(path: &Path) -> u64 {
    use std::io::Read;
    let count = |data: &[u8]| data.split(|&b| b == b'\n').filter(|line| !line.trim_ascii().is_empty()).count() as u64;
    let file = std::fs::File::open(path).unwrap();
    let mut total = 0;
    if path.extension().is_some_and(|e| e == "zip") {
        let mut archive = zip::ZipArchive::new(file).unwrap();
        for i in 0..archive.len() {
            let mut member = archive.by_index(i).unwrap();
            let name = member.name().map(|n| n.to_string()).unwrap_or_default();
            if !name.ends_with(".json") || name.contains("__MACOSX") {
                continue;
            }
            let mut data = Vec::new();
            member.read_to_end(&mut data).unwrap();
            total += count(&data);
        }
    } else {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let Ok(entries) = archive.entries() else { return 0 };
        for entry in entries {
            let Ok(mut entry) = entry else { break };
            let name = entry.path().unwrap().display().to_string();
            if !name.ends_with(".json") || name.contains("._") {
                continue;
            }
            let mut data = Vec::new();
            let complete = entry.read_to_end(&mut data).is_ok();
            if !complete && let Some(end) = data.iter().rposition(|&b| b == b'\n') {
                data.truncate(end + 1);
            }
            total += count(&data);
        }
    }
    total
}

fn archives(folder: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.display().to_string();
        if path.is_dir() {
            archives(&path, out);
        } else if name.ends_with(".zip") || name.ends_with(".tar.gz") {
            out.push(path);
        }
    }
}

#[test]
fn otrf_windows_exports_counts() {
    let Some(folder) = test_data("otrf-security-datasets/datasets/atomic/windows") else { return };
    let mut paths = Vec::new();
    archives(&folder, &mut paths);
    paths.sort();
    assert!(paths.len() >= 30, "{} archives", paths.len());
    let mut mismatches = Vec::new();
    for path in &paths {
        let expected = archive_json_lines(path);
        let (out, stats) = decode_file(path);
        let json_stats: Vec<&FileStats> = stats.iter().filter(|s| s.format == Some(Format::WindowsJson)).collect();
        assert!(!json_stats.is_empty(), "{}: no Windows JSON member: {stats:?}", path.display());
        let record_errors: u64 = json_stats.iter().map(|s| s.errors).sum();
        if out.events.len() as u64 != expected || record_errors != 0 {
            let errors: Vec<String> = out.errors.iter().take(3).map(|e| e.to_string()).collect();
            mismatches.push(format!("{}: {} events, {expected} lines; {errors:?}", path.display(), out.events.len()));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn otrf_flat_export_fields() {
    let Some(path) = test_data("otrf-security-datasets/datasets/atomic/windows/privilege_escalation/host/cmd_service_mod_fax.zip") else { return };
    let (out, _) = decode_file(&path);
    let event = out.events.iter().find(|e| e.get_i64("EventID") == Some(4688)).expect("a 4688 event");
    assert_eq!(event.get_str("Channel"), Some("Security"));
    assert_eq!(event.get_str("Computer"), Some("WORKSTATION5"));
    assert_eq!(event.get_str("Provider_Name"), Some("Microsoft-Windows-Security-Auditing"));
    assert_eq!(event.get_str("NewProcessName"), Some(r"C:\Windows\System32\sc.exe"));
    assert_eq!(event.get_str("ParentProcessName"), Some(r"C:\Windows\System32\cmd.exe"));
    assert_eq!(event.get_str("process.executable"), Some(r"C:\Windows\System32\sc.exe"));
    assert_eq!(event.timestamp.unwrap().to_string(), "2020-10-21T08:45:33.684Z");
    assert_eq!(event.to_ecs()["winlog"]["channel"], "Security");
}

#[test]
fn otrf_winlogbeat6_export_fields() {
    let Some(path) = test_data("otrf-security-datasets/datasets/atomic/windows/defense_evasion/host/empire_enable_rdp.tar.gz") else { return };
    let (out, _) = decode_file(&path);
    let event = &out.events[0];
    assert_eq!(event.get("EventID"), Some(&Value::Int(3)));
    assert_eq!(event.get_str("Channel"), Some("Microsoft-Windows-Sysmon/Operational"));
    assert_eq!(event.get_str("Computer"), Some("HFDC01.shire.com"));
    assert_eq!(event.get_str("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
    assert_eq!(event.get_str("Image"), Some(r"C:\Windows\System32\svchost.exe"));
    assert_eq!(event.get_str("DestinationPort"), Some("5985"));
    assert_eq!(event.get("EventRecordID").and_then(Value::as_i64), Some(5402080));
    assert_eq!(event.get_str("Security_UserID"), Some("S-1-5-18"));
    assert_eq!(event.timestamp.unwrap().to_string(), "2019-05-18T20:36:46.254Z");
}

/// The Log4Shell compound dataset has Azure Monitor syslog records: Sysmon for Linux events
/// as Windows event XML (decoded), and auoms audit lines (not a Windows format).
#[test]
fn otrf_azure_linux_sysmon_and_auoms() {
    let Some(folder) = test_data("otrf-security-datasets/datasets/compound/Log4Shell") else { return };
    let sysmon = folder.join("syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip");
    let (out, stats) = decode_file(&sysmon);
    assert_eq!(out.events.len() as u64, archive_json_lines(&sysmon));
    // Some messages were cut at about 2 kB by the syslog transport: their events keep the
    // fields before the cut, are marked, and each is reported once.
    let truncated: Vec<&Event> = out.events.iter().filter(|e| e.get("tocsin.truncated").is_some()).collect();
    assert!(!truncated.is_empty());
    assert_eq!(out.errors.len(), truncated.len(), "{:?}", out.errors);
    assert!(out.errors.iter().all(|e| e.message.contains("cut short")), "{:?}", out.errors);
    assert!(truncated.iter().all(|e| e.get("EventID").is_some()));
    // Sysmon for Linux writes `&lt unknown process&gt ` with no semicolons; the text is kept.
    assert!(out.events.iter().any(|e| e.get_str("Image") == Some("&lt unknown process&gt ")));
    assert!(stats.iter().any(|s| s.format == Some(Format::WindowsJson)));
    let event = &out.events[0];
    assert_eq!(event.get_str("Provider_Name"), Some("Linux-Sysmon"));
    assert_eq!(event.get_str("Channel"), Some("Linux-Sysmon/Operational"));
    assert_eq!(event.get("EventID"), Some(&Value::Int(5)));
    assert_eq!(event.get_str("Image"), Some("wdavdaemon"));
    assert_eq!(event.timestamp.unwrap().to_string(), "2022-05-11T18:10:20.399931000Z");

    let auoms = folder.join("syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference.zip");
    let (_, stats) = decode_file(&auoms);
    assert!(stats.iter().all(|s| s.format != Some(Format::WindowsJson)), "auoms records are not Windows events: {stats:?}");
}

// Hand-made inputs (no public sample of these exports exists): tests/data/windows/.

#[test]
fn winxml_wevtutil_export() {
    let (out, stats) = decode_file(&local_data("windows/wevtutil-events.xml"));
    assert_eq!(one_stats(&stats).format, Some(Format::WindowsXml));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.events.len(), 5);

    let logon = &out.events[0];
    assert_eq!(logon.get("EventID"), Some(&Value::Int(4625)));
    assert_eq!(logon.get_str("TargetUserName"), Some("alice"));
    assert_eq!(logon.get_str("source.ip"), Some("192.0.2.10"));
    assert_eq!(logon.get_str("Correlation_ActivityID"), Some("{00000000-0000-0000-0000-000000000001}"));
    assert_eq!(logon.get_str("message"), Some("An account failed to log on."));
    assert_eq!(logon.timestamp.unwrap().to_string(), "2024-02-03T04:05:06.123456700Z");
    assert_eq!(logon.evidence.index, Some(0));

    let service = &out.events[1];
    assert_eq!(service.get("EventID"), Some(&Value::Int(7045)));
    assert_eq!(service.get("Qualifiers"), Some(&Value::Int(16384)));
    assert_eq!(service.get_str("ImagePath"), Some(r#"C:\Users\bob\AppData\Local\Temp\u.exe & "x""#));
    assert_eq!(service.get_str("Security_UserID"), Some("S-1-5-21-111122223333-1000"));

    // B03: unnamed Data in a ForwardedEvents record with RenderingInfo.
    let forwarded = &out.events[2];
    let params: Vec<&str> = (1..=5).map(|i| forwarded.get_str(&format!("param{i}")).unwrap()).collect();
    assert_eq!(params, ["Set-Mailbox", "-Identity alice", "", "5", ""]);
    assert_eq!(forwarded.get_str("Channel"), Some("ForwardedEvents"));
    assert_eq!(forwarded.to_ecs()["winlog"]["event_data"]["param4"], "5");

    // B04 (a): repeated EKU elements with attributes keep every value, in order.
    let certificate = &out.events[3];
    assert_eq!(
        certificate.get("EKU_OID"),
        Some(&Value::List(vec!["1.3.6.1.5.5.7.3.2".into(), "1.3.6.1.5.5.7.3.1".into(), "1.3.6.1.4.1.311.20.2.2".into()]))
    );
    assert_eq!(certificate.get_str("SubjectName"), Some("CN=ws1.example.test"));
    assert_eq!(certificate.get_str("CertificateDetails_Template"), Some("Machine"));

    // B04 (b): several unnamed Data values with \r\n\t give distinct keys and valid JSON.
    let powershell = &out.events[4];
    assert_eq!(powershell.get_str("param1"), Some("Available"));
    assert!(powershell.get_str("param3").unwrap().contains("HostApplication=powershell.exe -nop -w hidden\r\n"));
    let text = serde_json::to_string(&powershell.to_ecs()).unwrap();
    let reparsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reparsed["winlog"]["event_data"]["param2"], "None");
    // Keys of a JSON object built from a map are unique by construction.
    assert_eq!(reparsed["winlog"]["event_data"].as_object().unwrap().len(), 3);
}

/// The same export saved as UTF-16 (little and big endian, as PowerShell 5.1's `Out-File` and
/// other tools write it) and as UTF-8 with a byte order mark gives the same events.
#[test]
fn winxml_export_in_other_encodings() {
    let text = std::fs::read_to_string(local_data("windows/wevtutil-events.xml")).unwrap();
    let decode = |name: &str, bytes: &[u8]| {
        let mut out = Collect::default();
        let stats = tocsin_ingest::decode_bytes_input(name, bytes, &Options::default(), &mut out);
        (out, stats)
    };
    let fields = |out: &Collect| -> Vec<String> { out.events.iter().map(|e| format!("{:?} {:?}", e.timestamp, e.fields())).collect() };
    let (plain, _) = decode("utf8.xml", text.as_bytes());

    let mut utf16le = vec![0xff, 0xfe];
    let mut utf16be = vec![0xfe, 0xff];
    for unit in text.encode_utf16() {
        utf16le.extend(unit.to_le_bytes());
        utf16be.extend(unit.to_be_bytes());
    }
    let utf8_bom = [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat();

    for (name, bytes) in [("utf16le.xml", utf16le), ("utf16be.xml", utf16be), ("utf8-bom.xml", utf8_bom)] {
        let (out, stats) = decode(name, &bytes);
        assert_eq!(one_stats(&stats).format, Some(Format::WindowsXml), "{name}");
        assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
        assert_eq!(out.events.len(), 5, "{name}");
        assert_eq!(fields(&out), fields(&plain), "{name}");
    }
}

/// A file of nothing but byte order marks is reported, not followed without end.
#[test]
fn byte_order_marks_nested_too_deeply() {
    let mut bytes = vec![0xff, 0xfe];
    for _ in 0..64 {
        bytes.extend(0xfeffu16.to_le_bytes());
    }
    let mut out = Collect::default();
    tocsin_ingest::decode_bytes_input("boms.txt", &bytes, &Options::default(), &mut out);
    assert!(out.errors.iter().any(|e| e.to_string().contains("byte order marks nested too deeply")), "{:?}", out.errors);
}

#[test]
fn winxml_get_winevent_export_with_bad_element() {
    let path = local_data("windows/get-winevent-toxml.xml");
    let (out, stats) = decode_file(&path);
    assert_eq!(one_stats(&stats).format, Some(Format::WindowsXml));
    assert_eq!(one_stats(&stats).records, 4);
    assert_eq!(out.events.len(), 3, "the malformed third element is skipped");
    assert_eq!(out.errors.len(), 1);
    let text = std::fs::read_to_string(&path).unwrap();
    let third = text.match_indices("<Event ").nth(2).unwrap().0 as u64;
    assert_eq!(out.errors[0].location, Location::Offset { offset: third });
    let process = &out.events[0];
    assert_eq!(process.get_str("CommandLine"), Some("python.exe -m http.server 8000"));
    assert_eq!(process.get_str("user.name"), Some(r"EXAMPLE\bob"));
    assert_eq!(out.events[1].get_str("destination.ip"), Some("203.0.113.9"));
    assert_eq!(out.events[2].get("EventRecordID"), Some(&Value::Int(9)));
}

#[test]
fn winjson_winlogbeat_ecs_export() {
    let (out, stats) = decode_file(&local_data("windows/winlogbeat-ecs.ndjson"));
    let stats = one_stats(&stats);
    assert_eq!(stats.format, Some(Format::WindowsJson));
    assert_eq!(stats.records, 4, "the blank line is not a record");
    assert_eq!(out.events.len(), 3);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].location, Location::Line { line: 5, offset: std::fs::read_to_string(local_data("windows/winlogbeat-ecs.ndjson")).unwrap().match_indices('\n').nth(3).unwrap().0 as u64 + 1 });

    let logon = &out.events[0];
    assert_eq!(logon.get("EventID"), Some(&Value::Int(4625)));
    assert_eq!(logon.get_str("Channel"), Some("Security"));
    assert_eq!(logon.get_str("TargetUserName"), Some("bob"));
    assert_eq!(logon.get_str("IpAddress"), Some("203.0.113.50"));
    assert_eq!(logon.get("EventRecordID"), Some(&Value::Int(5001)));
    assert_eq!(logon.get_str("event.outcome"), Some("failure"));
    assert_eq!(logon.timestamp.unwrap().to_string(), "2024-04-01T08:00:00.123Z");
    let doc = logon.to_ecs();
    assert_eq!(doc["winlog"]["event_data"]["TargetUserName"], "bob");
    assert_eq!(doc["winlog"]["channel"], "Security");

    assert_eq!(out.events[1].get_str("SubjectUserName"), Some("alice"));
    assert_eq!(out.events[2].get_str("param1"), Some("Set-Mailbox"));
}

#[test]
fn evtx_threads_give_same_events() {
    let Some(path) = evtx_sample("deepbluecli", "evtx/many-events-application.evtx") else { return };
    let (one, _) = decode_file(&path);
    let (two, _) = decode_file_with(&path, &Options { evtx_threads: 2, ..Options::default() });
    assert_eq!(record_ids(&one), record_ids(&two));
    assert_eq!(one.events[100].fields(), two.events[100].fields());
}
