/*
 * c-noop — a minimal, complete hiclaw driver in C.
 *
 * Copy this directory to start your own driver. It builds against the installed SDK header only
 * (see README.md) and shows every rule of the ABI that a driver author has to get right:
 *
 *   1. Two exported symbols, nothing else: hc_driver_magic_v1 and hc_driver_init_v1, marked
 *      HC_EXPORT; the file is compiled with -fvisibility=hidden so everything else stays local.
 *   2. Versioning: the magic block is static data; init answers abi_minor = min(host, ours) and
 *      reads only the host-table fields that lie inside the host's struct_size.
 *   3. Inputs are BORROWED: every hc_str is valid only during the call. Copy what you keep.
 *   4. Outputs are the HOST'S: every hc_buf we return (results, error JSON) is allocated with
 *      host->alloc, NUL-terminated, with len excluding the NUL. Never hand over malloc'd memory.
 *   5. Buffers the host gives US (state_get, secret_get, http_request responses) are ours and are
 *      released with host->free (secrets zeroed first). This driver calls none of them; the
 *      pattern is shown in a comment next to give_to_host() below.
 *   6. Instances are OURS: create allocates them with our own malloc, destroy frees them.
 *   7. Errors: a status code plus, where there is an output buffer, error JSON
 *      {"code":"…","message":"…","retryable":false}. Never write to stdout/stderr: log through
 *      the host.
 *
 * Methods: "ping" → {"driver":"c-noop","version":"1.0.0"}. Anything else → HC_ERR_UNIMPLEMENTED.
 * Malformed request or config JSON → HC_ERR_INVALID_ARGUMENT. An empty request or config means {}.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hiclaw_driver.h" /* found through `pkg-config --cflags hiclaw-driver` */

#define DRIVER_NAME "c-noop"
#define DRIVER_VERSION "1.0.0"

/* The prototypes of the two entry points (their types are hc_driver_magic_fn and
 * hc_driver_init_fn in the header). */
HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void);
HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json);

/* ============================================================================================
 * The host table
 * ========================================================================================== */

/* Our copy of the host services table, taken at init. It starts zero-filled and we copy only the
 * bytes inside the host's struct_size, so a function an older host does not have reads as NULL.
 * Written once on the init thread, read-only afterwards (safe from any thread). */
static hc_host_api host;

#define HOST_HAS(field) (HC_HAS_FIELD(hc_host_api, field, host.struct_size) && host.field != NULL)

/* Logs through the host. log_enabled is checked first so that a disabled level costs nothing. */
static void log_info(const char *message) {
  hc_str target = {DRIVER_NAME, sizeof DRIVER_NAME - 1};
  hc_str text = {message, strlen(message)};
  hc_str no_fields = {NULL, 0};
  if (!HOST_HAS(log)) return;
  if (HOST_HAS(log_enabled) && !host.log_enabled(host.host_ctx, HC_LOG_INFO)) return;
  host.log(host.host_ctx, HC_LOG_INFO, target, text, no_fields); /* the host copies the strings */
}

/* ============================================================================================
 * Handing buffers to the host
 * ========================================================================================== */

/* Copies n bytes into a buffer the host owns: host->alloc(n + 1), copy, add a NUL that is not
 * counted in len. The host frees it with host->free. Returns 0, or -1 if out is NULL.
 *
 * The opposite direction (rule 5), for a driver that uses host services:
 *
 *     hc_buf value = {NULL, 0};
 *     if (host.state_get(host.host_ctx, key, &value) == HC_OK) {
 *       ... use value.ptr / value.len ...
 *       host.free(host.host_ctx, value.ptr);        (ours now: we release it)
 *     }
 *
 * and for secret_get, memset the bytes to zero before host.free. */
static int give_to_host(hc_buf *out, const char *bytes, size_t n) {
  char *p;
  if (out == NULL) return -1;
  out->ptr = NULL;
  out->len = 0;
  if (n == 0) return 0; /* an empty result is {NULL, 0} */
  p = (char *)host.alloc(host.host_ctx, n + 1); /* never NULL for n > 0: the host aborts on OOM */
  memcpy(p, bytes, n);
  p[n] = '\0';
  out->ptr = p;
  out->len = n;
  return 0;
}

static const char *status_name(hc_status status) {
  switch (status) {
    case HC_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case HC_ERR_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case HC_ERR_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case HC_ERR_VERSION_MISMATCH: return "VERSION_MISMATCH";
    default: return "INTERNAL";
  }
}

static const hc_str no_detail = {NULL, 0};

/* Writes {"code":…,"message":…,"retryable":false} into out and returns status. The message is
 * prefix + detail + suffix: prefix and suffix are our own literals (no quotes or backslashes),
 * detail is (untrusted, borrowed) input and is JSON-escaped here, since it may contain quotes or
 * control characters. */
static hc_status fail(hc_buf *out, hc_status status, const char *prefix, hc_str detail,
                      const char *suffix) {
  /* Worst case: every detail byte becomes \u00XX (6 bytes). */
  size_t cap = 96 + strlen(prefix) + detail.len * 6 + strlen(suffix);
  char *json = (char *)malloc(cap); /* scratch space: our own memory, never handed over */
  size_t n = 0, i;
  if (json == NULL) return status;
  if (detail.ptr == NULL) detail.len = 0;
  n += (size_t)sprintf(json + n, "{\"code\":\"%s\",\"message\":\"%s", status_name(status), prefix);
  for (i = 0; i < detail.len; i++) {
    unsigned char c = (unsigned char)detail.ptr[i];
    if (c == '"' || c == '\\') {
      json[n++] = '\\';
      json[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)sprintf(json + n, "\\u%04x", (unsigned)c);
    } else {
      json[n++] = (char)c;
    }
  }
  n += (size_t)sprintf(json + n, "%s\",\"retryable\":false}", suffix);
  give_to_host(out, json, n);
  free(json);
  return status;
}

/* ============================================================================================
 * A tiny JSON syntax check (no values are decoded: this driver reads no fields)
 * ========================================================================================== */

typedef struct json_cursor {
  const char *p, *end;
  int depth;
} json_cursor;

static int json_value(json_cursor *c);

static void json_ws(json_cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int json_digits(json_cursor *c) {
  const char *start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
  return c->p > start;
}

static int json_string(json_cursor *c) {
  for (c->p++; c->p < c->end; c->p++) { /* skip the opening quote */
    unsigned char ch = (unsigned char)*c->p;
    if (ch == '"') {
      c->p++;
      return 1;
    }
    if (ch < 0x20) return 0;
    if (ch == '\\') {
      if (++c->p == c->end) return 0;
      if (*c->p == 'u') {
        int k;
        for (k = 0; k < 4; k++) {
          char h;
          if (++c->p == c->end) return 0;
          h = *c->p;
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
        }
      } else if (*c->p == '\0' || strchr("\"\\/bfnrt", *c->p) == NULL) {
        return 0;
      }
    }
  }
  return 0; /* unterminated */
}

static int json_number(json_cursor *c) {
  if (*c->p == '-') c->p++;
  if (c->p < c->end && *c->p == '0') {
    c->p++;
  } else if (!json_digits(c)) {
    return 0;
  }
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (!json_digits(c)) return 0;
  }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
    if (!json_digits(c)) return 0;
  }
  return 1;
}

static int json_word(json_cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  c->p += n;
  return 1;
}

/* Objects and arrays: '{' (string ':' value (',' …)*)? '}' and '[' (value (',' …)*)? ']'. */
static int json_container(json_cursor *c, char close) {
  int ok = 1;
  if (++c->depth > 64) return 0; /* bounded recursion: hostile input cannot overflow the stack */
  c->p++;
  json_ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
  } else {
    for (;;) {
      if (close == '}') {
        json_ws(c);
        if (c->p == c->end || *c->p != '"' || !json_string(c)) { ok = 0; break; }
        json_ws(c);
        if (c->p == c->end || *c->p != ':') { ok = 0; break; }
        c->p++;
      }
      if (!json_value(c)) { ok = 0; break; }
      json_ws(c);
      if (c->p < c->end && *c->p == ',') { c->p++; continue; }
      if (c->p < c->end && *c->p == close) { c->p++; break; }
      ok = 0;
      break;
    }
  }
  c->depth--;
  return ok;
}

static int json_value(json_cursor *c) {
  json_ws(c);
  if (c->p == c->end) return 0;
  switch (*c->p) {
    case '{': return json_container(c, '}');
    case '[': return json_container(c, ']');
    case '"': return json_string(c);
    case 't': return json_word(c, "true");
    case 'f': return json_word(c, "false");
    case 'n': return json_word(c, "null");
    default: return (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) && json_number(c);
  }
}

/* True if s is one complete JSON text (an empty string counts as {}). */
static int json_ok(hc_str s) {
  json_cursor c;
  if (s.len == 0) return 1;
  if (s.ptr == NULL) return 0;
  c.p = s.ptr;
  c.end = s.ptr + s.len;
  c.depth = 0;
  if (!json_value(&c)) return 0;
  json_ws(&c);
  return c.p == c.end; /* no trailing garbage */
}

/* ============================================================================================
 * The driver
 * ========================================================================================== */

/* An instance belongs to the driver: allocated by create with our malloc, freed by destroy. */
typedef struct noop_instance {
  char *config; /* our own copy: the config_json passed to create is only borrowed */
  size_t config_len;
} noop_instance;

/* [init-thread] The description, owned by the host once returned. */
static hc_status noop_describe(hc_buf *out_json) {
  static const char description[] =
      "{\"name\":\"" DRIVER_NAME "\",\"kind\":\"worker-backend\",\"version\":\"" DRIVER_VERSION "\","
      "\"protocols\":[\"hiclaw.worker-backend/1\"],\"methods\":[\"ping\"],\"capabilities\":{}}";
  if (give_to_host(out_json, description, sizeof description - 1) != 0) return HC_ERR_INVALID_ARGUMENT;
  return HC_OK;
}

/* [any-thread][blocking] On failure: non-OK, *out_instance left NULL, error JSON for the host. */
static hc_status noop_create(hc_str config_json, void **out_instance, hc_buf *out_error_json) {
  noop_instance *inst;
  if (out_error_json != NULL) {
    out_error_json->ptr = NULL;
    out_error_json->len = 0;
  }
  if (out_instance == NULL) return HC_ERR_INVALID_ARGUMENT;
  *out_instance = NULL;
  if (!json_ok(config_json))
    return fail(out_error_json, HC_ERR_INVALID_ARGUMENT, "config: malformed JSON", no_detail, "");
  inst = (noop_instance *)calloc(1, sizeof *inst);
  if (inst != NULL) inst->config = (char *)malloc(config_json.len + 1);
  if (inst == NULL || inst->config == NULL) {
    free(inst);
    return fail(out_error_json, HC_ERR_RESOURCE_EXHAUSTED, "out of memory", no_detail, "");
  }
  /* Keep a copy, never the borrowed pointer: it is invalid as soon as create returns. */
  if (config_json.len > 0) memcpy(inst->config, config_json.ptr, config_json.len);
  inst->config[config_json.len] = '\0';
  inst->config_len = config_json.len;
  *out_instance = inst;
  log_info("instance created");
  return HC_OK;
}

/* [any-thread] Exactly once per instance, after every call on it has returned. */
static void noop_destroy(void *instance) {
  noop_instance *inst = (noop_instance *)instance;
  if (inst == NULL) return;
  free(inst->config);
  free(inst);
}

/* [any-thread][blocking] The result or the error JSON in out_json is owned by the host. */
static hc_status noop_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  static const char pong[] = "{\"driver\":\"" DRIVER_NAME "\",\"version\":\"" DRIVER_VERSION "\"}";
  static const char ping[] = "ping";
  if (out_json != NULL) {
    out_json->ptr = NULL;
    out_json->len = 0;
  }
  if (instance == NULL)
    return fail(out_json, HC_ERR_INVALID_ARGUMENT, "no instance", no_detail, "");
  if (method.ptr != NULL && method.len == sizeof ping - 1 && memcmp(method.ptr, ping, method.len) == 0) {
    if (!json_ok(request_json))
      return fail(out_json, HC_ERR_INVALID_ARGUMENT, "request: malformed JSON", no_detail, "");
    give_to_host(out_json, pong, sizeof pong - 1);
    return HC_OK;
  }
  /* Unknown methods are normal (newer hosts know more methods): UNIMPLEMENTED, never a crash. */
  return fail(out_json, HC_ERR_UNIMPLEMENTED, "method '", method, "' is not implemented by " DRIVER_NAME);
}

/* ============================================================================================
 * The two exported entry points
 * ========================================================================================== */

/* Static data, read by the host before anything else of ours runs. */
static const hc_driver_magic magic = {
    HC_MAGIC,
    (uint32_t)sizeof(hc_driver_magic),
    HC_ABI_MAJOR,
    HC_ABI_MINOR,         /* the minor this file was compiled against */
    (uint32_t)sizeof(void *),
    0,                    /* flags: none (HC_MAGIC_F_SWIFT_DYNAMIC_RUNTIME is for Swift drivers) */
    "c",                  /* toolchain */
    DRIVER_NAME,          /* must equal the manifest's name */
    DRIVER_VERSION,
};

/* The vtable: static storage (the host keeps the pointer until process exit). abi_minor is filled
 * in by init with the negotiated value. */
static hc_driver_api api = {
    sizeof(hc_driver_api), /* struct_size: the vtable as this file knows it */
    HC_ABI_MINOR,          /* abi_minor: negotiated at init */
    0,                     /* capabilities: no call_async, no cancel */
    noop_describe,
    noop_create,
    noop_destroy,
    noop_call,
    NULL, /* call_async: the host runs `call` on its worker pool instead */
    NULL, /* cancel */
    NULL, /* get_extension: no optional interfaces */
    NULL, /* shutdown: this driver starts no threads, so there is nothing to stop */
};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  const uint32_t our_minor = magic.abi_minor; /* HC_ABI_MINOR at compile time */
  size_t n;
  if (out_api != NULL) *out_api = NULL;
  if (out_error_json != NULL) {
    out_error_json->ptr = NULL;
    out_error_json->len = 0;
  }
  if (args == NULL || out_api == NULL || !HC_HAS_FIELD(hc_init_args, host, args->struct_size) ||
      args->host == NULL)
    return HC_ERR_INVALID_ARGUMENT;

  /* Copy the host table, but only what lies inside the host's struct_size. */
  n = args->host->struct_size < sizeof host ? args->host->struct_size : sizeof host;
  memset(&host, 0, sizeof host);
  memcpy(&host, args->host, n);
  host.struct_size = (uint32_t)n;
  if (!HOST_HAS(alloc) || !HOST_HAS(free)) return HC_ERR_INVALID_ARGUMENT; /* cannot return buffers */

  if (args->host_abi_major != HC_ABI_MAJOR)
    return fail(out_error_json, HC_ERR_VERSION_MISMATCH,
                "c-noop implements ABI major 1 only; the host offered another major", no_detail, "");

  /* Negotiate: the highest minor both sides understand. */
  api.abi_minor = args->host_abi_minor < our_minor ? args->host_abi_minor : our_minor;
  *out_api = &api;
  log_info("driver initialised");
  return HC_OK;
}
