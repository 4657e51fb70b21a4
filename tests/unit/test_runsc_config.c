/* tests/unit/test_runsc_config.c: config.json parsing: a minimal valid config, the defaults `spec` writes,
 * and each malformed field failing with a message that names its JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "runsc/oci_config.h"
#include "runsc/state.h"

#define MINIMAL_PROCESS "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}"
#define MINIMAL_ROOT "\"root\": {\"path\": \"rootfs\"}"

static char error[1024];

static int parse(const char *json, struct oci_config *config)
{
    error[0] = '\0';
    return oci_config_parse(json, "/bundle", config, error, sizeof(error));
}

/* The config must be refused with a message containing expected (the JSON path and what is wrong). */
static void expect_error(const char *json, const char *expected)
{
    struct oci_config config;
    assert_int_equal(parse(json, &config), -1);
    if (!strstr(error, expected))
        fail_msg("error \"%s\" does not mention \"%s\"", error, expected);
    assert_true(strncmp(error, "config.json: ", 13) == 0);
}

static void test_minimal_config(void **state)
{
    (void)state;
    struct oci_config config;
    assert_int_equal(parse("{\"ociVersion\": \"1.0.2\", " MINIMAL_PROCESS ", " MINIMAL_ROOT "}", &config), 0);
    assert_string_equal(config.process.args[0], "sh");
    assert_null(config.process.args[1]);
    assert_string_equal(config.process.cwd, "/");
    assert_string_equal(config.root_path, "/bundle/rootfs");
    assert_false(config.root_readonly);
    assert_false(config.process.terminal);
    assert_null(config.process.env[0]);
    assert_null(config.hostname);
    assert_int_equal(config.mount_count, 0);
    assert_int_equal(config.resources.memory_limit, -1);
    oci_config_free(&config);
}

static void test_full_config(void **state)
{
    (void)state;
    const char *json =
        "{\"ociVersion\": \"1.1.0\", \"hostname\": \"box\","
        " \"process\": {\"terminal\": true, \"args\": [\"/bin/sh\", \"-c\", \"true\"], \"env\": [\"A=1\", \"B=\"],"
        "  \"cwd\": \"/work\", \"user\": {\"uid\": 1000, \"gid\": 100, \"additionalGids\": [5, 6], \"umask\": 18},"
        "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096}],"
        "  \"noNewPrivileges\": true, \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"]}},"
        " \"root\": {\"path\": \"/abs/root\", \"readonly\": true},"
        " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "  {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"options\": [\"nosuid\", \"mode=1777\"]},"
        "  {\"destination\": \"/data\", \"source\": \"/host\", \"options\": [\"rbind\", \"ro\"]}],"
        " \"hooks\": {\"prestart\": [{\"path\": \"/bin/hook\", \"args\": [\"hook\", \"x\"], \"timeout\": 5}]},"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}],"
        "  \"resources\": {\"memory\": {\"limit\": 1048576}, \"pids\": {\"limit\": 10}, \"cpu\": {\"shares\": 512}}},"
        " \"annotations\": {\"k\": \"v\"}}";
    struct oci_config config;
    assert_int_equal(parse(json, &config), 0);
    assert_string_equal(config.hostname, "box");
    assert_true(config.process.terminal);
    assert_string_equal(config.process.env[1], "B=");
    assert_int_equal(config.process.uid, 1000);
    assert_int_equal(config.process.gid, 100);
    assert_int_equal(config.process.additional_gid_count, 2);
    assert_int_equal(config.process.additional_gids[1], 6);
    assert_true(config.process.has_umask);
    assert_int_equal(config.process.umask, 022);
    assert_int_equal(config.process.rlimit_count, 1);
    assert_int_equal(config.process.rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(config.process.rlimits[0].soft, 1024);
    assert_int_equal(config.process.rlimits[0].hard, 4096);
    assert_true(config.process.no_new_privileges);
    assert_int_equal(config.process.capabilities.bounding, (1 << 5) | (1 << 0)); /* CAP_KILL, CAP_CHOWN */
    assert_string_equal(config.root_path, "/abs/root");
    assert_true(config.root_readonly);
    assert_int_equal(config.mount_count, 3);
    assert_int_equal(config.mounts[0].kind, OCI_MOUNT_PROC);
    assert_int_equal(config.mounts[1].kind, OCI_MOUNT_TMPFS);
    assert_int_equal(config.mounts[1].mode, 01777);
    assert_int_equal(config.mounts[2].kind, OCI_MOUNT_BIND);
    assert_true(config.mounts[2].read_only);
    assert_int_equal(config.prestart.count, 1);
    assert_int_equal(config.prestart.hooks[0].timeout, 5);
    assert_int_equal(config.namespace_count, 2);
    assert_int_equal(config.namespaces[1].type, CLONE_NEWNET);
    assert_int_equal(config.resources.memory_limit, 1048576);
    assert_int_equal(config.resources.pids_limit, 10);
    assert_int_equal(config.resources.cpu_shares, 512);
    assert_string_equal(config.annotations[0], "k");
    assert_string_equal(config.annotations[1], "v");
    /* parses, but the bind mount's source (/host) does not exist: the check names the mount */
    assert_int_equal(oci_config_check_supported(&config, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "mounts[2]"));
    oci_config_free(&config);
}

static void test_spec_default_parses(void **state)
{
    (void)state;
    for (int rootless = 0; rootless <= 1; rootless++) {
        char *json = oci_config_default_json(rootless);
        struct oci_config config;
        assert_int_equal(parse(json, &config), 0);
        assert_string_equal(config.process.args[0], "sh");
        assert_true(config.process.terminal);
        assert_true(config.root_readonly);
        assert_string_equal(config.root_path, "/bundle/rootfs");
        assert_true(config.mount_count >= 5);
        assert_int_equal(oci_config_check_supported(&config, error, sizeof(error)), 0);
        oci_config_free(&config);
        free(json);
    }
}

#define WITH_PROCESS(process) "{\"ociVersion\": \"1.0.2\", " MINIMAL_ROOT ", \"process\": " process "}"
#define WITH(extra) "{\"ociVersion\": \"1.0.2\", " MINIMAL_PROCESS ", " MINIMAL_ROOT ", " extra "}"
#define USER "\"user\": {\"uid\": 0, \"gid\": 0}"

static void test_malformed_top_level(void **state)
{
    (void)state;
    expect_error("{not json", "not valid JSON");
    expect_error("[1, 2]", "must be a JSON object");
    expect_error("{" MINIMAL_PROCESS ", " MINIMAL_ROOT "}", "ociVersion: is required");
    expect_error("{\"ociVersion\": 1, " MINIMAL_PROCESS ", " MINIMAL_ROOT "}", "ociVersion: must be a string");
    expect_error("{\"ociVersion\": \"2.0.0\", " MINIMAL_PROCESS ", " MINIMAL_ROOT "}", "ociVersion: version");
    expect_error("{\"ociVersion\": \"1.0.2\", " MINIMAL_PROCESS "}", "root: is required");
    expect_error("{\"ociVersion\": \"1.0.2\", " MINIMAL_ROOT "}", "process: is required");
    expect_error("{\"ociVersion\": \"1.0.2\", " MINIMAL_PROCESS ", \"root\": {\"path\": \"\"}}", "root.path");
    expect_error("{\"ociVersion\": \"1.0.2\", " MINIMAL_PROCESS ", \"root\": {\"path\": \"r\", \"readonly\": 1}}",
                 "root.readonly: must be true or false");
    expect_error(WITH("\"hostname\": 5"), "hostname: must be a string");
    expect_error(WITH("\"annotations\": {\"a\": 1}"), "annotations.a: must be a string");
}

static void test_malformed_process(void **state)
{
    (void)state;
    expect_error(WITH_PROCESS("{\"args\": [], \"cwd\": \"/\", " USER "}"),
                 "process.args: must be a non-empty array of strings");
    expect_error(WITH_PROCESS("{\"args\": \"sh\", \"cwd\": \"/\", " USER "}"), "process.args: must be a non-empty");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\", 3], \"cwd\": \"/\", " USER "}"), "process.args[1]: must be a string");
    expect_error(WITH_PROCESS("{\"cwd\": \"/\", " USER "}"), "process.args");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], " USER "}"), "process.cwd: is required");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"work\", " USER "}"),
                 "process.cwd: must be an absolute path");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\"}"), "process.user: is required");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": -1, \"gid\": 0}}"),
                 "process.user.uid: must be between");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0}}"),
                 "process.user.gid: is required");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": \"0\"}}"),
                 "process.user.gid: must be an integer");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0, "
                              "\"additionalGids\": [1, \"x\"]}}"),
                 "process.user.additionalGids[1]: must be an integer");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER ", \"env\": [\"NOEQUALS\"]}"),
                 "process.env[0]: must be NAME=VALUE");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER ", \"terminal\": \"yes\"}"),
                 "process.terminal: must be true or false");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER
                              ", \"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]}"),
                 "process.rlimits[0].type: unknown rlimit");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER
                              ", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 1}]}"),
                 "process.rlimits[0]: soft limit");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER
                              ", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1}]}"),
                 "process.rlimits[0].soft");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER
                              ", \"capabilities\": {\"effective\": [\"CAP_FLY\"]}}"),
                 "process.capabilities.effective[0]: unknown capability");
    expect_error(WITH_PROCESS("{\"args\": [\"sh\"], \"cwd\": \"/\", " USER ", \"noNewPrivileges\": 1}"),
                 "process.noNewPrivileges: must be true or false");
}

static void test_malformed_mounts(void **state)
{
    (void)state;
    expect_error(WITH("\"mounts\": {}"), "mounts: must be an array");
    expect_error(WITH("\"mounts\": [5]"), "mounts[0]: must be an object");
    expect_error(WITH("\"mounts\": [{\"type\": \"tmpfs\"}]"), "mounts[0].destination: is required");
    expect_error(WITH("\"mounts\": [{\"destination\": \"tmp\", \"type\": \"tmpfs\"}]"),
                 "mounts[0].destination: must be an absolute path");
    expect_error(WITH("\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"},"
                      " {\"destination\": \"/x\", \"type\": \"nfs\", \"source\": \"s\"}]"),
                 "mounts[1].type: unknown mount type \"nfs\"");
    expect_error(WITH("\"mounts\": [{\"destination\": \"/x\"}]"), "mounts[0].type: is required");
    expect_error(WITH("\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\"}]"),
                 "mounts[0].source: is required for a bind mount");
    expect_error(WITH("\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"mode=9z\"]}]"),
                 "mounts[0].options[0]");
    expect_error(WITH("\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": \"ro\"}]"),
                 "mounts[0].options: must be an array of strings");
}

static void test_malformed_linux_and_hooks(void **state)
{
    (void)state;
    expect_error(WITH("\"linux\": {\"namespaces\": [{\"type\": \"bogus\"}]}"),
                 "linux.namespaces[0].type: unknown namespace type");
    expect_error(WITH("\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}"),
                 "linux.namespaces[1].type: the pid namespace is given twice");
    expect_error(WITH("\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"netns\"}]}"),
                 "linux.namespaces[0].path: must be an absolute path");
    expect_error(WITH("\"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}"),
                 "linux.resources.memory.limit: must be an integer");
    expect_error(WITH("\"linux\": {\"resources\": {\"pids\": {\"limit\": -5}}}"), "linux.resources.pids.limit");
    expect_error(WITH("\"hooks\": {\"prestart\": [{\"args\": [\"x\"]}]}"), "hooks.prestart[0].path: is required");
    expect_error(WITH("\"hooks\": {\"poststop\": [{\"path\": \"relative\"}]}"),
                 "hooks.poststop[0].path: must be an absolute path");
    expect_error(WITH("\"hooks\": {\"poststart\": [{\"path\": \"/x\", \"timeout\": 0}]}"),
                 "hooks.poststart[0].timeout");

    struct oci_config config;
    assert_int_equal(parse(WITH("\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/run/netns/x\"}]}"),
                           &config),
                     0);
    assert_int_equal(oci_config_check_supported(&config, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "linux.namespaces[0]"));
    oci_config_free(&config);
}

static void test_container_ids(void **state)
{
    (void)state;
    const char *valid[] = {"a", "abc", "A1", "0_x.y-z", "podman-1234abcd"};
    const char *invalid[] = {"", "-a", ".a", "_a", "a/b", "a b", "..", "a\n", "é"};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        assert_int_equal(state_validate_id(valid[i], error, sizeof(error)), 0);
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        assert_int_equal(state_validate_id(invalid[i], error, sizeof(error)), -1);
        assert_non_null(strstr(error, "invalid container id"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_config),
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_spec_default_parses),
        cmocka_unit_test(test_malformed_top_level),
        cmocka_unit_test(test_malformed_process),
        cmocka_unit_test(test_malformed_mounts),
        cmocka_unit_test(test_malformed_linux_and_hooks),
        cmocka_unit_test(test_container_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
