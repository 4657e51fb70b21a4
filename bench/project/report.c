#include "wordstat.h"

void report_text(FILE *out, const struct stats *s, struct entry **v, size_t n, size_t top)
{
	fprintf(out, "lines %ld, words %ld, distinct %ld, seen once %ld\n", s->lines, s->words,
		s->distinct, s->hapax);
	fprintf(out, "count per word: mean %.3f, stddev %.3f, median %.1f; entropy %.3f bits\n",
		s->mean, s->stddev, s->median, s->entropy);
	fprintf(out, "length histogram:");
	for (int i = 1; i < 16; i++)
		fprintf(out, " %d%s:%ld", i, i == 15 ? "+" : "", s->len_hist[i]);
	fputc('\n', out);
	for (size_t i = 0; i < n && i < top; i++)
		fprintf(out, "%7ld  %.*s (line %ld)\n", v[i]->count, (int)v[i]->len, v[i]->word,
			v[i]->first_line);
}
