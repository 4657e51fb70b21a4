#include "wordstat.h"

void json_string(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void report_json(FILE *out, const struct stats *s, struct entry **v, size_t n, size_t top)
{
	fprintf(out,
		"{\"lines\":%ld,\"words\":%ld,\"distinct\":%ld,\"hapax\":%ld,"
		"\"mean\":%.6f,\"stddev\":%.6f,\"median\":%.1f,\"entropy\":%.6f,\"top\":[",
		s->lines, s->words, s->distinct, s->hapax, s->mean, s->stddev, s->median,
		s->entropy);
	for (size_t i = 0; i < n && i < top; i++) {
		fprintf(out, "%s{\"word\":", i ? "," : "");
		json_string(out, v[i]->word, v[i]->len);
		fprintf(out, ",\"count\":%ld}", v[i]->count);
	}
	fprintf(out, "]}\n");
}
