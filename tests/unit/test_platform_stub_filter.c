/* tests/unit/test_platform_stub_filter.c: the stub's seccomp filter, installed for real in forked children:
 * host syscalls pass only from the trampoline address and only the few the trampoline needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/internal.h"

/* A page holding "syscall; ret": our stand-in trampoline at an address the test chooses. */
static uint8_t *make_trampoline(void)
{
    uint8_t *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(page != MAP_FAILED);
    page[0] = 0x0f;
    page[1] = 0x05;
    page[2] = 0xc3;
    return page;
}

static long call_trampoline(uint8_t *page, long number, long a0, long a1, long a2)
{
    long result;
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = -1;
    register long r9 __asm__("r9") = 0;
    /* Step over the red zone: "call" pushes a return address below the stack pointer. */
    __asm__ volatile("sub $128, %%rsp\n\tcall *%[page]\n\tadd $128, %%rsp"
                     : "=a"(result)
                     : [page] "r"(page), "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static void install_filter(uint8_t *page)
{
    struct sock_filter program[64];
    size_t length = stub_build_filter(program, ARRAY_SIZE(program), (uint64_t)(page + 2));
    if (length == 0)
        _exit(100);
    struct sock_fprog header = {.len = (unsigned short)length, .filter = program};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &header) < 0)
        _exit(101);
}

enum child_action { EXIT_FROM_TRAMPOLINE, EXIT_FROM_ELSEWHERE, GETPID_FROM_TRAMPOLINE, MMAP_FROM_TRAMPOLINE };

static int run_child(enum child_action action)
{
    uint8_t *page = make_trampoline();
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        install_filter(page);
        switch (action) {
        case EXIT_FROM_TRAMPOLINE:
            call_trampoline(page, SYS_exit_group, 42, 0, 0);
            break;
        case EXIT_FROM_ELSEWHERE:
            syscall(SYS_exit_group, 42);
            break;
        case GETPID_FROM_TRAMPOLINE:
            call_trampoline(page, SYS_getpid, 0, 0, 0);
            call_trampoline(page, SYS_exit_group, 43, 0, 0);
            break;
        case MMAP_FROM_TRAMPOLINE: {
            long address = call_trampoline(page, SYS_mmap, 0, PAGE_SIZE, PROT_READ | PROT_WRITE);
            /* flags (r10) are 0 and fd (r8) is -1: the kernel answers EBADF, which proves the call got through. */
            call_trampoline(page, SYS_exit_group, address == -EBADF ? 7 : 8, 0, 0);
            break;
        }
        }
        _exit(99);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    munmap(page, PAGE_SIZE);
    return status;
}

static void test_allowed_syscall_from_trampoline_passes(void **state)
{
    (void)state;
    int status = run_child(EXIT_FROM_TRAMPOLINE);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 42);
}

static void test_syscall_from_application_code_kills(void **state)
{
    (void)state;
    int status = run_child(EXIT_FROM_ELSEWHERE);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_other_syscall_from_trampoline_kills(void **state)
{
    (void)state;
    int status = run_child(GETPID_FROM_TRAMPOLINE);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_mapping_from_trampoline_reaches_the_kernel(void **state)
{
    (void)state;
    int status = run_child(MMAP_FROM_TRAMPOLINE);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 7);
}

static void test_filter_does_not_fit_small_buffer(void **state)
{
    (void)state;
    struct sock_filter program[4];
    assert_int_equal(stub_build_filter(program, ARRAY_SIZE(program), 0x1000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_syscall_from_trampoline_passes),
        cmocka_unit_test(test_syscall_from_application_code_kills),
        cmocka_unit_test(test_other_syscall_from_trampoline_kills),
        cmocka_unit_test(test_mapping_from_trampoline_reaches_the_kernel),
        cmocka_unit_test(test_filter_does_not_fit_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
