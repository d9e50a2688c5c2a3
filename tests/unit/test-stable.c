/* SPDX-License-Identifier: MIT */
/* stable_reopen(): a file the target may modify is read from a sealed
 * copy that its truncation cannot reach; any other file is used as is;
 * copies are capped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/stable.h"

#define SIZE (3 * 4096 + 100)

static char base[] = "/tmp/mapleak-test-stable.XXXXXX";
static char data[SIZE];

/* base/NAME with SIZE bytes of data and mode, ours; open for reading. */
static int make(const char *name, mode_t mode, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", base, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, SIZE) != SIZE || fchmod(fd, mode) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static bool same_file(int a, const char *path)
{
	struct stat x, y;

	return fstat(a, &x) == 0 && stat(path, &y) == 0 &&
	       x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int main(void)
{
	/* Our files: "owner" targets run as us, "stranger" ones as a
	 * user who owns none of them (never root). */
	uid_t me = geteuid(), st = me + 1;
	uid_t owner[4] = { me, me, me, me };
	uid_t stranger[4] = { st, st, st, st };
	uid_t root_tgt[4] = { 0, 0, 0, 0 };
	unsigned long long copied = 1;
	char path[256];
	int fd, sfd, seals;

	for (size_t i = 0; i < SIZE; i++)
		data[i] = (char)(i * 7 + i / 4096);
	if (!mkdtemp(base)) {
		T_SKIP("stable", "cannot create a temporary folder");
		T_END();
	}

	/* A file the target owns: copied, sealed, immune to its truncation. */
	fd = make("own", 0644, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, owner, 4, STABLE_COPY_MAX, &copied) : -1;
	T_CHECKF("a file the target owns is copied", sfd >= 0 && !same_file(sfd, path),
		 "got fd %d", sfd);
	T_CHECKF("the copy says how much it copied", copied == SIZE,
		 "expected %d, got %llu", SIZE, copied);
	seals = sfd >= 0 ? fcntl(sfd, F_GET_SEALS) : -1;
	T_CHECKF("the copy is sealed against shrink, grow and write",
		 seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)) ==
		 (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), "seals %#x", seals);
	T_CHECK("the copy cannot be cut", sfd >= 0 && ftruncate(sfd, 10) < 0 && errno == EPERM);
	T_CHECK("the copy cannot be written", sfd >= 0 && pwrite(sfd, "x", 1, 0) < 0);
	/* The attack: the owner cuts the file; a mapping of the file itself
	 * would now SIGBUS past the cut; the copy's holds every byte. */
	if (truncate(path, 100) < 0)
		T_CHECK("truncate the original", 0);
	if (sfd >= 0) {
		char *p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, sfd, 0);

		T_CHECK("the copy maps and reads whole after the cut",
			p != MAP_FAILED && memcmp(p, data, SIZE) == 0);
		if (p != MAP_FAILED)
			munmap(p, SIZE);
		close(sfd);
	}

	/* Another user's file, not writable by group or others: as is. */
	fd = make("other", 0644, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, stranger, 4, STABLE_COPY_MAX, &copied) : -1;
	T_CHECKF("another user's file is used as is",
		 sfd == fd && same_file(sfd, path) && copied == 0,
		 "fd %d -> %d, copied %llu", fd, sfd, copied);
	if (sfd >= 0)
		close(sfd);

	/* ... unless the target runs as root. */
	fd = make("other-root", 0644, path, sizeof(path));
	/* As root, a file of neither root nor the target's. */
	if (fd >= 0 && me == 0 && fchown(fd, st, (gid_t)-1) < 0)
		T_CHECK("chown a file to another user", 0);
	sfd = fd >= 0 ? stable_reopen(fd, root_tgt, 4, STABLE_COPY_MAX, &copied) : -1;
	T_CHECKF("a root target's files are all copied",
		 sfd >= 0 && !same_file(sfd, path) && copied == SIZE,
		 "fd %d, copied %llu", sfd, copied);
	if (sfd >= 0)
		close(sfd);

	/* ... or group or others may write it. */
	fd = make("gw", 0664, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, stranger, 4, STABLE_COPY_MAX, &copied) : -1;
	T_CHECK("a group-writable file is copied", sfd >= 0 && !same_file(sfd, path));
	if (sfd >= 0)
		close(sfd);
	fd = make("ow", 0646, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, stranger, 4, STABLE_COPY_MAX, &copied) : -1;
	T_CHECK("an other-writable file is copied", sfd >= 0 && !same_file(sfd, path));
	if (sfd >= 0)
		close(sfd);

	/* The cap: a copy over it is refused; a file used as is is not one. */
	fd = make("big", 0644, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, owner, 4, SIZE - 1, &copied) : 0;
	T_CHECKF("a file over the cap is not copied (-EFBIG)", sfd == -EFBIG,
		 "got %d", sfd);
	fd = make("big-other", 0644, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, stranger, 4, SIZE - 1, &copied) : -1;
	T_CHECK("the cap does not apply to a file used as is", sfd == fd && sfd >= 0);
	if (sfd >= 0)
		close(sfd);
	fd = make("at-cap", 0644, path, sizeof(path));
	sfd = fd >= 0 ? stable_reopen(fd, owner, 4, SIZE, &copied) : -1;
	T_CHECK("a file of exactly the cap is copied", sfd >= 0 && copied == SIZE);
	if (sfd >= 0)
		close(sfd);

	/* Not a regular file: refused. */
	{
		int pfd[2];

		if (pipe(pfd) == 0) {
			close(pfd[1]);
			T_CHECK("a pipe is refused (-EPERM)",
				stable_reopen(pfd[0], owner, 4, SIZE, NULL) == -EPERM);
		}
	}

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", base);
	}
	T_END();
}
