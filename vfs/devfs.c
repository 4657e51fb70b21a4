/* vfs/devfs.c: /dev: the memory devices (null, zero, full, random, urandom), the standard symlinks into
 * /proc/self/fd, and empty pts/ and shm/ directories. Built on a tmpfs whose device nodes use these files. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include "vfs/internal.h"

static ssize_t null_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)buffer, (void)length, (void)offset;
    return 0;
}

static ssize_t sink_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)buffer;
    if (offset)
        *offset += (off_t)length;
    return (ssize_t)length;
}

static ssize_t zero_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)offset;
    memset(buffer, 0, length);
    return (ssize_t)length;
}

static ssize_t full_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)buffer, (void)length, (void)offset;
    return -ENOSPC;
}

static ssize_t random_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)offset;
    size_t done = 0;
    while (done < length) {
        ssize_t got = getrandom((char *)buffer + done, length - done, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return done ? (ssize_t)done : -errno;
        }
        done += (size_t)got;
    }
    return (ssize_t)done;
}

static const struct vfs_file_operations null_operations = {.read = null_read, .write = sink_write};
static const struct vfs_file_operations zero_operations = {.read = zero_read, .write = sink_write};
static const struct vfs_file_operations full_operations = {.read = zero_read, .write = full_write};
static const struct vfs_file_operations random_operations = {.read = random_read, .write = sink_write};

const struct vfs_file_operations *vfs_devfs_device_operations(dev_t device)
{
    if (major(device) != 1)
        return NULL; /* no tty, no block devices: opening them gives ENXIO */
    switch (minor(device)) {
    case 3: return &null_operations;
    case 5: return &zero_operations;
    case 7: return &full_operations;
    case 8:
    case 9: return &random_operations;
    default: return NULL;
    }
}

static void devfs_add(struct vfs_dentry *root, const char *name, uint32_t mode, dev_t device, const char *link)
{
    struct vfs_new_inode attributes = {.mode = mode, .uid = 0, .gid = 0, .device = device};
    struct vfs_inode *dir = root->inode;
    struct vfs_inode *inode = NULL;
    int error;
    if (S_ISDIR(mode))
        error = dir->ops->mkdir(root, name, &attributes, &inode);
    else if (S_ISLNK(mode))
        error = dir->ops->symlink(root, name, link, &attributes, &inode);
    else
        error = dir->ops->create(root, name, &attributes, &inode);
    if (error < 0) {
        log_warning("devfs: cannot create %s: %d", name, error);
        return;
    }
    vfs_inode_put(inode);
}

struct vfs_superblock *vfs_devfs_new(void)
{
    struct vfs_superblock *sb = vfs_tmpfs_new(0755, 0, 0);
    struct vfs_dentry *root = sb->root;
    devfs_add(root, "null", S_IFCHR | 0666, makedev(1, 3), NULL);
    devfs_add(root, "zero", S_IFCHR | 0666, makedev(1, 5), NULL);
    devfs_add(root, "full", S_IFCHR | 0666, makedev(1, 7), NULL);
    devfs_add(root, "random", S_IFCHR | 0666, makedev(1, 8), NULL);
    devfs_add(root, "urandom", S_IFCHR | 0666, makedev(1, 9), NULL);
    devfs_add(root, "tty", S_IFCHR | 0666, makedev(5, 0), NULL);
    devfs_add(root, "fd", S_IFLNK | 0777, 0, "/proc/self/fd");
    devfs_add(root, "stdin", S_IFLNK | 0777, 0, "/proc/self/fd/0");
    devfs_add(root, "stdout", S_IFLNK | 0777, 0, "/proc/self/fd/1");
    devfs_add(root, "stderr", S_IFLNK | 0777, 0, "/proc/self/fd/2");
    devfs_add(root, "pts", S_IFDIR | 0755, 0, NULL);
    devfs_add(root, "shm", S_IFDIR | 01777, 0, NULL);
    return sb;
}
