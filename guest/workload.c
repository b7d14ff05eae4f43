/*
 * ferry-workload: the in-guest test workload of the Ferry test guest.
 *
 * Runs as the last step of /init (PID 1's child or PID 1 itself), reads its
 * parameters from /proc/cmdline (keys prefixed "ferry.") and prints one
 * heartbeat line per period on stdout (the serial console):
 *
 *   FERRY-HB seq=<n> uptime=<s.ss> dirtied_mib=<x.y> verified=<n> corrupt=<n>
 *            [disk_written=<n> disk_corrupt=<n> disk_verified=<n> disk_sweeps=<n>
 *             disk_lost=<n>]                            (one line, see README)
 *
 * Workloads are small modules (struct workload: init/step/report) driven by a
 * single-threaded loop in 10 ms slices. Being single-threaded, a page is
 * never verified while it is being rewritten, so verification cannot produce
 * false positives.
 *
 * SIGTERM (sent by the ACPI power-button handler) ends it cleanly: each workload's
 * finish hook makes its state durable (the disk workload records its last writes).
 *
 * Build: gcc -static -O2 -o ferry-workload workload.c disk-workload.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define HDR_WORDS 4u /* magic, index, generation, checksum */

/* ------------------------------------------------------------------------ */
/* configuration                                                            */

/* A /proc/meminfo field in KiB, or -1. */
static long meminfo_kib(const char *field) {
  char line[256];
  long v = -1;
  size_t n = strlen(field);
  FILE *f = fopen("/proc/meminfo", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

static void parse_cmdline(struct config *c) {
  c->hb_ms = 1000;
  c->dirty_mb = 0;
  c->dirty_rate = 0;
  c->verify_s = 2;
  c->disk[0] = '\0';
  c->disk_rate = 1;
  c->disk_mb = 0;
  c->disk_verify_s = 2;
  c->disk_check = 0;
  c->inject_corrupt = 0;

  char buf[4096];
  FILE *f = fopen("/proc/cmdline", "r");
  if (f == NULL) return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';

  char *save = NULL;
  for (char *tok = strtok_r(buf, " \t\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\n", &save)) {
    if (strncmp(tok, "ferry.", 6) != 0) continue;
    char *key = tok + 6;
    char *val = strchr(key, '=');
    if (val == NULL) continue;
    *val++ = '\0';
    if (strcmp(key, "hb_ms") == 0) c->hb_ms = strtol(val, NULL, 10);
    else if (strcmp(key, "dirty_mb") == 0) c->dirty_mb = strtol(val, NULL, 10);
    else if (strcmp(key, "dirty_rate") == 0) c->dirty_rate = strtod(val, NULL);
    else if (strcmp(key, "verify_s") == 0) c->verify_s = strtod(val, NULL);
    else if (strcmp(key, "disk") == 0) snprintf(c->disk, sizeof c->disk, "%s", val);
    else if (strcmp(key, "disk_rate") == 0) c->disk_rate = strtod(val, NULL);
    else if (strcmp(key, "disk_mb") == 0) c->disk_mb = strtol(val, NULL, 10);
    else if (strcmp(key, "disk_verify_s") == 0) c->disk_verify_s = strtod(val, NULL);
    else if (strcmp(key, "disk_check") == 0) c->disk_check = strtol(val, NULL, 10) != 0;
    else if (strcmp(key, "inject_corrupt") == 0) c->inject_corrupt = strtol(val, NULL, 10);
  }
  if (c->hb_ms < 10) c->hb_ms = 10;
  if (c->dirty_mb < 0) c->dirty_mb = 0;
  if (c->dirty_rate < 0) c->dirty_rate = 0;
  if (c->verify_s < 0.1) c->verify_s = 0.1;
  if (c->disk_rate < 0) c->disk_rate = 0;
  if (c->disk_mb < 0) c->disk_mb = 0;
  if (c->disk_verify_s < 0.1) c->disk_verify_s = 0.1;
}

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */

int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double uptime_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void out(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  const char *p = line;
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= (int)w;
  }
}

#define MAGIC_MEM 0x4645525259504731ULL /* "FERRYPG1" */

uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* 64-bit FNV-1a style hash, word-wise, seeded with the header fields. */
static uint64_t block_checksum(const uint64_t *w) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned i = 0; i < 3; i++) h = (h ^ w[i]) * 0x100000001b3ULL;
  for (unsigned i = HDR_WORDS; i < WORDS; i++) h = (h ^ w[i]) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

/*
 * Fill a 4 KiB block: header (magic, index, generation, checksum) and a
 * payload from a PRNG stream seeded by (index, generation). The stream is
 * never zero in practice and never repeats, so QEMU cannot send it as a
 * zero page nor compress it away.
 */
static void block_fill(uint64_t *w, uint64_t magic, uint64_t idx, uint64_t gen) {
  uint64_t s = (idx * 0xD1B54A32D192ED03ULL) ^ (gen * 0xABC98388FB8FAC03ULL) ^ magic;
  w[0] = magic;
  w[1] = idx;
  w[2] = gen;
  for (unsigned i = HDR_WORDS; i < WORDS; i++) w[i] = splitmix64(&s) | 1; /* never 0 */
  w[3] = block_checksum(w);
}

enum { BLOCK_OK = 0, BLOCK_BAD_MAGIC = 1, BLOCK_BAD_INDEX = 2, BLOCK_BAD_GEN = 4, BLOCK_BAD_SUM = 8 };

static int block_check(const uint64_t *w, uint64_t magic, uint64_t idx, uint64_t gen) {
  int r = BLOCK_OK;
  if (w[0] != magic) r |= BLOCK_BAD_MAGIC;
  if (w[1] != idx) r |= BLOCK_BAD_INDEX;
  if (w[2] != gen) r |= BLOCK_BAD_GEN;
  if (block_checksum(w) != w[3]) r |= BLOCK_BAD_SUM;
  return r;
}

int corrupt_report_allowed(uint64_t *printed, int64_t *last_ns) {
  int64_t t = now_ns();
  if (*printed < 10 || t - *last_ns >= 1000000000LL) {
    (*printed)++;
    *last_ns = t;
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* memory workload                                                          */

struct mem_state {
  uint64_t *base;
  uint64_t npages;
  uint32_t *gen;           /* expected generation per page (0 = not yet filled) */
  uint64_t filled;         /* pages filled so far (initial fill walks 0..npages-1) */
  uint64_t write_cursor;   /* next page to rewrite */
  uint64_t verify_cursor;  /* next page to re-verify */
  uint64_t pages_dirtied;  /* fills + rewrites */
  uint64_t verified;
  uint64_t corrupt;
  double rate_pages_ns;    /* rewrite rate, pages per ns */
  double verify_pages_ns;  /* target verify rate, pages per ns */
  int64_t rate_t0;         /* start of rewrite pacing */
  double rate_done;        /* pages rewritten since rate_t0 */
  int64_t verify_t0;
  double verify_done;
  uint64_t printed;
  int64_t last_print;
  long inject;             /* pages still to corrupt on purpose (self-test) */
};

static struct mem_state mem;

static int mem_init(struct workload *w, const struct config *c) {
  struct mem_state *m = &mem;
  w->state = m;
  if (c->dirty_mb <= 0) return 1;
  m->npages = (uint64_t)c->dirty_mb * PAGES_PER_MIB;
  void *p = mmap(NULL, m->npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    out("FERRY-ERROR mem: mmap %ld MiB failed: %s\n", c->dirty_mb, strerror(errno));
    return -1;
  }
  m->base = p;
  m->gen = calloc(m->npages, sizeof *m->gen);
  if (m->gen == NULL) {
    out("FERRY-ERROR mem: calloc failed\n");
    return -1;
  }
  m->rate_pages_ns = c->dirty_rate * PAGES_PER_MIB / 1e9;
  m->verify_pages_ns = (double)m->npages / (c->verify_s * 1e9);
  m->inject = c->inject_corrupt;
  return 0;
}

static uint64_t *mem_page(struct mem_state *m, uint64_t i) { return m->base + i * WORDS; }

static void mem_corrupt(struct mem_state *m, uint64_t i, const char *where, int why) {
  const uint64_t *p = mem_page(m, i);
  m->corrupt++;
  if (corrupt_report_allowed(&m->printed, &m->last_print))
    out("FERRY-CORRUPT page=%" PRIu64 " gen=%" PRIu32 " found=%" PRIu64 " idx=%" PRIu64
        " magic=%s csum=%s where=%s total=%" PRIu64 "\n",
        i, m->gen[i], p[2], p[1], (why & BLOCK_BAD_MAGIC) ? "bad" : "ok",
        (why & BLOCK_BAD_SUM) ? "bad" : "ok", where, m->corrupt);
}

/* Verify page i (if filled); returns nonzero when it is corrupt. */
static int mem_verify(struct mem_state *m, uint64_t i, const char *where) {
  if (m->gen[i] == 0) return 0;
  int why = block_check(mem_page(m, i), MAGIC_MEM, i, m->gen[i]);
  m->verified++;
  if (why != BLOCK_OK) mem_corrupt(m, i, where, why);
  return why;
}

static void mem_write(struct mem_state *m, uint64_t i) {
  uint32_t g = m->gen[i] + 1;
  if (g == 0) g = 1;
  block_fill(mem_page(m, i), MAGIC_MEM, i, g);
  m->gen[i] = g;
  m->pages_dirtied++;
}

static void mem_step(struct workload *w, int64_t now, int64_t deadline) {
  struct mem_state *m = w->state;

  /* Phase 1: the initial fill, as fast as the slice allows. */
  if (m->filled < m->npages) {
    while (m->filled < m->npages) {
      for (int k = 0; k < 16 && m->filled < m->npages; k++) mem_write(m, m->filled++);
      if (now_ns() >= deadline) break;
    }
    if (m->filled == m->npages) {
      int64_t t = now_ns();
      m->rate_t0 = t;
      m->verify_t0 = t;
      out("FERRY-MEM filled=%" PRIu64 " pages uptime=%.2f\n", m->npages, uptime_s());
      /* self-test of the verifier: flip one payload byte, header untouched */
      for (long k = 0; k < m->inject; k++) {
        uint64_t i = ((uint64_t)k * 7919u + m->npages / 2) % m->npages;
        ((unsigned char *)mem_page(m, i))[PAGE - 1 - (size_t)k % 64] ^= 0x5a;
        out("FERRY-INJECT page=%" PRIu64 "\n", i);
      }
    }
    return;
  }

  /* Phase 2: rewrites, paced evenly (catch-up bounded to 100 ms worth). */
  if (m->rate_pages_ns > 0) {
    double due = (double)(now - m->rate_t0) * m->rate_pages_ns - m->rate_done;
    double cap = m->rate_pages_ns * 100e6;
    if (due > cap) {
      m->rate_done += due - cap;
      due = cap;
    }
    while (due >= 1.0) {
      uint64_t i = m->write_cursor;
      mem_verify(m, i, "prewrite"); /* a corrupt page is counted, then repaired by the rewrite */
      mem_write(m, i);
      m->write_cursor = (i + 1) % m->npages;
      m->rate_done += 1.0;
      due -= 1.0;
      if ((m->write_cursor & 15) == 0 && now_ns() >= deadline) break;
    }
  }

  /* Phase 3: cyclic re-verification with whatever time remains in the slice. */
  double vdue = (double)(now - m->verify_t0) * m->verify_pages_ns - m->verify_done;
  double vcap = m->verify_pages_ns * 100e6;
  if (vdue > vcap) {
    m->verify_done += vdue - vcap;
    vdue = vcap;
  }
  while (vdue >= 1.0) {
    uint64_t i = m->verify_cursor;
    if (mem_verify(m, i, "verify") != 0) mem_write(m, i);
    m->verify_cursor = (i + 1) % m->npages;
    m->verify_done += 1.0;
    vdue -= 1.0;
    if ((m->verify_cursor & 15) == 0 && now_ns() >= deadline) break;
  }
}

static int mem_report(struct workload *w, char *buf, size_t len) {
  struct mem_state *m = w->state;
  return snprintf(buf, len, " dirtied_mib=%.1f verified=%" PRIu64 " corrupt=%" PRIu64,
                  (double)m->pages_dirtied / PAGES_PER_MIB, m->verified, m->corrupt);
}

/* ------------------------------------------------------------------------ */
/* main loop                                                                */

static struct workload workloads[] = {
    {.name = "mem", .init = mem_init, .step = mem_step, .report = mem_report},
    {.name = "disk", .init = disk_init, .step = disk_step, .report = disk_report, .finish = disk_finish},
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static volatile sig_atomic_t stopping;

static void on_sigterm(int sig) {
  (void)sig;
  stopping = 1;
}

int stop_requested(void) { return stopping; }

int main(void) {
  /* No SA_RESTART: the sleep between slices returns at once and the loop ends. */
  struct sigaction sa = {.sa_handler = on_sigterm};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);

  struct config c;
  parse_cmdline(&c);
  /* Never let the working set get us OOM-killed (that would look like a dead guest):
   * clamp it to what the guest can spare, keeping 12 MiB for the kernel. */
  long avail_kib = meminfo_kib("MemAvailable");
  long max_mb = avail_kib > 0 ? avail_kib / 1024 - 12 : -1;
  if (max_mb >= 0 && c.dirty_mb > max_mb) {
    out("FERRY-WARN dirty_mb=%ld exceeds what the guest can spare (MemAvailable %ld MiB): using %ld\n",
        c.dirty_mb, avail_kib / 1024, max_mb);
    c.dirty_mb = max_mb;
  }
  out("FERRY-WORKLOAD start hb_ms=%ld dirty_mb=%ld dirty_rate=%.1f verify_s=%.1f disk=%s "
      "mem_avail_mib=%ld\n",
      c.hb_ms, c.dirty_mb, c.dirty_rate, c.verify_s, c.disk[0] ? c.disk : "-",
      avail_kib > 0 ? avail_kib / 1024 : -1);

  for (size_t k = 0; k < NWORKLOADS; k++) {
    struct workload *w = &workloads[k];
    int r = w->init(w, &c);
    w->enabled = r == 0;
    if (r < 0) out("FERRY-ERROR workload %s disabled\n", w->name);
  }

  const int64_t period = c.hb_ms * 1000000LL;
  int64_t start = now_ns();
  int64_t next_hb = start; /* first heartbeat right away */
  int64_t next_slice = start;
  uint64_t seq = 0;

  while (!stopping) {
    int64_t now = now_ns();
    if (now >= next_hb) {
      char line[512];
      size_t n = (size_t)snprintf(line, sizeof line, "FERRY-HB seq=%" PRIu64 " uptime=%.2f", ++seq,
                                  uptime_s());
      /* memory fields are always present (zero when the memory workload is off) */
      if (workloads[0].enabled)
        n += (size_t)workloads[0].report(&workloads[0], line + n, sizeof line - n);
      else
        n += (size_t)snprintf(line + n, sizeof line - n, " dirtied_mib=0.0 verified=0 corrupt=0");
      for (size_t k = 1; k < NWORKLOADS && n < sizeof line; k++)
        if (workloads[k].enabled) n += (size_t)workloads[k].report(&workloads[k], line + n, sizeof line - n);
      out("%s\n", line);
      next_hb += period;
      if (next_hb <= now) next_hb = now + period; /* fell behind: no bursts */
    }

    next_slice += SLICE_NS;
    if (next_slice <= now) next_slice = now + SLICE_NS;
    /* leave ~20% of each slice idle so the guest stays responsive */
    int64_t deadline = now + (next_slice - now) * 8 / 10;
    if (deadline > next_hb) deadline = next_hb;
    for (size_t k = 0; k < NWORKLOADS; k++)
      if (workloads[k].enabled) workloads[k].step(&workloads[k], now, deadline);

    int64_t wake = next_slice < next_hb ? next_slice : next_hb;
    struct timespec ts = {.tv_sec = wake / 1000000000LL, .tv_nsec = wake % 1000000000LL};
    while (!stopping && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
  }
  for (size_t k = 0; k < NWORKLOADS; k++)
    if (workloads[k].enabled && workloads[k].finish != NULL) workloads[k].finish(&workloads[k]);
  out("FERRY-WORKLOAD-STOPPED\n");
  return 0;
}
