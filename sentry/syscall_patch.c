/* sentry/syscall_patch.c: patching hot syscall sites of an address space into jumps to the platform's fast
 * path (platform.h explains the encoding), and recognising the old syscall instruction of a patched site. */
#include "sentry/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A patch costs a private copy of a code page and a remapping in the stub (tens of microseconds); a trapped
 * syscall costs a signal (a few). Sites that short-lived programs call a handful of times stay as they are. */
#define SYSCALL_PATCH_THRESHOLD 16

static size_t counter_index(uint64_t address) { return (size_t)((address * 0x9e3779b97f4a7c15ULL) >> 58); }

static size_t syscall_byte_position(const struct syscall_patches *patches, uint64_t address)
{
    size_t low = 0, high = patches->syscall_byte_count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (patches->syscall_bytes[middle] < address)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

/* A site we patched, still holding our patch (the application may have unmapped or rewritten it since), whose
 * thunk still returns right after it. */
bool syscall_patch_is_old_syscall(struct mm *mm, uint64_t rip)
{
    const struct syscall_patches *patches = &mm->patches;
    size_t position = syscall_byte_position(patches, rip);
    if (position == patches->syscall_byte_count || patches->syscall_bytes[position] != rip)
        return false;
    const uint64_t site = rip - PLATFORM_PATCH_SYSCALL_OFFSET;
    uint8_t code[PLATFORM_PATCH_SIZE], expected[PLATFORM_PATCH_SIZE];
    uint32_t thunk_address;
    if (mm_copy_in(mm, code, site, sizeof(code)) < 0)
        return false;
    memcpy(&thunk_address, code + 3, sizeof(thunk_address));
    platform_write_patch(expected, thunk_address);
    uint8_t thunk[PLATFORM_THUNK_SIZE];
    if (memcmp(code, expected, sizeof(code)) != 0 || thunk_address < PLATFORM_THUNK_TABLE_ADDRESS ||
        mm_copy_in(mm, thunk, thunk_address, sizeof(thunk)) < 0)
        return false;
    return platform_thunk_return_address(thunk) == site + PLATFORM_PATCH_SIZE;
}

static void remember_syscall_byte(struct syscall_patches *patches, uint64_t address)
{
    if (patches->syscall_byte_count == patches->syscall_byte_capacity) {
        size_t capacity = patches->syscall_byte_capacity ? patches->syscall_byte_capacity * 2 : 32;
        patches->syscall_bytes = xrealloc(patches->syscall_bytes, capacity * sizeof(uint64_t));
        patches->syscall_byte_capacity = capacity;
    }
    size_t position = syscall_byte_position(patches, address);
    memmove(&patches->syscall_bytes[position + 1], &patches->syscall_bytes[position],
            (patches->syscall_byte_count - position) * sizeof(uint64_t));
    patches->syscall_bytes[position] = address;
    patches->syscall_byte_count++;
}

/* The thunk table: at its fixed place, or nowhere (an application mapping is there: nothing is patched). */
static bool map_table(struct mm *mm)
{
    struct syscall_patches *patches = &mm->patches;
    if (patches->table_mapped || patches->table_unavailable)
        return patches->table_mapped;
    long mapped = mm_map_named(mm, PLATFORM_THUNK_TABLE_ADDRESS, PLATFORM_THUNK_TABLE_SIZE, PROT_READ | PROT_EXEC,
                               MAP_FIXED_NOREPLACE, "[syscall thunks]");
    uint8_t header[PLATFORM_THUNK_SIZE];
    platform_write_thunk_table_header(header);
    if (mapped != (long)PLATFORM_THUNK_TABLE_ADDRESS ||
        mm_copy_out(mm, PLATFORM_THUNK_TABLE_ADDRESS, header, sizeof(header), true) < 0) {
        patches->table_unavailable = true;
        return false;
    }
    patches->table_mapped = true;
    patches->thunk_count = 1;
    return true;
}

/* The site's bytes go from "mov; syscall" to "jmp *thunk" through states that each either run the old code
 * or fault at the old syscall instruction: other threads may be running them. */
static void write_patch(uint8_t *code, const uint8_t patch[PLATFORM_PATCH_SIZE])
{
    __atomic_store_n(&code[PLATFORM_PATCH_SYSCALL_OFFSET], patch[PLATFORM_PATCH_SYSCALL_OFFSET], __ATOMIC_SEQ_CST);
    for (int i = 1; i < PLATFORM_PATCH_SIZE; i++)
        __atomic_store_n(&code[i], patch[i], __ATOMIC_SEQ_CST);
    __atomic_store_n(&code[0], patch[0], __ATOMIC_SEQ_CST);
}

static void patch_site(struct mm *mm, uint64_t return_address, uint64_t number)
{
    struct syscall_patches *patches = &mm->patches;
    const uint64_t site = return_address - PLATFORM_PATCH_SIZE;
    uint8_t code[PLATFORM_PATCH_SIZE];
    if (mm_copy_in(mm, code, site, sizeof(code)) < 0 ||
        !platform_is_patchable_syscall(code, number))
        return;
    const struct vma *vma = mm_find_vma(mm, site);
    if (!vma || vma->end < return_address || !vma->file || !(vma->protection & PROT_EXEC) ||
        (vma->flags & MAP_SHARED))
        return;
    if ((uint64_t)patches->thunk_count * PLATFORM_THUNK_SIZE >= PLATFORM_THUNK_TABLE_SIZE || !map_table(mm))
        return;
    uint64_t thunk_address = PLATFORM_THUNK_TABLE_ADDRESS + (uint64_t)patches->thunk_count * PLATFORM_THUNK_SIZE;
    uint8_t thunk[PLATFORM_THUNK_SIZE];
    platform_write_thunk(thunk, thunk_address, code, return_address);
    if (mm_copy_out(mm, thunk_address, thunk, sizeof(thunk), true) < 0)
        return;
    uint8_t *writable = mm_private_code(mm, site, PLATFORM_PATCH_SIZE);
    if (!writable)
        return;
    patches->thunk_count++;
    uint8_t patch[PLATFORM_PATCH_SIZE];
    platform_write_patch(patch, thunk_address);
    remember_syscall_byte(patches, site + PLATFORM_PATCH_SYSCALL_OFFSET);
    write_patch(writable, patch);
}

void syscall_patch_count_hit(struct mm *mm, const struct user_regs_struct *registers)
{
    struct syscall_patches *patches = &mm->patches;
    if (patches->table_unavailable)
        return;
    uint64_t address = registers->rip;
    size_t index = counter_index(address);
    if (patches->counters[index].address != address) {
        patches->counters[index].address = address;
        patches->counters[index].hits = 0;
    }
    if (++patches->counters[index].hits == SYSCALL_PATCH_THRESHOLD)
        patch_site(mm, address, registers->orig_rax);
}

void syscall_patches_copy(struct mm *child, const struct mm *parent)
{
    struct syscall_patches *copy = &child->patches;
    *copy = parent->patches;
    copy->syscall_bytes = NULL;
    copy->syscall_byte_capacity = 0;
    if (parent->patches.syscall_byte_count) {
        copy->syscall_bytes = xcalloc(parent->patches.syscall_byte_count, sizeof(uint64_t));
        memcpy(copy->syscall_bytes, parent->patches.syscall_bytes,
               parent->patches.syscall_byte_count * sizeof(uint64_t));
        copy->syscall_byte_capacity = parent->patches.syscall_byte_count;
    }
}

void syscall_patches_release(struct mm *mm)
{
    free(mm->patches.syscall_bytes);
    memset(&mm->patches, 0, sizeof(mm->patches));
}
