/* tests/e2e/programs/deep_stack.c: recursion that needs about 32 MiB of stack, which exists only when
 * RLIMIT_STACK allows it (the caller raises it with ulimit -s), natively and sandboxed. */
#include <stdio.h>
#include <string.h>

static unsigned long descend(int depth)
{
    volatile char frame[4096];
    memset((char *)frame, depth & 0xff, sizeof(frame));
    if (depth == 0)
        return frame[0];
    return descend(depth - 1) + frame[depth % sizeof(frame)];
}

int main(void)
{
    printf("sum %lu\n", descend(8000));
    return 0;
}
