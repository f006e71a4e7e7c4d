#pragma once
// SELinux guests: the appliance writes without SELinux, so every file vmfix or a guest tool it ran
// (dpkg, grub-install, update-initramfs) created or replaced has no security.selinux label, and an
// enforcing guest's services then cannot read it. After the fixers, each such file gets the label
// the guest's own policy gives its path (its file_contexts, looked up on the host with libselinux);
// files that kept their label are left as they are. When the policy cannot be read the guest is
// told to relabel itself at first boot (/.autorelabel) instead, and the report says why.
#include <optional>
#include <string>
#include <vector>

#include "fixers/fixer.h"
#include "guest/guest.h"
#include "inspect/facts.h"

struct selabel_handle;  // libselinux's

namespace vmfix::fixers {

// /etc/selinux/config: the mode (enforcing, permissive) and the policy's contexts directory;
// nullopt when SELinux is disabled or not installed.
struct SelinuxPolicy {
  std::string mode;
  std::string type;           // "default", "targeted"
  std::string file_contexts;  // "/etc/selinux/default/contexts/files/file_contexts"
};
std::optional<SelinuxPolicy> selinux_policy(guest::Guest& guest);

class SelinuxLabeller {
 public:
  // Before the fixers run: marks the moment; nullopt (nothing to do) unless SELinux is on.
  static std::optional<SelinuxLabeller> begin(guest::Guest& guest, const inspect::Facts& facts);
  // After the fixers and the cache's flush: labels what changed since begin(). `guest` must write
  // through (not the cache).
  std::vector<Change> label_changes(guest::Guest& guest);

 private:
  SelinuxLabeller(SelinuxPolicy policy, std::vector<std::string> roots)
      : policy_(std::move(policy)), roots_(std::move(roots)) {}
  SelinuxPolicy policy_;
  std::vector<std::string> roots_;  // mountpoints of the filesystems that hold labels
};

// The label file_contexts gives `path` of kind `mode` (S_IFREG | 0644...), "" when none matches.
// `directory` holds file_contexts and its .local, .homedirs and .subs companions.
class FileContexts {
 public:
  explicit FileContexts(const std::string& file_contexts);  // throws vmfix::Error when unreadable
  ~FileContexts();
  FileContexts(const FileContexts&) = delete;
  FileContexts& operator=(const FileContexts&) = delete;
  std::string lookup(const std::string& path, unsigned mode) const;

 private:
  ::selabel_handle* handle_ = nullptr;
};

}  // namespace vmfix::fixers
