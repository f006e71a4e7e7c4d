// CachedGuest: a file crosses to the host once, uploads wait for flush(), reads see them.
#include <gtest/gtest.h>

#include "guest/cached_guest.h"
#include "guest/fake_guest.h"
#include "support/files.h"

namespace vmfix::guest {
namespace {

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

}  // namespace
}  // namespace vmfix::guest
