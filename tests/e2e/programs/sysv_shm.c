/* tests/e2e/programs/sysv_shm.c: System V shared memory: shmget (keys, IPC_PRIVATE, IPC_CREAT|IPC_EXCL, sizes),
 * shmat (shared with a forked child, SHM_RDONLY, SHM_RND, fixed addresses, SHM_REMAP), shmdt, shmctl
 * (IPC_STAT's nattch and sizes, IPC_SET, IPC_RMID with attachments, SHM_LOCK), and their errors. Prints what it
 * sees, the same natively and sandboxed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, long result)
{
    if (result < 0)
        printf("%s: %s\n", what, strerror(errno));
    else
        printf("%s: ok\n", what);
}

static unsigned long attachments(int id)
{
    struct shmid_ds status;
    if (shmctl(id, IPC_STAT, &status) < 0)
        return (unsigned long)-1;
    return status.shm_nattch;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    key_t key = 0x5e5e0000 | (getpid() & 0xffff);
    int id = shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600);
    report("shmget create", id);
    report("shmget IPC_EXCL again", shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600));
    printf("shmget existing finds it: %d\n", shmget(key, 100, 0) == id);
    report("shmget bigger than it", shmget(key, 20000, 0));
    report("shmget missing key", shmget(key + 1, 100, 0));
    report("shmget size 0", shmget(IPC_PRIVATE, 0, 0600));

    struct shmid_ds status;
    shmctl(id, IPC_STAT, &status);
    printf("size %zu mode %o nattch %lu cpid is me %d\n", (size_t)status.shm_segsz, status.shm_perm.mode & 0777,
           (unsigned long)status.shm_nattch, status.shm_cpid == getpid());

    char *memory = shmat(id, NULL, 0);
    report("shmat", memory == (void *)-1 ? -1 : 0);
    printf("zeroed: %d, nattch %lu\n", memory[0] == 0 && memory[9999] == 0, attachments(id));
    strcpy(memory, "written by the parent");
    pid_t child = fork();
    if (child == 0) {
        printf("child sees: %s, nattch %lu\n", memory, attachments(id));
        strcpy(memory + 100, "written by the child");
        char *second = shmat(id, NULL, SHM_RDONLY);
        printf("child's read-only attachment sees: %s\n", second + 100);
        shmdt(second);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("parent sees: %s, nattch %lu\n", memory + 100, attachments(id));

    /* a read-only attachment cannot be written */
    char *read_only = shmat(id, NULL, SHM_RDONLY);
    pid_t writer = fork();
    if (writer == 0) {
        read_only[0] = 'x';
        _exit(0);
    }
    int wstatus;
    waitpid(writer, &wstatus, 0);
    printf("writing a read-only attachment: signal %d\n", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    printf("mprotect it writable: %s\n", mprotect(read_only, 4096, PROT_READ | PROT_WRITE) < 0 ? strerror(errno) : "ok");
    shmdt(read_only);

    /* addresses: unaligned without SHM_RND, rounded with it, over a mapping with and without SHM_REMAP */
    char *area = mmap(NULL, 5 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("shmat at an unaligned address", shmat(id, area + 1, 0) == (void *)-1 ? -1 : 0);
    char *rounded = shmat(id, area + 4096 + 7, SHM_RND | SHM_REMAP);
    printf("SHM_RND|SHM_REMAP rounds down: %d, sees: %s\n", rounded == area + 4096, rounded);
    char *fixed_area = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("shmat over a mapping without SHM_REMAP", shmat(id, fixed_area, 0) == (void *)-1 ? -1 : 0);
    report("SHM_REMAP without an address", shmat(id, NULL, SHM_REMAP) == (void *)-1 ? -1 : 0);
    printf("nattch with two attachments: %lu\n", attachments(id));
    report("shmdt of the rounded one", shmdt(rounded));
    report("shmdt of it again", shmdt(rounded));
    munmap(area, 5 * 4096);
    report("shmdt of a non-segment", shmdt(fixed_area));
    report("shmdt unaligned", shmdt(memory + 1));

    /* IPC_SET, SHM_LOCK, and IPC_RMID while attached: keyless, still usable, gone after the last detach */
    shmctl(id, IPC_STAT, &status);
    status.shm_perm.mode = 0640;
    report("IPC_SET", shmctl(id, IPC_SET, &status));
    shmctl(id, IPC_STAT, &status);
    printf("mode now %o\n", status.shm_perm.mode & 0777);
    report("SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
    shmctl(id, IPC_STAT, &status);
    printf("locked flag: %d\n", (status.shm_perm.mode & SHM_LOCKED) != 0);
    report("IPC_RMID", shmctl(id, IPC_RMID, NULL));
    shmctl(id, IPC_STAT, &status);
    printf("after IPC_RMID: key %d dest %d nattch %lu, still sees: %s\n", status.shm_perm.__key,
           (status.shm_perm.mode & SHM_DEST) != 0, (unsigned long)status.shm_nattch, memory);
    report("shmget of the removed key", shmget(key, 100, 0));
    shmdt(memory);
    report("IPC_STAT after the last detach", shmctl(id, IPC_STAT, &status));
    report("shmat of a bad id", shmat(-1, NULL, 0) == (void *)-1 ? -1 : 0);
    report("shmctl bad command", shmctl(id, 12345, NULL));

    struct shminfo info;
    int highest = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
    printf("IPC_INFO: %d shmmni %lu shmmin %lu\n", highest >= 0, info.shmmni, info.shmmin);
    return 0;
}
