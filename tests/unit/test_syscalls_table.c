/* tests/unit/test_syscalls_table.c: the static syscall table: names, numbers, round trips and argument counts.
 * Links only syscalls/table.c's object (it references no handler and no Sentry symbol). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "syscalls/syscalls.h"

static int argument_count(const struct syscall_description *description)
{
    int count = 0;
    while (count < 6 && description->arguments[count] != SYSCALL_ARGUMENT_NONE)
        count++;
    return count;
}

static void test_known_numbers(void **state)
{
    (void)state;
    assert_string_equal(syscall_name(0), "read");
    assert_string_equal(syscall_name(1), "write");
    assert_string_equal(syscall_name(59), "execve");
    assert_string_equal(syscall_name(231), "exit_group");
    assert_string_equal(syscall_name(257), "openat");
    assert_string_equal(syscall_name(334), "rseq");
    assert_string_equal(syscall_name(424), "pidfd_send_signal");
    assert_string_equal(syscall_name(435), "clone3");
    assert_string_equal(syscall_name(451), "cachestat");
    assert_string_equal(syscall_name(462), "mseal");
    assert_int_equal(syscall_number_by_name("read"), 0);
    assert_int_equal(syscall_number_by_name("execve"), 59);
    assert_int_equal(syscall_number_by_name("exit_group"), 231);
    assert_int_equal(syscall_number_by_name("openat"), 257);
    assert_int_equal(syscall_number_by_name("rseq"), 334);
    assert_int_equal(syscall_number_by_name("clone3"), 435);
    assert_int_equal(syscall_number_by_name("mseal"), 462);
}

static void test_unassigned_and_unknown(void **state)
{
    (void)state;
    for (uint64_t number = 335; number <= 423; number++) {
        const struct syscall_description *description = syscall_describe(number);
        assert_non_null(description);
        assert_null(description->name);
    }
    assert_string_equal(syscall_name(400), "syscall_400");
    assert_string_equal(syscall_name(335), "syscall_335");
    assert_string_equal(syscall_name(423), "syscall_423");
    /* The name of an unassigned number stays valid after another is asked. */
    const char *first = syscall_name(400);
    (void)syscall_name(401);
    assert_string_equal(first, "syscall_400");
    assert_string_equal(syscall_name(463), "syscall_463");
    assert_null(syscall_describe(SYSCALL_TABLE_SIZE));
    assert_null(syscall_describe(UINT64_MAX));
    assert_int_equal(syscall_number_by_name("no_such_syscall"), -1);
    assert_int_equal(syscall_number_by_name(""), -1);
    assert_int_equal(syscall_number_by_name(NULL), -1);
    assert_int_equal(syscall_number_by_name("syscall_400"), -1);
}

static void test_every_name_round_trips(void **state)
{
    (void)state;
    int assigned = 0;
    for (uint64_t number = 0; number < SYSCALL_TABLE_SIZE; number++) {
        const struct syscall_description *description = syscall_describe(number);
        assert_non_null(description);
        assert_null(description->handler);
        bool expected_assigned = number <= 334 || number >= 424;
        assert_int_equal(description->name != NULL, expected_assigned);
        if (!description->name)
            continue;
        assigned++;
        assert_int_equal(syscall_number_by_name(description->name), (int)number);
        assert_string_equal(syscall_name(number), description->name);
        /* Arguments are a prefix: no declared argument after a missing one. */
        int count = argument_count(description);
        for (int i = count; i < 6; i++)
            assert_int_equal(description->arguments[i], SYSCALL_ARGUMENT_NONE);
    }
    assert_int_equal(assigned, 335 + 39);
}

/* The host's headers name what they know; the table must agree with every one of them. */
static void test_matches_host_headers(void **state)
{
    (void)state;
    static const struct {
        int number;
        const char *name;
    } host[] = {
        { SYS_read, "read" },           { SYS_pread64, "pread64" },     { SYS_sendfile, "sendfile" },
        { SYS_getdents, "getdents" },   { SYS__sysctl, "_sysctl" },     { SYS_arch_prctl, "arch_prctl" },
        { SYS_newfstatat, "newfstatat" }, { SYS_umount2, "umount2" },   { SYS_epoll_ctl_old, "epoll_ctl_old" },
        { SYS_fadvise64, "fadvise64" }, { SYS_prlimit64, "prlimit64" }, { SYS_statx, "statx" },
        { SYS_io_uring_setup, "io_uring_setup" }, { SYS_close_range, "close_range" },
        { SYS_openat2, "openat2" },     { SYS_faccessat2, "faccessat2" }, { SYS_futex_waitv, "futex_waitv" },
        { SYS_set_mempolicy_home_node, "set_mempolicy_home_node" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(host); i++)
        assert_string_equal(syscall_name((uint64_t)host[i].number), host[i].name);
}

static void test_argument_counts(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int count;
    } expected[] = {
        { "read", 3 },     { "close", 1 },     { "mmap", 6 },        { "openat", 4 },   { "open", 3 },
        { "execve", 3 },   { "exit_group", 1 }, { "getpid", 0 },     { "rt_sigreturn", 0 }, { "clone", 5 },
        { "futex", 6 },    { "pselect6", 6 },  { "preadv2", 6 },     { "statx", 5 },    { "renameat2", 5 },
        { "fchmodat", 3 }, { "faccessat", 3 }, { "faccessat2", 4 },  { "fchmodat2", 4 }, { "openat2", 4 },
        { "clone3", 2 },   { "rseq", 4 },      { "mseal", 3 },       { "futex_wait", 6 }, { "sched_yield", 0 },
        { "wait4", 4 },    { "splice", 6 },    { "ppoll", 5 },       { "preadv", 5 },   { "close_range", 3 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
        int number = syscall_number_by_name(expected[i].name);
        assert_true(number >= 0);
        const struct syscall_description *description = syscall_describe((uint64_t)number);
        if (argument_count(description) != expected[i].count)
            fail_msg("%s: %d arguments, expected %d", expected[i].name, argument_count(description),
                     expected[i].count);
    }
}

static void test_argument_kinds(void **state)
{
    (void)state;
    const struct syscall_description *openat = syscall_describe(257);
    assert_int_equal(openat->arguments[0], SYSCALL_ARGUMENT_FD);
    assert_int_equal(openat->arguments[1], SYSCALL_ARGUMENT_PATH);
    assert_int_equal(openat->arguments[2], SYSCALL_ARGUMENT_OPEN_FLAGS);
    assert_int_equal(openat->arguments[3], SYSCALL_ARGUMENT_OCTAL);
    const struct syscall_description *read = syscall_describe(0);
    assert_int_equal(read->arguments[1], SYSCALL_ARGUMENT_BUFFER_OUT);
    const struct syscall_description *write = syscall_describe(1);
    assert_int_equal(write->arguments[1], SYSCALL_ARGUMENT_BUFFER_IN);
    assert_int_equal(syscall_describe(59)->arguments[1], SYSCALL_ARGUMENT_STRING_ARRAY);
    assert_int_equal(syscall_describe(62)->arguments[1], SYSCALL_ARGUMENT_SIGNAL);
    /* A buffer argument is always followed by its length. */
    for (uint64_t number = 0; number < SYSCALL_TABLE_SIZE; number++) {
        const struct syscall_description *description = syscall_describe(number);
        for (int i = 0; i < 5; i++) {
            if (description->arguments[i] == SYSCALL_ARGUMENT_BUFFER_IN ||
                description->arguments[i] == SYSCALL_ARGUMENT_BUFFER_OUT)
                assert_int_equal(description->arguments[i + 1], SYSCALL_ARGUMENT_UNSIGNED);
        }
        assert_true(description->arguments[5] != SYSCALL_ARGUMENT_BUFFER_IN &&
                    description->arguments[5] != SYSCALL_ARGUMENT_BUFFER_OUT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_numbers),
        cmocka_unit_test(test_unassigned_and_unknown),
        cmocka_unit_test(test_every_name_round_trips),
        cmocka_unit_test(test_matches_host_headers),
        cmocka_unit_test(test_argument_counts),
        cmocka_unit_test(test_argument_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
