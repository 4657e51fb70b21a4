/* vfs/goferfs.c: the host tree as the Gofer serves it: one fid per inode (walked one component at a time),
 * attributes from the Gofer, file data through host fds the Gofer donates, listings through its readdir, and
 * mutations through its requests. Host device nodes are never opened: they map to devfs devices or ENXIO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfs/internal.h"

struct goferfs {
    struct gofer_client *client;
};

struct gofer_node {
    uint32_t fid;
    int read_fd;  /* O_RDONLY, opened at the first read-only open */
    int write_fd; /* O_RDWR, opened at the first open for writing */
    uint64_t blocks; /* the host's st_blocks: sparse files and symlinks do not follow the size */
    /* A copy of a regular file's data in the memory file, made at its first mmap and shared by every
     * read-only mapping until the file changes (through us, or in size or mtime on the host). */
    struct tmpfs_data cache;
    bool cache_valid;
    off_t cache_size;
    struct timespec cache_mtime;
};

/* Bigger files are mapped by copying just the mapped range, as before the cache. */
#define GOFERFS_CACHE_LIMIT ((off_t)64 << 20)

static void cache_drop(struct gofer_node *node)
{
    tmpfs_data_free(&node->cache);
    node->cache_valid = false;
}

static const struct vfs_inode_operations goferfs_inode_operations;
static const struct vfs_file_operations goferfs_file_operations;
static const struct vfs_file_operations goferfs_dir_operations;

static struct gofer_client *client_of(struct vfs_inode *inode)
{
    return ((struct goferfs *)inode->sb->private_data)->client;
}
static struct gofer_node *node_of(struct vfs_inode *inode) { return inode->private_data; }

static void goferfs_evict_inode(struct vfs_inode *inode)
{
    struct gofer_node *node = node_of(inode);
    if (!node)
        return;
    if (node->read_fd >= 0)
        close(node->read_fd);
    if (node->write_fd >= 0)
        close(node->write_fd);
    cache_drop(node);
    int error = gofer_clunk(client_of(inode), node->fid);
    if (error < 0)
        log_debug("goferfs: clunk of fid %u: %d", node->fid, error);
    free(node);
    inode->private_data = NULL;
}

static void goferfs_kill(struct vfs_superblock *sb) { free(sb->private_data); }

static const struct vfs_fs_type goferfs_type = {
    .name = "9p", .kill = goferfs_kill, .evict_inode = goferfs_evict_inode};

static void apply_attr(struct vfs_inode *inode, const struct gofer_attr *attr)
{
    /* the type never changes under an inode, whatever the host did */
    uint32_t type = inode->mode & S_IFMT;
    inode->mode = (type ? type : (attr->mode & S_IFMT)) | (attr->mode & 07777);
    inode->uid = attr->uid;
    inode->gid = attr->gid;
    inode->link_count = attr->link_count;
    inode->size = (off_t)attr->size;
    inode->raw_device = (dev_t)attr->raw_device;
    inode->atime = attr->access_time;
    inode->mtime = attr->modify_time;
    inode->ctime = attr->change_time;
    inode->inode_number = attr->inode;
    ((struct gofer_node *)inode->private_data)->blocks = attr->blocks;
}

static struct vfs_inode *gofer_inode_new(struct vfs_superblock *sb, uint32_t fid, const struct gofer_attr *attr)
{
    uint32_t type = attr->mode & S_IFMT;
    const struct vfs_file_operations *file_ops = type == S_IFDIR   ? &goferfs_dir_operations
                                                 : type == S_IFREG ? &goferfs_file_operations
                                                                   : NULL;
    struct vfs_inode *inode = vfs_inode_new(sb, attr->mode, &goferfs_inode_operations, file_ops);
    struct gofer_node *node = xcalloc(1, sizeof(*node));
    node->fid = fid;
    node->read_fd = node->write_fd = -1;
    inode->private_data = node;
    apply_attr(inode, attr);
    return inode;
}

struct vfs_superblock *vfs_goferfs_new(struct gofer_client *client, uint32_t root_fid, const struct gofer_attr *root_attr,
                                   bool read_only)
{
    struct vfs_superblock *sb = vfs_superblock_new(&goferfs_type, VFS_SB_BOUNDED_DENTRY_CACHE | (read_only ? VFS_SB_READ_ONLY : 0));
    struct goferfs *fs = xcalloc(1, sizeof(*fs));
    fs->client = client;
    sb->private_data = fs;
    vfs_superblock_set_root(sb, gofer_inode_new(sb, root_fid, root_attr));
    return sb;
}

/* ---- names ---- */
static int goferfs_lookup(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    uint32_t fid;
    struct gofer_attr attr;
    int error = gofer_walk(client_of(dir->inode), node_of(dir->inode)->fid, name, &fid, &attr);
    if (error < 0)
        return error;
    *inode_out = gofer_inode_new(dir->inode->sb, fid, &attr);
    return 0;
}

/* After a creation the Gofer knows the new name; walking to it gives the inode its own fid. */
static int walk_new(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    int error = goferfs_lookup(dir, name, inode_out);
    if (error == 0)
        vfs_inode_touch_modified(dir->inode);
    return error;
}

static int goferfs_create(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                          struct vfs_inode **inode_out)
{
    if (!S_ISREG(attributes->mode))
        return -EPERM; /* the Gofer makes no device nodes, fifos or sockets on the host */
    uint32_t fid;
    struct gofer_attr attr;
    int fd = -1;
    int error = gofer_create(client_of(dir->inode), node_of(dir->inode)->fid, name, O_RDWR, attributes->mode & 07777,
                             attributes->uid, attributes->gid, &fid, &attr, &fd);
    if (error < 0)
        return error;
    struct vfs_inode *inode = gofer_inode_new(dir->inode->sb, fid, &attr);
    node_of(inode)->write_fd = fd;
    vfs_inode_touch_modified(dir->inode);
    *inode_out = inode;
    return 0;
}

static int goferfs_mkdir(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                         struct vfs_inode **inode_out)
{
    struct gofer_attr attr;
    int error = gofer_mkdir(client_of(dir->inode), node_of(dir->inode)->fid, name, attributes->mode & 07777,
                            attributes->uid, attributes->gid, &attr);
    if (error < 0)
        return error;
    dir->inode->link_count++;
    return walk_new(dir, name, inode_out);
}

static int goferfs_symlink(struct vfs_dentry *dir, const char *name, const char *target,
                           const struct vfs_new_inode *attributes, struct vfs_inode **inode_out)
{
    struct gofer_attr attr;
    int error = gofer_symlink(client_of(dir->inode), node_of(dir->inode)->fid, name, target, attributes->uid,
                              attributes->gid, &attr);
    if (error < 0)
        return error;
    return walk_new(dir, name, inode_out);
}

static int goferfs_link(struct vfs_dentry *old, struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    if (old->inode->ops != &goferfs_inode_operations || old->inode->sb != dir->inode->sb)
        return -EXDEV;
    int error = gofer_link(client_of(dir->inode), node_of(dir->inode)->fid, name, node_of(old->inode)->fid);
    if (error < 0)
        return error;
    old->inode->link_count++;
    vfs_inode_touch_changed(old->inode);
    return walk_new(dir, name, inode_out);
}

static int goferfs_remove(struct vfs_dentry *dir, struct vfs_dentry *victim, int flags)
{
    int error = gofer_unlink(client_of(dir->inode), node_of(dir->inode)->fid, victim->name, flags);
    if (error < 0)
        return error;
    if (flags & AT_REMOVEDIR) {
        victim->inode->link_count = 0;
        dir->inode->link_count--;
    } else if (victim->inode->link_count > 0) {
        victim->inode->link_count--;
    }
    vfs_inode_touch_changed(victim->inode);
    vfs_inode_touch_modified(dir->inode);
    return 0;
}

static int goferfs_unlink(struct vfs_dentry *dir, struct vfs_dentry *victim) { return goferfs_remove(dir, victim, 0); }

static int goferfs_rmdir(struct vfs_dentry *dir, struct vfs_dentry *victim)
{
    return goferfs_remove(dir, victim, AT_REMOVEDIR);
}

static int goferfs_rename(struct vfs_dentry *old_dir, struct vfs_dentry *old, struct vfs_dentry *new_dir,
                          const char *new_name, struct vfs_dentry *target, unsigned flags)
{
    (void)target;
    if (flags & RENAME_EXCHANGE)
        return -EINVAL; /* the Gofer's rename has no flags: like a file system without exchange support */
    int error = gofer_rename(client_of(old_dir->inode), node_of(old_dir->inode)->fid, old->name,
                             node_of(new_dir->inode)->fid, new_name);
    if (error < 0)
        return error;
    if (target && target->inode->link_count > 0)
        target->inode->link_count = S_ISDIR(target->inode->mode) ? 0 : target->inode->link_count - 1;
    if (S_ISDIR(old->inode->mode) && old_dir->inode != new_dir->inode) {
        old_dir->inode->link_count--;
        if (!target)
            new_dir->inode->link_count++;
    }
    vfs_inode_touch_modified(old_dir->inode);
    vfs_inode_touch_modified(new_dir->inode);
    return 0;
}

static int goferfs_readlink(struct vfs_dentry *dentry, const struct vfs_context *ctx, struct text_buffer *out)
{
    (void)ctx;
    char *target = xcalloc(1, VFS_PATH_MAX);
    ssize_t length = gofer_readlink(client_of(dentry->inode), node_of(dentry->inode)->fid, target, VFS_PATH_MAX);
    if (length >= 0)
        text_buffer_append_bytes(out, target, (size_t)length);
    free(target);
    return length < 0 ? (int)length : 0;
}

/* ---- attributes ---- */
static int refresh(struct vfs_inode *inode)
{
    struct gofer_node *node = node_of(inode);
    int fd = node->write_fd >= 0 ? node->write_fd : node->read_fd;
    if (fd >= 0) {
        /* an open host fd answers without a round trip to the Gofer */
        struct stat host;
        if (fstat(fd, &host) == 0) {
            inode->size = host.st_size;
            inode->link_count = host.st_nlink;
            inode->mode = (inode->mode & S_IFMT) | (host.st_mode & 07777);
            inode->uid = host.st_uid;
            inode->gid = host.st_gid;
            inode->atime = host.st_atim;
            inode->mtime = host.st_mtim;
            node->blocks = (uint64_t)host.st_blocks;
            inode->ctime = host.st_ctim;
            return 0;
        }
    }
    struct gofer_attr attr;
    int error = gofer_getattr(client_of(inode), node->fid, &attr);
    if (error < 0)
        return error;
    apply_attr(inode, &attr);
    return 0;
}

static int goferfs_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    /* an overlay's lower tree is never changed through us: the attributes from the walk stay good */
    int error = (inode->sb->flags & VFS_SB_READ_ONLY) ? 0 : refresh(inode);
    if (error < 0)
        return error;
    vfs_inode_fill_stat(inode, stat_out);
    stat_out->st_blocks = (blkcnt_t)node_of(inode)->blocks;
    return 0;
}

static int goferfs_setattr(struct vfs_inode *inode, struct vfs_dentry *dentry, const struct vfs_setattr *attributes)
{
    (void)dentry;
    struct gofer_setattr changes = {0};
    if (attributes->mask & VFS_ATTR_MODE) {
        changes.mask |= GOFER_SETATTR_MODE;
        changes.mode = attributes->mode & 07777;
    }
    if (attributes->mask & VFS_ATTR_UID) {
        changes.mask |= GOFER_SETATTR_UID;
        changes.uid = attributes->uid;
    }
    if (attributes->mask & VFS_ATTR_GID) {
        changes.mask |= GOFER_SETATTR_GID;
        changes.gid = attributes->gid;
    }
    if (attributes->mask & VFS_ATTR_SIZE) {
        changes.mask |= GOFER_SETATTR_SIZE;
        changes.size = (uint64_t)attributes->size;
    }
    if (attributes->mask & VFS_ATTR_ATIME) {
        changes.mask |= GOFER_SETATTR_ACCESS_TIME;
        changes.access_time = attributes->atime;
    }
    if (attributes->mask & VFS_ATTR_MTIME) {
        changes.mask |= GOFER_SETATTR_MODIFY_TIME;
        changes.modify_time = attributes->mtime;
    }
    if (changes.mask) {
        if (changes.mask & GOFER_SETATTR_SIZE)
            cache_drop(node_of(inode));
        int error = gofer_setattr(client_of(inode), node_of(inode)->fid, &changes);
        if (error < 0)
            return error;
    }
    return refresh(inode);
}

/* ---- open files ---- */
static int host_fd_for(struct vfs_inode *inode, bool write, int *fd_out)
{
    struct gofer_node *node = node_of(inode);
    int *slot = write ? &node->write_fd : &node->read_fd;
    if (*slot < 0) {
        int fd = -1;
        int error = gofer_open(client_of(inode), node->fid, write ? O_RDWR : O_RDONLY, &fd);
        if (error < 0)
            return error;
        *slot = fd;
    }
    *fd_out = *slot;
    return 0;
}

static int goferfs_open(struct vfs_file *file, const struct vfs_context *ctx)
{
    (void)ctx;
    struct vfs_inode *inode = file->inode;
    switch (inode->mode & S_IFMT) {
    case S_IFREG: {
        int fd;
        if (vfs_file_writable(file))
            return host_fd_for(inode, true, &fd);
        return host_fd_for(inode, false, &fd);
    }
    case S_IFDIR: return 0;
    case S_IFCHR: {
        const struct vfs_file_operations *ops = vfs_devfs_device_operations(inode->raw_device);
        if (!ops)
            return -ENXIO;
        file->ops = ops;
        return 0;
    }
    default: return -ENXIO; /* host fifos, sockets and block devices stay out of reach */
    }
}

static int data_fd(struct vfs_file *file, bool write)
{
    struct gofer_node *node = node_of(file->inode);
    if (write)
        return node->write_fd;
    return node->read_fd >= 0 ? node->read_fd : node->write_fd;
}

static ssize_t goferfs_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    int fd = data_fd(file, false);
    if (fd < 0)
        return -EBADF;
    for (;;) {
        ssize_t got = pread(fd, buffer, length, *offset);
        if (got >= 0) {
            *offset += got;
            return got;
        }
        if (errno != EINTR)
            return -errno;
    }
}

static ssize_t goferfs_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    int fd = data_fd(file, true);
    if (fd < 0)
        return -EBADF;
    off_t position = *offset;
    if (file->flags & O_APPEND) {
        struct stat host;
        if (fstat(fd, &host) < 0)
            return -errno;
        position = host.st_size;
    }
    cache_drop(node_of(file->inode));
    for (;;) {
        ssize_t written = pwrite(fd, buffer, length, position);
        if (written >= 0) {
            *offset = position + written;
            if (*offset > file->inode->size)
                file->inode->size = *offset;
            vfs_inode_touch_modified(file->inode);
            return written;
        }
        if (errno != EINTR)
            return -errno;
    }
}

static int goferfs_fsync(struct vfs_file *file)
{
    int fd = data_fd(file, vfs_file_writable(file));
    if (fd >= 0 && fsync(fd) < 0)
        return -errno;
    return 0;
}

static int cache_fill(struct gofer_node *node, int fd, const struct stat *host)
{
    struct vfs_shared_pages whole = {0};
    int error = host->st_size > 0 ? tmpfs_data_map(&node->cache, 0, (uint64_t)host->st_size, &whole) : 0;
    uint64_t position = 0;
    for (size_t i = 0; i < whole.count && error == 0; i++) {
        const struct vfs_shared_piece *piece = &whole.pieces[i];
        uint8_t *memory = memory_at(piece->region->offset + piece->region_offset);
        for (uint64_t done = 0; done < piece->length && error == 0;) {
            ssize_t got = pread(fd, memory + done, piece->length - done, (off_t)(position + done));
            if (got < 0 && errno != EINTR)
                error = -errno;
            else if (got == 0)
                break; /* the file shrank meanwhile: the rest reads as zeros */
            else if (got > 0)
                done += (uint64_t)got;
        }
        position += piece->length;
    }
    vfs_shared_pages_release(&whole);
    if (error < 0) {
        cache_drop(node);
        return error;
    }
    node->cache_valid = true;
    node->cache_size = host->st_size;
    node->cache_mtime = host->st_mtim;
    return 0;
}

static int goferfs_map_pages(struct vfs_file *file, uint64_t offset, uint64_t length, struct vfs_shared_pages *out)
{
    struct gofer_node *node = node_of(file->inode);
    int fd = data_fd(file, false);
    struct stat host;
    if (fd < 0 || fstat(fd, &host) < 0 || !S_ISREG(host.st_mode) || host.st_size > GOFERFS_CACHE_LIMIT)
        return -ENODEV;
    if (node->cache_valid && (host.st_size != node->cache_size || host.st_mtim.tv_sec != node->cache_mtime.tv_sec ||
                              host.st_mtim.tv_nsec != node->cache_mtime.tv_nsec))
        cache_drop(node);
    int error = node->cache_valid ? 0 : cache_fill(node, fd, &host);
    if (error == 0)
        error = tmpfs_data_map(&node->cache, offset, length, out);
    out->writes_reach_file = false;
    return error;
}

static const struct vfs_file_operations goferfs_file_operations = {
    .read = goferfs_read,
    .write = goferfs_write,
    .fsync = goferfs_fsync,
    .map_pages = goferfs_map_pages,
};

/* ---- directories ---- */
static int read_listing(struct vfs_inode *dir, struct vfs_dir_snapshot *snapshot)
{
    enum { BATCH = 64 };
    struct gofer_dirent *entries = xcalloc(BATCH, sizeof(*entries));
    uint64_t cookie = 0;
    int error = 0;
    for (;;) {
        size_t count = 0;
        error = gofer_readdir(client_of(dir), node_of(dir)->fid, cookie, entries, BATCH, &count);
        if (error < 0 || count == 0)
            break;
        for (size_t index = 0; index < count; index++) {
            const char *name = entries[index].name;
            if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
                vfs_dir_snapshot_add(snapshot, name, entries[index].inode, entries[index].type);
        }
        cookie = entries[count - 1].next_cookie;
    }
    free(entries);
    return error;
}

static int goferfs_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter)
{
    return vfs_dir_snapshot_iterate(file, position, emitter, read_listing);
}

static const struct vfs_file_operations goferfs_dir_operations = {
    .iterate = goferfs_iterate,
    .release = vfs_dir_snapshot_release,
};

static const struct vfs_inode_operations goferfs_inode_operations = {
    .lookup = goferfs_lookup,
    .create = goferfs_create,
    .mkdir = goferfs_mkdir,
    .symlink = goferfs_symlink,
    .link = goferfs_link,
    .unlink = goferfs_unlink,
    .rmdir = goferfs_rmdir,
    .rename = goferfs_rename,
    .readlink = goferfs_readlink,
    .setattr = goferfs_setattr,
    .getattr = goferfs_getattr,
    .open = goferfs_open,
};
