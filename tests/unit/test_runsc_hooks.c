/* tests/unit/test_runsc_hooks.c: OCI hooks run on the host: the state JSON arrives on stdin, args and env
 * are the hook's own, and a failing, missing or overdue hook stops the list with a message naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runsc/hooks.h"

static char output[] = "/tmp/hook-test-XXXXXX";

static void test_state_on_stdin_with_args_and_env(void **state)
{
    (void)state;
    int fd = mkstemp(output);
    assert_true(fd >= 0);
    close(fd);
    char script[512];
    snprintf(script, sizeof(script), "cat > %s; echo \" $0 $1 $GREETING\" >> %s", output, output);
    char *args[] = {"sh", "-c", script, "zero", "first-arg", NULL};
    char *env[] = {"GREETING=hello", NULL};
    struct oci_hook hooks[] = {{.path = "/bin/sh", .args = args, .env = env, .timeout = 5}};
    struct oci_hook_list list = {hooks, 1};
    char error[256];
    assert_int_equal(oci_hooks_run(&list, "prestart", "{\"id\":\"c1\"}", error, sizeof(error)), 0);
    FILE *file = fopen(output, "r");
    char line[256] = "";
    assert_non_null(fgets(line, sizeof(line), file));
    fclose(file);
    unlink(output);
    assert_string_equal(line, "{\"id\":\"c1\"} zero first-arg hello\n");
}

static void test_failures_name_the_hook(void **state)
{
    (void)state;
    char *fail_args[] = {"sh", "-c", "exit 3", NULL};
    char *ok_args[] = {"sh", "-c", "exit 0", NULL};
    struct oci_hook hooks[] = {{.path = "/bin/sh", .args = ok_args}, {.path = "/bin/sh", .args = fail_args}};
    struct oci_hook_list list = {hooks, 2};
    char error[256];
    assert_int_equal(oci_hooks_run(&list, "poststop", "{}", error, sizeof(error)), -1);
    assert_string_equal(error, "hooks.poststop[1] (/bin/sh): exited with status 3");

    struct oci_hook missing[] = {{.path = "/nonexistent/hook"}};
    list = (struct oci_hook_list){missing, 1};
    assert_int_equal(oci_hooks_run(&list, "createRuntime", "{}", error, sizeof(error)), -1);
    assert_string_equal(error, "hooks.createRuntime[0] (/nonexistent/hook): exited with status 127");

    /* a hook that never reads its stdin and outlives its timeout */
    char *sleep_args[] = {"sleep", "10", NULL};
    struct oci_hook slow[] = {{.path = "/bin/sleep", .args = sleep_args, .timeout = 1}};
    list = (struct oci_hook_list){slow, 1};
    time_t started = time(NULL);
    assert_int_equal(oci_hooks_run(&list, "poststart", "{}", error, sizeof(error)), -1);
    assert_true(time(NULL) - started < 5);
    assert_string_equal(error, "hooks.poststart[0] (/bin/sleep): timed out after 1 s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_on_stdin_with_args_and_env),
        cmocka_unit_test(test_failures_name_the_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
