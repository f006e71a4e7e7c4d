#pragma once
// Facts as JSON (for pipelines) and as text (for people).
#include <nlohmann/json.hpp>
#include <string>

#include "inspect/facts.h"

namespace vmfix::inspect {

nlohmann::ordered_json to_json(const Facts& facts);
std::string render_text(const Facts& facts);

}  // namespace vmfix::inspect
