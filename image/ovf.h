#pragma once
// OVF descriptors, parsed with DTDs and entities refused: an OVF comes from outside and an XML
// parser that follows external entities or expands entity bombs would be an attack surface.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::image {

struct OvfDisk {
  std::string disk_id;     // "vmdisk1"
  std::string file_href;   // the file holding it, as the OVF names it; "" for a blank disk
  uint64_t capacity = 0;   // bytes
  std::string format;      // the ovf:format URL ("...#streamOptimized")
  std::string controller;  // "scsi", "ide", "sata", "nvme" or "" when not said
  int address = 0;         // position on the controller
};

struct OvfFile {
  std::string id;
  std::string href;
  uint64_t size = 0;
  std::string compression;  // "gzip" or ""
  uint64_t chunk_size = 0;  // non-zero: split into chunks
};

struct Ovf {
  std::string name;     // VirtualSystem id
  std::string os_type;  // vmw:osType, or the OperatingSystemSection description
  std::vector<OvfFile> files;
  std::vector<OvfDisk> disks;  // in hardware order (the first is the boot disk), blank ones too
  int nics = 0;
  int cdroms = 0;
  int floppies = 0;
  std::string firmware;  // "efi" or "bios" (vmw:Config firmware), "" when not said
};

// Throws BadInput naming `where` for a malformed or hostile descriptor.
Ovf parse_ovf(std::string_view xml, const std::string& where);

// A disk as it goes into an OVA that vmfix writes.
struct OvaDisk {
  std::string disk_id;     // the source OVF's diskId; "" when there was no OVF
  std::string href;        // the streamOptimized VMDK's name in the OVA
  uint64_t file_size = 0;  // bytes of that file
  uint64_t capacity = 0;   // bytes the guest sees
};

struct OvfForAws {
  std::string xml;
  std::vector<std::string> removed;  // what was taken out, for the report
};

// The source OVF rewritten for AWS: the disks point at `disks` (streamOptimized, sizes and
// capacities updated, no chunking or compression), CD-ROM, DVD and floppy drives go, one NIC stays,
// and files that are not disks (ISOs, nvram) go with whatever refers to them. Everything else,
// comments and order included, is kept. `disks` are those of the source with a file, by disk_id.
OvfForAws ovf_for_aws(std::string_view source_xml, const std::vector<OvaDisk>& disks, const std::string& where);

// A minimal OVF for a VM that came as bare disk images: one VM, its disks on one SCSI controller,
// one NIC. `os_type` is "windows" or "linux"; `bits` 32 or 64.
std::string ovf_for_disks(const std::string& name, const std::string& os_type, int bits,
                          const std::vector<OvaDisk>& disks);

// A Windows answer file (unattend.xml) given by the user: well-formed XML, no DTD or entities,
// root element <unattend>. Throws BadInput otherwise.
void check_answer_file(std::string_view xml, const std::string& where);

}  // namespace vmfix::image
