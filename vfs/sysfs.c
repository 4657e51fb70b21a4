/* vfs/sysfs.c: a minimal /sys: the CPU lists programs read to size thread pools (online, possible, present)
 * and an empty /sys/fs/cgroup. A fixed tree; file content is generated at open like procfs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfs/internal.h"

struct sysfs_entry {
    const char *path; /* below /sys */
    uint32_t mode;
};

static const struct sysfs_entry sysfs_entries[] = {
    {"devices", S_IFDIR | 0755},
    {"devices/system", S_IFDIR | 0755},
    {"devices/system/cpu", S_IFDIR | 0755},
    {"devices/system/cpu/online", S_IFREG | 0444},
    {"devices/system/cpu/possible", S_IFREG | 0444},
    {"devices/system/cpu/present", S_IFREG | 0444},
    {"fs", S_IFDIR | 0755},
    {"fs/cgroup", S_IFDIR | 0755},
};

static const struct vfs_inode_operations sysfs_inode_operations;
static const struct vfs_file_operations sysfs_dir_operations;
static void sysfs_evict_inode(struct vfs_inode *inode) { (void)inode; }
static const struct vfs_fs_type sysfs_type = {.name = "sysfs", .evict_inode = sysfs_evict_inode};

/* inode->private_data points at the entry's path (static storage); the root's is "". */
static const char *path_of(struct vfs_inode *inode) { return inode->private_data; }

static struct vfs_inode *sysfs_inode_new(struct vfs_superblock *sb, size_t index)
{
    const struct sysfs_entry *entry = &sysfs_entries[index];
    struct vfs_inode *inode = vfs_inode_new(sb, entry->mode, &sysfs_inode_operations,
                                            S_ISDIR(entry->mode) ? &sysfs_dir_operations : NULL);
    inode->private_data = (void *)entry->path;
    inode->inode_number = index + 2;
    inode->size = S_ISREG(entry->mode) ? 4096 : 0; /* Linux reports a page for sysfs attributes */
    if (S_ISDIR(entry->mode))
        inode->link_count = 2;
    return inode;
}

struct vfs_superblock *vfs_sysfs_new(void)
{
    struct vfs_superblock *sb = vfs_superblock_new(&sysfs_type, 0);
    struct vfs_inode *root = vfs_inode_new(sb, S_IFDIR | 0755, &sysfs_inode_operations, &sysfs_dir_operations);
    root->private_data = (void *)"";
    root->inode_number = 1;
    root->link_count = 2;
    vfs_superblock_set_root(sb, root);
    return sb;
}

static const char *child_name(const char *dir_path, const char *entry_path)
{
    size_t length = strlen(dir_path);
    if (length) {
        if (strncmp(entry_path, dir_path, length) != 0 || entry_path[length] != '/')
            return NULL;
        entry_path += length + 1;
    }
    return strchr(entry_path, '/') ? NULL : entry_path;
}

static int sysfs_lookup(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    for (size_t index = 0; index < ARRAY_SIZE(sysfs_entries); index++) {
        const char *child = child_name(path_of(dir->inode), sysfs_entries[index].path);
        if (child && strcmp(child, name) == 0) {
            *inode_out = sysfs_inode_new(dir->inode->sb, index);
            return 0;
        }
    }
    return -ENOENT;
}

static int sysfs_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter)
{
    int64_t next = 2;
    for (size_t index = 0; index < ARRAY_SIZE(sysfs_entries); index++) {
        const char *child = child_name(path_of(file->inode), sysfs_entries[index].path);
        if (!child)
            continue;
        if (next >= position && !emitter->emit(emitter, child, index + 2,
                                               vfs_mode_to_dirent_type(sysfs_entries[index].mode), next + 1))
            break;
        next++;
    }
    return 0;
}

static int sysfs_open(struct vfs_file *file, const struct vfs_context *ctx)
{
    (void)ctx;
    if (!S_ISREG(file->inode->mode))
        return 0;
    if (vfs_file_writable(file) || (file->flags & O_TRUNC))
        return -EACCES;
    long cores = host_cpu_count();
    if (cores < 1)
        cores = 1;
    file->ops = &vfs_snapshot_file_operations;
    if (cores == 1)
        text_buffer_append(&file->snapshot, "0\n");
    else
        text_buffer_append(&file->snapshot, "0-%ld\n", cores - 1);
    return 0;
}

static const struct vfs_file_operations sysfs_dir_operations = {.iterate = sysfs_iterate};
static const struct vfs_inode_operations sysfs_inode_operations = {
    .lookup = sysfs_lookup,
    .open = sysfs_open,
};
