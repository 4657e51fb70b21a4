/* syscalls/mm.c: memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync, mincore; argument
 * checks as Linux makes them, then sentry/mm.c does the work on the task's address space. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "sentry/internal.h"

#define ARG(i) (args->arg[i])
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#define MAP_KNOWN_FLAGS (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | \
                         MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | \
                         MAP_HUGETLB | MAP_FIXED_NOREPLACE | MAP_32BIT)

static SYSCALL_HANDLER(mmap)
{
    uint64_t address = ARG(0), length = ARG(1), offset = ARG(5);
    int protection = (int)ARG(2), flags = (int)ARG(3), fd = (int)ARG(4);
    int type = flags & MAP_SHARED_VALIDATE;
    if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (type == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN_FLAGS & ~MAP_SHARED_VALIDATE))
        return -EOPNOTSUPP;
    if (type == MAP_SHARED_VALIDATE)
        flags = (flags & ~MAP_SHARED_VALIDATE) | MAP_SHARED;
    if (offset & (PAGE_SIZE - 1))
        return -EINVAL;
    if (length == 0)
        return -EINVAL;
    if (flags & (MAP_HUGETLB | MAP_32BIT))
        return -EINVAL;  /* neither huge pages nor the low 2 GiB window are offered */
    if (flags & MAP_ANONYMOUS)
        return mm_map(task->group->mm, address, length, protection, flags, NULL, 0);

    struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
    if (!file)
        return -EBADF;
    long result;
    struct stat status;
    int access = vfs_file_status_flags(file) & O_ACCMODE;
    if (vfs_fstat(file, &status) < 0 || S_ISDIR(status.st_mode) || S_ISFIFO(status.st_mode) ||
        S_ISSOCK(status.st_mode)) {
        result = -ENODEV;
    } else if (access == O_WRONLY || (vfs_file_status_flags(file) & O_PATH)) {
        result = -EACCES;
    } else if (S_ISCHR(status.st_mode)) {
        /* /dev/zero maps as anonymous memory; other devices cannot be mapped. */
        result = (major(status.st_rdev) == 1 && minor(status.st_rdev) == 5)
                     ? mm_map(task->group->mm, address, length, protection, (flags & ~MAP_SHARED) | MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0)
                     : -ENODEV;
    } else if ((flags & MAP_SHARED) && (protection & PROT_WRITE) && access != O_RDWR) {
        result = -EACCES;
    } else if (flags & MAP_SHARED) {
        /* In-memory files share their pages with every mapping. Host files cannot (yet): read-only ones get
         * a copy, which no one can write through since the file is open O_RDONLY. */
        result = mm_map_shared_file(task->group->mm, address, length, protection, flags, file, offset,
                                    access == O_RDWR);
        if (result == -ENODEV && access != O_RDWR)
            result = mm_map(task->group->mm, address, length, protection, flags, file, offset);
        else if (result == -ENODEV)
            log_warning("mmap: MAP_SHARED of a writable host file is not supported yet");
    } else {
        result = mm_map(task->group->mm, address, length, protection, flags, file, offset);
    }
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(munmap) { return mm_unmap(task->group->mm, ARG(0), ARG(1)); }

static SYSCALL_HANDLER(mprotect)
{
    /* A shared file mapping may become writable only if its file was opened for writing. */
    const struct vma *vma = mm_find_vma(task->group->mm, ARG(0));
    if (vma && vma->file && (vma->flags & MAP_SHARED) && ((int)ARG(2) & PROT_WRITE) &&
        (vfs_file_status_flags(vma->file) & O_ACCMODE) != O_RDWR)
        return -EACCES;
    return mm_protect(task->group->mm, ARG(0), ARG(1), (int)ARG(2));
}

static SYSCALL_HANDLER(brk) { return mm_brk(task->group->mm, ARG(0)); }

static SYSCALL_HANDLER(mremap)
{
    return mm_remap(task->group->mm, ARG(0), ARG(1), ARG(2), (int)ARG(3), ARG(4));
}

static SYSCALL_HANDLER(madvise)
{
    uint64_t address = ARG(0), length = ARG(1);
    int advice = (int)ARG(2);
    if (address & (PAGE_SIZE - 1))
        return -EINVAL;
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED: case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE: case MADV_DODUMP: case MADV_DONTDUMP: case MADV_MERGEABLE: case MADV_UNMERGEABLE:
    case MADV_DONTFORK: case MADV_DOFORK: case MADV_COLD: case MADV_PAGEOUT:
        /* Advice only: the host decides residency of memory-file pages. */
        return 0;
    case MADV_DONTNEED:
    case MADV_FREE: {
        /* Observable: private anonymous pages read back as zeros afterwards. */
        uint64_t end = PAGE_ROUND_UP(address + length);
        for (uint64_t cursor = address; cursor < end;) {
            const struct vma *vma = mm_find_vma(task->group->mm, cursor);
            if (!vma || vma->start > cursor)
                return -ENOMEM;
            uint64_t stop = MIN(end, vma->end);
            if (!(vma->flags & MAP_SHARED) && !vma->file)
                memory_release_pages(vma->region->offset + vma->region_offset + (cursor - vma->start), stop - cursor);
            cursor = stop;
        }
        return 0;
    }
    case MADV_REMOVE: {
        /* Punches a hole in shared memory: the range reads zeros through every mapping and the file. */
        uint64_t end = PAGE_ROUND_UP(address + length);
        for (uint64_t cursor = address; cursor < end;) {
            const struct vma *vma = mm_find_vma(task->group->mm, cursor);
            if (!vma || vma->start > cursor)
                return -ENOMEM;
            if (!(vma->flags & MAP_SHARED) || !(vma->protection & PROT_WRITE))
                return vma->flags & MAP_SHARED ? -EACCES : -EINVAL;
            cursor = MIN(end, vma->end);
        }
        for (uint64_t cursor = address; cursor < end;) {
            const struct vma *vma = mm_find_vma(task->group->mm, cursor);
            uint64_t stop = MIN(end, vma->end);
            memory_release_pages(vma->region->offset + vma->region_offset + (cursor - vma->start), stop - cursor);
            cursor = stop;
        }
        return 0;
    }
    default:
        return -EINVAL;
    }
}

static SYSCALL_HANDLER(msync)
{
    uint64_t address = ARG(0);
    int flags = (int)ARG(2);
    if ((address & (PAGE_SIZE - 1)) || (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    uint64_t end = PAGE_ROUND_UP(address + ARG(1));
    for (uint64_t cursor = address; cursor < end;) {
        const struct vma *vma = mm_find_vma(task->group->mm, cursor);
        if (!vma || vma->start > cursor)
            return -ENOMEM;
        cursor = vma->end;
    }
    /* Nothing to write back: a writable shared mapping's pages are its in-memory file's own (see mmap). */
    return 0;
}

static SYSCALL_HANDLER(mincore)
{
    uint64_t address = ARG(0), length = ARG(1);
    if (address & (PAGE_SIZE - 1))
        return -EINVAL;
    uint64_t end = PAGE_ROUND_UP(address + length);
    if (end < address)
        return -ENOMEM;
    for (uint64_t cursor = address; cursor < end; cursor += PAGE_SIZE) {
        const struct vma *vma = mm_find_vma(task->group->mm, cursor);
        if (!vma || vma->start > cursor)
            return -ENOMEM;
        uint8_t resident = 1;
        if (task_copy_out(task, ARG(2) + (cursor - address) / PAGE_SIZE, &resident, 1) < 0)
            return -EFAULT;
    }
    return 0;
}

const struct syscall_binding syscall_bindings_mm[] = {
    {__NR_mmap, sys_mmap}, {__NR_munmap, sys_munmap}, {__NR_mprotect, sys_mprotect}, {__NR_brk, sys_brk},
    {__NR_mremap, sys_mremap}, {__NR_madvise, sys_madvise}, {__NR_msync, sys_msync}, {__NR_mincore, sys_mincore},
    {-1, NULL},
};
