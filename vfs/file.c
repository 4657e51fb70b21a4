/* vfs/file.c: open file descriptions and the syscalls on them: read/write with offsets, lseek, getdents64,
 * fstat, ftruncate, fchmod/fchown, poll and ioctl dispatch, status flags and the file's printable path. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/inotify.h>

#include "vfs/internal.h"

/* Status flags F_SETFL may change, as Linux's SETFL_MASK (O_DIRECT and O_NOATIME accepted and kept). */
#define VFS_SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)

struct vfs_file *vfs_file_new(const struct vfs_path *path, struct vfs_inode *inode,
                              const struct vfs_file_operations *ops, int flags)
{
    struct vfs_file *file = xcalloc(1, sizeof(*file));
    file->refcount = 1;
    if (path) {
        file->path = *path;
        vfs_path_get(&file->path);
    }
    file->inode = inode;
    if (inode)
        vfs_inode_get(inode);
    file->ops = ops;
    file->flags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
    wait_queue_init(&file->own_queue);
    file->queue = &file->own_queue;
    return file;
}

void vfs_file_get(struct vfs_file *file) { file->refcount++; }

void vfs_file_put(struct vfs_file *file)
{
    if (!file || --file->refcount > 0)
        return;
    vfs_epoll_forget_file(file);
    vfs_locks_forget_file(file);
    vfs_inotify_file_closed(file);
    if (file->ops && file->ops->release)
        file->ops->release(file);
    /* waiters still queued belong to tasks that will remove them; they must not point into freed memory */
    LIST_FOR_EACH_SAFE(node, next, &file->own_queue.waiters) list_remove(node);
    text_buffer_free(&file->snapshot);
    vfs_inode_put(file->inode);
    vfs_path_put(&file->path);
    free(file);
}

static bool file_is_path_only(const struct vfs_file *file) { return (file->flags & O_PATH) != 0; }

bool vfs_file_readable(const struct vfs_file *file)
{
    int access = file->flags & O_ACCMODE;
    return !file_is_path_only(file) && (access == O_RDONLY || access == O_RDWR);
}

bool vfs_file_writable(const struct vfs_file *file)
{
    int access = file->flags & O_ACCMODE;
    return !file_is_path_only(file) && (access == O_WRONLY || access == O_RDWR);
}

bool vfs_file_is_directory(struct vfs_file *file) { return file->inode && S_ISDIR(file->inode->mode); }

static ssize_t file_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    if (!vfs_file_readable(file))
        return -EBADF;
    if (vfs_file_is_directory(file))
        return -EISDIR;
    if (!file->ops || !file->ops->read)
        return -EINVAL;
    if (length > VFS_MAX_RW_COUNT)
        length = VFS_MAX_RW_COUNT;
    ssize_t result = file->ops->read(file, buffer, length, file->ops->stream ? NULL : offset);
    if (result > 0)
        vfs_inotify_file_event(file, IN_ACCESS);
    return result;
}

static ssize_t file_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    if (!vfs_file_writable(file))
        return -EBADF;
    if (!file->ops || !file->ops->write)
        return -EINVAL;
    if (length > VFS_MAX_RW_COUNT)
        length = VFS_MAX_RW_COUNT;
    ssize_t result = file->ops->write(file, buffer, length, file->ops->stream ? NULL : offset);
    if (result > 0)
        vfs_inotify_file_event(file, IN_MODIFY);
    return result;
}

ssize_t vfs_read(struct vfs_file *file, void *buffer, size_t length)
{
    return file_read(file, buffer, length, &file->offset);
}

ssize_t vfs_write(struct vfs_file *file, const void *buffer, size_t length)
{
    return file_write(file, buffer, length, &file->offset);
}

ssize_t vfs_pread(struct vfs_file *file, void *buffer, size_t length, off_t offset)
{
    if (!vfs_file_readable(file))
        return -EBADF;
    if (offset < 0)
        return -EINVAL;
    if (file->ops && file->ops->stream)
        return -ESPIPE;
    return file_read(file, buffer, length, &offset);
}

ssize_t vfs_pwrite(struct vfs_file *file, const void *buffer, size_t length, off_t offset)
{
    if (!vfs_file_writable(file))
        return -EBADF;
    if (offset < 0)
        return -EINVAL;
    if (file->ops && file->ops->stream)
        return -ESPIPE;
    return file_write(file, buffer, length, &offset);
}

/* The size the file's own file system reports (a host file may have grown). */
static off_t file_size(struct vfs_file *file)
{
    if (file->ops == &vfs_snapshot_file_operations)
        return (off_t)file->snapshot.length;
    struct stat attributes;
    if (vfs_inode_getattr(file->inode, &attributes) < 0)
        return file->inode->size;
    return attributes.st_size;
}

off_t vfs_lseek(struct vfs_file *file, off_t offset, int whence)
{
    if (file_is_path_only(file))
        return -EBADF;
    if (file->ops && file->ops->seek_is_noop)
        return whence >= SEEK_SET && whence <= SEEK_HOLE ? file->offset : -EINVAL;
    if (!file->ops || file->ops->stream)
        return -ESPIPE;
    bool directory = vfs_file_is_directory(file);
    off_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = file->offset; break;
    case SEEK_END:
        if (directory)
            return -EINVAL;
        base = file_size(file);
        break;
    case SEEK_DATA:
    case SEEK_HOLE: {
        if (directory)
            return -EINVAL;
        /* the whole file is data followed by the implicit hole at its end */
        off_t size = file_size(file);
        if (offset < 0 || offset >= size)
            return -ENXIO;
        off_t result = whence == SEEK_DATA ? offset : size;
        file->offset = result;
        return result;
    }
    default: return -EINVAL;
    }
    off_t result;
    if (__builtin_add_overflow(base, offset, &result))
        return -EOVERFLOW;
    if (result < 0)
        return -EINVAL;
    file->offset = result;
    return result;
}

int vfs_fstat(struct vfs_file *file, struct stat *stat_out)
{
    /* through the path when there is one: an overlay file reports the overlay's identity */
    struct vfs_inode *inode = file->path.dentry ? file->path.dentry->inode : file->inode;
    if (!inode)
        return -EBADF;
    return vfs_inode_getattr(inode, stat_out);
}

int vfs_file_map_shared(struct vfs_file *file, uint64_t offset, uint64_t length, struct vfs_shared_pages *out)
{
    *out = (struct vfs_shared_pages){0};
    if (!file->ops || !file->ops->map_pages)
        return -ENODEV;
    return file->ops->map_pages(file, offset, length, out);
}

void vfs_shared_pages_release(struct vfs_shared_pages *pages)
{
    for (size_t i = 0; i < pages->count; i++)
        memory_region_put(pages->pieces[i].region);
    free(pages->pieces);
    *pages = (struct vfs_shared_pages){0};
}

/* ---- getdents64 ---- */
struct getdents_emitter {
    struct vfs_dir_emitter base;
    struct vfs_file *file;
    char *buffer;
    size_t length, used;
    bool full;
};

static bool getdents_emit(struct vfs_dir_emitter *base, const char *name, uint64_t inode_number, unsigned type,
                          int64_t next_offset)
{
    struct getdents_emitter *emitter = CONTAINER_OF(base, struct getdents_emitter, base);
    size_t name_length = strlen(name);
    size_t header = offsetof(struct dirent64, d_name);
    size_t record = (header + name_length + 1 + 7) & ~(size_t)7;
    if (emitter->used + record > emitter->length) {
        emitter->full = true;
        return false;
    }
    struct dirent64 entry;
    char *destination = emitter->buffer + emitter->used;
    memset(destination, 0, record);
    entry.d_ino = inode_number;
    entry.d_off = next_offset;
    entry.d_reclen = (unsigned short)record;
    entry.d_type = (unsigned char)type;
    memcpy(destination, &entry, header);
    memcpy(destination + header, name, name_length);
    emitter->used += record;
    emitter->file->offset = next_offset;
    return true;
}

ssize_t vfs_getdents64(struct vfs_file *file, void *buffer, size_t length)
{
    if (file_is_path_only(file))
        return -EBADF;
    if (!vfs_file_is_directory(file) || !file->ops || !file->ops->iterate)
        return -ENOTDIR;
    if (length > VFS_MAX_RW_COUNT)
        length = VFS_MAX_RW_COUNT;
    struct getdents_emitter emitter = {
        .base = {getdents_emit}, .file = file, .buffer = buffer, .length = length, .used = 0, .full = false};
    struct vfs_dentry *dentry = file->path.dentry;
    if (file->offset == 0) {
        uint64_t inode_number = dentry ? dentry->inode->inode_number : file->inode->inode_number;
        if (!getdents_emit(&emitter.base, ".", inode_number, DT_DIR, 1))
            goto out;
    }
    if (file->offset == 1) {
        struct vfs_dentry *parent = dentry && dentry->parent ? dentry->parent : dentry;
        uint64_t inode_number = parent ? parent->inode->inode_number : file->inode->inode_number;
        if (!getdents_emit(&emitter.base, "..", inode_number, DT_DIR, 2))
            goto out;
    }
    if (dentry && dentry->unlinked)
        goto out; /* a removed directory lists nothing more */
    int error = file->ops->iterate(file, file->offset < 2 ? 2 : file->offset, &emitter.base);
    vfs_inotify_file_event(file, IN_ACCESS);
    if (error < 0 && emitter.used == 0)
        return error;
out:
    if (emitter.used == 0 && emitter.full)
        return -EINVAL;
    return (ssize_t)emitter.used;
}

/* ---- attributes through a file ---- */
/* Changes go through the path's inode when there is one, so that the overlay can copy up. */
static void file_attribute_target(struct vfs_file *file, struct vfs_inode **inode, struct vfs_dentry **dentry)
{
    *dentry = file->path.dentry;
    *inode = *dentry ? (*dentry)->inode : file->inode;
}

int vfs_ftruncate(struct vfs_file *file, off_t length)
{
    if (file_is_path_only(file))
        return -EBADF;
    if (length < 0)
        return -EINVAL;
    if (!vfs_file_writable(file))
        return -EINVAL; /* Linux: EINVAL (not EBADF) when not open for writing */
    if (!S_ISREG(file->inode->mode))
        return -EINVAL;
    struct vfs_inode *inode;
    struct vfs_dentry *dentry;
    file_attribute_target(file, &inode, &dentry);
    return vfs_change_size(inode, dentry, length);
}

int vfs_fsync(struct vfs_file *file)
{
    if (file_is_path_only(file))
        return -EBADF;
    if (file->ops && file->ops->fsync)
        return file->ops->fsync(file);
    if (file->ops && file->ops->stream)
        return -EINVAL;
    return 0;
}

int vfs_fchmod(struct vfs_file *file, const struct vfs_credentials *credentials, uint32_t mode)
{
    if (file_is_path_only(file))
        return -EBADF;
    struct vfs_inode *inode;
    struct vfs_dentry *dentry;
    file_attribute_target(file, &inode, &dentry);
    return vfs_change_mode(inode, dentry, vfs_path_is_read_only(&file->path), credentials, mode);
}

int vfs_fchown(struct vfs_file *file, const struct vfs_credentials *credentials, uint32_t uid, uint32_t gid)
{
    if (file_is_path_only(file))
        return -EBADF;
    struct vfs_inode *inode;
    struct vfs_dentry *dentry;
    file_attribute_target(file, &inode, &dentry);
    return vfs_change_owner(inode, dentry, vfs_path_is_read_only(&file->path), credentials, uid, gid);
}

/* ---- readiness, ioctl, flags ---- */
uint32_t vfs_poll(struct vfs_file *file, struct waiter *waiter)
{
    uint32_t ready;
    if (file_is_path_only(file))
        ready = POLLNVAL;
    else if (file->ops && file->ops->poll)
        ready = file->ops->poll(file);
    else
        ready = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    if (waiter) {
        if (file->ops && file->ops->prepare_wait && !(ready & waiter->events))
            file->ops->prepare_wait(file, waiter->events);
        wait_queue_add(file->queue, waiter);
    }
    return ready;
}

struct wait_queue *vfs_file_wait_queue(struct vfs_file *file) { return file->queue; }

int vfs_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    if (file_is_path_only(file))
        return -EBADF;
    if (command == FIONBIO) {
        if (argument_size < sizeof(int))
            return -EFAULT;
        int enable;
        memcpy(&enable, argument, sizeof(enable));
        file->flags = enable ? (file->flags | O_NONBLOCK) : (file->flags & ~O_NONBLOCK);
        return 0;
    }
    if (command == FIOCLEX || command == FIONCLEX)
        return -ENOTTY; /* the fd table's business: the Sentry handles these before calling here */
    if (file->ops && file->ops->ioctl)
        return file->ops->ioctl(file, command, argument, argument_size);
    if (command == FIONREAD && file->inode && S_ISREG(file->inode->mode)) {
        if (argument_size < sizeof(int))
            return -EFAULT;
        off_t remaining = file_size(file) - file->offset;
        int available = remaining > INT_MAX ? INT_MAX : remaining < 0 ? 0 : (int)remaining;
        memcpy(argument, &available, sizeof(available));
        return 0;
    }
    return -ENOTTY;
}

int vfs_file_status_flags(struct vfs_file *file)
{
    int flags = file->flags;
    if (file->flags & O_PATH)
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    /* Linux reports O_LARGEFILE on 64-bit for every open file */
    return flags | O_LARGEFILE;
}

int vfs_file_set_status_flags(struct vfs_file *file, int flags)
{
    if (file_is_path_only(file))
        return -EBADF;
    /* O_APPEND cannot be cleared on append-only inodes; we have none */
    file->flags = (file->flags & ~VFS_SETFL_MASK) | (flags & VFS_SETFL_MASK);
    return 0;
}

int vfs_file_describe_path(struct vfs_file *file, const struct vfs_context *ctx, struct text_buffer *out)
{
    if (!file->path.dentry) {
        if (file->ops && file->ops->describe)
            file->ops->describe(file, out);
        else if (file->inode && S_ISFIFO(file->inode->mode))
            text_buffer_append(out, "pipe:[%llu]", (unsigned long long)file->inode->inode_number);
        else if (file->inode && S_ISSOCK(file->inode->mode))
            text_buffer_append(out, "socket:[%llu]", (unsigned long long)file->inode->inode_number);
        else
            text_buffer_append(out, "anon_inode:[%llu]",
                               (unsigned long long)(file->inode ? file->inode->inode_number : 0));
        return 0;
    }
    bool unlinked = false;
    int error = vfs_path_describe(&file->path, ctx, out, &unlinked);
    if (error < 0)
        return error;
    if (unlinked)
        text_buffer_append(out, " (deleted)");
    return 0;
}

int vfs_file_path(struct vfs_file *file, struct vfs_path *out)
{
    if (!file->path.dentry || !S_ISDIR(file->path.dentry->inode->mode))
        return -ENOTDIR;
    *out = file->path;
    vfs_path_get(out);
    return 0;
}

/* ---- files whose content is generated at open ---- */
ssize_t vfs_snapshot_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    off_t position = offset ? *offset : file->offset;
    if (position < 0)
        return -EINVAL;
    if ((size_t)position >= file->snapshot.length)
        return 0;
    size_t count = MIN(length, file->snapshot.length - (size_t)position);
    memcpy(buffer, file->snapshot.data + position, count);
    if (offset)
        *offset = position + (off_t)count;
    return (ssize_t)count;
}

const struct vfs_file_operations vfs_snapshot_file_operations = {
    .read = vfs_snapshot_read,
};
