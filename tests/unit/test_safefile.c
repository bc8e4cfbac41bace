/* Reading the policy once, never blocking on a FIFO (okx-faultd(8),
 * SECURITY); the journal's side of safefile is in test_journal.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy.h"
#include "safefile.h"
#include "sha256.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/okxs.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(safefile, .init = setup, .fini = teardown, .timeout = 10);

static const char policy_text[] = "name = once\ntarget = 198.18.0.2\nfault = drop 1s\n";

static void put(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

Test(safefile, reads_a_regular_file)
{
	char path[128], *buf;
	size_t len;
	mode_t type;

	snprintf(path, sizeof(path), "%s/p", dir);
	put(path, "a\0b", 3);
	cr_assert_eq(safefile_read(path, 16, &buf, &len, &type), 0);
	cr_expect_eq(len, 3);
	cr_expect_eq(memcmp(buf, "a\0b", 4), 0); /* NUL-terminated too */
	cr_expect_eq(type, S_IFREG);
	free(buf);
	/* exactly the cap is fine, one byte more is not */
	cr_assert_eq(safefile_read(path, 3, &buf, &len, &type), 0);
	free(buf);
	cr_expect_eq(safefile_read(path, 2, &buf, &len, &type), -EFBIG);
	cr_expect_null(buf);
}

Test(safefile, large_file_against_the_cap)
{
	char path[128], *buf;
	size_t n = 300000, len;
	char *big = malloc(n);
	mode_t type;

	memset(big, 'x', n);
	snprintf(path, sizeof(path), "%s/big", dir);
	put(path, big, n);
	cr_assert_eq(safefile_read(path, n, &buf, &len, &type), 0);
	cr_expect_eq(len, n);
	free(buf);
	cr_expect_eq(safefile_read(path, n - 1, &buf, &len, &type), -EFBIG);
	free(big);
}

/* Today's open(O_RDONLY) of a FIFO without a writer blocks forever; the
 * suite's timeout turns that into a failure. */
Test(safefile, fifo_refused_without_blocking)
{
	char path[128], *buf;
	size_t len;
	mode_t type;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_expect_eq(safefile_read(path, 1024, &buf, &len, &type), -EINVAL);
	cr_expect_eq(type, S_IFIFO);
	cr_expect_str_eq(safefile_type_name(type), "FIFO");
	cr_expect_eq(safefile_read(dir, 1024, &buf, &len, &type), -EISDIR);
	cr_expect_eq(safefile_read("/dev/null", 1024, &buf, &len, &type), -EINVAL);
	cr_expect_str_eq(safefile_type_name(type), "character device");
}

Test(safefile, socket_refused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	char *buf;
	size_t len;
	mode_t type;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_expect_lt(safefile_read(sa.sun_path, 1024, &buf, &len, &type), 0);
	close(s);
}

/* A shell's <(...) is /dev/fd/N of an anonymous pipe: read to its end. */
static int pipe_path(char *path, size_t size, const char *text)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	snprintf(path, size, "/dev/fd/%d", p[0]);
	return p[0];
}

Test(safefile, reads_an_anonymous_pipe)
{
	char path[64], *buf;
	size_t len;
	mode_t type;
	int fd = pipe_path(path, sizeof(path), "piped");

	cr_assert_eq(safefile_read(path, 1024, &buf, &len, &type), 0);
	cr_expect_str_eq(buf, "piped");
	free(buf);
	close(fd);
}

Test(safefile, policy_hash_is_of_the_bytes_parsed)
{
	struct policy p;
	char path[128], want[65], *err = NULL;
	int fd;

	sha256_hex(policy_text, strlen(policy_text), want);
	snprintf(path, sizeof(path), "%s/p.policy", dir);
	put(path, policy_text, strlen(policy_text));
	cr_assert_eq(policy_load(&p, path, &err), 0, "%s", err ? err : "");
	cr_expect_str_eq(p.sha256, want);
	policy_free(&p);
	/* from a pipe: read once, so the digest is not that of nothing */
	fd = pipe_path(path, sizeof(path), policy_text);
	cr_assert_eq(policy_load(&p, path, &err), 0, "%s", err ? err : "");
	cr_expect_str_eq(p.sha256, want);
	cr_expect_str_eq(p.name, "once");
	policy_free(&p);
	close(fd);
}

Test(safefile, policy_fifo_refused_located)
{
	struct policy p;
	char path[128], want[256], *err = NULL;

	snprintf(path, sizeof(path), "%s/p.fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_expect_eq(policy_load(&p, path, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file (a FIFO): a policy must be a file or a pipe\n", path);
	cr_expect_str_eq(err, want);
	free(err);
	policy_free(&p);
}

Test(safefile, policy_over_the_cap)
{
	struct policy p;
	char path[128], want[256], *err = NULL;
	size_t n = 1024 * 1024 + 1;
	char *big = malloc(n);

	memset(big, '#', n);
	snprintf(path, sizeof(path), "%s/big.policy", dir);
	put(path, big, n);
	free(big);
	cr_expect_eq(policy_load(&p, path, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s: file too large (limit 1048576 bytes)\n", path);
	cr_expect_str_eq(err, want);
	free(err);
	policy_free(&p);
}

/* The control socket's directory (include/control.h): made with the mode
 * asked whatever the umask, parents 0750, never through a symlink. */
Test(safefile, open_dir)
{
	char path[160], link[160], file[160];
	struct stat st;
	mode_t old = umask(0077);
	int fd;

	snprintf(path, sizeof(path), "%s/a/b/", dir);
	fd = safefile_open_dir(path, 0711);
	umask(old);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect(S_ISDIR(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0711);
	close(fd);
	snprintf(path, sizeof(path), "%s/a", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, SAFEFILE_DIR_MODE);
	/* an existing directory is opened as it is */
	snprintf(path, sizeof(path), "%s/a/b", dir);
	cr_assert_eq(chmod(path, 0700), 0);
	fd = safefile_open_dir(path, 0750);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700);
	close(fd);
	snprintf(link, sizeof(link), "%s/l", dir);
	cr_assert_eq(symlink(path, link), 0);
	cr_expect_eq(safefile_open_dir(link, 0750), -ELOOP);
	snprintf(link, sizeof(link), "%s/l/c", dir);
	cr_expect_eq(safefile_open_dir(link, 0750), -ELOOP);
	snprintf(file, sizeof(file), "%s/f", dir);
	put(file, "x", 1);
	cr_expect_eq(safefile_open_dir(file, 0750), -ENOTDIR);
}
