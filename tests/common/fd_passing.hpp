// Passing one descriptor over a UNIX socket (SCM_RIGHTS): the one copy,
// header-only, for the guest suites, the lifetime suite, the storm, the
// demo and the benchmark.
#ifndef MEMFD_FD_PASSING_HPP
#define MEMFD_FD_PASSING_HPP

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace fd_passing
{

// Passes one descriptor over a UNIX socket (SCM_RIGHTS) with a one-byte
// message: 0, or -1 with errno (EPIPE, not SIGPIPE, if the peer is gone).
inline int send_fd(int sock, int fd)
{
	char byte = 'F';
	iovec iov{&byte, 1};
	alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

// Receives what send_fd() sent, O_CLOEXEC: the descriptor, or -1.
inline int recv_fd(int sock)
{
	char byte = 0;
	iovec iov{&byte, 1};
	alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == nullptr || c->cmsg_level != SOL_SOCKET ||
	    c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

} // namespace fd_passing

#endif
