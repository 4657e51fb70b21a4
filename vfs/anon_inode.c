/* vfs/anon_inode.c: the anonymous inode behind eventfd, timerfd and epoll files: one inode on its own
 * superblock, shared by all of them, so fstat shows what Linux's anon_inodefs shows (mode 0600, no file type). */
#include "vfs/internal.h"

static void anon_evict_inode(struct vfs_inode *inode) { (void)inode; }
static const struct vfs_fs_type anon_inodefs_type = {.name = "anon_inodefs", .evict_inode = anon_evict_inode};

struct vfs_inode *vfs_anon_inode(void)
{
    /* Lives as long as the Sentry, like the pipefs superblock; the static reference keeps it. */
    static struct vfs_inode *inode;
    if (!inode) {
        struct vfs_superblock *sb = vfs_superblock_new(&anon_inodefs_type, 0);
        inode = vfs_inode_new(sb, S_IRUSR | S_IWUSR, NULL, NULL);
    }
    vfs_inode_get(inode);
    return inode;
}
