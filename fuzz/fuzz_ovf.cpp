// OVF descriptors: parsed, and when they parse, rewritten for AWS and parsed again; answer files.
#include <string_view>

#include "image/ovf.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix::image;
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  try {
    Ovf ovf = parse_ovf(xml, "fuzz.ovf");
    std::vector<OvaDisk> disks;
    for (const OvfDisk& disk : ovf.disks)
      if (!disk.file_href.empty()) disks.push_back({disk.disk_id, "out-disk.vmdk", 512, disk.capacity});
    OvfForAws rewritten = ovf_for_aws(xml, disks, "fuzz.ovf");
    parse_ovf(rewritten.xml, "rewritten.ovf");  // what vmfix writes, it must read
  } catch (const vmfix::Error&) {
  }
  try {
    check_answer_file(xml, "fuzz.xml");
  } catch (const vmfix::Error&) {
  }
  return 0;
}
