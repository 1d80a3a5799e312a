// Module memfd against native memfd, same kernel, same guest, same run,
// each side as its users call it: the module through libmemfd-compat
// (memfd_compat_create, memfd_compat_add_seals/get_seals), the native
// memfd through glibc (memfd_create, fcntl).
// Every benchmark is registered twice, ".../module" and ".../native";
// scripts/bench turns the pairs into module/native ratios. One pair,
// seal_isolate_pins, compares two module seals instead: ".../module" is
// the isolating seal (memfd_compat_add_seals2 with
// MEMFD_COMPAT_SEAL_ISOLATE_PINS), ".../native" the kernel's waiting one
// (fcntl), on the same kind of file with the same pins. Two controls,
// "aa_*", run the native side twice (".../native" and ".../native_b"):
// their ratio shows how far two identical runs differ in this guest.
#include <memfd_compat/memfd_compat.h>

#include "fd_passing.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif

namespace {

constexpr unsigned kSealShrink = 0x2, kSealGrow = 0x4, kSealWrite = 0x8,
		   kSealSeal = 0x1;
constexpr unsigned kFlags = MEMFD_COMPAT_MFD_CLOEXEC |
			    MEMFD_COMPAT_MFD_ALLOW_SEALING;

enum Backend { kModule = 0, kNative = 1, kNativeAgain = 2 };

int create(Backend b, unsigned flags = kFlags)
{
	return b != kModule ? memfd_create("bench", flags)
			    : memfd_compat_create("bench", flags);
}

int add_seals(Backend b, int fd, unsigned seals)
{
	return b != kModule ? fcntl(fd, F_ADD_SEALS, seals)
			    : memfd_compat_add_seals(fd, seals);
}

int get_seals(Backend b, int fd)
{
	return b != kModule ? fcntl(fd, F_GET_SEALS)
			    : memfd_compat_get_seals(fd);
}

int checked_create(benchmark::State &s, Backend b)
{
	const int fd = create(b);
	if (fd < 0)
		s.SkipWithError("create failed");
	return fd;
}

void fill(int fd, std::size_t size)
{
	static const std::string chunk(1 << 20, 'b');
	for (std::size_t off = 0; off < size; off += chunk.size())
		benchmark::DoNotOptimize(pwrite(fd, chunk.data(),
			std::min(chunk.size(), size - off), static_cast<off_t>(off)));
}

void BM_CreateClose(benchmark::State &s, Backend b)
{
	for (auto _ : s) {
		const int fd = checked_create(s, b);
		close(fd);
	}
}

// MFD_HUGETLB of the default size: no huge page is needed to create one.
void BM_CreateCloseHugetlb(benchmark::State &s, Backend b)
{
	for (auto _ : s) {
		const int fd = create(b, kFlags | MEMFD_COMPAT_MFD_HUGETLB);
		if (fd < 0)
			s.SkipWithError("create failed");
		close(fd);
	}
}

void BM_CreateTruncateSealClose(benchmark::State &s, Backend b)
{
	for (auto _ : s) {
		const int fd = checked_create(s, b);
		ftruncate(fd, 4096);
		if (add_seals(b, fd,
			      kSealShrink | kSealGrow | kSealWrite | kSealSeal))
			s.SkipWithError("seal failed");
		close(fd);
	}
}

// F_SEAL_WRITE on a populated file: the pinned-page scan. Args: size MiB.
void BM_SealWriteScan(benchmark::State &s, Backend b)
{
	const std::size_t size = static_cast<std::size_t>(s.range(0)) << 20;
	for (auto _ : s) {
		s.PauseTiming();
		const int fd = checked_create(s, b);
		fill(fd, size);
		s.ResumeTiming();
		if (add_seals(b, fd, kSealWrite))
			s.SkipWithError("seal failed");
		s.PauseTiming();
		close(fd);
		s.ResumeTiming();
	}
	s.counters["pages"] = static_cast<double>(size / 4096);
}

// F_SEAL_WRITE on a 256 MiB file with Args pages pinned (vmsplice into a
// pipe, spread over the file): the module side seals isolating the pins,
// the native side is the kernel's fcntl seal on a native memfd, which
// waits about 150 ms for them and fails with EBUSY (with no pins both
// succeed at once; the ratio is then the isolating seal's overhead).
void BM_SealIsolatePins(benchmark::State &s, Backend b)
{
	constexpr std::size_t kSize = std::size_t{256} << 20, kPage = 4096;
	const auto pins = static_cast<std::size_t>(s.range(0));
	for (auto _ : s) {
		s.PauseTiming();
		const int fd = checked_create(s, b);
		fill(fd, kSize);
		int pfd[2] = {-1, -1};
		if (pins) {
			if (pipe(pfd) != 0)
				s.SkipWithError("pipe");
			fcntl(pfd[1], F_SETPIPE_SZ, static_cast<int>(pins * kPage));
			char *p = static_cast<char *>(mmap(nullptr, kSize,
				PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
			if (p == MAP_FAILED)
				s.SkipWithError("mmap");
			for (std::size_t i = 0; i < pins; i++) {
				iovec iov{p + i * (kSize / pins), kPage};
				if (vmsplice(pfd[1], &iov, 1, 0) != static_cast<ssize_t>(kPage))
					s.SkipWithError("vmsplice");
			}
			munmap(p, kSize);
		}
		s.ResumeTiming();
		const int ret = b == kModule
			? memfd_compat_add_seals2(fd, kSealWrite,
						  MEMFD_COMPAT_SEAL_ISOLATE_PINS)
			: fcntl(fd, F_ADD_SEALS, kSealWrite);
		s.PauseTiming();
		if (ret != 0 && (b == kModule || !pins || errno != EBUSY))
			s.SkipWithError("seal failed");
		if (pins) {
			close(pfd[0]);
			close(pfd[1]);
		}
		close(fd);
		s.ResumeTiming();
	}
	s.counters["pins"] = static_cast<double>(pins);
}

// Args: request size in bytes. Writes and reads cycle over 16 MiB.
void BM_Write(benchmark::State &s, Backend b)
{
	const std::size_t req = static_cast<std::size_t>(s.range(0));
	const std::size_t span = 16 << 20;
	const int fd = checked_create(s, b);
	std::string buf(req, 'w');
	std::size_t off = 0;
	for (auto _ : s) {
		pwrite(fd, buf.data(), req, static_cast<off_t>(off));
		off = (off + req) % span;
	}
	s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * req));
	close(fd);
}

void BM_Read(benchmark::State &s, Backend b)
{
	const std::size_t req = static_cast<std::size_t>(s.range(0));
	const std::size_t span = 16 << 20;
	const int fd = checked_create(s, b);
	fill(fd, span);
	std::string buf(req, '\0');
	std::size_t off = 0;
	for (auto _ : s) {
		benchmark::DoNotOptimize(
			pread(fd, buf.data(), req, static_cast<off_t>(off)));
		off = (off + req) % span;
	}
	s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * req));
	close(fd);
}

// Touch every page of a fresh MAP_SHARED mapping of a populated 8 MiB file.
void BM_PageFaults(benchmark::State &s, Backend b)
{
	const std::size_t size = 8 << 20;
	const int fd = checked_create(s, b);
	fill(fd, size);
	for (auto _ : s) {
		char *p = static_cast<char *>(mmap(nullptr, size,
			PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
		for (std::size_t off = 0; off < size; off += 4096)
			p[off]++;
		munmap(p, size);
	}
	s.SetItemsProcessed(static_cast<int64_t>(s.iterations() * size / 4096));
	close(fd);
}

void BM_TruncateCycle(benchmark::State &s, Backend b)
{
	const int fd = checked_create(s, b);
	for (auto _ : s) {
		ftruncate(fd, 1 << 20);
		ftruncate(fd, 0);
	}
	close(fd);
}

void BM_ProcReopen(benchmark::State &s, Backend b)
{
	const int fd = checked_create(s, b);
	const std::string path = "/proc/self/fd/" + std::to_string(fd);
	for (auto _ : s)
		close(open(path.c_str(), O_RDWR | O_CLOEXEC));
	close(fd);
}

// Send the fd over a UNIX socket, receive it, read its seals, close it.
void BM_ScmRightsGetSeals(benchmark::State &s, Backend b)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv);
	const int fd = checked_create(s, b);
	add_seals(b, fd, kSealGrow);
	for (auto _ : s) {
		if (fd_passing::send_fd(sv[0], fd) != 0)
			s.SkipWithError("sendmsg failed");
		const int got = fd_passing::recv_fd(sv[1]);
		if (get_seals(b, got) != static_cast<int>(kSealGrow))
			s.SkipWithError("wrong seals received");
		close(got);
	}
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

using Fn = void (*)(benchmark::State &, Backend);

// Registers @fn for one backend as "NAME/native", "NAME/native_b" or
// "NAME/module".
benchmark::internal::Benchmark *one(const char *name, Fn fn, Backend b)
{
	static const char *const suffix[] = {"/module", "/native", "/native_b"};
	const std::string full = std::string(name) + suffix[b];
	return benchmark::RegisterBenchmark(full.c_str(),
		[fn, b](benchmark::State &s) { fn(s, b); });
}

// Registers both backends of one benchmark and lets @configure add
// arguments to each. scripts/bench interleaves all repetitions in random
// order, so neither side always runs first or last.
template <typename Configure>
void pair(const char *name, Fn fn, Configure configure)
{
	for (Backend b : {kNative, kModule})
		configure(one(name, fn, b));
}

// A control: the same native benchmark twice.
template <typename Configure>
void control(const char *name, Fn fn, Configure configure)
{
	for (Backend b : {kNative, kNativeAgain})
		configure(one(name, fn, b));
}

} // namespace

int main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	// the module side must be the module, never a silent native fallback
	if (memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_MODULE) != 0 ||
	    memfd_compat_get_backend() != MEMFD_COMPAT_BACKEND_MODULE) {
		std::perror("memfd_compat_set_backend");
		return 77;
	}
	struct memfd_compat_info info {};
	if (memfd_compat_query(&info) != 0) {
		std::perror(MEMFD_COMPAT_DEVICE);
		return 77;
	}
	using B = benchmark::internal::Benchmark;
	const auto none = [](B *) {};
	pair("create_close", BM_CreateClose, none);
	pair("create_seal_close", BM_CreateTruncateSealClose, none);
	pair("create_close_hugetlb", BM_CreateCloseHugetlb, none);
	// Fixed iteration counts: each one fills the file first (untimed).
	for (const auto &[mib, iterations] :
	     {std::pair{1, 40}, std::pair{16, 10}, std::pair{256, 3}})
		pair("seal_write_scan", BM_SealWriteScan, [=](B *x) {
			x->ArgName("MiB")->Arg(mib)->Iterations(iterations)
				->UseRealTime()->Unit(benchmark::kMillisecond);
		});
	if (info.seal_flags & MEMFD_COMPAT_SEAL_ISOLATE_PINS)
		pair("seal_isolate_pins", BM_SealIsolatePins, [](B *x) {
			x->ArgName("pins")->Arg(0)->Arg(1)->Arg(64)->Iterations(2)
				->UseRealTime()->Unit(benchmark::kMillisecond);
		});
	pair("write", BM_Write, [](B *x) {
		x->ArgName("bytes")->Arg(4096)->Arg(1 << 20);
	});
	pair("read", BM_Read, [](B *x) {
		x->ArgName("bytes")->Arg(4096)->Arg(1 << 20);
	});
	pair("page_faults_8MiB", BM_PageFaults, [](B *x) {
		x->Unit(benchmark::kMicrosecond);
	});
	pair("truncate_cycle", BM_TruncateCycle, none);
	pair("proc_reopen", BM_ProcReopen, none);
	pair("scm_rights_get_seals", BM_ScmRightsGetSeals, none);
	control("aa_create_close", BM_CreateClose, none);
	control("aa_write", BM_Write, [](B *x) {
		x->ArgName("bytes")->Arg(4096);
	});
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
