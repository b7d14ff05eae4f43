/*
 * ferry-workload: what the workload modules share (workload.c holds the main loop, the
 * configuration and the memory workload; disk-workload.c the disk workload).
 */
#ifndef FERRY_WORKLOAD_H
#define FERRY_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define SLICE_NS 10000000LL /* 10 ms pacing slice */
#define MIB (1024.0 * 1024.0)
#define PAGES_PER_MIB 256u

struct config {
  long hb_ms;          /* heartbeat period */
  long dirty_mb;       /* memory working set, MiB */
  double dirty_rate;   /* MiB/s rewritten after the fill; 0 = fill once, then idle */
  double verify_s;     /* target period for re-verifying the whole working set */
  char disk[256];      /* block device for the disk workload ("" = disabled) */
  double disk_rate;    /* MiB/s written to the disk */
  long disk_mb;        /* size of the disk region used, MiB (0 = whole device, max 1 GiB) */
  double disk_verify_s; /* target period for re-reading every written disk block */
  int disk_check;      /* 1: verify the region against its on-disk table before writing */
  long inject_corrupt; /* self-test: corrupt this many pages once after the fill */
};

struct workload {
  const char *name;
  /* returns 0 when enabled, 1 when disabled by the config, -1 on error */
  int (*init)(struct workload *w, const struct config *c);
  /* do this slice's work, do not run past deadline_ns (CLOCK_MONOTONIC) */
  void (*step)(struct workload *w, int64_t now, int64_t deadline_ns);
  /* append " key=value..." fields to the heartbeat line */
  int (*report)(struct workload *w, char *buf, size_t len);
  /* optional: the guest is shutting down (SIGTERM); leave everything durable */
  void (*finish)(struct workload *w);
  void *state;
  int enabled;
};

int64_t now_ns(void);
double uptime_s(void);
/* One output line (or several) with a single write(2), so lines never interleave. */
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* First 10 corruption reports are printed, then at most one per second. */
int corrupt_report_allowed(uint64_t *printed, int64_t *last_ns);
uint64_t splitmix64(uint64_t *s);
/* Nonzero once SIGTERM arrived: long loops (the boot-time disk check) stop early. */
int stop_requested(void);

int disk_init(struct workload *w, const struct config *c);
void disk_step(struct workload *w, int64_t now, int64_t deadline);
int disk_report(struct workload *w, char *buf, size_t len);
void disk_finish(struct workload *w);

#endif
