/* vfs/core.c: lifetimes of the VFS's core objects (superblocks, inodes, the dentry cache, mounts, paths) and
 * the generic permission check. Reference counting rules are documented next to each structure in internal.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "vfs/internal.h"

/* ---- time and small helpers ---- */
struct timespec vfs_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now;
}

void vfs_inode_touch_modified(struct vfs_inode *inode)
{
    inode->mtime = inode->ctime = vfs_now();
}

void vfs_inode_touch_changed(struct vfs_inode *inode) { inode->ctime = vfs_now(); }

unsigned vfs_mode_to_dirent_type(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return DT_REG;
    case S_IFDIR: return DT_DIR;
    case S_IFLNK: return DT_LNK;
    case S_IFCHR: return DT_CHR;
    case S_IFBLK: return DT_BLK;
    case S_IFIFO: return DT_FIFO;
    case S_IFSOCK: return DT_SOCK;
    default: return DT_UNKNOWN;
    }
}

dev_t vfs_anonymous_device(void)
{
    /* Linux numbers anonymous superblocks 0:N; start past the low numbers the host's own use. */
    static unsigned next_minor = 40;
    return makedev(0, next_minor++);
}

/* ---- superblocks ---- */
struct vfs_superblock *vfs_superblock_new(const struct vfs_fs_type *type, unsigned flags)
{
    struct vfs_superblock *sb = xcalloc(1, sizeof(*sb));
    sb->refcount = 1;
    sb->type = type;
    sb->flags = flags;
    sb->device = vfs_anonymous_device();
    sb->next_inode_number = 1;
    return sb;
}

/* Unused dentries of bounded superblocks, oldest first. */
static size_t unused_dentry_limit = 4096;
static struct list_node unused_dentries = {&unused_dentries, &unused_dentries};
static size_t unused_dentry_count;

static void trim_unused(void);

void vfs_set_unused_dentry_limit(size_t limit)
{
    unused_dentry_limit = limit;
    trim_unused();
}

static void unused_remove(struct vfs_dentry *dentry)
{
    if (list_empty(&dentry->unused))
        return;
    list_remove(&dentry->unused);
    unused_dentry_count--;
}

static struct vfs_dentry *dentry_alloc(struct vfs_superblock *sb, struct vfs_dentry *parent, const char *name,
                                       struct vfs_inode *inode)
{
    struct vfs_dentry *dentry = xcalloc(1, sizeof(*dentry));
    dentry->refcount = 1;
    dentry->sb = sb;
    dentry->parent = parent;
    if (parent)
        vfs_dentry_get(parent);
    dentry->name = xstrdup(name);
    dentry->inode = inode;
    vfs_name_table_init(&dentry->children);
    list_init(&dentry->unused);
    return dentry;
}

void vfs_superblock_set_root(struct vfs_superblock *sb, struct vfs_inode *root_inode)
{
    sb->root = dentry_alloc(sb, NULL, "/", root_inode);
}

void vfs_superblock_get(struct vfs_superblock *sb) { sb->refcount++; }

static void dentry_free(struct vfs_dentry *dentry)
{
    unused_remove(dentry);
    vfs_name_table_destroy(&dentry->children);
    if (dentry->inode)
        vfs_inode_put(dentry->inode);
    free(dentry->name);
    free(dentry);
}

/* Free a whole cached subtree when its superblock dies: by then only cached children hold references. */
static void dentry_prune_tree(struct vfs_dentry *dentry)
{
    struct name_table_node *node;
    while ((node = vfs_name_table_any(&dentry->children))) {
        struct vfs_dentry *child = CONTAINER_OF(node, struct vfs_dentry, in_parent);
        vfs_name_table_remove(&dentry->children, node);
        child->cached = false;
        child->parent = NULL;
        dentry->refcount--;
        dentry_prune_tree(child);
    }
    if (dentry->refcount > 0) {
        /* still used (a bug elsewhere: users hold the mount); leave it to them, detached */
        log_warning("vfs: dentry %s still in use when its file system went away", dentry->name);
        dentry->sb = NULL;
        return;
    }
    dentry_free(dentry);
}

void vfs_superblock_put(struct vfs_superblock *sb)
{
    if (!sb || --sb->refcount > 0)
        return;
    if (sb->root) {
        struct vfs_dentry *root = sb->root;
        sb->root = NULL;
        root->refcount--;
        dentry_prune_tree(root);
    }
    if (sb->type->kill)
        sb->type->kill(sb);
    free(sb);
}

/* ---- inodes ---- */
struct vfs_inode *vfs_inode_new(struct vfs_superblock *sb, uint32_t mode, const struct vfs_inode_operations *ops,
                                const struct vfs_file_operations *file_ops)
{
    struct vfs_inode *inode = xcalloc(1, sizeof(*inode));
    inode->refcount = 1;
    inode->sb = sb;
    inode->ops = ops;
    inode->file_ops = file_ops;
    inode->mode = mode;
    inode->link_count = 1;
    inode->inode_number = sb ? sb->next_inode_number++ : 1;
    inode->atime = inode->mtime = inode->ctime = vfs_now();
    return inode;
}

void vfs_inode_get(struct vfs_inode *inode) { inode->refcount++; }

void vfs_inode_put(struct vfs_inode *inode)
{
    if (!inode || --inode->refcount > 0)
        return;
    if (inode->sb && inode->sb->type->evict_inode)
        inode->sb->type->evict_inode(inode);
    free(inode);
}

void vfs_inode_fill_stat(const struct vfs_inode *inode, struct stat *stat_out)
{
    memset(stat_out, 0, sizeof(*stat_out));
    stat_out->st_dev = inode->sb ? inode->sb->device : 0;
    stat_out->st_ino = inode->inode_number;
    stat_out->st_mode = inode->mode;
    stat_out->st_nlink = inode->link_count;
    stat_out->st_uid = inode->uid;
    stat_out->st_gid = inode->gid;
    stat_out->st_rdev = inode->raw_device;
    stat_out->st_size = inode->size;
    stat_out->st_blksize = VFS_BLOCK_SIZE;
    stat_out->st_blocks = (blkcnt_t)(PAGE_ROUND_UP((uint64_t)inode->size) / 512);
    stat_out->st_atim = inode->atime;
    stat_out->st_mtim = inode->mtime;
    stat_out->st_ctim = inode->ctime;
}

int vfs_inode_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    if (inode->ops && inode->ops->getattr)
        return inode->ops->getattr(inode, stat_out);
    vfs_inode_fill_stat(inode, stat_out);
    return 0;
}

void vfs_inode_apply_setattr(struct vfs_inode *inode, const struct vfs_setattr *attributes)
{
    if (attributes->mask & VFS_ATTR_MODE)
        inode->mode = (inode->mode & S_IFMT) | (attributes->mode & 07777);
    if (attributes->mask & VFS_ATTR_UID)
        inode->uid = attributes->uid;
    if (attributes->mask & VFS_ATTR_GID)
        inode->gid = attributes->gid;
    if (attributes->mask & VFS_ATTR_SIZE)
        inode->size = attributes->size;
    if (attributes->mask & VFS_ATTR_ATIME)
        inode->atime = attributes->atime;
    if (attributes->mask & VFS_ATTR_MTIME)
        inode->mtime = attributes->mtime;
    if (attributes->mask & VFS_ATTR_CTIME)
        inode->ctime = attributes->ctime;
}

/* ---- permissions ---- */
bool vfs_credentials_in_group(const struct vfs_credentials *credentials, uint32_t gid)
{
    if (!credentials)
        return true;
    if (credentials->fsgid == gid)
        return true;
    for (size_t index = 0; index < credentials->group_count; index++)
        if (credentials->groups[index] == gid)
            return true;
    return false;
}

bool vfs_credentials_own(const struct vfs_credentials *credentials, uint32_t uid)
{
    return !credentials || credentials->privileged || credentials->fsuid == uid;
}

int vfs_permission_check(uint32_t mode, uint32_t uid, uint32_t gid, const struct vfs_credentials *credentials,
                         int mask)
{
    mask &= VFS_MAY_READ | VFS_MAY_WRITE | VFS_MAY_EXEC;
    if (!credentials)
        return 0;
    uint32_t granted;
    if (credentials->fsuid == uid)
        granted = (mode >> 6) & 7;
    else if (vfs_credentials_in_group(credentials, gid))
        granted = (mode >> 3) & 7;
    else
        granted = mode & 7;
    if ((granted & (uint32_t)mask) == (uint32_t)mask)
        return 0;
    if (credentials->privileged) {
        /* CAP_DAC_OVERRIDE: everything but executing a file nobody may execute */
        if (!(mask & VFS_MAY_EXEC) || S_ISDIR(mode) || (mode & 0111))
            return 0;
    }
    return -EACCES;
}

int vfs_inode_permission(struct vfs_inode *inode, const struct vfs_credentials *credentials, int mask)
{
    return vfs_permission_check(inode->mode, inode->uid, inode->gid, credentials, mask);
}

/* ---- dentries ---- */
void vfs_dentry_get(struct vfs_dentry *dentry)
{
    if (dentry->refcount++ == 0)
        unused_remove(dentry);
}

static void dentry_cache_remove(struct vfs_dentry *child);

/* Drop the oldest unused dentries past the bound; their parents may become unused in turn. */
static void trim_unused(void)
{
    while (unused_dentry_count > unused_dentry_limit) {
        struct vfs_dentry *oldest = CONTAINER_OF(unused_dentries.next, struct vfs_dentry, unused);
        unused_remove(oldest);
        dentry_cache_remove(oldest);
        oldest->refcount++;
        vfs_dentry_put(oldest);
    }
}

void vfs_dentry_put(struct vfs_dentry *dentry)
{
    while (dentry) {
        if (--dentry->refcount > 0) {
            vfs_inotify_dentry_put(dentry); /* last: it may let the dentry go */
            return;
        }
        /* An unused cached dentry stays: it is the name cache. Its superblock frees it at the end, or the
         * bound on unused dentries does for superblocks that ask for one. */
        if (dentry->cached) {
            if (dentry->sb && (dentry->sb->flags & VFS_SB_BOUNDED_DENTRY_CACHE)) {
                list_insert_tail(&unused_dentries, &dentry->unused);
                unused_dentry_count++;
                trim_unused();
            }
            return;
        }
        if (!dentry->parent) {
            /* a superblock's root is held by its superblock, so this is a detached leftover */
            dentry_free(dentry);
            return;
        }
        struct vfs_dentry *parent = dentry->parent;
        dentry_free(dentry);
        dentry = parent;
    }
}

static bool dentry_cacheable(const struct vfs_dentry *dir)
{
    return dir->sb && !(dir->sb->flags & VFS_SB_NO_DENTRY_CACHE) && !dir->unlinked;
}

static void dentry_cache_insert(struct vfs_dentry *dir, struct vfs_dentry *child)
{
    vfs_name_table_insert(&dir->children, &child->in_parent, child->name);
    child->cached = true;
}

static void dentry_cache_remove(struct vfs_dentry *child)
{
    if (!child->cached)
        return;
    vfs_name_table_remove(&child->parent->children, &child->in_parent);
    child->cached = false;
}

struct vfs_dentry *vfs_dentry_add(struct vfs_dentry *dir, const char *name, struct vfs_inode *inode)
{
    struct name_table_node *node = vfs_name_table_find(&dir->children, name);
    if (node) {
        /* a stale entry for a name the file system just recreated */
        struct vfs_dentry *stale = CONTAINER_OF(node, struct vfs_dentry, in_parent);
        vfs_dentry_get(stale);
        dentry_cache_remove(stale);
        stale->unlinked = true;
        vfs_dentry_put(stale);
    }
    struct vfs_dentry *child = dentry_alloc(dir->sb, dir, name, inode);
    if (dentry_cacheable(dir))
        dentry_cache_insert(dir, child);
    return child;
}

int vfs_dentry_lookup(struct vfs_dentry *dir, const char *name, struct vfs_dentry **child_out)
{
    struct name_table_node *node = vfs_name_table_find(&dir->children, name);
    if (node) {
        struct vfs_dentry *child = CONTAINER_OF(node, struct vfs_dentry, in_parent);
        vfs_dentry_get(child);
        *child_out = child;
        return 0;
    }
    if (!dir->inode || !S_ISDIR(dir->inode->mode))
        return -ENOTDIR;
    if (dir->unlinked)
        return -ENOENT;
    if (!dir->inode->ops || !dir->inode->ops->lookup)
        return -ENOENT;
    struct vfs_inode *inode = NULL;
    int error = dir->inode->ops->lookup(dir, name, &inode);
    if (error < 0)
        return error;
    *child_out = vfs_dentry_add(dir, name, inode);
    return 0;
}

void vfs_dentry_mark_unlinked(struct vfs_dentry *dentry)
{
    vfs_dentry_get(dentry);
    dentry_cache_remove(dentry);
    dentry->unlinked = true;
    /* cached children of a removed directory (negative-free cache, so normally none) go too */
    struct name_table_node *node;
    while ((node = vfs_name_table_any(&dentry->children))) {
        struct vfs_dentry *child = CONTAINER_OF(node, struct vfs_dentry, in_parent);
        vfs_dentry_get(child);
        dentry_cache_remove(child);
        child->unlinked = true;
        vfs_dentry_put(child);
    }
    vfs_dentry_put(dentry);
}

void vfs_dentry_forget_child(struct vfs_dentry *dir, const char *name)
{
    struct name_table_node *node = vfs_name_table_find(&dir->children, name);
    if (!node)
        return;
    struct vfs_dentry *child = CONTAINER_OF(node, struct vfs_dentry, in_parent);
    vfs_dentry_mark_unlinked(child);
}

void vfs_dentry_move(struct vfs_dentry *dentry, struct vfs_dentry *new_parent, const char *new_name)
{
    vfs_dentry_get(dentry);
    struct vfs_dentry *old_parent = dentry->parent;
    bool was_cached = dentry->cached;
    dentry_cache_remove(dentry);
    vfs_dentry_get(new_parent);
    dentry->parent = new_parent;
    char *name = xstrdup(new_name);
    free(dentry->name);
    dentry->name = name;
    if (was_cached && dentry_cacheable(new_parent) && !vfs_name_table_find(&new_parent->children, name))
        dentry_cache_insert(new_parent, dentry);
    vfs_dentry_put(old_parent);
    vfs_dentry_put(dentry);
}

bool vfs_dentry_is_ancestor(const struct vfs_dentry *ancestor, const struct vfs_dentry *dentry)
{
    for (const struct vfs_dentry *cursor = dentry; cursor; cursor = cursor->parent)
        if (cursor == ancestor)
            return true;
    return false;
}

/* ---- mounts ---- */
struct vfs_mount *vfs_mount_new(struct vfs_superblock *sb, const char *source)
{
    struct vfs_mount *mount = xcalloc(1, sizeof(*mount));
    mount->refcount = 1;
    mount->sb = sb;
    vfs_superblock_get(sb);
    mount->root = sb->root;
    vfs_dentry_get(mount->root);
    list_init(&mount->children);
    list_init(&mount->sibling);
    mount->source = xstrdup(source);
    mount->read_only = (sb->flags & VFS_SB_READ_ONLY) != 0;
    static int next_mount_id = 21; /* Linux's first mounts take the low ids */
    mount->id = next_mount_id++;
    return mount;
}

void vfs_mount_get(struct vfs_mount *mount) { mount->refcount++; }

void vfs_mount_put(struct vfs_mount *mount)
{
    if (!mount || --mount->refcount > 0)
        return;
    /* Children become detached (like a lazy unmount): whoever still uses them keeps them alive. */
    LIST_FOR_EACH_SAFE(node, next, &mount->children) {
        struct vfs_mount *child = CONTAINER_OF(node, struct vfs_mount, sibling);
        list_remove(&child->sibling);
        child->parent = NULL;
        if (child->mountpoint) {
            child->mountpoint->mount_count--;
            vfs_dentry_put(child->mountpoint);
            child->mountpoint = NULL;
        }
        vfs_mount_put(child);
    }
    vfs_dentry_put(mount->root);
    vfs_superblock_put(mount->sb);
    free(mount->source);
    free(mount);
}

int vfs_mount_attach(const struct vfs_path *where, struct vfs_mount *mount)
{
    /* As Linux's graft_tree: a directory only on a directory, a file only on a non-directory. */
    if (S_ISDIR(where->dentry->inode->mode) != S_ISDIR(mount->root->inode->mode))
        return -ENOTDIR;
    if (where->dentry->unlinked)
        return -ENOENT;
    mount->parent = where->mount;
    mount->mountpoint = where->dentry;
    vfs_dentry_get(where->dentry);
    where->dentry->mount_count++;
    list_insert_tail(&where->mount->children, &mount->sibling);
    return 0;
}

struct vfs_mount *vfs_mount_find_child(struct vfs_mount *parent, struct vfs_dentry *dentry)
{
    if (!dentry->mount_count)
        return NULL;
    /* the most recent mount on a dentry hides the earlier ones */
    for (struct list_node *node = parent->children.prev; node != &parent->children; node = node->prev) {
        struct vfs_mount *child = CONTAINER_OF(node, struct vfs_mount, sibling);
        if (child->mountpoint == dentry)
            return child;
    }
    return NULL;
}

/* ---- paths ---- */
void vfs_path_get(struct vfs_path *path)
{
    if (path->mount)
        vfs_mount_get(path->mount);
    if (path->dentry)
        vfs_dentry_get(path->dentry);
}

void vfs_path_put(struct vfs_path *path)
{
    struct vfs_dentry *dentry = path->dentry;
    struct vfs_mount *mount = path->mount;
    path->dentry = NULL;
    path->mount = NULL;
    /* the dentry first: the mount may hold the last reference to its superblock */
    if (dentry)
        vfs_dentry_put(dentry);
    if (mount)
        vfs_mount_put(mount);
}

bool vfs_path_equal(const struct vfs_path *a, const struct vfs_path *b)
{
    return a->mount == b->mount && a->dentry == b->dentry;
}

bool vfs_path_is_read_only(const struct vfs_path *path)
{
    return path->mount && (path->mount->read_only || (path->mount->sb->flags & VFS_SB_READ_ONLY));
}
