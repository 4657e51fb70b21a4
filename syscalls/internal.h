/* syscalls/internal.h: helpers shared by the file-descriptor (file.c) and path (fs.c) handlers: argument
 * decoding, fd look-up with Linux's O_PATH rules, user address checks and fault-tolerant copies. */
#ifndef USANDBOX_SYSCALLS_INTERNAL_H
#define USANDBOX_SYSCALLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syscalls/syscalls.h"

/* Linux's x86-64 values where glibc's differ or are missing (glibc's O_LARGEFILE is 0 on x86-64). */
#define LINUX_O_LARGEFILE 0100000
#define LINUX_O_PATH 010000000
#define LINUX_O_TMPFILE_ONLY 020000000 /* __O_TMPFILE; O_TMPFILE is this plus O_DIRECTORY */
/* The last user address plus one: access_ok() in Linux (TASK_SIZE_MAX, 4-level paging). */
#define LINUX_TASK_SIZE_MAX 0x00007ffffffff000ULL
/* Largest single read/write: INT_MAX rounded down to a page, as Linux's MAX_RW_COUNT. */
#define LINUX_MAX_RW_COUNT (0x7fffffffULL & ~(uint64_t)(PAGE_SIZE - 1))

/* An int argument as the kernel reads it: the low 32 bits of the register. */
static inline int syscall_argument_int(const struct syscall_args *args, int index)
{
    return (int)(uint32_t)args->arg[index];
}

/* Linux's access_ok(): the range lies below the top of user space (not that it is mapped). */
static inline bool syscall_user_range_ok(uint64_t address, uint64_t length)
{
    return length <= LINUX_TASK_SIZE_MAX && address <= LINUX_TASK_SIZE_MAX - length;
}

/* The open file at fd, as a new reference (release with vfs_file_put). Files opened with O_PATH are refused
 * with -EBADF unless allow_path, as Linux's fdget() versus fdget_raw(). */
int syscall_get_file(struct task *task, int fd, bool allow_path, struct vfs_file **file_out);

/* The directory a *at() path starts from: NULL for AT_FDCWD or an absolute path (where Linux ignores dirfd),
 * otherwise a reference to dirfd's file: -EBADF if closed, -ENOTDIR if not a directory. */
int syscall_get_start_directory(struct task *task, int dirfd, const char *path, struct vfs_file **dir_out);

/* Copies that stop at the first unmapped page instead of failing whole: they return how many bytes were
 * copied, so a handler can report a partial transfer as Linux does. */
size_t syscall_copy_in_prefix(struct task *task, void *destination, uint64_t address, size_t length);
size_t syscall_copy_out_prefix(struct task *task, uint64_t address, const void *source, size_t length);

/* poll.c: a temporary signal mask for a wait (ppoll, pselect6, epoll_pwait): applied at the first run, restored
 * when the call returns, or by the signal handler's return when it ends with EINTR. */
/* nanosleep's wait, also resumed by restart_syscall: until deadline (CLOCK_MONOTONIC ns). */
long syscall_sleep_to_deadline(struct task *task, uint64_t deadline, uint64_t remaining_address, bool absolute);
long syscall_apply_temporary_mask(struct task *task, uint64_t mask_address, uint64_t mask_size);
void syscall_settle_temporary_mask(struct task *task, long result);
/* socket.c: ioctls every socket answers (the loopback interface's SIOCGIF*, SIOCOUTQ); -ENOTTY for others. */
struct vfs_file;
long syscall_socket_ioctl(struct task *task, struct vfs_file *file, unsigned long command, uint64_t argument);

#endif
