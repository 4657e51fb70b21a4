/* vfs/overlay.c: the overlay root: a read-only lower tree (the Gofer's) under an in-memory tmpfs upper tree.
 * Lookups look up then down, deletions of lower names leave whiteouts (0:0 character devices in the upper),
 * recreated directories become opaque, anything modified is copied up first, and listings merge both layers.
 * Like Linux's overlayfs without redirect_dir, renaming a directory that exists in the lower layer gives
 * EXDEV (programs such as mv then copy and delete). The host is never modified through the overlay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

/* Upper-only inodes get numbers from a range host file systems do not hand out in practice. */
#define OVERLAY_UPPER_INODE_BASE (1ULL << 48)
#define OVERLAY_COPY_CHUNK (64 * 1024)

struct overlay_fs {
    struct vfs_superblock *upper, *lower;
};

struct overlay_node {
    struct vfs_inode *upper; /* counted; NULL until copied up */
    struct vfs_inode *lower; /* counted; NULL for names that exist only in the upper layer */
};

static const struct vfs_inode_operations overlay_inode_operations;
static const struct vfs_file_operations overlay_dir_operations;

static struct overlay_node *node_of(struct vfs_inode *inode) { return inode->private_data; }
static struct vfs_inode *real_inode(struct vfs_inode *inode)
{
    struct overlay_node *node = node_of(inode);
    return node->upper ? node->upper : node->lower;
}

static bool is_whiteout(const struct vfs_inode *inode)
{
    return S_ISCHR(inode->mode) && inode->raw_device == VFS_WHITEOUT_DEVICE;
}

static void overlay_evict_inode(struct vfs_inode *inode)
{
    struct overlay_node *node = node_of(inode);
    if (!node)
        return;
    vfs_inode_put(node->upper);
    vfs_inode_put(node->lower);
    free(node);
    inode->private_data = NULL;
}

static void overlay_kill(struct vfs_superblock *sb)
{
    struct overlay_fs *fs = sb->private_data;
    vfs_superblock_put(fs->upper);
    vfs_superblock_put(fs->lower);
    free(fs);
}

static const struct vfs_fs_type overlay_type = {
    .name = "overlay", .kill = overlay_kill, .evict_inode = overlay_evict_inode};

/* The overlay inode shows its real inode's attributes; the number stays the lower one across copy-up. */
static void sync_attributes(struct vfs_inode *inode)
{
    struct overlay_node *node = node_of(inode);
    struct vfs_inode *real = real_inode(inode);
    inode->mode = real->mode;
    inode->uid = real->uid;
    inode->gid = real->gid;
    inode->link_count = real->link_count;
    inode->size = real->size;
    inode->raw_device = real->raw_device;
    inode->atime = real->atime;
    inode->mtime = real->mtime;
    inode->ctime = real->ctime;
    inode->inode_number = node->lower ? node->lower->inode_number
                                      : (OVERLAY_UPPER_INODE_BASE | node->upper->inode_number);
}

/* Takes over the references on upper and lower. */
static struct vfs_inode *overlay_inode_new(struct vfs_superblock *sb, struct vfs_inode *upper,
                                           struct vfs_inode *lower)
{
    struct vfs_inode *real = upper ? upper : lower;
    struct vfs_inode *inode = vfs_inode_new(sb, real->mode, &overlay_inode_operations,
                                            S_ISDIR(real->mode) ? &overlay_dir_operations : real->file_ops);
    struct overlay_node *node = xcalloc(1, sizeof(*node));
    node->upper = upper;
    node->lower = lower;
    inode->private_data = node;
    sync_attributes(inode);
    return inode;
}

struct vfs_superblock *vfs_overlay_new(struct vfs_superblock *upper, struct vfs_superblock *lower)
{
    /* the overlay's dentries hold lower inodes, hence Gofer fids: their cache is bounded */
    struct vfs_superblock *sb = vfs_superblock_new(&overlay_type, VFS_SB_BOUNDED_DENTRY_CACHE);
    struct overlay_fs *fs = xcalloc(1, sizeof(*fs));
    fs->upper = upper;
    fs->lower = lower;
    vfs_superblock_get(upper);
    vfs_superblock_get(lower);
    sb->private_data = fs;
    struct vfs_inode *upper_root = upper->root->inode, *lower_root = lower->root->inode;
    vfs_inode_get(upper_root);
    vfs_inode_get(lower_root);
    vfs_superblock_set_root(sb, overlay_inode_new(sb, upper_root, lower_root));
    return sb;
}

/* ---- calls into one layer ---- */
static int layer_lookup(struct vfs_inode *dir, const char *name, struct vfs_inode **inode_out)
{
    struct vfs_dentry stand_in;
    vfs_stand_in_dentry(&stand_in, dir, "");
    if (!dir->ops || !dir->ops->lookup)
        return -ENOENT;
    return dir->ops->lookup(&stand_in, name, inode_out);
}

static int upper_make(struct vfs_inode *dir, const char *name, const struct vfs_new_inode *attributes,
                      const char *link_target, struct vfs_inode **inode_out)
{
    struct vfs_dentry stand_in;
    vfs_stand_in_dentry(&stand_in, dir, "");
    if (S_ISDIR(attributes->mode))
        return dir->ops->mkdir(&stand_in, name, attributes, inode_out);
    if (S_ISLNK(attributes->mode))
        return dir->ops->symlink(&stand_in, name, link_target, attributes, inode_out);
    return dir->ops->create(&stand_in, name, attributes, inode_out);
}

static int upper_remove(struct vfs_inode *dir, struct vfs_inode *victim, const char *name)
{
    struct vfs_dentry dir_stand_in, victim_stand_in;
    vfs_stand_in_dentry(&dir_stand_in, dir, "");
    vfs_stand_in_dentry(&victim_stand_in, victim, name);
    if (S_ISDIR(victim->mode))
        return dir->ops->rmdir(&dir_stand_in, &victim_stand_in);
    return dir->ops->unlink(&dir_stand_in, &victim_stand_in);
}

static int make_whiteout(struct vfs_inode *upper_dir, const char *name)
{
    struct vfs_new_inode attributes = {.mode = S_IFCHR, .device = VFS_WHITEOUT_DEVICE};
    struct vfs_inode *whiteout = NULL;
    int error = upper_make(upper_dir, name, &attributes, NULL, &whiteout);
    if (error == 0)
        vfs_inode_put(whiteout);
    return error;
}

/* Does the lower layer show something at name in this merged directory? Then removing or moving the upper
 * entry must leave a whiteout, or the lower one would reappear (also for names recreated after a deletion). */
static bool lower_has(struct vfs_inode *dir, const char *name)
{
    struct overlay_node *node = node_of(dir);
    if (!node->lower || (node->upper && vfs_tmpfs_is_opaque(node->upper)))
        return false;
    struct vfs_inode *lower = NULL;
    if (layer_lookup(node->lower, name, &lower) < 0)
        return false;
    vfs_inode_put(lower);
    return true;
}

/* Removes a whiteout at name in the upper directory; true when there was one (a deleted lower name). */
static bool clear_whiteout(struct vfs_inode *upper_dir, const char *name)
{
    struct vfs_inode *existing = NULL;
    if (layer_lookup(upper_dir, name, &existing) < 0)
        return false;
    bool whiteout = is_whiteout(existing);
    if (whiteout && upper_remove(upper_dir, existing, name) < 0)
        whiteout = false;
    vfs_inode_put(existing);
    return whiteout;
}

/* Empties an upper directory of the whiteouts it holds, before it is removed or replaced. */
static int clear_upper_directory(struct vfs_inode *upper_dir)
{
    struct vfs_dir_snapshot listing = {0};
    int error = vfs_dir_snapshot_collect(upper_dir, &listing);
    for (size_t index = 0; error == 0 && index < listing.count; index++) {
        struct vfs_inode *child = NULL;
        error = layer_lookup(upper_dir, listing.entries[index].name, &child);
        if (error < 0)
            break;
        error = is_whiteout(child) ? upper_remove(upper_dir, child, listing.entries[index].name) : -ENOTEMPTY;
        vfs_inode_put(child);
    }
    vfs_dir_snapshot_free(&listing);
    return error;
}

/* ---- copy-up ---- */
static int copy_data(struct vfs_inode *lower, struct vfs_inode *upper)
{
    struct vfs_file *source = vfs_file_new(NULL, lower, lower->file_ops, O_RDONLY);
    int error = lower->ops && lower->ops->open ? lower->ops->open(source, NULL) : 0;
    if (error < 0 || !source->ops || !source->ops->read) {
        source->ops = NULL;
        vfs_file_put(source);
        return error < 0 ? error : -EIO;
    }
    char *buffer = xcalloc(1, OVERLAY_COPY_CHUNK);
    off_t offset = 0;
    for (;;) {
        off_t position = offset;
        ssize_t got = source->ops->read(source, buffer, OVERLAY_COPY_CHUNK, &offset);
        if (got < 0) {
            error = (int)got;
            break;
        }
        if (got == 0)
            break;
        error = vfs_tmpfs_write_data(upper, buffer, (size_t)got, position);
        if (error < 0)
            break;
    }
    free(buffer);
    vfs_file_put(source);
    return error;
}

static int copy_up(struct vfs_dentry *dentry)
{
    struct overlay_node *node = node_of(dentry->inode);
    if (node->upper)
        return 0;
    if (!dentry->parent)
        return -EIO; /* the root always has its upper directory */
    int error = copy_up(dentry->parent);
    if (error < 0)
        return error;
    struct vfs_inode *upper_dir = node_of(dentry->parent->inode)->upper;
    struct vfs_inode *lower = node->lower;
    struct vfs_new_inode attributes = {
        .mode = lower->mode, .uid = lower->uid, .gid = lower->gid, .device = lower->raw_device};
    struct text_buffer target = {0};
    if (S_ISLNK(lower->mode)) {
        struct vfs_dentry stand_in;
        vfs_stand_in_dentry(&stand_in, lower, dentry->name);
        error = lower->ops->readlink(&stand_in, NULL, &target);
        if (error < 0) {
            text_buffer_free(&target);
            return error;
        }
    }
    struct vfs_inode *upper = NULL;
    error = upper_make(upper_dir, dentry->name, &attributes, target.data ? target.data : "", &upper);
    text_buffer_free(&target);
    if (error < 0)
        return error;
    if (S_ISREG(lower->mode) && (error = copy_data(lower, upper)) < 0) {
        upper_remove(upper_dir, upper, dentry->name);
        vfs_inode_put(upper);
        return error;
    }
    struct vfs_setattr times = {.mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME,
                                .atime = lower->atime, .mtime = lower->mtime};
    upper->ops->setattr(upper, NULL, &times);
    node->upper = upper;
    sync_attributes(dentry->inode);
    return 0;
}

/* ---- directory operations ---- */
static int overlay_lookup(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    struct overlay_node *parent = node_of(dir->inode);
    struct vfs_inode *upper = NULL, *lower = NULL;
    int error;
    if (parent->upper) {
        error = layer_lookup(parent->upper, name, &upper);
        if (error < 0 && error != -ENOENT)
            return error;
        if (upper && is_whiteout(upper)) {
            vfs_inode_put(upper);
            return -ENOENT;
        }
    }
    bool look_below = parent->lower && !(parent->upper && vfs_tmpfs_is_opaque(parent->upper)) &&
                      !(upper && (!S_ISDIR(upper->mode) || vfs_tmpfs_is_opaque(upper)));
    if (look_below) {
        error = layer_lookup(parent->lower, name, &lower);
        if (error < 0 && error != -ENOENT) {
            vfs_inode_put(upper);
            return error;
        }
        if (upper && lower && !S_ISDIR(lower->mode)) {
            vfs_inode_put(lower); /* an upper directory hides a lower non-directory */
            lower = NULL;
        }
    }
    if (!upper && !lower)
        return -ENOENT;
    *inode_out = overlay_inode_new(dir->inode->sb, upper, lower);
    return 0;
}

static int create_in_upper(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                           const char *link_target, struct vfs_inode **inode_out)
{
    int error = copy_up(dir);
    if (error < 0)
        return error;
    struct vfs_inode *upper_dir = node_of(dir->inode)->upper;
    bool replaced_lower = clear_whiteout(upper_dir, name);
    struct vfs_inode *upper = NULL;
    error = upper_make(upper_dir, name, attributes, link_target, &upper);
    if (error < 0) {
        if (replaced_lower)
            make_whiteout(upper_dir, name);
        return error;
    }
    /* a directory made where a lower one was deleted must not show the old content */
    if (replaced_lower && S_ISDIR(upper->mode))
        vfs_tmpfs_set_opaque(upper, true);
    sync_attributes(dir->inode);
    *inode_out = overlay_inode_new(dir->inode->sb, upper, NULL);
    return 0;
}

static int overlay_create(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                          struct vfs_inode **inode_out)
{
    if (S_ISCHR(attributes->mode) && attributes->device == VFS_WHITEOUT_DEVICE)
        return -EPERM; /* whiteouts are the overlay's own markers */
    return create_in_upper(dir, name, attributes, NULL, inode_out);
}

static int overlay_mkdir(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                         struct vfs_inode **inode_out)
{
    return create_in_upper(dir, name, attributes, NULL, inode_out);
}

static int overlay_symlink(struct vfs_dentry *dir, const char *name, const char *target,
                           const struct vfs_new_inode *attributes, struct vfs_inode **inode_out)
{
    return create_in_upper(dir, name, attributes, target, inode_out);
}

static int overlay_link(struct vfs_dentry *old, struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    if (old->inode->ops != &overlay_inode_operations)
        return -EXDEV;
    int error = copy_up(old);
    if (error == 0)
        error = copy_up(dir);
    if (error < 0)
        return error;
    struct vfs_inode *upper_dir = node_of(dir->inode)->upper;
    bool replaced_lower = clear_whiteout(upper_dir, name);
    struct vfs_dentry old_stand_in, dir_stand_in;
    vfs_stand_in_dentry(&old_stand_in, node_of(old->inode)->upper, old->name);
    vfs_stand_in_dentry(&dir_stand_in, upper_dir, "");
    struct vfs_inode *linked = NULL;
    error = upper_dir->ops->link(&old_stand_in, &dir_stand_in, name, &linked);
    if (error < 0) {
        if (replaced_lower)
            make_whiteout(upper_dir, name);
        return error;
    }
    vfs_inode_put(linked);
    sync_attributes(old->inode);
    sync_attributes(dir->inode);
    vfs_inode_get(old->inode);
    *inode_out = old->inode; /* both names share one overlay inode, as they share one upper inode */
    return 0;
}

/* The names a merged directory shows: upper entries that are not whiteouts, then lower entries the upper
 * neither has nor whites out (none when the upper directory is opaque). */
static int merged_listing(struct vfs_inode *dir, struct vfs_dir_snapshot *out)
{
    struct overlay_node *node = node_of(dir);
    struct vfs_dir_snapshot upper = {0}, lower = {0};
    int error = 0;
    if (node->upper)
        error = vfs_dir_snapshot_collect(node->upper, &upper);
    for (size_t index = 0; error == 0 && index < upper.count; index++) {
        struct vfs_dir_snapshot_entry *entry = &upper.entries[index];
        if (entry->type == DT_CHR) {
            struct vfs_inode *child = NULL;
            if (layer_lookup(node->upper, entry->name, &child) == 0) {
                bool whiteout = is_whiteout(child);
                vfs_inode_put(child);
                if (whiteout)
                    continue;
            }
        }
        vfs_dir_snapshot_add(out, entry->name, OVERLAY_UPPER_INODE_BASE | entry->inode_number, entry->type);
    }
    bool opaque = node->upper && vfs_tmpfs_is_opaque(node->upper);
    if (error == 0 && node->lower && !opaque)
        error = vfs_dir_snapshot_collect(node->lower, &lower);
    for (size_t index = 0; error == 0 && index < lower.count; index++) {
        struct vfs_dir_snapshot_entry *entry = &lower.entries[index];
        if (vfs_dir_snapshot_find(&upper, entry->name)) {
            /* copied up: it keeps its lower inode number, as stat reports it */
            struct vfs_dir_snapshot_entry *shown = vfs_dir_snapshot_find(out, entry->name);
            if (shown && (shown->type != DT_DIR || entry->type == DT_DIR))
                shown->inode_number = entry->inode_number;
            continue;
        }
        vfs_dir_snapshot_add(out, entry->name, entry->inode_number, entry->type);
    }
    vfs_dir_snapshot_free(&upper);
    vfs_dir_snapshot_free(&lower);
    return error;
}

static int overlay_unlink(struct vfs_dentry *dir, struct vfs_dentry *victim)
{
    int error = copy_up(dir);
    if (error < 0)
        return error;
    struct vfs_inode *upper_dir = node_of(dir->inode)->upper;
    struct overlay_node *node = node_of(victim->inode);
    if (node->upper && (error = upper_remove(upper_dir, node->upper, victim->name)) < 0)
        return error;
    if (lower_has(dir->inode, victim->name) && (error = make_whiteout(upper_dir, victim->name)) < 0)
        return error;
    sync_attributes(victim->inode);
    if (!node->upper || node->upper->link_count == 0)
        victim->inode->link_count = 0;
    sync_attributes(dir->inode);
    return 0;
}

static int overlay_rmdir(struct vfs_dentry *dir, struct vfs_dentry *victim)
{
    struct vfs_dir_snapshot listing = {0};
    int error = merged_listing(victim->inode, &listing);
    bool empty = listing.count == 0;
    vfs_dir_snapshot_free(&listing);
    if (error < 0)
        return error;
    if (!empty)
        return -ENOTEMPTY;
    if ((error = copy_up(dir)) < 0)
        return error;
    struct vfs_inode *upper_dir = node_of(dir->inode)->upper;
    struct overlay_node *node = node_of(victim->inode);
    if (node->upper) {
        if ((error = clear_upper_directory(node->upper)) < 0)
            return error;
        if ((error = upper_remove(upper_dir, node->upper, victim->name)) < 0)
            return error;
    }
    if (lower_has(dir->inode, victim->name) && (error = make_whiteout(upper_dir, victim->name)) < 0)
        return error;
    victim->inode->link_count = 0;
    sync_attributes(dir->inode);
    return 0;
}

static int overlay_rename(struct vfs_dentry *old_dir, struct vfs_dentry *old, struct vfs_dentry *new_dir,
                          const char *new_name, struct vfs_dentry *target, unsigned flags)
{
    struct overlay_node *source = node_of(old->inode);
    struct overlay_node *replaced = target ? node_of(target->inode) : NULL;
    /* without redirects a directory with lower content cannot move: EXDEV, as overlayfs says */
    if (S_ISDIR(old->inode->mode) && source->lower)
        return -EXDEV;
    bool exchange = (flags & RENAME_EXCHANGE) != 0;
    if (exchange && target && S_ISDIR(target->inode->mode) && replaced->lower)
        return -EXDEV;
    int error = copy_up(old_dir);
    if (error == 0)
        error = copy_up(new_dir);
    if (error == 0)
        error = copy_up(old);
    if (error == 0 && exchange && target)
        error = copy_up(target);
    if (error < 0)
        return error;
    struct vfs_inode *old_upper_dir = node_of(old_dir->inode)->upper;
    struct vfs_inode *new_upper_dir = node_of(new_dir->inode)->upper;
    struct vfs_dentry old_dir_stand_in, old_stand_in, new_dir_stand_in, target_stand_in;
    vfs_stand_in_dentry(&old_dir_stand_in, old_upper_dir, "");
    vfs_stand_in_dentry(&old_stand_in, source->upper, old->name);
    vfs_stand_in_dentry(&new_dir_stand_in, new_upper_dir, "");

    if (exchange) {
        vfs_stand_in_dentry(&target_stand_in, replaced->upper, new_name);
        error = old_upper_dir->ops->rename(&old_dir_stand_in, &old_stand_in, &new_dir_stand_in, new_name,
                                           &target_stand_in, flags);
    } else {
        /* what the upper layer has at the new name: the target's upper, a whiteout, or nothing */
        struct vfs_inode *upper_target = NULL;
        if (layer_lookup(new_upper_dir, new_name, &upper_target) < 0)
            upper_target = NULL;
        bool hides_lower = (upper_target && is_whiteout(upper_target)) || lower_has(new_dir->inode, new_name);
        if (target && S_ISDIR(target->inode->mode) && replaced->upper)
            error = clear_upper_directory(replaced->upper);
        if (error == 0) {
            if (upper_target)
                vfs_stand_in_dentry(&target_stand_in, upper_target, new_name);
            error = old_upper_dir->ops->rename(&old_dir_stand_in, &old_stand_in, &new_dir_stand_in, new_name,
                                               upper_target ? &target_stand_in : NULL, flags & ~RENAME_NOREPLACE);
        }
        vfs_inode_put(upper_target);
        if (error == 0 && hides_lower && S_ISDIR(source->upper->mode))
            vfs_tmpfs_set_opaque(source->upper, true);
        /* the lower file must not reappear at the old name */
        if (error == 0 && lower_has(old_dir->inode, old->name))
            error = make_whiteout(old_upper_dir, old->name);
        if (error == 0 && target)
            target->inode->link_count = S_ISDIR(target->inode->mode) ? 0 : target->inode->link_count - 1;
    }
    if (error == 0) {
        sync_attributes(old->inode);
        sync_attributes(old_dir->inode);
        sync_attributes(new_dir->inode);
        if (exchange && target)
            sync_attributes(target->inode);
    }
    return error;
}

/* ---- attributes, links, open ---- */
static int overlay_readlink(struct vfs_dentry *dentry, const struct vfs_context *ctx, struct text_buffer *out)
{
    struct vfs_inode *real = real_inode(dentry->inode);
    if (!real->ops || !real->ops->readlink)
        return -EINVAL;
    struct vfs_dentry stand_in;
    vfs_stand_in_dentry(&stand_in, real, dentry->name);
    return real->ops->readlink(&stand_in, ctx, out);
}

static int overlay_setattr(struct vfs_inode *inode, struct vfs_dentry *dentry, const struct vfs_setattr *attributes)
{
    struct overlay_node *node = node_of(inode);
    if (!node->upper) {
        if (!dentry)
            return -EROFS;
        int error = copy_up(dentry);
        if (error < 0)
            return error;
    }
    int error = node->upper->ops->setattr(node->upper, NULL, attributes);
    sync_attributes(inode);
    return error;
}

static int overlay_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    struct vfs_inode *real = real_inode(inode);
    int error = vfs_inode_getattr(real, stat_out);
    if (error < 0)
        return error;
    sync_attributes(inode);
    stat_out->st_dev = inode->sb->device;
    stat_out->st_ino = inode->inode_number;
    return 0;
}

static int overlay_open(struct vfs_file *file, const struct vfs_context *ctx)
{
    struct vfs_inode *inode = file->inode;
    if (S_ISDIR(inode->mode)) {
        file->ops = &overlay_dir_operations;
        return 0;
    }
    if (S_ISREG(inode->mode) && (vfs_file_writable(file) || (file->flags & O_TRUNC)) && file->path.dentry) {
        int error = copy_up(file->path.dentry);
        if (error < 0)
            return error;
    }
    /* I/O goes straight to the layer's inode; the path keeps showing the overlay */
    struct vfs_inode *real = real_inode(inode);
    vfs_inode_get(real);
    file->inode = real;
    vfs_inode_put(inode);
    file->ops = real->file_ops;
    if (real->ops && real->ops->open)
        return real->ops->open(file, ctx);
    return 0;
}

static int overlay_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter)
{
    return vfs_dir_snapshot_iterate(file, position, emitter, merged_listing);
}

static const struct vfs_file_operations overlay_dir_operations = {
    .iterate = overlay_iterate,
    .release = vfs_dir_snapshot_release,
};

static const struct vfs_inode_operations overlay_inode_operations = {
    .lookup = overlay_lookup,
    .create = overlay_create,
    .mkdir = overlay_mkdir,
    .symlink = overlay_symlink,
    .link = overlay_link,
    .unlink = overlay_unlink,
    .rmdir = overlay_rmdir,
    .rename = overlay_rename,
    .readlink = overlay_readlink,
    .setattr = overlay_setattr,
    .getattr = overlay_getattr,
    .open = overlay_open,
};
