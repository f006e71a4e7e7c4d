#pragma once
// What the CLI commands share: the session options and where a JSON report goes.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/options.h"
#include "guest/session.h"

namespace vmfix::cli {

guest::SessionOptions session_options(const Options& options);
// The document as --report writes it.
std::string json_text(const nlohmann::ordered_json& document);
// Writes the document to --report FILE, and to stdout with --json.
void emit_json(const Options& options, const nlohmann::ordered_json& report);
// What `vmfix batch` asks of a profile and fixer lists before any image runs (batch::BatchOptions::
// check_choices): the refusals the single-image command would give. Throws UsageError.
void check_choices(const std::string& profile, const std::optional<std::string>& fix,
                   const std::optional<std::string>& skip);

}  // namespace vmfix::cli
