/* vfs/name_table.c: a chained hash table of names with intrusive nodes, for the dentry cache and tmpfs
 * directories, so lookups in large directories stay O(1). */
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

static uint64_t name_hash(const char *name)
{
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *cursor = (const unsigned char *)name; *cursor; cursor++) {
        hash ^= *cursor;
        hash *= 1099511628211ULL;
    }
    return hash;
}

void vfs_name_table_init(struct name_table *table)
{
    table->buckets = NULL;
    table->bucket_count = table->count = 0;
}

void vfs_name_table_destroy(struct name_table *table)
{
    free(table->buckets);
    vfs_name_table_init(table);
}

static void name_table_grow(struct name_table *table)
{
    size_t bucket_count = table->bucket_count ? table->bucket_count * 2 : 8;
    struct name_table_node **buckets = xcalloc(bucket_count, sizeof(*buckets));
    for (size_t index = 0; index < table->bucket_count; index++) {
        struct name_table_node *node = table->buckets[index];
        while (node) {
            struct name_table_node *next = node->next;
            size_t slot = node->hash & (bucket_count - 1);
            node->next = buckets[slot];
            buckets[slot] = node;
            node = next;
        }
    }
    free(table->buckets);
    table->buckets = buckets;
    table->bucket_count = bucket_count;
}

void vfs_name_table_insert(struct name_table *table, struct name_table_node *node, const char *name)
{
    if (table->count + 1 > table->bucket_count)
        name_table_grow(table);
    node->name = name;
    node->hash = name_hash(name);
    size_t slot = node->hash & (table->bucket_count - 1);
    node->next = table->buckets[slot];
    table->buckets[slot] = node;
    table->count++;
}

void vfs_name_table_remove(struct name_table *table, struct name_table_node *node)
{
    if (!table->bucket_count)
        return;
    struct name_table_node **link = &table->buckets[node->hash & (table->bucket_count - 1)];
    while (*link) {
        if (*link == node) {
            *link = node->next;
            node->next = NULL;
            table->count--;
            return;
        }
        link = &(*link)->next;
    }
}

struct name_table_node *vfs_name_table_find(const struct name_table *table, const char *name)
{
    if (!table->count)
        return NULL;
    uint64_t hash = name_hash(name);
    for (struct name_table_node *node = table->buckets[hash & (table->bucket_count - 1)]; node; node = node->next)
        if (node->hash == hash && strcmp(node->name, name) == 0)
            return node;
    return NULL;
}

struct name_table_node *vfs_name_table_any(const struct name_table *table)
{
    if (!table->count)
        return NULL;
    for (size_t index = 0; index < table->bucket_count; index++)
        if (table->buckets[index])
            return table->buckets[index];
    return NULL;
}
