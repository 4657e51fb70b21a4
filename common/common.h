/* common: the leaf module every other module may use: logging, intrusive lists, wait queues, small helpers.
 * It depends on nothing else in usandbox, so unit tests of any module can link it alone. */
#ifndef USANDBOX_COMMON_H
#define USANDBOX_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define PAGE_SIZE 4096UL
#define PAGE_ROUND_DOWN(x) ((uint64_t)(x) & ~(uint64_t)(PAGE_SIZE - 1))
#define PAGE_ROUND_UP(x) PAGE_ROUND_DOWN((uint64_t)(x) + PAGE_SIZE - 1)

/* ---- logging ----
 * Components log to stderr by default, or to DIR/<component>.log after log_open_directory(). */
enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
void log_set_component(const char *component);  /* "sentry", "gofer", "usandbox" */
void log_set_level(enum log_level level);
int log_open_directory(const char *directory);  /* --debug-log=DIR; 0 or -errno */
int log_file_descriptor(void);                  /* the fd logs go to, so a seccomp filter can allow it */
void log_message(enum log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_message(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_message(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- intrusive doubly linked list ---- */
struct list_node {
    struct list_node *next, *prev;
};
static inline void list_init(struct list_node *head) { head->next = head->prev = head; }
static inline bool list_empty(const struct list_node *head) { return head->next == head; }
static inline void list_insert_tail(struct list_node *head, struct list_node *node)
{
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}
static inline void list_remove(struct list_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->next = node->prev = node;
}
#define LIST_FOR_EACH(pos, head) for (struct list_node *pos = (head)->next; pos != (head); pos = pos->next)
#define LIST_FOR_EACH_SAFE(pos, tmp, head) \
    for (struct list_node *pos = (head)->next, *tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

/* ---- wait queues ----
 * The Sentry runs every task on one event loop and never blocks inside a handler: a handler that would
 * block registers a waiter on the queue of the object it waits for and returns; whoever changes the object
 * calls wait_queue_notify(), which calls each interested waiter's wake() (the Sentry makes the task runnable
 * again and re-runs the syscall). Events use poll(2)'s bits (POLLIN, POLLOUT, POLLHUP, ...). */
struct waiter {
    struct list_node node;
    uint32_t events;                                   /* which events this waiter cares about */
    void (*wake)(struct waiter *waiter, uint32_t events);
    void *owner;                                       /* the task, for the Sentry */
};
struct wait_queue {
    struct list_node waiters;
};
void wait_queue_init(struct wait_queue *queue);
void wait_queue_add(struct wait_queue *queue, struct waiter *waiter);
void waiter_remove(struct waiter *waiter); /* safe when not queued */
void wait_queue_notify(struct wait_queue *queue, uint32_t events);

/* ---- growable text buffer (procfs, strace) ---- */
struct text_buffer {
    char *data;
    size_t length, capacity;
};
void text_buffer_append(struct text_buffer *buffer, const char *format, ...) __attribute__((format(printf, 2, 3)));
void text_buffer_append_bytes(struct text_buffer *buffer, const void *bytes, size_t length);
void text_buffer_free(struct text_buffer *buffer);

/* ---- helpers ---- */
void *xcalloc(size_t count, size_t size);  /* aborts on exhaustion of host memory: the Sentry cannot go on */
void *xrealloc(void *memory, size_t size);  /* the same */
char *xstrdup(const char *string);
int write_all(int fd, const void *buffer, size_t length);     /* 0 or -errno, retries EINTR/partial */
int read_all(int fd, void *buffer, size_t length);            /* 0, -EIO on early EOF, or -errno */
uint64_t monotonic_nanoseconds(void);
/* Online CPUs, read once: glibc's sysconf opens /sys, which the confined Sentry may not. Call it before
 * confinement so later calls answer from the cache. */
long host_cpu_count(void);

/* ---- the memory file (memory_file.c) ----
 * One sparse memfd holds every application page and the data of in-memory files (tmpfs), mapped whole into
 * this process; stubs map ranges of it, so a page can be shared by the Sentry, files and address spaces.
 * Single-threaded use (the Sentry's event loop). */
int memory_initialize(void); /* the memfd, or -errno; later calls of the functions below do it if needed */
int memory_file_descriptor(void);
void *memory_at(uint64_t offset);
int64_t memory_allocate(uint64_t length); /* offset, or -ENOMEM */
void memory_free(uint64_t offset, uint64_t length);
void memory_release_pages(uint64_t offset, uint64_t length); /* drop contents, keep the range allocated */
void memory_copy(uint64_t destination, uint64_t source, uint64_t length);
uint64_t memory_data_bytes(uint64_t offset, uint64_t length); /* how much of the range the host holds pages for */

/* A range of the memory file shared by whoever maps or holds it (VMAs of one or more address spaces, a
 * tmpfs file); freed with the last reference. */
struct memory_region {
    uint64_t offset, length;
    int references;
};
struct memory_region *memory_region_new(uint64_t length); /* one reference, or NULL when the file is full */
void memory_region_get(struct memory_region *region);
void memory_region_put(struct memory_region *region);     /* NULL is ignored */

#endif
