/*
 * fixture_common.h — helpers shared by the C fixture drivers in this directory.
 *
 * Each fixture is one C99 file that defines FX_NAME (its stem, a string literal) and then includes
 * this header. Everything here is `static` (and marked unused, so a fixture that skips a helper
 * still builds with -Werror): nothing in this file can reach a fixture's exported symbol set,
 * which must stay exactly `hc_driver_magic_v1` + `hc_driver_init_v1`.
 *
 * What it provides:
 *   - fx_json_*      a real JSON *syntax* validator (RFC 8259 grammar, depth-limited), a top-level
 *                    member lookup, a string unescaper and an unsigned integer reader;
 *   - fx_sb_*        a tiny string builder on the driver's own malloc (never crosses the boundary);
 *   - fx_set_buf / fx_ok / fx_errorf
 *                    return JSON to the host in a host->alloc'd, NUL-terminated buffer;
 *   - fx_store_host  copy the host table at init (only the bytes inside its struct_size);
 *   - fx_init        the standard negotiation (major must be 1, abi_minor = min(host, driver));
 *   - fx_std_*       the behaviour every correct fixture shares (describe, create, destroy, call
 *                    with "ping"), so that each fixture file only spells out its one defect.
 */
#ifndef HICLAW_FIXTURE_COMMON_H
#define HICLAW_FIXTURE_COMMON_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime under -std=c99 */
#endif

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hiclaw_driver.h"

#ifndef FX_NAME
#error "define FX_NAME (the fixture's stem, e.g. \"noop\") before including fixture_common.h"
#endif

/* Internal linkage, no "defined but not used" warning. */
#define FX_STATIC static __attribute__((unused))

/* printf-style argument pair for a borrowed hc_str: use with "%.*s". */
#define FX_STR_ARG(s) \
  (int)((s).len > (size_t)INT_MAX ? (size_t)INT_MAX : (s).len), ((s).ptr ? (s).ptr : "")

/* The entry points, declared once with the signatures of hc_driver_magic_fn / hc_driver_init_fn.
 * A declaration exports nothing: a fixture that does not define one simply lacks the symbol. */
HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void);
HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json);

/* The standard magic block of a correct fixture. */
#define FX_MAGIC_INIT \
  { HC_MAGIC, (uint32_t)sizeof(hc_driver_magic), HC_ABI_MAJOR, HC_ABI_MINOR, \
    (uint32_t)sizeof(void *), 0u, "c", FX_NAME, "1.0.0" }

/* Canonical JSON documents of a correct fixture. */
#define FX_DESCRIBE_JSON                                                                     \
  "{\"name\":\"" FX_NAME "\",\"kind\":\"worker-backend\",\"version\":\"1.0.0\","             \
  "\"protocols\":[\"hiclaw.worker-backend/1\"],\"methods\":[\"ping\"],\"capabilities\":{}}"
#define FX_PING_JSON "{\"driver\":\"" FX_NAME "\"}"

/* =============================================================================================
 * Small string utilities
 * =========================================================================================== */

/* True if the borrowed string equals the NUL-terminated literal `lit`. */
FX_STATIC int fx_str_eq(hc_str s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && (n == 0 || (s.ptr != NULL && memcmp(s.ptr, lit, n) == 0));
}

FX_STATIC hc_str fx_str(const char *p, size_t n) {
  hc_str s;
  s.ptr = p;
  s.len = n;
  return s;
}

FX_STATIC hc_str fx_cstr(const char *lit) { return fx_str(lit, strlen(lit)); }

/* Sleep `ms` milliseconds (restarting after signals). */
FX_STATIC void fx_sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0) {
  }
}

FX_STATIC uint64_t fx_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* =============================================================================================
 * JSON syntax validator (RFC 8259 grammar; no UTF-8 well-formedness check)
 * =========================================================================================== */

#define FX_JSON_MAX_DEPTH 128

typedef struct fx_json_parser {
  const char *p;
  size_t n;
  size_t i;           /* cursor */
  int depth;
  const char *error;  /* reason of the first error, NULL while fine */
} fx_json_parser;

FX_STATIC int fx_jp_fail(fx_json_parser *jp, const char *why) {
  if (jp->error == NULL) jp->error = why;
  return 0;
}

FX_STATIC void fx_jp_ws(fx_json_parser *jp) {
  while (jp->i < jp->n) {
    char c = jp->p[jp->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    jp->i++;
  }
}

FX_STATIC int fx_jp_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A string token; the cursor is on the opening quote. */
FX_STATIC int fx_jp_string(fx_json_parser *jp) {
  jp->i++; /* opening quote */
  while (jp->i < jp->n) {
    unsigned char c = (unsigned char)jp->p[jp->i];
    if (c == '"') {
      jp->i++;
      return 1;
    }
    if (c < 0x20) return fx_jp_fail(jp, "control character in string");
    if (c == '\\') {
      jp->i++;
      if (jp->i >= jp->n) break;
      c = (unsigned char)jp->p[jp->i];
      if (c == 'u') {
        int k;
        for (k = 1; k <= 4; k++) {
          if (jp->i + (size_t)k >= jp->n || fx_jp_hex(jp->p[jp->i + (size_t)k]) < 0)
            return fx_jp_fail(jp, "bad \\u escape");
        }
        jp->i += 4;
      } else if (strchr("\"\\/bfnrt", (int)c) == NULL || c == '\0') {
        return fx_jp_fail(jp, "bad escape in string");
      }
    }
    jp->i++;
  }
  return fx_jp_fail(jp, "unterminated string");
}

FX_STATIC int fx_jp_digits(fx_json_parser *jp) {
  size_t start = jp->i;
  while (jp->i < jp->n && jp->p[jp->i] >= '0' && jp->p[jp->i] <= '9') jp->i++;
  return jp->i > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
FX_STATIC int fx_jp_number(fx_json_parser *jp) {
  if (jp->p[jp->i] == '-') jp->i++;
  if (jp->i >= jp->n) return fx_jp_fail(jp, "bad number");
  if (jp->p[jp->i] == '0') {
    jp->i++;
  } else if (!fx_jp_digits(jp)) {
    return fx_jp_fail(jp, "bad number");
  }
  if (jp->i < jp->n && jp->p[jp->i] == '.') {
    jp->i++;
    if (!fx_jp_digits(jp)) return fx_jp_fail(jp, "bad number fraction");
  }
  if (jp->i < jp->n && (jp->p[jp->i] == 'e' || jp->p[jp->i] == 'E')) {
    jp->i++;
    if (jp->i < jp->n && (jp->p[jp->i] == '+' || jp->p[jp->i] == '-')) jp->i++;
    if (!fx_jp_digits(jp)) return fx_jp_fail(jp, "bad number exponent");
  }
  return 1;
}

FX_STATIC int fx_jp_literal(fx_json_parser *jp, const char *word) {
  size_t n = strlen(word);
  if (jp->n - jp->i < n || memcmp(jp->p + jp->i, word, n) != 0)
    return fx_jp_fail(jp, "unexpected character");
  jp->i += n;
  return 1;
}

FX_STATIC int fx_jp_value(fx_json_parser *jp);

FX_STATIC int fx_jp_object(fx_json_parser *jp) {
  jp->i++; /* '{' */
  fx_jp_ws(jp);
  if (jp->i < jp->n && jp->p[jp->i] == '}') {
    jp->i++;
    return 1;
  }
  for (;;) {
    fx_jp_ws(jp);
    if (jp->i >= jp->n || jp->p[jp->i] != '"') return fx_jp_fail(jp, "expected string key");
    if (!fx_jp_string(jp)) return 0;
    fx_jp_ws(jp);
    if (jp->i >= jp->n || jp->p[jp->i] != ':') return fx_jp_fail(jp, "expected ':' after key");
    jp->i++;
    if (!fx_jp_value(jp)) return 0;
    fx_jp_ws(jp);
    if (jp->i >= jp->n) return fx_jp_fail(jp, "unterminated object");
    if (jp->p[jp->i] == '}') {
      jp->i++;
      return 1;
    }
    if (jp->p[jp->i] != ',') return fx_jp_fail(jp, "expected ',' or '}' in object");
    jp->i++;
  }
}

FX_STATIC int fx_jp_array(fx_json_parser *jp) {
  jp->i++; /* '[' */
  fx_jp_ws(jp);
  if (jp->i < jp->n && jp->p[jp->i] == ']') {
    jp->i++;
    return 1;
  }
  for (;;) {
    if (!fx_jp_value(jp)) return 0;
    fx_jp_ws(jp);
    if (jp->i >= jp->n) return fx_jp_fail(jp, "unterminated array");
    if (jp->p[jp->i] == ']') {
      jp->i++;
      return 1;
    }
    if (jp->p[jp->i] != ',') return fx_jp_fail(jp, "expected ',' or ']' in array");
    jp->i++;
  }
}

/* Any value, with leading whitespace; the cursor ends right after it. */
FX_STATIC int fx_jp_value(fx_json_parser *jp) {
  int ok;
  fx_jp_ws(jp);
  if (jp->i >= jp->n) return fx_jp_fail(jp, "unexpected end of input");
  switch (jp->p[jp->i]) {
    case '{':
    case '[':
      if (++jp->depth > FX_JSON_MAX_DEPTH) return fx_jp_fail(jp, "nesting too deep");
      ok = jp->p[jp->i] == '{' ? fx_jp_object(jp) : fx_jp_array(jp);
      jp->depth--;
      return ok;
    case '"':
      return fx_jp_string(jp);
    case 't':
      return fx_jp_literal(jp, "true");
    case 'f':
      return fx_jp_literal(jp, "false");
    case 'n':
      return fx_jp_literal(jp, "null");
    default:
      if (jp->p[jp->i] == '-' || (jp->p[jp->i] >= '0' && jp->p[jp->i] <= '9'))
        return fx_jp_number(jp);
      return fx_jp_fail(jp, "unexpected character");
  }
}

/* Validates one complete JSON text. Returns 1 if valid; otherwise 0 with the byte offset and a
 * reason (a static string) in the optional out parameters. Empty input is invalid. */
FX_STATIC int fx_json_valid(const char *p, size_t n, size_t *err_offset, const char **err_reason) {
  fx_json_parser jp;
  jp.p = p;
  jp.n = p != NULL ? n : 0;
  jp.i = 0;
  jp.depth = 0;
  jp.error = NULL;
  if (fx_jp_value(&jp)) {
    fx_jp_ws(&jp);
    if (jp.i == jp.n) return 1;
    fx_jp_fail(&jp, "trailing characters after JSON value");
  }
  if (err_offset) *err_offset = jp.i;
  if (err_reason) *err_reason = jp.error;
  return 0;
}

/* Unescapes a JSON string token (quotes included, already validated) into a NUL-terminated
 * malloc'd copy (the driver's own memory). \uXXXX becomes UTF-8; surrogate pairs are joined and a
 * lone surrogate becomes U+FFFD. Returns NULL on allocation failure. */
FX_STATIC char *fx_json_unescape(const char *tok, size_t n, size_t *out_len) {
  char *out;
  size_t i, o = 0;
  if (n < 2) return NULL;
  out = (char *)malloc(n); /* the unescaped form is never longer than the token */
  if (out == NULL) return NULL;
  for (i = 1; i + 1 < n; i++) {
    char c = tok[i];
    if (c != '\\') {
      out[o++] = c;
      continue;
    }
    c = tok[++i];
    switch (c) {
      case 'b': out[o++] = '\b'; break;
      case 'f': out[o++] = '\f'; break;
      case 'n': out[o++] = '\n'; break;
      case 'r': out[o++] = '\r'; break;
      case 't': out[o++] = '\t'; break;
      case 'u': {
        uint32_t cp = 0;
        int k;
        for (k = 1; k <= 4; k++) cp = cp * 16 + (uint32_t)fx_jp_hex(tok[i + (size_t)k]);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && tok[i + 1] == '\\' && tok[i + 2] == 'u') {
          uint32_t lo = 0;
          for (k = 3; k <= 6; k++) lo = lo * 16 + (uint32_t)fx_jp_hex(tok[i + (size_t)k]);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        if (cp < 0x80) {
          out[o++] = (char)cp;
        } else if (cp < 0x800) {
          out[o++] = (char)(0xC0 | (cp >> 6));
          out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out[o++] = (char)(0xE0 | (cp >> 12));
          out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
          out[o++] = (char)(0xF0 | (cp >> 18));
          out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
          out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          out[o++] = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: out[o++] = c; break; /* \" \\ \/ */
    }
  }
  out[o] = '\0';
  if (out_len) *out_len = o;
  return out;
}

/* Finds member `key` of the top-level object of a *validated* JSON text. On success stores the raw
 * span of its value (a token or a nested document) and returns 1; returns 0 if the text is not an
 * object or has no such key. Keys are compared after unescaping; the last duplicate wins. */
FX_STATIC int fx_json_member(const char *p, size_t n, const char *key, const char **value,
                             size_t *value_len) {
  fx_json_parser jp;
  int found = 0;
  jp.p = p;
  jp.n = n;
  jp.i = 0;
  jp.depth = 1;
  jp.error = NULL;
  fx_jp_ws(&jp);
  if (jp.i >= jp.n || p[jp.i] != '{') return 0;
  jp.i++;
  for (;;) {
    size_t key_start, key_len, unesc_len = 0, value_start;
    char *k;
    int match;
    fx_jp_ws(&jp);
    if (jp.i >= jp.n || p[jp.i] != '"') return found; /* '}' of an empty object */
    key_start = jp.i;
    if (!fx_jp_string(&jp)) return 0;
    key_len = jp.i - key_start;
    k = fx_json_unescape(p + key_start, key_len, &unesc_len);
    match = k != NULL && unesc_len == strlen(key) && memcmp(k, key, unesc_len) == 0;
    free(k);
    fx_jp_ws(&jp);
    jp.i++; /* ':' */
    fx_jp_ws(&jp);
    value_start = jp.i;
    if (!fx_jp_value(&jp)) return 0;
    if (match) {
      *value = p + value_start;
      *value_len = jp.i - value_start;
      found = 1;
    }
    fx_jp_ws(&jp);
    if (jp.i >= jp.n || p[jp.i] != ',') return found;
    jp.i++;
  }
}

/* Reads a JSON number token that is a plain non-negative integer <= max. Returns 1 on success. */
FX_STATIC int fx_json_uint(const char *tok, size_t n, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || (n > 1 && tok[0] == '0')) return 0;
  for (i = 0; i < n; i++) {
    if (tok[i] < '0' || tok[i] > '9') return 0;
    if (v > (max - (uint64_t)(tok[i] - '0')) / 10) return 0;
    v = v * 10 + (uint64_t)(tok[i] - '0');
  }
  *out = v;
  return 1;
}

/* =============================================================================================
 * String builder on the driver's own heap
 * =========================================================================================== */

typedef struct fx_sb {
  char *p;
  size_t len, cap;
  int oom;
} fx_sb;

#define FX_SB_INIT {NULL, 0, 0, 0}

FX_STATIC void fx_sb_append(fx_sb *sb, const char *s, size_t n) {
  if (sb->oom || n == 0) return;
  if (sb->len + n + 1 > sb->cap) {
    size_t cap = sb->cap ? sb->cap : 64;
    char *np;
    while (cap < sb->len + n + 1) cap *= 2;
    np = (char *)realloc(sb->p, cap);
    if (np == NULL) {
      sb->oom = 1;
      return;
    }
    sb->p = np;
    sb->cap = cap;
  }
  memcpy(sb->p + sb->len, s, n);
  sb->len += n;
  sb->p[sb->len] = '\0';
}

FX_STATIC void fx_sb_puts(fx_sb *sb, const char *s) { fx_sb_append(sb, s, strlen(s)); }

FX_STATIC void fx_sb_u64(fx_sb *sb, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  fx_sb_append(sb, tmp, (size_t)n);
}

/* Appends `s` as a quoted JSON string. */
FX_STATIC void fx_sb_json_string(fx_sb *sb, const char *s, size_t n) {
  size_t i, run = 0;
  fx_sb_append(sb, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char ubuf[8];
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default:
        if (c < 0x20) {
          snprintf(ubuf, sizeof ubuf, "\\u%04x", (unsigned)c);
          esc = ubuf;
        }
    }
    if (esc != NULL) {
      fx_sb_append(sb, s + run, i - run);
      fx_sb_puts(sb, esc);
      run = i + 1;
    }
  }
  fx_sb_append(sb, s + run, n - run);
  fx_sb_append(sb, "\"", 1);
}

FX_STATIC void fx_sb_free(fx_sb *sb) {
  free(sb->p);
  sb->p = NULL;
  sb->len = sb->cap = 0;
}

/* =============================================================================================
 * Host table and buffers handed to the host
 * =========================================================================================== */

/* Our copy of the host table. Zero-filled, so a function the host's (older, smaller) table does
 * not contain reads as NULL. Written once by init on the init thread, read-only afterwards. */
static hc_host_api fx_host __attribute__((unused));

/* True if the host table we stored contains `field` and it is non-NULL. */
#define FX_HOST_HAS(field) \
  (HC_HAS_FIELD(hc_host_api, field, fx_host.struct_size) && fx_host.field != NULL)

/* Copies the host table: only the bytes that lie inside its struct_size. Requires alloc and free,
 * without which no buffer can cross the boundary. */
FX_STATIC hc_status fx_store_host(const hc_host_api *host) {
  size_t n;
  memset(&fx_host, 0, sizeof fx_host);
  if (host == NULL) return HC_ERR_INVALID_ARGUMENT;
  n = host->struct_size < sizeof(hc_host_api) ? host->struct_size : sizeof(hc_host_api);
  memcpy(&fx_host, host, n);
  fx_host.struct_size = (uint32_t)n;
  if (!FX_HOST_HAS(alloc) || !FX_HOST_HAS(free)) {
    memset(&fx_host, 0, sizeof fx_host);
    return HC_ERR_INVALID_ARGUMENT;
  }
  return HC_OK;
}

FX_STATIC void *fx_alloc(size_t n) {
  return FX_HOST_HAS(alloc) ? fx_host.alloc(fx_host.host_ctx, n) : NULL;
}

FX_STATIC void fx_free(void *p) {
  if (p != NULL && FX_HOST_HAS(free)) fx_host.free(fx_host.host_ctx, p);
}

FX_STATIC void fx_buf_clear(hc_buf *out) {
  if (out != NULL) {
    out->ptr = NULL;
    out->len = 0;
  }
}

/* Hands `n` bytes to the host: host->alloc(n + 1), copy, NUL-terminate; len excludes the NUL.
 * Returns HC_OK, or HC_ERR_RESOURCE_EXHAUSTED (out stays {NULL,0}) if no memory. */
FX_STATIC hc_status fx_set_buf(hc_buf *out, const char *s, size_t n) {
  char *p;
  if (out == NULL) return HC_OK; /* nowhere to put it: nothing allocated, nothing leaked */
  fx_buf_clear(out);
  if (n == 0) return HC_OK;      /* an empty result is {NULL, 0} */
  p = (char *)fx_alloc(n + 1);
  if (p == NULL) return HC_ERR_RESOURCE_EXHAUSTED;
  memcpy(p, s, n);
  p[n] = '\0';
  out->ptr = p;
  out->len = n;
  return HC_OK;
}

/* Success with a NUL-terminated JSON literal as result. */
FX_STATIC hc_status fx_ok(hc_buf *out, const char *json) { return fx_set_buf(out, json, strlen(json)); }

/* Success with the builder's content as result; frees the builder. */
FX_STATIC hc_status fx_ok_sb(hc_buf *out, fx_sb *sb) {
  hc_status st = sb->oom ? HC_ERR_RESOURCE_EXHAUSTED : fx_set_buf(out, sb->p, sb->len);
  fx_sb_free(sb);
  return st;
}

FX_STATIC const char *fx_status_code(hc_status st) {
  static const char *const names[HC_STATUS_COUNT] = {
      "OK",        "INVALID_ARGUMENT",   "NOT_FOUND",   "ALREADY_EXISTS",    "FAILED_PRECONDITION",
      "ABORTED",   "UNAVAILABLE",        "DEADLINE_EXCEEDED", "CANCELLED", "UNIMPLEMENTED",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "INTERNAL", "VERSION_MISMATCH"};
  return st >= 0 && st < HC_STATUS_COUNT ? names[st] : "INTERNAL";
}

/* The codes the header marks "retry". */
FX_STATIC int fx_status_retryable(hc_status st) {
  return st == HC_ERR_ABORTED || st == HC_ERR_UNAVAILABLE || st == HC_ERR_DEADLINE_EXCEEDED ||
         st == HC_ERR_RESOURCE_EXHAUSTED;
}

/* Fills `out` with {"code":"<CODE>","message":"<message>","retryable":<bool>} and returns
 * `status`. The message is formatted printf-style and JSON-escaped. */
FX_STATIC hc_status fx_errorf(hc_buf *out, hc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
FX_STATIC hc_status fx_errorf(hc_buf *out, hc_status status, const char *fmt, ...) {
  fx_sb sb = FX_SB_INIT;
  char stackbuf[256];
  char *msg = stackbuf;
  int n;
  va_list ap;
  va_start(ap, fmt);
  n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
  va_end(ap);
  if (n < 0) {
    n = 0;
    stackbuf[0] = '\0';
  } else if ((size_t)n >= sizeof stackbuf) {
    msg = (char *)malloc((size_t)n + 1);
    if (msg != NULL) {
      va_start(ap, fmt);
      vsnprintf(msg, (size_t)n + 1, fmt, ap);
      va_end(ap);
    } else {
      msg = stackbuf;
      n = (int)strlen(stackbuf);
    }
  }
  fx_sb_puts(&sb, "{\"code\":\"");
  fx_sb_puts(&sb, fx_status_code(status));
  fx_sb_puts(&sb, "\",\"message\":");
  fx_sb_json_string(&sb, msg, (size_t)n);
  fx_sb_puts(&sb, fx_status_retryable(status) ? ",\"retryable\":true}" : ",\"retryable\":false}");
  if (msg != stackbuf) free(msg);
  if (!sb.oom) fx_set_buf(out, sb.p, sb.len);
  fx_sb_free(&sb);
  return status;
}

/* Validates a JSON input. `what` prefixes the message ("config", "request"). An empty input
 * means {} (as for config). Returns HC_OK or HC_ERR_INVALID_ARGUMENT with error JSON in `out`. */
FX_STATIC hc_status fx_check_json(hc_str json, const char *what, hc_buf *out) {
  size_t off = 0;
  const char *why = NULL;
  if (json.len == 0) return HC_OK;
  if (json.ptr == NULL)
    return fx_errorf(out, HC_ERR_INVALID_ARGUMENT, "%s: NULL pointer with length %zu", what,
                     json.len);
  if (fx_json_valid(json.ptr, json.len, &off, &why)) return HC_OK;
  return fx_errorf(out, HC_ERR_INVALID_ARGUMENT, "%s: invalid JSON at byte %zu: %s", what, off,
                   why != NULL ? why : "syntax error");
}

FX_STATIC hc_status fx_unimplemented(hc_buf *out, hc_str method) {
  return fx_errorf(out, HC_ERR_UNIMPLEMENTED, "method '%.*s' is not implemented by %s",
                   FX_STR_ARG(method), FX_NAME);
}

/* =============================================================================================
 * Logging through the host (never stdout/stderr)
 * =========================================================================================== */

FX_STATIC int fx_log_enabled(int32_t level) {
  if (!FX_HOST_HAS(log)) return 0;
  return FX_HOST_HAS(log_enabled) ? fx_host.log_enabled(fx_host.host_ctx, level) != 0 : 1;
}

/* Logs a printf-style message with target FX_NAME and no fields. Checks log_enabled first. */
FX_STATIC void fx_logf(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
FX_STATIC void fx_logf(int32_t level, const char *fmt, ...) {
  char msg[512];
  int n;
  va_list ap;
  if (!fx_log_enabled(level)) return;
  va_start(ap, fmt);
  n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof msg) n = (int)sizeof msg - 1; /* truncated */
  fx_host.log(fx_host.host_ctx, level, fx_cstr(FX_NAME), fx_str(msg, (size_t)n), fx_str(NULL, 0));
}

/* =============================================================================================
 * Standard negotiation and the behaviour shared by correct fixtures
 * =========================================================================================== */

/* Stores the host table, checks the major and answers with abi_minor = min(host, driver_minor).
 * `api` is the fixture's static vtable (struct_size already set). */
FX_STATIC hc_status fx_init(const hc_init_args *args, hc_driver_api *api, uint32_t driver_minor,
                            const hc_driver_api **out_api, hc_buf *out_error_json) {
  hc_status st;
  if (out_api != NULL) *out_api = NULL;
  fx_buf_clear(out_error_json);
  /* Without a host table there is no allocator, so no error JSON can be returned. */
  if (args == NULL || !HC_HAS_FIELD(hc_init_args, host, args->struct_size)) return HC_ERR_INVALID_ARGUMENT;
  st = fx_store_host(args->host);
  if (st != HC_OK) return st;
  if (args->host_abi_major != HC_ABI_MAJOR)
    return fx_errorf(out_error_json, HC_ERR_VERSION_MISMATCH,
                     "%s: host ABI major %u is not supported (this driver implements major %u)",
                     FX_NAME, (unsigned)args->host_abi_major, (unsigned)HC_ABI_MAJOR);
  if (out_api == NULL)
    return fx_errorf(out_error_json, HC_ERR_INVALID_ARGUMENT, "%s: init: out_api is NULL", FX_NAME);
  api->abi_minor = args->host_abi_minor < driver_minor ? args->host_abi_minor : driver_minor;
  *out_api = api;
  return HC_OK;
}

FX_STATIC hc_status fx_std_describe(hc_buf *out_json) {
  if (out_json == NULL) return HC_ERR_INVALID_ARGUMENT;
  return fx_ok(out_json, FX_DESCRIBE_JSON);
}

/* An instance. The tag catches a host that passes something else (or a destroyed instance). */
typedef struct fx_instance {
  uint32_t tag;
  uint32_t reserved;
} fx_instance;

#define FX_INSTANCE_TAG 0x46584931u /* "FXI1" */
#define FX_INSTANCE_DEAD 0xDEADDEADu

FX_STATIC int fx_instance_ok(const void *instance) {
  return instance != NULL && ((const fx_instance *)instance)->tag == FX_INSTANCE_TAG;
}

FX_STATIC hc_status fx_std_create(hc_str config_json, void **out_instance, hc_buf *out_error_json) {
  fx_instance *inst;
  hc_status st;
  fx_buf_clear(out_error_json);
  if (out_instance == NULL)
    return fx_errorf(out_error_json, HC_ERR_INVALID_ARGUMENT, "%s: create: out_instance is NULL",
                     FX_NAME);
  *out_instance = NULL;
  st = fx_check_json(config_json, "config", out_error_json);
  if (st != HC_OK) return st;
  inst = (fx_instance *)calloc(1, sizeof *inst); /* the driver's memory, not the host's */
  if (inst == NULL)
    return fx_errorf(out_error_json, HC_ERR_RESOURCE_EXHAUSTED, "%s: out of memory", FX_NAME);
  inst->tag = FX_INSTANCE_TAG;
  *out_instance = inst;
  return HC_OK;
}

FX_STATIC void fx_std_destroy(void *instance) {
  fx_instance *inst = (fx_instance *)instance;
  if (inst == NULL) return;
  inst->tag = FX_INSTANCE_DEAD;
  free(inst);
}

/* Checks the instance argument of a call. */
FX_STATIC hc_status fx_check_instance(const void *instance, hc_buf *out) {
  if (fx_instance_ok(instance)) return HC_OK;
  return fx_errorf(out, HC_ERR_INVALID_ARGUMENT, "%s: invalid instance handle", FX_NAME);
}

/* A method that answers `result` once its request is valid JSON. */
FX_STATIC hc_status fx_answer(hc_str request_json, const char *result, hc_buf *out) {
  hc_status st = fx_check_json(request_json, "request", out);
  return st != HC_OK ? st : fx_ok(out, result);
}

/* "ping" → {"driver":"<stem>"}; every other method → UNIMPLEMENTED. */
FX_STATIC hc_status fx_std_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  hc_status st;
  fx_buf_clear(out_json);
  st = fx_check_instance(instance, out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "ping")) return fx_answer(request_json, FX_PING_JSON, out_json);
  return fx_unimplemented(out_json, method);
}

#endif /* HICLAW_FIXTURE_COMMON_H */
