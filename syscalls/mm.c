/* syscalls/mm.c: memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync, mincore; argument
 * checks as Linux makes them, then sentry/mm.c does the work on the task's address space. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

static long map_memory(struct task *task, const struct syscall_args *args)
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

/* ---- memory locks: VM_LOCKED bookkeeping per VMA, RLIMIT_MEMLOCK accounting with Linux's rules. The pages
 * of the memory file stay where the host puts them: a lock here is Linux's contract towards the application
 * (limits, errors, mincore residency, MADV_DONTNEED refusal), not a host mlock. ---- */

/* CAP_IPC_LOCK in the sandbox's model (see capget): effective uid 0. */
static bool may_lock_any_amount(const struct task *task) { return task->credentials.euid == 0; }

static uint64_t memlock_limit(const struct task *task)
{
    return task->group->limits[RLIMIT_MEMLOCK].rlim_cur;
}

/* can_do_mlock(): a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK. */
static bool may_lock(const struct task *task) { return memlock_limit(task) != 0 || may_lock_any_amount(task); }

/* Bytes of [start, end) (or all of it) in locked VMAs: Linux's locked_vm and count_mm_mlocked_page_nr(). */
static uint64_t locked_bytes(const struct mm *mm, uint64_t start, uint64_t end)
{
    uint64_t total = 0;
    for (size_t i = 0; i < mm->vma_count; i++) {
        const struct vma *vma = &mm->vmas[i];
        if (vma->locked && vma->end > start && vma->start < end)
            total += MIN(vma->end, end) - MAX(vma->start, start);
    }
    return total;
}

static uint64_t mapped_bytes(const struct mm *mm)
{
    uint64_t total = 0;
    for (size_t i = 0; i < mm->vma_count; i++)
        total += mm->vmas[i].end - mm->vmas[i].start;
    return total;
}

/* mlock_future_ok(): may length more bytes be locked? */
static bool lock_fits(const struct task *task, uint64_t length)
{
    if (may_lock_any_amount(task))
        return true;
    uint64_t limit = memlock_limit(task) / PAGE_SIZE;
    return (locked_bytes(task->group->mm, 0, UINT64_MAX) + length) / PAGE_SIZE <= limit;
}

static struct vma *vma_containing(struct mm *mm, uint64_t address)
{
    for (size_t i = 0; i < mm->vma_count; i++)
        if (mm->vmas[i].start <= address && address < mm->vmas[i].end)
            return &mm->vmas[i];
    return NULL;
}

/* apply_vma_lock_flags(): lock or unlock [start, end), which must be mapped without holes (-ENOMEM). VMAs
 * are split at the ends (through mm_protect with their own protection, which splits and changes nothing). */
static long set_locked(struct mm *mm, uint64_t start, uint64_t end, bool locked)
{
    if (end < start)
        return -EINVAL;
    for (uint64_t cursor = start; cursor < end;) {
        const struct vma *vma = vma_containing(mm, cursor);
        if (!vma)
            return -ENOMEM;
        cursor = vma->end;
    }
    for (uint64_t cursor = start; cursor < end;) {
        struct vma *vma = vma_containing(mm, cursor);
        uint64_t piece_end = MIN(end, vma->end);
        if (vma->locked != locked && (vma->start < cursor || vma->end > piece_end)) {
            long error = mm_protect(mm, cursor, piece_end - cursor, vma->protection);
            if (error < 0)
                return error;
            vma = vma_containing(mm, cursor);
        }
        vma->locked = locked;
        cursor = piece_end;
    }
    return 0;
}

static long lock_range(struct task *task, uint64_t address, uint64_t length)
{
    if (!may_lock(task))
        return -EPERM;
    uint64_t start = PAGE_ROUND_DOWN(address);
    uint64_t end = PAGE_ROUND_UP(address + length);
    if (address + length < address || end < start)
        return -EINVAL;  /* wraps: apply_vma_lock_flags' end < start */
    struct mm *mm = task->group->mm;
    if (!may_lock_any_amount(task)) {
        uint64_t limit = memlock_limit(task) / PAGE_SIZE;
        uint64_t wanted = (end - start) / PAGE_SIZE + locked_bytes(mm, 0, UINT64_MAX) / PAGE_SIZE;
        if (wanted > limit)
            wanted -= locked_bytes(mm, start, end) / PAGE_SIZE;
        if (wanted > limit)
            return -ENOMEM;
    }
    return set_locked(mm, start, end, true);
}

static SYSCALL_HANDLER(mlock) { return lock_range(task, ARG(0), ARG(1)); }

static SYSCALL_HANDLER(mlock2)
{
    if ((unsigned int)ARG(2) & ~(unsigned int)MLOCK_ONFAULT)
        return -EINVAL;
    return lock_range(task, ARG(0), ARG(1));
}

static SYSCALL_HANDLER(munlock)
{
    uint64_t start = PAGE_ROUND_DOWN(ARG(0));
    uint64_t end = PAGE_ROUND_UP(ARG(0) + ARG(1));
    if (ARG(0) + ARG(1) < ARG(0) || end < start)
        return -EINVAL;
    return set_locked(task->group->mm, start, end, false);
}

static SYSCALL_HANDLER(mlockall)
{
    int flags = (int)ARG(0);
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return -EINVAL;
    if (!may_lock(task))
        return -EPERM;
    struct mm *mm = task->group->mm;
    if ((flags & MCL_CURRENT) && !may_lock_any_amount(task) &&
        mapped_bytes(mm) / PAGE_SIZE > memlock_limit(task) / PAGE_SIZE)
        return -ENOMEM;
    mm->lock_future = (flags & MCL_FUTURE) != 0;
    if (flags & MCL_CURRENT)
        for (size_t i = 0; i < mm->vma_count; i++)
            mm->vmas[i].locked = true;
    return 0;
}

static SYSCALL_HANDLER(munlockall)
{
    (void)args;
    struct mm *mm = task->group->mm;
    mm->lock_future = false;
    for (size_t i = 0; i < mm->vma_count; i++)
        mm->vmas[i].locked = false;
    return 0;
}

/* mmap with MAP_LOCKED, or after mlockall(MCL_FUTURE): Linux's do_mmap checks, then the new VMA is locked. */
static SYSCALL_HANDLER(mmap)
{
    int flags = (int)ARG(3);
    struct mm *mm = task->group->mm;
    bool lock = (flags & MAP_LOCKED) || mm->lock_future;
    if (ARG(1) && (flags & MAP_LOCKED) && !may_lock(task))
        return -EPERM;
    if (ARG(1) && lock && !lock_fits(task, PAGE_ROUND_UP(ARG(1))))
        return -EAGAIN;
    long result = map_memory(task, args);
    if (result >= 0 && lock)
        set_locked(mm, (uint64_t)result, (uint64_t)result + PAGE_ROUND_UP(ARG(1)), true);
    return result;
}

static SYSCALL_HANDLER(munmap) { return mm_unmap(task->group->mm, ARG(0), ARG(1)); }

static SYSCALL_HANDLER(mprotect)
{
    /* A shared file mapping may become writable only if its file was opened for writing. */
    const struct vma *vma = mm_find_vma(task->group->mm, ARG(0));
    if (vma && vma->file && (vma->flags & MAP_SHARED) && ((int)ARG(2) & PROT_WRITE) &&
        (vma->shared_read_only || (vfs_file_status_flags(vma->file) & O_ACCMODE) != O_RDWR))
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
                break;
            if (vma->locked)
                return -EINVAL;  /* locked pages cannot be dropped */
            cursor = vma->end;
        }
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
    {__NR_mlock, sys_mlock}, {__NR_mlock2, sys_mlock2}, {__NR_munlock, sys_munlock}, {__NR_mlockall, sys_mlockall},
    {__NR_munlockall, sys_munlockall}, {-1, NULL},
};
