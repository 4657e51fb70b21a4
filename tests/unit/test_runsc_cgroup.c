/* tests/unit/test_runsc_cgroup.c: cgroup paths from linux.cgroupsPath (absolute, relative, systemd's
 * slice:prefix:name, none), and cgroup_enter/cgroup_remove on fake v1 and v2 trees: limits written in each
 * controller's format, the pid moved in, what was made recorded and removed, refusals with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runsc/cgroup.h"

static char error[512];

static struct oci_config config_with(const char *cgroups_path)
{
    struct oci_config config;
    memset(&config, 0, sizeof(config));
    config.cgroups_path = (char *)cgroups_path;
    config.resources = (struct oci_resources){.memory_limit = -1, .pids_limit = -1, .cpu_quota = -1};
    return config;
}

static void expect_path(const char *cgroups_path, bool systemd, const char *own, const char *expected)
{
    struct oci_config config = config_with(cgroups_path);
    char *path = cgroup_path_for(&config, "c1", systemd, own);
    if (!expected) {
        assert_null(path);
        return;
    }
    assert_non_null(path);
    assert_string_equal(path, expected);
    free(path);
}

static void test_paths(void **state)
{
    (void)state;
    expect_path("/libpod_parent/libpod-c1", false, "/user.slice", "/libpod_parent/libpod-c1");
    expect_path("machine/c1", false, "/user.slice", "/user.slice/machine/c1");
    expect_path("machine/c1", false, "/", "/machine/c1");
    expect_path("system.slice:docker:c1", true, "/", "/system.slice/docker-c1.scope");
    expect_path("machine-libpod.slice:libpod:c1", true, "/", "/machine.slice/machine-libpod.slice/libpod-c1.scope");
    expect_path(":crio:c1", true, "/", "/system.slice/crio-c1.scope");
    expect_path(NULL, false, "/", NULL); /* nothing to limit: the caller's cgroup */
    struct oci_config config = config_with(NULL);
    config.resources.pids_limit = 10;
    char *path = cgroup_path_for(&config, "c1", false, "/");
    assert_string_equal(path, "/usandbox/c1");
    free(path);
}

static char root[] = "/tmp/cgroup-test-XXXXXX";

static void touch(const char *format, const char *argument)
{
    char path[512];
    snprintf(path, sizeof(path), format, root, argument);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fclose(file);
}

static void make_directory(const char *format, const char *argument)
{
    char path[512];
    snprintf(path, sizeof(path), format, root, argument);
    assert_int_equal(mkdir(path, 0755), 0);
}

static char *read_back(const char *relative)
{
    static char text[256];
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, relative);
    FILE *file = fopen(path, "r");
    if (!file)
        return NULL;
    text[0] = '\0';
    if (!fgets(text, sizeof(text), file))
        text[0] = '\0';
    fclose(file);
    return text;
}

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *position)
{
    (void)status;
    (void)type;
    (void)position;
    return remove(path);
}

static int setup_tree(void **state)
{
    (void)state;
    strcpy(root, "/tmp/cgroup-test-XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown_tree(void **state)
{
    (void)state;
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A fake v1 host: memory, pids and cpu hierarchies where the container's cgroup already has its files
 * (a real cgroupfs makes them with the directory). */
static void test_v1_limits_and_membership(void **state)
{
    (void)state;
    static const char *const hierarchies[] = {"memory", "pids", "cpu"};
    for (size_t i = 0; i < 3; i++) {
        make_directory("%s/%s", hierarchies[i]);
        make_directory("%s/%s/ctr", hierarchies[i]);
        touch("%s/%s/ctr/cgroup.procs", hierarchies[i]);
        make_directory("%s/%s/bare", hierarchies[i]);
        touch("%s/%s/bare/cgroup.procs", hierarchies[i]);
    }
    touch("%s/memory/ctr/%s", "memory.limit_in_bytes");
    touch("%s/pids/ctr/%s", "pids.max");
    touch("%s/cpu/ctr/%s", "cpu.shares");
    touch("%s/cpu/ctr/%s", "cpu.cfs_quota_us");
    touch("%s/cpu/ctr/%s", "cpu.cfs_period_us");
    struct oci_resources resources = {
        .memory_limit = 64 << 20, .pids_limit = 100, .cpu_shares = 512, .cpu_quota = 50000, .cpu_period = 100000};
    char record[512];
    snprintf(record, sizeof(record), "%s/record", root);
    assert_int_equal(cgroup_enter(root, "/bare", &resources, 4242, record, error, sizeof(error)), -1);
    /* a cgroup without the limit files: the message says which limit could not be applied */
    assert_non_null(strstr(error, "linux.resources.memory.limit"));
    assert_int_equal(access(record, F_OK), -1);
    /* a directory that cannot take processes: the message names it */
    assert_int_equal(cgroup_enter(root, "/ctr/inner", &resources, 4242, record, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "ctr/inner"));
    char made[600];
    snprintf(made, sizeof(made), "%s/memory/ctr/inner", root);
    assert_int_equal(access(made, F_OK), -1); /* what it made is gone again */

    assert_int_equal(cgroup_enter(root, "/ctr", &resources, 4242, record, error, sizeof(error)), 0);
    assert_string_equal(read_back("memory/ctr/memory.limit_in_bytes"), "67108864");
    assert_string_equal(read_back("pids/ctr/pids.max"), "100");
    assert_string_equal(read_back("cpu/ctr/cpu.shares"), "512");
    assert_string_equal(read_back("cpu/ctr/cpu.cfs_quota_us"), "50000");
    assert_string_equal(read_back("cpu/ctr/cpu.cfs_period_us"), "100000");
    assert_string_equal(read_back("memory/ctr/cgroup.procs"), "4242");
    assert_string_equal(read_back("pids/ctr/cgroup.procs"), "4242");
    cgroup_remove(record);
    assert_int_equal(access(record, F_OK), -1);
}

/* A fake v2 host: one tree; the controllers are enabled on the way down; weight converted from shares. */
static void test_v2_limits(void **state)
{
    (void)state;
    touch("%s/%s", "cgroup.controllers");
    touch("%s/%s", "cgroup.subtree_control");
    make_directory("%s/%s", "parent");
    touch("%s/parent/%s", "cgroup.subtree_control");
    make_directory("%s/parent/%s", "ctr");
    static const char *const files[] = {"cgroup.procs", "memory.max", "pids.max", "cpu.weight", "cpu.max"};
    for (size_t i = 0; i < 5; i++)
        touch("%s/parent/ctr/%s", files[i]);
    struct oci_resources resources = {.memory_limit = 1 << 20, .pids_limit = 5, .cpu_shares = 1024, .cpu_quota = -1,
                                      .cpu_period = 50000};
    assert_int_equal(cgroup_enter(root, "/parent/ctr", &resources, 7, NULL, error, sizeof(error)), 0);
    assert_string_equal(read_back("parent/ctr/memory.max"), "1048576");
    assert_string_equal(read_back("parent/ctr/pids.max"), "5");
    assert_string_equal(read_back("parent/ctr/cpu.weight"), "39");
    assert_string_equal(read_back("parent/ctr/cpu.max"), "max 50000");
    assert_string_equal(read_back("parent/ctr/cgroup.procs"), "7");
    assert_non_null(strstr(read_back("parent/cgroup.subtree_control"), "+"));
}

static void test_refusals(void **state)
{
    (void)state;
    struct oci_resources none = {.memory_limit = -1, .pids_limit = -1, .cpu_quota = -1};
    assert_int_equal(cgroup_enter(root, "/a/../../escape", &none, 1, NULL, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "linux.cgroupsPath"));
    assert_int_equal(cgroup_enter("/nonexistent-cgroup-root", "/x", &none, 1, NULL, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "/nonexistent-cgroup-root"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test_setup_teardown(test_v1_limits_and_membership, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_v2_limits, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_refusals, setup_tree, teardown_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
