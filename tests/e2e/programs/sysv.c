/* tests/e2e/programs/sysv.c: System V semaphores and message queues, success and error paths, printed without ids,
 * pids or times so that native and sandboxed runs compare. Keys derive from the pid (the host's namespace is shared
 * natively); everything made is removed at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static void on_alarm(int signal) { (void)signal; }

static void set_timer_ms(int milliseconds)
{
    struct itimerval timer = {.it_value = {.tv_sec = 0, .tv_usec = milliseconds * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

/* waits for a child and prints how it ended */
static void reap(const char *what, pid_t child)
{
    int status = 0;
    waitpid(child, &status, 0);
    printf("%s: exit %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fflush(stdout);
}

/* children that race with the parent's output report through their exit status: 0 or an errno */
static void reap_result(const char *what, pid_t child)
{
    int status = 0;
    waitpid(child, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    printf("%s: %s\n", what, code == 0 ? "ok" : code < 0 ? "killed" : error_name(code));
    fflush(stdout);
}

/* Waits (at most 5 s) until semctl(id, number, command) reaches want: a child is then blocked in semop. */
static void wait_for_count(int id, int number, int command, int want)
{
    for (int i = 0; i < 500 && semctl(id, number, command) != want; i++)
        usleep(10 * 1000);
}

/* Waits (at most 5 s) until the process sleeps (/proc/PID/stat state S): a child blocked in msgsnd or msgrcv. */
static void wait_until_sleeping(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    for (int i = 0; i < 500; i++) {
        char state = 0;
        FILE *stat_file = fopen(path, "r");
        if (stat_file) {
            if (fscanf(stat_file, "%*d %*s %c", &state) != 1)
                state = 0;
            fclose(stat_file);
        }
        if (state == 'S')
            break;
        usleep(10 * 1000);
    }
    usleep(20 * 1000);
}

static void semaphores(key_t key)
{
    printf("== semaphores\n");
    show("semget nsems -1", semget(key, -1, IPC_CREAT | 0600));
    show("semget nsems 32001", semget(key, 32001, IPC_CREAT | 0600));
    show("semget missing key", semget(key, 1, 0600));
    show("semget private nsems 0", semget(IPC_PRIVATE, 0, 0600));
    int id = (int)show_ok("semget create 3", semget(key, 3, IPC_CREAT | IPC_EXCL | 0600));
    show("semget create again EXCL", semget(key, 3, IPC_CREAT | IPC_EXCL | 0600));
    show("semget existing nsems 4", semget(key, 4, 0600));
    printf("semget existing nsems 2 gives the same id: %s\n", semget(key, 2, 0600) == id ? "yes" : "no");
    printf("semget existing nsems 0 gives the same id: %s\n", semget(key, 0, 0) == id ? "yes" : "no");

    show("GETVAL 0", semctl(id, 0, GETVAL));
    show("SETVAL 0 5", semctl(id, 0, SETVAL, (union semun){.val = 5}));
    show("GETVAL 0", semctl(id, 0, GETVAL));
    show("SETVAL 40000", semctl(id, 0, SETVAL, (union semun){.val = 40000}));
    show("SETVAL -1", semctl(id, 0, SETVAL, (union semun){.val = -1}));
    show("SETVAL semnum 3", semctl(id, 3, SETVAL, (union semun){.val = 1}));
    show("GETVAL semnum 3", semctl(id, 3, GETVAL));
    show("GETVAL semnum -1", semctl(id, -1, GETVAL));
    show("semctl bad command", semctl(id, 0, 99));
    show("semctl id -1", semctl(-1, 0, GETVAL));
    show("semctl unknown id", semctl(id + 1, 0, GETVAL));
    unsigned short values[3] = {1, 2, 3};
    show("SETALL 1 2 3", semctl(id, 0, SETALL, (union semun){.array = values}));
    memset(values, 0, sizeof(values));
    show("GETALL", semctl(id, 0, GETALL, (union semun){.array = values}));
    printf("  values: %u %u %u\n", values[0], values[1], values[2]);
    unsigned short too_big[3] = {1, 40000, 3};
    show("SETALL with 40000", semctl(id, 0, SETALL, (union semun){.array = too_big}));
    show("GETALL NULL", semctl(id, 0, GETALL, (union semun){.array = NULL}));
    printf("GETPID is this process: %s\n", semctl(id, 1, GETPID) == getpid() ? "yes" : "no");
    show("GETNCNT", semctl(id, 0, GETNCNT));
    show("GETZCNT", semctl(id, 0, GETZCNT));

    struct semid_ds status;
    show("IPC_STAT", semctl(id, 0, IPC_STAT, (union semun){.buf = &status}));
    printf("  nsems=%lu mode=%o key-matches=%d uid-is-euid=%d cuid-is-euid=%d\n", (unsigned long)status.sem_nsems,
           status.sem_perm.mode & 0777, status.sem_perm.__key == key, status.sem_perm.uid == geteuid(),
           status.sem_perm.cuid == geteuid());
    status.sem_perm.mode = 0640;
    show("IPC_SET mode 0640", semctl(id, 0, IPC_SET, (union semun){.buf = &status}));
    semctl(id, 0, IPC_STAT, (union semun){.buf = &status});
    printf("  mode now %o\n", status.sem_perm.mode & 0777);
    status.sem_perm.mode = 0600;
    semctl(id, 0, IPC_SET, (union semun){.buf = &status});
    show("IPC_STAT NULL", semctl(id, 0, IPC_STAT, (union semun){.buf = NULL}));
    printf("SEM_STAT of the id's index gives the id: %s\n",
           semctl(id % 32768, 0, SEM_STAT, (union semun){.buf = &status}) == id ? "yes" : "no");
    printf("SEM_STAT_ANY of the id's index gives the id: %s\n",
           semctl(id % 32768, 0, SEM_STAT_ANY, (union semun){.buf = &status}) == id ? "yes" : "no");
    struct seminfo info;
    show_ok("IPC_INFO", semctl(id, 0, IPC_INFO, (union semun){.__buf = &info}));
    printf("  semmsl=%d semopm=%d semvmx=%d semmni=%d semaem=%d\n", info.semmsl, info.semopm, info.semvmx,
           info.semmni, info.semaem);

    /* semop errors */
    struct sembuf operation = {.sem_num = 0, .sem_op = -1, .sem_flg = 0};
    show("semop nsops 0", semop(id, &operation, 0));
    static struct sembuf many[501];
    show("semop nsops 501", semop(id, many, 501));
    show("semop NULL", semop(id, NULL, 1));
    show("semop id -1", semop(-1, &operation, 1));
    show("semop unknown id", semop(id + 1, &operation, 1));
    struct sembuf far = {.sem_num = 5, .sem_op = 1};
    show("semop sem_num 5", semop(id, &far, 1));
    struct sembuf overflow = {.sem_num = 0, .sem_op = 32767};
    show("semop over SEMVMX", semop(id, &overflow, 1));
    struct sembuf atomic[2] = {{.sem_num = 0, .sem_op = -1}, {.sem_num = 1, .sem_op = -10, .sem_flg = IPC_NOWAIT}};
    show("semop two, second would block (NOWAIT)", semop(id, atomic, 2));
    show("  GETVAL 0 unchanged", semctl(id, 0, GETVAL));
    struct sembuf sequence[3] = {{.sem_num = 2, .sem_op = -3}, {.sem_num = 2, .sem_op = 2}, {.sem_num = 2, .sem_op = -2}};
    show("semop -3 +2 -2 on a 3 (each sees the one before)", semop(id, sequence, 3));
    show("  GETVAL 2", semctl(id, 2, GETVAL));
    struct sembuf zero = {.sem_num = 2, .sem_op = 0};
    show("semop wait-for-zero on 0", semop(id, &zero, 1));
    struct timespec short_wait = {0, 50 * 1000 * 1000};
    show("semtimedop decrement a 0, 50 ms", semtimedop(id, &(struct sembuf){.sem_num = 2, .sem_op = -1}, 1, &short_wait));
    struct timespec bad_wait = {0, 1000000000};
    show("semtimedop bad timeout", semtimedop(id, &operation, 1, &bad_wait));
    show("semtimedop timeout NULL pointer... unmapped", syscall(SYS_semtimedop, id, &operation, 1, (void *)16));
    struct timespec no_wait = {0, 0};
    show("semtimedop zero timeout", semtimedop(id, &(struct sembuf){.sem_num = 2, .sem_op = -1}, 1, &no_wait));

    /* a waiter for a decrease and one for zero, counted, then woken */
    semctl(id, 2, SETVAL, (union semun){.val = 0});
    semctl(id, 1, SETVAL, (union semun){.val = 1});
    pid_t decreaser = fork();
    if (decreaser == 0) {
        struct sembuf down = {.sem_num = 2, .sem_op = -1};
        _exit(semop(id, &down, 1) == 0 ? 0 : 1);
    }
    pid_t zero_waiter = fork();
    if (zero_waiter == 0) {
        struct sembuf wait_zero = {.sem_num = 1, .sem_op = 0};
        _exit(semop(id, &wait_zero, 1) == 0 ? 0 : 1);
    }
    wait_for_count(id, 2, GETNCNT, 1);
    wait_for_count(id, 1, GETZCNT, 1);
    show("GETNCNT 2 with a waiting child", semctl(id, 2, GETNCNT));
    show("GETZCNT 1 with a waiting child", semctl(id, 1, GETZCNT));
    show("GETNCNT 1", semctl(id, 1, GETNCNT));
    show("semop +1 on 2", semop(id, &(struct sembuf){.sem_num = 2, .sem_op = 1}, 1));
    reap("  decreasing child", decreaser);
    show("semop -1 on 1", semop(id, &(struct sembuf){.sem_num = 1, .sem_op = -1}, 1));
    reap("  zero-waiting child", zero_waiter);
    show("  GETVAL 2 after the child took it", semctl(id, 2, GETVAL));

    /* a signal ends a wait with EINTR even with SA_RESTART (semop is never restarted) */
    struct sigaction action = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &action, NULL);
    set_timer_ms(300);
    show("semop interrupted by a SA_RESTART handler", semop(id, &(struct sembuf){.sem_num = 2, .sem_op = -1}, 1));

    /* SEM_UNDO: what a process did comes undone when it exits */
    semctl(id, 0, SETVAL, (union semun){.val = 10});
    pid_t child = fork();
    if (child == 0) {
        struct sembuf undo_ops[2] = {{.sem_num = 0, .sem_op = -4, .sem_flg = SEM_UNDO},
                                     {.sem_num = 1, .sem_op = 7, .sem_flg = SEM_UNDO}};
        semop(id, undo_ops, 2);
        printf("  child: GETVAL 0 = %d, GETVAL 1 = %d\n", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));
        fflush(stdout);
        _exit(0);
    }
    reap("SEM_UNDO child", child);
    printf("  after exit: GETVAL 0 = %d, GETVAL 1 = %d, GETPID 0 is the child: %s\n", semctl(id, 0, GETVAL),
           semctl(id, 1, GETVAL), semctl(id, 0, GETPID) == child ? "yes" : "no");
    semctl(id, 2, SETVAL, (union semun){.val = 0});
    struct sembuf beyond[3] = {{.sem_num = 2, .sem_op = 32767, .sem_flg = SEM_UNDO}, {.sem_num = 2, .sem_op = -32767},
                               {.sem_num = 2, .sem_op = 2, .sem_flg = SEM_UNDO}};
    show("semop SEM_UNDO adjustment beyond SEMAEM", semop(id, beyond, 3));
    show("  GETVAL 2 unchanged", semctl(id, 2, GETVAL));
    child = fork();
    if (child == 0) {
        semop(id, &(struct sembuf){.sem_num = 0, .sem_op = 5, .sem_flg = SEM_UNDO}, 1);
        semctl(id, 0, SETVAL, (union semun){.val = 2}); /* clears the adjustment */
        _exit(0);
    }
    reap("SETVAL clears adjustments: child", child);
    show("  GETVAL 0", semctl(id, 0, GETVAL));

    /* permissions of another user */
    child = fork();
    if (child == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(9);
        show("  other user: semget", semget(key, 0, 0600));
        show_ok("  other user: semget no mode", semget(key, 0, 0));
        show("  other user: GETVAL", semctl(id, 0, GETVAL));
        show("  other user: SETVAL", semctl(id, 0, SETVAL, (union semun){.val = 1}));
        show("  other user: semop", semop(id, &(struct sembuf){.sem_num = 0, .sem_op = 1}, 1));
        show("  other user: IPC_RMID", semctl(id, 0, IPC_RMID));
        _exit(0);
    }
    reap("other user", child);

    /* removal wakes a waiter with EIDRM */
    semctl(id, 2, SETVAL, (union semun){.val = 0});
    child = fork();
    if (child == 0) {
        _exit(semop(id, &(struct sembuf){.sem_num = 2, .sem_op = -1}, 1) < 0 ? errno : 0);
    }
    wait_for_count(id, 2, GETNCNT, 1);
    show("IPC_RMID", semctl(id, 0, IPC_RMID));
    reap_result("  semop of the child waiting on the removed set", child);
    show("GETVAL after IPC_RMID", semctl(id, 0, GETVAL));
    show("IPC_RMID again", semctl(id, 0, IPC_RMID));
}

struct text_message {
    long type;
    char text[64];
};

static void receive(const char *what, int id, size_t size, long type, int flags)
{
    struct text_message message;
    memset(&message, 0, sizeof(message));
    ssize_t got = msgrcv(id, &message, size, type, flags);
    if (got < 0)
        printf("%s: -1 %s\n", what, error_name(errno));
    else
        printf("%s: %zd type=%ld text=%.*s\n", what, got, message.type, (int)got, message.text);
    fflush(stdout);
}

static int send_text(int id, long type, const char *text, int flags)
{
    struct text_message message = {.type = type};
    snprintf(message.text, sizeof(message.text), "%s", text);
    return msgsnd(id, &message, strlen(text), flags);
}

static void message_queues(key_t key)
{
    printf("== message queues\n");
    show("msgget missing key", msgget(key, 0600));
    int id = (int)show_ok("msgget create", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    show("msgget create again EXCL", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    printf("msgget existing gives the same id: %s\n", msgget(key, 0) == id ? "yes" : "no");
    show("msgsnd type 0", send_text(id, 0, "x", 0));
    show("msgsnd type -1", send_text(id, -1, "x", 0));
    static struct { long type; char text[8200]; } big = {.type = 1};
    show("msgsnd 8193 bytes", msgsnd(id, &big, 8193, 0));
    show("msgsnd 8192 bytes", msgsnd(id, &big, 8192, IPC_NOWAIT));
    receive("  msgrcv it (truncated with MSG_NOERROR)", id, 5, 0, MSG_NOERROR);
    show("msgsnd size -1", msgsnd(id, &big, (size_t)-1, 0));
    show("msgsnd NULL", msgsnd(id, NULL, 1, 0));
    show("msgsnd id -1", send_text(-1, 1, "x", 0));
    show("msgsnd unknown id", send_text(id + 1, 1, "x", 0));
    show("msgsnd type 1", send_text(id, 1, "one", 0));
    show("msgsnd type 2", send_text(id, 2, "two", 0));
    show("msgsnd type 3", send_text(id, 3, "three", 0));
    show("msgsnd type 1 again", send_text(id, 1, "uno", 0));
    struct msqid_ds status;
    show("IPC_STAT", msgctl(id, IPC_STAT, &status));
    printf("  qnum=%lu cbytes=%lu qbytes=%lu mode=%o lspid-is-self=%d lrpid-is-self=%d\n",
           (unsigned long)status.msg_qnum, (unsigned long)status.__msg_cbytes, (unsigned long)status.msg_qbytes,
           status.msg_perm.mode & 0777, status.msg_lspid == getpid(), status.msg_lrpid == getpid());
    receive("msgrcv type 2", id, 64, 2, 0);
    receive("msgrcv type -3 (lowest up to 3)", id, 64, -3, 0);
    receive("msgrcv MSG_EXCEPT 1", id, 64, 1, MSG_EXCEPT);
    receive("msgrcv too small", id, 2, 0, 0);
    receive("msgrcv too small MSG_NOERROR", id, 2, 0, MSG_NOERROR);
    receive("msgrcv empty NOWAIT", id, 64, 0, IPC_NOWAIT);
    receive("msgrcv type 5 NOWAIT", id, 64, 5, IPC_NOWAIT);
    receive("msgrcv MSG_COPY|MSG_EXCEPT", id, 64, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT);
    receive("msgrcv MSG_COPY without NOWAIT", id, 64, 0, MSG_COPY);
    receive("msgrcv size -1", id, (size_t)-1, 0, IPC_NOWAIT);
    receive("msgrcv id -1", -1, 64, 0, IPC_NOWAIT);
    show("msgctl bad command", msgctl(id, 99, &status));
    show("msgctl command -1", msgctl(id, -1, &status));
    show("IPC_STAT NULL", msgctl(id, IPC_STAT, NULL));
    printf("MSG_STAT of the id's index gives the id: %s\n", msgctl(id % 32768, MSG_STAT, &status) == id ? "yes" : "no");
    struct msginfo info;
    show_ok("IPC_INFO", msgctl(id, IPC_INFO, (struct msqid_ds *)&info));
    printf("  msgmax=%d msgmnb=%d msgmni=%d msgssz=%d msgseg=%u\n", info.msgmax, info.msgmnb, info.msgmni,
           info.msgssz, info.msgseg);

    /* a full queue */
    msgctl(id, IPC_STAT, &status);
    status.msg_qbytes = 8;
    show("IPC_SET qbytes 8", msgctl(id, IPC_SET, &status));
    show("msgsnd 5 bytes", send_text(id, 1, "12345", 0));
    show("msgsnd 5 more NOWAIT", send_text(id, 1, "67890", IPC_NOWAIT));
    pid_t child = fork();
    if (child == 0) {
        _exit(send_text(id, 4, "later", 0) < 0 ? errno : 0);
    }
    usleep(150 * 1000);
    receive("msgrcv makes room", id, 64, 0, 0);
    reap_result("  msgsnd of the child blocked until there was room", child);
    receive("msgrcv the blocked sender's", id, 64, 0, 0);
    status.msg_qbytes = 16384;
    msgctl(id, IPC_SET, &status);

    /* a blocking receive, woken by a send from another process */
    child = fork();
    if (child == 0) {
        receive("  child: msgrcv type 7 blocking", id, 64, 7, 0);
        _exit(0);
    }
    usleep(100 * 1000);
    send_text(id, 6, "not this one", 0);
    send_text(id, 7, "this one", 0);
    reap("  blocked receiver", child);
    receive("msgrcv what the child left", id, 64, 0, IPC_NOWAIT);

    /* interrupted: EINTR after a handler */
    struct sigaction action = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &action, NULL);
    set_timer_ms(300);
    receive("msgrcv interrupted by a handler", id, 64, 0, 0);

    /* another user */
    child = fork();
    if (child == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(9);
        show("  other user: msgget", msgget(key, 0600));
        show("  other user: msgsnd", send_text(id, 1, "x", IPC_NOWAIT));
        receive("  other user: msgrcv", id, 64, 0, IPC_NOWAIT);
        show("  other user: IPC_STAT", msgctl(id, IPC_STAT, &status));
        show("  other user: IPC_RMID", msgctl(id, IPC_RMID, NULL));
        _exit(0);
    }
    reap("other user", child);

    /* removal: a blocked receiver gets EIDRM */
    child = fork();
    if (child == 0) {
        struct text_message message;
        _exit(msgrcv(id, &message, sizeof(message.text), 0, 0) < 0 ? errno : 0);
    }
    wait_until_sleeping(child);
    show("IPC_RMID", msgctl(id, IPC_RMID, NULL));
    reap_result("  msgrcv of the child blocked while the queue was removed", child);
    show("msgsnd after IPC_RMID", send_text(id, 1, "x", 0));
    show("IPC_RMID again", msgctl(id, IPC_RMID, NULL));
}

int main(void)
{
    /* keys from the pid: a native run shares the host's namespace with whatever else runs there */
    key_t key = (key_t)(0x5e000000 | (getpid() & 0xffffff));
    semaphores(key);
    message_queues(key);
    return 0;
}
