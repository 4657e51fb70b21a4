/* tests/unit/test_sentry_mm.c: address-space bookkeeping over the memory file, against a fake platform that
 * records what the stub would be told: placement, splitting, protections, brk, mremap and fork semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "sentry/internal.h"

static int fake_maps, fake_unmaps, fake_protects;
static int fake_initialize(int fd) { (void)fd; return 0; }
static int fake_space_new(struct platform_address_space **space, struct platform_context **thread)
{
    static int dummy;
    *space = (struct platform_address_space *)&dummy;
    *thread = (struct platform_context *)&dummy;
    return 0;
}
static void fake_space_destroy(struct platform_address_space *space) { (void)space; }
static int fake_map(struct platform_address_space *s, uint64_t a, uint64_t l, int p, uint64_t o)
{
    (void)s; (void)a; (void)l; (void)p; (void)o;
    fake_maps++;
    return 0;
}
static int fake_unmap(struct platform_address_space *s, uint64_t a, uint64_t l)
{
    (void)s; (void)a; (void)l;
    fake_unmaps++;
    return 0;
}
static int fake_protect(struct platform_address_space *s, uint64_t a, uint64_t l, int p)
{
    (void)s; (void)a; (void)l; (void)p;
    fake_protects++;
    return 0;
}
static const struct platform_ops fake_platform = {
    .name = "fake", .initialize = fake_initialize, .address_space_new = fake_space_new,
    .address_space_destroy = fake_space_destroy, .map = fake_map, .unmap = fake_unmap, .protect = fake_protect,
};

static int setup(void **state)
{
    (void)state;
    static bool memory_ready;
    if (!memory_ready) {
        assert_true(memory_initialize() >= 0);
        memory_ready = true;
    }
    sentry_platform = &fake_platform;
    return 0;
}

static void test_anonymous_mapping_reads_zero_and_round_trips(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    long address = mm_map(mm, 0, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    assert_true(address > 0);
    assert_int_equal(address % PAGE_SIZE, 0);
    char buffer[16] = "x";
    assert_int_equal(mm_copy_in(mm, buffer, (uint64_t)address + PAGE_SIZE, sizeof(buffer)), 0);
    assert_int_equal(buffer[0], 0);
    assert_int_equal(mm_copy_out(mm, (uint64_t)address + 100, "hello", 6, false), 0);
    assert_int_equal(mm_copy_in(mm, buffer, (uint64_t)address + 100, 6), 0);
    assert_string_equal(buffer, "hello");
    mm_put(mm);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    assert_int_equal(mm_map(mm, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -EINVAL);
    assert_int_equal(mm_map(mm, 0x100001, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
                     -EINVAL);
    assert_int_equal(mm_map(mm, APPLICATION_ADDRESS_LIMIT, PAGE_SIZE, PROT_READ,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), -ENOMEM);
    assert_int_equal(mm_map(mm, 0, UINT64_MAX - 10, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -ENOMEM);
    assert_int_equal(mm_map(mm, 0, PAGE_SIZE, 0x100, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -EINVAL);
    assert_int_equal(mm_unmap(mm, 0x100001, PAGE_SIZE), -EINVAL);
    assert_int_equal(mm_unmap(mm, 0x100000, 0), -EINVAL);
    assert_int_equal(mm_copy_in(mm, &(char){0}, 0x1000, 1), -EFAULT);
    assert_int_equal(mm_copy_in(mm, &(char){0}, UINT64_MAX - 1, 2), -EFAULT);
    mm_put(mm);
}

static void test_fixed_noreplace_and_overlap(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    uint64_t base = 0x200000;
    assert_int_equal(mm_map(mm, base, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                            NULL, 0), (long)base);
    assert_int_equal(mm_map(mm, base + PAGE_SIZE, PAGE_SIZE, PROT_READ,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0), -EEXIST);
    /* A hint that collides is moved elsewhere, not refused. */
    long moved = mm_map(mm, base, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    assert_true(moved > 0 && (uint64_t)moved != base);
    /* MAP_FIXED over the middle replaces it: three VMAs from one, contents of the ends kept. */
    assert_int_equal(mm_copy_out(mm, base, "A", 1, false), 0);
    assert_int_equal(mm_map(mm, base + PAGE_SIZE, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL,
                            0), (long)(base + PAGE_SIZE));
    char byte = 0;
    assert_int_equal(mm_copy_in(mm, &byte, base, 1), 0);
    assert_int_equal(byte, 'A');
    assert_int_equal(mm_copy_out(mm, base + PAGE_SIZE, "B", 1, false), -EFAULT);
    mm_put(mm);
}

static void test_protect_splits_and_enforces(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    long address = mm_map(mm, 0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    assert_int_equal(mm_protect(mm, (uint64_t)address + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
    assert_int_equal(mm_copy_out(mm, (uint64_t)address, "a", 1, false), 0);
    assert_int_equal(mm_copy_out(mm, (uint64_t)address + PAGE_SIZE, "a", 1, false), -EFAULT);
    assert_int_equal(mm_copy_out(mm, (uint64_t)address + 2 * PAGE_SIZE, "a", 1, false), 0);
    /* A write spanning into the read-only page fails as a whole. */
    assert_int_equal(mm_copy_out(mm, (uint64_t)address + PAGE_SIZE - 1, "ab", 2, false), -EFAULT);
    /* ptrace-style forced writes (the loader's) go through. */
    assert_int_equal(mm_copy_out(mm, (uint64_t)address + PAGE_SIZE, "a", 1, true), 0);
    assert_int_equal(mm_protect(mm, (uint64_t)address, PAGE_SIZE, PROT_NONE), 0);
    char byte;
    assert_int_equal(mm_copy_in(mm, &byte, (uint64_t)address, 1), -EFAULT);
    /* A hole in the range: ENOMEM, as Linux. */
    assert_int_equal(mm_unmap(mm, (uint64_t)address + 2 * PAGE_SIZE, PAGE_SIZE), 0);
    assert_int_equal(mm_protect(mm, (uint64_t)address, 4 * PAGE_SIZE, PROT_READ), -ENOMEM);
    assert_int_equal(mm_protect(mm, (uint64_t)address + 1, PAGE_SIZE, PROT_READ), -EINVAL);
    mm_put(mm);
}

static void test_brk_grows_and_shrinks(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    mm->brk_start = mm->brk_end = 0x600000;
    mm->brk_limit = 1 << 30;
    assert_int_equal(mm_brk(mm, 0), 0x600000);
    assert_int_equal(mm_brk(mm, 0x600000 + 10000), 0x600000 + 10000);
    assert_int_equal(mm_copy_out(mm, 0x600000 + 9999, "z", 1, false), 0);
    assert_int_equal(mm_brk(mm, 0x600000 + 100), 0x600000 + 100);
    char byte;
    assert_int_equal(mm_copy_in(mm, &byte, 0x600000 + 5000, 1), -EFAULT);
    /* Below the start: unchanged, reported as the current break. */
    assert_int_equal(mm_brk(mm, 0x100000), 0x600000 + 100);
    mm_put(mm);
}

static void test_mremap_keeps_contents(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    long address = mm_map(mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    assert_int_equal(mm_copy_out(mm, (uint64_t)address + 10, "kept", 5, false), 0);
    /* Block growth in place, so the mapping must move. */
    assert_int_equal(mm_map(mm, (uint64_t)address + PAGE_SIZE, PAGE_SIZE, PROT_READ,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), address + (long)PAGE_SIZE);
    assert_int_equal(mm_remap(mm, (uint64_t)address, PAGE_SIZE, 8 * PAGE_SIZE, 0, 0), -ENOMEM);
    long moved = mm_remap(mm, (uint64_t)address, PAGE_SIZE, 8 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
    assert_true(moved > 0 && moved != address);
    char buffer[5];
    assert_int_equal(mm_copy_in(mm, buffer, (uint64_t)moved + 10, 5), 0);
    assert_string_equal(buffer, "kept");
    assert_int_equal(mm_copy_in(mm, buffer, (uint64_t)address + 10, 1), -EFAULT);
    assert_int_equal(mm_remap(mm, (uint64_t)moved, 8 * PAGE_SIZE, 2 * PAGE_SIZE, 0, 0), moved);
    assert_int_equal(mm_copy_in(mm, buffer, (uint64_t)moved + 3 * PAGE_SIZE, 1), -EFAULT);
    assert_int_equal(mm_remap(mm, (uint64_t)moved, PAGE_SIZE, PAGE_SIZE, 0x80, 0), -EINVAL);
    mm_put(mm);
}

static void test_fork_copies_private_and_shares_shared(void **state)
{
    (void)state;
    struct mm *parent = mm_new();
    long private_area = mm_map(parent, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    long shared_area = mm_map(parent, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, NULL, 0);
    assert_int_equal(mm_copy_out(parent, (uint64_t)private_area, "p", 1, false), 0);
    struct mm *child = mm_fork(parent);
    assert_non_null(child);
    char byte;
    assert_int_equal(mm_copy_in(child, &byte, (uint64_t)private_area, 1), 0);
    assert_int_equal(byte, 'p');
    assert_int_equal(mm_copy_out(child, (uint64_t)private_area, "c", 1, false), 0);
    assert_int_equal(mm_copy_in(parent, &byte, (uint64_t)private_area, 1), 0);
    assert_int_equal(byte, 'p');
    assert_int_equal(mm_copy_out(child, (uint64_t)shared_area, "s", 1, false), 0);
    assert_int_equal(mm_copy_in(parent, &byte, (uint64_t)shared_area, 1), 0);
    assert_int_equal(byte, 's');
    mm_put(parent);
    /* The shared pages outlive the parent's mapping. */
    assert_int_equal(mm_copy_in(child, &byte, (uint64_t)shared_area, 1), 0);
    assert_int_equal(byte, 's');
    mm_put(child);
}

static void test_freed_memory_is_reused_as_zeros(void **state)
{
    (void)state;
    struct mm *mm = mm_new();
    long first = mm_map(mm, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    assert_int_equal(mm_copy_out(mm, (uint64_t)first, "secret", 7, false), 0);
    assert_int_equal(mm_unmap(mm, (uint64_t)first, 2 * PAGE_SIZE), 0);
    long second = mm_map(mm, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    char buffer[7];
    assert_int_equal(mm_copy_in(mm, buffer, (uint64_t)second, sizeof(buffer)), 0);
    for (size_t i = 0; i < sizeof(buffer); i++)
        assert_int_equal(buffer[i], 0);
    mm_put(mm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_anonymous_mapping_reads_zero_and_round_trips, setup),
        cmocka_unit_test_setup(test_bad_arguments, setup),
        cmocka_unit_test_setup(test_fixed_noreplace_and_overlap, setup),
        cmocka_unit_test_setup(test_protect_splits_and_enforces, setup),
        cmocka_unit_test_setup(test_brk_grows_and_shrinks, setup),
        cmocka_unit_test_setup(test_mremap_keeps_contents, setup),
        cmocka_unit_test_setup(test_fork_copies_private_and_shares_shared, setup),
        cmocka_unit_test_setup(test_freed_memory_is_reused_as_zeros, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
