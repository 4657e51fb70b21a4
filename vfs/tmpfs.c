/* vfs/tmpfs.c: the in-memory file system (tmpfs mounts, /dev/shm, the overlay's upper layer): sparse
 * page-backed regular files, directories with stable readdir positions, symlinks, hard links, device nodes
 * and fifos, and rename with Linux's rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

#define TMPFS_BOGO_DIRENT_SIZE 20 /* Linux's tmpfs reports directory sizes in these units */
#define TMPFS_MAX_FILE_SIZE ((off_t)1 << 40) /* sparse files beyond 1 TiB get EFBIG */
#define TMPFS_FIRST_COOKIE 2

struct tmpfs_dirent {
    struct list_node order; /* by cookie: readdir positions survive unlinks of other entries */
    struct name_table_node by_name;
    char *name;
    struct vfs_inode *inode; /* counted */
    int64_t cookie;
};

struct tmpfs_node {
    /* directories */
    struct list_node entries;
    struct name_table names;
    int64_t next_cookie;
    /* regular files */
    struct tmpfs_data data;
    /* symlinks */
    char *link_target;
    /* fifos */
    struct vfs_pipe *fifo;
    bool opaque; /* overlay upper directories only */
};

static const struct vfs_inode_operations tmpfs_inode_operations;
static const struct vfs_file_operations tmpfs_file_operations;
static const struct vfs_file_operations tmpfs_dir_operations;
static void tmpfs_evict_inode(struct vfs_inode *inode);
static const struct vfs_fs_type tmpfs_type = {.name = "tmpfs", .evict_inode = tmpfs_evict_inode};

bool vfs_tmpfs_is_inode(const struct vfs_inode *inode) { return inode->ops == &tmpfs_inode_operations; }

static struct tmpfs_node *node_of(struct vfs_inode *inode) { return inode->private_data; }

void vfs_tmpfs_set_opaque(struct vfs_inode *inode, bool opaque)
{
    if (vfs_tmpfs_is_inode(inode))
        node_of(inode)->opaque = opaque;
}

bool vfs_tmpfs_is_opaque(const struct vfs_inode *inode)
{
    return vfs_tmpfs_is_inode(inode) && ((struct tmpfs_node *)inode->private_data)->opaque;
}

static struct vfs_inode *tmpfs_inode_new(struct vfs_superblock *sb, const struct vfs_new_inode *attributes)
{
    uint32_t mode = attributes->mode;
    const struct vfs_file_operations *file_ops = S_ISDIR(mode) ? &tmpfs_dir_operations
                                                 : S_ISREG(mode) ? &tmpfs_file_operations
                                                                 : NULL;
    struct vfs_inode *inode = vfs_inode_new(sb, mode, &tmpfs_inode_operations, file_ops);
    inode->uid = attributes->uid;
    inode->gid = attributes->gid;
    inode->raw_device = attributes->device;
    struct tmpfs_node *node = xcalloc(1, sizeof(*node));
    list_init(&node->entries);
    vfs_name_table_init(&node->names);
    node->next_cookie = TMPFS_FIRST_COOKIE;
    inode->private_data = node;
    if (S_ISDIR(mode)) {
        inode->link_count = 2;
        inode->size = 2 * TMPFS_BOGO_DIRENT_SIZE;
    }
    return inode;
}

struct vfs_superblock *vfs_tmpfs_new(uint32_t root_mode, uint32_t uid, uint32_t gid)
{
    struct vfs_superblock *sb = vfs_superblock_new(&tmpfs_type, 0);
    struct vfs_new_inode attributes = {.mode = S_IFDIR | (root_mode & 07777), .uid = uid, .gid = gid};
    vfs_superblock_set_root(sb, tmpfs_inode_new(sb, &attributes));
    return sb;
}

/* ---- file data (tmpfs_data.c) ---- */
int vfs_tmpfs_write_data(struct vfs_inode *inode, const void *data, size_t length, off_t offset)
{
    if (!vfs_tmpfs_is_inode(inode) || !S_ISREG(inode->mode))
        return -EINVAL;
    if (offset < 0 || offset + (off_t)length > TMPFS_MAX_FILE_SIZE)
        return -EFBIG;
    int error = tmpfs_data_write(&node_of(inode)->data, data, length, offset);
    if (error < 0)
        return error;
    if (offset + (off_t)length > inode->size)
        inode->size = offset + (off_t)length;
    return 0;
}

static ssize_t tmpfs_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    struct vfs_inode *inode = file->inode;
    off_t position = *offset;
    if (position >= inode->size)
        return 0;
    size_t count = (size_t)MIN((off_t)length, inode->size - position);
    tmpfs_data_read(&node_of(inode)->data, buffer, count, position);
    *offset = position + (off_t)count;
    return (ssize_t)count;
}

static ssize_t tmpfs_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    struct vfs_inode *inode = file->inode;
    off_t position = (file->flags & O_APPEND) ? inode->size : *offset;
    if (length == 0)
        return 0;
    if (position >= TMPFS_MAX_FILE_SIZE)
        return -EFBIG;
    if ((off_t)length > TMPFS_MAX_FILE_SIZE - position)
        length = (size_t)(TMPFS_MAX_FILE_SIZE - position);
    int error = tmpfs_data_write(&node_of(inode)->data, buffer, length, position);
    if (error < 0)
        return error;
    position += (off_t)length;
    if (position > inode->size)
        inode->size = position;
    vfs_inode_touch_modified(inode);
    *offset = position;
    return (ssize_t)length;
}

static int tmpfs_map_pages(struct vfs_file *file, uint64_t offset, uint64_t length, struct vfs_shared_pages *out)
{
    return tmpfs_data_map(&node_of(file->inode)->data, offset, length, out);
}

static const struct vfs_file_operations tmpfs_file_operations = {
    .read = tmpfs_read,
    .write = tmpfs_write,
    .map_pages = tmpfs_map_pages,
};

/* ---- directories ---- */
static struct tmpfs_dirent *dir_find(struct vfs_inode *dir, const char *name)
{
    struct name_table_node *found = vfs_name_table_find(&node_of(dir)->names, name);
    return found ? CONTAINER_OF(found, struct tmpfs_dirent, by_name) : NULL;
}

/* Adds an entry (taking over the inode reference) at the end of the readdir order. */
static void dir_add(struct vfs_inode *dir, const char *name, struct vfs_inode *inode)
{
    struct tmpfs_node *node = node_of(dir);
    struct tmpfs_dirent *entry = xcalloc(1, sizeof(*entry));
    entry->name = xstrdup(name);
    entry->inode = inode;
    entry->cookie = node->next_cookie++;
    list_insert_tail(&node->entries, &entry->order);
    vfs_name_table_insert(&node->names, &entry->by_name, entry->name);
    dir->size += TMPFS_BOGO_DIRENT_SIZE;
    if (S_ISDIR(inode->mode))
        dir->link_count++;
    vfs_inode_touch_modified(dir);
}

/* Removes an entry; returns its inode reference to the caller. */
static struct vfs_inode *dir_remove(struct vfs_inode *dir, struct tmpfs_dirent *entry)
{
    struct tmpfs_node *node = node_of(dir);
    list_remove(&entry->order);
    vfs_name_table_remove(&node->names, &entry->by_name);
    struct vfs_inode *inode = entry->inode;
    dir->size -= TMPFS_BOGO_DIRENT_SIZE;
    if (S_ISDIR(inode->mode))
        dir->link_count--;
    vfs_inode_touch_modified(dir);
    free(entry->name);
    free(entry);
    return inode;
}

static int tmpfs_lookup(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    struct tmpfs_dirent *entry = dir_find(dir->inode, name);
    if (!entry)
        return -ENOENT;
    vfs_inode_get(entry->inode);
    *inode_out = entry->inode;
    return 0;
}

static int tmpfs_make(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                      struct vfs_inode **inode_out)
{
    if (dir_find(dir->inode, name))
        return -EEXIST;
    struct vfs_inode *inode = tmpfs_inode_new(dir->inode->sb, attributes);
    vfs_inode_get(inode);
    dir_add(dir->inode, name, inode);
    *inode_out = inode;
    return 0;
}

static int tmpfs_create(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                        struct vfs_inode **inode_out)
{
    return tmpfs_make(dir, name, attributes, inode_out);
}

static int tmpfs_mkdir(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                       struct vfs_inode **inode_out)
{
    return tmpfs_make(dir, name, attributes, inode_out);
}

static int tmpfs_symlink(struct vfs_dentry *dir, const char *name, const char *target,
                         const struct vfs_new_inode *attributes, struct vfs_inode **inode_out)
{
    int error = tmpfs_make(dir, name, attributes, inode_out);
    if (error < 0)
        return error;
    node_of(*inode_out)->link_target = xstrdup(target);
    (*inode_out)->size = (off_t)strlen(target);
    return 0;
}

static int tmpfs_link(struct vfs_dentry *old, struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    if (dir_find(dir->inode, name))
        return -EEXIST;
    struct vfs_inode *inode = old->inode;
    if (!vfs_tmpfs_is_inode(inode) || inode->sb != dir->inode->sb)
        return -EXDEV;
    inode->link_count++;
    vfs_inode_touch_changed(inode);
    vfs_inode_get(inode);
    dir_add(dir->inode, name, inode);
    vfs_inode_get(inode);
    *inode_out = inode;
    return 0;
}

static bool dir_is_empty(struct vfs_inode *dir) { return list_empty(&node_of(dir)->entries); }

static int tmpfs_unlink(struct vfs_dentry *dir, struct vfs_dentry *victim)
{
    struct tmpfs_dirent *entry = dir_find(dir->inode, victim->name);
    if (!entry || entry->inode != victim->inode)
        return -ENOENT;
    struct vfs_inode *inode = dir_remove(dir->inode, entry);
    inode->link_count--;
    vfs_inode_touch_changed(inode);
    vfs_inode_put(inode);
    return 0;
}

static int tmpfs_rmdir(struct vfs_dentry *dir, struct vfs_dentry *victim)
{
    struct tmpfs_dirent *entry = dir_find(dir->inode, victim->name);
    if (!entry || entry->inode != victim->inode)
        return -ENOENT;
    if (!dir_is_empty(victim->inode))
        return -ENOTEMPTY;
    struct vfs_inode *inode = dir_remove(dir->inode, entry);
    inode->link_count = 0;
    vfs_inode_touch_changed(inode);
    vfs_inode_put(inode);
    return 0;
}

static int tmpfs_rename(struct vfs_dentry *old_dir, struct vfs_dentry *old, struct vfs_dentry *new_dir,
                        const char *new_name, struct vfs_dentry *target, unsigned flags)
{
    struct vfs_inode *old_parent = old_dir->inode, *new_parent = new_dir->inode;
    struct tmpfs_dirent *source_entry = dir_find(old_parent, old->name);
    if (!source_entry || source_entry->inode != old->inode)
        return -ENOENT;
    struct tmpfs_dirent *target_entry = dir_find(new_parent, new_name);
    if (flags & RENAME_EXCHANGE) {
        if (!target_entry || !target)
            return -ENOENT;
        /* the two entries keep their places and trade inodes */
        struct vfs_inode *a = source_entry->inode, *b = target_entry->inode;
        source_entry->inode = b;
        target_entry->inode = a;
        if (old_parent != new_parent && S_ISDIR(a->mode) != S_ISDIR(b->mode)) {
            if (S_ISDIR(a->mode)) {
                old_parent->link_count--;
                new_parent->link_count++;
            } else {
                old_parent->link_count++;
                new_parent->link_count--;
            }
        }
        vfs_inode_touch_modified(old_parent);
        vfs_inode_touch_modified(new_parent);
        vfs_inode_touch_changed(a);
        vfs_inode_touch_changed(b);
        return 0;
    }
    if (target_entry) {
        struct vfs_inode *victim = target_entry->inode;
        if (S_ISDIR(victim->mode)) {
            if (!dir_is_empty(victim))
                return -ENOTEMPTY;
            victim->link_count = 0;
        } else {
            victim->link_count--;
        }
        vfs_inode_touch_changed(victim);
        vfs_inode_put(dir_remove(new_parent, target_entry));
    }
    struct vfs_inode *inode = dir_remove(old_parent, source_entry);
    dir_add(new_parent, new_name, inode);
    vfs_inode_touch_changed(inode);
    return 0;
}

static int tmpfs_readlink(struct vfs_dentry *dentry, const struct vfs_context *ctx, struct text_buffer *out)
{
    (void)ctx;
    const char *target = node_of(dentry->inode)->link_target;
    if (!target)
        return -EINVAL;
    text_buffer_append(out, "%s", target);
    return 0;
}

static int tmpfs_setattr(struct vfs_inode *inode, struct vfs_dentry *dentry, const struct vfs_setattr *attributes)
{
    (void)dentry;
    if (attributes->mask & VFS_ATTR_SIZE) {
        if (!S_ISREG(inode->mode))
            return -EINVAL;
        if (attributes->size > TMPFS_MAX_FILE_SIZE)
            return -EFBIG;
        tmpfs_data_truncate(&node_of(inode)->data, inode->size, attributes->size);
    }
    vfs_inode_apply_setattr(inode, attributes);
    return 0;
}

static int tmpfs_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    vfs_inode_fill_stat(inode, stat_out);
    stat_out->st_blocks = S_ISREG(inode->mode) ? (blkcnt_t)tmpfs_data_blocks(&node_of(inode)->data) : 0;
    return 0;
}

static int tmpfs_open(struct vfs_file *file, const struct vfs_context *ctx)
{
    (void)ctx;
    struct vfs_inode *inode = file->inode;
    switch (inode->mode & S_IFMT) {
    case S_IFCHR:
    case S_IFBLK: {
        const struct vfs_file_operations *ops = S_ISCHR(inode->mode) ? vfs_devfs_device_operations(inode->raw_device)
                                                                     : NULL;
        if (!ops)
            return -ENXIO;
        file->ops = ops;
        return 0;
    }
    case S_IFIFO: {
        struct tmpfs_node *node = node_of(inode);
        if (!node->fifo)
            node->fifo = vfs_pipe_new();
        return vfs_pipe_open_fifo(node->fifo, file);
    }
    case S_IFSOCK: return -ENXIO;
    default: return 0;
    }
}

static int tmpfs_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter)
{
    struct tmpfs_node *node = node_of(file->inode);
    LIST_FOR_EACH(cursor, &node->entries) {
        struct tmpfs_dirent *entry = CONTAINER_OF(cursor, struct tmpfs_dirent, order);
        if (entry->cookie < position)
            continue;
        if (!emitter->emit(emitter, entry->name, entry->inode->inode_number,
                           vfs_mode_to_dirent_type(entry->inode->mode), entry->cookie + 1))
            break;
    }
    return 0;
}

static const struct vfs_file_operations tmpfs_dir_operations = {
    .iterate = tmpfs_iterate,
};

static const struct vfs_inode_operations tmpfs_inode_operations = {
    .lookup = tmpfs_lookup,
    .create = tmpfs_create,
    .mkdir = tmpfs_mkdir,
    .symlink = tmpfs_symlink,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .readlink = tmpfs_readlink,
    .setattr = tmpfs_setattr,
    .getattr = tmpfs_getattr,
    .open = tmpfs_open,
};

static void tmpfs_evict_inode(struct vfs_inode *inode)
{
    struct tmpfs_node *node = node_of(inode);
    if (!node)
        return;
    /* entries of a directory that dies with its file system (an unlinked one is empty) */
    while (!list_empty(&node->entries)) {
        struct tmpfs_dirent *entry = CONTAINER_OF(node->entries.next, struct tmpfs_dirent, order);
        list_remove(&entry->order);
        struct vfs_inode *child = entry->inode;
        free(entry->name);
        free(entry);
        vfs_inode_put(child);
    }
    vfs_name_table_destroy(&node->names);
    tmpfs_data_free(&node->data);
    free(node->link_target);
    if (node->fifo)
        vfs_pipe_put(node->fifo);
    free(node);
    inode->private_data = NULL;
}
