#include "fixers/selinux_labels.h"

#include <fmt/core.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "support/files.h"
#include "support/text.h"

namespace vmfix::fixers {

using guest::join_path;

namespace {

constexpr const char* kStamp = "/.vmfix-selinux-stamp";
constexpr const char* kLabel = "security.selinux";

// Filesystems that keep security.selinux (vfat and the like cannot).
bool holds_labels(const std::string& type) {
  static const std::set<std::string> types{"ext2", "ext3", "ext4", "xfs", "btrfs", "jfs", "f2fs"};
  return types.count(type) > 0;
}

unsigned mode_of(const guest::FileInfo& info) {
  switch (info.kind) {
    case guest::FileInfo::Kind::file:
      return S_IFREG | info.mode;
    case guest::FileInfo::Kind::directory:
      return S_IFDIR | info.mode;
    case guest::FileInfo::Kind::symlink:
      return S_IFLNK | info.mode;
    case guest::FileInfo::Kind::other:
      break;
  }
  return 0;
}

// `find ROOT... -xdev -cnewer STAMP -print`: what was created, written, renamed or chmod-ed since.
// One path a line (the appliance returns a command's output as a C string, so -print0 would
// stop at the first path); a name with a newline in it splits into paths that do not exist, and
// those are passed over.
std::vector<std::string> changed_since_stamp(guest::Guest& guest, const std::vector<std::string>& roots) {
  const std::string find = guest.find_program({"find"});
  if (find.empty()) throw Error("the guest has no find(1) to list what changed");
  std::vector<std::string> argv{find};
  argv.insert(argv.end(), roots.begin(), roots.end());
  argv.insert(argv.end(), {"-xdev", "-cnewer", kStamp, "-print"});
  std::vector<std::string> paths;
  const std::string listing = guest.run(argv);
  for (std::string_view line : split_lines(listing))
    if (!line.empty() && line != kStamp) paths.emplace_back(line);
  return paths;
}

}  // namespace

std::optional<SelinuxPolicy> selinux_policy(guest::Guest& guest) {
  auto config = guest.read_if_exists("/etc/selinux/config");
  if (!config) return std::nullopt;
  SelinuxPolicy policy;
  for (std::string_view line : split_lines(*config)) {
    line = trim(line);
    if (line.starts_with("SELINUX="))
      policy.mode = unquote(line.substr(8));
    else if (line.starts_with("SELINUXTYPE="))
      policy.type = unquote(line.substr(12));
  }
  if ((policy.mode != "enforcing" && policy.mode != "permissive") || policy.type.empty() ||
      policy.type.find('/') != std::string::npos)
    return std::nullopt;
  policy.file_contexts = fmt::format("/etc/selinux/{}/contexts/files/file_contexts", policy.type);
  return policy;
}

std::optional<SelinuxLabeller> SelinuxLabeller::begin(guest::Guest& guest, const inspect::Facts& facts) {
  if (facts.os_type != "linux") return std::nullopt;
  auto policy = selinux_policy(guest);
  if (!policy) return std::nullopt;
  std::vector<std::string> roots;
  for (const auto& fs : facts.filesystems)
    if (!fs.mountpoint.empty() && holds_labels(fs.type)) roots.push_back(fs.mountpoint);
  if (roots.empty()) return std::nullopt;
  guest.write(kStamp, "");
  return SelinuxLabeller(std::move(*policy), std::move(roots));
}

std::vector<Change> SelinuxLabeller::label_changes(guest::Guest& guest) {
  std::vector<Change> changes;
  try {
    std::vector<std::string> changed = changed_since_stamp(guest, roots_);
    // The policy's file_contexts and its companions (.local, .homedirs, .subs), read on the host.
    TempDir scratch("vmfix-selinux");
    const std::string directory = policy_.file_contexts.substr(0, policy_.file_contexts.rfind('/'));
    if (!guest.is_file(policy_.file_contexts)) throw Error(fmt::format("{} is missing", policy_.file_contexts));
    for (const std::string& name : guest.ls(directory))
      if (name.starts_with("file_contexts") && !name.ends_with(".bin") && guest.is_file(join_path(directory, name)))
        guest.download(join_path(directory, name), (scratch.path() / name).string());
    FileContexts contexts((scratch.path() / "file_contexts").string());
    for (const std::string& path : changed) {
      auto info = guest.stat(path);
      if (!info || info->kind == guest::FileInfo::Kind::other || guest.xattr(path, kLabel)) continue;
      std::string label = contexts.lookup(path, mode_of(*info));
      if (label.empty()) continue;
      guest.set_xattr(path, kLabel,
                      std::string_view(label.c_str(), label.size() + 1));  // with its NUL, as setfiles writes it
      changes.push_back({"selinux", path, "no SELinux label (written from the appliance)", label, ""});
    }
  } catch (const Error& error) {
    guest.write("/.autorelabel", "");
    changes.push_back({"selinux", "/.autorelabel", fmt::format("cannot label what changed: {}", error.what()),
                       "the guest relabels its filesystems at first boot", ""});
  }
  if (guest.exists(kStamp)) guest.rm(kStamp);
  return changes;
}

FileContexts::FileContexts(const std::string& file_contexts) {
  struct selinux_opt options[] = {{SELABEL_OPT_PATH, file_contexts.c_str()}};
  handle_ = selabel_open(SELABEL_CTX_FILE, options, 1);
  if (handle_ == nullptr) throw Error(fmt::format("{}: {}", file_contexts, std::strerror(errno)));
}

FileContexts::~FileContexts() {
  if (handle_) selabel_close(handle_);
}

std::string FileContexts::lookup(const std::string& path, unsigned mode) const {
  char* context = nullptr;
  if (selabel_lookup_raw(handle_, &context, path.c_str(), static_cast<int>(mode)) != 0) return "";
  std::string label(context);
  freecon(context);
  return label == "<<none>>" ? "" : label;
}

}  // namespace vmfix::fixers
