// MFD_HUGETLB memfds, the module's beside the kernel's own, on every
// backend: creation and every MFD_HUGE_* size, the hugetlbfs file rules
// (alignment, no write()), seals through every route, sharing, exec flags,
// pool exhaustion, and the pool's accounting back to its baseline.
//
// The guest's pools: 2 MiB pages are reserved here, through sysfs; 1 GiB
// pages only exist when the guest booted with hugepagesz=1G hugepages=N
// (scripts/vm-run --hugepages-1g N). Cases for a size without pages are
// skipped, with the reason.
#include "guest_util.hpp"

#include <linux/udmabuf.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

namespace {

using namespace guest;

constexpr std::size_t kMiB = 1UL << 20;
constexpr std::size_t k2M = 2 * kMiB;

// /proc/meminfo's value for @key ("HugePages_Free"...), or -1.
long meminfo(const std::string &key)
{
	std::ifstream in("/proc/meminfo");
	std::string line;
	while (std::getline(in, line)) {
		if (line.compare(0, key.size() + 1, key + ":") != 0)
			continue;
		std::istringstream v(line.substr(key.size() + 1));
		long n = -1;
		v >> n;
		return n;
	}
	return -1;
}

std::string pool_dir(std::size_t size)
{
	return "/sys/kernel/mm/hugepages/hugepages-" + std::to_string(size >> 10) + "kB";
}

long read_long(const std::string &path)
{
	std::ifstream in(path);
	long n = -1;
	in >> n;
	return n;
}

bool write_long(const std::string &path, long v)
{
	std::ofstream out(path);
	out << v;
	out.flush();
	return out.good();
}

// The flags of a huge page size: (log2 size) << MFD_HUGE_SHIFT.
unsigned huge_flag(std::size_t size)
{
	return static_cast<unsigned>(__builtin_ctzl(size)) << MFD_HUGE_SHIFT;
}

// Sets the 2 MiB pool to @pages for the life of the object.
class Pool2M
{
public:
	explicit Pool2M(long pages)
	        : path_(pool_dir(k2M) + "/nr_hugepages"), saved_(read_long(path_))
	{
		// The kernel may find too few free 2 MiB blocks in a fragmented
		// guest (seen right after the pin and isolate suites); make
		// them as an administrator would: drop caches, compact, retry.
		for (int i = 0; i < 4 && !ok_; i++) {
			if (i > 0)
				compact_memory();
			ok_ = write_long(path_, pages) && read_long(path_) == pages;
		}
	}
	~Pool2M() { write_long(path_, saved_); }
	bool ok() const { return ok_; }

private:
	std::string path_;
	long saved_;
	bool ok_ = false;
};

class Hugetlb : public BackendTest
{
protected:
	static constexpr long kPages = 8;

	void SetUp() override
	{
		BackendTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		if (access(pool_dir(k2M).c_str(), F_OK) != 0)
			GTEST_SKIP() << "no 2 MiB huge pages in this kernel";
		pool_ = std::make_unique<Pool2M>(kPages);
		ASSERT_TRUE(pool_->ok()) << "cannot reserve " << kPages << " huge pages";
		free_ = meminfo("HugePages_Free");
		rsvd_ = meminfo("HugePages_Rsvd");
	}

	// Whatever a case did, the pool is back where it started once its
	// memfds are gone.
	void TearDown() override
	{
		if (pool_) {
			EXPECT_EQ(meminfo("HugePages_Free"), free_);
			EXPECT_EQ(meminfo("HugePages_Rsvd"), rsvd_);
		}
	}

	owned_fd make_huge(unsigned extra = MFD_ALLOW_SEALING, const char *name = "huge")
	{
		return make(MFD_CLOEXEC | MFD_HUGETLB | extra, name);
	}

	std::unique_ptr<Pool2M> pool_;
	long free_ = -1, rsvd_ = -1;
};
INSTANTIATE_BACKENDS(Hugetlb);

TEST_P(Hugetlb, Create_NamedAsMemfd_DefaultPageSize)
{
	owned_fd m = make_huge(MFD_ALLOW_SEALING, "frames");
	ASSERT_TRUE(m);
	char link[128] = {};
	ASSERT_GT(readlink(proc_path(m.get()).c_str(), link, sizeof(link) - 1), 0);
	EXPECT_STREQ(link, "/memfd:frames (deleted)");
	struct stat st {};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_EQ(static_cast<long>(st.st_blksize), meminfo("Hugepagesize") * 1024);
	EXPECT_EQ(st.st_mode & 07777, 0777U);
	EXPECT_EQ(st.st_size, 0);
	EXPECT_EQ(get(m.get()), 0);
}

TEST_P(Hugetlb, Create_WithoutAllowSealing_SealSealOnly)
{
	owned_fd m = make_huge(0);
	ASSERT_TRUE(m);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO(add(m.get(), F_SEAL_GROW), EPERM);
}

// Every size the uapi names: created exactly when the kernel has a pool
// for it (ENODEV otherwise), with that page size.
TEST_P(Hugetlb, Create_EveryHugeSize_AsTheKernelsPools)
{
	for (int log2 = 16; log2 <= 34; log2++) {
		const std::size_t size = 1UL << log2;
		const bool pool = access(pool_dir(size).c_str(), F_OK) == 0;
		errno = 0;
		const int fd = create(be(), "size", MFD_CLOEXEC | MFD_HUGETLB | huge_flag(size));
		if (!pool) {
			EXPECT_EQ(fd, -1) << "log2 " << log2;
			EXPECT_EQ(errno, ENODEV) << "log2 " << log2;
			continue;
		}
		ASSERT_GE(fd, 0) << "log2 " << log2 << ": " << std::strerror(errno);
		owned_fd m{fd};
		struct stat st {};
		ASSERT_EQ(fstat(fd, &st), 0);
		EXPECT_EQ(static_cast<std::size_t>(st.st_blksize), size) << "log2 " << log2;
	}
}

TEST_P(Hugetlb, Create_BadSizeBits)
{
	// a size without MFD_HUGETLB
	EXPECT_ERRNO(create(be(), "x", MFD_CLOEXEC | huge_flag(k2M)), EINVAL);
	// no page of 8 KiB in any pool
	EXPECT_ERRNO(create(be(), "x", MFD_CLOEXEC | MFD_HUGETLB | (13U << MFD_HUGE_SHIFT)),
	             ENODEV);
	EXPECT_ERRNO(create(be(), "x", MFD_CLOEXEC | MFD_HUGETLB | (63U << MFD_HUGE_SHIFT)),
	             ENODEV);
}

TEST_P(Hugetlb, Basic_MapWriteRead_NoWriteSyscall)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), 2 * k2M), 0);
	auto *p = static_cast<char *>(
	        mmap(nullptr, 2 * k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	std::memcpy(p + k2M + 7, "huge", 4);
	EXPECT_EQ(pread_str(m.get(), 4, static_cast<off_t>(k2M + 7)), "huge");
	// hugetlbfs has no write(); a size that is not a page multiple rounds up
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EINVAL);
	EXPECT_EQ(munmap(p, 2 * k2M), 0);
	EXPECT_EQ(meminfo("HugePages_Free"), free_ - 1); // the file keeps its page
}

TEST_P(Hugetlb, Mmap_UnalignedOffsetAndPartialMunmap_EINVAL)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), 2 * k2M), 0);
	EXPECT_EQ(mmap(nullptr, 4096, PROT_READ, MAP_SHARED, m.get(), 4096), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
	auto *p = static_cast<char *>(
	        mmap(nullptr, 2 * k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(munmap(p + 4096, 4096), EINVAL);
	EXPECT_EQ(munmap(p, 2 * k2M), 0);
}

TEST_P(Hugetlb, SealWrite_BusyWhileWritablyMapped_ThenEnforced)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), k2M), 0);
	auto *p = static_cast<char *>(
	        mmap(nullptr, k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	p[0] = 'w';
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EBUSY);
	ASSERT_EQ(munmap(p, k2M), 0);
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE), 0);
	EXPECT_EQ(get(m.get()), F_SEAL_WRITE);
	EXPECT_EQ(mmap(nullptr, k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	EXPECT_ERRNO(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, k2M),
	             EPERM);
	EXPECT_EQ(pread_str(m.get(), 1, 0), "w");
}

// A mapped page is no pin: the seal is granted at once with a read-only
// shared mapping in place (the pin scan counts hugetlb's references). The
// mapping comes from a read-only descriptor: one from a writable
// descriptor may be made writable later, and so refuses the seal (EBUSY),
// as on shmem.
TEST_P(Hugetlb, SealWrite_ReadOnlyMappingPresent_Granted)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), 2 * k2M), 0);
	auto *w = static_cast<char *>(
	        mmap(nullptr, 2 * k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
	ASSERT_NE(w, MAP_FAILED);
	w[0] = 'a';
	w[k2M] = 'b';
	ASSERT_EQ(munmap(w, 2 * k2M), 0);
	owned_fd ro{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(ro);
	auto *r = static_cast<volatile char *>(
	        mmap(nullptr, 2 * k2M, PROT_READ, MAP_SHARED, ro.get(), 0));
	ASSERT_NE(r, MAP_FAILED);
	EXPECT_EQ(r[0] + r[k2M], 'a' + 'b');
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0);
	EXPECT_ERRNO(mprotect(const_cast<char *>(r), k2M, PROT_READ | PROT_WRITE), EACCES);
	EXPECT_EQ(munmap(const_cast<char *>(r), 2 * k2M), 0);
}

// The same mapping from the writable descriptor refuses the seal.
TEST_P(Hugetlb, SealWrite_SharedMappingOfWritableFd_EBUSY)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), k2M), 0);
	void *r = mmap(nullptr, k2M, PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(r, MAP_FAILED);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EBUSY);
	EXPECT_EQ(get(m.get()), 0);
	EXPECT_EQ(munmap(r, k2M), 0);
}

TEST_P(Hugetlb, SealShrinkGrow_Truncate_Fallocate_EPERM)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), 2 * k2M), 0);
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK | F_SEAL_GROW), 0);
	EXPECT_ERRNO(ftruncate(m.get(), k2M), EPERM);
	EXPECT_ERRNO(ftruncate(m.get(), 4 * k2M), EPERM);
	EXPECT_ERRNO(fallocate(m.get(), 0, 0, 4 * k2M), EPERM);
	EXPECT_EQ(ftruncate(m.get(), 2 * k2M), 0);
	EXPECT_EQ(fallocate(m.get(), 0, 0, k2M), 0);
	EXPECT_EQ(file_size(m.get()), static_cast<off_t>(2 * k2M));
}

TEST_P(Hugetlb, SealFutureWrite_NewWritableMapEPERM_OldOneWorks)
{
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), k2M), 0);
	auto *p = static_cast<char *>(
	        mmap(nullptr, k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	p[1] = 'f';
	EXPECT_EQ(pread_str(m.get(), 1, 1), "f");
	EXPECT_EQ(mmap(nullptr, k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	EXPECT_EQ(munmap(p, k2M), 0);
}

TEST_P(Hugetlb, Share_DupReopenFork_SameSeals)
{
	owned_fd m = make_huge();
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	owned_fd d{dup(m.get())};
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	EXPECT_EQ(fcntl(d.get(), F_GET_SEALS), F_SEAL_GROW);
	EXPECT_EQ(fcntl(r.get(), F_GET_SEALS), F_SEAL_GROW);
	ASSERT_EQ(fcntl(r.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
	EXPECT_EQ(get(m.get()), F_SEAL_GROW | F_SEAL_SHRINK);
	const int fd = m.get();
	EXPECT_EQ(run_in_child([fd] {
		          if (fcntl(fd, F_GET_SEALS) != (F_SEAL_GROW | F_SEAL_SHRINK))
			          return 1;
		          return ftruncate(fd, 4 * k2M) == -1 && errno == EPERM ? 0 : 2;
	          }),
	          0);
}

// chmod of the exec bits under F_SEAL_EXEC. shmem refuses it (EPERM) from
// Linux 6.3, but hugetlbfs does not check F_SEAL_EXEC in its setattr even
// on 6.12: there a module hugetlb memfd is the kernel's, and behaves as
// the native one. On a kernel without F_SEAL_EXEC (6.1) the module adds
// the check to its hugetlb memfds as to its shmem ones.
void expect_exec_bits_frozen_as_the_kernel(backend b, int fd, mode_t mode)
{
	if (is_module(b) && !fcntl_has_seal_exec()) {
		EXPECT_ERRNO(fchmod(fd, mode), EPERM);
		EXPECT_ERRNO(chmod(proc_path(fd).c_str(), mode), EPERM);
		return;
	}
	// the native hugetlb memfd of this kernel is the reference
	owned_fd n{native_create("ref", MFD_CLOEXEC | MFD_HUGETLB | MFD_NOEXEC_SEAL)};
	ASSERT_TRUE(n);
	const long want = outcome_of([&] { return fchmod(n.get(), 0755); });
	EXPECT_EQ(outcome_of([&] { return fchmod(fd, mode); }), want);
}

TEST_P(Hugetlb, NoexecSeal_NotExecutable_ExecSealed)
{
	SKIP_NATIVE_UNLESS(native_has_seal_exec(), "MFD_NOEXEC_SEAL");
	owned_fd m = make_huge(MFD_NOEXEC_SEAL);
	ASSERT_TRUE(m);
	struct stat st {};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_EQ(st.st_mode & 0111, 0U);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC);
	expect_exec_bits_frozen_as_the_kernel(be(), m.get(), 0755);
}

TEST_P(Hugetlb, SealExec_OnExecutable_AddsWriteSeals)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make_huge(MFD_ALLOW_SEALING | MFD_EXEC);
	SKIP_NATIVE_UNLESS(m, "MFD_EXEC");
	ASSERT_EQ(ftruncate(m.get(), k2M), 0);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	                                F_SEAL_FUTURE_WRITE);
	EXPECT_ERRNO(ftruncate(m.get(), 0), EPERM);
	expect_exec_bits_frozen_as_the_kernel(be(), m.get(), 0666);
}

// More than the pool: the reservation fails at mmap (ENOMEM) and at
// fallocate (ENOSPC); without a reservation the fault gets SIGBUS.
TEST_P(Hugetlb, PoolExhausted_AsNatively)
{
	const std::size_t len = static_cast<std::size_t>(kPages + 2) * k2M;
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), static_cast<off_t>(len)), 0);
	EXPECT_EQ(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0),
	          MAP_FAILED);
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_ERRNO(fallocate(m.get(), 0, 0, static_cast<off_t>(len)), ENOSPC);
	const int fd = m.get();
	EXPECT_EQ(run_in_child([fd, len] {
		          auto *p = static_cast<volatile char *>(
		                  mmap(nullptr, len, PROT_READ | PROT_WRITE,
		                       MAP_SHARED | MAP_NORESERVE, fd, 0));
		          if (p == MAP_FAILED)
			          return 1;
		          for (std::size_t off = 0; off < len; off += k2M)
			          p[off] = 1;
		          return 2; // every page faulted in: no SIGBUS
	          }),
	          128 + SIGBUS);
}

TEST_P(Hugetlb, Accounting_ReservedThenFreed)
{
	{
		owned_fd m = make_huge();
		ASSERT_EQ(ftruncate(m.get(), 3 * k2M), 0);
		void *p = mmap(nullptr, 3 * k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0);
		ASSERT_NE(p, MAP_FAILED);
		EXPECT_EQ(meminfo("HugePages_Rsvd"), rsvd_ + 3);
		static_cast<char *>(p)[0] = 1;
		EXPECT_EQ(meminfo("HugePages_Rsvd"), rsvd_ + 2);
		EXPECT_EQ(meminfo("HugePages_Free"), free_ - 1);
		ASSERT_EQ(munmap(p, 3 * k2M), 0);
	}
	// TearDown checks Free and Rsvd against the baseline
}

// A 1 GiB page, where the guest reserved one at boot (vm-run
// --hugepages-1g): mapped, written, read back, and given back.
TEST_P(Hugetlb, GiganticPage_MapWriteRead_PoolBackToBaseline)
{
	constexpr std::size_t k1G = 1UL << 30;
	const std::string dir = pool_dir(k1G);
	if (read_long(dir + "/free_hugepages") < 1)
		GTEST_SKIP() << "no free 1 GiB page (boot with hugepagesz=1G hugepages=1)";
	const long free1g = read_long(dir + "/free_hugepages");
	{
		owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | huge_flag(k1G));
		ASSERT_TRUE(m);
		struct stat st {};
		ASSERT_EQ(fstat(m.get(), &st), 0);
		EXPECT_EQ(static_cast<std::size_t>(st.st_blksize), k1G);
		ASSERT_EQ(ftruncate(m.get(), static_cast<off_t>(k1G)), 0);
		auto *p = static_cast<char *>(
		        mmap(nullptr, k1G, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
		ASSERT_NE(p, MAP_FAILED);
		std::memcpy(p + k1G - 8, "gigantic", 8);
		EXPECT_EQ(read_long(dir + "/free_hugepages"), free1g - 1);
		ASSERT_EQ(munmap(p, k1G), 0);
		EXPECT_EQ(pread_str(m.get(), 8, static_cast<off_t>(k1G - 8)), "gigantic");
		ASSERT_EQ(add(m.get(), F_SEAL_SHRINK | F_SEAL_WRITE), 0);
		EXPECT_ERRNO(ftruncate(m.get(), 0), EPERM);
	}
	EXPECT_EQ(read_long(dir + "/free_hugepages"), free1g);
	EXPECT_EQ(read_long(dir + "/resv_hugepages"), 0);
}

// udmabuf (built into 6.12) takes hugetlb memfds sealed against shrinking.
TEST_P(Hugetlb, Udmabuf_ShrinkSealed_MapsTheData)
{
	const int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		GTEST_SKIP() << "no /dev/udmabuf in this kernel";
	owned_fd udev{dev};
	owned_fd m = make_huge();
	ASSERT_EQ(ftruncate(m.get(), k2M), 0);
	auto *p = static_cast<char *>(
	        mmap(nullptr, k2M, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	std::memcpy(p + 4096, "dmabuf", 6);
	ASSERT_EQ(munmap(p, k2M), 0);

	udmabuf_create c{};
	c.memfd = static_cast<__u32>(m.get());
	c.flags = UDMABUF_FLAGS_CLOEXEC;
	c.size = k2M;
	EXPECT_ERRNO(ioctl(dev, UDMABUF_CREATE, &c), EINVAL); // no F_SEAL_SHRINK
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	const int buf = ioctl(dev, UDMABUF_CREATE, &c);
	ASSERT_GE(buf, 0) << std::strerror(errno);
	owned_fd b{buf};
	auto *q = static_cast<char *>(mmap(nullptr, k2M, PROT_READ, MAP_SHARED, buf, 0));
	ASSERT_NE(q, MAP_FAILED);
	EXPECT_EQ(std::string(q + 4096, 6), "dmabuf");
	EXPECT_EQ(munmap(q, k2M), 0);
}

} // namespace
