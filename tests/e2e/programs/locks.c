/* tests/e2e/programs/locks.c: the futex protocols behind glibc's special mutexes: priority-inheritance
 * mutexes under contention, robust mutexes whose owner thread or process dies (EOWNERDEAD, consistent,
 * ENOTRECOVERABLE), and the raw FUTEX_*_PI errors. Prints what it sees, the same natively and sandboxed. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t pi_mutex;
static long counter;

static void *contend(void *argument)
{
    (void)argument;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&pi_mutex);
        counter++;
        pthread_mutex_unlock(&pi_mutex);
    }
    return NULL;
}

static void priority_inheritance(void)
{
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setprotocol(&attributes, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi_mutex, &attributes);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, contend, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    printf("PI mutex, 4 threads: %ld\n", counter);
    pthread_mutex_lock(&pi_mutex);
    printf("trylock of a held PI mutex: %s\n", strerror(pthread_mutex_trylock(&pi_mutex)));
    pthread_mutex_unlock(&pi_mutex);
}

static long futex(uint32_t *word, int operation)
{
    return syscall(SYS_futex, word, operation, 0, NULL, NULL, 0);
}

static void report(const char *what, long result)
{
    printf("%s: %ld %s\n", what, result, result < 0 ? strerror(errno) : "");
}

static void raw_pi_errors(void)
{
    uint32_t word = 0;
    report("LOCK_PI of a free word", futex(&word, FUTEX_LOCK_PI));
    printf("the word holds my tid: %d\n", word == (uint32_t)syscall(SYS_gettid));
    report("LOCK_PI again", futex(&word, FUTEX_LOCK_PI));
    report("TRYLOCK_PI of my own", futex(&word, FUTEX_TRYLOCK_PI));
    report("UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI));
    printf("the word after: %u\n", word);
    report("UNLOCK_PI of a free word", futex(&word, FUTEX_UNLOCK_PI));
    word = 0x3fff0000; /* a tid above any pid_max: no such thread */
    report("TRYLOCK_PI of a dead owner's", futex(&word, FUTEX_TRYLOCK_PI));
    report("UNLOCK_PI of another's", futex(&word, FUTEX_UNLOCK_PI));
    uint32_t *unaligned = (uint32_t *)((char *)&word + 1);
    report("LOCK_PI of an unaligned word", futex(unaligned, FUTEX_LOCK_PI));
}

static pthread_mutex_t robust_mutex;

static void *die_holding(void *argument)
{
    (void)argument;
    pthread_mutex_lock(&robust_mutex);
    return NULL; /* exits with the lock held */
}

static void robust_thread(int protocol)
{
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setprotocol(&attributes, protocol);
    pthread_mutex_init(&robust_mutex, &attributes);
    pthread_t thread;
    pthread_create(&thread, NULL, die_holding, NULL);
    pthread_join(thread, NULL);
    int result = pthread_mutex_lock(&robust_mutex);
    printf("%s robust mutex after its owner thread died: %s\n", protocol == PTHREAD_PRIO_INHERIT ? "PI" : "plain",
           strerror(result));
    pthread_mutex_unlock(&robust_mutex); /* without consistent: unusable from now on */
    printf("then, never made consistent: %s\n", strerror(pthread_mutex_lock(&robust_mutex)));
}

static void robust_process(void)
{
    pthread_mutex_t *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(shared, &attributes);
    pid_t child = fork();
    if (child == 0) {
        pthread_mutex_lock(shared);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    int result = pthread_mutex_lock(shared);
    printf("process-shared robust mutex after its owner process died: %s\n", strerror(result));
    if (result == EOWNERDEAD)
        printf("consistent: %s\n", strerror(pthread_mutex_consistent(shared)));
    pthread_mutex_unlock(shared);
    printf("lock again: %s\n", strerror(pthread_mutex_lock(shared)));
    pthread_mutex_unlock(shared);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    priority_inheritance();
    raw_pi_errors();
    robust_thread(PTHREAD_PRIO_NONE);
    robust_thread(PTHREAD_PRIO_INHERIT);
    robust_process();
    return 0;
}
