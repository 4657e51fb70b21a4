/* tests/e2e/programs/show.h: how the differential test programs print a call's outcome, identically on
 * Linux and in the sandbox: "what: RESULT", "what: ok" (fds and pids, whose numbers may differ), or
 * "what: -1 ENAME". */
#ifndef USANDBOX_E2E_SHOW_H
#define USANDBOX_E2E_SHOW_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline const char *error_name(int error)
{
    const char *name = strerrorname_np(error);
    return name ? name : "?";
}

static inline long show(const char *what, long result)
{
    if (result < 0)
        printf("%s: -1 %s\n", what, error_name(errno));
    else
        printf("%s: %ld\n", what, result);
    fflush(stdout);
    return result;
}

static inline long show_ok(const char *what, long result)
{
    if (result < 0)
        printf("%s: -1 %s\n", what, error_name(errno));
    else
        printf("%s: ok\n", what);
    fflush(stdout);
    return result;
}

#endif
