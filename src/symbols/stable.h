/* SPDX-License-Identifier: MIT */
/*
 * A descriptor of a file's current bytes that nobody else can change.
 *
 * mapleak maps the files a target maps (libelf/libdwfl read ELF and DWARF
 * through mmap, ReadyToRun .dll files are mapped whole). A page of a
 * mapping past the end of its file raises SIGBUS on access, so a target
 * that can truncate such a file kills mapleak (root) at the next read of
 * a symbol table, and could change the bytes under a parser mid-read. A
 * file the target cannot modify is mapped as it is; any other is first
 * copied into a sealed memfd (no shrink, grow or write), which only
 * mapleak holds. Every open of a target's file that ends in a mapping
 * goes through stable_reopen().
 */
#ifndef MAPLEAK_STABLE_H
#define MAPLEAK_STABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Largest file copied: bigger ones the target may modify are not read. */
#define STABLE_COPY_MAX (512ull << 20)

/*
 * Whether a process running as one of uids (real, effective... of one
 * target) could change the bytes of the file whose stat is sb:
 * it owns it, group or others may write it (a POSIX ACL's write grant
 * shows there too), or the target runs as root (its capabilities let it
 * write anything).
 * A read-only mount does not count: the same inode may be writable
 * through another mount, and a root target may remount.
 */
bool stable_modifiable(const struct stat *sb, const uid_t *uids,
		       size_t nuids);

/*
 * Takes fd (open for reading, a regular file) and returns a descriptor
 * safe to map: fd itself when !stable_modifiable(), else a sealed memfd
 * holding a copy of its current bytes (fd is closed). At most cap bytes
 * are copied: a larger file gives -EFBIG. Also -ENOMEM, -errno; fd is
 * closed on every failure. *copied (may be NULL) gets the bytes copied,
 * 0 when fd itself is returned.
 */
int stable_reopen(int fd, const uid_t *uids, size_t nuids,
		  unsigned long long cap, unsigned long long *copied);

#endif
