#!/usr/bin/env python3
"""Adds a fixer: its file, its test, its registration line; then the README's fixer table.

    scripts/new-fixer.py ID --rule RULE --os linux|windows --summary "one line for --list-fixers"

Writes fixers/<id>.cpp (the fixer: id, summary, documentation, applies, check, fix) and
tests/unit/<id>_test.cpp (a guest before and after, failing until you describe them), registers
the fixer at the end of the table in fixers/table.{h,cpp}, adds both files to their CMake lists,
and says what else the rule needs. Then: write the check and the fix, build, run
scripts/fixer-table.sh for the README row, and the unit tests.
"""
import argparse
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent


def fixer_source(fixer_id, name, name_snake, rule, os_type, summary):
    return f'''// {fixer_id}: WHAT IT FIXES AND WHY EC2 NEEDS IT.
#include <fmt/core.h>

#include "fixers/table.h"

namespace vmfix::fixers {{

namespace {{

constexpr const char* kId = "{fixer_id}";
constexpr const char* kRule = "{rule}";

// The README's fixer table (scripts/fixer-table.sh).
constexpr const char* kChecks = "WHAT IT READS";
constexpr const char* kChanges = "WHAT IT WRITES";

class {name} : public Fixer {{
 public:
  std::string_view id() const override {{ return kId; }}
  std::string_view summary() const override {{ return "{summary}"; }}
  std::vector<FixerDoc> documentation() const override {{ return {{{{std::string(id()), "", kChecks, kChanges}}}}; }}
  std::vector<std::string> rules() const override {{ return {{kRule}}; }}
  bool applies(const inspect::Facts& facts) const override {{ return facts.os_type == "{os_type}"; }}

  // Read-only: one finding for {rule}, failing with the evidence (file, key and value) when the
  // guest needs the fix.
  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {{
    (void)guest, (void)facts;
    return {{{{kRule, Status::pass, "WHAT THE RULE REQUIRES", ""}}}};
  }}

  // Idempotent: a second run changes nothing. Each change names its target and before/after.
  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {{
    (void)guest, (void)facts;
    return {{}};
  }}
}};

}}  // namespace

std::unique_ptr<Fixer> make_{name_snake}() {{ return std::make_unique<{name}>(); }}

}}  // namespace vmfix::fixers
'''


def test_source(fixer_id, name, name_snake, os_type):
    return f'''// The {fixer_id} fixer: the guest before, the fix, the guest after, and a second run that changes nothing.
#include <gtest/gtest.h>

#include "fixers/table.h"
#include "guest/fake_guest.h"

namespace vmfix::fixers {{
namespace {{

TEST({name}, FixesTheGuestThenHasNothingToDo) {{
  guest::FakeGuest guest;  // the guest before: add_file(...) what a real one has
  inspect::Facts facts;
  facts.os_type = "{os_type}";
  auto fixer = make_{name_snake}();
  ASSERT_TRUE(fixer->applies(facts));
  ASSERT_EQ(fixer->check(guest, facts).at(0).status, Status::fail) << "describe a guest that needs the fix";
  EXPECT_FALSE(fixer->fix(guest, facts).empty());
  EXPECT_EQ(fixer->check(guest, facts).at(0).status, Status::pass);
  EXPECT_TRUE(fixer->fix(guest, facts).empty()) << "a second run changed something";
}}

}}  // namespace
}}  // namespace vmfix::fixers
'''


def insert_after_last(text, pattern, line):
    matches = list(re.finditer(pattern, text, re.M))
    if not matches:
        sys.exit(f"new-fixer: cannot find where to register ({pattern})")
    end = text.index("\n", matches[-1].end()) + 1
    return text[:end] + line + text[end:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("id", help="the fixer's id, as --fix takes it (lowercase, dashes)")
    parser.add_argument("--rule", required=True, help="the rule id its check answers")
    parser.add_argument("--os", required=True, choices=["linux", "windows"])
    parser.add_argument("--summary", required=True)
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z][a-z0-9-]*", args.id):
        sys.exit("new-fixer: an id is lowercase letters, digits and dashes")
    snake = args.id.replace("-", "_")
    name = "".join(part.capitalize() for part in args.id.split("-"))
    source = root / "fixers" / f"{snake}.cpp"
    test = root / "tests" / "unit" / f"{snake}_test.cpp"
    for path in (source, test):
        if path.exists():
            sys.exit(f"new-fixer: {path.relative_to(root)} exists")
    source.write_text(fixer_source(args.id, name, snake, args.rule, args.os, args.summary.replace('"', '\\"')))
    test.write_text(test_source(args.id, name, snake, args.os))

    header = root / "fixers" / "table.h"
    text = header.read_text()
    header.write_text(insert_after_last(text, r"^std::unique_ptr<Fixer> make_\w+\(.*\);$",
                                        f"std::unique_ptr<Fixer> make_{snake}();\n"))
    table = root / "fixers" / "table.cpp"
    text = table.read_text()
    table.write_text(insert_after_last(text, r"^  fixers\.push_back\(make_\w+\(.*\)\);.*$",
                                       f"  fixers.push_back(make_{snake}());\n"))
    for cmake, file in ((root / "fixers" / "CMakeLists.txt", f"{snake}.cpp"),
                        (root / "tests" / "unit" / "CMakeLists.txt", f"{snake}_test.cpp")):
        text = cmake.read_text()
        cmake.write_text(re.sub(r"(add_(?:library|executable)\(\w+(?: STATIC)?\b[^)]*?)\)", rf"\1 {file})", text, count=1))

    print(f"wrote {source.relative_to(root)} and {test.relative_to(root)}; registered make_{snake}() last in the table")
    wanted = f'"fixer": "{args.id}", "checker": "fixer"'
    for profile in sorted((root / "profiles").glob("*.json")):
        document = json.loads(profile.read_text())
        rules = {rule["id"]: rule for rule in document.get("rules", [])}
        rule = rules.get(args.rule)
        if "extends" in document and rule is None:
            continue  # a profile of differences inherits the rule from the one it extends
        if rule is None:
            print(f"{profile.relative_to(root)}: add rule '{args.rule}' (severity, title, covers, reads) with {wanted}")
        elif rule.get("fixer") != args.id or rule.get("checker") != "fixer":
            print(f"{profile.relative_to(root)}: rule '{args.rule}' names fixer '{rule.get('fixer', '')}'; give it {wanted}")
    print("then: write check() and fix() and the test's guest, build, scripts/fixer-table.sh, scripts/test.sh -L unit")


if __name__ == "__main__":
    main()
