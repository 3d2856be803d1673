#!/usr/bin/env python3
"""Write an rsigma processing pipeline that routes Windows log sources as tocsin does.

The tables are read from tocsin's crates/sigma/src/logsource.rs (the channel-to-service table,
the service aliases, the Sysmon event id table and the per-service event id arms of
`route_windows`), so the pipeline follows that file when it changes. Each routed service or
category becomes an `add_condition` transformation gated by a `logsource` rule condition:
services add `SystemChannel`, categories add `SystemChannel` and `EventID`.

Two differences from tocsin are deliberate:
- Security 4688 is left out of `process_creation`, so rsigma evaluates process creation rules on
  Sysmon event 1 only. tocsin's renames for 4688 (`Image` is `NewProcessName`) do not fit in one
  `add_condition`.
- A category or service that some rule names but that tocsin never routes gets a condition no
  event meets, because tocsin never fires such a rule. Without it, rsigma would evaluate the
  rule against every event.

Usage: gen_pipeline.py LOGSOURCE_RS RULES_DIR > pipeline.yml
"""

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

# A Channel value that no Windows event has.
NEVER_CHANNEL = "rsigma-diff: tocsin routes no event to this log source"


def function_body(source, name):
    """Return the text of `fn name` up to the first line that is a lone closing brace."""
    match = re.search(r"fn " + name + r"\b.*?\n\}\n", source, re.S)
    if not match:
        sys.exit(f"gen_pipeline: fn {name} not found in logsource.rs")
    return match.group(0)


def parse_ids(text):
    """Parse a Rust match pattern such as `4 | 16` or `19..=21` into event ids."""
    ids = []
    for part in text.split("|"):
        part = part.strip()
        if "..=" in part:
            low, high = part.split("..=")
            ids.extend(range(int(low), int(high) + 1))
        else:
            ids.append(int(part))
    return ids


def parse_strings(text):
    return re.findall(r'"([^"]+)"', text)


def id_arms(text):
    """Yield (event ids, categories) for each `N => &["category", ...]` arm in text."""
    for pattern, categories in re.findall(r"^\s*([\d |.=]+?)\s*=>\s*&\[(.*?)\]", text, re.M):
        yield parse_ids(pattern), parse_strings(categories)


def parse_logsource(source):
    """Return (service -> channels, category -> [(service, event ids, renames)])."""
    table = re.search(r"const WINDOWS_CHANNELS[^=]*=\s*&\[(.*?)\n\];", source, re.S)
    if not table:
        sys.exit("gen_pipeline: WINDOWS_CHANNELS not found in logsource.rs")
    channels = defaultdict(list)
    for channel, service in re.findall(r'^\s*\("([^"]+)",\s*"([^"]+)"\)', table.group(1), re.M):
        channels[service].append(channel)

    # Aliases: a rule naming the alias accepts the channels of the service.
    for service, names in re.findall(r'^\s*"([^"]+)"\s*=>\s*&\[(.*?)\]', function_body(source, "with_aliases"), re.M):
        for alias in parse_strings(names):
            if alias != service:
                channels[alias] = channels[service]

    consts = {name: [int(n) for n in re.findall(r"\d+", body)] for name, body in re.findall(r"const (\w+): &\[i64\] = &\[(.*?)\];", source, re.S)}
    renames = {name: re.findall(r'\("([^"]+)",\s*"([^"]+)"\)', body) for name, body in re.findall(r"const (\w+): &\[\(&str, &str\)\] = &\[(.*?)\];", source, re.S)}
    sysmon = list(id_arms(function_body(source, "sysmon_categories")))

    categories = defaultdict(list)
    route = function_body(source, "route_windows")
    arms = list(re.finditer(r'Some\("([^"]+)"\)(?:\s+if\s+([^=]+?==\s*\d+|[^=]+?\.contains\(&event_id\)))?\s*=>', route))
    if not arms:
        sys.exit("gen_pipeline: no service arms found in route_windows")
    for i, arm in enumerate(arms):
        service, guard = arm.group(1), arm.group(2)
        end = arms[i + 1].start() if i + 1 < len(arms) else route.index("_ => {}", arm.end())
        body = route[arm.end():end]
        field_map = re.search(r"routing\.field_map = (\w+);", body)
        arm_renames = renames[field_map.group(1)] if field_map else []
        if "sysmon_categories(event_id)" in body:
            found = sysmon
        elif guard:
            ids = [int(n) for n in re.findall(r"==\s*(\d+)", guard)] or consts[guard.split(".")[0].strip()]
            found = [(ids, parse_strings(re.search(r"routing\.categories = &\[(.*?)\]", body).group(1)))]
        else:
            found = list(id_arms(body))
        if not found:
            sys.exit(f"gen_pipeline: could not read the categories of service {service}")
        for ids, names in found:
            for name in names:
                categories[name].append((service, ids, arm_renames))
    return channels, categories


def rule_logsources(rules_dir):
    """Return the sets of categories and services that the rules under rules_dir name."""
    used = {"category": set(), "service": set()}
    for path in Path(rules_dir).rglob("*.yml"):
        block = re.search(r"^logsource:\n((?:[ \t]+.*\n|\s*\n)+)", path.read_text(encoding="utf-8", errors="replace"), re.M)
        if block:
            for key, value in re.findall(r"^\s+(category|service):\s*([^\s#]+)", block.group(1), re.M):
                used[key].add(value.strip("'\""))
    return used["category"], used["service"]


def item(item_id, conditions, logsource):
    return {"id": item_id, "type": "add_condition", "conditions": conditions, "rule_conditions": [dict(type="logsource", **logsource)]}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_pipeline.py LOGSOURCE_RS RULES_DIR > pipeline.yml")
    channels, categories = parse_logsource(Path(sys.argv[1]).read_text(encoding="utf-8"))
    used_categories, used_services = rule_logsources(sys.argv[2])

    transformations = []
    for service in sorted(channels):
        transformations.append(item(f"service_{service}", {"SystemChannel": channels[service]}, {"service": service}))
    for category in sorted(categories):
        sources = [(s, ids, r) for s, ids, r in categories[category] if not (category == "process_creation" and s == "security")]
        services = {s for s, _, _ in sources}
        if len(services) != 1:
            sys.exit(f"gen_pipeline: category {category} comes from {sorted(services)}; one add_condition cannot express that")
        service = services.pop()
        ids = sorted({i for _, event_ids, _ in sources for i in event_ids})
        transformations.append(item(f"category_{category}", {"SystemChannel": channels[service], "EventID": ids}, {"category": category}))
        field_map = {rule_field: [rule_field, event_field] for _, _, r in sources for rule_field, event_field in r}
        if field_map:
            transformations.append({"id": f"renames_{category}", "type": "field_name_mapping", "mapping": field_map, "rule_conditions": [{"type": "logsource", "category": category}]})
    for category in sorted(used_categories - set(categories)):
        transformations.append(item(f"unrouted_category_{category}", {"SystemChannel": NEVER_CHANNEL}, {"category": category}))
    for service in sorted(used_services - set(channels)):
        transformations.append(item(f"unrouted_service_{service}", {"SystemChannel": NEVER_CHANNEL}, {"service": service}))

    # JSON is YAML, and json.dumps quotes every string safely.
    print("# Generated by scripts/rsigma-diff/gen_pipeline.py from crates/sigma/src/logsource.rs.")
    print(json.dumps({"name": "tocsin-windows-routing", "priority": 10, "transformations": transformations}, indent=1))


if __name__ == "__main__":
    main()
