/* vfs/fallocate.c: fallocate(2) over any writable regular file, with the answers Linux's tmpfs gives: space
 * (mode 0, FALLOC_FL_KEEP_SIZE) and holes (FALLOC_FL_PUNCH_HOLE|KEEP_SIZE); other modes -EOPNOTSUPP. */
#include <linux/falloc.h>
#include <string.h>

#include "vfs/internal.h"

#define FALLOCATE_WRITE_ZEROES 0x80 /* FALLOC_FL_WRITE_ZEROES, Linux 6.17 */
/* FALLOC_FL_MODE_MASK: the operations, of which a call names one (with KEEP_SIZE where it applies). */
#define FALLOCATE_OPERATIONS (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | \
                              FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | FALLOCATE_WRITE_ZEROES)
/* Linux's s_maxbytes of tmpfs (MAX_LFS_FILESIZE). */
#define FALLOCATE_MAXIMUM_SIZE ((off_t)INT64_MAX)

/* Zero [start, end) through the file system's own write: the bytes read back as a hole's would. */
static int zero_range(struct vfs_file *file, off_t start, off_t end)
{
    static const uint8_t zeros[16384];
    while (start < end) {
        size_t chunk = (size_t)MIN((off_t)sizeof(zeros), end - start);
        off_t offset = start;
        ssize_t written = file->ops->write(file, zeros, chunk, &offset);
        if (written < 0)
            return (int)written;
        if (written == 0)
            return -EIO;
        start += written;
    }
    return 0;
}

int vfs_fallocate(struct vfs_file *file, int mode, off_t offset, off_t length)
{
    /* The checks of Linux's vfs_fallocate (6.11 and later: one operation per call), in its order. */
    if (offset < 0 || length <= 0)
        return -EINVAL;
    if (mode & ~(FALLOCATE_OPERATIONS | FALLOC_FL_KEEP_SIZE))
        return -EOPNOTSUPP;
    switch (mode & FALLOCATE_OPERATIONS) {
    case 0: /* allocate */
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
        break;
    case FALLOC_FL_PUNCH_HOLE:
        if (!(mode & FALLOC_FL_KEEP_SIZE))
            return -EOPNOTSUPP;
        break;
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case FALLOCATE_WRITE_ZEROES:
        if (mode & FALLOC_FL_KEEP_SIZE)
            return -EOPNOTSUPP;
        break;
    default:
        return -EOPNOTSUPP;  /* more than one operation */
    }
    if (!vfs_file_writable(file))
        return -EBADF;
    uint32_t type = file->inode->mode & S_IFMT;
    if (type == S_IFIFO)
        return -ESPIPE;
    if (type == S_IFDIR)
        return -EISDIR;
    if (type != S_IFREG)
        return -ENODEV;
    if (offset > FALLOCATE_MAXIMUM_SIZE - length)
        return -EFBIG;
    if (!file->ops || !file->ops->write || file->ops->stream)
        return -EOPNOTSUPP;
    /* What shmem_fallocate accepts. */
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
        return -EOPNOTSUPP;
    if (vfs_path_is_read_only(&file->path))
        return -EROFS;

    struct stat attributes;
    int error = vfs_inode_getattr(file->inode, &attributes);
    if (error < 0)
        return error;
    off_t end = offset + length;
    if (mode & FALLOC_FL_PUNCH_HOLE)
        return zero_range(file, offset, MIN(end, attributes.st_size));
    /* Memory-backed files have no blocks to reserve ahead: allocation is the size change, if any. */
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > attributes.st_size)
        return vfs_ftruncate(file, end);
    return 0;
}
