//! Log-source routing: which Sigma log sources (product, service, category) an event
//! belongs to.
//!
//! The Windows tables follow SigmaHQ's `tests/thor.yml` (the log-source file its regression
//! CI uses) and the Sigma taxonomy appendix: channels give services, and Sysmon, Security and
//! PowerShell event ids give categories. Security 4688 is `process_creation` too, with the
//! field renames thor.yml gives (`Image` is `NewProcessName`, `ParentImage` is
//! `ParentProcessName`).

use tocsin_event::{Event, Schema};

/// The log sources of one event. All parts are static, so routing never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    pub product: Option<&'static str>,
    pub services: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Renames for rules of this log source: (rule field, event field). Used only when the
    /// event lacks the rule's field name.
    pub field_map: &'static [(&'static str, &'static str)],
}

/// Windows channel to Sigma service.
const WINDOWS_CHANNELS: &[(&str, &str)] = &[
    ("Security", "security"),
    ("System", "system"),
    ("Application", "application"),
    ("Microsoft-Windows-Sysmon/Operational", "sysmon"),
    ("Microsoft-Windows-PowerShell/Operational", "powershell"),
    ("PowerShellCore/Operational", "powershell"),
    ("Windows PowerShell", "powershell-classic"),
    ("Microsoft-Windows-NTLM/Operational", "ntlm"),
    ("Microsoft-Windows-TaskScheduler/Operational", "taskscheduler"),
    ("Microsoft-Windows-WMI-Activity/Operational", "wmi"),
    ("Microsoft-Windows-DHCP-Server/Operational", "dhcp"),
    ("Microsoft-Windows-PrintService/Admin", "printservice-admin"),
    ("Microsoft-Windows-PrintService/Operational", "printservice-operational"),
    ("Microsoft-Windows-SmbClient/Security", "smbclient-security"),
    ("Microsoft-Windows-SmbClient/Connectivity", "smbclient-connectivity"),
    ("Microsoft-Windows-SMBServer/Connectivity", "smbserver-connectivity"),
    ("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", "terminalservices-localsessionmanager"),
    ("Microsoft-Windows-CodeIntegrity/Operational", "codeintegrity-operational"),
    ("Microsoft-Windows-AppLocker/MSI and Script", "applocker"),
    ("Microsoft-Windows-AppLocker/EXE and DLL", "applocker"),
    ("Microsoft-Windows-AppLocker/Packaged app-Deployment", "applocker"),
    ("Microsoft-Windows-AppLocker/Packaged app-Execution", "applocker"),
    ("MSExchange Management", "msexchange-management"),
    ("Microsoft-Windows-Windows Defender/Operational", "windefend"),
    ("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall", "firewall-as"),
    ("Microsoft-Windows-Bits-Client/Operational", "bits-client"),
    ("Microsoft-Windows-Security-Mitigations/Kernel Mode", "security-mitigations"),
    ("Microsoft-Windows-Security-Mitigations/User Mode", "security-mitigations"),
    ("Microsoft-Windows-Diagnosis-Scripted/Operational", "diagnosis-scripted"),
    ("Microsoft-Windows-Shell-Core/Operational", "shell-core"),
    ("OpenSSH/Operational", "openssh"),
    ("Microsoft-Windows-LDAP-Client/Debug", "ldap"),
    ("Microsoft-Windows-BitLocker/BitLocker Management", "bitlocker"),
    ("Microsoft-Windows-VHDMP/Operational", "vhdmp"),
    ("Microsoft-Windows-AppXDeploymentServer/Operational", "appxdeployment-server"),
    ("Microsoft-Windows-LSA/Operational", "lsa-server"),
    ("Microsoft-Windows-AppxPackaging/Operational", "appxpackaging-om"),
    ("Microsoft-Windows-DNS Client Events/Operational", "dns-client"),
    ("Microsoft-Windows-AppModel-Runtime/Admin", "appmodel-runtime"),
    ("Microsoft-Windows-CAPI2/Operational", "capi2"),
    ("Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational", "certificateservicesclient-lifecycle-system"),
    ("Microsoft-Windows-Kernel-ShimEngine/Operational", "kernel-shimengine"),
    ("Microsoft-Windows-Kernel-ShimEngine/Diagnostic", "kernel-shimengine"),
    ("Microsoft-Windows-Application-Experience/Program-Telemetry", "application-experience"),
    ("Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant", "application-experience"),
    ("Microsoft-Windows-Ntfs/Operational", "ntfs"),
    ("Microsoft-Windows-Hyper-V-Worker", "hyper-v-worker"),
    ("Microsoft-Windows-Kernel-EventTracing", "kernel-event-tracing"),
    ("Microsoft-Windows-SENSE/Operational", "sense"),
    ("Microsoft-ServiceBus-Client/Admin", "servicebus-client"),
    ("Microsoft-ServiceBus-Client/Operational", "servicebus-client"),
    ("Microsoft-IIS-Configuration/Operational", "iis-configuration"),
    // Not in thor.yml; channel names from the Windows event log itself.
    ("DNS Server", "dns-server"),
    ("Microsoft-Windows-DNSServer/Analytical", "dns-server-analytic"),
    ("Microsoft-Windows-DriverFrameworks-UserMode/Operational", "driver-framework"),
];

/// Services with two names in SigmaHQ rules: (service of the channel, other name).
fn with_aliases(service: &'static str) -> &'static [&'static str] {
    match service {
        "servicebus-client" => &["servicebus-client", "microsoft-servicebus-client"],
        // OpenSSH for Windows logs sshd's own messages, parsed into the same fields as a
        // Linux auth.log line, so rules written for `service: sshd` apply to it too.
        "openssh" => &["openssh", "sshd"],
        _ => std::slice::from_ref(WINDOWS_CHANNELS.iter().find(|(_, s)| *s == service).map(|(_, s)| s).expect("service from table")),
    }
}

/// Sysmon event id to categories.
fn sysmon_categories(event_id: i64) -> &'static [&'static str] {
    match event_id {
        1 => &["process_creation"],
        2 => &["file_change"],
        3 => &["network_connection"],
        4 | 16 => &["sysmon_status"],
        5 => &["process_termination"],
        6 => &["driver_load"],
        7 => &["image_load"],
        8 => &["create_remote_thread"],
        9 => &["raw_access_thread"],
        10 => &["process_access"],
        11 => &["file_event"],
        12 => &["registry_event", "registry_add", "registry_delete"],
        13 => &["registry_event", "registry_set"],
        14 => &["registry_event", "registry_rename"],
        15 => &["create_stream_hash"],
        17 | 18 => &["pipe_created"],
        19..=21 => &["wmi_event"],
        22 => &["dns_query"],
        23 => &["file_delete"],
        24 => &["clipboard_change"],
        25 => &["process_tampering"],
        26 => &["file_delete_detected"],
        27 => &["file_block_executable"],
        28 => &["file_block_shredding"],
        29 => &["file_executable_detected"],
        255 => &["sysmon_error"],
        _ => &[],
    }
}

const SECURITY_4688_RENAMES: &[(&str, &str)] = &[("Image", "NewProcessName"), ("ParentImage", "ParentProcessName")];
const DEFENDER_RENAMES: &[(&str, &str)] = &[("Signature", "ThreatName"), ("Filename", "Path")];

/// Defender event ids that carry a threat name or path (thor.yml's `antivirus` mapping).
const DEFENDER_ANTIVIRUS_IDS: &[i64] = &[1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116];

fn route_windows(event: &Event) -> Routing {
    let mut routing = Routing { product: Some("windows"), ..Routing::default() };
    let Some(channel) = event.get_str("Channel") else {
        return routing;
    };
    let event_id = event.get_i64("EventID").unwrap_or(-1);
    let service = WINDOWS_CHANNELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(channel))
        .map(|(_, service)| *service);
    if let Some(service) = service {
        routing.services = with_aliases(service);
    }
    match service {
        Some("sysmon") => routing.categories = sysmon_categories(event_id),
        Some("security") if event_id == 4688 => {
            routing.categories = &["process_creation"];
            routing.field_map = SECURITY_4688_RENAMES;
        }
        Some("powershell") => {
            routing.categories = match event_id {
                4103 => &["ps_module"],
                4104 => &["ps_script"],
                _ => &[],
            }
        }
        Some("powershell-classic") => {
            routing.categories = match event_id {
                400 => &["ps_classic_start"],
                600 => &["ps_classic_provider_start"],
                800 => &["ps_classic_script"],
                _ => &[],
            }
        }
        Some("windefend") if DEFENDER_ANTIVIRUS_IDS.contains(&event_id) => {
            routing.categories = &["antivirus"];
            routing.field_map = DEFENDER_RENAMES;
        }
        _ => {}
    }
    routing
}

/// Services of a Linux program name (syslog `process.name`).
fn linux_services(program: &str) -> &'static [&'static str] {
    match program {
        "sshd" | "sshd-session" | "sshd-auth" => &["sshd", "auth", "syslog"],
        "sudo" => &["sudo", "auth", "syslog"],
        "su" | "login" | "systemd-logind" | "passwd" | "useradd" | "usermod" | "groupadd" | "chpasswd" => &["auth", "syslog"],
        "cron" | "CRON" | "crond" | "anacron" => &["cron", "syslog"],
        "vsftpd" => &["vsftpd", "syslog"],
        "clamd" | "freshclam" | "clamscan" => &["clamav", "syslog"],
        "auditd" | "audispd" => &["auditd", "syslog"],
        _ => &["syslog"],
    }
}

/// Returns the Sigma log sources of an event.
pub fn route(event: &Event) -> Routing {
    match event.schema {
        Schema::Windows => route_windows(event),
        Schema::Syslog | Schema::Journald => {
            let program = event.get_str("process.name").unwrap_or("");
            Routing { product: Some("linux"), services: linux_services(program), ..Routing::default() }
        }
        Schema::Auditd => Routing { product: Some("linux"), services: &["auditd"], ..Routing::default() },
        Schema::CloudTrail => Routing { product: Some("aws"), services: &["cloudtrail"], ..Routing::default() },
        Schema::VpcFlow => Routing { product: Some("aws"), services: &["vpcflow"], ..Routing::default() },
        Schema::GuardDuty => Routing { product: Some("aws"), services: &["guardduty"], ..Routing::default() },
        Schema::SecurityHub => Routing { product: Some("aws"), services: &["securityhub"], ..Routing::default() },
        Schema::Json => Routing::default(),
    }
}

/// Reports whether a rule's log source accepts an event with this routing: every part the
/// rule names must be among the event's parts.
pub fn accepts(product: Option<&str>, category: Option<&str>, service: Option<&str>, routing: &Routing) -> bool {
    product.is_none_or(|p| routing.product == Some(p))
        && category.is_none_or(|c| routing.categories.contains(&c))
        && service.is_none_or(|s| routing.services.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Evidence, SourceRef, Value};

    fn windows(channel: &str, id: i64) -> Event {
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("t.evtx"), 1));
        event.push("Channel", channel);
        event.push("EventID", Value::Int(id));
        event
    }

    #[test]
    fn sysmon_process_creation() {
        let routing = route(&windows("Microsoft-Windows-Sysmon/Operational", 1));
        assert_eq!(routing.product, Some("windows"));
        assert_eq!(routing.services, &["sysmon"]);
        assert_eq!(routing.categories, &["process_creation"]);
    }

    #[test]
    fn security_4688_is_process_creation() {
        let routing = route(&windows("Security", 4688));
        assert_eq!(routing.categories, &["process_creation"]);
        assert_eq!(routing.services, &["security"]);
        assert!(routing.field_map.contains(&("Image", "NewProcessName")));
    }

    #[test]
    fn application_event_id_one_has_no_category() {
        let routing = route(&windows("Application", 1));
        assert!(routing.categories.is_empty());
        assert!(!accepts(Some("windows"), Some("process_creation"), None, &routing));
    }

    #[test]
    fn sshd_is_auth() {
        let mut event = Event::new(Schema::Syslog, Evidence::line(SourceRef::new("auth.log"), 1, 0));
        event.push("process.name", "sshd");
        let routing = route(&event);
        assert!(accepts(Some("linux"), None, Some("auth"), &routing));
        assert!(accepts(Some("linux"), None, Some("sshd"), &routing));
    }
}
