#!/usr/bin/env python3
"""Prints the README's rule table from profiles/*.json (a unit test checks the README lists every rule)."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
current = json.loads((root / "profiles/aws-current.json").read_text())
# aws-2017 is aws-current with its differences: rules it leaves out, and fields it says otherwise.
older = json.loads((root / "profiles/aws-2017.json").read_text())
differences = {rule["id"]: rule for rule in older["rules"]}
seed = {rule["id"]: {**rule, **differences.get(rule["id"], {})}
        for rule in current["rules"] if rule["id"] not in older.get("without_rules", [])}


def cell(text):
    return text.replace("|", "\\|")


print("| rule | area | severity 2017 / current | checks | requirement page item (2017 page; current table) "
      "| reads | AWS error it prevents | fixed by, or why it cannot be checked offline |")
print("|---|---|---|---|---|---|---|---|")
for rule in current["rules"]:
    rule_id, old = rule["id"], seed.get(rule["id"])
    severity = f"{old['severity'] if old else '-'} / {rule['severity']}"
    fixer = rule.get("fixer", "")
    fixed_by = "the output writer" if fixer == "output" else (f"`{fixer}`" if fixer else "")
    if old and old.get("fixer") and old.get("fixer") != fixer:
        fixed_by = f"2017: `{old['fixer']}`" + (f"; current: {fixed_by}" if fixed_by else "")
    if rule.get("offline"):
        fixed_by = "offline: " + rule["offline"]
    title = rule["title"] if not old or old["title"] == rule["title"] else f"2017: {old['title']}; current: {rule['title']}"
    if not old:
        covers = "current only: " + rule["covers"]
    elif old["covers"] == rule["covers"]:
        covers = rule["covers"]
    else:
        covers = f"{old['covers']}; current: {rule['covers']}"
    reads = ", ".join(rule.get("reads", []))
    print(f"| `{rule_id}` | {rule['area']} | {severity} | {cell(title)} | {cell(covers)} | {cell(reads)} | "
          f"{cell(rule.get('aws_message', ''))} | {cell(fixed_by)} |")
