/* tests/unit/test_syscalls_strace.c: the pure --strace formatters (syscalls/strace_format.c): errno and signal
 * names, open flags, modes, fds, pointers, escaped buffers and results. Needs no Sentry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "syscalls/strace_format.h"

/* Each check formats into a fresh buffer and compares the whole text. */
#define ASSERT_FORMATS(expected, call)             \
    do {                                           \
        struct text_buffer out = { 0 };            \
        call;                                      \
        text_buffer_append_bytes(&out, "", 1);     \
        assert_string_equal(out.data, expected);   \
        text_buffer_free(&out);                    \
    } while (0)

static void test_errno_names(void **state)
{
    (void)state;
    assert_string_equal(strace_errno_name(2), "ENOENT");
    assert_string_equal(strace_errno_description(2), "No such file or directory");
    assert_string_equal(strace_errno_name(1), "EPERM");
    assert_string_equal(strace_errno_name(11), "EAGAIN");
    assert_string_equal(strace_errno_name(38), "ENOSYS");
    assert_string_equal(strace_errno_name(133), "EHWPOISON");
    assert_string_equal(strace_errno_name(512), "ERESTARTSYS");
    assert_null(strace_errno_name(0));
    assert_null(strace_errno_name(41));
    assert_null(strace_errno_name(400));
    assert_null(strace_errno_description(400));
}

static void test_signals(void **state)
{
    (void)state;
    ASSERT_FORMATS("SIGINT", strace_format_signal(&out, 2));
    ASSERT_FORMATS("SIGKILL", strace_format_signal(&out, 9));
    ASSERT_FORMATS("SIGPIPE", strace_format_signal(&out, 13));
    ASSERT_FORMATS("SIGIO", strace_format_signal(&out, 29));
    ASSERT_FORMATS("SIGSYS", strace_format_signal(&out, 31));
    ASSERT_FORMATS("SIGRTMIN", strace_format_signal(&out, 32));
    ASSERT_FORMATS("SIGRT_3", strace_format_signal(&out, 35));
    ASSERT_FORMATS("SIGRT_32", strace_format_signal(&out, 64));
    ASSERT_FORMATS("0", strace_format_signal(&out, 0));
    ASSERT_FORMATS("65", strace_format_signal(&out, 65));
    ASSERT_FORMATS("-1", strace_format_signal(&out, -1));
}

static void test_open_flags(void **state)
{
    (void)state;
    ASSERT_FORMATS("O_RDONLY", strace_format_open_flags(&out, 0, true));
    ASSERT_FORMATS("O_RDONLY|O_CLOEXEC", strace_format_open_flags(&out, 02000000, true));
    ASSERT_FORMATS("O_WRONLY|O_CREAT|O_TRUNC", strace_format_open_flags(&out, 01 | 0100 | 01000, true));
    ASSERT_FORMATS("O_RDWR|O_APPEND|O_NONBLOCK", strace_format_open_flags(&out, 02 | 02000 | 04000, true));
    ASSERT_FORMATS("O_ACCMODE", strace_format_open_flags(&out, 03, true));
    ASSERT_FORMATS("O_RDONLY|O_DIRECTORY|O_NOFOLLOW", strace_format_open_flags(&out, 0200000 | 0400000, true));
    /* O_SYNC contains O_DSYNC and O_TMPFILE contains O_DIRECTORY: each named once */
    ASSERT_FORMATS("O_WRONLY|O_SYNC", strace_format_open_flags(&out, 01 | 04010000, true));
    ASSERT_FORMATS("O_RDONLY|O_DSYNC", strace_format_open_flags(&out, 010000, true));
    ASSERT_FORMATS("O_RDWR|O_TMPFILE", strace_format_open_flags(&out, 02 | 020200000, true));
    ASSERT_FORMATS("O_RDONLY|O_LARGEFILE|O_PATH", strace_format_open_flags(&out, 0100000 | 010000000, true));
    ASSERT_FORMATS("O_RDONLY|0100000000", strace_format_open_flags(&out, 0100000000, true));
    /* pipe2, dup3: no access mode */
    ASSERT_FORMATS("0", strace_format_open_flags(&out, 0, false));
    ASSERT_FORMATS("O_CLOEXEC", strace_format_open_flags(&out, 02000000, false));
    ASSERT_FORMATS("O_NONBLOCK|O_CLOEXEC", strace_format_open_flags(&out, 02004000, false));
    ASSERT_FORMATS("O_CLOEXEC|01", strace_format_open_flags(&out, 02000001, false));
}

static void test_numbers(void **state)
{
    (void)state;
    ASSERT_FORMATS("0644", strace_format_octal(&out, 0644));
    ASSERT_FORMATS("0", strace_format_octal(&out, 0));
    ASSERT_FORMATS("01777", strace_format_octal(&out, 01777));
    ASSERT_FORMATS("AT_FDCWD", strace_format_fd(&out, (uint64_t)-100));
    ASSERT_FORMATS("AT_FDCWD", strace_format_fd(&out, 0xffffff9c));
    ASSERT_FORMATS("3", strace_format_fd(&out, 3));
    ASSERT_FORMATS("-1", strace_format_fd(&out, (uint64_t)-1));
    ASSERT_FORMATS("NULL", strace_format_pointer(&out, 0));
    ASSERT_FORMATS("0x7ffd1000", strace_format_pointer(&out, 0x7ffd1000));
}

static void test_escaped(void **state)
{
    (void)state;
    ASSERT_FORMATS("\"root:x:0:0\"", strace_format_escaped(&out, "root:x:0:0", 10, false));
    ASSERT_FORMATS("\"root:x:0:0\"...", strace_format_escaped(&out, "root:x:0:0", 10, true));
    ASSERT_FORMATS("\"\"", strace_format_escaped(&out, "", 0, false));
    ASSERT_FORMATS("\"a\\nb\\tc\\r\\\\\\\"\"", strace_format_escaped(&out, "a\nb\tc\r\\\"", 8, false));
    ASSERT_FORMATS("\"\\v\\f\"", strace_format_escaped(&out, "\v\f", 2, false));
    /* non-printable bytes: shortest octal, three digits when an octal digit follows */
    ASSERT_FORMATS("\"\\177ELF\\2\\1\\1\\0\"", strace_format_escaped(&out, "\177ELF\2\1\1\0", 8, false));
    ASSERT_FORMATS("\"\\0001\"", strace_format_escaped(&out, "\0" "1", 2, false));
    ASSERT_FORMATS("\"\\08\"", strace_format_escaped(&out, "\0" "8", 2, false));
    ASSERT_FORMATS("\"\\377\"", strace_format_escaped(&out, "\377", 1, false));
}

static void test_results(void **state)
{
    (void)state;
    ASSERT_FORMATS(" = 3", strace_format_result(&out, 257, 3));
    ASSERT_FORMATS(" = 0", strace_format_result(&out, 3, 0));
    ASSERT_FORMATS(" = -1 ENOENT (No such file or directory)", strace_format_result(&out, 257, -2));
    ASSERT_FORMATS(" = -1 EBADF (Bad file descriptor)", strace_format_result(&out, 0, -9));
    ASSERT_FORMATS(" = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
                   strace_format_result(&out, 0, -512));
    ASSERT_FORMATS(" = -1 (errno 4000)", strace_format_result(&out, 0, -4000));
    /* mmap's value is an address, shown in hex even when it looks negative as a long */
    ASSERT_FORMATS(" = 0x7f0000001000", strace_format_result(&out, 9, 0x7f0000001000));
    ASSERT_FORMATS(" = 0xffffffffff600000", strace_format_result(&out, 9, (long)0xffffffffff600000UL));
    ASSERT_FORMATS(" = -1 ENOMEM (Cannot allocate memory)", strace_format_result(&out, 9, -12));
    ASSERT_FORMATS(" = 0x555555559000", strace_format_result(&out, 12, 0x555555559000));
    ASSERT_FORMATS(" = -5000", strace_format_result(&out, 8, -5000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_names), cmocka_unit_test(test_signals), cmocka_unit_test(test_open_flags),
        cmocka_unit_test(test_numbers),     cmocka_unit_test(test_escaped), cmocka_unit_test(test_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
