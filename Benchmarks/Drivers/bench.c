/*
 * bench.c — the C driver used by hiclaw-bench-driver (Benchmarks/DriverBenchmark).
 *
 * Built by scripts/bench.sh:
 *   cc -O2 -fPIC -shared -fvisibility=hidden -I Sources/DriverABI/include \
 *      -o libhc_bench.so Benchmarks/Drivers/bench.c
 *
 * A correct, synchronous worker-backend driver named "bench" with two methods:
 *   ping     -> {"driver":"bench"}
 *   echo256  -> checks that the request is a JSON object (first and last non-blank bytes are
 *               '{' and '}'), counts its bytes and its '"' characters (eight bytes at a time, so
 *               the whole request is read cheaply), and returns a JSON object of exactly 256
 *               bytes, allocated with host->alloc, with both counts in it:
 *               {"ok":true,"bytes":    1024,"quotes":      42,"pad":"xxx…"}
 *
 * It also implements `cancel` (a no-op for the unknown ids the benchmark passes, which stores the
 * id in a volatile so the call cannot be optimised away) and `get_extension` (returns NULL): the
 * two trivial vtable entries the benchmark uses to time a bare call through the ABI.
 *
 * init is idempotent (it only records the host table and returns the static vtable), so the
 * benchmark may call it a second time to obtain the raw vtable pointer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hiclaw_driver.h"

#define BENCH_REPLY_SIZE 256

static const hc_host_api *bench_host = NULL;
static volatile uint64_t bench_cancel_sink = 0;

/* The 256-byte reply: fixed-width numeric fields patched per call, padding to exactly 256 bytes. */
static char bench_reply_template[BENCH_REPLY_SIZE + 1];
static size_t bench_bytes_offset = 0;  /* offset of the 8-byte number field after "bytes": */
static size_t bench_quotes_offset = 0; /* offset of the 8-byte number field after "quotes": */

static const char bench_describe_json[] =
    "{\"name\":\"bench\",\"kind\":\"worker-backend\",\"version\":\"1.0.0\","
    "\"protocols\":[\"hiclaw.worker-backend/1\"],\"methods\":[\"ping\",\"echo256\"],"
    "\"capabilities\":{}}";

static const hc_driver_magic bench_magic = {
    HC_MAGIC, (uint32_t)sizeof(hc_driver_magic), HC_ABI_MAJOR, HC_ABI_MINOR,
    (uint32_t)sizeof(void *), 0u, "c", "bench", "1.0.0",
};

/* Instances are stateless; create hands out the address of this byte. */
static char bench_instance_token;

static void bench_prepare_template(void) {
  static const char head[] = "{\"ok\":true,\"bytes\":       0,\"quotes\":       0,\"pad\":\"";
  size_t head_len = sizeof(head) - 1;
  size_t i;
  memcpy(bench_reply_template, head, head_len);
  for (i = head_len; i < BENCH_REPLY_SIZE - 2; i++) bench_reply_template[i] = 'x';
  bench_reply_template[BENCH_REPLY_SIZE - 2] = '"';
  bench_reply_template[BENCH_REPLY_SIZE - 1] = '}';
  bench_reply_template[BENCH_REPLY_SIZE] = '\0';
  bench_bytes_offset = (size_t)(strstr(bench_reply_template, "\"bytes\":") - bench_reply_template) + 8;
  bench_quotes_offset = (size_t)(strstr(bench_reply_template, "\"quotes\":") - bench_reply_template) + 9;
}

/* Copies `len` bytes into a new host buffer with a trailing NUL. */
static hc_buf bench_buf(const char *bytes, size_t len) {
  hc_buf out;
  out.ptr = (char *)bench_host->alloc(bench_host->host_ctx, len + 1);
  memcpy(out.ptr, bytes, len);
  out.ptr[len] = '\0';
  out.len = len;
  return out;
}

static int bench_str_eq(hc_str s, const char *lit, size_t n) {
  return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* Writes `value` right-aligned in an 8-byte field, padded with leading blanks (JSON allows
 * whitespace before a number, not leading zeros). */
static void bench_put_digits(char *at, uint64_t value) {
  int i = 7;
  do {
    at[i--] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0 && i >= 0);
  while (i >= 0) at[i--] = ' ';
}

static int bench_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static hc_status bench_describe(hc_buf *out_json) {
  *out_json = bench_buf(bench_describe_json, sizeof(bench_describe_json) - 1);
  return HC_OK;
}

static hc_status bench_create(hc_str config_json, void **out_instance, hc_buf *out_error_json) {
  (void)config_json;
  (void)out_error_json;
  *out_instance = &bench_instance_token;
  return HC_OK;
}

static void bench_destroy(void *instance) { (void)instance; }

static hc_status bench_error(hc_buf *out_json, hc_status status, const char *json) {
  *out_json = bench_buf(json, strlen(json));
  return status;
}

/* Number of '"' bytes in p[0..n), eight bytes at a time (SWAR), so that reading the whole request
 * costs tens of nanoseconds rather than dominating the measurement. */
static uint64_t bench_count_quotes(const char *p, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, low7 = 0x7F7F7F7F7F7F7F7Full;
  const uint64_t quotes = ones * (uint64_t)'"';
  uint64_t count = 0, word, x, zero;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&word, p + i, 8);
    x = word ^ quotes;                        /* a byte is 0 where p had a quote */
    zero = ~(((x & low7) + low7) | x | low7); /* 0x80 in exactly the zero bytes */
    count += ((zero >> 7) * ones) >> 56;      /* add up the marker bits */
  }
  for (; i < n; i++) count += p[i] == '"';
  return count;
}

static hc_status bench_echo256(hc_str request, hc_buf *out_json) {
  size_t first = 0, last = request.len;
  uint64_t quotes;
  char *reply;
  if (request.ptr == NULL) return bench_error(out_json, HC_ERR_INVALID_ARGUMENT,
      "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"empty request\",\"retryable\":false}");
  while (first < last && bench_is_space(request.ptr[first])) first++;
  while (last > first && bench_is_space(request.ptr[last - 1])) last--;
  if (last - first < 2 || request.ptr[first] != '{' || request.ptr[last - 1] != '}')
    return bench_error(out_json, HC_ERR_INVALID_ARGUMENT,
        "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"the request is not a JSON object\","
        "\"retryable\":false}");
  quotes = bench_count_quotes(request.ptr + first, last - first);

  reply = (char *)bench_host->alloc(bench_host->host_ctx, BENCH_REPLY_SIZE + 1);
  memcpy(reply, bench_reply_template, BENCH_REPLY_SIZE + 1);
  bench_put_digits(reply + bench_bytes_offset, (uint64_t)request.len);
  bench_put_digits(reply + bench_quotes_offset, quotes);
  out_json->ptr = reply;
  out_json->len = BENCH_REPLY_SIZE;
  return HC_OK;
}

static hc_status bench_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  (void)instance;
  out_json->ptr = NULL;
  out_json->len = 0;
  if (bench_str_eq(method, "echo256", 7)) return bench_echo256(request_json, out_json);
  if (bench_str_eq(method, "ping", 4)) {
    static const char pong[] = "{\"driver\":\"bench\"}";
    *out_json = bench_buf(pong, sizeof(pong) - 1);
    return HC_OK;
  }
  return bench_error(out_json, HC_ERR_UNIMPLEMENTED,
      "{\"code\":\"UNIMPLEMENTED\",\"message\":\"unknown method\",\"retryable\":false}");
}

/* Synchronous driver: every id is unknown, so cancel has nothing to do but must not be elided. */
static void bench_cancel(void *instance, uint64_t request_id) {
  (void)instance;
  bench_cancel_sink = request_id;
}

static const void *bench_get_extension(const char *id) {
  (void)id;
  return NULL;
}

static hc_driver_api bench_api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, HC_CAP_CANCEL,
    bench_describe, bench_create, bench_destroy, bench_call,
    NULL,                /* call_async */
    bench_cancel,        /* cancel */
    bench_get_extension, /* get_extension */
    NULL,                /* shutdown: no threads */
};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &bench_magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  (void)out_error_json;
  if (args == NULL || args->host_abi_major != HC_ABI_MAJOR || args->host == NULL)
    return HC_ERR_VERSION_MISMATCH;
  bench_host = args->host;
  if (bench_reply_template[0] == '\0') bench_prepare_template();
  {
    const uint32_t driver_minor = HC_ABI_MINOR;
    bench_api.abi_minor = args->host_abi_minor < driver_minor ? args->host_abi_minor : driver_minor;
  }
  *out_api = &bench_api;
  return HC_OK;
}
