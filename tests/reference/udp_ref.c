/*
 * udp_ref: treecast's C reference of the probe data path (probes/WIRE.md),
 * the floor the probes are compared against on the same machine, same run.
 *
 *   udp_ref sender    [-r RATE] [-d S] [-w S] [-s BYTES] ADDR:PORT...
 *   udp_ref receiver  -p PORT [-d S] [-k]
 *   udp_ref forwarder -p PORT [-d S] [-k] ADDR:PORT...
 *   udp_ref selftest
 *
 * -r packets/s per destination (10000), -d stream length in s (5), -w warm-up
 * in s before it (0; WARMUP packets), -s datagram size (24, header + zeros),
 * -p UDP port to bind on 0.0.0.0, -k (--kernel-ts) arrival time from the
 * kernel (SO_TIMESTAMPNS; SCM_TIMESTAMPNS with every datagram, via recvmsg)
 * instead of clock_gettime(CLOCK_REALTIME) after recvmsg returns.
 *
 * sender: seq 0.. (WARMUP first), then one END (seq one past the last),
 *   paced by clock_nanosleep(TIMER_ABSTIME) with 1 ns timer slack (never
 *   spins); one sendmmsg per tick to every destination, order rotating.
 * receiver: one-way delay arrival - ts_ns + emu_ns of every measured packet
 *   (not WARMUP, not END, not a duplicate) until END or d+2 s of silence.
 *   Loss, duplicates and reordering as probes/seq.ts defines them.
 * forwarder: forwards each datagram whole, hops + 1 (u16, saturating), to
 *   every destination; skips (counts) malformed ones; stops after END.
 * selftest: the golden vectors of probes/WIRE.md, encoded and decoded.
 *
 * Each mode prints one JSON line on stdout (fields: README "C reference");
 * exit 2 with an `error:` line on a bad command line.
 * Build: cc -O2 -o udp_ref udp_ref.c -lm
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_TIMESTAMPNS
#define SO_TIMESTAMPNS 35 /* x86_64, arm64 */
#endif
#ifndef SCM_TIMESTAMPNS
#define SCM_TIMESTAMPNS SO_TIMESTAMPNS
#endif

enum { HDR = 24, F_END = 1, F_WARMUP = 2, F_KNOWN = 3, MAX_DST = 1024 };
enum { OFF_SEQ = 0, OFF_FLAGS = 4, OFF_TS = 8, OFF_EMU = 16, OFF_HOPS = 20, OFF_RSV = 22 };
#define LATE_NS 100000ull
#define WIN (1u << 16) /* duplicate-detection window, as probes/defaults.ts */

typedef struct { uint32_t seq, flags; uint64_t ts_ns; uint32_t emu_ns; uint16_t hops; } hdr_t;

/* ---- wire ---------------------------------------------------------------- */
static uint64_t get_le(const uint8_t *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}
static void put_le(uint8_t *b, uint64_t v, int n) {
  for (int i = 0; i < n; i++, v >>= 8) b[i] = (uint8_t)v;
}
static void encode(const hdr_t *h, uint8_t *b) {
  put_le(b + OFF_SEQ, h->seq, 4);
  put_le(b + OFF_FLAGS, h->flags, 4);
  put_le(b + OFF_TS, h->ts_ns, 8);
  put_le(b + OFF_EMU, h->emu_ns, 4);
  put_le(b + OFF_HOPS, h->hops, 2);
  put_le(b + OFF_RSV, 0, 2);
}
/* 0 and *h filled for a probe datagram; -1 when short, unknown flags or reserved != 0 */
static int decode(const uint8_t *b, size_t len, hdr_t *h) {
  if (len < HDR) return -1;
  h->seq = (uint32_t)get_le(b + OFF_SEQ, 4);
  h->flags = (uint32_t)get_le(b + OFF_FLAGS, 4);
  h->ts_ns = get_le(b + OFF_TS, 8);
  h->emu_ns = (uint32_t)get_le(b + OFF_EMU, 4);
  h->hops = (uint16_t)get_le(b + OFF_HOPS, 2);
  return (h->flags & ~(uint32_t)F_KNOWN) || get_le(b + OFF_RSV, 2) ? -1 : 0;
}
static void add_hop(uint8_t *b) {
  uint64_t h = get_le(b + OFF_HOPS, 2);
  put_le(b + OFF_HOPS, h < 0xffff ? h + 1 : h, 2);
}

/* ---- clocks, errors, numbers --------------------------------------------- */
static uint64_t clock_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static void die(int code, const char *what, const char *arg) {
  fprintf(stderr, "error: %s%s%s\n", what, arg ? " " : "", arg ? arg : "");
  exit(code);
}
static void *xalloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) die(1, "out of memory", NULL);
  return p;
}

typedef struct { double *v; size_t n, cap; } vec_t;
static void push(vec_t *a, double x) {
  if (a->n == a->cap) a->v = xalloc(a->v, (a->cap = a->cap ? a->cap * 2 : 4096) * sizeof *a->v);
  a->v[a->n++] = x;
}
static int cmp_d(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}
/* nearest rank, over sorted data */
static double rank(const vec_t *a, double p) {
  if (!a->n) return 0;
  size_t k = (size_t)ceil(p / 100.0 * (double)a->n);
  return a->v[(k ? k : 1) - 1];
}
/* sorts a and prints "name":{p50,p90,p99,min,max,mean,stddev} figures, µs, with prefix keys */
static void print_stats(const char *prefix, vec_t *a) {
  qsort(a->v, a->n, sizeof *a->v, cmp_d);
  double sum = 0, sq = 0;
  for (size_t i = 0; i < a->n; i++) sum += a->v[i];
  double mean = a->n ? sum / (double)a->n : 0;
  for (size_t i = 0; i < a->n; i++) sq += (a->v[i] - mean) * (a->v[i] - mean);
  printf("\"%sp50_us\":%.3f,\"%sp90_us\":%.3f,\"%sp99_us\":%.3f,\"%smin_us\":%.3f,"
         "\"%smax_us\":%.3f,\"%smean_us\":%.3f,\"%sstddev_us\":%.3f",
         prefix, rank(a, 50), prefix, rank(a, 90), prefix, rank(a, 99), prefix,
         a->n ? a->v[0] : 0, prefix, a->n ? a->v[a->n - 1] : 0, prefix, mean, prefix,
         a->n ? sqrt(sq / (double)a->n) : 0);
}

/* ---- sockets -------------------------------------------------------------- */
static int parse_addr(const char *s, struct sockaddr_in *a) {
  char host[256], *end;
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || (size_t)(colon - s) >= sizeof host) return -1;
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = 0;
  long port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || port < 1 || port > 65535) return -1;
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &a->sin_addr) == 1 ? 0 : -1;
}

typedef struct { int fd, kernel; const char *note; } rx_t;

/* binds 0.0.0.0:port; silence of `idle_s` ends a receive; kernel timestamps when asked */
static rx_t rx_open(int port, double idle_s, int want_kernel) {
  rx_t r = {socket(AF_INET, SOCK_DGRAM, 0), 0, NULL};
  if (r.fd < 0) die(1, "socket:", strerror(errno));
  int big = 8 << 20, one = 1;
  setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (bind(r.fd, (struct sockaddr *)&a, sizeof a) < 0) die(1, "bind:", strerror(errno));
  struct timeval tv = {.tv_sec = (time_t)idle_s, .tv_usec = (long)((idle_s - floor(idle_s)) * 1e6)};
  setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (want_kernel) {
    if (setsockopt(r.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0) r.kernel = 1;
    else r.note = "SO_TIMESTAMPNS refused; user-space timestamps";
  }
  return r;
}

/* one datagram: length (-1 on timeout/error), user arrival time, kernel one or 0 */
static ssize_t rx_recv(const rx_t *r, uint8_t *buf, size_t cap, uint64_t *user, uint64_t *kern) {
  union { char b[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } ctl;
  struct iovec iov = {buf, cap};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (r->kernel) m.msg_control = ctl.b, m.msg_controllen = sizeof ctl.b;
  ssize_t n = recvmsg(r->fd, &m, 0);
  *user = clock_ns(CLOCK_REALTIME);
  *kern = 0;
  if (n < 0 || !r->kernel) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      *kern = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
    }
  }
  return n;
}

/* ---- sequence bookkeeping (probes/seq.ts) ----------------------------------- */
typedef struct {
  uint8_t bits[WIN / 8];
  int started;
  uint32_t first, max;
  int64_t warm_max, end_seq;
  uint64_t received, dup, reordered, warmup;
} seq_t;
#define BIT(s) (t->bits[((s) % WIN) >> 3] & (1u << ((s) & 7)))
#define SET(s) (t->bits[((s) % WIN) >> 3] |= (uint8_t)(1u << ((s) & 7)))
#define CLR(s) (t->bits[((s) % WIN) >> 3] &= (uint8_t)~(1u << ((s) & 7)))
/* 1 if seq is new (to be measured), 0 for a duplicate */
static int seq_accept(seq_t *t, uint32_t s) {
  if (!t->started || s > t->max) {
    if (!t->started) t->first = s;
    else if (s - t->max >= WIN) memset(t->bits, 0, sizeof t->bits);
    else for (uint32_t i = t->max + 1; i < s; i++) CLR(i);
    t->started = 1, t->max = s, t->received++;
    SET(s);
    return 1;
  }
  int in_win = t->max - s < WIN;
  if (in_win && BIT(s)) return t->dup++, 0;
  if (in_win) SET(s);
  if (s < t->first) t->first = s;
  t->reordered++, t->received++;
  return 1;
}
static uint64_t seq_lost(const seq_t *t) {
  int64_t first = t->warm_max >= 0 ? t->warm_max + 1 : -1, last = t->end_seq >= 0 ? t->end_seq - 1 : -1;
  if (t->started) {
    first = first < 0 || t->first < first ? (int64_t)t->first : first;
    last = last < (int64_t)t->max ? (int64_t)t->max : last;
  }
  if (first < 0 || last < first) return 0;
  int64_t lost = last - first + 1 - (int64_t)t->received;
  return lost > 0 ? (uint64_t)lost : 0;
}

/* ---- modes ---------------------------------------------------------------- */
typedef struct { double rate, seconds, warmup; int port, kernel; long size; } opts_t;

static int sender(const opts_t *o, int n, struct sockaddr_in *dst) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die(1, "socket:", strerror(errno));
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  uint64_t warm = (uint64_t)llround(o->rate * o->warmup), meas = (uint64_t)llround(o->rate * o->seconds);
  uint64_t total = warm + meas, late = 0, worst = 0, errors = 0;
  uint8_t *b = xalloc(NULL, (size_t)o->size);
  memset(b, 0, (size_t)o->size);
  struct iovec iov = {b, (size_t)o->size};
  struct mmsghdr *mm = xalloc(NULL, (size_t)n * sizeof *mm);
  uint64_t start = clock_ns(CLOCK_MONOTONIC);
  for (uint64_t i = 0; i <= total; i++) {
    uint64_t due = start + (uint64_t)llround((double)i * 1e9 / o->rate);
    struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
    uint64_t lag = clock_ns(CLOCK_MONOTONIC) - due;
    if (i < total && lag > LATE_NS) late++;
    if (i < total && lag > worst) worst = lag;
    hdr_t h = {(uint32_t)i, i == total ? F_END : i < warm ? F_WARMUP : 0, clock_ns(CLOCK_REALTIME), 0, 0};
    encode(&h, b);
    for (int j = 0; j < n; j++) {
      struct sockaddr_in *d = &dst[(i + (uint64_t)j) % (uint64_t)n]; /* rotate the order */
      mm[j] = (struct mmsghdr){.msg_hdr = {.msg_name = d, .msg_namelen = sizeof *d, .msg_iov = &iov, .msg_iovlen = 1}};
    }
    for (int off = 0; off < n;) {
      int k = sendmmsg(fd, mm + off, (unsigned)(n - off), 0);
      if (k <= 0) { errors += (uint64_t)(n - off); break; }
      off += k;
    }
  }
  printf("{\"role\":\"sender\",\"sent\":%llu,\"warmup\":%llu,\"destinations\":%d,"
         "\"late_over_100us\":%llu,\"worst_lag_us\":%.1f,\"send_errors\":%llu}\n",
         (unsigned long long)meas, (unsigned long long)warm, n, (unsigned long long)late,
         (double)worst / 1e3, (unsigned long long)errors);
  return 0;
}

static const char *ts_kind(const rx_t *r, uint64_t missing) { return r->kernel && !missing ? "kernel" : "user"; }

static int receiver(const opts_t *o) {
  rx_t r = rx_open(o->port, o->seconds + 2, o->kernel);
  static seq_t t = {.warm_max = -1, .end_seq = -1};
  vec_t user = {0}, kern = {0}, wake = {0};
  uint64_t malformed = 0, negative = 0, missing = 0, max_hops = 0;
  uint8_t b[2048];
  hdr_t h;
  for (;;) {
    uint64_t tu, tk;
    ssize_t n = rx_recv(&r, b, sizeof b, &tu, &tk);
    if (n < 0) break; /* silence: the stream is over */
    if (decode(b, (size_t)n, &h)) { malformed++; continue; }
    if (h.hops > max_hops) max_hops = h.hops;
    if (h.flags & F_END) { t.end_seq = h.seq; break; }
    if (h.flags & F_WARMUP) {
      t.warmup++;
      if ((int64_t)h.seq > t.warm_max) t.warm_max = h.seq;
      continue;
    }
    if (!seq_accept(&t, h.seq)) continue;
    double owd = ((double)(int64_t)(tu - h.ts_ns) + h.emu_ns) / 1e3;
    push(&user, owd);
    if (r.kernel && tk) {
      double k = ((double)(int64_t)(tk - h.ts_ns) + h.emu_ns) / 1e3;
      push(&kern, k);
      push(&wake, owd - k);
    } else if (r.kernel) {
      missing++;
    }
  }
  const char *kind = ts_kind(&r, missing);
  vec_t *owd = !strcmp(kind, "kernel") ? &kern : &user;
  for (size_t i = 0; i < owd->n; i++) negative += owd->v[i] < 0;
  if (r.kernel && missing) r.note = "the kernel gave no timestamp with some datagrams; user-space timestamps";
  printf("{\"role\":\"receiver\",\"timestamps\":\"%s\",\"recv\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
         "\"reordered\":%llu,\"warmup\":%llu,\"malformed\":%llu,\"end_seen\":%s,\"hops\":%llu,\"negative\":%llu,",
         kind, (unsigned long long)t.received, (unsigned long long)seq_lost(&t), (unsigned long long)t.dup,
         (unsigned long long)t.reordered, (unsigned long long)t.warmup, (unsigned long long)malformed,
         t.end_seq >= 0 ? "true" : "false", (unsigned long long)max_hops, (unsigned long long)negative);
  print_stats("", owd);
  if (!strcmp(kind, "kernel")) {
    printf(",\"user\":{");
    print_stats("", &user);
    printf("},\"wakeup\":{");
    print_stats("", &wake);
    printf("}");
  }
  if (r.note) printf(",\"note\":\"%s\"", r.note);
  printf("}\n");
  return 0;
}

static int forwarder(const opts_t *o, int n, struct sockaddr_in *dst) {
  rx_t r = rx_open(o->port, o->seconds + 2, o->kernel);
  static uint8_t b[65536];
  unsigned long long fwd = 0, malformed = 0, errors = 0, missing = 0;
  vec_t user = {0}, kern = {0};
  hdr_t h;
  for (;;) {
    uint64_t tu, tk;
    ssize_t len = rx_recv(&r, b, sizeof b, &tu, &tk);
    if (len < 0) break;
    if (decode(b, (size_t)len, &h)) { malformed++; continue; } /* skip, keep serving */
    add_hop(b);
    for (int j = 0; j < n; j++)
      if (sendto(r.fd, b, (size_t)len, 0, (struct sockaddr *)&dst[j], sizeof dst[j]) < 0) errors++;
    uint64_t sent = clock_ns(CLOCK_REALTIME);
    push(&user, (double)(int64_t)(sent - tu) / 1e3);
    if (tk) push(&kern, (double)(int64_t)(sent - tk) / 1e3);
    else if (r.kernel) missing++;
    fwd++;
    if (h.flags & F_END) break;
  }
  const char *kind = ts_kind(&r, missing);
  if (r.kernel && missing) r.note = "the kernel gave no timestamp with some datagrams; user-space timestamps";
  printf("{\"role\":\"forwarder\",\"timestamps\":\"%s\",\"forwarded\":%llu,\"malformed\":%llu,"
         "\"send_errors\":%llu,\"added\":{",
         kind, fwd, malformed, errors);
  print_stats("", !strcmp(kind, "kernel") ? &kern : &user);
  printf("}");
  if (r.note) printf(",\"note\":\"%s\"", r.note);
  printf("}\n");
  return 0;
}

/* the golden vectors of probes/WIRE.md, both ways, and the forwarder's edge cases */
static int selftest(void) {
  static const struct { hdr_t h; const char *hex; } v[] = {
      {{0, 0, 1715280981565948000ull, 0, 0}, "000000000000000060c038fcf6e6cd170000000000000000"},
      {{1, F_WARMUP, 1715280981566048000ull, 0, 0}, "010000000200000000473afcf6e6cd170000000000000000"},
      {{20000, F_END, 1715280983565948000ull, 250000, 2}, "204e00000100000060546e73f7e6cd1790d0030002000000"},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t b[HDR], want[HDR];
    hdr_t d;
    for (int j = 0; j < HDR; j++) sscanf(v[i].hex + 2 * j, "%2hhx", &want[j]);
    encode(&v[i].h, b);
    if (memcmp(b, want, HDR)) bad++, fprintf(stderr, "selftest: vector %zu encodes wrong\n", i);
    if (decode(want, HDR, &d) || d.seq != v[i].h.seq || d.flags != v[i].h.flags || d.ts_ns != v[i].h.ts_ns ||
        d.emu_ns != v[i].h.emu_ns || d.hops != v[i].h.hops)
      bad++, fprintf(stderr, "selftest: vector %zu decodes wrong\n", i);
  }
  uint8_t b[HDR] = {0};
  hdr_t d;
  b[OFF_HOPS] = 0xff;
  add_hop(b);
  if (get_le(b + OFF_HOPS, 2) != 0x100) bad++, fprintf(stderr, "selftest: hops 255 + 1 != 256\n");
  b[OFF_HOPS] = b[OFF_HOPS + 1] = 0xff;
  add_hop(b);
  if (get_le(b + OFF_HOPS, 2) != 0xffff) bad++, fprintf(stderr, "selftest: hops does not saturate\n");
  if (!decode(b, HDR - 1, &d)) bad++, fprintf(stderr, "selftest: a short datagram decodes\n");
  b[OFF_FLAGS] = 4;
  if (!decode(b, HDR, &d)) bad++, fprintf(stderr, "selftest: an unknown flag decodes\n");
  printf("{\"role\":\"selftest\",\"vectors\":%zu,\"failed\":%d}\n", sizeof v / sizeof v[0], bad);
  return bad ? 1 : 0;
}

static double num(const char *flag, const char *s, double lo, double hi) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (errno || end == s || *end || !(x >= lo && x <= hi)) {
    fprintf(stderr, "error: %s: bad value \"%s\" (from %g to %g)\n", flag, s, lo, hi);
    exit(2);
  }
  return x;
}

static const char USAGE[] =
    "usage: udp_ref sender [-r RATE] [-d SECONDS] [-w SECONDS] [-s BYTES] ADDR:PORT...\n"
    "       udp_ref receiver -p PORT [-d SECONDS] [-k|--kernel-ts]\n"
    "       udp_ref forwarder -p PORT [-d SECONDS] [-k|--kernel-ts] ADDR:PORT...\n"
    "       udp_ref selftest\n";

int main(int argc, char **argv) {
  opts_t o = {.rate = 10000, .seconds = 5, .size = HDR};
  const char *mode = argc > 1 ? argv[1] : "";
  int s = !strcmp(mode, "sender"), r = !strcmp(mode, "receiver"), f = !strcmp(mode, "forwarder");
  if (!strcmp(mode, "selftest") && argc == 2) return selftest();
  if (!s && !r && !f) fputs(USAGE, stderr), exit(2);
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--kernel-ts")) argv[i] = "-k";
  int opt;
  optind = 2;
  while ((opt = getopt(argc, argv, s ? "+r:d:w:s:" : "+p:d:k")) != -1) {
    if (opt == 'r') o.rate = num("-r", optarg, 1e-3, 1e7);
    else if (opt == 'd') o.seconds = num("-d", optarg, 0, 1e6);
    else if (opt == 'w') o.warmup = num("-w", optarg, 0, 1e6);
    else if (opt == 's') o.size = (long)num("-s", optarg, HDR, 65507);
    else if (opt == 'p') o.port = (int)num("-p", optarg, 1, 65535);
    else if (opt == 'k') o.kernel = 1;
    else fputs(USAGE, stderr), exit(2);
  }
  int n = argc - optind;
  if (r && n) die(2, "receiver: unexpected argument", argv[optind]);
  if (!r && (n < 1 || n > MAX_DST)) die(2, mode, "needs 1 to 1024 ADDR:PORT destinations");
  if (!s && !o.port) die(2, mode, "needs -p PORT");
  struct sockaddr_in *dst = xalloc(NULL, (size_t)(n ? n : 1) * sizeof *dst);
  for (int i = 0; i < n; i++)
    if (parse_addr(argv[optind + i], &dst[i])) die(2, "bad address (want IPv4:PORT):", argv[optind + i]);
  return s ? sender(&o, n, dst) : r ? receiver(&o) : forwarder(&o, n, dst);
}
