#include <stdlib.h>
#include <string.h>
#include "wordstat.h"

/* FNV-1a, then a final avalanche (from splitmix64) so that the low bits are usable. */
uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void table_init(struct table *t, struct arena *a)
{
	t->cap = 1024;
	t->len = 0;
	t->arena = a;
	t->slots = calloc(t->cap, sizeof *t->slots);
	if (!t->slots)
		abort();
}

static struct entry *probe(struct entry *slots, size_t cap, const char *w, size_t n, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	for (;;) {
		struct entry *e = &slots[i];
		if (!e->word)
			return e;
		if (e->hash == h && e->len == n && memcmp(e->word, w, n) == 0)
			return e;
		i = (i + 1) & (cap - 1);
	}
}

static void grow(struct table *t)
{
	size_t cap = t->cap * 2;
	struct entry *slots = calloc(cap, sizeof *slots);
	if (!slots)
		abort();
	for (size_t i = 0; i < t->cap; i++) {
		struct entry *e = &t->slots[i];
		if (e->word)
			*probe(slots, cap, e->word, e->len, e->hash) = *e;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
}

struct entry *table_add(struct table *t, const char *w, size_t n, long line)
{
	if ((t->len + 1) * 4 > t->cap * 3)
		grow(t);
	uint64_t h = hash_bytes(w, n);
	struct entry *e = probe(t->slots, t->cap, w, n, h);
	if (!e->word) {
		e->word = arena_strndup(t->arena, w, n);
		e->len = n;
		e->hash = h;
		e->count = 0;
		e->first_line = line;
		t->len++;
	}
	e->count++;
	return e;
}

struct entry *table_find(const struct table *t, const char *w, size_t n)
{
	struct entry *e = probe(t->slots, t->cap, w, n, hash_bytes(w, n));
	return e->word ? e : NULL;
}

void table_free(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->len = 0;
}
