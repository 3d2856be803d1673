//! AWS layouts: VPC Flow Logs, CloudTrail, GuardDuty and Security Hub.
//!
//! Only renames live here. Values that need computing (`network.transport` from the protocol
//! number, `source.ip` only when CloudTrail's `sourceIPAddress` is an address, `user.name` of
//! an assumed role, `event.outcome`) are stored by the decoders under their ECS names.

pub(super) const VPCFLOW_ALIASES: &[(&str, &[&str])] = &[
    ("cloud.account.id", &["account-id"]),
    ("cloud.region", &["region"]),
    ("cloud.instance.id", &["instance-id"]),
    ("source.ip", &["srcaddr"]),
    ("source.port", &["srcport"]),
    ("destination.ip", &["dstaddr"]),
    ("destination.port", &["dstport"]),
    ("network.iana_number", &["protocol"]),
    ("network.bytes", &["bytes"]),
    ("network.packets", &["packets"]),
    ("network.direction", &["flow-direction"]),
    ("event.action", &["action"]),
    ("observer.ingress.interface.name", &["interface-id"]),
];

pub(super) const CLOUDTRAIL_ALIASES: &[(&str, &[&str])] = &[
    ("event.action", &["eventName"]),
    ("event.provider", &["eventSource"]),
    ("event.id", &["eventID"]),
    ("event.type", &["eventType"]),
    ("cloud.account.id", &["recipientAccountId", "userIdentity.accountId"]),
    ("cloud.region", &["awsRegion"]),
    ("source.address", &["sourceIPAddress"]),
    ("user_agent.original", &["userAgent"]),
    ("user.id", &["userIdentity.principalId"]),
    ("aws.access_key_id", &["userIdentity.accessKeyId"]),
    ("error.code", &["errorCode"]),
    ("error.message", &["errorMessage"]),
    ("tls.version", &["tlsDetails.tlsVersion"]),
    ("tls.cipher", &["tlsDetails.cipherSuite"]),
];

pub(super) const GUARDDUTY_ALIASES: &[(&str, &[&str])] = &[
    ("event.id", &["id"]),
    ("event.severity", &["severity"]),
    ("event.action", &["service.action.actionType"]),
    ("rule.name", &["type"]),
    ("rule.description", &["title"]),
    ("message", &["description"]),
    ("cloud.account.id", &["accountId"]),
    ("cloud.region", &["region"]),
    ("cloud.instance.id", &["resource.instanceDetails.instanceId"]),
    ("aws.access_key_id", &["resource.accessKeyDetails.accessKeyId"]),
    ("user.name", &["resource.accessKeyDetails.userName"]),
];

pub(super) const SECURITYHUB_ALIASES: &[(&str, &[&str])] = &[
    ("event.id", &["Id"]),
    ("event.severity", &["Severity.Normalized", "FindingProviderFields.Severity.Normalized"]),
    ("rule.name", &["Title"]),
    ("rule.id", &["GeneratorId"]),
    ("rule.description", &["Description"]),
    ("cloud.account.id", &["AwsAccountId"]),
    ("cloud.region", &["Region", "Resources.Region"]),
    ("aws.access_key_id", &["Resources.Details.AwsIamAccessKey.AccessKeyId"]),
];
