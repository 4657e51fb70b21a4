/* vfs/signalfd.c: signalfd files: a signal mask whose pending signals reads take as struct signalfd_siginfo
 * records. The signals themselves are the Sentry's: it passes the reading thread's queues in as a source. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "vfs/internal.h"

#define SIGNAL_BIT(signal) (1ULL << ((signal) - 1))

struct signalfd_state {
    uint64_t mask;                 /* bit (sig-1); never SIGKILL or SIGSTOP */
    const struct vfs_signalfd_source *source;
    struct list_node in_all;       /* every live signalfd, for vfs_signalfd_notify */
    struct vfs_file *file;
};

static struct list_node all_signalfds = {&all_signalfds, &all_signalfds};

static struct signalfd_state *signalfd_of(struct vfs_file *file) { return file->private_data; }

/* Linux's siginfo_layout(): which union member of siginfo_t a (signal, code) pair uses. */
enum siginfo_layout { LAYOUT_KILL, LAYOUT_TIMER, LAYOUT_POLL, LAYOUT_FAULT, LAYOUT_CHILD, LAYOUT_QUEUED, LAYOUT_SYS };

static enum siginfo_layout siginfo_layout_of(int signal, int code)
{
    if (code > SI_USER && code < SI_KERNEL) {
        /* the kernel's own codes: per signal, up to the last code Linux defines for it */
        struct { int signal, last_code; enum siginfo_layout layout; } per_signal[] = {
            {SIGILL, 11, LAYOUT_FAULT}, {SIGFPE, 15, LAYOUT_FAULT}, {SIGSEGV, 9, LAYOUT_FAULT},
            {SIGBUS, 5, LAYOUT_FAULT}, {SIGTRAP, 6, LAYOUT_FAULT}, {SIGCHLD, 6, LAYOUT_CHILD},
            {SIGPOLL, 6, LAYOUT_POLL}, {SIGSYS, 2, LAYOUT_SYS},
        };
        for (size_t i = 0; i < ARRAY_SIZE(per_signal); i++)
            if (per_signal[i].signal == signal && code <= per_signal[i].last_code)
                return per_signal[i].layout;
        return code <= 6 /* NSIGPOLL */ ? LAYOUT_POLL : LAYOUT_KILL;
    }
    if (code == SI_TIMER)
        return LAYOUT_TIMER;
    if (code == SI_SIGIO)
        return LAYOUT_POLL;
    return code < 0 ? LAYOUT_QUEUED : LAYOUT_KILL;
}

/* signalfd_copyinfo(): only the fields of the signal's layout are copied; the rest stay zero. */
static void fill_record(const siginfo_t *info, struct signalfd_siginfo *record)
{
    memset(record, 0, sizeof(*record));
    record->ssi_signo = (uint32_t)info->si_signo;
    record->ssi_errno = info->si_errno;
    record->ssi_code = info->si_code;
    switch (siginfo_layout_of(info->si_signo, info->si_code)) {
    case LAYOUT_KILL:
        record->ssi_pid = (uint32_t)info->si_pid;
        record->ssi_uid = info->si_uid;
        break;
    case LAYOUT_TIMER:
        record->ssi_tid = (uint32_t)info->si_timerid;
        record->ssi_overrun = (uint32_t)info->si_overrun;
        record->ssi_ptr = (uint64_t)(uintptr_t)info->si_ptr;
        record->ssi_int = info->si_int;
        break;
    case LAYOUT_POLL:
        record->ssi_band = (uint32_t)info->si_band;
        record->ssi_fd = info->si_fd;
        break;
    case LAYOUT_FAULT:
        record->ssi_addr = (uint64_t)(uintptr_t)info->si_addr;
        break;
    case LAYOUT_CHILD:
        record->ssi_pid = (uint32_t)info->si_pid;
        record->ssi_uid = info->si_uid;
        record->ssi_status = info->si_status;
        record->ssi_utime = (uint64_t)info->si_utime;
        record->ssi_stime = (uint64_t)info->si_stime;
        break;
    case LAYOUT_QUEUED:
        record->ssi_pid = (uint32_t)info->si_pid;
        record->ssi_uid = info->si_uid;
        record->ssi_ptr = (uint64_t)(uintptr_t)info->si_ptr;
        record->ssi_int = info->si_int;
        break;
    case LAYOUT_SYS:
        record->ssi_call_addr = (uint64_t)(uintptr_t)info->si_call_addr;
        record->ssi_syscall = info->si_syscall;
        record->ssi_arch = info->si_arch;
        break;
    }
}

/* As many whole records as fit; -EAGAIN when none of the mask's signals is pending for the reader (the caller
 * then waits on the file, as Linux's signalfd_read sleeps only before the first record). */
static ssize_t signalfd_file_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct signalfd_state *state = signalfd_of(file);
    size_t capacity = length / sizeof(struct signalfd_siginfo);
    if (capacity == 0)
        return -EINVAL;
    size_t taken = 0;
    for (; taken < capacity; taken++) {
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        if (!state->source->dequeue(state->mask, &info))
            break;
        struct signalfd_siginfo record;
        fill_record(&info, &record);
        memcpy((char *)buffer + taken * sizeof(record), &record, sizeof(record));
    }
    return taken ? (ssize_t)(taken * sizeof(struct signalfd_siginfo)) : -EAGAIN;
}

static uint32_t signalfd_file_poll(struct vfs_file *file)
{
    struct signalfd_state *state = signalfd_of(file);
    return state->source->pending(state->mask) ? POLLIN : 0;
}

static void signalfd_file_release(struct vfs_file *file)
{
    struct signalfd_state *state = signalfd_of(file);
    list_remove(&state->in_all);
    free(state);
}

static void signalfd_file_describe(struct vfs_file *file, struct text_buffer *out)
{
    (void)file;
    text_buffer_append(out, "anon_inode:[signalfd]");
}

static const struct vfs_file_operations signalfd_file_operations = {
    .read = signalfd_file_read,
    .poll = signalfd_file_poll,
    .release = signalfd_file_release,
    .describe = signalfd_file_describe,
    .stream = true,
    .seek_is_noop = true, /* Linux's signalfd has noop_llseek: lseek "works" and pread gives -ESPIPE */
};

static uint64_t signalfd_usable_mask(uint64_t mask)
{
    return mask & ~(SIGNAL_BIT(SIGKILL) | SIGNAL_BIT(SIGSTOP));
}

int vfs_signalfd_create(uint64_t mask, int flags, const struct vfs_signalfd_source *source, struct vfs_file **out)
{
    if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
        return -EINVAL;
    struct signalfd_state *state = xcalloc(1, sizeof(*state));
    state->mask = signalfd_usable_mask(mask);
    state->source = source;
    struct vfs_inode *inode = vfs_anon_inode();
    struct vfs_file *file = vfs_file_new(NULL, inode, &signalfd_file_operations, O_RDWR | (flags & SFD_NONBLOCK));
    vfs_inode_put(inode);
    file->private_data = state;
    state->file = file;
    list_insert_tail(&all_signalfds, &state->in_all);
    *out = file;
    return 0;
}

bool vfs_file_is_signalfd(struct vfs_file *file) { return file->ops == &signalfd_file_operations; }

int vfs_signalfd_set_mask(struct vfs_file *file, uint64_t mask)
{
    if (!vfs_file_is_signalfd(file))
        return -EINVAL;
    signalfd_of(file)->mask = signalfd_usable_mask(mask);
    /* readers and pollers re-check against the new mask, as Linux wakes its signalfd queue */
    wait_queue_notify(file->queue, POLLIN);
    return 0;
}

void vfs_signalfd_notify(int signal)
{
    if (signal < 1 || signal > 64)
        return;
    /* A signalfd file may be shared by processes (fork, SCM_RIGHTS): every file whose mask has the signal is
     * woken; its readers and pollers then look at their own thread's queues. */
    LIST_FOR_EACH_SAFE(node, next, &all_signalfds) {
        struct signalfd_state *state = CONTAINER_OF(node, struct signalfd_state, in_all);
        if (state->mask & SIGNAL_BIT(signal))
            wait_queue_notify(state->file->queue, POLLIN);
    }
}
