/* tests/unit/test_sentry_control.c: the exec request parser against hostile messages: every count, length,
 * terminator and flag is checked before anything is allocated, and a well-formed request comes out whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/internal.h"

struct message {
    char bytes[SENTRY_EXEC_MESSAGE_MAXIMUM + 64];
    size_t length;
};

/* A request with the given strings (cwd, then arguments, then environment), groups 10 and 20. */
static void build(struct message *message, uint32_t argument_count, uint32_t environment_count,
                  const char *const *strings, size_t string_count)
{
    struct sentry_exec_request header = {.magic = SENTRY_EXEC_MAGIC, .version = SENTRY_EXEC_VERSION,
                                         .uid = 1000, .gid = 100, .group_count = 2,
                                         .argument_count = argument_count, .environment_count = environment_count};
    uint32_t groups[2] = {10, 20};
    size_t offset = sizeof(header) + sizeof(groups);
    for (size_t i = 0; i < string_count; i++) {
        size_t length = strlen(strings[i]) + 1;
        memcpy(message->bytes + offset, strings[i], length);
        offset += length;
    }
    header.strings_length = (uint32_t)(offset - sizeof(header) - sizeof(groups));
    memcpy(message->bytes, &header, sizeof(header));
    memcpy(message->bytes + sizeof(header), groups, sizeof(groups));
    message->length = offset;
}

static struct sentry_exec_request *header_of(struct message *message)
{
    return (struct sentry_exec_request *)message->bytes;
}

static const char *const good_strings[] = {"/tmp", "sh", "-c", "echo hi", "PATH=/bin", "A=b"};

static void test_well_formed_request(void **state)
{
    (void)state;
    static struct message message;
    build(&message, 3, 2, good_strings, 6);
    struct control_request request;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), 0);
    assert_string_equal(request.cwd, "/tmp");
    assert_string_equal(request.argv[0], "sh");
    assert_string_equal(request.argv[2], "echo hi");
    assert_null(request.argv[3]);
    assert_string_equal(request.envp[1], "A=b");
    assert_null(request.envp[2]);
    assert_int_equal(request.header.uid, 1000);
    assert_int_equal(request.groups[1], 20);
    control_request_free(&request);
}

static void test_empty_environment(void **state)
{
    (void)state;
    static struct message message;
    const char *const strings[] = {"/", "true"};
    build(&message, 1, 0, strings, 2);
    struct control_request request;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), 0);
    assert_null(request.envp[0]);
    control_request_free(&request);
}

static void test_short_or_long_messages(void **state)
{
    (void)state;
    static struct message message;
    build(&message, 3, 2, good_strings, 6);
    struct control_request request;
    for (size_t length = 0; length < message.length; length++)
        assert_int_equal(control_parse_request(message.bytes, length, &request), -EINVAL);
    assert_int_equal(control_parse_request(message.bytes, message.length + 1, &request), -EINVAL);
    assert_int_equal(control_parse_request(message.bytes, SENTRY_EXEC_MESSAGE_MAXIMUM + 1, &request), -E2BIG);
}

static void test_bad_header_fields(void **state)
{
    (void)state;
    static struct message message;
    struct control_request request;
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->magic ^= 1;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->version = 2;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->flags = 0x80;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->flags = SENTRY_EXEC_HAS_UMASK;
    header_of(&message)->umask = 01000;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->group_count = SENTRY_EXEC_GROUPS_MAXIMUM + 1;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -E2BIG);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->argument_count = 0;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -E2BIG);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->argument_count = UINT32_MAX;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -E2BIG);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->environment_count = UINT32_MAX;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -E2BIG);
    build(&message, 3, 2, good_strings, 6);
    header_of(&message)->strings_length = UINT32_MAX;
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
}

static void test_string_counts_must_match(void **state)
{
    (void)state;
    static struct message message;
    struct control_request request;
    build(&message, 3, 3, good_strings, 6);  /* one string short */
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    build(&message, 3, 1, good_strings, 6);  /* one string left over */
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    build(&message, 3, 2, good_strings, 6);
    message.bytes[message.length - 1] = 'x';  /* the last string is not terminated */
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
}

static void test_cwd_and_program_checked(void **state)
{
    (void)state;
    static struct message message;
    struct control_request request;
    const char *const relative[] = {"tmp", "sh"};
    build(&message, 1, 0, relative, 2);
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
    const char *const empty_program[] = {"/", ""};
    build(&message, 1, 0, empty_program, 2);
    assert_int_equal(control_parse_request(message.bytes, message.length, &request), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_request),   cmocka_unit_test(test_empty_environment),
        cmocka_unit_test(test_short_or_long_messages), cmocka_unit_test(test_bad_header_fields),
        cmocka_unit_test(test_string_counts_must_match), cmocka_unit_test(test_cwd_and_program_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
