#pragma once
// A progress line on a terminal: "vmfix: writing out.vmdk  47%  212 MiB/s  0:32 left". Drawn on
// stderr, at most a few times a second, and only when enabled (a terminal, neither --json nor -q).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace vmfix {

class ProgressLine {
 public:
  ProgressLine(std::string label, uint64_t total, bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void set(uint64_t done);  // bytes done of `total`
  void add(uint64_t bytes) { set(done_ + bytes); }
  void finish();  // clears the line

 private:
  void draw();

  std::string label_;
  uint64_t total_ = 0, done_ = 0;
  bool enabled_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point started_, last_draw_;
};

// qemu-img -p prints "    (12.34/100%)\r" as it goes: the last percentage in `chunk`, or -1.
double qemu_img_percent(std::string_view chunk);

}  // namespace vmfix
