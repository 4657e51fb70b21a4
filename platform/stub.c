/* platform/stub.c: the stub's fixed trampoline page and the seccomp filter every stub runs under.
 * The filter is hand-written BPF because libseccomp cannot compare seccomp_data.instruction_pointer. */
#include "platform/internal.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* The trampoline: "syscall; int3". The Sentry points a stopped stub's registers at it to make the stub
 * change its own mappings; the int3 stops it again right after the host call. */
static const uint8_t trampoline_code[] = {0x0f, 0x05, 0xcc};

/* Host syscalls a stub may make, and only from the trampoline: mapping the memory file, forking a new
 * stub from the template, a new host thread for an application thread, and dying. Everything else, from anywhere, kills the stub. Under ptrace's
 * PTRACE_SYSEMU application syscalls never reach this filter; it is the second wall should the Sentry
 * ever resume a stub with the wrong request. */
static const int stub_allowed_syscalls[] = {
    SYS_mmap, SYS_munmap, SYS_mprotect, SYS_fork, SYS_clone, SYS_exit, SYS_exit_group, SYS_seccomp,
};

#define STUB_FILTER_MAXIMUM 32

size_t stub_build_filter(struct sock_filter *program, size_t capacity, uint64_t allowed_instruction_pointer)
{
    size_t count = 0;
#define EMIT(instruction) \
    do { \
        if (count >= capacity) \
            return 0; \
        program[count++] = (struct sock_filter)instruction; \
    } while (0)
    const size_t syscall_count = ARRAY_SIZE(stub_allowed_syscalls);
    /* Layout: arch check, ip check (low, high), nr checks, then the two verdicts at the end. */
    const size_t kill_index = 6 + syscall_count + 1;
    EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, (uint8_t)(kill_index - 2)));
    EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)));
    EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed_instruction_pointer, 0, (uint8_t)(kill_index - 4)));
    EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4));
    EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(allowed_instruction_pointer >> 32), 0,
                  (uint8_t)(kill_index - 6)));
    EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    for (size_t i = 0; i < syscall_count; i++) {
        size_t here = count;
        size_t allow_index = kill_index + 1;
        EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)stub_allowed_syscalls[i], (uint8_t)(allow_index - here - 1),
                      0));
    }
    EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT
    return count;
}

/* Build the page once in the Sentry before any stub exists; stubs inherit it through fork. */
int stub_page_install(void)
{
    void *page = mmap((void *)STUB_CODE_ADDRESS, STUB_REGION_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED)
        return -errno;
    if ((uint64_t)page != STUB_CODE_ADDRESS)
        return -EEXIST;
    memcpy(page, trampoline_code, sizeof(trampoline_code));
    struct sock_filter *program = (struct sock_filter *)((uint8_t *)page + STUB_FILTER_OFFSET);
    size_t length = stub_build_filter(program, STUB_FILTER_MAXIMUM, STUB_SYSCALL_RETURN_ADDRESS);
    if (length == 0)
        return -E2BIG;
    struct sock_fprog *header = (struct sock_fprog *)((uint8_t *)page + STUB_FILTER_HEADER_OFFSET);
    header->len = (unsigned short)length;
    header->filter = program;
    if (mprotect(page, STUB_REGION_SIZE, PROT_READ | PROT_EXEC) < 0)
        return -errno;
    return 0;
}
