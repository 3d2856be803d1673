//! Property test: the indexed matcher returns exactly what rule-by-rule evaluation returns.

mod common;

use proptest::prelude::*;
use tocsin_event::{Event, Evidence, Schema, SourceRef, Value};
use tocsin_sigma::{RuleSet, RuleSetBuilder, Scratch};

const RULES: &str = r"
title: contains
id: 10000000-0000-4000-8000-000000000001
logsource: { product: windows, category: process_creation }
detection:
  selection:
    CommandLine|contains: ['-enc', 'whoami']
  condition: selection
---
title: endswith and not
id: 10000000-0000-4000-8000-000000000002
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: '\cmd.exe'
  filter:
    ParentImage|endswith: '\explorer.exe'
  condition: selection and not filter
---
title: glob and all
id: 10000000-0000-4000-8000-000000000003
logsource: { product: windows }
detection:
  selection:
    CommandLine|contains|all: ['net', 'user*add']
  condition: selection
---
title: windash
id: 10000000-0000-4000-8000-000000000004
logsource: { product: windows, service: sysmon }
detection:
  selection:
    CommandLine|windash|contains: ' -c '
  condition: selection
---
title: regex or exact
id: 10000000-0000-4000-8000-000000000005
logsource: { product: windows, category: process_creation }
detection:
  a:
    CommandLine|re: 'wh.ami'
  b:
    User: 'SYSTEM'
  condition: 1 of them
---
title: keywords
id: 10000000-0000-4000-8000-000000000006
logsource: { product: windows }
detection:
  keywords:
    - 'mimikatz'
  condition: keywords
---
title: security 4688
id: 10000000-0000-4000-8000-000000000007
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: '\net.exe'
    EventID: [1, 4688]
  condition: selection
---
title: any windows numeric
id: 10000000-0000-4000-8000-000000000008
detection:
  selection:
    EventID|gte: 4000
  condition: selection
---
title: keyword list
id: 10000000-0000-4000-8000-000000000009
logsource: { product: windows }
detection:
  keywords: ['WHOAMI', '–C', '4688', 'useradd']
  condition: keywords
---
title: keyword list spelled out
id: 10000000-0000-4000-8000-00000000000a
logsource: { product: windows }
detection:
  k1: ['WHOAMI']
  k2: ['–C']
  k3: ['4688']
  k4: ['useradd']
  condition: 1 of k*
---
title: three clauses
id: 10000000-0000-4000-8000-00000000000b
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: '\cmd.exe'
    CommandLine|contains: 'whoami'
    User: 'SYSTEM'
  condition: selection
---
title: either of two conjunctions
id: 10000000-0000-4000-8000-00000000000c
logsource: { product: windows }
detection:
  a:
    EventID: 4688
    NewProcessName|endswith: '\net.exe'
  b:
    EventID: 1
    CommandLine|contains: '/add'
  condition: 1 of them
---
title: all three substrings
id: 10000000-0000-4000-8000-00000000000d
logsource: { product: windows }
detection:
  selection:
    CommandLine|contains|all: ['net', 'user', '/add']
  condition: selection
---
title: cased keyword and field
id: 10000000-0000-4000-8000-00000000000e
logsource: { product: windows }
detection:
  keywords:
    '|cased': 'WHOAMI'
  selection:
    Image|cased|contains: 'cmd'
  condition: keywords and selection
";

fn rule_set() -> RuleSet {
    let mut builder = RuleSetBuilder::new();
    builder.add_str(RULES, None);
    let (set, report) = builder.build();
    assert_eq!(report.accepted(), report.rules.len(), "{:?}", report.rules);
    set
}

fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "-enc", "WHOAMI", "whoami", "net", "user", "add", "/add", "\u{2013}c", " -c ", " /c ", r"C:\Windows\cmd.exe", r"\explorer.exe",
        "mimikatz", "SYSTEM", "system", r"\net.exe", "x", " ", "*", "\\",
    ])
    .prop_map(str::to_string)
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..5).prop_map(|parts| parts.concat())
}

fn event_strategy() -> impl Strategy<Value = Event> {
    let channel = prop::sample::select(vec!["Microsoft-Windows-Sysmon/Operational", "Security", "Application"]);
    let event_id = prop::sample::select(vec![1i64, 3, 4688, 4624]);
    let field = prop::sample::select(vec!["CommandLine", "Image", "ParentImage", "NewProcessName", "User"]);
    (channel, event_id, prop::collection::vec((field, text(), any::<bool>()), 0..5)).prop_map(|(channel, event_id, fields)| {
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("prop"), 1));
        event.push("Channel", channel);
        event.push("EventID", Value::Int(event_id));
        for (name, value, as_list) in fields {
            if as_list {
                event.push(name, Value::List(vec![Value::from(value.as_str()), Value::from("x")]));
            } else {
                event.push(name, Value::from(value));
            }
        }
        event
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn indexed_equals_unindexed(events in prop::collection::vec(event_strategy(), 1..4)) {
        let set = rule_set();
        let mut scratch = Scratch::new();
        let mut out = Vec::new();
        for event in &events {
            out.clear();
            set.matches_into(event, &mut scratch, &mut out);
            prop_assert_eq!(&out, &set.matches_unindexed(event));
            // The keyword list (searched without folding ASCII text) and the same keywords as
            // separate selections (searched on folded text) must agree.
            prop_assert_eq!(out.contains(&8), out.contains(&9));
        }
    }
}
