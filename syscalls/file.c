/* syscalls/file.c: syscalls on file descriptors: read/write and their vectored and positioned forms, seeking,
 * closing and duplicating fds, pipes, fcntl, ioctl, sendfile, sync, truncate, fstat and directory listing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

/* Data moves between the task and a file through a Sentry buffer of at most this size per step. Big enough
 * that a read of a whole pipe or a datagram is one vfs call (a pipe holds 64 KiB by default, 1 MiB at most). */
#define IO_CHUNK_SIZE (1024 * 1024)
/* Linux's UIO_MAXIOV. */
#define IOVEC_MAX 1024
/* Linux's RWF_* for preadv2/pwritev2, as known to the kernel we report (5.15). */
#define LINUX_RWF_HIPRI 0x01
#define LINUX_RWF_DSYNC 0x02
#define LINUX_RWF_SYNC 0x04
#define LINUX_RWF_NOWAIT 0x08
#define LINUX_RWF_APPEND 0x10
#define LINUX_RWF_SUPPORTED (LINUX_RWF_HIPRI | LINUX_RWF_DSYNC | LINUX_RWF_SYNC | LINUX_RWF_NOWAIT | LINUX_RWF_APPEND)
/* pipe2's O_NOTIFICATION_PIPE shares O_EXCL's bit. */
#define LINUX_O_NOTIFICATION_PIPE O_EXCL
/* close_range(2) flags. */
#define LINUX_CLOSE_RANGE_UNSHARE (1U << 1)
#define LINUX_CLOSE_RANGE_CLOEXEC (1U << 2)
/* The kernel's struct termios (not glibc's, which is larger) and struct termios2. */
#define LINUX_TERMIOS_SIZE 36
#define LINUX_TERMIOS2_SIZE 44
#define LINUX_TCGETS2 0x802c542aUL
#define LINUX_TCSETS2 0x402c542bUL
#define LINUX_TCSETSW2 0x402c542cUL
#define LINUX_TCSETSF2 0x402c542dUL

/* ---- helpers shared with fs.c (declared in internal.h) ---- */

int syscall_get_file(struct task *task, int fd, bool allow_path, struct vfs_file **file_out)
{
    *file_out = NULL;
    if (fd < 0)
        return -EBADF;
    struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
    if (!file)
        return -EBADF;
    if (!allow_path && (vfs_file_status_flags(file) & LINUX_O_PATH)) {
        vfs_file_put(file);
        return -EBADF;
    }
    *file_out = file;
    return 0;
}

int syscall_get_start_directory(struct task *task, int dirfd, const char *path, struct vfs_file **dir_out)
{
    *dir_out = NULL;
    if (dirfd == AT_FDCWD || path[0] == '/')
        return 0;
    struct vfs_file *dir;
    int error = syscall_get_file(task, dirfd, true, &dir);
    if (error)
        return error;
    /* An empty path (AT_EMPTY_PATH) names the file itself, which need not be a directory. */
    if (path[0] != '\0' && !vfs_file_is_directory(dir)) {
        vfs_file_put(dir);
        return -ENOTDIR;
    }
    *dir_out = dir;
    return 0;
}

size_t syscall_copy_in_prefix(struct task *task, void *destination, uint64_t address, size_t length)
{
    if (task_copy_in(task, destination, address, length) == 0)
        return length;
    /* Something faults: find how far the readable part goes, one page at a time. */
    size_t copied = 0;
    while (copied < length) {
        size_t step = MIN(length - copied, PAGE_SIZE - ((address + copied) & (PAGE_SIZE - 1)));
        if (task_copy_in(task, (char *)destination + copied, address + copied, step) != 0)
            break;
        copied += step;
    }
    return copied;
}

size_t syscall_copy_out_prefix(struct task *task, uint64_t address, const void *source, size_t length)
{
    if (task_copy_out(task, address, source, length) == 0)
        return length;
    size_t copied = 0;
    while (copied < length) {
        size_t step = MIN(length - copied, PAGE_SIZE - ((address + copied) & (PAGE_SIZE - 1)));
        if (task_copy_out(task, address + copied, (const char *)source + copied, step) != 0)
            break;
        copied += step;
    }
    return copied;
}

/* ---- access modes ---- */

static bool file_is_nonblocking(struct vfs_file *file) { return (vfs_file_status_flags(file) & O_NONBLOCK) != 0; }


static long send_sigpipe_for(struct task *task, long result)
{
    if (result == -EPIPE)
        task_send_signal(task, SIGPIPE);
    return result;
}

/* ---- the task's side of a transfer: a list of segments (one for read/write, an iovec for readv/writev) ---- */

struct io_segment {
    uint64_t base;
    uint64_t length;
};
_Static_assert(sizeof(struct io_segment) == 16, "struct io_segment must match the x86-64 struct iovec");

struct io_vector {
    struct io_segment *segments; /* &single, or an array from io_vector_import (io_vector_release frees it) */
    struct io_segment single;
    size_t count;
    uint64_t total;  /* already clamped to LINUX_MAX_RW_COUNT */
    size_t index;    /* where the next byte goes or comes from */
    uint64_t offset; /* within segments[index] */
};

static void io_vector_single(struct io_vector *vector, uint64_t base, uint64_t length)
{
    vector->single = (struct io_segment){ base, MIN(length, LINUX_MAX_RW_COUNT) };
    vector->segments = &vector->single;
    vector->count = 1;
    vector->total = vector->single.length;
    vector->index = 0;
    vector->offset = 0;
}

/* Reads a struct iovec array from the task with import_iovec()'s checks: -EINVAL for more than 1024 entries or
 * a negative length, -EFAULT for an unreadable array or a segment outside user space. Lengths past
 * MAX_RW_COUNT in total are cut, as Linux does. */
static int io_vector_import(struct task *task, struct io_vector *vector, uint64_t address, uint64_t count)
{
    vector->segments = NULL;
    vector->count = 0;
    if (count > IOVEC_MAX)
        return -EINVAL;
    /* struct iovec is { void *iov_base; size_t iov_len; }: the same layout as struct io_segment. */
    struct io_segment *iovecs = malloc(MAX((size_t)count, (size_t)1) * sizeof(*iovecs));
    if (!iovecs)
        return -ENOMEM;
    vector->segments = iovecs;
    if (count > 0 && task_copy_in(task, iovecs, address, (size_t)count * sizeof(iovecs[0])) != 0)
        return -EFAULT;
    vector->count = (size_t)count;
    vector->total = 0;
    vector->index = 0;
    vector->offset = 0;
    for (size_t i = 0; i < vector->count; i++) {
        uint64_t length = iovecs[i].length;
        if ((int64_t)length < 0)
            return -EINVAL;
        length = MIN(length, LINUX_MAX_RW_COUNT - vector->total);
        if (!syscall_user_range_ok(iovecs[i].base, length))
            return -EFAULT;
        iovecs[i].length = length;
        vector->total += length;
    }
    return 0;
}

static void io_vector_release(struct io_vector *vector)
{
    if (vector->segments != &vector->single)
        free(vector->segments);
    vector->segments = NULL;
}

/* Moves up to length bytes between buffer and the task at the vector's cursor; to_task selects the direction.
 * Returns how many bytes moved: fewer than length only when the task's memory faulted. */
static size_t io_vector_copy(struct task *task, struct io_vector *vector, void *buffer, size_t length, bool to_task)
{
    size_t moved = 0;
    while (moved < length && vector->index < vector->count) {
        struct io_segment *segment = &vector->segments[vector->index];
        size_t step = (size_t)MIN((uint64_t)(length - moved), segment->length - vector->offset);
        uint64_t address = segment->base + vector->offset;
        char *here = (char *)buffer + moved;
        size_t done = to_task ? syscall_copy_out_prefix(task, address, here, step)
                              : syscall_copy_in_prefix(task, here, address, step);
        moved += done;
        vector->offset += done;
        if (done < step)
            break;
        if (vector->offset == segment->length) {
            vector->index++;
            vector->offset = 0;
        }
    }
    return moved;
}

/* ---- the transfers behind every read and write form ---- */

struct io_options {
    int64_t offset;   /* -1: at and moving the file position; otherwise pread/pwrite at this offset */
    bool never_wait;  /* RWF_NOWAIT: -EAGAIN instead of blocking */
};

/* Reads into the task's segments. A file whose data is not ready makes the task wait (the call is re-run), unless
 * it is non-blocking. After some data has moved, any later error or shortfall just ends the call. */
static long transfer_read(struct task *task, struct vfs_file *file, struct io_vector *vector, struct io_options options)
{
    size_t capacity = (size_t)MIN(vector->total, (uint64_t)IO_CHUNK_SIZE);
    char *buffer = malloc(MAX(capacity, (size_t)1));
    if (!buffer)
        return -ENOMEM;
    uint64_t done = 0;
    long result = 0;
    do {
        size_t wanted = (size_t)MIN(vector->total - done, (uint64_t)capacity);
        ssize_t got = options.offset < 0 ? vfs_read(file, buffer, wanted)
                                         : vfs_pread(file, buffer, wanted, options.offset + (off_t)done);
        if (got < 0) {
            if (done > 0)
                break;
            result = got;
            if (got == -EAGAIN && !options.never_wait && !file_is_nonblocking(file))
                result = task_wait_file(task, file, POLLIN);
            goto out;
        }
        size_t copied = io_vector_copy(task, vector, buffer, (size_t)got, true);
        done += copied;
        if (copied < (size_t)got) {
            /* The task's buffer faulted: as Linux, the file position only advances past what was delivered
             * (for files that can seek; what a pipe gave up is lost). */
            if (options.offset < 0)
                (void)vfs_lseek(file, -(off_t)((size_t)got - copied), SEEK_CUR);
            if (done == 0)
                result = -EFAULT;
            break;
        }
        if ((size_t)got < wanted)
            break;
    } while (done < vector->total);
    if (done > 0)
        result = (long)done;
out:
    free(buffer);
    return result;
}

static long transfer_write(struct task *task, struct vfs_file *file, struct io_vector *vector,
                           struct io_options options)
{
    size_t capacity = (size_t)MIN(vector->total, (uint64_t)IO_CHUNK_SIZE);
    char *buffer = malloc(MAX(capacity, (size_t)1));
    if (!buffer)
        return -ENOMEM;
    uint64_t done = 0;
    long result = 0;
    do {
        size_t wanted = (size_t)MIN(vector->total - done, (uint64_t)capacity);
        size_t gathered = io_vector_copy(task, vector, buffer, wanted, false);
        if (gathered == 0 && wanted > 0) {
            /* The task's buffer faulted before any of this step could be taken. */
            if (done == 0) {
                result = -EFAULT;
                goto out;
            }
            break;
        }
        ssize_t put = options.offset < 0 ? vfs_write(file, buffer, gathered)
                                         : vfs_pwrite(file, buffer, gathered, options.offset + (off_t)done);
        if (put < 0) {
            /* A reader that went away gets the writer SIGPIPE even after a partial write, as pipe_write(). */
            send_sigpipe_for(task, put);
            if (done > 0)
                break;
            result = put;
            if (put == -EAGAIN && !options.never_wait && !file_is_nonblocking(file))
                result = task_wait_file(task, file, POLLOUT);
            goto out;
        }
        done += (uint64_t)put;
        /* A short write, or one cut short by a fault in the task's buffer, ends the call. */
        if ((size_t)put < wanted)
            break;
    } while (done < vector->total);
    result = (long)done;
out:
    free(buffer);
    return result;
}

/* The checks Linux's vfs_read()/vfs_write() make on the open file before touching the task's memory. */
static int check_readable(struct vfs_file *file) { return vfs_file_readable(file) ? 0 : -EBADF; }
static int check_writable(struct vfs_file *file) { return vfs_file_writable(file) ? 0 : -EBADF; }

/* ---- read, write, pread64, pwrite64 ---- */

static long read_or_write(struct task *task, const struct syscall_args *args, bool is_read, int64_t offset)
{
    int fd = syscall_argument_int(args, 0);
    uint64_t address = args->arg[1], count = args->arg[2];
    struct vfs_file *file;
    int error = syscall_get_file(task, fd, false, &file);
    if (error)
        return error;
    long result = is_read ? check_readable(file) : check_writable(file);
    if (result)
        goto out;
    if (!syscall_user_range_ok(address, count)) {
        result = -EFAULT;
        goto out;
    }
    /* rw_verify_area(): a positioned transfer must not run past the largest offset. */
    if (offset >= 0 && (uint64_t)offset + count > (uint64_t)INT64_MAX) {
        result = -EINVAL;
        goto out;
    }
    struct io_vector vector;
    io_vector_single(&vector, address, count);
    struct io_options options = { .offset = offset, .never_wait = false };
    result = is_read ? transfer_read(task, file, &vector, options) : transfer_write(task, file, &vector, options);
out:
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(read) { return read_or_write(task, args, true, -1); }

static SYSCALL_HANDLER(write) { return read_or_write(task, args, false, -1); }

static SYSCALL_HANDLER(pread64)
{
    /* Linux refuses a negative offset before it even looks at the fd. */
    if ((int64_t)args->arg[3] < 0)
        return -EINVAL;
    return read_or_write(task, args, true, (int64_t)args->arg[3]);
}

static SYSCALL_HANDLER(pwrite64)
{
    if ((int64_t)args->arg[3] < 0)
        return -EINVAL;
    return read_or_write(task, args, false, (int64_t)args->arg[3]);
}

/* ---- readv, writev, preadv, pwritev, preadv2, pwritev2 ---- */

static long vectored(struct task *task, const struct syscall_args *args, bool is_read, int64_t offset, uint64_t flags)
{
    int fd = syscall_argument_int(args, 0);
    struct vfs_file *file;
    int error = syscall_get_file(task, fd, false, &file);
    if (error)
        return error;
    struct io_vector vector_storage = { .segments = NULL }, *vector = &vector_storage;
    long result = is_read ? check_readable(file) : check_writable(file);
    if (result)
        goto out;
    /* The count is an unsigned long to Linux: glibc's sign-extended negative int is huge, hence -EINVAL. */
    result = io_vector_import(task, vector, args->arg[1], args->arg[2]);
    if (result)
        goto out;
    if (offset >= 0 && (uint64_t)offset + vector->total > (uint64_t)INT64_MAX) {
        result = -EINVAL;
        goto out;
    }
    /* Unlike read(), a vectored call with nothing to move returns 0 without asking the file. */
    if (vector->total == 0)
        goto out;

    struct io_options options = { .offset = offset, .never_wait = (flags & LINUX_RWF_NOWAIT) != 0 };
    int saved_flags = vfs_file_status_flags(file);
    bool append_for_this_call = !is_read && (flags & LINUX_RWF_APPEND) && !(saved_flags & O_APPEND);
    if (append_for_this_call) {
        /* RWF_APPEND is O_APPEND for one call; the Sentry runs one syscall at a time, so nothing else sees it. */
        result = vfs_file_set_status_flags(file, saved_flags | O_APPEND);
        if (result)
            goto out;
    }
    result = is_read ? transfer_read(task, file, vector, options) : transfer_write(task, file, vector, options);
    if (append_for_this_call)
        (void)vfs_file_set_status_flags(file, saved_flags);
    /* RWF_DSYNC/RWF_SYNC: the data reaches stable storage before the write returns. */
    if (!is_read && result > 0 && (flags & (LINUX_RWF_DSYNC | LINUX_RWF_SYNC))) {
        int sync_error = vfs_fsync(file);
        if (sync_error)
            result = sync_error;
    }
out:
    io_vector_release(vector);
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(readv) { return vectored(task, args, true, -1, 0); }

static SYSCALL_HANDLER(writev) { return vectored(task, args, false, -1, 0); }

/* preadv(fd, iov, iovcnt, pos_l, pos_h): on 64-bit Linux pos_l holds the whole offset and pos_h is ignored. */
static SYSCALL_HANDLER(preadv)
{
    if ((int64_t)args->arg[3] < 0)
        return -EINVAL;
    return vectored(task, args, true, (int64_t)args->arg[3], 0);
}

static SYSCALL_HANDLER(pwritev)
{
    if ((int64_t)args->arg[3] < 0)
        return -EINVAL;
    return vectored(task, args, false, (int64_t)args->arg[3], 0);
}

/* preadv2/pwritev2: an offset of -1 means the file position; unknown RWF_* flags are -EOPNOTSUPP. */
static long vectored2(struct task *task, const struct syscall_args *args, bool is_read)
{
    int64_t offset = (int64_t)args->arg[3];
    uint64_t flags = args->arg[5];
    if (offset < -1)
        return -EINVAL;
    if ((uint32_t)flags & ~(uint32_t)LINUX_RWF_SUPPORTED)
        return -EOPNOTSUPP;
    return vectored(task, args, is_read, offset, (uint32_t)flags);
}

static SYSCALL_HANDLER(preadv2) { return vectored2(task, args, true); }

static SYSCALL_HANDLER(pwritev2) { return vectored2(task, args, false); }

/* ---- lseek ---- */

static SYSCALL_HANDLER(lseek)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    unsigned int whence = (unsigned int)args->arg[2];
    long result;
    if (whence > SEEK_HOLE)
        result = -EINVAL;
    else
        result = vfs_lseek(file, (off_t)args->arg[1], (int)whence);
    vfs_file_put(file);
    return result;
}

/* ---- close, close_range ---- */

static SYSCALL_HANDLER(close)
{
    int fd = syscall_argument_int(args, 0);
    if (fd < 0)
        return -EBADF;
    syscall_locks_fd_closing(task, fd);
    return vfs_fd_close(task_fd_table(task), fd);
}

static SYSCALL_HANDLER(close_range)
{
    unsigned int first = (unsigned int)args->arg[0], last = (unsigned int)args->arg[1];
    unsigned int flags = (unsigned int)args->arg[2];
    if (flags & ~(LINUX_CLOSE_RANGE_UNSHARE | LINUX_CLOSE_RANGE_CLOEXEC))
        return -EINVAL;
    if (first > last)
        return -EINVAL;
    /* CLOSE_RANGE_UNSHARE would first give the task a private copy of a shared fd table; the Sentry API has no
     * way to replace the table yet, so the range is acted on in the table the task has. */
    if (first > (unsigned int)INT_MAX)
        return 0;
    struct vfs_fd_table *table = task_fd_table(task);
    for (int fd = vfs_fd_next_open(table, (int)first); fd >= 0 && (unsigned int)fd <= last;
         fd = fd == INT_MAX ? -1 : vfs_fd_next_open(table, fd + 1)) {
        if (flags & LINUX_CLOSE_RANGE_CLOEXEC)
            (void)vfs_fd_set_close_on_exec(table, fd, true);
        else {
            syscall_locks_fd_closing(task, fd);
            (void)vfs_fd_close(table, fd);
        }
    }
    return 0;
}

/* ---- dup, dup2, dup3 ---- */

static SYSCALL_HANDLER(dup)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), true, &file);
    if (error)
        return error;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, false, task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

static long duplicate_to(struct task *task, unsigned int old_fd, unsigned int new_fd, bool close_on_exec)
{
    uint64_t limit = task_rlimit_current(task, RLIMIT_NOFILE);
    if ((uint64_t)new_fd >= limit || new_fd > (unsigned int)INT_MAX)
        return -EBADF;
    struct vfs_file *file;
    int error = syscall_get_file(task, old_fd > (unsigned int)INT_MAX ? -1 : (int)old_fd, true, &file);
    if (error)
        return error;
    syscall_locks_fd_closing(task, (int)new_fd);
    int result = vfs_fd_install_at(task_fd_table(task), (int)new_fd, file, close_on_exec, limit);
    vfs_file_put(file);
    return result < 0 ? result : (long)new_fd;
}

static SYSCALL_HANDLER(dup2)
{
    unsigned int old_fd = (unsigned int)args->arg[0], new_fd = (unsigned int)args->arg[1];
    if (old_fd == new_fd) {
        /* Nothing to do but to say whether old_fd is open. */
        struct vfs_file *file;
        int error = syscall_get_file(task, old_fd > (unsigned int)INT_MAX ? -1 : (int)old_fd, true, &file);
        if (error)
            return error;
        vfs_file_put(file);
        return (long)new_fd;
    }
    return duplicate_to(task, old_fd, new_fd, false);
}

static SYSCALL_HANDLER(dup3)
{
    unsigned int old_fd = (unsigned int)args->arg[0], new_fd = (unsigned int)args->arg[1];
    int flags = syscall_argument_int(args, 2);
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (old_fd == new_fd)
        return -EINVAL;
    return duplicate_to(task, old_fd, new_fd, (flags & O_CLOEXEC) != 0);
}

/* ---- pipe, pipe2 ---- */

static long make_pipe(struct task *task, uint64_t address, int flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | LINUX_O_NOTIFICATION_PIPE))
        return -EINVAL;
    /* Notification pipes need the kernel's watch queues, which a kernel built without them refuses so. */
    if (flags & LINUX_O_NOTIFICATION_PIPE)
        return -ENOPKG;
    struct vfs_file *read_end, *write_end;
    int error = vfs_pipe_create(flags & (O_NONBLOCK | O_DIRECT), &read_end, &write_end);
    if (error)
        return error;
    struct vfs_fd_table *table = task_fd_table(task);
    uint64_t limit = task_rlimit_current(task, RLIMIT_NOFILE);
    bool close_on_exec = (flags & O_CLOEXEC) != 0;
    long result = 0;
    int fds[2] = { -1, -1 };
    fds[0] = vfs_fd_install(table, read_end, 0, close_on_exec, limit);
    if (fds[0] < 0) {
        result = fds[0];
        goto out;
    }
    fds[1] = vfs_fd_install(table, write_end, 0, close_on_exec, limit);
    if (fds[1] < 0) {
        result = fds[1];
        (void)vfs_fd_close(table, fds[0]);
        goto out;
    }
    /* Linux copies the fds out before it installs them: a bad pointer leaves no fd behind. */
    if (task_copy_out(task, address, fds, sizeof(fds)) != 0) {
        (void)vfs_fd_close(table, fds[0]);
        (void)vfs_fd_close(table, fds[1]);
        result = -EFAULT;
    }
out:
    vfs_file_put(read_end);
    vfs_file_put(write_end);
    return result;
}

static SYSCALL_HANDLER(pipe) { return make_pipe(task, args->arg[0], 0); }

static SYSCALL_HANDLER(pipe2) { return make_pipe(task, args->arg[0], syscall_argument_int(args, 1)); }

/* ---- fcntl ---- */

static long fcntl_duplicate(struct task *task, struct vfs_file *file, unsigned long minimum, bool close_on_exec)
{
    uint64_t limit = task_rlimit_current(task, RLIMIT_NOFILE);
    /* The minimum is an int: a negative one reads as a huge unsigned value, which is past the limit. */
    unsigned int from = (unsigned int)(int)minimum;
    if ((uint64_t)from >= limit || from > (unsigned int)INT_MAX)
        return -EINVAL;
    return vfs_fd_install(task_fd_table(task), file, (int)from, close_on_exec, limit);
}

static SYSCALL_HANDLER(fcntl)
{
    int fd = syscall_argument_int(args, 0);
    unsigned int command = (unsigned int)args->arg[1];
    unsigned long argument = args->arg[2];
    struct vfs_file *file;
    int error = syscall_get_file(task, fd, true, &file);
    if (error)
        return error;
    long result;
    bool opened_with_path = (vfs_file_status_flags(file) & LINUX_O_PATH) != 0;
    switch (command) {
    case F_DUPFD:
        result = fcntl_duplicate(task, file, argument, false);
        break;
    case F_DUPFD_CLOEXEC:
        result = fcntl_duplicate(task, file, argument, true);
        break;
    case F_GETFD:
        result = vfs_fd_get_close_on_exec(task_fd_table(task), fd);
        if (result > 0)
            result = FD_CLOEXEC;
        break;
    case F_SETFD:
        result = vfs_fd_set_close_on_exec(task_fd_table(task), fd, (argument & FD_CLOEXEC) != 0);
        break;
    case F_GETFL:
        result = vfs_file_status_flags(file);
        break;
    default:
        /* An O_PATH file only answers the commands above. */
        if (opened_with_path) {
            result = -EBADF;
            break;
        }
        switch (command) {
        case F_SETFL:
            result = vfs_file_set_status_flags(file, (int)argument);
            break;
        case F_GETLK:
        case F_SETLK:
        case F_SETLKW:
        case F_OFD_GETLK:
        case F_OFD_SETLK:
        case F_OFD_SETLKW:
            result = syscall_fcntl_lock(task, file, command, argument);
            break;
        default:
            result = -EINVAL;
            break;
        }
        break;
    }
    vfs_file_put(file);
    return result;
}

/* ---- ioctl ---- */

enum ioctl_direction { IOCTL_OUT, IOCTL_IN };

/* Terminal commands handed to the file with a Sentry copy of their argument. */
static const struct {
    unsigned long command;
    size_t size;
    enum ioctl_direction direction;
} terminal_ioctls[] = {
    { TCGETS, LINUX_TERMIOS_SIZE, IOCTL_OUT },
    { TCSETS, LINUX_TERMIOS_SIZE, IOCTL_IN },
    { TCSETSW, LINUX_TERMIOS_SIZE, IOCTL_IN },
    { TCSETSF, LINUX_TERMIOS_SIZE, IOCTL_IN },
    { LINUX_TCGETS2, LINUX_TERMIOS2_SIZE, IOCTL_OUT },
    { LINUX_TCSETS2, LINUX_TERMIOS2_SIZE, IOCTL_IN },
    { LINUX_TCSETSW2, LINUX_TERMIOS2_SIZE, IOCTL_IN },
    { LINUX_TCSETSF2, LINUX_TERMIOS2_SIZE, IOCTL_IN },
    { TIOCGWINSZ, 8 /* struct winsize */, IOCTL_OUT },
    { TIOCSWINSZ, 8, IOCTL_IN },
    { TIOCGPGRP, sizeof(int32_t), IOCTL_OUT },
    { TIOCSPGRP, sizeof(int32_t), IOCTL_IN },
};

/* Linux answers -ENOTTY before reading the argument of a command the file does not know. */
static bool file_is_terminal(struct vfs_file *file)
{
    unsigned char termios[LINUX_TERMIOS_SIZE];
    return vfs_ioctl(file, TCGETS, termios, sizeof(termios)) != -ENOTTY;
}

static long terminal_ioctl(struct task *task, struct vfs_file *file, unsigned long command, size_t size,
                           enum ioctl_direction direction, uint64_t address)
{
    unsigned char argument[LINUX_TERMIOS2_SIZE] = { 0 };
    if (direction == IOCTL_IN) {
        if (!file_is_terminal(file))
            return -ENOTTY;
        if (task_copy_in(task, argument, address, size) != 0)
            return -EFAULT;
        return vfs_ioctl(file, command, argument, size);
    }
    int result = vfs_ioctl(file, command, argument, size);
    if (result < 0)
        return result;
    if (task_copy_out(task, address, argument, size) != 0)
        return -EFAULT;
    return result;
}

/* FIONREAD: bytes left to read. Linux answers it for regular files itself (size minus position, which may be
 * negative); for anything else the file decides. */
static long ioctl_bytes_readable(struct task *task, struct vfs_file *file, uint64_t address)
{
    struct stat status;
    int error = vfs_fstat(file, &status);
    if (error)
        return error;
    int32_t readable;
    if (S_ISREG(status.st_mode)) {
        off_t position = vfs_lseek(file, 0, SEEK_CUR);
        if (position < 0)
            return position;
        readable = (int32_t)(status.st_size - position);
    } else {
        error = vfs_ioctl(file, FIONREAD, &readable, sizeof(readable));
        if (error < 0)
            return error;
    }
    return task_copy_out(task, address, &readable, sizeof(readable)) ? -EFAULT : 0;
}

static SYSCALL_HANDLER(ioctl)
{
    int fd = syscall_argument_int(args, 0);
    unsigned long command = (unsigned int)args->arg[1];
    uint64_t argument = args->arg[2];
    struct vfs_file *file;
    int error = syscall_get_file(task, fd, false, &file);
    if (error)
        return error;
    long result = -ENOTTY;
    switch (command) {
    case FIOCLEX:
        result = vfs_fd_set_close_on_exec(task_fd_table(task), fd, true);
        break;
    case FIONCLEX:
        result = vfs_fd_set_close_on_exec(task_fd_table(task), fd, false);
        break;
    case FIONBIO: {
        int32_t on;
        if (task_copy_in(task, &on, argument, sizeof(on)) != 0) {
            result = -EFAULT;
            break;
        }
        int flags = vfs_file_status_flags(file);
        result = vfs_file_set_status_flags(file, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
        break;
    }
    case FIONREAD:
        result = ioctl_bytes_readable(task, file, argument);
        break;
    case FIOQSIZE: {
        /* The size of a directory, regular file or symlink; anything else is the driver's and unknown here. */
        struct stat status;
        result = vfs_fstat(file, &status);
        if (result)
            break;
        if (!S_ISDIR(status.st_mode) && !S_ISREG(status.st_mode) && !S_ISLNK(status.st_mode)) {
            result = -ENOTTY;
            break;
        }
        int64_t size = status.st_size;
        result = task_copy_out(task, argument, &size, sizeof(size)) ? -EFAULT : 0;
        break;
    }
    default:
        result = syscall_socket_ioctl(task, file, command, argument);
        if (result != -ENOTTY)
            break;
        for (size_t i = 0; i < ARRAY_SIZE(terminal_ioctls); i++) {
            if (terminal_ioctls[i].command == command) {
                result = terminal_ioctl(task, file, command, terminal_ioctls[i].size, terminal_ioctls[i].direction,
                                        argument);
                break;
            }
        }
        break;
    }
    vfs_file_put(file);
    return result;
}

/* ---- sendfile ---- */

/* Copies from in to out through a Sentry buffer. offset: NULL to read at (and move) in's file position.
 * Reads from a file that can seek are positioned, so bytes out does not take are never lost; from a pipe, no
 * more is taken than out is ready for. */
static long sendfile_copy(struct task *task, struct vfs_file *in, struct vfs_file *out, int64_t *offset,
                          uint64_t count)
{
    int64_t position = offset ? *offset : (int64_t)vfs_lseek(in, 0, SEEK_CUR);
    bool in_seekable = position >= 0;
    size_t capacity = (size_t)MIN(count, (uint64_t)IO_CHUNK_SIZE);
    char *buffer = malloc(MAX(capacity, (size_t)1));
    if (!buffer)
        return -ENOMEM;
    uint64_t done = 0;
    long result = 0;
    while (done < count) {
        size_t wanted = (size_t)MIN(count - done, (uint64_t)capacity);
        if (!in_seekable) {
            if (!(vfs_poll(out, NULL) & POLLOUT)) {
                result = -EAGAIN;
                if (done == 0 && !file_is_nonblocking(out))
                    result = task_wait_file(task, out, POLLOUT);
                break;
            }
            wanted = MIN(wanted, (size_t)PIPE_BUF);
        }
        ssize_t got = in_seekable ? vfs_pread(in, buffer, wanted, position) : vfs_read(in, buffer, wanted);
        if (got <= 0) {
            result = got;
            if (got == -EAGAIN && done == 0 && !file_is_nonblocking(in))
                result = task_wait_file(task, in, POLLIN);
            break;
        }
        ssize_t put = vfs_write(out, buffer, (size_t)got);
        if (put < 0) {
            send_sigpipe_for(task, put);
            result = put;
            if (put == -EAGAIN && done == 0 && !file_is_nonblocking(out))
                result = task_wait_file(task, out, POLLOUT);
            break;
        }
        done += (uint64_t)put;
        if (in_seekable)
            position += put;
        if (put < got || (size_t)got < wanted)
            break;
    }
    free(buffer);
    if (in_seekable) {
        if (offset)
            *offset = position;
        else
            (void)vfs_lseek(in, position, SEEK_SET);
    }
    return done > 0 ? (long)done : result;
}

static SYSCALL_HANDLER(sendfile)
{
    int out_fd = syscall_argument_int(args, 0), in_fd = syscall_argument_int(args, 1);
    uint64_t offset_address = args->arg[2], count = args->arg[3];
    int64_t offset = 0;
    /* Linux reads *offset before it looks at either fd, and writes it back whatever happens. */
    if (offset_address && task_copy_in(task, &offset, offset_address, sizeof(offset)) != 0)
        return -EFAULT;

    struct vfs_file *in = NULL, *out = NULL;
    long result = syscall_get_file(task, in_fd, false, &in);
    if (result)
        goto out;
    if (!vfs_file_readable(in)) {
        result = -EBADF;
        goto out;
    }
    if (offset_address && vfs_lseek(in, 0, SEEK_CUR) == -ESPIPE) {
        result = -ESPIPE;
        goto out;
    }
    if (offset_address && offset < 0) {
        result = -EINVAL;
        goto out;
    }
    count = MIN(count, LINUX_MAX_RW_COUNT);
    result = syscall_get_file(task, out_fd, false, &out);
    if (result)
        goto out;
    if (!vfs_file_writable(out)) {
        result = -EBADF;
        goto out;
    }
    /* Splicing into a file opened for appending is refused by Linux. */
    if (vfs_file_status_flags(out) & O_APPEND) {
        result = -EINVAL;
        goto out;
    }
    /* Into anything but a pipe, Linux splices directly, which reads only regular files and block devices. */
    struct stat in_status;
    if (!vfs_file_is_pipe(out) && (vfs_fstat(in, &in_status) < 0 ||
                                   (!S_ISREG(in_status.st_mode) && !S_ISBLK(in_status.st_mode)))) {
        result = -EINVAL;
        goto out;
    }
    if (count == 0)
        goto out;
    result = sendfile_copy(task, in, out, offset_address ? &offset : NULL, count);
out:
    if (in)
        vfs_file_put(in);
    if (out)
        vfs_file_put(out);
    if (offset_address && task_copy_out(task, offset_address, &offset, sizeof(offset)) != 0)
        return -EFAULT;
    return result;
}

/* ---- fsync, fdatasync, ftruncate ---- */

static long sync_fd(struct task *task, const struct syscall_args *args)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    long result = vfs_fsync(file);
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(fsync) { return sync_fd(task, args); }

/* The VFS has one flush: fdatasync's weaker promise is kept by doing what fsync does. */
static SYSCALL_HANDLER(fdatasync) { return sync_fd(task, args); }

static SYSCALL_HANDLER(ftruncate)
{
    int64_t length = (int64_t)args->arg[1];
    if (length < 0)
        return -EINVAL;
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    /* Linux says -EINVAL, not -EBADF, for an fd not open for writing. */
    long result = vfs_file_writable(file) ? vfs_ftruncate(file, (off_t)length) : -EINVAL;
    vfs_file_put(file);
    return result;
}

/* ---- fstat, fchmod, fchown ---- */

static SYSCALL_HANDLER(fstat)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), true, &file);
    if (error)
        return error;
    struct stat status;
    long result = vfs_fstat(file, &status);
    vfs_file_put(file);
    if (result)
        return result;
    return task_copy_out(task, args->arg[1], &status, sizeof(status)) ? -EFAULT : 0;
}

static SYSCALL_HANDLER(fchmod)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    long result = vfs_fchmod(file, ctx.credentials, (uint32_t)args->arg[1] & 07777);
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(fchown)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    long result = vfs_fchown(file, ctx.credentials, (uint32_t)args->arg[1], (uint32_t)args->arg[2]);
    vfs_file_put(file);
    return result;
}

/* ---- getdents64, getdents ---- */

/* Directory records are produced whole by the VFS: one Sentry buffer of at most this many bytes per call is
 * plenty (a record is at most about 280 bytes), and a shorter answer is always allowed. */
#define DIRENT_BUFFER_MAX (64 * 1024)

/* struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name. */
#define DIRENT64_NAME_OFFSET 19
#define DIRENT64_TYPE_OFFSET 18
/* struct linux_dirent (getdents): d_ino, d_off, d_reclen, d_name, a NUL, then d_type in the record's last byte. */
#define DIRENT_NAME_OFFSET 18

static uint16_t read_u16(const char *p)
{
    uint16_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

/* Rewrites linux_dirent64 records as linux_dirent ones in place. A record never grows: both formats need
 * ALIGN(20 + name length, 8) bytes, so the converted stream is at most as long. Returns its length. */
static size_t dirents_to_old_format(char *records, size_t length)
{
    size_t read_at = 0, write_at = 0;
    while (read_at + DIRENT64_NAME_OFFSET <= length) {
        uint16_t record_length = read_u16(records + read_at + 16);
        if (record_length < DIRENT64_NAME_OFFSET || read_at + record_length > length)
            break;
        unsigned char type = (unsigned char)records[read_at + DIRENT64_TYPE_OFFSET];
        size_t name_length = strnlen(records + read_at + DIRENT64_NAME_OFFSET, record_length - DIRENT64_NAME_OFFSET);
        uint16_t new_length = (uint16_t)((DIRENT_NAME_OFFSET + name_length + 2 + 7) & ~(size_t)7);
        char *to = records + write_at;
        const char *from = records + read_at;
        memmove(to, from, 16); /* d_ino, d_off */
        memcpy(to + 16, &new_length, sizeof(new_length));
        memmove(to + DIRENT_NAME_OFFSET, from + DIRENT64_NAME_OFFSET, name_length);
        memset(to + DIRENT_NAME_OFFSET + name_length, 0, new_length - DIRENT_NAME_OFFSET - name_length);
        to[new_length - 1] = (char)type;
        read_at += record_length;
        write_at += new_length;
    }
    return write_at;
}

static long list_directory(struct task *task, const struct syscall_args *args, bool old_format)
{
    uint64_t address = args->arg[1];
    unsigned int count = (unsigned int)args->arg[2];
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    long result;
    char *records = NULL;
    if (!syscall_user_range_ok(address, count)) {
        result = -EFAULT;
        goto out;
    }
    size_t size = MIN((size_t)count, (size_t)DIRENT_BUFFER_MAX);
    records = malloc(MAX(size, (size_t)1));
    if (!records) {
        result = -ENOMEM;
        goto out;
    }
    ssize_t got = vfs_getdents64(file, records, size);
    if (got <= 0) {
        result = got;
        goto out;
    }
    size_t length = old_format ? dirents_to_old_format(records, (size_t)got) : (size_t)got;
    result = task_copy_out(task, address, records, length) ? -EFAULT : (long)length;
out:
    free(records);
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(getdents64) { return list_directory(task, args, false); }

static SYSCALL_HANDLER(getdents) { return list_directory(task, args, true); }

/* fadvise64: advice only (the host decides the caching of donated files), but validated as Linux does:
 * EBADF, ESPIPE for pipes and sockets, EINVAL for unknown advice or a negative length. */
static SYSCALL_HANDLER(fadvise64)
{
    int advice = syscall_argument_int(args, 3);
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error < 0)
        return error;
    struct stat status;
    long result = 0;
    if (vfs_fstat(file, &status) == 0 && (S_ISFIFO(status.st_mode) || S_ISSOCK(status.st_mode)))
        result = -ESPIPE;
    else if ((int64_t)args->arg[2] < 0 || advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
        result = -EINVAL;
    vfs_file_put(file);
    return result;
}

const struct syscall_binding syscall_bindings_file[] = {
    { 221, sys_fadvise64 },
    { 0, sys_read },
    { 1, sys_write },
    { 3, sys_close },
    { 5, sys_fstat },
    { 8, sys_lseek },
    { 16, sys_ioctl },
    { 17, sys_pread64 },
    { 18, sys_pwrite64 },
    { 19, sys_readv },
    { 20, sys_writev },
    { 22, sys_pipe },
    { 32, sys_dup },
    { 33, sys_dup2 },
    { 40, sys_sendfile },
    { 72, sys_fcntl },
    { 74, sys_fsync },
    { 75, sys_fdatasync },
    { 77, sys_ftruncate },
    { 78, sys_getdents },
    { 91, sys_fchmod },
    { 93, sys_fchown },
    { 217, sys_getdents64 },
    { 292, sys_dup3 },
    { 293, sys_pipe2 },
    { 295, sys_preadv },
    { 296, sys_pwritev },
    { 327, sys_preadv2 },
    { 328, sys_pwritev2 },
    { 436, sys_close_range },
    { -1, NULL },
};
