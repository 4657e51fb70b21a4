/* syscalls/splice.c: moving data between files without the task's buffers: splice, tee and vmsplice (one
 * side a pipe, vfs/pipe.c) and copy_file_range (regular files), with Linux's checks in Linux's order. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])
#define SPLICE_FLAGS_ALL (SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)
/* One step's bounce buffer: a whole default pipe. */
#define SPLICE_CHUNK (64 * 1024)
/* copy_file_range moves at most this per step before it looks again. */
#define COPY_CHUNK (1024 * 1024)
#define IOVEC_MAX 1024


static bool nonblocking(struct vfs_file *file) { return (vfs_file_status_flags(file) & O_NONBLOCK) != 0; }

static bool seekable(struct vfs_file *file) { return vfs_lseek(file, 0, SEEK_CUR) >= 0; }

/* A pipe with no room, for a writer: -EPIPE (with SIGPIPE) without readers, -EAGAIN or a wait otherwise.
 * Returns 0 when there is room. */
static long wait_for_space(struct task *task, struct vfs_file *pipe, bool nonblock)
{
    struct vfs_pipe_status status;
    vfs_pipe_status(pipe, &status);
    if (status.readers == 0) {
        task_send_signal(task, SIGPIPE);
        return -EPIPE;
    }
    if (status.space > 0)
        return 0;
    return nonblock ? -EAGAIN : task_wait_file(task, pipe, POLLOUT);
}

/* A pipe with nothing queued, for a reader: 1 at end of file (no writers), -EAGAIN or a wait otherwise.
 * Returns 0 when there is data. */
static long wait_for_data(struct task *task, struct vfs_file *pipe, bool nonblock)
{
    struct vfs_pipe_status status;
    vfs_pipe_status(pipe, &status);
    if (status.available > 0)
        return 0;
    if (status.writers == 0)
        return 1;
    return nonblock ? -EAGAIN : task_wait_file(task, pipe, POLLIN);
}

static size_t pipe_available(struct vfs_file *pipe)
{
    struct vfs_pipe_status status;
    vfs_pipe_status(pipe, &status);
    return status.available;
}

static size_t pipe_space(struct vfs_file *pipe)
{
    struct vfs_pipe_status status;
    vfs_pipe_status(pipe, &status);
    return status.space;
}

/* ---- splice ---- */

static long splice_pipe_to_pipe(struct task *task, struct vfs_file *in, struct vfs_file *out, size_t length,
                                bool nonblock, void *buffer)
{
    long waited = wait_for_data(task, in, nonblock);
    if (waited != 0)
        return waited > 0 ? 0 : waited;
    waited = wait_for_space(task, out, nonblock);
    if (waited != 0)
        return waited;
    size_t chunk = MIN(MIN(length, (size_t)SPLICE_CHUNK), MIN(pipe_available(in), pipe_space(out)));
    size_t taken = vfs_pipe_peek(in, buffer, chunk);
    ssize_t put = vfs_write(out, buffer, taken);
    if (put <= 0)
        return put < 0 ? put : -EAGAIN;
    return vfs_read(in, buffer, (size_t)put);  /* take from the input what the output took */
}

/* Read from a file that is not a pipe, at *offset when given (and advanced), else at its own position. */
static ssize_t read_file(struct vfs_file *file, void *buffer, size_t length, int64_t *offset)
{
    if (!offset)
        return vfs_read(file, buffer, length);
    ssize_t got = vfs_pread(file, buffer, length, (off_t)*offset);
    if (got > 0)
        *offset += got;
    return got;
}

static ssize_t write_file(struct vfs_file *file, const void *buffer, size_t length, int64_t *offset)
{
    if (!offset)
        return vfs_write(file, buffer, length);
    ssize_t put = vfs_pwrite(file, buffer, length, (off_t)*offset);
    if (put > 0)
        *offset += put;
    return put;
}

static long splice_file_to_pipe(struct task *task, struct vfs_file *in, int64_t *offset, struct vfs_file *out,
                                size_t length, bool nonblock, void *buffer)
{
    long waited = wait_for_space(task, out, nonblock);
    if (waited != 0)
        return waited;
    size_t chunk = MIN(MIN(length, (size_t)SPLICE_CHUNK), pipe_space(out));
    ssize_t got = read_file(in, buffer, chunk, offset);
    if (got == -EAGAIN && !nonblock && !nonblocking(in))
        return task_wait_file(task, in, POLLIN);
    if (got <= 0)
        return got;
    ssize_t put = vfs_write(out, buffer, (size_t)got);
    return put < 0 ? put : (long)put;
}

static long splice_pipe_to_file(struct task *task, struct vfs_file *in, struct vfs_file *out, int64_t *offset,
                                size_t length, bool nonblock, void *buffer)
{
    long waited = wait_for_data(task, in, nonblock);
    if (waited != 0)
        return waited > 0 ? 0 : waited;
    size_t chunk = MIN(MIN(length, (size_t)SPLICE_CHUNK), pipe_available(in));
    size_t taken = vfs_pipe_peek(in, buffer, chunk);
    ssize_t put = write_file(out, buffer, taken, offset);
    if (put == -EAGAIN && !nonblock && !nonblocking(out))
        return task_wait_file(task, out, POLLOUT);
    if (put == -EPIPE)
        task_send_signal(task, SIGPIPE);
    if (put <= 0)
        return put;
    return vfs_read(in, buffer, (size_t)put);
}

/* Reads a loff_t argument; returns 0, or -EFAULT. */
static int copy_offset_in(struct task *task, uint64_t address, int64_t *offset)
{
    return task_copy_in(task, offset, address, sizeof(*offset)) < 0 ? -EFAULT : 0;
}

static long do_splice(struct task *task, struct vfs_file *in, uint64_t in_offset_address, struct vfs_file *out,
                      uint64_t out_offset_address, size_t length, unsigned int flags)
{
    bool in_pipe = vfs_file_is_pipe(in), out_pipe = vfs_file_is_pipe(out);
    if ((in_pipe && in_offset_address) || (out_pipe && out_offset_address))
        return -ESPIPE;
    int64_t in_offset = 0, out_offset = 0;
    if (out_offset_address && copy_offset_in(task, out_offset_address, &out_offset) < 0)
        return -EFAULT;
    if (in_offset_address && copy_offset_in(task, in_offset_address, &in_offset) < 0)
        return -EFAULT;
    if (!vfs_file_readable(in) || !vfs_file_writable(out))
        return -EBADF;
    bool nonblock = (flags & SPLICE_F_NONBLOCK) != 0;
    void *buffer = malloc(SPLICE_CHUNK);
    if (!buffer)
        return -ENOMEM;
    long result;
    if (in_pipe && out_pipe) {
        struct vfs_pipe_status in_status, out_status;
        vfs_pipe_status(in, &in_status);
        vfs_pipe_status(out, &out_status);
        if (in_status.identity == out_status.identity) {
            result = -EINVAL;
        } else {
            nonblock |= nonblocking(in) || nonblocking(out);
            result = splice_pipe_to_pipe(task, in, out, length, nonblock, buffer);
        }
    } else if (in_pipe) {
        if (out_offset_address && !seekable(out))
            result = -EINVAL;
        else if (vfs_file_status_flags(out) & O_APPEND)
            result = -EINVAL;
        else if (out_offset_address && out_offset < 0)
            result = -EINVAL;
        else if (vfs_file_is_directory(out))
            result = -EINVAL;
        else
            result = splice_pipe_to_file(task, in, out, out_offset_address ? &out_offset : NULL, length,
                                         nonblock || nonblocking(in), buffer);
    } else if (out_pipe) {
        if (in_offset_address && !seekable(in))
            result = -EINVAL;
        else if (in_offset_address && in_offset < 0)
            result = -EINVAL;
        else if (vfs_file_is_directory(in))
            result = -EINVAL;
        else
            result = splice_file_to_pipe(task, in, in_offset_address ? &in_offset : NULL, out, length,
                                         nonblock || nonblocking(out), buffer);
    } else {
        result = -EINVAL;
    }
    free(buffer);
    if (result > 0) {
        if (in_offset_address && task_copy_out(task, in_offset_address, &in_offset, sizeof(in_offset)) < 0)
            result = -EFAULT;
        if (out_offset_address && task_copy_out(task, out_offset_address, &out_offset, sizeof(out_offset)) < 0)
            result = -EFAULT;
    }
    return result;
}

/* The two files of splice/tee: -EBADF unless both fds are open (and not O_PATH). */
static long get_two_files(struct task *task, int in_fd, int out_fd, struct vfs_file **in, struct vfs_file **out)
{
    long error = syscall_get_file(task, in_fd, false, in);
    if (error < 0)
        return error;
    error = syscall_get_file(task, out_fd, false, out);
    if (error < 0)
        vfs_file_put(*in);
    return error;
}

static SYSCALL_HANDLER(splice)
{
    size_t length = (size_t)ARG(4);
    unsigned int flags = (unsigned int)ARG(5);
    if (length == 0)
        return 0;
    if (flags & ~(unsigned int)SPLICE_FLAGS_ALL)
        return -EINVAL;
    struct vfs_file *in, *out;
    long result = get_two_files(task, syscall_argument_int(args, 0), syscall_argument_int(args, 2), &in, &out);
    if (result < 0)
        return result;
    if ((int64_t)length < 0)
        length = LINUX_MAX_RW_COUNT;
    result = do_splice(task, in, ARG(1), out, ARG(3), MIN(length, (size_t)LINUX_MAX_RW_COUNT), flags);
    vfs_file_put(in);
    vfs_file_put(out);
    return result;
}

static SYSCALL_HANDLER(tee)
{
    size_t length = (size_t)ARG(2);
    unsigned int flags = (unsigned int)ARG(3);
    if (flags & ~(unsigned int)SPLICE_FLAGS_ALL)
        return -EINVAL;
    if (length == 0)
        return 0;
    struct vfs_file *in, *out;
    long result = get_two_files(task, syscall_argument_int(args, 0), syscall_argument_int(args, 1), &in, &out);
    if (result < 0)
        return result;
    if (!vfs_file_readable(in) || !vfs_file_writable(out)) {
        result = -EBADF;
    } else if (!vfs_file_is_pipe(in) || !vfs_file_is_pipe(out)) {
        result = -EINVAL;
    } else {
        struct vfs_pipe_status in_status, out_status;
        vfs_pipe_status(in, &in_status);
        vfs_pipe_status(out, &out_status);
        bool nonblock = (flags & SPLICE_F_NONBLOCK) || nonblocking(in) || nonblocking(out);
        if (in_status.identity == out_status.identity)
            result = -EINVAL;
        else if ((result = wait_for_data(task, in, nonblock)) != 0)
            result = result > 0 ? 0 : result;
        else if ((result = wait_for_space(task, out, nonblock)) == 0) {
            void *buffer = malloc(SPLICE_CHUNK);
            if (!buffer) {
                result = -ENOMEM;
            } else {
                size_t chunk = MIN(MIN(length, (size_t)SPLICE_CHUNK), MIN(in_status.available, out_status.space));
                size_t copied = vfs_pipe_peek(in, buffer, chunk);
                result = vfs_write(out, buffer, copied);
                free(buffer);
            }
        }
    }
    vfs_file_put(in);
    vfs_file_put(out);
    return result;
}

/* ---- vmsplice ---- */

struct user_segment {
    uint64_t base, length;
};

static SYSCALL_HANDLER(vmsplice)
{
    unsigned int flags = (unsigned int)ARG(3);
    uint64_t count = (uint32_t)ARG(2);  /* import_iovec takes the count as an unsigned int */
    if (flags & ~(unsigned int)SPLICE_FLAGS_ALL)
        return -EINVAL;
    struct vfs_file *file;
    long result = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (result < 0)
        return result;
    bool to_pipe = vfs_file_writable(file);
    if (!to_pipe && !vfs_file_readable(file)) {
        vfs_file_put(file);
        return -EBADF;
    }
    if (count > IOVEC_MAX) {
        vfs_file_put(file);
        return -EINVAL;
    }
    struct user_segment *segments = calloc(MAX((size_t)count, (size_t)1), sizeof(*segments));
    if (!segments) {
        vfs_file_put(file);
        return -ENOMEM;
    }
    uint64_t total = 0;
    if (count && task_copy_in(task, segments, ARG(1), (size_t)count * sizeof(*segments)) < 0)
        result = -EFAULT;
    for (size_t i = 0; i < count && result == 0; i++) {
        if ((int64_t)segments[i].length < 0)
            result = -EINVAL;
        segments[i].length = MIN(segments[i].length, LINUX_MAX_RW_COUNT - total);
        if (result == 0 && !syscall_user_range_ok(segments[i].base, segments[i].length))
            result = -EFAULT;
        total += segments[i].length;
    }
    if (result == 0 && total > 0 && !vfs_file_is_pipe(file))
        result = -EBADF;
    if (result < 0 || total == 0) {
        free(segments);
        vfs_file_put(file);
        return result;
    }
    bool nonblock = (flags & SPLICE_F_NONBLOCK) || nonblocking(file);
    uint8_t *buffer = malloc(SPLICE_CHUNK);
    if (!buffer) {
        free(segments);
        vfs_file_put(file);
        return -ENOMEM;
    }
    long waited = to_pipe ? wait_for_space(task, file, nonblock) : wait_for_data(task, file, nonblock);
    if (waited != 0) {
        result = waited > 0 ? 0 : waited;
    } else if (to_pipe) {
        /* Gather what fits from the task's segments; a fault ends the gather (an error only if nothing came). */
        size_t room = MIN(pipe_space(file), (size_t)SPLICE_CHUNK), gathered = 0;
        bool faulted = false;
        for (size_t i = 0; i < count && gathered < room && !faulted; i++) {
            size_t want = (size_t)MIN(segments[i].length, (uint64_t)(room - gathered));
            size_t got = syscall_copy_in_prefix(task, buffer + gathered, segments[i].base, want);
            gathered += got;
            faulted = got < want;
        }
        result = gathered ? (long)vfs_write(file, buffer, gathered) : -EFAULT;
    } else {
        size_t chunk = (size_t)MIN(total, (uint64_t)MIN(pipe_available(file), (size_t)SPLICE_CHUNK));
        size_t peeked = vfs_pipe_peek(file, buffer, chunk), delivered = 0;
        bool faulted = false;
        for (size_t i = 0; i < count && delivered < peeked && !faulted; i++) {
            size_t want = (size_t)MIN(segments[i].length, (uint64_t)(peeked - delivered));
            size_t put = syscall_copy_out_prefix(task, segments[i].base, buffer + delivered, want);
            delivered += put;
            faulted = put < want;
        }
        result = delivered ? (long)vfs_read(file, buffer, delivered) : -EFAULT;
    }
    free(buffer);
    free(segments);
    vfs_file_put(file);
    return result;
}

/* ---- copy_file_range ---- */

static long copy_range(struct vfs_file *in, int64_t *in_position, struct vfs_file *out, int64_t *out_position,
                       uint64_t length)
{
    uint8_t *buffer = malloc((size_t)MIN(length, (uint64_t)COPY_CHUNK));
    if (!buffer)
        return -ENOMEM;
    uint64_t done = 0;
    long error = 0;
    while (done < length) {
        size_t chunk = (size_t)MIN(length - done, (uint64_t)COPY_CHUNK);
        ssize_t got = vfs_pread(in, buffer, chunk, (off_t)(*in_position));
        if (got <= 0) {
            error = got;
            break;
        }
        ssize_t put = vfs_pwrite(out, buffer, (size_t)got, (off_t)(*out_position));
        if (put <= 0) {
            error = put;
            break;
        }
        *in_position += put;
        *out_position += put;
        done += (uint64_t)put;
        if (put < got)
            break;
    }
    free(buffer);
    return done ? (long)done : error;
}

static long copy_file_range_checks(struct vfs_file *in, int64_t in_position, struct vfs_file *out,
                                   int64_t out_position, uint64_t *length, unsigned int flags)
{
    if (flags)
        return -EINVAL;
    struct stat in_attributes, out_attributes;
    long error = vfs_fstat(in, &in_attributes);
    if (error == 0)
        error = vfs_fstat(out, &out_attributes);
    if (error < 0)
        return error;
    if (S_ISDIR(in_attributes.st_mode) || S_ISDIR(out_attributes.st_mode))
        return -EISDIR;
    if (!S_ISREG(in_attributes.st_mode) || !S_ISREG(out_attributes.st_mode))
        return -EINVAL;
    if (!vfs_file_readable(in) || !vfs_file_writable(out) || (vfs_file_status_flags(out) & O_APPEND))
        return -EBADF;
    /* Only within one file system (Linux 5.19 and later, for file systems without their own method). */
    if (in_attributes.st_dev != out_attributes.st_dev)
        return -EXDEV;
    uint64_t count = *length;
    if ((uint64_t)in_position + count < (uint64_t)in_position || (uint64_t)out_position + count < (uint64_t)out_position ||
        in_position > INT64_MAX - (int64_t)MIN(count, (uint64_t)INT64_MAX) ||
        out_position > INT64_MAX - (int64_t)MIN(count, (uint64_t)INT64_MAX))
        return -EOVERFLOW;
    if (in_position >= in_attributes.st_size)
        count = 0;
    else
        count = MIN(count, (uint64_t)(in_attributes.st_size - in_position));
    bool same_file = in_attributes.st_dev == out_attributes.st_dev && in_attributes.st_ino == out_attributes.st_ino;
    if (same_file && out_position + (int64_t)count > in_position && out_position < in_position + (int64_t)count)
        return -EINVAL;
    if (in_position < 0 || out_position < 0)
        return -EINVAL;
    *length = MIN(count, (uint64_t)LINUX_MAX_RW_COUNT);
    return 0;
}

static SYSCALL_HANDLER(copy_file_range)
{
    struct vfs_file *in, *out;
    long result = get_two_files(task, syscall_argument_int(args, 0), syscall_argument_int(args, 2), &in, &out);
    if (result < 0)
        return result;
    int64_t in_position = 0, out_position = 0;
    if (ARG(1) && copy_offset_in(task, ARG(1), &in_position) < 0)
        result = -EFAULT;
    else if (ARG(3) && copy_offset_in(task, ARG(3), &out_position) < 0)
        result = -EFAULT;
    if (result == 0) {
        if (!ARG(1))
            in_position = vfs_lseek(in, 0, SEEK_CUR);
        if (!ARG(3))
            out_position = vfs_lseek(out, 0, SEEK_CUR);
        uint64_t length = ARG(4);
        result = copy_file_range_checks(in, in_position, out, out_position, &length, (unsigned int)ARG(5));
        if (result == 0 && length > 0)
            result = copy_range(in, &in_position, out, &out_position, length);
    }
    if (result > 0) {
        if (ARG(1)) {
            if (task_copy_out(task, ARG(1), &in_position, sizeof(in_position)) < 0)
                result = -EFAULT;
        } else {
            vfs_lseek(in, (off_t)in_position, SEEK_SET);
        }
        if (ARG(3)) {
            if (task_copy_out(task, ARG(3), &out_position, sizeof(out_position)) < 0)
                result = -EFAULT;
        } else {
            vfs_lseek(out, (off_t)out_position, SEEK_SET);
        }
    }
    vfs_file_put(in);
    vfs_file_put(out);
    return result;
}

const struct syscall_binding syscall_bindings_splice[] = {
    {__NR_splice, sys_splice}, {__NR_tee, sys_tee}, {__NR_vmsplice, sys_vmsplice},
    {__NR_copy_file_range, sys_copy_file_range}, {-1, NULL},
};
