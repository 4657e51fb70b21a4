/* runsc/main.c: usandbox's entry point: global flags (runc's and runsc's), then the subcommand:
 * `do`, `spec`, `install`, or one of the OCI commands (runsc/lifecycle.c, runsc/exec.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runsc/runsc.h"

int main(int argc, char **argv)
{
    struct runsc_options options = {.platform = PLATFORM_SECCOMP_TRAP, .platform_name = "seccomp-trap"};
    int index = 1;
    for (; index < argc && argv[index][0] == '-'; index++) {
        if (strcmp(argv[index], "--help") == 0 || strcmp(argv[index], "-h") == 0) {
            runsc_usage(stdout);
            return 0;
        }
        if (strcmp(argv[index], "--version") == 0 || strcmp(argv[index], "-v") == 0) {
            printf("usandbox version 0.1.0\nspec: 1.1.0\nkernel: %s\n", SENTRY_KERNEL_RELEASE);
            return 0;
        }
        int parsed = runsc_parse_flag(&options, argv[index], index + 1 < argc ? argv[index + 1] : NULL);
        if (parsed < 0)
            return 2;
        if (parsed == 2)
            index++;
        if (parsed == 0) {
            fprintf(stderr, "usandbox: unknown flag %s\n", argv[index]);
            runsc_usage(stderr);
            return 2;
        }
    }
    if (index >= argc) {
        runsc_usage(stderr);
        return 2;
    }
    const char *command = argv[index++];
    if (strcmp(command, "do") == 0) {
        for (; index < argc && argv[index][0] == '-'; index++) {
            if (strcmp(argv[index], "--") == 0) {
                index++;
                break;
            }
            int parsed = runsc_parse_flag(&options, argv[index], NULL);
            if (parsed < 0)
                return 2;
            if (parsed == 0) {
                fprintf(stderr, "usandbox do: unknown flag %s\n", argv[index]);
                return 2;
            }
        }
        if (index >= argc) {
            fprintf(stderr, "usandbox do: no command given\nusage: usandbox do [flags] -- CMD [ARGS...]\n");
            return 2;
        }
        return runsc_do(&options, &argv[index]);
    }
    if (strcmp(command, "help") == 0) {
        runsc_usage(stdout);
        return 0;
    }
    if (strcmp(command, "install") == 0)
        return runsc_install(argc - index, &argv[index]);
    if (strcmp(command, "syscalls") == 0)
        return runsc_list_syscalls(index < argc && strcmp(argv[index], "--missing") == 0);
    if (strcmp(command, "spec") == 0) {
        const char *bundle = NULL;
        bool rootless = false;
        for (; index < argc; index++) {
            if ((strcmp(argv[index], "--bundle") == 0 || strcmp(argv[index], "-b") == 0) && index + 1 < argc) {
                bundle = argv[++index];
            } else if (strncmp(argv[index], "--bundle=", 9) == 0) {
                bundle = argv[index] + 9;
            } else if (strcmp(argv[index], "--rootless") == 0) {
                rootless = true;
            } else {
                fprintf(stderr, "usandbox spec: unexpected argument %s\nusage: usandbox spec [--bundle DIR] "
                                "[--rootless]\n", argv[index]);
                return 1;
            }
        }
        return runsc_spec(bundle, rootless);
    }
    static const struct {
        const char *name;
        int (*run)(const struct runsc_options *options, int argc, char **argv);
    } lifecycle[] = {
        {"create", runsc_create}, {"start", runsc_start}, {"state", runsc_state},   {"kill", runsc_kill},
        {"delete", runsc_delete}, {"run", runsc_run},     {"exec", runsc_exec},     {"ps", runsc_ps},
        {"list", runsc_list},     {"events", runsc_events},
    };
    for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++) {
        if (strcmp(command, lifecycle[i].name) == 0) {
            runsc_open_component_log(&options, "usandbox");
            return lifecycle[i].run(&options, argc - index, &argv[index]);
        }
    }
    fprintf(stderr, "usandbox: unknown command '%s'\n", command);
    runsc_usage(stderr);
    return 2;
}
