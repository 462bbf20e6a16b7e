/* metrics_process.c — the standard process_* metrics, read from /proc/self
 * at each scrape (see metrics.h). */
#include "metrics_int.h"
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROC_READ_MAX 4096 /* /proc/self/stat and the btime line fit easily */

typedef struct proc_metrics {
    metrics_counter *cpu;
    metrics_gauge *rss, *vsize, *open_fds, *max_fds, *start;
    double start_time;     /* seconds since the epoch, computed once */
} proc_metrics;

/* Reads a small /proc file into buf (NUL-terminated): length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

/* Fields of /proc/self/stat after the command name: field k (1-based as in
 * proc(5)) is fields[k - 3]. */
#define STAT_FIELDS 24
static int read_stat(unsigned long long f[STAT_FIELDS])
{
    char buf[PROC_READ_MAX];
    if (read_small("/proc/self/stat", buf, sizeof buf) <= 0)
        return -EIO;
    char *p = strrchr(buf, ')'); /* the name may hold spaces and ')' */
    if (!p)
        return -EIO;
    p += 2; /* ") " then field 3, the state letter */
    if (*p)
        p++;
    memset(f, 0, STAT_FIELDS * sizeof *f);
    for (int i = 1; i < STAT_FIELDS && *p; i++) { /* f[0] is the state */
        char *end;
        f[i] = strtoull(p, &end, 10);
        if (end == p)
            break;
        p = end;
    }
    return 0;
}

static double boot_time(void)
{
    char buf[PROC_READ_MAX * 4];
    if (read_small("/proc/stat", buf, sizeof buf) <= 0)
        return 0;
    const char *b = strstr(buf, "\nbtime ");
    return b ? strtod(b + 7, NULL) : 0;
}

static double count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    double n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* not the directory's own fd */
}

static void collect(metrics_registry *r, void *arg)
{
    LO_UNUSED(r);
    proc_metrics *pm = arg;
    unsigned long long f[STAT_FIELDS];
    if (read_stat(f) == 0) {
        double tick = (double)sysconf(_SC_CLK_TCK);
        double page = (double)sysconf(_SC_PAGESIZE);
        /* utime 14, stime 15, vsize 23, rss 24 (pages) */
        metrics_counter_set(pm->cpu, (double)(f[14 - 3] + f[15 - 3]) / tick);
        metrics_gauge_set(pm->vsize, (double)f[23 - 3]);
        metrics_gauge_set(pm->rss, (double)f[24 - 3] * page);
    }
    metrics_gauge_set(pm->open_fds, count_open_fds());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metrics_gauge_set(pm->max_fds, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
    metrics_gauge_set(pm->start, pm->start_time);
}

void metrics_process_register(metrics_registry *r)
{
    if (r->process)
        return;
    proc_metrics *pm = xcalloc(1, sizeof *pm);
    pm->cpu = metrics_counter_new(r, "process_cpu_seconds_total",
                                  "Total user and system CPU time spent in seconds.");
    pm->rss = metrics_gauge_new(r, "process_resident_memory_bytes", "Resident memory size in bytes.");
    pm->vsize = metrics_gauge_new(r, "process_virtual_memory_bytes", "Virtual memory size in bytes.");
    pm->open_fds = metrics_gauge_new(r, "process_open_fds", "Number of open file descriptors.");
    pm->max_fds = metrics_gauge_new(r, "process_max_fds", "Maximum number of open file descriptors.");
    pm->start = metrics_gauge_new(r, "process_start_time_seconds",
                                  "Start time of the process since unix epoch in seconds.");
    unsigned long long f[STAT_FIELDS];
    if (read_stat(f) == 0) /* starttime, field 22, in ticks since boot */
        pm->start_time = boot_time() + (double)f[22 - 3] / (double)sysconf(_SC_CLK_TCK);
    r->process = pm;
    metrics_on_collect(r, collect, pm);
}
