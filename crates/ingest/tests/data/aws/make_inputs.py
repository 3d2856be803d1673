#!/usr/bin/env python3
"""Writes the hand-made AWS test inputs in this folder.

Every value is a placeholder: account 111122223333, users alice, bob, carol and dave, and
addresses from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32. The shapes
follow the AWS documentation of each format. Gzip output uses mtime 0, so a second run writes
the same bytes. Run from this folder: `python3 make_inputs.py`.
"""

import base64
import gzip
import json
import os


def gz(data):
    return gzip.compress(data, mtime=0)


def b64(data):
    return base64.b64encode(data).decode()


def write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


# ---------- VPC Flow Logs ----------

# A 29-field custom format as an S3 object header, with ACCEPT, NODATA and SKIPDATA records.
HEADER_29 = ("account-id action az-id bytes dstaddr dstport end flow-direction instance-id interface-id "
             "log-status packets pkt-dst-aws-service pkt-dstaddr pkt-src-aws-service pkt-srcaddr protocol "
             "region srcaddr srcport start sublocation-id sublocation-type subnet-id tcp-flags traffic-path "
             "type version vpc-id")
RECORDS_29 = [
    "111122223333 ACCEPT use1-az1 4249 192.0.2.10 22 1700000060 ingress i-0123456789abcdef0 eni-0123456789abcdef0 OK 20 - 192.0.2.10 - 198.51.100.7 6 us-east-1 198.51.100.7 49152 1700000000 - - subnet-0123456789abcdef0 2 - IPv4 5 vpc-0123456789abcdef0",
    "111122223333 - use1-az1 - - - 1700000060 - i-0123456789abcdef0 eni-0123456789abcdef0 NODATA - - - - - - us-east-1 - - 1700000000 - - subnet-0123456789abcdef0 - - - 5 vpc-0123456789abcdef0",
    "111122223333 - use1-az1 - - - 1700000060 - i-0123456789abcdef0 eni-0123456789abcdef0 SKIPDATA - - - - - - us-east-1 - - 1700000000 - - subnet-0123456789abcdef0 - - - 5 vpc-0123456789abcdef0",
]
for record in RECORDS_29:
    assert len(record.split()) == 29
write("vpcflow/custom-skipdata.log", HEADER_29 + "\n" + "\n".join(RECORDS_29) + "\n")
# The same layout with one more value and no header: no layout fits, so it must be an error.
write("vpcflow/no-header-30-values.log", RECORDS_29[0] + " extra\n")

# Version 5 and 7 fields plus a field name no version documents.
FORMAT_V7 = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
             "action log-status flow-direction traffic-path ecs-cluster-name ecs-task-id future-field-x")
RECORD_V7 = "7 111122223333 eni-0123456789abcdef0 198.51.100.7 192.0.2.10 49152 443 6 10 840 1700000000 1700000060 ACCEPT OK ingress 1 - - abc"
assert len(RECORD_V7.split()) == len(FORMAT_V7.split())
write("vpcflow/v7-unknown-field.log", FORMAT_V7 + "\n" + RECORD_V7 + "\n")
write("vpcflow/v7-no-header.log", RECORD_V7 + "\n")
write("vpcflow/v7-no-header.format", FORMAT_V7 + "\n")

# An S3 object (gzip, header line) with an ICMPv6 and an ICMP record.
HEADER_V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
S3_OBJECT = (HEADER_V2 + "\n"
             "2 111122223333 eni-0123456789abcdef0 2001:db8::7 2001:db8:1::10 0 0 58 3 252 1700000000 1700000060 REJECT OK\n"
             "2 111122223333 eni-0123456789abcdef0 192.0.2.1 192.0.2.10 0 0 1 4 336 1700000000 1700000060 ACCEPT OK\n")
write("vpcflow/s3-object.log.gz", gz(S3_OBJECT.encode()))


# ---------- CloudTrail ----------

def cloudtrail_event(name, time, identity, ip="198.51.100.7", **extra):
    event = {
        "eventVersion": "1.08", "userIdentity": identity, "eventTime": time,
        "eventSource": "iam.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": ip, "userAgent": "aws-cli/2.13.0", "requestParameters": None,
        "responseElements": None, "requestID": "00000000-0000-0000-0000-000000000001",
        "eventID": "00000000-0000-0000-0000-00000000000" + str(len(name) % 10),
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": "111122223333", "eventCategory": "Management",
    }
    event.update(extra)
    return event


ALICE = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE", "arn": "arn:aws:iam::111122223333:user/alice",
         "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}
RECORDS = {"Records": [
    cloudtrail_event("ListUsers", "2023-07-10T11:45:01Z", ALICE),
    cloudtrail_event("GetUser", "2023-07-10T11:45:02Z", ALICE, errorCode="AccessDenied", errorMessage="not authorized"),
]}
write("cloudtrail/111122223333_CloudTrail_us-east-1_20230710T1145Z_example.json.gz", gz(json.dumps(RECORDS).encode()))
write("cloudtrail/uncompressed-named.json.gz", json.dumps(RECORDS))
write("cloudtrail/111122223333_CloudTrail_us-east-1_20230710T1150Z_empty.json.gz", gz(b'{"Records":[]}'))

DIGEST = {
    "awsAccountId": "111122223333", "digestStartTime": "2023-07-10T11:00:00Z", "digestEndTime": "2023-07-10T12:00:00Z",
    "digestS3Bucket": "example-trail-bucket",
    "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_example_us-east-1_20230710T120000Z.json.gz",
    "digestPublicKeyFingerprint": "00112233445566778899aabbccddeeff", "digestSignatureAlgorithm": "SHA256withRSA",
    "newestEventTime": "2023-07-10T11:45:02Z", "oldestEventTime": "2023-07-10T11:45:01Z",
    "previousDigestS3Bucket": "example-trail-bucket",
    "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/previous.json.gz",
    "previousDigestHashValue": "00", "previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": "00ff",
    "logFiles": [{
        "s3Bucket": "example-trail-bucket",
        "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1145Z_example.json.gz",
        "hashValue": "00", "hashAlgorithm": "SHA-256",
        "newestEventTime": "2023-07-10T11:45:02Z", "oldestEventTime": "2023-07-10T11:45:01Z"}],
}
write("cloudtrail/CloudTrail-Digest/111122223333_CloudTrail-Digest_us-east-1_example_us-east-1_20230710T120000Z.json.gz",
      gz(json.dumps(DIGEST).encode()))

# userIdentity variants, one event per line: assumed role with an e-mail session, an IAM
# Identity Center role, root, an AWS service, a federated user, an assumed role without arn.
IDENTITIES = [
    {"type": "AssumedRole", "principalId": "AROAEXAMPLEADMINS:alice@example.com",
     "arn": "arn:aws:sts::111122223333:assumed-role/Admins/alice@example.com", "accountId": "111122223333",
     "accessKeyId": "ASIAEXAMPLEALICE0001",
     "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEADMINS",
                                          "arn": "arn:aws:iam::111122223333:role/Admins", "accountId": "111122223333",
                                          "userName": "Admins"},
                        "attributes": {"creationDate": "2023-07-10T11:00:00Z", "mfaAuthenticated": "false"}}},
    {"type": "AssumedRole", "principalId": "AROAEXAMPLESSO:bob",
     "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123abcd/bob", "accountId": "111122223333",
     "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_ReadOnly_0123abcd"}}},
    {"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
    {"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"},
    {"type": "FederatedUser", "principalId": "111122223333:carol",
     "arn": "arn:aws:sts::111122223333:federated-user/carol", "accountId": "111122223333",
     "sessionContext": {"sessionIssuer": {"type": "IAMUser", "userName": "alice"}}},
    {"type": "AssumedRole", "principalId": "AROAEXAMPLEADMINS:dave", "accountId": "111122223333"},
]
SOURCES = ["203.0.113.9", "198.51.100.7", "192.0.2.44", "autoscaling.amazonaws.com", "2001:db8::5", "AWS Internal"]
LINES = [json.dumps(cloudtrail_event("ListBuckets", "2023-07-10T11:46:0%dZ" % i, identity, ip=ip))
         for i, (identity, ip) in enumerate(zip(IDENTITIES, SOURCES))]
write("cloudtrail/identities.jsonl", "\n".join(LINES) + "\n")


# `aws cloudtrail lookup-events` output: each result contains the event as a JSON string.
LOOKUP = {"Events": [
    {"EventId": "00000000-0000-0000-0000-00000000000%d" % i, "EventName": event["eventName"], "ReadOnly": "true",
     "AccessKeyId": "AKIAEXAMPLEALICE0001", "EventTime": "2023-07-10T11:45:0%d+00:00" % (i + 1),
     "EventSource": "iam.amazonaws.com", "Username": "alice", "Resources": [],
     "CloudTrailEvent": json.dumps(event)}
    for i, event in enumerate(RECORDS["Records"])],
    "NextToken": "example-token"}
write("cloudtrail/lookup-events.json", json.dumps(LOOKUP, indent=4))


# ---------- CloudWatch Logs ----------

SSHD = "Jul 10 11:45:01 web-01 sshd[4242]: Failed password for invalid user alice from 203.0.113.9 port 51000 ssh2"
TRAIL = json.dumps(cloudtrail_event("ConsoleLogin", "2023-07-10T11:45:03Z", ALICE, ip="203.0.113.9"))
FLOW = "2 111122223333 eni-0123456789abcdef0 203.0.113.9 192.0.2.10 51000 22 6 20 4249 1688989500 1688989560 REJECT OK"


def envelope(messages):
    return {
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/var/log/secure",
        "logStream": "i-0123456789abcdef0", "subscriptionFilters": ["to-firehose"],
        "logEvents": [{"id": "3720000000000000000000000000000000000000000000000000000%d" % i,
                       "timestamp": 1688989501123 + i, "message": m} for i, m in enumerate(messages)],
    }


CONTROL = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
           "subscriptionFilters": [],
           "logEvents": [{"id": "", "timestamp": 1688989500000,
                          "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
DATA = envelope([SSHD, TRAIL])
write("cloudwatch/firehose-body.json", json.dumps({
    "requestId": "00000000-0000-0000-0000-000000000000", "timestamp": 1688989510000,
    "records": [{"data": b64(gz(json.dumps(CONTROL).encode()))}, {"data": b64(gz(json.dumps(DATA).encode()))}],
}, indent=2))
write("cloudwatch/firehose-double-gzip.json", json.dumps({
    "requestId": "00000000-0000-0000-0000-000000000001", "timestamp": 1688989510000,
    "records": [{"data": b64(gz(gz(json.dumps(DATA).encode())))}]}))
write("cloudwatch/firehose-not-gzip.json", json.dumps({
    "requestId": "00000000-0000-0000-0000-000000000002", "timestamp": 1688989510000,
    "records": [{"data": b64(json.dumps(DATA).encode())}]}))
write("cloudwatch/subscription.b64", b64(gz(json.dumps(envelope([SSHD, FLOW])).encode())) + "\n")
write("cloudwatch/subscription.json.gz", gz(json.dumps(envelope([SSHD, FLOW])).encode()))
write("cloudwatch/lambda-event.json", json.dumps({"awslogs": {"data": b64(gz(json.dumps(envelope([FLOW])).encode()))}}, indent=2))

write("cloudwatch/filter-log-events.json", json.dumps({
    "events": [
        {"logStreamName": "i-0123456789abcdef0", "timestamp": 1688989501123, "message": SSHD,
         "ingestionTime": 1688989502000, "eventId": "37200000000000000000000000000000000000000000000000000001"},
        {"logStreamName": "eni-0123456789abcdef0-all", "timestamp": 1688989560000, "message": FLOW,
         "ingestionTime": 1688989600000, "eventId": "37200000000000000000000000000000000000000000000000000002"},
        {"logStreamName": "111122223333_CloudTrail_us-east-1", "timestamp": 1688989503000, "message": TRAIL,
         "ingestionTime": 1688989504000, "eventId": "37200000000000000000000000000000000000000000000000000003"}],
    "searchedLogStreams": [{"logStreamName": "i-0123456789abcdef0", "searchedCompletely": True}],
}, indent=4))
write("cloudwatch/get-log-events.json", json.dumps({
    "events": [{"timestamp": 1688989501123, "message": SSHD, "ingestionTime": 1688989502000}],
    "nextForwardToken": "f/00000000000000000000000000000000000000000000000000000001",
    "nextBackwardToken": "b/00000000000000000000000000000000000000000000000000000001",
}, indent=4))
EXPORT = ("2023-07-10T11:45:01.123Z " + SSHD + "\n"
          "2023-07-10T11:45:02.000Z Traceback (most recent call last):\n"
          "  File \"app.py\", line 1, in <module>\n"
          "2023-07-10T11:45:03.456Z " + FLOW + "\n")
write("cloudwatch/export-000000.gz", gz(EXPORT.encode()))


# ---------- GuardDuty and Security Hub ----------

GD = {
    "schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1", "partition": "aws",
    "id": "00000000000000000000000000000001",
    "arn": "arn:aws:guardduty:us-east-1:111122223333:detector/00000000000000000000000000000000/finding/00000000000000000000000000000001",
    "type": "UnauthorizedAccess:EC2/SSHBruteForce",
    "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123456789abcdef0", "instanceType": "t3.micro"}},
    "service": {
        "serviceName": "guardduty", "detectorId": "00000000000000000000000000000000",
        "action": {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
            "connectionDirection": "INBOUND", "remoteIpDetails": {"ipAddressV4": "203.0.113.9"},
            "remotePortDetails": {"port": 51000}, "localPortDetails": {"port": 22}, "protocol": "TCP", "blocked": False}},
        "resourceRole": "TARGET", "eventFirstSeen": "2023-07-10T11:40:00.000Z", "eventLastSeen": "2023-07-10T11:45:00.000Z",
        "archived": False, "count": 12},
    "severity": 2, "createdAt": "2023-07-10T11:41:00.000Z", "updatedAt": "2023-07-10T11:45:30.500Z",
    "title": "198.51.100.7 is performing SSH brute force attacks against i-0123456789abcdef0.",
    "description": "SSH brute force against an instance.",
}
GD2 = json.loads(json.dumps(GD))
GD2["id"] = "00000000000000000000000000000002"
GD2["type"] = "UnauthorizedAccess:IAMUser/MaliciousIPCaller"
GD2["resource"] = {"resourceType": "AccessKey", "accessKeyDetails": {
    "accessKeyId": "AKIAEXAMPLEBOB000001", "principalId": "AIDAEXAMPLEBOB", "userName": "bob", "userType": "IAMUser"}}
GD2["service"]["action"] = {"actionType": "AWS_API_CALL", "awsApiCallAction": {
    "api": "ListBuckets", "serviceName": "s3.amazonaws.com", "remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}
GD2["severity"] = 5.0
write("findings/guardduty-get-findings.json", json.dumps({"Findings": [GD, GD2]}, indent=2))
EVENTBRIDGE = {"version": "0", "id": "00000000-0000-0000-0000-000000000003", "detail-type": "GuardDuty Finding",
               "source": "aws.guardduty", "account": "111122223333", "time": "2023-07-10T11:46:00Z",
               "region": "us-east-1", "resources": [], "detail": GD}
write("findings/guardduty-eventbridge.jsonl", json.dumps(EVENTBRIDGE) + "\n" + json.dumps(dict(EVENTBRIDGE, detail=GD2)) + "\n")

ASFF = {
    "SchemaVersion": "2018-10-08", "Id": "arn:aws:securityhub:us-east-1:111122223333:finding/00000000-0000-0000-0000-000000000004",
    "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty",
    "GeneratorId": "arn:aws:guardduty:us-east-1:111122223333:detector/00000000000000000000000000000000",
    "AwsAccountId": "111122223333", "Region": "us-east-1",
    "Types": ["TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce"],
    "FirstObservedAt": "2023-07-10T11:40:00.000Z", "LastObservedAt": "2023-07-10T11:45:00.000Z",
    "CreatedAt": "2023-07-10T11:41:00.000Z", "UpdatedAt": "2023-07-10T11:45:30.500Z",
    "Severity": {"Label": "LOW", "Normalized": 20},
    "Title": "198.51.100.7 is performing SSH brute force attacks against i-0123456789abcdef0.",
    "Description": "SSH brute force against an instance.",
    "Network": {"Direction": "IN", "Protocol": "TCP", "SourceIpV4": "198.51.100.7", "SourcePort": 51000, "DestinationPort": 22},
    "Resources": [
        {"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0",
         "Partition": "aws", "Region": "us-east-1"},
        {"Type": "AwsIamAccessKey", "Id": "AKIAEXAMPLEBOB000001", "Partition": "aws", "Region": "us-east-1",
         "Details": {"AwsIamAccessKey": {"PrincipalName": "bob", "Status": "Active"}}}],
    "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
}
write("findings/securityhub-get-findings.json", json.dumps({"Findings": [ASFF]}, indent=2))
write("findings/securityhub-eventbridge.json", json.dumps({
    "version": "0", "id": "00000000-0000-0000-0000-000000000005", "detail-type": "Security Hub Findings - Imported",
    "source": "aws.securityhub", "account": "111122223333", "time": "2023-07-10T11:46:00Z", "region": "us-east-1",
    "resources": [ASFF["Id"]], "detail": {"findings": [ASFF, dict(ASFF, Id="second")]}}, indent=2))
