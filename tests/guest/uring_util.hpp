// io_uring for the guest suites: submit the one prepared request and wait
// for it. Header-only.
#ifndef MEMFD_GUEST_URING_UTIL_HPP
#define MEMFD_GUEST_URING_UTIL_HPP

#include <liburing.h>

#include <cerrno>

namespace guest
{

// Submits the request prepared on @ring and returns its completion's res
// (bytes or -errno), or -EIO if it could not be submitted or reaped.
inline int uring_complete(io_uring *ring)
{
	if (io_uring_submit(ring) != 1)
		return -EIO;
	io_uring_cqe *cqe = nullptr;
	if (io_uring_wait_cqe(ring, &cqe) < 0)
		return -EIO;
	const int res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

} // namespace guest

#endif
