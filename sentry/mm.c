/* sentry/mm.c: address spaces: the authoritative list of an application's mappings (VMAs) over the memory
 * file, the mm syscalls' semantics, copies in and out of application memory, and keeping the stub in step. */
#include "sentry/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define STACK_TOP (APPLICATION_ADDRESS_LIMIT - 0x100000ULL)
#define MMAP_TOP (STACK_TOP - 0x10000000ULL)   /* below the stack's 256 MiB reserve */
#define MINIMUM_MAP_ADDRESS 0x10000ULL         /* vm.mmap_min_addr */

const struct platform_ops *sentry_platform;

static uint64_t vma_memory_offset(const struct vma *vma, uint64_t address)
{
    return vma->region->offset + vma->region_offset + (address - vma->start);
}

struct mm *mm_new(void)
{
    struct mm *mm = xcalloc(1, sizeof(*mm));
    mm->references = 1;
    mm->mmap_top = MMAP_TOP;
    int error = sentry_platform->address_space_new(&mm->space, &mm->stub_thread);
    if (error < 0) {
        log_error("cannot create a stub process: %s", strerror(-error));
        free(mm);
        return NULL;
    }
    return mm;
}

void mm_get(struct mm *mm) { mm->references++; }

static void vma_release(struct vma *vma)
{
    memory_region_put(vma->region);
    if (vma->file)
        vfs_file_put(vma->file);
}

void mm_put(struct mm *mm)
{
    if (!mm || --mm->references > 0)
        return;
    for (size_t i = 0; i < mm->vma_count; i++)
        vma_release(&mm->vmas[i]);
    free(mm->vmas);
    syscall_patches_release(mm);
    if (mm->executable)
        vfs_file_put(mm->executable);
    sentry_platform->address_space_destroy(mm->space);
    free(mm);
}

static void vma_insert(struct mm *mm, size_t index, const struct vma *vma)
{
    if (mm->vma_count == mm->vma_capacity) {
        mm->vma_capacity = mm->vma_capacity ? mm->vma_capacity * 2 : 16;
        struct vma *grown = realloc(mm->vmas, mm->vma_capacity * sizeof(*grown));
        if (!grown)
            abort();
        mm->vmas = grown;
    }
    memmove(&mm->vmas[index + 1], &mm->vmas[index], (mm->vma_count - index) * sizeof(*mm->vmas));
    mm->vmas[index] = *vma;
    mm->vma_count++;
}

static void vma_erase(struct mm *mm, size_t index)
{
    memmove(&mm->vmas[index], &mm->vmas[index + 1], (mm->vma_count - index - 1) * sizeof(*mm->vmas));
    mm->vma_count--;
}

/* Index of the first VMA whose end is above address. */
static size_t vma_lower_bound(const struct mm *mm, uint64_t address)
{
    size_t low = 0, high = mm->vma_count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (mm->vmas[middle].end <= address)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

const struct vma *mm_find_vma(struct mm *mm, uint64_t address)
{
    size_t index = vma_lower_bound(mm, address);
    if (index < mm->vma_count && mm->vmas[index].start <= address)
        return &mm->vmas[index];
    return NULL;
}

/* Split the VMA at index so that a VMA boundary falls at address (which must be inside it). */
static void vma_split(struct mm *mm, size_t index, uint64_t address)
{
    struct vma upper = mm->vmas[index];
    upper.region_offset += address - upper.start;
    if (upper.file) {
        upper.file_offset += address - upper.start;
        vfs_file_get(upper.file);
    }
    upper.start = address;
    upper.region->references++;
    mm->vmas[index].end = address;
    vma_insert(mm, index + 1, &upper);
}

static bool range_is_free(const struct mm *mm, uint64_t start, uint64_t end)
{
    size_t index = vma_lower_bound(mm, start);
    return index == mm->vma_count || mm->vmas[index].start >= end;
}

/* Top-down first fit below mmap_top, as Linux's default layout. */
static uint64_t find_free_range(const struct mm *mm, uint64_t length)
{
    uint64_t ceiling = mm->mmap_top;
    for (size_t i = mm->vma_count; i-- > 0;) {
        const struct vma *vma = &mm->vmas[i];
        if (vma->start >= ceiling)
            continue;
        if (vma->end <= ceiling && ceiling - vma->end >= length)
            return ceiling - length;
        ceiling = MIN(ceiling, vma->start);
    }
    if (ceiling >= MINIMUM_MAP_ADDRESS + length)
        return ceiling - length;
    return 0;
}

/* Remove [start, end) from the map; the caller updates the stub. */
static void unmap_range(struct mm *mm, uint64_t start, uint64_t end)
{
    size_t index = vma_lower_bound(mm, start);
    if (index < mm->vma_count && mm->vmas[index].start < start && mm->vmas[index].end > start)
        vma_split(mm, index++, start);
    while (index < mm->vma_count && mm->vmas[index].start < end) {
        if (mm->vmas[index].end > end)
            vma_split(mm, index, end);
        struct vma *vma = &mm->vmas[index];
        /* Private pages nobody else maps can go back to the host at once. */
        if (!(vma->flags & MAP_SHARED) && !vma->file_pages && vma->region->references > 1)
            memory_release_pages(vma_memory_offset(vma, vma->start), vma->end - vma->start);
        vma_release(vma);
        vma_erase(mm, index);
    }
}

static int stub_map(struct mm *mm, const struct vma *vma)
{
    return sentry_platform->map(mm->space, vma->start, vma->end - vma->start, vma->protection,
                                vma_memory_offset(vma, vma->start));
}

/* Where a new mapping of rounded bytes goes: address as given for MAP_FIXED(_NOREPLACE), else there when
 * free, else top-down first fit. 0 or -errno. */
static int choose_address(const struct mm *mm, uint64_t *address, uint64_t rounded, int flags)
{
    if (rounded > APPLICATION_ADDRESS_LIMIT)
        return -ENOMEM;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (*address & (PAGE_SIZE - 1))
            return -EINVAL;
        if (*address + rounded > APPLICATION_ADDRESS_LIMIT || *address + rounded < *address)
            return -ENOMEM;
        if (*address < MINIMUM_MAP_ADDRESS)
            return -EPERM;
        if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !range_is_free(mm, *address, *address + rounded))
            return -EEXIST;
        return 0;
    }
    *address = PAGE_ROUND_DOWN(*address);
    if (*address < MINIMUM_MAP_ADDRESS || *address + rounded > mm->mmap_top ||
        !range_is_free(mm, *address, *address + rounded))
        *address = find_free_range(mm, rounded);
    return *address == 0 ? -ENOMEM : 0;
}

static int check_protection(int *protection)
{
    if (*protection & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
        return -EINVAL;
    *protection &= PROT_READ | PROT_WRITE | PROT_EXEC;
    return 0;
}

/* Inserts one VMA per piece from address on and maps them in the stub; takes over the pieces' references.
 * Whatever was mapped there before is gone. A private mapping (file_pages) shares the pages read-only. */
static int install_pieces(struct mm *mm, uint64_t address, int protection, int flags, struct vfs_file *file,
                          uint64_t file_offset, bool writable, struct vfs_shared_pages *pages)
{
    uint64_t cursor = address, total = 0;
    for (size_t i = 0; i < pages->count; i++)
        total += pages->pieces[i].length;
    unmap_range(mm, address, address + total);
    bool private = !(flags & MAP_SHARED);
    int error = 0;
    for (size_t i = 0; i < pages->count; i++) {
        const struct vfs_shared_piece *piece = &pages->pieces[i];
        struct vma vma = {
            .start = cursor,
            .end = cursor + piece->length,
            .protection = protection,
            .flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS),
            .region = piece->region,
            .region_offset = piece->region_offset,
            .file_pages = private,
            .shared_read_only = !private && !writable,
            .file = file,
            .file_offset = file_offset + (cursor - address),
        };
        pages->pieces[i].region = NULL; /* the VMA's now */
        if (file)
            vfs_file_get(file);
        vma_insert(mm, vma_lower_bound(mm, cursor), &vma);
        if (error == 0 && (error = stub_map(mm, &vma)) < 0)
            log_error("mm: stub mapping %#lx+%#lx failed: %s", (unsigned long)vma.start,
                      (unsigned long)piece->length, strerror(-error));
        cursor += piece->length;
    }
    vfs_shared_pages_release(pages);
    if (error < 0) {
        unmap_range(mm, address, cursor);
        return -ENOMEM;
    }
    return 0;
}

/* Every new mapping's checks, in Linux's order, and its place: the length rounded to pages, the protection
 * reduced to PROT_READ/WRITE/EXEC, the address chosen. 0 or -errno. An address asked for in the syscall
 * thunks' range gets it back from them first, as if they had never been there. */
static int prepare_mapping(struct mm *mm, uint64_t *address, uint64_t length, int *protection, int flags,
                           uint64_t *rounded)
{
    if (length == 0)
        return -EINVAL;
    if (*address && *address + length > *address)
        syscall_patches_withdraw(mm, PAGE_ROUND_DOWN(*address), PAGE_ROUND_UP(*address + length));
    int error = check_protection(protection);
    if (error < 0)
        return error;
    *rounded = PAGE_ROUND_UP(length);
    if (*rounded < length)
        return -ENOMEM;
    return choose_address(mm, address, *rounded, flags);
}

/* A mapping over a file's pages at an address already chosen (rounded bytes, checked protection). */
static long map_file_pages_at(struct mm *mm, uint64_t address, uint64_t rounded, int protection, int flags,
                              struct vfs_file *file, uint64_t file_offset, bool writable)
{
    struct vfs_shared_pages pages;
    int error = vfs_file_map_shared(file, file_offset, rounded, &pages);
    if (error == 0 && writable && !pages.writes_reach_file) {
        vfs_shared_pages_release(&pages);
        error = -ENODEV;
    }
    if (error == 0)
        error = install_pieces(mm, address, protection, flags, file, file_offset, writable, &pages);
    return error < 0 ? error : (long)address;
}

long mm_map_shared_file(struct mm *mm, uint64_t address, uint64_t length, int protection, int flags,
                        struct vfs_file *file, uint64_t file_offset, bool writable)
{
    uint64_t rounded;
    int error = prepare_mapping(mm, &address, length, &protection, flags, &rounded);
    if (error < 0)
        return error;
    return map_file_pages_at(mm, address, rounded, protection, flags | MAP_SHARED, file, file_offset, writable);
}

long mm_map(struct mm *mm, uint64_t address, uint64_t length, int protection, int flags, struct vfs_file *file,
            uint64_t file_offset)
{
    uint64_t rounded;
    int error = prepare_mapping(mm, &address, length, &protection, flags, &rounded);
    if (error < 0)
        return error;
    /* A private mapping no one can write shares the file's pages: executables and libraries then cost
     * no copy at exec. */
    if (file && !(protection & PROT_WRITE) && !(flags & MAP_SHARED)) {
        long mapped = map_file_pages_at(mm, address, rounded, protection, flags, file, file_offset, false);
        if (mapped != -ENODEV)
            return mapped;
    }
    struct memory_region *region = memory_region_new(rounded);
    if (!region)
        return -ENOMEM;
    if (file) {
        /* Private file pages are copied into the memory file; what lies past EOF stays zero. */
        uint8_t *destination = memory_at(region->offset);
        uint64_t done = 0;
        while (done < length) {
            ssize_t got = vfs_pread(file, destination + done, length - done, (off_t)(file_offset + done));
            if (got < 0) {
                memory_region_put(region);
                return got == -EISDIR ? -ENODEV : got;
            }
            if (got == 0)
                break;
            done += (uint64_t)got;
        }
    }
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
        unmap_range(mm, address, address + rounded);
    struct vma vma = {
        .start = address,
        .end = address + rounded,
        .protection = protection,
        .flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN),
        .region = region,
        .file = file,
        .file_offset = file_offset,
    };
    if (file)
        vfs_file_get(file);
    vma_insert(mm, vma_lower_bound(mm, address), &vma);
    error = stub_map(mm, &vma);
    if (error < 0) {
        log_error("mm: stub mapping %#lx+%#lx failed: %s", (unsigned long)address, (unsigned long)rounded,
                  strerror(-error));
        unmap_range(mm, address, address + rounded);
        return -ENOMEM;
    }
    return (long)address;
}

long mm_unmap(struct mm *mm, uint64_t address, uint64_t length)
{
    if ((address & (PAGE_SIZE - 1)) || length == 0)
        return -EINVAL;
    uint64_t end = PAGE_ROUND_UP(address + length);
    if (end < address || end > APPLICATION_ADDRESS_LIMIT)
        return -EINVAL;
    syscall_patches_withdraw(mm, address, end);
    if (range_is_free(mm, address, end))
        return 0;
    unmap_range(mm, address, end);
    int error = sentry_platform->unmap(mm->space, address, end - address);
    return error < 0 ? -ENOMEM : 0;
}

/* A private mapping over a file's pages that becomes writable gets its own copy first, so that its writes
 * never reach the file or the other mappings. */
static int make_pages_private(struct mm *mm, struct vma *vma)
{
    struct memory_region *copy = memory_region_new(vma->end - vma->start);
    if (!copy)
        return -ENOMEM;
    memory_copy(copy->offset, vma_memory_offset(vma, vma->start), vma->end - vma->start);
    memory_region_put(vma->region);
    vma->region = copy;
    vma->region_offset = 0;
    vma->file_pages = false;
    return stub_map(mm, vma) < 0 ? -ENOMEM : 0;
}

uint8_t *mm_private_code(struct mm *mm, uint64_t address, size_t length)
{
    size_t index = vma_lower_bound(mm, address);
    if (length == 0 || index >= mm->vma_count)
        return NULL;
    struct vma *vma = &mm->vmas[index];
    if (vma->start > address || address + length > vma->end || !(vma->protection & PROT_EXEC) || !vma->file ||
        (vma->flags & MAP_SHARED))
        return NULL;
    if (vma->file_pages) {
        /* Only the pages written get their own copy: the rest stays shared with the file's cache. */
        uint64_t first = PAGE_ROUND_DOWN(address), last = PAGE_ROUND_UP(address + length);
        if (vma->start < first)
            vma_split(mm, index++, first);
        if (mm->vmas[index].end > last)
            vma_split(mm, index, last);
        vma = &mm->vmas[index];
        if (make_pages_private(mm, vma) < 0)
            return NULL;
        vma->patched_code = true;
    }
    return memory_at(vma_memory_offset(vma, address));
}

long mm_map_named(struct mm *mm, uint64_t address, uint64_t length, int protection, int flags, const char *name)
{
    long mapped = mm_map(mm, address, length, protection, flags | MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    if (mapped >= 0) {
        struct vma *vma = &mm->vmas[vma_lower_bound(mm, (uint64_t)mapped)];
        snprintf(vma->name, sizeof(vma->name), "%s", name);
    }
    return mapped;
}

long mm_protect(struct mm *mm, uint64_t address, uint64_t length, int protection)
{
    if (address & (PAGE_SIZE - 1))
        return -EINVAL;
    if (protection & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
        return -EINVAL;
    protection &= PROT_READ | PROT_WRITE | PROT_EXEC;
    uint64_t end = PAGE_ROUND_UP(address + length);
    if (end < address)
        return -ENOMEM;
    if (length == 0)
        return 0;
    syscall_patches_withdraw(mm, address, end);
    /* The whole range must be mapped, without holes. */
    uint64_t cursor = address;
    for (size_t index = vma_lower_bound(mm, address); cursor < end; index++) {
        if (index >= mm->vma_count || mm->vmas[index].start > cursor)
            return -ENOMEM;
        cursor = mm->vmas[index].end;
    }
    size_t index = vma_lower_bound(mm, address);
    if (mm->vmas[index].start < address)
        vma_split(mm, index++, address);
    for (; index < mm->vma_count && mm->vmas[index].start < end; index++) {
        if (mm->vmas[index].end > end)
            vma_split(mm, index, end);
        mm->vmas[index].protection = protection;
        if ((protection & PROT_WRITE) && mm->vmas[index].file_pages) {
            int error = make_pages_private(mm, &mm->vmas[index]);
            if (error < 0)
                return error;
        }
    }
    int error = sentry_platform->protect(mm->space, address, end - address, protection);
    return error < 0 ? -ENOMEM : 0;
}

long mm_brk(struct mm *mm, uint64_t address)
{
    if (address < mm->brk_start)
        return (long)mm->brk_end;
    uint64_t old_top = PAGE_ROUND_UP(mm->brk_end), new_top = PAGE_ROUND_UP(address);
    if (new_top > old_top) {
        if (new_top - mm->brk_start > mm->brk_limit || !range_is_free(mm, old_top, new_top))
            return (long)mm->brk_end;
        long mapped = mm_map(mm, old_top, new_top - old_top, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
        if (mapped < 0)
            return (long)mm->brk_end;
        const struct vma *vma = mm_find_vma(mm, old_top);
        if (vma)
            snprintf(((struct vma *)vma)->name, sizeof(vma->name), "[heap]");
    } else if (new_top < old_top) {
        mm_unmap(mm, new_top, old_top - new_top);
    }
    mm->brk_end = address;
    return (long)address;
}

/* mremap of a shared mapping: the same pages at the destination (the file's further pages when it grows),
 * so that every other mapping still sees them. -ENODEV: a read-only host file's copy, moved like a private
 * mapping by the caller. */
static long remap_shared(struct mm *mm, const struct vma *old, uint64_t old_address, uint64_t old_length,
                         uint64_t new_length, uint64_t destination, bool duplicate)
{
    struct vfs_shared_pages pages = {0};
    uint64_t file_offset = old->file_offset + (old_address - old->start);
    if (old->file) {
        int error = vfs_file_map_shared(old->file, file_offset, new_length, &pages);
        if (error < 0)
            return error == -ENODEV ? -ENODEV : -ENOMEM;
    } else {
        if (new_length > old_length)
            return -EINVAL; /* anonymous shared memory cannot grow yet */
        pages.pieces = xcalloc(1, sizeof(*pages.pieces));
        pages.pieces[0] = (struct vfs_shared_piece){
            .region = old->region, .region_offset = old->region_offset + (old_address - old->start), .length = new_length};
        pages.count = 1;
        memory_region_get(old->region);
    }
    struct vfs_file *file = old->file;
    if (file)
        vfs_file_get(file); /* the old VMA's reference may go with it */
    if (!duplicate) {
        unmap_range(mm, old_address, old_address + old_length);
        if (destination != old_address)
            sentry_platform->unmap(mm->space, old_address, old_length);
    }
    int error = install_pieces(mm, destination, old->protection, old->flags, file, file_offset,
                               !old->shared_read_only, &pages);
    if (file)
        vfs_file_put(file);
    return error < 0 ? error : (long)destination;
}

long mm_remap(struct mm *mm, uint64_t old_address, uint64_t old_length, uint64_t new_length, int flags,
              uint64_t new_address)
{
    if (old_address & (PAGE_SIZE - 1))
        return -EINVAL;
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if (flags & MREMAP_DONTUNMAP)
        return -EINVAL;  /* not supported yet; Linux allows it only for private anonymous mappings */
    old_length = PAGE_ROUND_UP(old_length);
    new_length = PAGE_ROUND_UP(new_length);
    if (new_length == 0)
        return -EINVAL;
    syscall_patches_withdraw(mm, old_address, old_address + MAX(old_length, new_length));
    if (flags & MREMAP_FIXED)
        syscall_patches_withdraw(mm, new_address, new_address + new_length);
    const struct vma *found = mm_find_vma(mm, old_address);
    if (!found || found->start > old_address)
        return -EFAULT;
    /* old_length 0 duplicates a shared mapping (Linux allows it for shared ones only, and only to move). */
    bool duplicate = old_length == 0;
    if (duplicate && (!(found->flags & MAP_SHARED) || !(flags & MREMAP_MAYMOVE)))
        return -EINVAL;
    if (duplicate)
        old_length = MIN(new_length, found->end - old_address);
    if (old_address + old_length > found->end)
        return -EFAULT;
    if (!(flags & MREMAP_FIXED) && new_length <= old_length && !duplicate) {
        if (new_length < old_length)
            mm_unmap(mm, old_address + new_length, old_length - new_length);
        return (long)old_address;
    }
    struct vma old = *found;
    uint64_t destination;
    if (flags & MREMAP_FIXED) {
        if (new_address & (PAGE_SIZE - 1))
            return -EINVAL;
        if (new_address < old_address + old_length && old_address < new_address + new_length)
            return -EINVAL;
        destination = new_address;
    } else if (!duplicate && range_is_free(mm, old_address + old_length, old_address + new_length) &&
               old_address + new_length <= APPLICATION_ADDRESS_LIMIT) {
        destination = old_address;
    } else if (flags & MREMAP_MAYMOVE) {
        destination = find_free_range(mm, new_length);
        if (destination == 0)
            return -ENOMEM;
    } else {
        return -ENOMEM;
    }
    if (old.flags & MAP_SHARED) {
        long moved = remap_shared(mm, &old, old_address, old_length, new_length, destination, duplicate);
        if (moved != -ENODEV)
            return moved;
    }
    struct memory_region *region = memory_region_new(new_length);
    if (!region)
        return -ENOMEM;
    memory_copy(region->offset, vma_memory_offset(&old, old_address), MIN(old_length, new_length));
    struct vma moved = old;
    moved.start = destination;
    moved.end = destination + new_length;
    moved.region = region;
    moved.region_offset = 0;
    moved.file_pages = false;
    moved.file_offset = old.file ? old.file_offset + (old_address - old.start) : 0;
    if (moved.file)
        vfs_file_get(moved.file);
    unmap_range(mm, old_address, old_address + old_length);
    if (destination != old_address)
        sentry_platform->unmap(mm->space, old_address, old_length);
    unmap_range(mm, destination, destination + new_length);
    vma_insert(mm, vma_lower_bound(mm, destination), &moved);
    if (stub_map(mm, &moved) < 0)
        return -ENOMEM;
    return (long)destination;
}

struct mm *mm_fork(struct mm *parent)
{
    struct mm *child = mm_new();
    if (!child)
        return NULL;
    child->brk_start = parent->brk_start;
    child->brk_end = parent->brk_end;
    child->brk_limit = parent->brk_limit;
    child->mmap_top = parent->mmap_top;
    child->stack_start = parent->stack_start;
    child->arg_start = parent->arg_start;
    child->arg_end = parent->arg_end;
    child->env_start = parent->env_start;
    child->env_end = parent->env_end;
    syscall_patches_copy(child, parent);
    if (parent->executable) {
        child->executable = parent->executable;
        vfs_file_get(child->executable);
    }
    for (size_t i = 0; i < parent->vma_count; i++) {
        struct vma vma = parent->vmas[i];
        vma.locked = false;  /* memory locks are not inherited (mlock(2)) */
        if ((vma.flags & MAP_SHARED) || vma.file_pages) {
            vma.region->references++;
        } else {
            struct memory_region *copy = memory_region_new(vma.end - vma.start);
            if (!copy) {
                mm_put(child);
                return NULL;
            }
            memory_copy(copy->offset, vma_memory_offset(&vma, vma.start), vma.end - vma.start);
            vma.region = copy;
            vma.region_offset = 0;
        }
        if (vma.file)
            vfs_file_get(vma.file);
        vma_insert(child, child->vma_count, &vma);
        if (stub_map(child, &vma) < 0) {
            mm_put(child);
            return NULL;
        }
    }
    return child;
}

int mm_clear(struct mm *mm)
{
    for (size_t i = 0; i < mm->vma_count; i++)
        vma_release(&mm->vmas[i]);
    mm->vma_count = 0;
    mm->brk_start = mm->brk_end = 0;
    syscall_patches_release(mm);
    if (mm->executable) {
        vfs_file_put(mm->executable);
        mm->executable = NULL;
    }
    int error = sentry_platform->unmap(mm->space, MINIMUM_MAP_ADDRESS, APPLICATION_ADDRESS_LIMIT - MINIMUM_MAP_ADDRESS);
    return error;
}

/* Walk [address, address+length) page-run by page-run; each run lies in one VMA with the needed access. */
static int mm_access(struct mm *mm, uint64_t address, size_t length, bool write, bool force, void *buffer)
{
    if (length == 0)
        return 0;
    if (address + length < address || address + length > APPLICATION_ADDRESS_LIMIT)
        return -EFAULT;
    uint8_t *cursor = buffer;
    while (length > 0) {
        const struct vma *vma = mm_find_vma(mm, address);
        if (!vma || vma->start > address)
            return -EFAULT;
        if (!force && !(vma->protection & (write ? PROT_WRITE : PROT_READ)))
            return -EFAULT;
        if (write && vma->file_pages)
            return -EFAULT; /* the file's own pages: never written through a private mapping */
        size_t run = MIN(length, vma->end - address);
        uint8_t *memory = memory_at(vma_memory_offset(vma, address));
        if (write)
            memcpy(memory, cursor, run);
        else
            memcpy(cursor, memory, run);
        cursor += run;
        address += run;
        length -= run;
    }
    return 0;
}

int mm_copy_in(struct mm *mm, void *destination, uint64_t address, size_t length)
{
    return mm_access(mm, address, length, false, false, destination);
}

uint32_t *mm_word_for_atomic_update(struct mm *mm, uint64_t address)
{
    if (address & 3)
        return NULL;
    const struct vma *vma = mm_find_vma(mm, address);
    if (!vma || vma->start > address || !(vma->protection & PROT_WRITE) || vma->file_pages)
        return NULL;
    return memory_at(vma_memory_offset(vma, address));
}

int mm_copy_out(struct mm *mm, uint64_t address, const void *source, size_t length, bool force)
{
    return mm_access(mm, address, length, true, force, (void *)source);
}

/* Whether next continues vma as one mapping: Linux shows a private file mapping whose pages were partly
 * copied as one line; here such a mapping was split where syscall patching copied pages. */
static bool vma_continues(const struct vma *vma, const struct vma *next)
{
    return (vma->patched_code || next->patched_code) && vma->end == next->start && vma->file &&
           vma->file == next->file &&
           vma->file_offset + (vma->end - vma->start) == next->file_offset && vma->protection == next->protection &&
           vma->flags == next->flags && !(vma->flags & MAP_SHARED);
}

void mm_describe_maps(struct mm *mm, const struct vfs_context *ctx, struct text_buffer *out)
{
    for (size_t i = 0; i < mm->vma_count; i++) {
        const struct vma *vma = &mm->vmas[i];
        uint64_t end = vma->end;
        while (i + 1 < mm->vma_count && vma_continues(&mm->vmas[i], &mm->vmas[i + 1]))
            end = mm->vmas[++i].end;
        struct stat file_stat = {0};
        struct text_buffer path = {0};
        if (vma->file) {
            vfs_fstat(vma->file, &file_stat);
            vfs_file_describe_path(vma->file, ctx, &path);
        }
        text_buffer_append(out, "%012lx-%012lx %c%c%c%c %08lx %02x:%02x %-10lu %s\n", (unsigned long)vma->start,
                           (unsigned long)end, vma->protection & PROT_READ ? 'r' : '-',
                           vma->protection & PROT_WRITE ? 'w' : '-', vma->protection & PROT_EXEC ? 'x' : '-',
                           vma->flags & MAP_SHARED ? 's' : 'p', (unsigned long)vma->file_offset,
                           (unsigned)(file_stat.st_dev >> 8) & 0xff, (unsigned)file_stat.st_dev & 0xff,
                           (unsigned long)file_stat.st_ino, vma->file ? (path.data ? path.data : "") : vma->name);
        text_buffer_free(&path);
    }
}
