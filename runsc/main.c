/* runsc/main.c: usandbox's entry point: global flags, then the subcommand.
 * Only `do` runs sandboxes so far; the OCI lifecycle commands are named and refused clearly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runsc/runsc.h"

int main(int argc, char **argv)
{
    struct runsc_options options = {.platform = PLATFORM_PTRACE, .platform_name = "ptrace"};
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
        int parsed = runsc_parse_flag(&options, argv[index]);
        if (parsed < 0)
            return 2;
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
            int parsed = runsc_parse_flag(&options, argv[index]);
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
    const char *lifecycle[] = {"create", "start", "state", "kill", "delete", "run", "exec", "ps", "list", "spec",
                               "events"};
    for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++) {
        if (strcmp(command, lifecycle[i]) == 0) {
            fprintf(stderr, "usandbox: the OCI command '%s' is not implemented yet; use 'usandbox do'\n", command);
            return 1;
        }
    }
    fprintf(stderr, "usandbox: unknown command '%s'\n", command);
    runsc_usage(stderr);
    return 2;
}
