#pragma once
// Linux facts that decide whether an imported instance boots and can be reached: kernels and the
// default boot entry, the SSH server, users with keys, and the host firewall.
#include "guest/guest.h"
#include "inspect/facts.h"

namespace vmfix::inspect {

LinuxFacts read_linux_facts(guest::Guest& guest, const std::vector<bootloader::Bootloader>& loaders);

// The parts, each testable on a FakeGuest.
void read_ssh(guest::Guest& guest, LinuxFacts& linux);
void read_key_users(guest::Guest& guest, LinuxFacts& linux);
void read_firewall(guest::Guest& guest, LinuxFacts& linux);

}  // namespace vmfix::inspect
