#include "image/ovf.h"

#include <fmt/core.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "support/error.h"
#include "support/text.h"

namespace vmfix::image {

namespace {

using Document = std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)>;

std::string_view local(const xmlChar* name) { return reinterpret_cast<const char*>(name); }

// Attribute by local name, whatever its namespace prefix (ovf:, vmw:, none).
std::string attribute(xmlNode* node, std::string_view name) {
  for (xmlAttr* attr = node->properties; attr; attr = attr->next) {
    if (local(attr->name) != name) continue;
    xmlChar* value = xmlNodeListGetString(node->doc, attr->children, 1);
    std::string result = value ? reinterpret_cast<const char*>(value) : "";
    xmlFree(value);
    return result;
  }
  return "";
}

std::vector<xmlNode*> children(xmlNode* node, std::string_view name) {
  std::vector<xmlNode*> found;
  for (xmlNode* child = node ? node->children : nullptr; child; child = child->next)
    if (child->type == XML_ELEMENT_NODE && local(child->name) == name) found.push_back(child);
  return found;
}

xmlNode* child(xmlNode* node, std::string_view name) {
  auto found = children(node, name);
  return found.empty() ? nullptr : found.front();
}

std::string text(xmlNode* node) {
  if (!node) return "";
  xmlChar* content = xmlNodeGetContent(node);
  std::string result = content ? reinterpret_cast<const char*>(content) : "";
  xmlFree(content);
  return std::string(trim(result));
}

// Sizes and capacities are informational (the disk files are measured themselves), and real
// OVFs carry deployment placeholders like "${disksize}" there: those read as 0, unknown.
uint64_t to_number(const std::string& value) {
  char* end = nullptr;
  uint64_t number = std::strtoull(value.c_str(), &end, 10);
  return value.empty() || *end != '\0' ? 0 : number;
}

// "byte * 2^30", "byte * 1024", "MegaBytes", "GigaBytes"...
uint64_t allocation_unit(std::string units, const std::string& where) {
  units = to_lower(units);
  units.erase(std::remove(units.begin(), units.end(), ' '), units.end());
  if (units.empty() || units == "byte" || units == "bytes") return 1;
  if (units == "kilobytes" || units == "kb") return 1ULL << 10;
  if (units == "megabytes" || units == "mb") return 1ULL << 20;
  if (units == "gigabytes" || units == "gb") return 1ULL << 30;
  if (units.starts_with("byte*")) {
    std::string factor = units.substr(5);
    if (factor.starts_with("2^")) {
      uint64_t power = to_number(factor.substr(2));
      if (power > 0 && power < 64) return 1ULL << power;
    } else if (uint64_t factor_value = to_number(factor)) {
      return factor_value;
    }
  }
  throw BadInput(fmt::format("{}: unknown capacity unit '{}'", where, units));
}

// The deployment configuration an OVF deploys by default ("" when it offers none): its
// DeploymentOptionSection's ovf:default one, else the first.
std::string default_configuration(xmlNode* envelope) {
  auto options = children(child(envelope, "DeploymentOptionSection"), "Configuration");
  for (xmlNode* option : options)
    if (attribute(option, "default") == "true") return attribute(option, "id");
  return options.empty() ? "" : attribute(options.front(), "id");
}

// Items without ovf:configuration belong to every configuration; the others name theirs.
bool in_configuration(xmlNode* item, const std::string& configuration) {
  const std::string names = attribute(item, "configuration");
  if (names.empty() || configuration.empty()) return true;
  for (const std::string& name : split_words(names))
    if (name == configuration) return true;
  return false;
}

}  // namespace

// Untrusted XML: no DTD, no entities, no network; a parse error is BadInput naming `what`.
Document parse_untrusted_xml(std::string_view xml, const std::string& where, const char* what) {
  if (contains_icase(xml, "<!doctype") || xml.find("<!ENTITY") != std::string_view::npos)
    throw BadInput(
        fmt::format("{}: {} declares a DTD or entities; refusing it (external entities, entity bombs)", where, what));
  Document document(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), where.c_str(), nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
                    xmlFreeDoc);
  if (!document) {
    const xmlError* error = xmlGetLastError();
    throw BadInput(fmt::format("{}: malformed {}: {}", where, what,
                               error && error->message ? std::string(trim(error->message)) : "not XML"));
  }
  // The text check above cannot see a DTD in UTF-16; the parsed document can.
  if (document->intSubset || document->extSubset)
    throw BadInput(
        fmt::format("{}: {} declares a DTD or entities; refusing it (external entities, entity bombs)", where, what));
  return document;
}

void check_answer_file(std::string_view xml, const std::string& where) {
  if (xml.size() > 4 * 1024 * 1024)
    throw BadInput(fmt::format("{}: an answer file of {} bytes is implausible", where, xml.size()));
  Document document = parse_untrusted_xml(xml, where, "answer file");
  xmlNode* root = xmlDocGetRootElement(document.get());
  if (!root || local(root->name) != "unattend")
    throw BadInput(fmt::format("{}: not a Windows answer file (the root element is not <unattend>)", where));
}

namespace {

std::vector<OvfFile> read_references(xmlNode* envelope, const std::string& where) {
  std::vector<OvfFile> files;
  for (xmlNode* file : children(child(envelope, "References"), "File")) {
    OvfFile entry{attribute(file, "id"), attribute(file, "href"), to_number(attribute(file, "size")),
                  attribute(file, "compression"), to_number(attribute(file, "chunkSize"))};
    if (entry.href.empty()) throw BadInput(fmt::format("{}: a File without href", where));
    for (const OvfFile& seen : files)
      if (seen.id == entry.id || seen.href == entry.href)
        throw BadInput(fmt::format("{}: file '{}' is listed twice in References", where, entry.href));
    files.push_back(entry);
  }
  return files;
}

// DiskSection's disks by disk id, each with the file it refers to.
std::map<std::string, OvfDisk> read_disk_section(xmlNode* envelope, const std::vector<OvfFile>& files,
                                                 const std::string& where) {
  std::map<std::string, OvfDisk> disks;
  for (xmlNode* disk : children(child(envelope, "DiskSection"), "Disk")) {
    OvfDisk entry;
    entry.disk_id = attribute(disk, "diskId");
    const std::string file_ref = attribute(disk, "fileRef");
    for (const OvfFile& file : files)
      if (file.id == file_ref) entry.file_href = file.href;
    if (!file_ref.empty() && entry.file_href.empty())
      throw BadInput(fmt::format("{}: disk '{}' refers to file '{}', which References does not list", where,
                                 entry.disk_id, file_ref));
    entry.capacity =
        to_number(attribute(disk, "capacity")) * allocation_unit(attribute(disk, "capacityAllocationUnits"), where);
    entry.format = attribute(disk, "format");
    if (!disks.emplace(entry.disk_id, entry).second)
      throw BadInput(fmt::format("{}: disk '{}' is listed twice in DiskSection", where, entry.disk_id));
  }
  return disks;
}

xmlNode* the_virtual_system(xmlNode* envelope, const std::string& where) {
  auto systems = children(envelope, "VirtualSystem");
  if (systems.empty() && child(envelope, "VirtualSystemCollection"))
    throw BadInput(fmt::format("{}: the OVF holds several virtual machines; give one at a time", where));
  if (systems.size() != 1) throw BadInput(fmt::format("{}: the OVF holds no virtual machine", where));
  return systems.front();
}

// The hardware items of the default deployment configuration; the disks the other
// configurations attach go to `elsewhere`.
std::vector<xmlNode*> configuration_items(xmlNode* envelope, xmlNode* hardware, std::set<std::string>& elsewhere) {
  std::vector<xmlNode*> items;
  const std::string configuration = default_configuration(envelope);
  for (const char* kind : {"Item", "StorageItem", "EthernetPortItem"})
    for (xmlNode* item : children(hardware, kind)) {
      if (in_configuration(item, configuration)) {
        items.push_back(item);
      } else if (text(child(item, "ResourceType")) == "17") {
        const std::string resource = text(child(item, "HostResource"));
        elsewhere.insert(resource.substr(resource.rfind('/') + 1));
      }
    }
  return items;
}

// Disk controllers by InstanceID: "ide", "scsi", "sata" or "nvme".
std::map<std::string, std::string> controllers_of(const std::vector<xmlNode*>& items) {
  std::map<std::string, std::string> controllers;
  for (xmlNode* item : items) {
    const std::string type = text(child(item, "ResourceType"));
    const std::string id = text(child(item, "InstanceID"));
    if (type == "5")
      controllers[id] = "ide";
    else if (type == "6")
      controllers[id] = "scsi";
    else if (type == "20") {
      std::string subtype = to_lower(text(child(item, "ResourceSubType")));
      controllers[id] = subtype.find("nvme") != std::string::npos ? "nvme" : "sata";
    }
  }
  return controllers;
}

// NICs, floppies, CD-ROMs and the attached disks (taken from `disks`, in hardware order).
void read_hardware(const std::vector<xmlNode*>& items, std::map<std::string, OvfDisk>& disks, Ovf& ovf,
                   const std::string& where) {
  auto controllers = controllers_of(items);
  for (xmlNode* item : items) {
    const std::string type = text(child(item, "ResourceType"));
    if (type == "10")
      ++ovf.nics;
    else if (type == "14")
      ++ovf.floppies;
    else if (type == "15" || type == "16")
      ++ovf.cdroms;
    else if (type == "17") {
      std::string resource = text(child(item, "HostResource"));
      if (resource.empty()) {  // a blank disk, created at deployment: no data, no file
        ovf.disks.push_back(OvfDisk{"", "", 0, "", controllers[text(child(item, "Parent"))], 0});
        continue;
      }
      std::string disk_id = resource.substr(resource.rfind('/') + 1);
      auto found = disks.find(disk_id);
      if (found == disks.end())
        throw BadInput(fmt::format("{}: hardware names disk '{}', which DiskSection does not list", where, resource));
      found->second.controller = controllers[text(child(item, "Parent"))];
      found->second.address = static_cast<int>(to_number(text(child(item, "AddressOnParent"))));
      ovf.disks.push_back(found->second);
      disks.erase(found);
    }
  }
}

}  // namespace

Ovf parse_ovf(std::string_view xml, const std::string& where) {
  if (xml.size() > 16 * 1024 * 1024) throw BadInput(fmt::format("{}: OVF descriptor is implausibly large", where));
  Document document = parse_untrusted_xml(xml, where, "OVF");
  xmlNode* envelope = xmlDocGetRootElement(document.get());
  if (!envelope || local(envelope->name) != "Envelope")
    throw BadInput(fmt::format("{}: not an OVF descriptor (no Envelope)", where));

  Ovf ovf;
  ovf.files = read_references(envelope, where);
  std::map<std::string, OvfDisk> disks = read_disk_section(envelope, ovf.files, where);
  xmlNode* system = the_virtual_system(envelope, where);
  ovf.name = attribute(system, "id");
  if (xmlNode* os = child(system, "OperatingSystemSection")) {
    ovf.os_type = attribute(os, "osType");
    if (ovf.os_type.empty()) ovf.os_type = text(child(os, "Description"));
  }
  xmlNode* hardware = child(system, "VirtualHardwareSection");
  std::set<std::string> other_configurations_disks;
  read_hardware(configuration_items(envelope, hardware, other_configurations_disks), disks, ovf, where);
  for (xmlNode* config : children(hardware, "Config"))
    if (attribute(config, "key") == "firmware") ovf.firmware = attribute(config, "value");
  // Disks that no hardware item attaches still belong to the VM; keep them, after the attached.
  // Those of another deployment configuration do not.
  for (auto& [id, disk] : disks)
    if (!other_configurations_disks.contains(id)) ovf.disks.push_back(disk);
  return ovf;
}

namespace {

constexpr std::string_view kStreamOptimized =
    "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";

xmlAttr* attribute_node(xmlNode* node, std::string_view name) {
  for (xmlAttr* attr = node->properties; attr; attr = attr->next)
    if (local(attr->name) == name) return attr;
  return nullptr;
}

// Sets an attribute by local name, in the namespace it already has, else in that of `like`.
void set_attribute(xmlNode* node, std::string_view name, const std::string& value, std::string_view like) {
  const auto* content = reinterpret_cast<const xmlChar*>(value.c_str());
  if (xmlAttr* existing = attribute_node(node, name)) {
    xmlSetNsProp(node, existing->ns, existing->name, content);
    return;
  }
  xmlAttr* model = attribute_node(node, like);
  const std::string owned(name);
  xmlSetNsProp(node, model ? model->ns : nullptr, reinterpret_cast<const xmlChar*>(owned.c_str()), content);
}

void drop_attribute(xmlNode* node, std::string_view name) {
  if (xmlAttr* attr = attribute_node(node, name)) xmlRemoveProp(attr);
}

// Unlinks and frees `node`, and the indentation before it, so the output stays tidy.
void remove_node(xmlNode* node) {
  if (xmlNode* before = node->prev; before && before->type == XML_TEXT_NODE && xmlIsBlankNode(before)) {
    xmlUnlinkNode(before);
    xmlFreeNode(before);
  }
  xmlUnlinkNode(node);
  xmlFreeNode(node);
}

std::vector<xmlNode*> hardware_items(xmlNode* hardware) {
  std::vector<xmlNode*> items;
  for (xmlNode* node = hardware ? hardware->children : nullptr; node; node = node->next)
    if (node->type == XML_ELEMENT_NODE &&
        (local(node->name) == "Item" || local(node->name) == "StorageItem" || local(node->name) == "EthernetPortItem"))
      items.push_back(node);
  return items;
}

// True when an attribute or the text of `node` (not its descendants) names `reference`.
bool refers_to(xmlNode* node, const std::string& reference) {
  for (xmlAttr* attr = node->properties; attr; attr = attr->next) {
    xmlChar* value = xmlNodeListGetString(node->doc, attr->children, 1);
    const bool found = value && std::string_view(reinterpret_cast<const char*>(value)) == reference;
    xmlFree(value);
    if (found) return true;
  }
  for (xmlNode* text_node = node->children; text_node; text_node = text_node->next)
    if (text_node->type == XML_TEXT_NODE && text_node->content &&
        trim(reinterpret_cast<const char*>(text_node->content)) == reference)
      return true;
  return false;
}

// The outermost elements under `node` that name any of `references` (an Item whose HostResource
// does): one walk, each element at most once, none inside another, so each can be freed safely.
void collect_referrers(xmlNode* node, const std::vector<std::string>& references, std::vector<xmlNode*>& found) {
  for (xmlNode* c = node->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (std::any_of(references.begin(), references.end(), [&](const std::string& r) { return refers_to(c, r); }))
      found.push_back(c);
    else
      collect_referrers(c, references, found);
  }
}

std::string xml_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

const OvaDisk* kept_disk(const std::vector<OvaDisk>& disks, const std::string& id) {
  for (const OvaDisk& disk : disks)
    if (disk.disk_id == id) return &disk;
  return nullptr;
}

// Disks: each kept one points at its new file; the others (blank disks) go, and so do the files
// that are not disks. The ids of what went are added to `removed_disks` and `removed_files`.
void rewrite_disks_and_files(xmlNode* envelope, const std::vector<OvaDisk>& disks, OvfForAws& result,
                             std::vector<std::string>& removed_disks, std::vector<std::string>& removed_files) {
  std::map<std::string, const OvaDisk*> file_of_disk;  // fileRef -> the disk written for it
  for (xmlNode* disk : children(child(envelope, "DiskSection"), "Disk")) {
    const std::string id = attribute(disk, "diskId");
    const OvaDisk* kept = kept_disk(disks, id);
    if (!kept) {
      result.removed.push_back(fmt::format("disk '{}' (no data to import)", id));
      removed_disks.push_back(id);
      remove_node(disk);
      continue;
    }
    file_of_disk[attribute(disk, "fileRef")] = kept;
    set_attribute(disk, "capacity", std::to_string(kept->capacity), "diskId");
    set_attribute(disk, "capacityAllocationUnits", "byte", "diskId");
    set_attribute(disk, "format", std::string(kStreamOptimized), "diskId");
    drop_attribute(disk, "populatedSize");
  }
  for (xmlNode* file : children(child(envelope, "References"), "File")) {
    const std::string id = attribute(file, "id");
    auto written = file_of_disk.find(id);
    if (written == file_of_disk.end()) {
      result.removed.push_back(fmt::format("file '{}' (not a disk)", attribute(file, "href")));
      removed_files.push_back(id);
      remove_node(file);
      continue;
    }
    set_attribute(file, "href", written->second->href, "id");
    set_attribute(file, "size", std::to_string(written->second->file_size), "id");
    drop_attribute(file, "compression");
    drop_attribute(file, "chunkSize");
  }
}

// Why a hardware item of the kept configuration goes ("" when it stays): no removable media, one
// NIC, no disk that is not in the OVA.
std::string why_removed(xmlNode* item, const std::vector<OvaDisk>& disks, int& nics) {
  const std::string type = text(child(item, "ResourceType"));
  if (type == "14") return "floppy drive";
  if (type == "15" || type == "16") return "CD/DVD drive";
  if (type == "10" && ++nics > 1) return "network adapter (AWS gives the instance one)";
  if (type == "17") {
    const std::string resource = text(child(item, "HostResource"));
    if (resource.empty() || !kept_disk(disks, resource.substr(resource.rfind('/') + 1))) return "disk without data";
  }
  return "";
}

void trim_hardware(xmlNode* system, const std::string& configuration, const std::vector<OvaDisk>& disks,
                   OvfForAws& result) {
  for (xmlNode* hardware : children(system, "VirtualHardwareSection")) {
    int nics = 0;
    for (xmlNode* item : hardware_items(hardware)) {
      if (!in_configuration(item, configuration)) {
        remove_node(item);
        continue;
      }
      drop_attribute(item, "configuration");
      const std::string why = why_removed(item, disks, nics);
      if (why.empty()) continue;
      const std::string name = text(child(item, "ElementName"));
      result.removed.push_back(why + (name.empty() ? "" : " '" + name + "'"));
      remove_node(item);
    }
  }
}

std::string dump_xml(xmlDoc* document, const std::string& where) {
  xmlChar* buffer = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(document, &buffer, &size, "UTF-8");
  if (!buffer) throw Error(fmt::format("{}: cannot write the OVF", where));
  std::string xml(reinterpret_cast<const char*>(buffer), static_cast<size_t>(size));
  xmlFree(buffer);
  return xml;
}

}  // namespace

OvfForAws ovf_for_aws(std::string_view source_xml, const std::vector<OvaDisk>& disks, const std::string& where) {
  Document document = parse_untrusted_xml(source_xml, where, "OVF");
  xmlNode* envelope = xmlDocGetRootElement(document.get());
  if (!envelope || local(envelope->name) != "Envelope")
    throw BadInput(fmt::format("{}: not an OVF descriptor (no Envelope)", where));
  OvfForAws result;
  std::vector<std::string> removed_disks, removed_files;
  rewrite_disks_and_files(envelope, disks, result, removed_disks, removed_files);

  // Deployment options: the default configuration is the VM that was exported; it stays, alone.
  const std::string configuration = default_configuration(envelope);
  if (xmlNode* options = child(envelope, "DeploymentOptionSection")) {
    result.removed.push_back(fmt::format("deployment options (configuration '{}' kept)", configuration));
    remove_node(options);
  }
  for (xmlNode* system : children(envelope, "VirtualSystem")) {
    trim_hardware(system, configuration, disks, result);
    // What still names a removed file or disk (an nvram ExtraConfig, an ISO's HostResource).
    std::vector<std::string> references;
    for (const std::string& id : removed_files) references.push_back("ovf:/file/" + id);
    for (const std::string& id : removed_disks) references.push_back("ovf:/disk/" + id);
    std::vector<xmlNode*> referrers;
    if (!references.empty()) collect_referrers(system, references, referrers);
    for (xmlNode* node : referrers) remove_node(node);
  }
  result.xml = dump_xml(document.get(), where);
  return result;
}

// The OVF vmfix writes for bare disks: the disk items, the OS and one NIC.
constexpr char kOvfTemplate[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- written by vmfix for AWS VM Import -->
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
    xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>
{}  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
{}  </DiskSection>
  <NetworkSection>
    <Info>Networks</Info>
    <Network ovf:name="VM Network">
      <Description>The network of the VM's one adapter</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{}">
    <Info>A virtual machine</Info>
    <Name>{}</Name>
    <OperatingSystemSection ovf:id="1" vmw:osType="{}">
      <Info>The guest operating system</Info>
      <Description>{}</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:ElementName>2 virtual CPUs</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>2</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:ElementName>4096 MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>4096</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>{}</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
{}      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>20</rasd:InstanceID>
        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
)";

std::string ovf_for_disks(const std::string& name, const std::string& os_type, int bits,
                          const std::vector<OvaDisk>& disks) {
  std::string references, disk_section, items;
  for (size_t i = 0; i < disks.size(); ++i) {
    references += fmt::format("    <File ovf:href=\"{}\" ovf:id=\"file{}\" ovf:size=\"{}\"/>\n",
                              xml_escape(disks[i].href), i + 1, disks[i].file_size);
    disk_section += fmt::format(
        "    <Disk ovf:capacity=\"{}\" ovf:capacityAllocationUnits=\"byte\" ovf:diskId=\"vmdisk{}\" "
        "ovf:fileRef=\"file{}\" ovf:format=\"{}\"/>\n",
        disks[i].capacity, i + 1, i + 1, kStreamOptimized);
    items += fmt::format(
        "      <Item>\n        <rasd:AddressOnParent>{}</rasd:AddressOnParent>\n        <rasd:ElementName>Hard disk "
        "{}</rasd:ElementName>\n"
        "        <rasd:HostResource>ovf:/disk/vmdisk{}</rasd:HostResource>\n        "
        "<rasd:InstanceID>{}</rasd:InstanceID>\n"
        "        <rasd:Parent>3</rasd:Parent>\n        <rasd:ResourceType>17</rasd:ResourceType>\n      </Item>\n",
        i, i + 1, i + 1, 10 + i);
  }
  const bool windows = os_type == "windows";
  const std::string os_name = fmt::format("{} {}-bit", windows ? "Windows" : "Linux", bits);
  const std::string vmware_type = windows ? (bits == 64 ? "windows9Server64Guest" : "windows9Guest")
                                          : (bits == 64 ? "otherLinux64Guest" : "otherLinuxGuest");
  const std::string escaped = xml_escape(name);
  return fmt::format(kOvfTemplate, references, disk_section, escaped, escaped, vmware_type, os_name, escaped,
                     windows ? "lsilogicsas" : "lsilogic", items);
}

}  // namespace vmfix::image
