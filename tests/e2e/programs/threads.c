/* tests/e2e/programs/threads.c: pthreads as glibc drives them: create/join, mutexes and condition variables
 * (futex), thread exit values, mapping changes while another thread runs, exit_group with threads alive. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t condition = PTHREAD_COND_INITIALIZER;
static long counter;
static int finished;
static volatile int stop_spinning;

static void *count(void *argument)
{
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    finished++;
    pthread_cond_signal(&condition);
    pthread_mutex_unlock(&lock);
    return argument;
}

static void *spin(void *argument)
{
    while (!stop_spinning)
        ;
    return argument;
}

static void *map_and_unmap(void *argument)
{
    for (int i = 0; i < 50; i++) {
        char *pages = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        memset(pages, i, 1 << 16);
        munmap(pages, 1 << 16);
    }
    return argument;
}

static void *leave_early(void *argument) { pthread_exit(argument); }

int main(void)
{
    pthread_t threads[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, count, (void *)i);
    pthread_mutex_lock(&lock);
    while (finished < 4)
        pthread_cond_wait(&condition, &lock);
    pthread_mutex_unlock(&lock);
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        void *result;
        pthread_join(threads[i], &result);
        sum += (long)result;
    }
    printf("counter=%ld joined=%ld main-is-leader=%d\n", counter, sum, getpid() == syscall(SYS_gettid));
    pthread_t spinner, mapper, leaver;
    void *mapped, *left;
    pthread_create(&spinner, NULL, spin, NULL);
    pthread_create(&mapper, NULL, map_and_unmap, (void *)7);
    pthread_create(&leaver, NULL, leave_early, (void *)9);
    pthread_join(mapper, &mapped);
    pthread_join(leaver, &left);
    stop_spinning = 1;
    pthread_join(spinner, NULL);
    printf("mapper=%ld leaver=%ld\n", (long)mapped, (long)left);
    stop_spinning = 0;
    pthread_create(&spinner, NULL, spin, NULL);
    fflush(stdout);
    _exit(3);
}
