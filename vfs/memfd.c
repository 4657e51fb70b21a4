/* vfs/memfd.c: memfd_create's files: regular files of an internal tmpfs (Linux's shm mount) that are unlinked
 * at birth, so they live as long as their descriptions and /proc shows them as "/memfd:NAME (deleted)". */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vfs/internal.h"

#define MEMFD_NAME_MAX 249 /* NAME_MAX less the "memfd:" prefix */
#define MEMFD_PREFIX "memfd:"
#define MEMFD_KNOWN_FLAGS (MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB)
/* With MFD_HUGETLB the flags may carry a huge page size (MFD_HUGE_MASK << MFD_HUGE_SHIFT). */
#define MEMFD_HUGE_SIZE_BITS (0x3fU << 26)

/* Never attached anywhere: paths of its files are shown from its own root, as Linux shows shm files. */
static struct vfs_mount *memfd_mount(void)
{
    static struct vfs_mount *mount;
    if (!mount) {
        struct vfs_superblock *sb = vfs_tmpfs_new(01777, 0, 0);
        mount = vfs_mount_new(sb, "tmpfs");
        vfs_superblock_put(sb);
    }
    return mount;
}

int vfs_memfd_check_flags(unsigned int flags)
{
    unsigned int allowed = (flags & MFD_HUGETLB) ? MEMFD_KNOWN_FLAGS | MEMFD_HUGE_SIZE_BITS : MEMFD_KNOWN_FLAGS;
    return (flags & ~allowed) ? -EINVAL : 0;
}

int vfs_memfd_create(const char *name, unsigned int flags, const struct vfs_credentials *credentials,
                     struct vfs_file **out)
{
    int error = vfs_memfd_check_flags(flags);
    if (error)
        return error;
    if (strlen(name) > MEMFD_NAME_MAX)
        return -EINVAL;
    if (flags & MFD_HUGETLB)
        return -ENOSYS; /* what Linux built without hugetlbfs answers */
    struct vfs_mount *mount = memfd_mount();
    struct vfs_dentry *root = mount->root;
    char entry_name[sizeof(MEMFD_PREFIX) + MEMFD_NAME_MAX];
    snprintf(entry_name, sizeof(entry_name), "%s%s", MEMFD_PREFIX, name);
    /* Linux's shmem_file_setup: mode 0777, owned by the caller's fsuid/fsgid */
    struct vfs_new_inode attributes = {.mode = S_IFREG | 0777,
                                       .uid = credentials ? credentials->fsuid : 0,
                                       .gid = credentials ? credentials->fsgid : 0};
    struct vfs_inode *inode;
    error = root->inode->ops->create(root, entry_name, &attributes, &inode);
    if (error)
        return error;
    struct vfs_dentry *dentry = vfs_dentry_add(root, entry_name, inode);
    /* Unlinked at once: the name is free again for the next memfd, and st_nlink is 0 as on Linux. */
    error = root->inode->ops->unlink(root, dentry);
    if (error) {
        vfs_dentry_put(dentry);
        return error;
    }
    vfs_dentry_mark_unlinked(dentry);
    struct vfs_path path = {.mount = mount, .dentry = dentry};
    struct vfs_file *file = vfs_file_new(&path, dentry->inode, dentry->inode->file_ops, O_RDWR | O_LARGEFILE);
    vfs_dentry_put(dentry);
    *out = file;
    return 0;
}
