/* runsc/syscalls_list.c: `usandbox syscalls`: every x86-64 system call number, its name, and whether the
 * Sentry implements it or answers ENOSYS, from the same table the Sentry dispatches with. */
#include <stdio.h>
#include <string.h>

#include "runsc/runsc.h"
#include "syscalls/syscalls.h"

int runsc_list_syscalls(bool only_missing)
{
    int implemented = 0, missing = 0;
    printf("%-4s %-24s %s\n", "NR", "NAME", "STATUS");
    for (uint64_t number = 0; number < SYSCALL_TABLE_SIZE; number++) {
        const struct syscall_description *description = syscall_describe(number);
        if (!description || !description->name)
            continue;  /* numbers Linux does not assign on x86-64 */
        bool present = syscall_is_implemented(number);
        present ? implemented++ : missing++;
        if (only_missing && present)
            continue;
        printf("%-4lu %-24s %s\n", (unsigned long)number, description->name, present ? "implemented" : "ENOSYS");
    }
    printf("\n%d implemented, %d answer ENOSYS (each logged once by name in sentry.log)\n", implemented, missing);
    return 0;
}
