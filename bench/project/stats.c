#include <math.h>
#include <string.h>
#include "wordstat.h"

/* v must be sorted by count, descending. */
void stats_compute(struct stats *s, struct entry **v, size_t n, long lines)
{
	memset(s, 0, sizeof *s);
	s->distinct = (long)n;
	s->lines = lines;
	for (size_t i = 0; i < n; i++) {
		s->words += v[i]->count;
		if (v[i]->count == 1)
			s->hapax++;
		size_t b = v[i]->len < 15 ? v[i]->len : 15;
		s->len_hist[b] += v[i]->count;
	}
	if (n == 0)
		return;
	s->mean = (double)s->words / (double)n;
	double var = 0, ent = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)v[i]->count - s->mean;
		var += d * d;
		double p = (double)v[i]->count / (double)s->words;
		ent -= p * log2(p);
	}
	s->stddev = sqrt(var / (double)n);
	s->entropy = ent;
	if (n % 2)
		s->median = (double)v[n / 2]->count;
	else
		s->median = ((double)v[n / 2 - 1]->count + (double)v[n / 2]->count) / 2.0;
}
