/* vfs/dirsnap.c: directory listings taken in one go, for file systems whose own positions are not usable as
 * getdents offsets (the Gofer's host cookies) or that merge several directories (the overlay). */
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

void vfs_dir_snapshot_add(struct vfs_dir_snapshot *snapshot, const char *name, uint64_t inode_number, unsigned type)
{
    if (snapshot->count == snapshot->capacity) {
        size_t capacity = snapshot->capacity ? snapshot->capacity * 2 : 32;
        struct vfs_dir_snapshot_entry *entries = xcalloc(capacity, sizeof(*entries));
        if (snapshot->count)
            memcpy(entries, snapshot->entries, snapshot->count * sizeof(*entries));
        free(snapshot->entries);
        snapshot->entries = entries;
        snapshot->capacity = capacity;
    }
    struct vfs_dir_snapshot_entry *entry = &snapshot->entries[snapshot->count++];
    entry->name = xstrdup(name);
    entry->inode_number = inode_number;
    entry->type = type;
}

void vfs_dir_snapshot_free(struct vfs_dir_snapshot *snapshot)
{
    for (size_t index = 0; index < snapshot->count; index++)
        free(snapshot->entries[index].name);
    free(snapshot->entries);
    memset(snapshot, 0, sizeof(*snapshot));
}

struct vfs_dir_snapshot_entry *vfs_dir_snapshot_find(struct vfs_dir_snapshot *snapshot, const char *name)
{
    for (size_t index = 0; index < snapshot->count; index++)
        if (strcmp(snapshot->entries[index].name, name) == 0)
            return &snapshot->entries[index];
    return NULL;
}

int vfs_dir_snapshot_emit(const struct vfs_dir_snapshot *snapshot, int64_t position, struct vfs_dir_emitter *emitter)
{
    for (int64_t index = position - 2; index >= 0 && (size_t)index < snapshot->count; index++) {
        const struct vfs_dir_snapshot_entry *entry = &snapshot->entries[index];
        if (!emitter->emit(emitter, entry->name, entry->inode_number, entry->type, index + 3))
            break;
    }
    return 0;
}

struct collecting_emitter {
    struct vfs_dir_emitter base;
    struct vfs_dir_snapshot *snapshot;
};

int vfs_dir_snapshot_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter,
                             int (*list)(struct vfs_inode *dir, struct vfs_dir_snapshot *out))
{
    struct vfs_dir_snapshot *snapshot = file->private_data;
    if (!snapshot || position <= 2) {
        if (!snapshot)
            snapshot = file->private_data = xcalloc(1, sizeof(*snapshot));
        else
            vfs_dir_snapshot_free(snapshot);
        int error = list(file->inode, snapshot);
        if (error < 0)
            return error;
    }
    return vfs_dir_snapshot_emit(snapshot, position, emitter);
}

void vfs_dir_snapshot_release(struct vfs_file *file)
{
    struct vfs_dir_snapshot *snapshot = file->private_data;
    if (!snapshot)
        return;
    vfs_dir_snapshot_free(snapshot);
    free(snapshot);
    file->private_data = NULL;
}

static bool collect_entry(struct vfs_dir_emitter *base, const char *name, uint64_t inode_number, unsigned type,
                          int64_t next_offset)
{
    (void)next_offset;
    struct collecting_emitter *emitter = CONTAINER_OF(base, struct collecting_emitter, base);
    vfs_dir_snapshot_add(emitter->snapshot, name, inode_number, type);
    return true;
}

int vfs_dir_snapshot_collect(struct vfs_inode *dir, struct vfs_dir_snapshot *out)
{
    if (!S_ISDIR(dir->mode) || !dir->file_ops || !dir->file_ops->iterate)
        return -ENOTDIR;
    struct vfs_file *file = vfs_file_new(NULL, dir, dir->file_ops, O_RDONLY | O_DIRECTORY);
    int error = 0;
    if (dir->ops && dir->ops->open)
        error = dir->ops->open(file, NULL);
    struct collecting_emitter emitter = {.base = {collect_entry}, .snapshot = out};
    if (error == 0)
        error = file->ops->iterate(file, 2, &emitter.base);
    else
        file->ops = NULL;
    vfs_file_put(file);
    return error;
}

void vfs_stand_in_dentry(struct vfs_dentry *dentry, struct vfs_inode *inode, const char *name)
{
    memset(dentry, 0, sizeof(*dentry));
    dentry->refcount = 1;
    dentry->inode = inode;
    dentry->sb = inode ? inode->sb : NULL;
    dentry->name = (char *)name;
}
