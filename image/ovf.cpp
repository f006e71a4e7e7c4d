#include "image/ovf.h"

#include <fmt/core.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <map>
#include <memory>

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

}  // namespace

// Untrusted XML: no DTD, no entities, no network; a parse error is BadInput naming `what`.
Document parse_untrusted_xml(std::string_view xml, const std::string& where, const char* what) {
  if (to_lower(xml).find("<!doctype") != std::string::npos || xml.find("<!ENTITY") != std::string_view::npos)
    throw BadInput(fmt::format("{}: {} declares a DTD or entities; refusing it (external entities, entity bombs)", where, what));
  Document document(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), where.c_str(), nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
                    xmlFreeDoc);
  if (!document) {
    const xmlError* error = xmlGetLastError();
    throw BadInput(fmt::format("{}: malformed {}: {}", where, what,
                               error && error->message ? std::string(trim(error->message)) : "not XML"));
  }
  return document;
}

void check_answer_file(std::string_view xml, const std::string& where) {
  if (xml.size() > 4 * 1024 * 1024) throw BadInput(fmt::format("{}: an answer file of {} bytes is implausible", where, xml.size()));
  Document document = parse_untrusted_xml(xml, where, "answer file");
  xmlNode* root = xmlDocGetRootElement(document.get());
  if (!root || local(root->name) != "unattend")
    throw BadInput(fmt::format("{}: not a Windows answer file (the root element is not <unattend>)", where));
}

Ovf parse_ovf(std::string_view xml, const std::string& where) {
  if (xml.size() > 16 * 1024 * 1024) throw BadInput(fmt::format("{}: OVF descriptor is implausibly large", where));
  Document document = parse_untrusted_xml(xml, where, "OVF");
  xmlNode* envelope = xmlDocGetRootElement(document.get());
  if (!envelope || local(envelope->name) != "Envelope")
    throw BadInput(fmt::format("{}: not an OVF descriptor (no Envelope)", where));

  Ovf ovf;
  for (xmlNode* file : children(child(envelope, "References"), "File")) {
    OvfFile entry{attribute(file, "id"), attribute(file, "href"), to_number(attribute(file, "size")),
                  attribute(file, "compression"), to_number(attribute(file, "chunkSize"))};
    if (entry.href.empty()) throw BadInput(fmt::format("{}: a File without href", where));
    ovf.files.push_back(entry);
  }
  std::map<std::string, OvfDisk> disks;  // by disk id
  for (xmlNode* disk : children(child(envelope, "DiskSection"), "Disk")) {
    OvfDisk entry;
    entry.disk_id = attribute(disk, "diskId");
    const std::string file_ref = attribute(disk, "fileRef");
    for (const OvfFile& file : ovf.files)
      if (file.id == file_ref) entry.file_href = file.href;
    if (!file_ref.empty() && entry.file_href.empty())
      throw BadInput(fmt::format("{}: disk '{}' refers to file '{}', which References does not list", where,
                                 entry.disk_id, file_ref));
    entry.capacity = to_number(attribute(disk, "capacity")) *
                     allocation_unit(attribute(disk, "capacityAllocationUnits"), where);
    entry.format = attribute(disk, "format");
    disks[entry.disk_id] = entry;
  }

  auto systems = children(envelope, "VirtualSystem");
  if (systems.empty() && child(envelope, "VirtualSystemCollection"))
    throw BadInput(fmt::format("{}: the OVF holds several virtual machines; give one at a time", where));
  if (systems.size() != 1) throw BadInput(fmt::format("{}: the OVF holds no virtual machine", where));
  xmlNode* system = systems.front();
  ovf.name = attribute(system, "id");
  if (xmlNode* os = child(system, "OperatingSystemSection")) {
    ovf.os_type = attribute(os, "osType");
    if (ovf.os_type.empty()) ovf.os_type = text(child(os, "Description"));
  }
  xmlNode* hardware = child(system, "VirtualHardwareSection");
  std::map<std::string, std::string> controllers;  // InstanceID -> kind
  auto items = children(hardware, "Item");
  for (xmlNode* item : children(hardware, "StorageItem")) items.push_back(item);
  for (xmlNode* item : children(hardware, "EthernetPortItem")) items.push_back(item);
  for (xmlNode* item : items) {
    const std::string type = text(child(item, "ResourceType"));
    const std::string id = text(child(item, "InstanceID"));
    if (type == "5") controllers[id] = "ide";
    else if (type == "6") controllers[id] = "scsi";
    else if (type == "20") {
      std::string subtype = to_lower(text(child(item, "ResourceSubType")));
      controllers[id] = subtype.find("nvme") != std::string::npos ? "nvme" : "sata";
    }
  }
  for (xmlNode* item : items) {
    const std::string type = text(child(item, "ResourceType"));
    if (type == "10") ++ovf.nics;
    else if (type == "14") ++ovf.floppies;
    else if (type == "15" || type == "16") ++ovf.cdroms;
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
  for (xmlNode* config : children(hardware, "Config"))
    if (attribute(config, "key") == "firmware") ovf.firmware = attribute(config, "value");
  // Disks that no hardware item attaches still belong to the VM; keep them, after the attached.
  for (auto& [id, disk] : disks) ovf.disks.push_back(disk);
  return ovf;
}

}  // namespace vmfix::image
