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

/* The first site at or after address. */
static size_t site_position(const struct syscall_patches *patches, uint64_t address)
{
    size_t low = 0, high = patches->site_count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (patches->sites[middle].address < address)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

static const struct syscall_patch_site *find_site(const struct syscall_patches *patches, uint64_t address)
{
    size_t position = site_position(patches, address);
    return position < patches->site_count && patches->sites[position].address == address ? &patches->sites[position]
                                                                                         : NULL;
}

static void remember_site(struct syscall_patches *patches, uint64_t address, const uint8_t *original)
{
    if (patches->site_count == patches->site_capacity) {
        size_t capacity = patches->site_capacity ? patches->site_capacity * 2 : 32;
        patches->sites = xrealloc(patches->sites, capacity * sizeof(*patches->sites));
        patches->site_capacity = capacity;
    }
    size_t position = site_position(patches, address);
    memmove(&patches->sites[position + 1], &patches->sites[position],
            (patches->site_count - position) * sizeof(*patches->sites));
    patches->sites[position].address = address;
    memcpy(patches->sites[position].original, original, PLATFORM_PATCH_SIZE);
    patches->site_count++;
}

/* The site still holds our patch (the application may have unmapped or rewritten it since), and its thunk
 * still returns right after it. */
static bool site_is_patched(struct mm *mm, uint64_t site)
{
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

enum syscall_patch_fault syscall_patch_classify_fault(struct mm *mm, uint64_t rip)
{
    const struct syscall_patches *patches = &mm->patches;
    const struct syscall_patch_site *site = find_site(patches, rip - PLATFORM_PATCH_SYSCALL_OFFSET);
    if (!patches->withdrawn)
        return site && site_is_patched(mm, site->address) ? SYSCALL_PATCH_FAULT_SYSCALL : SYSCALL_PATCH_FAULT_NONE;
    /* Withdrawn: a thread that met the invalid opcode while the site was being restored runs it again. */
    if (!site)
        site = find_site(patches, rip);
    uint8_t code[PLATFORM_PATCH_SIZE];
    if (!site || mm_copy_in(mm, code, site->address, sizeof(code)) < 0 ||
        memcmp(code, site->original, sizeof(code)) != 0)
        return SYSCALL_PATCH_FAULT_NONE;
    return SYSCALL_PATCH_FAULT_RETRY;
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

/* A site's 7 bytes change between "mov; syscall" and "jmp *thunk" while other threads may run them: through
 * states that each either run one of the two or fault on an invalid opcode the Sentry recognises. Patching:
 * the syscall instruction's first byte becomes the invalid one, then the rest, then the first byte. Restoring:
 * the first byte becomes invalid, then the rest are restored, then the first byte. */
static void write_patch(uint8_t *code, const uint8_t patch[PLATFORM_PATCH_SIZE])
{
    __atomic_store_n(&code[PLATFORM_PATCH_SYSCALL_OFFSET], patch[PLATFORM_PATCH_SYSCALL_OFFSET], __ATOMIC_SEQ_CST);
    for (int i = 1; i < PLATFORM_PATCH_SIZE; i++)
        __atomic_store_n(&code[i], patch[i], __ATOMIC_SEQ_CST);
    __atomic_store_n(&code[0], patch[0], __ATOMIC_SEQ_CST);
}

static void restore_original(uint8_t *code, const uint8_t original[PLATFORM_PATCH_SIZE])
{
    __atomic_store_n(&code[0], code[PLATFORM_PATCH_SYSCALL_OFFSET], __ATOMIC_SEQ_CST); /* the invalid opcode */
    for (int i = 1; i < PLATFORM_PATCH_SIZE; i++)
        __atomic_store_n(&code[i], original[i], __ATOMIC_SEQ_CST);
    __atomic_store_n(&code[0], original[0], __ATOMIC_SEQ_CST);
}

void syscall_patches_withdraw(struct mm *mm, uint64_t start, uint64_t end)
{
    struct syscall_patches *patches = &mm->patches;
    if (!patches->table_mapped || end <= PLATFORM_THUNK_TABLE_ADDRESS ||
        start >= PLATFORM_THUNK_TABLE_ADDRESS + PLATFORM_THUNK_TABLE_SIZE)
        return;
    for (size_t i = 0; i < patches->site_count; i++) {
        const struct syscall_patch_site *site = &patches->sites[i];
        uint8_t *code = site_is_patched(mm, site->address) ? mm_private_code(mm, site->address, PLATFORM_PATCH_SIZE)
                                                            : NULL;
        if (code)
            restore_original(code, site->original);
    }
    patches->table_mapped = false;
    patches->table_unavailable = true;
    patches->withdrawn = true;
    mm_unmap(mm, PLATFORM_THUNK_TABLE_ADDRESS, PLATFORM_THUNK_TABLE_SIZE);
}

static void patch_site(struct mm *mm, uint64_t return_address, uint64_t number)
{
    struct syscall_patches *patches = &mm->patches;
    const uint64_t site = return_address - PLATFORM_PATCH_SIZE;
    uint8_t code[PLATFORM_PATCH_SIZE];
    if (mm_copy_in(mm, code, site, sizeof(code)) < 0 ||
        !platform_is_patchable_syscall(code, number))
        return;
    if ((uint64_t)patches->thunk_count * PLATFORM_THUNK_SIZE >= PLATFORM_THUNK_TABLE_SIZE)
        return;
    /* Only code of a private, executable file mapping (mm_private_code says which), and only once the table
     * is there: a page copied for a process whose table's place is taken is copied for nothing, once. */
    uint8_t *writable = mm_private_code(mm, site, PLATFORM_PATCH_SIZE);
    if (!writable || !map_table(mm))
        return;
    uint64_t thunk_address = PLATFORM_THUNK_TABLE_ADDRESS + (uint64_t)patches->thunk_count * PLATFORM_THUNK_SIZE;
    uint8_t thunk[PLATFORM_THUNK_SIZE];
    platform_write_thunk(thunk, thunk_address, code, return_address);
    if (mm_copy_out(mm, thunk_address, thunk, sizeof(thunk), true) < 0)
        return;
    patches->thunk_count++;
    uint8_t patch[PLATFORM_PATCH_SIZE];
    platform_write_patch(patch, thunk_address);
    remember_site(patches, site, code);
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
    copy->sites = NULL;
    copy->site_capacity = 0;
    if (parent->patches.site_count) {
        copy->sites = xcalloc(parent->patches.site_count, sizeof(*copy->sites));
        memcpy(copy->sites, parent->patches.sites, parent->patches.site_count * sizeof(*copy->sites));
        copy->site_capacity = parent->patches.site_count;
    }
}

void syscall_patches_release(struct mm *mm)
{
    free(mm->patches.sites);
    memset(&mm->patches, 0, sizeof(mm->patches));
}
