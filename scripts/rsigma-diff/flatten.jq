# Flatten one EVTX record, as rsigma's EVTX reader renders it (nested `Event.System.*`,
# `Event.EventData.*`, `Event.UserData.*`), into the flat field names that SigmaHQ rules use and
# tocsin's EVTX decoder produces:
# - System children keep their names and attributes become `Element_Attribute`
#   (`Provider_Name`, `TimeCreated_SystemTime`, `Security_UserID`). `EventID` is the number even
#   when the element carries a `Qualifiers` attribute (which becomes `Qualifiers`), and the
#   numeric System fields are numbers even where the record stores them as strings.
# - Leaves of EventData, UserData and the other data sections (ProcessingErrorData) keep their
#   names at any depth, attributes become `Element_Attribute`, unnamed `<Data>` values become
#   `param1`, `param2`, ... and spaces are dropped from names (`Source Name` becomes
#   `SourceName`, as SigmaHQ rules write it).
# - Data values are text, as in the XML that tocsin reads: numbers and booleans are turned into
#   strings and an empty element into "".
# - GUID values are written `{lowercase}` as in that XML. The reader renders a GUID-typed value as
#   bare uppercase hex, which is how it is recognised; a string value that happens to be a bare
#   uppercase GUID gets braces too (NOTE: tocsin keeps such strings as they are).

def guid:
  if type == "string" and test("^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
  then "{" + ascii_downcase + "}" else . end;

def text:
  if type == "number" or type == "boolean" then tostring
  elif type == "null" then ""
  elif type == "array" then map(text)
  else guid end;

# [name, value] pairs for the children of one element. Namespace declarations are skipped.
def fields:
  to_entries[]
  | .key as $name
  | .value as $value
  | if $name == "#attributes" then empty
    elif $name == "Data" and ($value | type) == "object" and ($value | has("#text")) then
      ([$value["#text"]] | flatten) as $items
      | range(0; $items | length)
      | ["param\(. + 1)", $items[.]]
    elif ($value | type) == "object" then
      (($value["#attributes"] // {}) | to_entries[] | select(.key | startswith("xmlns") | not) | ["\($name)_\(.key)", .value]),
      (if $value | has("#text") then [$name, $value["#text"]] else ($value | fields) end)
    else [$name, $value]
    end;

.Event as $event
| (reduce ($event.System | fields | select(.[1] != null)) as $pair ({}; .[$pair[0]] = ($pair[1] | guid))
   | .EventID = ($event.System.EventID | if type == "object" then .["#text"] else . end)
   | if has("EventID_Qualifiers") then .Qualifiers = .EventID_Qualifiers | del(.EventID_Qualifiers) else . end
   | reduce ("EventID", "Qualifiers", "Version", "Level", "Task", "Opcode", "EventRecordID", "Execution_ProcessID", "Execution_ThreadID") as $name
       (.; if .[$name] | type == "string" then .[$name] = (.[$name] | tonumber? // .) else . end)
  ) as $system
| reduce ($event | to_entries[] | select(.key != "System" and .key != "RenderingInfo" and .key != "#attributes") | .value | select(type == "object") | fields) as $pair
    ({}; .[$pair[0] | split(" ") | join("")] = ($pair[1] | text))
# A data field named like a System field (UserData/LogFileCleared/Channel of event 104) wins, as
# in tocsin, whose rules read the data. The System channel stays under `SystemChannel`, which the
# pipeline's routing conditions test, as tocsin's routing reads the System channel.
| $system + . + {SystemChannel: $system.Channel}
