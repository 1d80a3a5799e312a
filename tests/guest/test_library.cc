// Issue "foundation": libmemfd-compat against the loaded module.
#include "guest_util.hpp"

#include <dirent.h>

#include <atomic>
#include <thread>
#include <vector>

namespace guest
{
namespace
{

namespace mc = memfd_compat;

class Library : public ModuleTest
{
protected:
	void SetUp() override
	{
		ModuleTest::SetUp();
		ASSERT_EQ(memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_MODULE), 0);
	}
	void TearDown() override { memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO); }
};

// A module memfd answers the module's GET_SEALS ioctl; a native one ENOTTY.
bool is_module_memfd(int fd)
{
	return ioctl(fd, MEMFD_COMPAT_IOC_GET_SEALS, 0) >= 0;
}

int count_device_fds()
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (dirent *e = readdir(d)) {
		char buf[64] = {};
		const std::string path = std::string("/proc/self/fd/") + e->d_name;
		if (readlink(path.c_str(), buf, sizeof(buf) - 1) > 0 &&
		    std::strcmp(buf, MEMFD_COMPAT_DEVICE) == 0)
			++n;
	}
	closedir(d);
	return n;
}

TEST_F(Library, Create_ModuleBackend_ReturnsModuleMemfd)
{
	owned_fd m{memfd_compat_create("lib", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m) << std::strerror(errno);
	EXPECT_TRUE(is_module_memfd(m.get()));
	EXPECT_EQ(fcntl(m.get(), F_GETFD), FD_CLOEXEC);
	char buf[64] = {};
	ASSERT_GT(readlink(proc_path(m.get()).c_str(), buf, sizeof(buf) - 1), 0);
	EXPECT_STREQ(buf, "/memfd:lib (deleted)");
}

TEST_F(Library, Create_AutoBackendWithDevice_UsesModule)
{
	ASSERT_EQ(memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO), 0);
	EXPECT_EQ(memfd_compat_get_backend(), MEMFD_COMPAT_BACKEND_MODULE);
	owned_fd m{memfd_compat_create("auto", MFD_CLOEXEC)};
	ASSERT_TRUE(m);
	EXPECT_TRUE(is_module_memfd(m.get()));
}

TEST_F(Library, Create_ErrnosComeFromModule)
{
	EXPECT_ERRNO(memfd_compat_create(nullptr, 0), EFAULT);
	EXPECT_ERRNO(memfd_compat_create(std::string(250, 'x').c_str(), 0), EINVAL);
	EXPECT_ERRNO(memfd_compat_create("x", 0x40), EINVAL);
}

TEST_F(Library, Create_DeviceOpenedOnceAcrossThreads)
{
	std::vector<std::thread> threads;
	std::atomic<int> failures{0};
	for (int t = 0; t < 8; ++t)
		threads.emplace_back([&] {
			for (int i = 0; i < 16; ++i) {
				const int fd = memfd_compat_create("mt", MFD_CLOEXEC);
				if (fd < 0)
					++failures;
				else
					close(fd);
			}
		});
	for (auto &t : threads)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	// guest::device() holds one; the library holds exactly one more.
	EXPECT_EQ(count_device_fds(), 2);
}

TEST_F(Library, Seals_AddGetGoThroughModuleIoctl)
{
	owned_fd m{memfd_compat_create("seals", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	ASSERT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_GROW);
	EXPECT_EQ(ioctl(m.get(), MEMFD_COMPAT_IOC_GET_SEALS, 0), F_SEAL_GROW);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), 0x4000), EINVAL);
}

TEST_F(Library, Seals_NativeMemfdFallsBackToFcntl)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SHRINK);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_SHRINK);
}

TEST_F(Library, Query_MatchesRawIoctl)
{
	memfd_compat_info lib{}, raw{};
	ASSERT_EQ(memfd_compat_query(&lib), 0);
	ASSERT_EQ(ioctl(device(), MEMFD_COMPAT_IOC_QUERY, &raw), 0);
	EXPECT_EQ(std::memcmp(&lib, &raw, sizeof(lib)), 0);
	EXPECT_EQ(lib.api_version, 1U);
}

TEST_F(Library, Cxx_CreateSealAndMap)
{
	mc::memfd m = mc::create("cxx", mc::flags::cloexec | mc::flags::allow_sealing);
	ASSERT_TRUE(m);
	EXPECT_TRUE(is_module_memfd(m.get()));
	ASSERT_EQ(ftruncate(m.get(), page_size()), 0);
	{
		mc::mapping map = mc::mapping::map(m.get(), page_size(),
		                                   PROT_READ | PROT_WRITE, MAP_SHARED);
		std::memcpy(map.data(), "cxx", 3);
		std::error_code ec;
		mc::add_seals(m, mc::seal::write, ec);
		EXPECT_EQ(ec, std::error_code(EBUSY, std::system_category()));
	}
	mc::add_seals(m, mc::seal::write | mc::seal::seal);
	EXPECT_EQ(mc::get_seals(m), mc::seal::write | mc::seal::seal);
	EXPECT_EQ(pread_str(m.get(), 3, 0), "cxx");
	EXPECT_THROW(mc::add_seals(m, mc::seal::grow), std::system_error);
}

} // namespace
} // namespace guest
