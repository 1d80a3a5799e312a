// Io_uring writes honour F_SEAL_WRITE and F_SEAL_GROW.
#include "guest_util.hpp"

#include <liburing.h>

namespace guest
{
namespace
{

class SealIoUring : public BackendTest
{
protected:
	void SetUp() override
	{
		BackendTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		const int ret = io_uring_queue_init(4, &ring_, 0);
		if (ret < 0)
			GTEST_SKIP() << "io_uring unavailable: " << std::strerror(-ret);
		ready_ = true;
	}
	void TearDown() override
	{
		if (ready_)
			io_uring_queue_exit(&ring_);
	}

	// One IORING_OP_WRITE; returns the completion's res (bytes or -errno).
	int uring_write(int fd, const char *data, unsigned len, off_t off)
	{
		io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
		io_uring_prep_write(sqe, fd, data, len, off);
		if (io_uring_submit(&ring_) != 1)
			return -EIO;
		io_uring_cqe *cqe = nullptr;
		if (io_uring_wait_cqe(&ring_, &cqe) < 0)
			return -EIO;
		const int res = cqe->res;
		io_uring_cqe_seen(&ring_, cqe);
		return res;
	}

	// One IORING_OP_WRITEV.
	int uring_writev(int fd, const iovec *iov, unsigned n, off_t off)
	{
		io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
		io_uring_prep_writev(sqe, fd, iov, n, off);
		if (io_uring_submit(&ring_) != 1)
			return -EIO;
		io_uring_cqe *cqe = nullptr;
		if (io_uring_wait_cqe(&ring_, &cqe) < 0)
			return -EIO;
		const int res = cqe->res;
		io_uring_cqe_seen(&ring_, cqe);
		return res;
	}

	io_uring ring_{};
	bool ready_ = false;
};
INSTANTIATE_BACKENDS(SealIoUring);

TEST_P(SealIoUring, Write_Unsealed_Ok)
{
	owned_fd m = make_with("uring");
	EXPECT_EQ(uring_write(m.get(), "URING", 5, 0), 5);
	EXPECT_EQ(pread_str(m.get(), 5, 0), "URING");
}

TEST_P(SealIoUring, Write_AfterSealWrite_EPERM)
{
	owned_fd m = make_with("uring");
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE), 0);
	EXPECT_EQ(uring_write(m.get(), "URING", 5, 0), -EPERM);
	EXPECT_EQ(pread_str(m.get(), 5, 0), "uring");
}

TEST_P(SealIoUring, Writev_AfterSealFutureWrite_EPERM)
{
	owned_fd m = make_with("uring");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	char a[] = "UR";
	iovec iov[] = {{a, 2}};
	EXPECT_EQ(uring_writev(m.get(), iov, 1, 0), -EPERM);
	EXPECT_EQ(pread_str(m.get(), 5, 0), "uring");
}

TEST_P(SealIoUring, WritePastEof_AfterSealGrow_EPERM)
{
	owned_fd m = make_with("uring");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(uring_write(m.get(), "more", 4, 5), -EPERM);
	EXPECT_EQ(file_size(m.get()), 5);
}

} // namespace
} // namespace guest
