/*
 * bw: the workloads of the usandbox benchmark suite, in one static binary.
 *
 * It runs inside every runtime under test (native, usandbox, runsc, runc,
 * crun), so it is linked statically and depends on nothing in the sandbox's
 * root file system. Each subcommand prints one line "BW key=value ..." on
 * stdout; bench/harness.py parses it. Times are taken with CLOCK_MONOTONIC
 * inside the sandbox, so they exclude the sandbox's own start-up; the harness
 * also records the host-side wall time of every run.
 *
 *   bw syscall SECONDS          getppid() in a loop for at least SECONDS; ns per call
 *   bw read FILE [BUFKIB]       read FILE sequentially; seconds and MiB/s
 *   bw mktree DIR NDIRS NFILES  create the small-file tree (run on the host)
 *   bw stat DIR NDIRS NFILES    stat + open + close every file of the tree; seconds
 *   bw spawn N PATH [ARGS...]   fork + exec PATH + wait, N times; seconds and ms/op
 *   bw time CMD [ARGS...]       run CMD (fork + execvp + wait); seconds and exit status
 *   bw mkfile FILE MIB          create FILE of MIB mebibytes (run on the host)
 *   bw idle SECONDS             print "BW ready", then sleep: an idle sandbox to weigh
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const char *arg)
{
	fprintf(stderr, "bw: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bw syscall SECONDS | read FILE [BUFKIB] | mktree DIR NDIRS NFILES |\n"
		"          stat DIR NDIRS NFILES | spawn N PATH [ARGS...] | time CMD [ARGS...] |\n"
		"          mkfile FILE MIB | idle SECONDS\n");
	return 2;
}

/* getppid() through syscall(2), so that no libc caches the answer. The clock
 * is read once per batch: in a sandbox it may itself be a trapped syscall. */
static int cmd_syscall(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	double want = atof(argv[0]);
	const long batch = 1000;
	long calls = 0;
	double t0 = now(), t = t0;
	do {
		for (long i = 0; i < batch; i++)
			syscall(SYS_getppid);
		calls += batch;
		t = now();
	} while (t - t0 < want);
	printf("BW ns_per_call=%.1f calls=%ld seconds=%.6f\n", (t - t0) * 1e9 / (double)calls,
	       calls, t - t0);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	size_t bufsz = (size_t)(argc > 1 ? atol(argv[1]) : 1024) * 1024;
	char *buf = malloc(bufsz);
	if (!buf)
		return die("malloc", NULL);
	double t0 = now();
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return die("open", argv[0]);
	unsigned long long total = 0;
	unsigned char sum = 0;
	for (;;) {
		ssize_t n = read(fd, buf, bufsz);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return die("read", argv[0]);
		}
		if (n == 0)
			break;
		total += (unsigned long long)n;
		sum ^= (unsigned char)buf[n - 1]; /* touch the data */
	}
	close(fd);
	double dt = now() - t0;
	printf("BW seconds=%.6f bytes=%llu mib_per_s=%.1f x=%u\n", dt, total,
	       (double)total / 1048576.0 / dt, sum);
	return 0;
}

static void tree_path(char *out, size_t len, const char *dir, int d, int f)
{
	if (f < 0)
		snprintf(out, len, "%s/d%03d", dir, d);
	else
		snprintf(out, len, "%s/d%03d/f%03d", dir, d, f);
}

static int cmd_mktree(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	int nd = atoi(argv[1]), nf = atoi(argv[2]);
	char p[4096];
	if (mkdir(argv[0], 0755) && errno != EEXIST)
		return die("mkdir", argv[0]);
	for (int d = 0; d < nd; d++) {
		tree_path(p, sizeof p, argv[0], d, -1);
		if (mkdir(p, 0755) && errno != EEXIST)
			return die("mkdir", p);
		for (int f = 0; f < nf; f++) {
			tree_path(p, sizeof p, argv[0], d, f);
			int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				return die("create", p);
			char line[64];
			int n = snprintf(line, sizeof line, "file %d of directory %d\n", f, d);
			if (write(fd, line, (size_t)n) != n)
				return die("write", p);
			close(fd);
		}
	}
	return 0;
}

/* The metadata path: every file is looked up twice by path (stat, open), the
 * way a build tool or a language runtime probes files. */
static int cmd_stat(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	int nd = atoi(argv[1]), nf = atoi(argv[2]);
	char p[4096];
	struct stat st;
	long long bytes = 0;
	double t0 = now();
	for (int d = 0; d < nd; d++) {
		for (int f = 0; f < nf; f++) {
			tree_path(p, sizeof p, argv[0], d, f);
			if (stat(p, &st))
				return die("stat", p);
			bytes += st.st_size;
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return die("open", p);
			close(fd);
		}
	}
	double dt = now() - t0;
	long files = (long)nd * nf;
	printf("BW seconds=%.6f files=%ld us_per_file=%.1f bytes=%lld\n", dt, files,
	       dt * 1e6 / (double)files, bytes);
	return 0;
}

static int run_wait(char **argv, int use_path, int *status)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (use_path)
			execvp(argv[0], argv);
		else
			execv(argv[0], argv);
		fprintf(stderr, "bw: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static int cmd_spawn(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	long n = atol(argv[0]);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		int status;
		if (run_wait(argv + 1, 0, &status))
			return die("fork/wait", argv[1]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bw: %s failed at iteration %ld (status 0x%x)\n", argv[1], i,
				status);
			return 1;
		}
	}
	double dt = now() - t0;
	printf("BW seconds=%.6f n=%ld ms_per_op=%.3f\n", dt, n, dt * 1e3 / (double)n);
	return 0;
}

static int cmd_time(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	int status;
	double t0 = now();
	if (run_wait(argv, 1, &status))
		return die("fork/wait", argv[0]);
	double dt = now() - t0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fflush(stdout);
	printf("BW seconds=%.6f status=%d\n", dt, code);
	return code;
}

static int cmd_mkfile(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	long mib = atol(argv[1]);
	char *buf = malloc(1 << 20);
	if (!buf)
		return die("malloc", NULL);
	for (int i = 0; i < (1 << 20); i++)
		buf[i] = (char)(i * 131 + 7);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[0]);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return die("create", tmp);
	for (long i = 0; i < mib; i++) {
		buf[0] = (char)i;
		if (write(fd, buf, 1 << 20) != (1 << 20))
			return die("write", tmp);
	}
	if (close(fd) || rename(tmp, argv[0]))
		return die("rename", argv[0]);
	return 0;
}

static int cmd_idle(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	double s = atof(argv[0]);
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	printf("BW ready\n");
	fflush(stdout);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *c = argv[1];
	int n = argc - 2;
	char **a = argv + 2;
	if (!strcmp(c, "syscall"))
		return cmd_syscall(n, a);
	if (!strcmp(c, "read"))
		return cmd_read(n, a);
	if (!strcmp(c, "mktree"))
		return cmd_mktree(n, a);
	if (!strcmp(c, "stat"))
		return cmd_stat(n, a);
	if (!strcmp(c, "spawn"))
		return cmd_spawn(n, a);
	if (!strcmp(c, "time"))
		return cmd_time(n, a);
	if (!strcmp(c, "idle"))
		return cmd_idle(n, a);
	if (!strcmp(c, "mkfile"))
		return cmd_mkfile(n, a);
	return usage();
}
