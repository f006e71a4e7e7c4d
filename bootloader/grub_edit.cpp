#include "bootloader/grub_edit.h"

#include <fmt/core.h>

#include <cctype>
#include <charconv>
#include <optional>

#include "support/error.h"
#include "support/text.h"

namespace vmfix::bootloader {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// [start, end) of each blank-separated word of `text`.
std::vector<std::pair<size_t, size_t>> word_spans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t at = 0; at < text.size();) {
    while (at < text.size() && is_blank(text[at])) ++at;
    if (at == text.size()) break;
    size_t end = at;
    while (end < text.size() && !is_blank(text[end])) ++end;
    spans.emplace_back(at, end);
    at = end;
  }
  return spans;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  text = trim(text);
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A kernel (not memtest, not a Xen hypervisor): what gets a console= and root=.
bool is_linux_kernel(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  for (std::string_view prefix : {"vmlinuz", "vmlinux", "kernel-", "bzImage"})
    if (name.starts_with(prefix)) return true;
  return false;
}

// One line of a menu file split where an edit needs it: indentation and keyword, the kernel
// path and what follows it.
struct KernelLine {
  std::string head;  // "\tlinux16 /vmlinuz-X " (everything up to the arguments)
  std::string args;
};

std::optional<KernelLine> kernel_line(std::string_view line, const std::vector<std::string_view>& keywords) {
  auto spans = word_spans(line);
  if (spans.size() < 2) return std::nullopt;
  std::string_view keyword = line.substr(spans[0].first, spans[0].second - spans[0].first);
  bool wanted = false;
  for (std::string_view candidate : keywords) wanted = wanted || keyword == candidate;
  if (!wanted || !is_linux_kernel(line.substr(spans[1].first, spans[1].second - spans[1].first))) return std::nullopt;
  size_t args_at = spans.size() > 2 ? spans[2].first : line.size();
  KernelLine split{std::string(line.substr(0, args_at)), std::string(line.substr(args_at))};
  if (spans.size() == 2 && !split.head.empty() && !is_blank(split.head.back())) split.head += ' ';  // "linux /vmlinuz"
  return split;
}

const std::vector<std::string_view> kGrub2Kernel = {"linux", "linux16", "linuxefi"};
const std::vector<std::string_view> kAnyKernel = {"linux", "linux16", "linuxefi", "kernel"};

std::string join_lines(const std::vector<std::string>& lines, std::string_view original) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  if (!original.empty() && original.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view line : split_lines(text)) lines.emplace_back(line);
  return lines;
}

// "KEY=value" (optionally after "export "), uncommented: the key, and where the value starts.
std::optional<std::pair<std::string, size_t>> assignment(std::string_view line) {
  size_t at = 0;
  while (at < line.size() && is_blank(line[at])) ++at;
  if (line.substr(at).starts_with("export ")) at += 7;
  size_t eq = line.find('=', at);
  if (eq == std::string_view::npos || eq == at) return std::nullopt;
  for (size_t i = at; i < eq; ++i)
    if (!std::isalnum(static_cast<unsigned char>(line[i])) && line[i] != '_') return std::nullopt;
  return std::pair{std::string(line.substr(at, eq - at)), eq + 1};
}

// A shell value at `from` in `line`: its text without quotes, and the line rebuilt around a new one.
struct ShellValue {
  std::string text;
  char quote = 0;             // '"', '\'' or 0
  size_t start = 0, end = 0;  // the whole value, quotes included
  // One word vmfix can rewrite: not an unterminated quote, not an unquoted word holding quotes,
  // escapes or expansions (`X=/dev/sda1"`, `X=$Y`), whose meaning a rewrite would change.
  bool editable = true;
};

ShellValue shell_value(const std::string& line, size_t from) {
  ShellValue value{"", 0, from, from};
  if (from < line.size() && (line[from] == '"' || line[from] == '\'')) {
    value.quote = line[from];
    size_t close = line.find(value.quote, from + 1);
    while (close != std::string::npos && value.quote == '"' && line[close - 1] == '\\')
      close = line.find('"', close + 1);
    value.end = close == std::string::npos ? line.size() : close + 1;
    value.text = line.substr(from + 1, (close == std::string::npos ? line.size() : close) - from - 1);
    value.editable = close != std::string::npos;
  } else {
    value.end = from;
    while (value.end < line.size() && !is_blank(line[value.end]) && line[value.end] != '#' && line[value.end] != ';')
      ++value.end;
    value.text = line.substr(from, value.end - from);
    value.editable = value.text.find_first_of("\"'\\$`") == std::string::npos;
  }
  return value;
}

std::string with_value(const std::string& line, const ShellValue& old, const std::string& text) {
  char quote = old.quote;
  if (quote == 0 && text.find_first_of(" \t") != std::string::npos) quote = '"';
  std::string value = quote ? std::string(1, quote) + text + quote : text;
  return line.substr(0, old.start) + value + line.substr(old.end);
}

std::string with_device_uuids(std::string_view args, const DeviceUuid& uuid_of) {
  std::string out(args);
  if (!uuid_of) return out;
  auto spans = word_spans(out);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {  // from the end: offsets stay valid
    std::string_view word = std::string_view(out).substr(it->first, it->second - it->first);
    for (std::string_view key : {"root=", "resume="}) {
      if (!word.starts_with(key) || !word.substr(key.size()).starts_with("/dev/")) continue;
      std::string uuid = uuid_of(std::string(word.substr(key.size())));
      if (!uuid.empty()) out.replace(it->first, it->second - it->first, std::string(key) + "UUID=" + uuid);
      break;  // `word` views the old text: done with this word
    }
  }
  return out;
}

// "nvme_core.io_timeout" of "nvme_core.io_timeout=255".
std::string_view key_of(std::string_view argument) { return argument.substr(0, argument.find('=')); }

// `args` with `argument` appended, or put in place of the same key's other value.
std::string with_argument(std::string_view args, std::string_view argument) {
  std::string out(args);
  auto spans = word_spans(out);
  for (auto [start, end] : spans) {
    std::string_view word = std::string_view(out).substr(start, end - start);
    if (key_of(word) != key_of(argument) || word.find('=') == std::string_view::npos) continue;
    if (word != argument) out.replace(start, end - start, argument);
    return out;
  }
  size_t last = out.find_last_not_of(" \t");
  if (last == std::string::npos) return std::string(argument) + out;
  return out.substr(0, last + 1) + " " + std::string(argument) + out.substr(last + 1);
}

bool has_key(std::string_view args, std::string_view key) {
  for (auto [start, end] : word_spans(args))
    if (key_of(args.substr(start, end - start)) == key &&
        args.substr(start, end - start).find('=') != std::string_view::npos)
      return true;
  return false;
}

}  // namespace

bool has_serial_console(std::string_view args) {
  for (auto [start, end] : word_spans(args))
    if (args.substr(start, end - start).starts_with("console=ttyS0")) return true;
  return false;
}

bool timeout_too_long(int seconds) { return seconds < 0 || seconds > kMaxTimeout; }

std::string ec2_kernel_args(std::string_view args, const Ec2Args& ec2) {
  std::string out = with_device_uuids(args, ec2.uuid_of);
  if (!ec2.nvme_timeout.empty()) out = with_argument(out, ec2.nvme_timeout);
  if (has_serial_console(out)) return out;
  bool has_tty0 = false;
  for (auto [start, end] : word_spans(out))
    has_tty0 = has_tty0 || std::string_view(out).substr(start, end - start) == "console=tty0";
  std::string addition = has_tty0 ? std::string(kSerialConsole) : "console=tty0 " + std::string(kSerialConsole);
  size_t last = out.find_last_not_of(" \t");
  if (last == std::string::npos) return addition + out;
  return out.substr(0, last + 1) + " " + addition + out.substr(last + 1);
}

std::string ec2_default_grub(std::string_view text, const Ec2Args& ec2, DefaultGrubEdit how) {
  std::vector<std::string> lines = lines_of(text);
  std::optional<size_t> cmdline, cmdline_default, timeout, grub_default;
  std::vector<size_t> uuid_switches;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto found = assignment(lines[i]);
    if (!found) continue;
    if (found->first == "GRUB_CMDLINE_LINUX")
      cmdline = i;
    else if (found->first == "GRUB_CMDLINE_LINUX_DEFAULT")
      cmdline_default = i;
    else if (found->first == "GRUB_TIMEOUT")
      timeout = i;
    else if (found->first == "GRUB_DEFAULT")
      grub_default = i;
    else if (found->first == "GRUB_DISABLE_LINUX_UUID")
      uuid_switches.push_back(i);
  }
  auto edit = [&](size_t index, auto&& change) {
    auto found = assignment(lines[index]);
    ShellValue value = shell_value(lines[index], found->second);
    if (!value.editable) return;  // left as it is: the guest's shell reads it, not vmfix
    std::string changed = change(value.text);
    if (changed != value.text) lines[index] = with_value(lines[index], value, changed);
  };
  auto value_of = [&](std::optional<size_t> index) {
    return index ? shell_value(lines[*index], assignment(lines[*index])->second).text : std::string();
  };
  if (ec2.uuid_of)
    for (size_t index : uuid_switches)
      edit(index, [](const std::string& v) { return v == "true" ? std::string("false") : v; });
  const std::string nvme_key(key_of(ec2.nvme_timeout));
  const bool nvme_in_default = !nvme_key.empty() && has_key(value_of(cmdline_default), nvme_key);
  if (cmdline_default)
    edit(*cmdline_default, [&](const std::string& v) {
      std::string out = with_device_uuids(v, ec2.uuid_of);
      return nvme_in_default ? with_argument(out, ec2.nvme_timeout) : out;
    });
  const bool console = has_serial_console(value_of(cmdline)) || has_serial_console(value_of(cmdline_default));
  Ec2Args for_cmdline = ec2;
  if (nvme_in_default) for_cmdline.nvme_timeout.clear();
  auto cmdline_edit = [&](const std::string& v) {
    std::string out = with_device_uuids(v, ec2.uuid_of);
    if (!for_cmdline.nvme_timeout.empty()) out = with_argument(out, for_cmdline.nvme_timeout);
    return console ? out : ec2_kernel_args(out, {});
  };
  if (cmdline)
    edit(*cmdline, cmdline_edit);
  else if (!how.drop_in && (!console || !for_cmdline.nvme_timeout.empty()))
    lines.push_back(fmt::format("GRUB_CMDLINE_LINUX=\"{}\"", cmdline_edit("")));
  if (timeout)
    edit(*timeout, [](const std::string& v) {
      auto seconds = parse_int(v);
      return seconds && timeout_too_long(*seconds) ? std::to_string(kTimeout) : v;
    });
  if (how.stale_default && grub_default)
    edit(*grub_default, [](const std::string& v) { return v == "saved" ? v : "0"; });
  return join_lines(lines, text);
}

std::string ec2_grub_cfg(std::string_view text, const Ec2Args& ec2, bool timeouts) {
  std::vector<std::string> lines = lines_of(text);
  for (std::string& line : lines) {
    if (auto kernel = kernel_line(line, kGrub2Kernel)) {
      line = kernel->head + ec2_kernel_args(kernel->args, ec2);
      continue;
    }
    // `set timeout=N`, or the bare assignment `timeout=N` that GRUB's script also takes.
    std::string_view trimmed = trim(line);
    const std::string_view assignment = trimmed.starts_with("set ") ? trim(trimmed.substr(4)) : trimmed;
    if (!timeouts || !assignment.starts_with("timeout=")) continue;
    auto seconds = parse_int(unquote(assignment.substr(8)));
    if (seconds && timeout_too_long(*seconds))
      line =
          line.substr(0, static_cast<size_t>(assignment.data() - line.data())) + "timeout=" + std::to_string(kTimeout);
  }
  return join_lines(lines, text);
}

namespace {

// A kernel's name for a disk or partition ("/dev/sdb2", "/dev/vda", "/dev/nvme0n1p1", "/dev/xvda1"):
// what differs between the appliance, VMware, Xen and Nitro.
bool names_a_disk(std::string_view device) {
  if (!device.starts_with("/dev/")) return false;
  device.remove_prefix(5);
  for (std::string_view prefix : {"sd", "hd", "vd", "xvd", "nvme", "cciss/"})
    if (device.starts_with(prefix) && device.size() > prefix.size()) return true;
  return false;
}

// "hd1" of "hd1,gpt2" or "(hd1,gpt2)/boot": the BIOS drive a GRUB device names, "" for others.
std::string bios_drive(std::string_view device) {
  if (device.starts_with("(")) device.remove_prefix(1);
  if (!device.starts_with("hd")) return "";
  size_t end = 2;
  while (end < device.size() && std::isdigit(static_cast<unsigned char>(device[end]))) ++end;
  return end > 2 ? std::string(device.substr(0, end)) : "";
}

std::string first_word(std::string_view line) {
  auto spans = word_spans(line);
  return spans.empty() ? "" : std::string(line.substr(spans[0].first, spans[0].second - spans[0].first));
}

// "set root='hd1,gpt2'": where the drive name starts and ends, if the line sets root to a BIOS drive.
std::optional<std::pair<size_t, size_t>> set_root_drive(std::string_view line) {
  size_t at = line.find("set root=");
  if (at == std::string_view::npos || !trim(line.substr(0, at)).empty()) return std::nullopt;
  size_t start = at + 9;
  while (start < line.size() && (line[start] == '\'' || line[start] == '"' || line[start] == '(')) ++start;
  std::string drive = bios_drive(line.substr(start));
  if (drive.empty()) return std::nullopt;
  return std::pair{start, start + drive.size()};
}

}  // namespace

std::string repair_appliance_names(std::string_view text, const GuestDisks& disks) {
  std::vector<std::string> lines = lines_of(text);
  for (std::string& line : lines) {
    const std::string keyword = first_word(line);
    if (keyword == "search") {
      std::string kept;
      auto spans = word_spans(line);
      kept = line.substr(0, spans[0].first);
      for (auto [start, end] : spans) {
        std::string_view word = std::string_view(line).substr(start, end - start);
        if (word.starts_with("--hint")) continue;
        kept += std::string(kept.size() > spans[0].first ? " " : "") + std::string(word);
      }
      line = kept;
      continue;
    }
    if (auto drive = set_root_drive(line)) {
      line.replace(drive->first, drive->second - drive->first, "hd0");
      continue;
    }
    if (!disks.efi_kernel.empty() && (keyword == "linux16" || keyword == "initrd16")) {
      const size_t at = line.find(keyword);
      const std::string efi = keyword == "linux16"             ? disks.efi_kernel
                              : disks.efi_kernel == "linuxefi" ? "initrdefi"
                                                               : "initrd";
      line.replace(at, keyword.size(), efi);
    }
    auto kernel = kernel_line(line, kGrub2Kernel);
    if (!kernel) continue;
    std::string args = kernel->args;
    auto spans = word_spans(args);
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
      std::string_view word = std::string_view(args).substr(it->first, it->second - it->first);
      for (auto [key, uuid] : {std::pair<std::string_view, const std::string*>{"root=", &disks.root_uuid},
                               {"resume=", &disks.resume_uuid}}) {
        if (!word.starts_with(key) || !names_a_disk(word.substr(key.size())) || uuid->empty()) continue;
        args.replace(it->first, it->second - it->first, std::string(key) + "UUID=" + *uuid);
        break;
      }
    }
    line = kernel->head + args;
  }
  return join_lines(lines, text);
}

std::vector<std::string> device_names_in_menu(std::string_view text) {
  std::vector<std::string> found;
  size_t number = 0;
  for (std::string_view line : split_lines(text)) {
    ++number;
    auto note = [&](std::string_view what) { found.push_back(fmt::format("{}: {}", number, what)); };
    if (auto kernel = kernel_line(line, kAnyKernel)) {
      for (auto [start, end] : word_spans(kernel->args)) {
        std::string_view word = std::string_view(kernel->args).substr(start, end - start);
        for (std::string_view key : {"root=", "resume="})
          if (word.starts_with(key) && names_a_disk(word.substr(key.size()))) note(word);
      }
      continue;
    }
    if (first_word(line) == "search") {
      for (auto [start, end] : word_spans(line)) {
        std::string_view word = line.substr(start, end - start);
        if (!word.starts_with("--hint")) continue;
        std::string_view value =
            word.substr(word.find('=') == std::string_view::npos ? word.size() : word.find('=') + 1);
        std::string drive = bios_drive(value);
        if (!drive.empty() && drive != "hd0") note(word);
      }
      continue;
    }
    if (auto drive = set_root_drive(line); drive && line.substr(drive->first, drive->second - drive->first) != "hd0")
      note(trim(line));
  }
  return found;
}

bool grub_cfg_uses_saved_entry(std::string_view text) {
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.starts_with("set default=") && unquote(line.substr(12)) == "${saved_entry}") return true;
  }
  return false;
}

std::string with_grub_cfg_default(std::string_view text, const std::string& value) {
  std::vector<std::string> lines = lines_of(text);
  bool found = false;
  for (std::string& line : lines) {
    std::string_view trimmed = trim(line);
    if (!trimmed.starts_with("set default=")) continue;
    std::string old = unquote(trimmed.substr(12));
    if (old == "${saved_entry}" || old == "${next_entry}") continue;
    line = line.substr(0, line.find("set default=")) + "set default=\"" + value + "\"";
    found = true;
  }
  if (!found) lines.insert(lines.begin(), "set default=\"" + value + "\"");
  return join_lines(lines, text);
}

namespace {

// Where the options of menu.lst's "# kopt=" line start, as Debian's and Ubuntu's update-grub for
// GRUB legacy reads it (`^# kopt=`) to write every kernel line of its automatic list; npos for any
// other line. Its per-series "# kopt_2_6_8=" lines are left alone: they often name a disk long
// gone, for kernels no longer installed, and an unresolvable name there would block the image.
size_t kopt_options_at(std::string_view line) {
  constexpr std::string_view kKopt = "# kopt=";
  return line.starts_with(kKopt) ? kKopt.size() : std::string_view::npos;
}

}  // namespace

std::string ec2_grub_legacy(std::string_view text, const Ec2Args& ec2, int default_index) {
  std::vector<std::string> lines = lines_of(text);
  bool default_set = false;
  for (std::string& line : lines) {
    if (auto kernel = kernel_line(line, {"kernel"})) {
      line = kernel->head + ec2_kernel_args(kernel->args, ec2);
      continue;
    }
    // The options the guest's next update-grub writes kernel lines from get the same edit, so a
    // kernel installed on EC2 boots there too.
    if (const size_t options = kopt_options_at(line); options != std::string::npos) {
      line = line.substr(0, options) + ec2_kernel_args(line.substr(options), ec2);
      continue;
    }
    // update-grub appends "# defoptions=" to every kernel line: a resume=/dev/... there by UUID too
    // (the console and the NVMe timeout are kopt's already).
    if (constexpr std::string_view kDefoptions = "# defoptions="; line.starts_with(kDefoptions)) {
      line = std::string(kDefoptions) + with_device_uuids(line.substr(kDefoptions.size()), ec2.uuid_of);
      continue;
    }
    const std::string trimmed(trim(line));  // a copy: `line` is rewritten below
    for (std::string_view key : {"timeout", "default"}) {
      if (!trimmed.starts_with(key) || trimmed.size() == key.size() ||
          (trimmed[key.size()] != '=' && !is_blank(trimmed[key.size()])))
        continue;
      std::string indent = line.substr(0, line.find(key));
      if (key == "timeout") {
        auto seconds = parse_int(trimmed.substr(key.size() + 1));
        if (seconds && timeout_too_long(*seconds)) line = indent + "timeout=" + std::to_string(kTimeout);
      } else if (default_index >= 0) {
        line = indent + "default=" + std::to_string(default_index);
        default_set = true;
      }
    }
  }
  if (default_index >= 0 && !default_set) lines.insert(lines.begin(), "default=" + std::to_string(default_index));
  return join_lines(lines, text);
}

std::string ec2_bls_entry(std::string_view text, const Ec2Args& ec2) {
  std::vector<std::string> lines = lines_of(text);
  for (std::string& line : lines) {
    auto spans = word_spans(line);
    if (spans.empty() || std::string_view(line).substr(spans[0].first, spans[0].second - spans[0].first) != "options")
      continue;
    if (line.find("$kernelopts") != std::string::npos) continue;  // the options live in grubenv
    size_t args_at = spans.size() > 1 ? spans[1].first : line.size();
    line = line.substr(0, args_at) + (spans.size() > 1 ? "" : " ") + ec2_kernel_args(line.substr(args_at), ec2);
  }
  return join_lines(lines, text);
}

std::vector<std::string> linux_command_lines(std::string_view config, MenuSyntax syntax) {
  static const std::vector<std::string_view> kLegacyKernel = {"kernel"};
  std::vector<std::string> found;
  for (std::string_view line : split_lines(config))
    if (auto kernel = kernel_line(line, syntax == MenuSyntax::grub2 ? kGrub2Kernel : kLegacyKernel))
      found.push_back(kernel->args);
  return found;
}

std::vector<int> menu_timeouts(std::string_view config, MenuSyntax syntax) {
  std::vector<int> found;
  for (std::string_view line : split_lines(config)) {
    line = trim(line);
    if (syntax == MenuSyntax::grub2 && line.starts_with("set ")) line = trim(line.substr(4));
    std::string_view value;
    if (line.starts_with("timeout=") ||
        (syntax == MenuSyntax::legacy && line.starts_with("timeout") && line.size() > 7 && is_blank(line[7])))
      value = line.substr(8);
    else
      continue;
    if (auto seconds = parse_int(unquote(value))) found.push_back(*seconds);
  }
  return found;
}

std::map<std::string, std::string> parse_grubenv(std::string_view block) {
  std::map<std::string, std::string> variables;
  for (std::string_view line : split_lines(block.substr(0, block.rfind('\n') + 1))) {
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string value;  // grub-editenv's escapes undone, as GRUB reads them: \\ and \n
    for (size_t k = eq + 1; k < line.size(); ++k) {
      char c = line[k];
      if (c == '\\' && k + 1 < line.size()) {
        c = line[++k];
        if (c == 'n') c = '\n';
      }
      value += c;
    }
    variables[std::string(line.substr(0, eq))] = std::move(value);
  }
  return variables;
}

std::string grubenv_with(std::string_view block, const std::string& key, const std::string& value) {
  const size_t size = std::max<size_t>(block.size(), 1024);
  std::string escaped;
  for (char c : value) {  // grub-editenv's escapes
    if (c == '\\')
      escaped += "\\\\";
    else if (c == '\n')
      escaped += "\\n";
    else
      escaped += c;
  }
  std::string body;
  bool replaced = false;
  size_t content_end = block.rfind('\n');
  std::string_view content =
      content_end == std::string_view::npos ? std::string_view() : block.substr(0, content_end + 1);
  if (content.empty()) content = "# GRUB Environment Block\n";
  for (std::string_view line : split_lines(content)) {
    if (!line.empty() && line.front() != '#' && line.substr(0, line.find('=')) == key) {
      if (!replaced) body += key + "=" + escaped + "\n";
      replaced = true;
      continue;
    }
    body += std::string(line) + "\n";
  }
  if (!replaced) body += key + "=" + escaped + "\n";
  if (body.size() > size)
    throw Error(fmt::format("the GRUB environment block cannot hold {}={}: it is full", key, value));
  body.resize(size, '#');
  return body;
}

}  // namespace vmfix::bootloader
