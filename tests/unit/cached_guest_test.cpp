// CachedGuest: a file crosses to the host once, uploads wait for flush(), reads see them.
#include "guest/cached_guest.h"

#include <gtest/gtest.h>

#include "guest/fake_guest.h"
#include "support/files.h"

namespace vmfix::guest {
namespace {

// Stages `text` for upload to `guest_path`, as a fixer that edited a hive on the host does.
void upload_text(CachedGuest& guest, const TempDir& host, const std::string& guest_path, std::string_view text) {
  const std::filesystem::path local = host.path() / "upload";
  write_host_file_atomic(local, text);
  guest.upload(local.string(), guest_path);
}

TEST(CachedGuest, DownloadsOnceUploadsOnFlush) {
  FakeGuest inner;
  inner.add_file("/Windows/System32/config/SYSTEM", "hive v1");
  CachedGuest guest(inner);
  TempDir host("vmfix-cache-test");
  const std::string local = (host.path() / "copy").string();

  guest.download("/Windows/System32/config/SYSTEM", local);
  EXPECT_EQ(read_host_file(local), "hive v1");
  inner.add_file("/Windows/System32/config/SYSTEM", "changed behind the cache's back");
  guest.download("/Windows/System32/config/SYSTEM", local);
  EXPECT_EQ(read_host_file(local), "hive v1") << "the second download came from the cache";

  write_host_file_atomic(local, "hive v2");
  guest.upload(local, "/Windows/System32/config/SYSTEM");
  EXPECT_EQ(inner.read("/Windows/System32/config/SYSTEM"), "changed behind the cache's back") << "not before flush";
  EXPECT_EQ(guest.read("/Windows/System32/config/SYSTEM"), "hive v2");
  EXPECT_EQ(guest.read_prefix("/Windows/System32/config/SYSTEM", 4), "hive");
  EXPECT_EQ(guest.stat("/Windows/System32/config/SYSTEM")->size, 7u);
  guest.flush();
  EXPECT_EQ(inner.read("/Windows/System32/config/SYSTEM"), "hive v2");

  guest.write("/Windows/System32/config/SYSTEM", "written directly");
  guest.download("/Windows/System32/config/SYSTEM", local);
  EXPECT_EQ(read_host_file(local), "written directly") << "a write drops the cached copy";
  guest.rm_rf("/Windows");
  EXPECT_FALSE(guest.exists("/Windows/System32/config/SYSTEM"));
  EXPECT_THROW(guest.download("/Windows/System32/config/SYSTEM", local), GuestError);
}

// A guest command (update-initramfs, grub-mkconfig, dpkg) sees the edits made so far and can
// change any file: what it leaves is what the next download gets.
TEST(CachedGuest, ACommandSeesPendingUploadsAndEmptiesTheCache) {
  FakeGuest inner;
  inner.add_file("/boot/initrd.img-6.1.0", "host-only");
  inner.add_file("/etc/initramfs-tools/modules", "");
  CachedGuest guest(inner);
  TempDir host("vmfix-cache-test");
  const std::string local = (host.path() / "copy").string();
  guest.download("/boot/initrd.img-6.1.0", local);
  write_host_file_atomic(local, "nvme\n");
  guest.upload(local, "/etc/initramfs-tools/modules");
  inner.on_run([&](const std::vector<std::string>&) {
    EXPECT_EQ(inner.read("/etc/initramfs-tools/modules"), "nvme\n") << "the command ran before the upload";
    inner.write("/boot/initrd.img-6.1.0", "with nvme");
    return std::string();
  });
  guest.run({"update-initramfs", "-u"});
  guest.download("/boot/initrd.img-6.1.0", local);
  EXPECT_EQ(read_host_file(local), "with nvme") << "a stale copy came from the cache";
  inner.on_run([](const std::vector<std::string>&) -> std::string { throw GuestError("dracut failed"); });
  guest.download("/boot/initrd.img-6.1.0", local);
  inner.write("/boot/initrd.img-6.1.0", "half written");
  EXPECT_THROW(guest.run({"dracut", "-f"}), GuestError);
  guest.download("/boot/initrd.img-6.1.0", local);
  EXPECT_EQ(read_host_file(local), "half written") << "a failing command empties the cache too";
}

// Lookups are remembered until the guest changes through the cache (or a command runs).
TEST(CachedGuest, RemembersLookupsUntilSomethingChanges) {
  FakeGuest inner;
  inner.add_file("/Windows/System32/config/SYSTEM.LOG1", "log");
  CachedGuest guest(inner);
  EXPECT_TRUE(guest.exists("/Windows/System32/config/SYSTEM.LOG1"));
  EXPECT_EQ(guest.resolve_case("/windows/system32/CONFIG/system.log1"), "/Windows/System32/config/SYSTEM.LOG1");
  inner.rm("/Windows/System32/config/SYSTEM.LOG1");  // behind the cache's back
  EXPECT_TRUE(guest.exists("/Windows/System32/config/SYSTEM.LOG1")) << "remembered";
  EXPECT_EQ(guest.resolve_case("/windows/system32/CONFIG/system.log1"), "/Windows/System32/config/SYSTEM.LOG1");

  guest.write("/Windows/System32/config/other", "x");  // any change forgets every lookup
  EXPECT_FALSE(guest.exists("/Windows/System32/config/SYSTEM.LOG1"));
  EXPECT_EQ(guest.resolve_case("/windows/system32/CONFIG/system.log1"), "/Windows/System32/config/system.log1");

  guest.mkdir_p("/data");
  EXPECT_TRUE(guest.is_dir("/data"));
  guest.rm_rf("/data");
  EXPECT_FALSE(guest.exists("/data")) << "rm_rf forgets";
  EXPECT_FALSE(guest.exists("/late"));
  inner.add_file("/late", "made by a command");
  EXPECT_FALSE(guest.exists("/late")) << "remembered";
  inner.on_run([](const std::vector<std::string>&) { return std::string(); });
  guest.run({"true"});
  EXPECT_TRUE(guest.exists("/late")) << "a command may change anything";
}

// Configuration files are read by inspection, by the rules and by the re-check: once from the
// appliance until something changes the guest, whichever name the change went through.
TEST(CachedGuest, ReadsCrossOnceUntilTheGuestChanges) {
  FakeGuest inner;
  inner.add_file("/boot/grub2/grub.cfg", "menuentry 'old'");
  inner.add_file("/etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n");
  inner.add_device("/dev/sda", std::string(4096, '\0'));
  CachedGuest guest(inner);
  EXPECT_EQ(guest.read("/boot/grub2/grub.cfg"), "menuentry 'old'");
  inner.add_file("/boot/grub2/grub.cfg", "menuentry 'behind the back'");
  EXPECT_EQ(guest.read("/boot/grub2/grub.cfg"), "menuentry 'old'") << "the second read came from the cache";
  EXPECT_EQ(guest.read_prefix("/boot/grub2/grub.cfg", 15), "menuentry 'old'")
      << "a prefix of a held file, from the host";

  guest.write("/etc/fstab", "UUID=1234 / ext4 defaults 0 1\n");
  EXPECT_EQ(inner.read("/etc/fstab"), "UUID=1234 / ext4 defaults 0 1\n") << "a write goes through at once";
  inner.add_file("/etc/fstab", "changed behind the cache's back");
  EXPECT_EQ(guest.read("/etc/fstab"), "UUID=1234 / ext4 defaults 0 1\n") << "what was written is remembered";
  EXPECT_EQ(guest.read("/boot/grub2/grub.cfg"), "menuentry 'behind the back'")
      << "a write through one name may change a file known under another: every remembered content goes";

  inner.add_file("/boot/grub2/grub.cfg", "regenerated");
  guest.write_device("/dev/sda", 0, std::string(512, '\0'));
  EXPECT_EQ(guest.read("/boot/grub2/grub.cfg"), "regenerated") << "a device write forgets contents too";
  inner.add_file("/boot/grub2/grub.cfg", "by grub-mkconfig");
  inner.on_run([](const std::vector<std::string>&) { return std::string(); });
  guest.run({"grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"});
  EXPECT_EQ(guest.read("/boot/grub2/grub.cfg"), "by grub-mkconfig");
  guest.rm("/boot/grub2/grub.cfg");
  EXPECT_THROW(guest.read("/boot/grub2/grub.cfg"), GuestError);
}

// A hive waiting for upload survives other writes: it is the only copy of the edit.
TEST(CachedGuest, PendingUploadsSurviveOtherChanges) {
  FakeGuest inner;
  inner.add_file("/Windows/System32/config/SYSTEM", "hive v1");
  inner.mkdir_p("/Windows/Panther");
  CachedGuest guest(inner);
  TempDir host("vmfix-cache-test");
  upload_text(guest, host, "/Windows/System32/config/SYSTEM", "hive v2");
  guest.write("/Windows/Panther/unattend.xml", "<unattend/>");
  guest.rm("/Windows/Panther/unattend.xml");
  inner.add_device("/dev/sda", std::string(4096, '\0'));
  guest.write_device("/dev/sda", 0, std::string(512, '\0'));
  EXPECT_EQ(guest.read("/Windows/System32/config/SYSTEM"), "hive v2");
  guest.flush();
  EXPECT_EQ(inner.read("/Windows/System32/config/SYSTEM"), "hive v2");
  guest.rm_rf("/Windows/System32");
  EXPECT_THROW(guest.read("/Windows/System32/config/SYSTEM"), GuestError);
}

// An upload may change a file that is also known under another name: after a flush only the
// uploaded contents are remembered.
TEST(CachedGuest, AFlushForgetsWhatItDidNotUpload) {
  FakeGuest inner;
  inner.add_file("/etc/grub2.cfg", "old menu");
  inner.add_file("/boot/grub2/grub.cfg", "old menu");
  CachedGuest guest(inner);
  TempDir host("vmfix-cache-test");
  EXPECT_EQ(guest.read("/etc/grub2.cfg"), "old menu");
  upload_text(guest, host, "/boot/grub2/grub.cfg", "new menu");
  inner.add_file("/etc/grub2.cfg", "new menu");  // the guest's symlink, as the fake cannot have one
  EXPECT_EQ(guest.read("/etc/grub2.cfg"), "old menu") << "before the flush, nothing changed in the guest";
  guest.flush();
  EXPECT_EQ(guest.read("/etc/grub2.cfg"), "new menu");
  inner.add_file("/boot/grub2/grub.cfg", "behind the back");
  EXPECT_EQ(guest.read("/boot/grub2/grub.cfg"), "new menu") << "the uploaded content is kept";
}

}  // namespace
}  // namespace vmfix::guest
