/*
 * The disk workload of ferry-workload: a writer that puts checksummed, sequence-numbered
 * 4 KiB blocks on a disk (O_DIRECT|O_SYNC) at a set rate, a verifier that keeps re-reading
 * every block written so far against the state kept in guest memory (which migrates with the
 * guest), and an on-disk record of what was acknowledged, so a later boot can verify the disk
 * without that memory (offline migration, reboot).
 *
 * Region layout (4 KiB blocks from the start of the device):
 *   block 0        superblock: layout, clean-shutdown flag, last sequence, table sum
 *   blocks 1..T    expected-sequence table: 4 header words, then one 8-byte slot per data block
 *   blocks T+1..   data blocks: magic, data index, generation, sequence, checksum, payload
 *
 * A write is acknowledged when the data block's O_SYNC write has returned; its sequence goes
 * into the in-memory table at once and onto the disk at the end of the same 10 ms slice
 * (before any later write), and at a clean shutdown the superblock records the table's sum
 * and the last sequence. So after a clean shutdown every acknowledged write is on record,
 * and a block or table block that went back to older content shows up: an older sequence
 * than the table's, or a table that no longer sums to what the superblock says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workload.h"

#define MAGIC_DISK 0x4645525259424b32ULL  /* "FERRYBK2": data block */
#define MAGIC_TABLE 0x4645525259544231ULL /* "FERRYTB1": expected-sequence table block */
#define MAGIC_SUPER 0x4645525259534231ULL /* "FERRYSB1": superblock */
#define LAYOUT_VERSION 1u
#define TABLE_HDR 4u /* magic, table block number, reserved, checksum */
#define SLOTS_PER_TABLE (WORDS - TABLE_HDR)
#define RUN_BLOCKS 32u /* the verifier and the boot check read up to 128 KiB at once */

/* data block header words */
enum { H_MAGIC, H_INDEX, H_GEN, H_SEQ, H_SUM, H_WORDS };
/* superblock words */
enum { S_MAGIC, S_VERSION, S_REGION, S_TABLE, S_DATA, S_CLEAN, S_LAST_SEQ, S_TABLE_SUM, S_BOOTS, S_SUM };

enum { DISK_OK, DISK_CORRUPT, DISK_LOST };

struct disk_state {
  int fd;
  uint64_t ntable;      /* table blocks */
  uint64_t ndata;       /* data blocks */
  uint64_t *table;      /* the table, block images as on disk: slot = expected sequence (0 = never) */
  uint32_t *gen;        /* generation per data block */
  uint8_t *table_dirty; /* table blocks changed since the last flush */
  uint64_t *buf;        /* RUN_BLOCKS * 4 KiB, aligned for O_DIRECT */
  uint64_t super[WORDS] __attribute__((aligned(4096)));
  uint64_t last_seq;    /* sequence of the last acknowledged write */
  uint64_t nslots;      /* data blocks with a nonzero slot (the written region) */
  uint64_t cursor;      /* next data block to write */
  uint64_t vcursor;     /* next data block to verify */
  uint64_t written, verified, sweeps, corrupt, lost, errors;
  double rate_blocks_ns, verify_s;
  int64_t t0, vlast;
  double done, vcredit;
  int writing;          /* the superblock says "not clean": finish must record the state */
  uint64_t printed;
  int64_t last_print;
};

static struct disk_state disk;

/* 64-bit FNV-1a over every word but `skip` (the checksum's own word). */
static uint64_t words_checksum(const uint64_t *w, unsigned skip) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned i = 0; i < WORDS; i++)
    if (i != skip) h = (h ^ w[i]) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

static uint64_t *slot(struct disk_state *d, uint64_t i) {
  return &d->table[(i / SLOTS_PER_TABLE) * WORDS + TABLE_HDR + i % SLOTS_PER_TABLE];
}

static off_t data_offset(const struct disk_state *d, uint64_t i) {
  return (off_t)((1 + d->ntable + i) * PAGE);
}

/* Payload from a PRNG seeded by (index, sequence): never zero, never the same twice. */
static void data_fill(uint64_t *w, uint64_t i, uint32_t gen, uint64_t seq) {
  uint64_t s = (i * 0xD1B54A32D192ED03ULL) ^ (seq * 0xABC98388FB8FAC03ULL) ^ MAGIC_DISK;
  w[H_MAGIC] = MAGIC_DISK;
  w[H_INDEX] = i;
  w[H_GEN] = gen;
  w[H_SEQ] = seq;
  for (unsigned k = H_WORDS; k < WORDS; k++) w[k] = splitmix64(&s) | 1;
  w[H_SUM] = words_checksum(w, H_SUM);
}

/* What block i holds compared with the write expected there (sequence want). */
static int data_classify(const uint64_t *w, uint64_t i, uint64_t want) {
  if (w[H_MAGIC] != MAGIC_DISK || w[H_INDEX] != i || words_checksum(w, H_SUM) != w[H_SUM])
    return DISK_CORRUPT;
  if (w[H_SEQ] < want) return DISK_LOST;
  return w[H_SEQ] == want ? DISK_OK : DISK_CORRUPT; /* a write from the future: not ours */
}

static int io_full(struct disk_state *d, int write_op, void *buf, size_t len, off_t off) {
  ssize_t n = write_op ? pwrite(d->fd, buf, len, off) : pread(d->fd, buf, len, off);
  if (n == (ssize_t)len) return 0;
  d->errors++;
  if (corrupt_report_allowed(&d->printed, &d->last_print))
    out("FERRY-DISK-ERROR offset=%jd len=%zu op=%s: %s\n", (intmax_t)off, len,
        write_op ? "write" : "read", n < 0 ? strerror(errno) : "short I/O");
  return -1;
}

static void report_bad(struct disk_state *d, uint64_t i, const uint64_t *w, int what,
                       const char *where) {
  if (!corrupt_report_allowed(&d->printed, &d->last_print)) return;
  out("FERRY-DISK-%s block=%" PRIu64 " seq=%" PRIu64 " found_seq=%" PRIu64 " gen=%" PRIu32
      " found_gen=%" PRIu64 " idx=%" PRIu64 " magic=%s csum=%s where=%s corrupt=%" PRIu64
      " lost=%" PRIu64 "\n",
      what == DISK_LOST ? "LOST" : "CORRUPT", i, *slot(d, i), w[H_SEQ], d->gen[i], w[H_GEN],
      w[H_INDEX], w[H_MAGIC] == MAGIC_DISK ? "ok" : "bad",
      words_checksum(w, H_SUM) == w[H_SUM] ? "ok" : "bad", where, d->corrupt, d->lost);
}

/* ------------------------------------------------------------------------ */
/* on-disk state: table and superblock                                     */

static int table_write(struct disk_state *d, uint64_t t) {
  uint64_t *b = &d->table[t * WORDS];
  b[0] = MAGIC_TABLE;
  b[1] = t;
  b[2] = 0;
  b[3] = words_checksum(b, 3);
  if (io_full(d, 1, b, PAGE, (off_t)((1 + t) * PAGE)) != 0) return -1;
  d->table_dirty[t] = 0;
  return 0;
}

static void table_flush(struct disk_state *d) {
  for (uint64_t t = 0; t < d->ntable; t++)
    if (d->table_dirty[t]) table_write(d, t);
}

static uint64_t table_sum(struct disk_state *d) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < d->ndata; i++) sum += *slot(d, i) * 0x9E3779B97F4A7C15ULL + i;
  return sum;
}

static int super_write(struct disk_state *d, int clean) {
  uint64_t *s = d->super;
  uint64_t boots = s[S_MAGIC] == MAGIC_SUPER ? s[S_BOOTS] : 0;
  memset(s, 0, PAGE);
  s[S_MAGIC] = MAGIC_SUPER;
  s[S_VERSION] = LAYOUT_VERSION;
  s[S_REGION] = 1 + d->ntable + d->ndata;
  s[S_TABLE] = d->ntable;
  s[S_DATA] = d->ndata;
  s[S_CLEAN] = (uint64_t)clean;
  s[S_LAST_SEQ] = d->last_seq;
  s[S_TABLE_SUM] = clean ? table_sum(d) : 0;
  s[S_BOOTS] = clean ? boots : boots + 1;
  s[S_SUM] = words_checksum(s, S_SUM);
  return io_full(d, 1, s, PAGE, 0);
}

/* ------------------------------------------------------------------------ */
/* boot-time check (ferry.disk_check=1)                                     */

struct check_result {
  uint64_t blocks, bad, lost;
};

/* Reads the table from the disk; a table block that fails its checksum counts as bad. */
static void check_table(struct disk_state *d, struct check_result *r) {
  for (uint64_t t = 0; t < d->ntable; t++) {
    uint64_t *b = &d->table[t * WORDS];
    if (io_full(d, 0, b, PAGE, (off_t)((1 + t) * PAGE)) != 0 || b[0] != MAGIC_TABLE || b[1] != t ||
        words_checksum(b, 3) != b[3]) {
      r->bad++;
      out("FERRY-DISK-CORRUPT table=%" PRIu64 " magic=%s\n", t, b[0] == MAGIC_TABLE ? "ok" : "bad");
      memset(b, 0, PAGE); /* its blocks cannot be checked: forget them */
    }
  }
}

/* Every data block the table says was written must hold that write (or, after a crash, a
 * later one that was acknowledged but not yet recorded). Bad and lost blocks are forgotten,
 * so the live verifier starts from what is really there. */
static void check_data(struct disk_state *d, int clean, struct check_result *r) {
  uint64_t max_seq = 0;
  for (uint64_t i = 0; i < d->ndata && !stop_requested();) {
    if (*slot(d, i) == 0) {
      i++;
      continue;
    }
    uint64_t n = 1;
    while (n < RUN_BLOCKS && i + n < d->ndata && *slot(d, i + n) != 0) n++;
    if (io_full(d, 0, d->buf, n * PAGE, data_offset(d, i)) != 0) {
      r->bad += n;
      for (uint64_t k = 0; k < n; k++) *slot(d, i + k) = 0;
      i += n;
      continue;
    }
    for (uint64_t k = 0; k < n; k++, i++) {
      const uint64_t *w = d->buf + k * WORDS;
      uint64_t want = *slot(d, i);
      int what = data_classify(w, i, want);
      r->blocks++;
      if (what == DISK_CORRUPT && !clean && w[H_MAGIC] == MAGIC_DISK && w[H_INDEX] == i &&
          words_checksum(w, H_SUM) == w[H_SUM] && w[H_SEQ] > want) {
        *slot(d, i) = w[H_SEQ]; /* written just before a crash, not yet recorded */
        what = DISK_OK;
      }
      if (what == DISK_OK) {
        d->gen[i] = (uint32_t)w[H_GEN];
        if (w[H_SEQ] > max_seq) {
          max_seq = w[H_SEQ];
          d->cursor = (i + 1) % d->ndata;
        }
        continue;
      }
      if (what == DISK_LOST) r->lost++;
      else r->bad++;
      report_bad(d, i, w, what, "check");
      *slot(d, i) = 0;
    }
  }
  if (max_seq > d->last_seq) d->last_seq = max_seq;
}

/* Returns 1 when the disk holds our superblock for this very layout (and loads it). */
static int super_read(struct disk_state *d) {
  uint64_t *s = d->super;
  if (io_full(d, 0, s, PAGE, 0) != 0) return 0;
  return s[S_MAGIC] == MAGIC_SUPER && words_checksum(s, S_SUM) == s[S_SUM] &&
         s[S_VERSION] == LAYOUT_VERSION && s[S_TABLE] == d->ntable && s[S_DATA] == d->ndata;
}

static void disk_check(struct disk_state *d) {
  struct check_result r = {0, 0, 0};
  int clean = 0;
  if (!super_read(d)) {
    out("FERRY-DISK-CORRUPT superblock magic=%s\n", d->super[S_MAGIC] == MAGIC_SUPER ? "ok" : "bad");
    r.bad++;
    memset(d->super, 0, PAGE);
  } else {
    clean = d->super[S_CLEAN] == 1;
    d->last_seq = d->super[S_LAST_SEQ];
    check_table(d, &r);
    /* A table block that went back to an older (self-consistent) version: its sum is off. */
    if (clean && r.bad == 0 && table_sum(d) != d->super[S_TABLE_SUM]) {
      out("FERRY-DISK-CORRUPT table sum differs from the superblock's (a table write was lost)\n");
      r.bad++;
    }
    check_data(d, clean, &r);
  }
  for (uint64_t i = 0; i < d->ndata; i++) d->nslots += *slot(d, i) != 0;
  out("FERRY-DISK-CHECK blocks=%" PRIu64 " bad=%" PRIu64 " lost=%" PRIu64 " ok=%d seq=%" PRIu64
      " clean=%d\n",
      r.blocks, r.bad, r.lost, r.bad == 0 && r.lost == 0 && !stop_requested(), d->last_seq, clean);
}

/* ------------------------------------------------------------------------ */
/* workload interface                                                       */

int disk_init(struct workload *w, const struct config *c) {
  struct disk_state *d = &disk;
  w->state = d;
  if (c->disk[0] == '\0') return 1;
  /* The device node may show up a little after the driver loaded. */
  for (int tries = 0;; tries++) {
    d->fd = open(c->disk, O_RDWR | O_DIRECT | O_SYNC);
    if (d->fd >= 0) break;
    if (tries >= 500) {
      out("FERRY-ERROR disk: open %s: %s\n", c->disk, strerror(errno));
      return -1;
    }
    usleep(10000);
  }
  uint64_t bytes = 0;
  struct stat st;
  if (fstat(d->fd, &st) == 0 && S_ISBLK(st.st_mode)) {
    if (ioctl(d->fd, BLKGETSIZE64, &bytes) != 0) bytes = 0;
  } else if (fstat(d->fd, &st) == 0) {
    bytes = (uint64_t)st.st_size;
  }
  uint64_t want = c->disk_mb > 0 ? (uint64_t)c->disk_mb << 20 : (uint64_t)1 << 30;
  if (bytes == 0 || want < bytes) bytes = want;
  uint64_t nblocks = bytes / PAGE;
  if (nblocks < 3) {
    out("FERRY-ERROR disk: %s is too small\n", c->disk);
    return -1;
  }
  /* T table blocks hold the slots of the D = N - 1 - T data blocks. */
  d->ntable = (nblocks - 1 + SLOTS_PER_TABLE) / (SLOTS_PER_TABLE + 1);
  d->ndata = nblocks - 1 - d->ntable;
  d->gen = calloc(d->ndata, sizeof *d->gen);
  d->table_dirty = calloc(d->ntable, 1);
  if (d->gen == NULL || d->table_dirty == NULL ||
      posix_memalign((void **)&d->table, PAGE, d->ntable * PAGE) != 0 ||
      posix_memalign((void **)&d->buf, PAGE, RUN_BLOCKS * PAGE) != 0) {
    out("FERRY-ERROR disk: out of memory\n");
    return -1;
  }
  memset(d->table, 0, d->ntable * PAGE);
  if (c->disk_check) {
    disk_check(d);
    if (stop_requested()) return 0; /* shutting down mid-check: leave the disk as it was */
  } else {
    super_read(d); /* only to carry the boot count on */
  }
  /* From here on the disk is "being written": a crash leaves clean=0 behind. */
  for (uint64_t t = 0; t < d->ntable; t++) d->table_dirty[t] = 1;
  table_flush(d);
  if (super_write(d, 0) != 0) return -1;
  d->writing = 1;
  d->rate_blocks_ns = c->disk_rate * PAGES_PER_MIB / 1e9;
  d->verify_s = c->disk_verify_s;
  d->t0 = d->vlast = now_ns();
  out("FERRY-DISK dev=%s blocks=%" PRIu64 " table=%" PRIu64 " data=%" PRIu64
      " rate_mib=%.1f verify_s=%.1f seq=%" PRIu64 "\n",
      c->disk, nblocks, d->ntable, d->ndata, c->disk_rate, c->disk_verify_s, d->last_seq);
  return 0;
}

/* Writes data block i with the next sequence; returns 0 once acknowledged (and read back). */
static int data_write(struct disk_state *d, uint64_t i) {
  uint32_t g = d->gen[i] + 1;
  if (g == 0) g = 1;
  uint64_t seq = d->last_seq + 1;
  data_fill(d->buf, i, g, seq);
  if (io_full(d, 1, d->buf, PAGE, data_offset(d, i)) != 0) return -1;
  d->last_seq = seq;
  if (*slot(d, i) == 0) d->nslots++;
  *slot(d, i) = seq;
  d->gen[i] = g;
  d->table_dirty[i / SLOTS_PER_TABLE] = 1;
  d->written++;
  return 0;
}

/* Checks n blocks from i that are in d->buf; a bad or lost block is counted, then rewritten. */
static void check_run(struct disk_state *d, uint64_t i, uint64_t n, const char *where) {
  for (uint64_t k = 0; k < n; k++) {
    uint64_t *w = d->buf + k * WORDS;
    int what = data_classify(w, i + k, *slot(d, i + k));
    d->verified++;
    if (what == DISK_OK) continue;
    if (what == DISK_LOST) d->lost++;
    else d->corrupt++;
    report_bad(d, i + k, w, what, where);
    /* Repair it (once counted, a block is not counted again): everything after it in the
     * buffer is still to be checked, so re-read and check those after the rewrite. */
    data_write(d, i + k);
    if (k + 1 < n && io_full(d, 0, d->buf, (n - k - 1) * PAGE, data_offset(d, i + k + 1)) == 0)
      check_run(d, i + k + 1, n - k - 1, where);
    return;
  }
}

static void verify_one(struct disk_state *d, uint64_t i, const char *where) {
  if (*slot(d, i) == 0) return;
  if (io_full(d, 0, d->buf, PAGE, data_offset(d, i)) == 0) check_run(d, i, 1, where);
}

void disk_step(struct workload *w, int64_t now, int64_t deadline) {
  struct disk_state *d = w->state;
  if (!d->writing) return;

  /* The writer: paced evenly, catch-up bounded to 100 ms worth. */
  if (d->rate_blocks_ns > 0) {
    double due = (double)(now - d->t0) * d->rate_blocks_ns - d->done;
    double cap = d->rate_blocks_ns * 100e6;
    if (due > cap) {
      d->done += due - cap;
      due = cap;
    }
    while (due >= 1.0) {
      uint64_t i = d->cursor;
      verify_one(d, i, "prewrite");
      if (data_write(d, i) == 0) verify_one(d, i, "readback");
      d->cursor = (i + 1) % d->ndata;
      d->done += 1.0;
      due -= 1.0;
      if (now_ns() >= deadline) break;
    }
  }
  /* Acknowledged writes go on record before any later write. */
  table_flush(d);

  /* The verifier: a sweep over the written blocks every verify_s, in what the slice has left. */
  if (d->nslots == 0) return;
  double rate = (double)d->nslots / (d->verify_s * 1e9);
  d->vcredit += (double)(now - d->vlast) * rate;
  d->vlast = now;
  if (d->vcredit > rate * 100e6 + RUN_BLOCKS) d->vcredit = rate * 100e6 + RUN_BLOCKS;
  while (d->vcredit >= 1.0 && now_ns() < deadline) {
    uint64_t i = d->vcursor;
    for (uint64_t skipped = 0; *slot(d, i) == 0 && skipped < d->ndata; skipped++) {
      i = (i + 1) % d->ndata;
      if (i == 0) d->sweeps++;
    }
    uint64_t n = 1;
    while (n < RUN_BLOCKS && n < (uint64_t)d->vcredit && i + n < d->ndata && *slot(d, i + n) != 0)
      n++;
    if (io_full(d, 0, d->buf, n * PAGE, data_offset(d, i)) == 0) check_run(d, i, n, "verify");
    d->vcredit -= (double)n;
    d->vcursor = (i + n) % d->ndata;
    if (d->vcursor == 0) d->sweeps++;
  }
  table_flush(d); /* repairs are writes too */
}

int disk_report(struct workload *w, char *buf, size_t len) {
  struct disk_state *d = w->state;
  return snprintf(buf, len,
                  " disk_written=%" PRIu64 " disk_corrupt=%" PRIu64 " disk_verified=%" PRIu64
                  " disk_sweeps=%" PRIu64 " disk_lost=%" PRIu64,
                  d->written, d->corrupt, d->verified, d->sweeps, d->lost);
}

/* Shutdown: every acknowledged write on record, then the superblock says "clean". */
void disk_finish(struct workload *w) {
  struct disk_state *d = w->state;
  if (!d->writing) return;
  table_flush(d);
  int rc = super_write(d, 1);
  fsync(d->fd);
  d->writing = 0;
  out("FERRY-DISK-SYNCED seq=%" PRIu64 " written=%" PRIu64 " ok=%d\n", d->last_seq, d->written,
      rc == 0 && d->errors == 0);
}
