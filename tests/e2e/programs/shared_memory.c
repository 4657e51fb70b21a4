/* tests/e2e/programs/shared_memory.c: MAP_SHARED of in-memory files (shm_open, memfd, a file in /tmp) and
 * anonymous shared memory: coherence with read/write, across fork and between mappings, truncation,
 * mremap, MADV_REMOVE, POSIX semaphores, and the errors Linux gives. Prints what it sees; the test compares
 * this output natively and in the sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static void report(const char *what, long result)
{
    if (result < 0)
        printf("%s: %s\n", what, strerror(errno));
    else
        printf("%s: ok\n", what);
}

static void shm_open_coherence(void)
{
    shm_unlink("/usandbox-e2e");
    int fd = shm_open("/usandbox-e2e", O_CREAT | O_EXCL | O_RDWR, 0600);
    report("shm_open", fd);
    report("ftruncate", ftruncate(fd, 2 * PAGE));
    char *map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        report("mmap shared rw", -1);
        return;
    }
    strcpy(map, "written through the mapping");
    char buffer[64] = {0};
    pread(fd, buffer, sizeof(buffer) - 1, 0);
    printf("read(2) sees: %s\n", buffer);
    pwrite(fd, "written with pwrite", 20, PAGE);
    printf("mapping sees: %s\n", map + PAGE);
    char *second = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    printf("second mapping sees: %s\n", second);
    pid_t child = fork();
    if (child == 0) {
        strcpy(map + 100, "the child's write");
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("after fork the parent sees: %s\n", map + 100);
    struct stat status;
    fstat(fd, &status);
    printf("size %lld, has blocks %d\n", (long long)status.st_size, status.st_blocks > 0);
    /* shrinking drops the pages: growing again reads zeros through every mapping */
    ftruncate(fd, 50);
    ftruncate(fd, 2 * PAGE);
    printf("after shrink and grow: [%.10s] [%s] [%s]\n", map, map + 100, second);
    char *grown = mremap(map, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) {
        report("mremap grow", -1);
    } else {
        ftruncate(fd, 4 * PAGE);
        pwrite(fd, "page three", 10, 3 * PAGE);
        printf("grown mapping sees: %s\n", grown + 3 * PAGE);
        memcpy(grown + 3 * PAGE, "PAGE", 4);
        pread(fd, buffer, 10, 3 * PAGE);
        printf("file sees: %.10s\n", buffer);
        munmap(grown, 4 * PAGE);
    }
    munmap(second, PAGE);
    close(fd);
    report("shm_unlink", shm_unlink("/usandbox-e2e"));
}

static void memfd_and_tmp_files(void)
{
    int fd = memfd_create("e2e", MFD_CLOEXEC);
    ftruncate(fd, PAGE);
    char *map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    map[0] = 'M';
    char byte = 0;
    pread(fd, &byte, 1, 0);
    printf("memfd: %c\n", byte);
    /* MADV_REMOVE punches a hole: the file and the mapping read zeros */
    report("madvise MADV_REMOVE", madvise(map, PAGE, MADV_REMOVE));
    pread(fd, &byte, 1, 0);
    printf("after MADV_REMOVE: %d %d\n", byte, map[0]);
    munmap(map, PAGE);
    close(fd);

    int file = open("/tmp/usandbox-shared-e2e", O_CREAT | O_TRUNC | O_RDWR, 0600);
    write(file, "0123456789", 10);
    map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
    map[0] = 'X';
    close(file);
    file = open("/tmp/usandbox-shared-e2e", O_RDONLY);
    char text[11] = {0};
    read(file, text, 10);
    printf("/tmp file after a write through the mapping: %s\n", text);
    /* a read-only fd cannot back a writable shared mapping, nor become one through mprotect */
    errno = 0;
    report("mmap shared rw of an O_RDONLY fd", mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0) == MAP_FAILED ? -1 : 0);
    char *read_only = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, file, 0);
    printf("read-only shared mapping sees: %.10s\n", read_only);
    report("mprotect PROT_WRITE of it", mprotect(read_only, PAGE, PROT_READ | PROT_WRITE));
    munmap(read_only, PAGE);
    munmap(map, PAGE);
    close(file);
    unlink("/tmp/usandbox-shared-e2e");
}

static void anonymous_shared_and_semaphores(void)
{
    int *counter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sem_t *lock = (sem_t *)(counter + 16);
    sem_init(lock, 1, 1);
    pid_t children[2];
    for (int i = 0; i < 2; i++) {
        children[i] = fork();
        if (children[i] == 0) {
            for (int n = 0; n < 1000; n++) {
                sem_wait(lock);
                (*counter)++;
                sem_post(lock);
            }
            _exit(0);
        }
    }
    for (int i = 0; i < 2; i++)
        waitpid(children[i], NULL, 0);
    printf("anonymous shared counter: %d\n", *counter);
    int *copy = mremap(counter, 0, PAGE, MREMAP_MAYMOVE);
    if (copy == MAP_FAILED) {
        report("mremap duplicate", -1);
    } else {
        *copy = 7;
        printf("duplicated mapping shares pages: %d\n", *counter);
    }

    sem_unlink("/usandbox-e2e-sem");
    sem_t *named = sem_open("/usandbox-e2e-sem", O_CREAT | O_EXCL, 0600, 0);
    if (named == SEM_FAILED) {
        report("sem_open", -1);
        return;
    }
    pid_t poster = fork();
    if (poster == 0) {
        sem_post(named);
        _exit(0);
    }
    sem_wait(named);
    waitpid(poster, NULL, 0);
    int value = -1;
    sem_getvalue(named, &value);
    printf("named semaphore after post and wait: %d\n", value);
    sem_close(named);
    report("sem_unlink", sem_unlink("/usandbox-e2e-sem"));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    shm_open_coherence();
    memfd_and_tmp_files();
    anonymous_shared_and_semaphores();
    return 0;
}
