#include "support/progress.h"

#include <fmt/core.h>

#include <cstdlib>

namespace vmfix {

ProgressLine::ProgressLine(std::string label, uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), started_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::set(uint64_t done) {
  done_ = std::min(done, total_);
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200) && done_ < total_) return;
  last_draw_ = now;
  draw();
}

void ProgressLine::draw() {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;  // bytes per second
  std::string line = fmt::format("vmfix: {}  {:3.0f}%", label_, fraction * 100);
  if (seconds >= 1 && rate > 0) {
    line += fmt::format("  {:.0f} MiB/s", rate / (1 << 20));
    const auto left = static_cast<long>(static_cast<double>(total_ - done_) / rate);
    if (done_ < total_) line += fmt::format("  {}:{:02} left", left / 60, left % 60);
  }
  fmt::print(stderr, "\r{}\033[K", line);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::finish() {
  if (!drawn_) return;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
  enabled_ = false;
}

double qemu_img_percent(std::string_view chunk) {
  const size_t end = chunk.rfind("/100%)");
  if (end == std::string_view::npos) return -1;
  const size_t start = chunk.rfind('(', end);
  if (start == std::string_view::npos) return -1;
  const std::string number(chunk.substr(start + 1, end - start - 1));
  char* stop = nullptr;
  const double value = std::strtod(number.c_str(), &stop);
  return stop && *stop == '\0' && value >= 0 && value <= 100 ? value : -1;
}

}  // namespace vmfix
