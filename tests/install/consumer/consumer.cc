// Consumer of an installed libmemfd-compat, C++ API.
#include <memfd_compat/memfd_compat.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>

int main()
{
	namespace mc = memfd_compat;
	mc::memfd m = mc::create("consumer", mc::flags::cloexec | mc::flags::allow_sealing);
	if (pwrite(m.get(), "hi", 2, 0) != 2)
		return 1;
	mc::add_seals(m, mc::seal::write | mc::seal::shrink | mc::seal::grow);
	if (mc::get_seals(m) != (mc::seal::write | mc::seal::shrink | mc::seal::grow))
		return 2;
	if (pwrite(m.get(), "ho", 2, 0) != -1 || errno != EPERM)
		return 3;
	std::printf("consumer (C++): ok, backend %d\n", memfd_compat_get_backend());
	return 0;
}
