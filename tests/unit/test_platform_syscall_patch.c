/* tests/unit/test_platform_syscall_patch.c: the encodings of syscall patching: which sites qualify, the
 * patch's bytes (and its invalid sixth byte), and a thunk's layout, run for real in this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/mman.h>

#include "platform/internal.h"

static void test_which_sites_qualify(void **state)
{
    (void)state;
    const uint8_t wrapper[] = {0xb8, 0x6e, 0x00, 0x00, 0x00, 0x0f, 0x05};      /* mov $110,%eax; syscall */
    const uint8_t syscall_function[] = {0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05}; /* mov 0x8(%rsp),%r9 */
    const uint8_t go_wrapper[] = {0x48, 0x8b, 0x44, 0x24, 0x10, 0x0f, 0x05};    /* mov 0x10(%rsp),%rax */
    const uint8_t other_number[] = {0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05};
    const uint8_t not_syscall[] = {0xb8, 0x6e, 0x00, 0x00, 0x00, 0x0f, 0x0b};   /* ...; ud2 */
    const uint8_t store_to_stack[] = {0x48, 0x89, 0x44, 0x24, 0x08, 0x0f, 0x05}; /* mov %rax,0x8(%rsp) */
    const uint8_t rip_relative[] = {0x8b, 0x05, 0x00, 0x10, 0x00, 0x0f, 0x05};  /* 6-byte load: no */
    assert_true(platform_is_patchable_syscall(wrapper, 110));
    assert_false(platform_is_patchable_syscall(other_number, 110)); /* the mov must set this syscall's number */
    assert_true(platform_is_patchable_syscall(syscall_function, 202));
    assert_true(platform_is_patchable_syscall(go_wrapper, 0));
    assert_false(platform_is_patchable_syscall(not_syscall, 110));
    assert_false(platform_is_patchable_syscall(store_to_stack, 1));
    assert_false(platform_is_patchable_syscall(rip_relative, 1));
}

/* Every thunk address in the table puts the invalid opcode 0x06 where the syscall instruction was, and the
 * patch jumps through the thunk's first quadword. */
static void test_patch_bytes(void **state)
{
    (void)state;
    for (uint64_t thunk = PLATFORM_THUNK_TABLE_ADDRESS + PLATFORM_THUNK_SIZE;
         thunk < PLATFORM_THUNK_TABLE_ADDRESS + PLATFORM_THUNK_TABLE_SIZE; thunk += PLATFORM_THUNK_SIZE) {
        uint8_t patch[PLATFORM_PATCH_SIZE];
        platform_write_patch(patch, thunk);
        assert_int_equal(patch[PLATFORM_PATCH_SYSCALL_OFFSET], 0x06);
        assert_int_equal(patch[0], 0xff);
        uint32_t target;
        memcpy(&target, patch + 3, sizeof(target));
        assert_int_equal(target, thunk);
    }
}

/* A thunk at a real address, run: it performs the displaced instruction, sets rcx to the return address and
 * jumps through the table header; here the header points at "ret" after a test stub that stores rax and rcx. */
static void test_thunk_runs_the_displaced_instruction(void **state)
{
    (void)state;
    uint8_t *table = mmap((void *)PLATFORM_THUNK_TABLE_ADDRESS, PLATFORM_THUNK_TABLE_SIZE,
                          PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (table == MAP_FAILED)
        skip();
    /* The "fast entry" for this test: mov %rax, (%rdi); mov %rcx, 8(%rdi); ret (to the test's call). */
    static const uint8_t recorder[] = {0x48, 0x89, 0x07, 0x48, 0x89, 0x4f, 0x08, 0xc3};
    uint8_t *entry = table + PLATFORM_THUNK_TABLE_SIZE - 64;
    memcpy(entry, recorder, sizeof(recorder));
    platform_write_thunk_table_header(table);
    uint64_t entry_address = (uint64_t)entry;
    memcpy(table, &entry_address, sizeof(entry_address));
    const uint8_t displaced[PLATFORM_PATCH_DISPLACED_SIZE] = {0xb8, 0x2a, 0x00, 0x00, 0x00}; /* mov $42,%eax */
    uint64_t thunk_address = PLATFORM_THUNK_TABLE_ADDRESS + PLATFORM_THUNK_SIZE;
    platform_write_thunk(table + PLATFORM_THUNK_SIZE, thunk_address, displaced, 0x1234567890ULL);
    assert_int_equal(platform_thunk_return_address(table + PLATFORM_THUNK_SIZE), 0x1234567890ULL);
    assert_int_equal(platform_thunk_return_address(table), 0);  /* the header is no thunk */
    uint64_t recorded[2] = {0, 0};
    uint64_t target;
    memcpy(&target, table + PLATFORM_THUNK_SIZE, sizeof(target)); /* what the patch's jmp reads */
    __asm__ volatile("call *%[target]"
                     : "+D"((uint64_t *){recorded})
                     : [target] "r"(target)
                     : "rax", "rcx", "memory");
    assert_int_equal(recorded[0], 42);
    assert_int_equal(recorded[1], 0x1234567890ULL);
    munmap(table, PLATFORM_THUNK_TABLE_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which_sites_qualify),
        cmocka_unit_test(test_patch_bytes),
        cmocka_unit_test(test_thunk_runs_the_displaced_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
