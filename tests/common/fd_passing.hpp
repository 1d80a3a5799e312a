// Passing one descriptor over a UNIX socket (SCM_RIGHTS): the one copy,
// header-only, for the guest suites, the lifetime suite, the storm, the
// demo and the benchmark.
#ifndef MEMFD_FD_PASSING_HPP
#define MEMFD_FD_PASSING_HPP

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace fd_passing
{

// A one-buffer message with room for one descriptor.
struct message {
	iovec iov;
	alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};

	message(void *data, std::size_t len) : iov{data, len}
	{
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
	}
	message(const message &) = delete;
	message &operator=(const message &) = delete;
};

// Passes @fd over a UNIX socket (SCM_RIGHTS) with @len bytes of @data (one
// byte 'F' by default): 0 once all of them went, or -1 with errno (EPIPE,
// not SIGPIPE, if the peer is gone).
inline int send_fd(int sock, int fd, const void *data = "F", std::size_t len = 1)
{
	message m(const_cast<void *>(data), len);
	cmsghdr *c = CMSG_FIRSTHDR(&m.msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m.msg, MSG_NOSIGNAL) == static_cast<ssize_t>(len) ? 0 : -1;
}

// Receives one message of at most @len bytes into @data, and in *@fd the
// descriptor it carried (O_CLOEXEC), or -1 if none: recvmsg()'s result
// (0 at end of file, -1 with errno).
inline ssize_t recv_fd_msg(int sock, void *data, std::size_t len, int *fd)
{
	message m(data, len);
	*fd = -1;
	const ssize_t n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
	const cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m.msg) : nullptr;
	if (c != nullptr && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		std::memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

// Receives what the one-byte send_fd() sent: the descriptor, or -1.
inline int recv_fd(int sock)
{
	char byte = 0;
	int fd = -1;
	if (recv_fd_msg(sock, &byte, 1, &fd) != 1 && fd >= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

} // namespace fd_passing

#endif
