/* common/util.c: wait queues, text buffers and the small host helpers shared by all modules.
 * Nothing here knows about tasks or files; it only moves bytes and calls callbacks. */
#include "common/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void wait_queue_init(struct wait_queue *queue) { list_init(&queue->waiters); }

void wait_queue_add(struct wait_queue *queue, struct waiter *waiter)
{
    list_insert_tail(&queue->waiters, &waiter->node);
}

void waiter_remove(struct waiter *waiter)
{
    if (waiter->node.next && waiter->node.next != &waiter->node)
        list_remove(&waiter->node);
}

void wait_queue_notify(struct wait_queue *queue, uint32_t events)
{
    /* A wake() may remove any waiter of this queue, not only its own (a task cancels all its waits), so
     * the walk keeps its place with a marker that is never woken (its events are 0). */
    struct waiter marker = {.events = 0};
    struct list_node *node = queue->waiters.next;
    while (node != &queue->waiters) {
        struct waiter *waiter = CONTAINER_OF(node, struct waiter, node);
        list_insert_tail(node->next, &marker.node);  /* just after node */
        if (waiter->events & events)
            waiter->wake(waiter, events);
        node = marker.node.next;
        list_remove(&marker.node);
    }
}

static void text_buffer_reserve(struct text_buffer *buffer, size_t extra)
{
    if (buffer->length + extra + 1 <= buffer->capacity)
        return;
    size_t capacity = MAX(buffer->capacity * 2, buffer->length + extra + 64);
    char *data = realloc(buffer->data, capacity);
    if (!data)
        abort();
    buffer->data = data;
    buffer->capacity = capacity;
}

void text_buffer_append_bytes(struct text_buffer *buffer, const void *bytes, size_t length)
{
    text_buffer_reserve(buffer, length);
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}

void text_buffer_append(struct text_buffer *buffer, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int needed = vsnprintf(NULL, 0, format, arguments);
    va_end(arguments);
    if (needed < 0)
        return;
    text_buffer_reserve(buffer, (size_t)needed);
    va_start(arguments, format);
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, arguments);
    va_end(arguments);
    buffer->length += (size_t)needed;
}

void text_buffer_free(struct text_buffer *buffer)
{
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = buffer->capacity = 0;
}

void *xcalloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size ? size : 1);
    if (!memory) {
        log_error("out of host memory (%zu x %zu bytes)", count, size);
        abort();
    }
    return memory;
}

void *xrealloc(void *memory, size_t size)
{
    void *grown = realloc(memory, size ? size : 1);
    if (!grown) {
        log_error("out of host memory (%zu bytes)", size);
        abort();
    }
    return grown;
}

char *xstrdup(const char *string)
{
    size_t length = strlen(string);
    char *copy = xcalloc(1, length + 1);
    memcpy(copy, string, length);
    return copy;
}

int write_all(int fd, const void *buffer, size_t length)
{
    const char *cursor = buffer;
    while (length > 0) {
        ssize_t written = write(fd, cursor, length);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        cursor += written;
        length -= (size_t)written;
    }
    return 0;
}

int read_all(int fd, void *buffer, size_t length)
{
    char *cursor = buffer;
    while (length > 0) {
        ssize_t got = read(fd, cursor, length);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (got == 0)
            return -EIO;
        cursor += got;
        length -= (size_t)got;
    }
    return 0;
}

uint64_t monotonic_nanoseconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

long host_cpu_count(void)
{
    static long count;
    if (count == 0) {
        count = sysconf(_SC_NPROCESSORS_ONLN);
        if (count < 1)
            count = 1;
    }
    return count;
}
