/* Unit tests for vn_write_all and vn_fsync_parent (lib/file.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <veilnet/file.h>

#define BIG (1 << 20)	/* more than a pipe holds: many short writes */

/* A child reads the pipe p to the end and exits with 0 if it got BIG
 * bytes of the expected pattern. */
static pid_t reader(const int p[2])
{
	pid_t pid = fork();
	char buf[4096];
	size_t got = 0;
	ssize_t n;

	if (pid != 0)
		return pid;
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++, got++)
			if (buf[i] != (char)(got % 251))
				_exit(2);
	_exit(got == BIG ? 0 : 1);
}

static void writes_everything_to_a_pipe(void **state)
{
	char *data = malloc(BIG);
	int p[2], status;
	pid_t pid;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < BIG; i++)
		data[i] = (char)(i % 251);
	assert_int_equal(pipe(p), 0);
	pid = reader(p);
	assert_true(pid > 0);
	close(p[0]);
	assert_int_equal(vn_write_all(p[1], data, BIG), 0);
	close(p[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(data);
}

static void closed_socket_peer_is_epipe_not_a_signal(void **state)
{
	int sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(vn_write_all(sp[0], "ping", 4), 0);
	close(sp[1]);
	errno = 0;
	assert_int_equal(vn_write_all(sp[0], "pong", 4), -1);	/* still alive here */
	assert_int_equal(errno, EPIPE);
	close(sp[0]);
	assert_int_equal(vn_write_all(sp[0], "x", 1), -1);
	assert_int_equal(errno, EBADF);
}

static void fsyncs_the_parent_directory(void **state)
{
	char dir[] = "/tmp/vn-test-fsync-XXXXXX", path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/not-yet", dir);
	assert_int_equal(vn_fsync_parent(path), 0);
	snprintf(path, sizeof(path), "%s/missing/file", dir);
	assert_int_equal(vn_fsync_parent(path), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_everything_to_a_pipe),
		cmocka_unit_test(closed_socket_peer_is_epipe_not_a_signal),
		cmocka_unit_test(fsyncs_the_parent_directory),
	};

	return cmocka_run_group_tests_name("lib_write_all", tests, NULL, NULL);
}
