#pragma once
// OVF descriptors, parsed with DTDs and entities refused: an OVF comes from outside and an XML
// parser that follows external entities or expands entity bombs would be an attack surface.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::image {

struct OvfDisk {
  std::string disk_id;      // "vmdisk1"
  std::string file_href;    // the file holding it, as the OVF names it; "" for a blank disk
  uint64_t capacity = 0;    // bytes
  std::string format;       // the ovf:format URL ("...#streamOptimized")
  std::string controller;   // "scsi", "ide", "sata", "nvme" or "" when not said
  int address = 0;          // position on the controller
};

struct OvfFile {
  std::string id;
  std::string href;
  uint64_t size = 0;
  std::string compression;  // "gzip" or ""
  uint64_t chunk_size = 0;  // non-zero: split into chunks
};

struct Ovf {
  std::string name;            // VirtualSystem id
  std::string os_type;         // vmw:osType, or the OperatingSystemSection description
  std::vector<OvfFile> files;
  std::vector<OvfDisk> disks;  // in hardware order (the first is the boot disk), blank ones too
  int nics = 0;
  int cdroms = 0;
  int floppies = 0;
  std::string firmware;        // "efi" or "bios" (vmw:Config firmware), "" when not said
};

// Throws BadInput naming `where` for a malformed or hostile descriptor.
Ovf parse_ovf(std::string_view xml, const std::string& where);

// A Windows answer file (unattend.xml) given by the user: well-formed XML, no DTD or entities,
// root element <unattend>. Throws BadInput otherwise.
void check_answer_file(std::string_view xml, const std::string& where);

}  // namespace vmfix::image
