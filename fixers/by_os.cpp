#include "fixers/by_os.h"

#include <algorithm>

namespace vmfix::fixers {

namespace {

class ByOs : public Fixer {
 public:
  ByOs(std::unique_ptr<Fixer> windows, std::unique_ptr<Fixer> linux, std::string summary)
      : windows_(std::move(windows)), linux_(std::move(linux)), summary_(std::move(summary)) {}
  std::string_view id() const override { return windows_->id(); }
  std::string_view summary() const override { return summary_; }
  std::vector<FixerDoc> documentation() const override {
    std::vector<FixerDoc> rows;
    for (auto [half, os] : {std::pair{windows_.get(), "Windows"}, std::pair{linux_.get(), "Linux"}})
      for (FixerDoc row : half->documentation()) rows.push_back({row.id, os, row.checks, row.changes});
    return rows;
  }
  std::vector<std::string> rules() const override {
    std::vector<std::string> ids = windows_->rules();
    for (std::string& id : linux_->rules())
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    return ids;
  }
  bool applies(const inspect::Facts& facts) const override { return half(facts) != nullptr; }
  std::vector<Finding> check(guest::Guest& guest, const inspect::Facts& facts) override {
    Fixer* fixer = half(facts);
    return fixer ? fixer->check(guest, facts) : std::vector<Finding>{};
  }
  std::vector<Change> fix(guest::Guest& guest, const inspect::Facts& facts) override {
    Fixer* fixer = half(facts);
    return fixer ? fixer->fix(guest, facts) : std::vector<Change>{};
  }

 private:
  Fixer* half(const inspect::Facts& facts) const {
    if (windows_->applies(facts)) return windows_.get();
    if (linux_->applies(facts)) return linux_.get();
    return nullptr;
  }
  std::unique_ptr<Fixer> windows_, linux_;
  std::string summary_;
};

}  // namespace

std::unique_ptr<Fixer> make_by_os(std::unique_ptr<Fixer> windows, std::unique_ptr<Fixer> linux, std::string summary) {
  return std::make_unique<ByOs>(std::move(windows), std::move(linux), std::move(summary));
}

}  // namespace vmfix::fixers
