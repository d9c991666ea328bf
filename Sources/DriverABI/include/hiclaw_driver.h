/*
 * hiclaw_driver.h — the hiclaw driver ABI, major version 1.
 *
 * This header is the whole contract between `hiclaw-host` (and `hiclaw-driver-runner`) and a
 * driver: a shared library that implements a worker backend (Docker, Kubernetes, cloud …) or an
 * agent runtime (OpenClaw, Hermes …). Drivers written in C, Swift (DriverKit) or Rust use it.
 *
 * Rules that hold for everything below (docs/driver-abi.md explains each one):
 *
 *  - Pure C99, fixed-width integers only, no enums, bools or bitfields inside structs, no padding
 *    holes. Checked at compile time by the assertions at the end of this file.
 *  - Structs only grow at the end. Every struct that can grow starts with `struct_size`; a reader
 *    touches a field only if it lies entirely inside the peer's `struct_size` (HC_HAS_FIELD) and,
 *    for function pointers, only if it is non-NULL.
 *  - A breaking change is a new major: new entry-point names (`*_v2`). Appending a field or a
 *    function bumps HC_ABI_MINOR. A test hashes the declarations of this file and fails when they
 *    change without a version bump.
 *  - OWNERSHIP. Inputs (`hc_str`, pointers) are BORROWED for the duration of the call only: copy
 *    what you keep. Every buffer that crosses the boundary (`hc_buf`) is allocated with
 *    `host->alloc`; whoever receives an `hc_buf` owns it and releases it with `host->free`.
 *    Static data (the magic block, the vtable, strings inside them) lives until process exit:
 *    drivers are never unloaded.
 *  - THREADING. Each function carries a tag:
 *      [init-thread]  called once, serially, from one host thread;
 *      [any-thread]   may be called from any thread, concurrently;
 *      [blocking]     may block; the host calls it from a dedicated worker pool, never from an
 *                     event loop.
 *  - ERRORS. Functions return an hc_status (stable numbers, below). On a non-OK status an output
 *    buffer, when the function has one, MAY carry error JSON of the shape
 *      {"code":"NOT_FOUND","message":"…","retryable":false,"details":{…}}.
 *    Nothing unwinds across the boundary: C++ catches, Rust aborts or catches, Swift's DriverKit
 *    catches `throws`. A trap kills the process, which is why the same driver can be run out of
 *    process by `hiclaw-driver-runner`.
 */
#ifndef HICLAW_DRIVER_H
#define HICLAW_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Versions and constants
 * ------------------------------------------------------------------------------------------- */

/** ABI major. A driver whose magic block names another major is refused before any of its code
 *  beyond `hc_driver_magic_v1` runs. */
#define HC_ABI_MAJOR 1
/** Highest ABI minor this header describes. Bumped for every appended field or function. */
#define HC_ABI_MINOR 0
/** Value of `hc_driver_magic.magic`: the bytes "HDR1". */
#define HC_MAGIC 0x48445231u

/** Marks the two entry points for export. Build drivers with -fvisibility=hidden (C) or the
 *  DriverKit linker version script (Swift) so that nothing else is exported. */
#if defined(__GNUC__) || defined(__clang__)
#define HC_EXPORT __attribute__((visibility("default")))
#else
#define HC_EXPORT
#endif

/** True when `field` of struct `type` lies entirely inside a peer struct of `size` bytes.
 *  Use it before reading any field appended after minor 0. */
#define HC_HAS_FIELD(type, field, size) \
  (offsetof(type, field) + sizeof(((type *)0)->field) <= (size_t)(size))

/* ---------------------------------------------------------------------------------------------
 * Status codes. Stable numbers, never renumbered or reused. The recovery action is part of the
 * contract: the host retries exactly the codes marked "retry".
 * ------------------------------------------------------------------------------------------- */
typedef int32_t hc_status;

#define HC_OK                      0  /* success */
#define HC_ERR_INVALID_ARGUMENT    1  /* bad method arguments or JSON; do not retry */
#define HC_ERR_NOT_FOUND           2  /* the object does not exist; idempotent success for deletes */
#define HC_ERR_ALREADY_EXISTS      3  /* the object exists; idempotent success for creates */
#define HC_ERR_FAILED_PRECONDITION 4  /* the world is not in a state that allows this; fix, then retry */
#define HC_ERR_ABORTED             5  /* conflicting operation in flight; retry with backoff */
#define HC_ERR_UNAVAILABLE         6  /* transient (service down, runner restarting); retry */
#define HC_ERR_DEADLINE_EXCEEDED   7  /* the call took too long; the host may retry (calls are idempotent) */
#define HC_ERR_CANCELLED           8  /* cancelled by the host */
#define HC_ERR_UNIMPLEMENTED       9  /* method or feature not supported; never retry */
#define HC_ERR_PERMISSION_DENIED  10  /* credentials lack the right; do not retry */
#define HC_ERR_RESOURCE_EXHAUSTED 11  /* quota or capacity; retry later */
#define HC_ERR_INTERNAL           12  /* a bug in the driver; the host reports it */
#define HC_ERR_VERSION_MISMATCH   13  /* ABI or protocol version not supported; never retry */
/** One past the highest defined code. A driver returning anything else fails conformance. */
#define HC_STATUS_COUNT           14

/* Log levels (the swift-log levels). */
#define HC_LOG_TRACE    0
#define HC_LOG_DEBUG    1
#define HC_LOG_INFO     2
#define HC_LOG_NOTICE   3
#define HC_LOG_WARNING  4
#define HC_LOG_ERROR    5
#define HC_LOG_CRITICAL 6

/* Driver capability flags (`hc_driver_api.capabilities`). Domain capabilities live in the
 * `describe` JSON instead. */
#define HC_CAP_ASYNC     (1ull << 0) /* call_async is implemented */
#define HC_CAP_CANCEL    (1ull << 1) /* cancel is implemented */
#define HC_CAP_RECOVER   (1ull << 2) /* the "recover" method re-attaches to running work */
#define HC_CAP_STREAMING (1ull << 3) /* reserved for the stream extension */

/* Magic block flags (`hc_driver_magic.flags`). */
#define HC_MAGIC_F_SWIFT_DYNAMIC_RUNTIME (1u << 0) /* links the shared Swift runtime: the
                                                      toolchain must equal the host's */

/* ---------------------------------------------------------------------------------------------
 * Strings and buffers
 * ------------------------------------------------------------------------------------------- */

/** A borrowed UTF-8 string: not NUL-terminated, valid only during the call it is passed to.
 *  `ptr` may be NULL when `len` is 0. */
typedef struct hc_str {
  const char *ptr;
  size_t len;
} hc_str;

/** An owned buffer allocated with `hc_host_api.alloc`. `len` excludes a trailing NUL that the
 *  writer SHOULD add (alloc len + 1). The receiver releases it with `hc_host_api.free`. An empty
 *  result is {NULL, 0}. */
typedef struct hc_buf {
  char *ptr;
  size_t len;
} hc_buf;

/* ---------------------------------------------------------------------------------------------
 * 1) Compatibility block — returned by the exported `hc_driver_magic_v1`, read by the host
 *    BEFORE init. It must be static data; the function must do nothing else.
 * ------------------------------------------------------------------------------------------- */
typedef struct hc_driver_magic {
  uint32_t magic;          /* HC_MAGIC */
  uint32_t struct_size;    /* sizeof(hc_driver_magic) as the driver was compiled */
  uint32_t abi_major;      /* HC_ABI_MAJOR; must equal the host's */
  uint32_t abi_minor;      /* HC_ABI_MINOR the driver was compiled with */
  uint32_t pointer_size;   /* sizeof(void *) */
  uint32_t flags;          /* HC_MAGIC_F_* */
  const char *toolchain;   /* NUL-terminated: "c", "rust-1.95", "swift-6.3.1", "swift-static-6.3.1" */
  const char *name;        /* NUL-terminated driver name; must equal the manifest's `name` */
  const char *driver_version; /* NUL-terminated semantic version of the driver */
} hc_driver_magic;

/** Exported as `hc_driver_magic_v1`. [any-thread] Returns static data; never NULL. */
typedef const hc_driver_magic *(*hc_driver_magic_fn)(void);

/* ---------------------------------------------------------------------------------------------
 * 2) Host services — host → driver. The table and everything it points to stays valid from init
 *    until process exit. Every function is [any-thread], including threads the driver created,
 *    and non-blocking unless tagged [blocking]. Always pass `host_ctx` back as first argument.
 * ------------------------------------------------------------------------------------------- */

/** Completion of `http_request_async`. [any-thread] Called exactly once. `response_json` is owned
 *  by the driver (release with `host->free`); it is {NULL,0} when status is not OK and the host
 *  had no detail to give. */
typedef void (*hc_http_done_fn)(void *ctx, hc_status status, hc_buf response_json);

typedef struct hc_host_api {
  uint32_t struct_size;    /* sizeof(hc_host_api) as the host was compiled */
  uint32_t abi_minor;      /* the highest minor the host implements (the table's own layout); the
                              minor both sides use is the one the driver answers in hc_driver_api */
  void *host_ctx;          /* opaque; first argument of every function below */

  /* Memory. alloc never returns NULL for size > 0 (the host aborts on OOM); alloc(0) returns
   * NULL. free(NULL) is a no-op. Only pointers from alloc may be passed to free. */
  void *(*alloc)(void *host_ctx, size_t size);
  void (*free)(void *host_ctx, void *ptr);

  /* Logging. log_enabled returns non-zero if `level` would be recorded: check it before building
   * an expensive message. log copies everything before returning. `target` names the subsystem
   * ("docker.http"); `fields_json` is a JSON object of structured fields or empty. Drivers never
   * write to stdout/stderr. */
  int32_t (*log_enabled)(void *host_ctx, int32_t level);
  void (*log)(void *host_ctx, int32_t level, hc_str target, hc_str message, hc_str fields_json);

  /* Events about a resource (`subject`, e.g. a worker name), recorded by the host as Events:
   * {"type":"Normal|Warning","reason":"Pulling","message":"…"}. Copied before returning. */
  void (*emit_event)(void *host_ctx, hc_str subject, hc_str event_json);

  /* Small persistent key/value state per driver, kept by the host (survives restarts; used by
   * `recover`). state_get returns HC_ERR_NOT_FOUND for a missing key; its output is owned by the
   * driver. */
  hc_status (*state_put)(void *host_ctx, hc_str key, hc_str value);
  hc_status (*state_get)(void *host_ctx, hc_str key, hc_buf *out_value);

  /* A secret by reference ("gateway/provider-key"). The output is owned by the driver, which must
   * zero it before freeing. HC_ERR_NOT_FOUND if unknown, HC_ERR_PERMISSION_DENIED if this driver
   * may not read it. */
  hc_status (*secret_get)(void *host_ctx, hc_str ref, hc_buf *out_secret);

  /* HTTP through the host's libcurl (TLS, proxies, unix sockets). [blocking]
   * request_json:  {"method":"GET","url":"http://…","unix_socket":"/run/docker.sock",
   *                 "headers":{"k":"v"},"body":"…" | "body_base64":"…","timeout_ms":30000}
   * response_json: {"status":200,"headers":{"k":"v"},"body":"…"}  (body_base64 when not UTF-8)
   * Transport failures return HC_ERR_UNAVAILABLE or HC_ERR_DEADLINE_EXCEEDED with error JSON;
   * an HTTP error status is HC_OK with that status. The response is owned by the driver. */
  hc_status (*http_request)(void *host_ctx, hc_str request_json, hc_buf *out_response_json);
  /* The same without holding a driver thread. Returns non-OK (and never calls done) if the
   * request could not be queued; otherwise `done` runs exactly once, on a host thread. */
  hc_status (*http_request_async)(void *host_ctx, hc_str request_json, hc_http_done_fn done, void *ctx);

  /* Monotonic clock in nanoseconds. */
  uint64_t (*monotonic_ns)(void *host_ctx);

  /* Appended in later minors. */
} hc_host_api;

/* ---------------------------------------------------------------------------------------------
 * 3) Driver vtable — driver → host. Static storage, valid until process exit.
 * ------------------------------------------------------------------------------------------- */

/** Completion of `call_async`. [any-thread] Must be called EXACTLY ONCE per accepted request,
 *  possibly before call_async returns. Ownership of `result_json` passes to the host. */
typedef void (*hc_done_fn)(void *done_ctx, hc_status status, hc_buf result_json);

typedef struct hc_driver_api {
  uint32_t struct_size;    /* sizeof(hc_driver_api) as the driver was compiled */
  uint32_t abi_minor;      /* negotiated: min(host minor, driver minor) */
  uint64_t capabilities;   /* HC_CAP_* */

  /* [init-thread] JSON describing the driver, owned by the host:
   * {"name":"docker","kind":"worker-backend","version":"1.0.0",
   *  "protocols":["hiclaw.worker-backend/1"],"methods":["ping","create",…],"capabilities":{…}}.
   * Required. */
  hc_status (*describe)(hc_buf *out_json);

  /* [any-thread][blocking] Create an instance from config JSON (driver-specific; e.g. the Docker
   * socket path). On failure returns non-OK, leaves *out_instance NULL and may fill
   * out_error_json (owned by the host). Required. */
  hc_status (*create)(hc_str config_json, void **out_instance, hc_buf *out_error_json);

  /* [any-thread] Called exactly once per instance, after every call and completion on it has
   * finished. Required. */
  void (*destroy)(void *instance);

  /* [any-thread][blocking] Run `method` with a JSON request. The result (or error JSON) is owned
   * by the host. An unknown method returns HC_ERR_UNIMPLEMENTED; malformed JSON returns
   * HC_ERR_INVALID_ARGUMENT. The host promises at most one in-flight call per resource; calls on
   * different resources and instances may run concurrently. Required. */
  hc_status (*call)(void *instance, hc_str method, hc_str request_json, hc_buf *out_json);

  /* [any-thread] Start `method` and return quickly. If it returns HC_OK the driver calls
   * done(done_ctx, …) exactly once; if it returns anything else, done is never called.
   * `request_id` is unique per host process and names the request for `cancel`.
   * NULL unless HC_CAP_ASYNC. */
  hc_status (*call_async)(void *instance, hc_str method, hc_str request_json, uint64_t request_id,
                          hc_done_fn done, void *done_ctx);

  /* [any-thread] Best effort: the request's done reports HC_ERR_CANCELLED or its normal result,
   * still exactly once. Unknown or finished ids are ignored. NULL unless HC_CAP_CANCEL. */
  void (*cancel)(void *instance, uint64_t request_id);

  /* [any-thread] Optional interface by id ("hc.exec-stream/1"): a static vtable that starts with
   * a uint32_t struct_size, or NULL if unsupported. May itself be NULL. */
  const void *(*get_extension)(const char *id);

  /* [init-thread] Process-level shutdown, after every instance is destroyed: stop and JOIN every
   * thread and task the driver started. No driver code may run after it returns. No calls
   * follow. May be NULL if the driver never starts threads. */
  void (*shutdown)(void);

  /* Appended in later minors. */
} hc_driver_api;

/* ---------------------------------------------------------------------------------------------
 * 4) Init — version negotiation (Vulkan style: the host offers its highest minor, the driver
 *    answers with the minor both understand).
 * ------------------------------------------------------------------------------------------- */
typedef struct hc_init_args {
  uint32_t struct_size;      /* sizeof(hc_init_args) as the host was compiled */
  uint32_t host_abi_major;   /* HC_ABI_MAJOR of the host */
  uint32_t host_abi_minor;   /* highest minor the host supports */
  uint32_t flags;            /* reserved; 0 */
  const hc_host_api *host;   /* valid until process exit */
  hc_str host_version;       /* e.g. "0.1.0"; borrowed */
  hc_str state_dir;          /* a directory private to this driver; borrowed */
} hc_init_args;

/** Exported as `hc_driver_init_v1`. [init-thread] Called once, after the magic block was accepted.
 *  On success stores a pointer to the driver's static vtable in *out_api, with
 *  abi_minor = min(args->host_abi_minor, driver's minor) and struct_size = sizeof(its struct).
 *  On failure returns non-OK (HC_ERR_VERSION_MISMATCH if the host is too old) and may fill
 *  out_error_json (owned by the host); the host then never calls the driver again. */
typedef hc_status (*hc_driver_init_fn)(const hc_init_args *args, const hc_driver_api **out_api,
                                       hc_buf *out_error_json);

/* The exported symbol names, for dlsym. */
#define HC_DRIVER_MAGIC_SYMBOL "hc_driver_magic_v1"
#define HC_DRIVER_INIT_SYMBOL  "hc_driver_init_v1"

/* ---------------------------------------------------------------------------------------------
 * Layout checks (LP64). They fail the build of any translation unit that includes this header if
 * a field moves, so a layout change cannot go unnoticed.
 * ------------------------------------------------------------------------------------------- */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define HC_STATIC_ASSERT(cond, name) _Static_assert(cond, #name)
#elif defined(__cplusplus) && __cplusplus >= 201103L
#define HC_STATIC_ASSERT(cond, name) static_assert(cond, #name)
#else
#define HC_STATIC_ASSERT(cond, name) typedef char hc_static_assert_##name[(cond) ? 1 : -1]
#endif

#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
HC_STATIC_ASSERT(sizeof(hc_str) == 16, hc_str_size);
HC_STATIC_ASSERT(sizeof(hc_buf) == 16, hc_buf_size);
HC_STATIC_ASSERT(offsetof(hc_driver_magic, toolchain) == 24, magic_toolchain);
HC_STATIC_ASSERT(offsetof(hc_driver_magic, name) == 32, magic_name);
HC_STATIC_ASSERT(offsetof(hc_driver_magic, driver_version) == 40, magic_version);
HC_STATIC_ASSERT(sizeof(hc_driver_magic) == 48, magic_size);
HC_STATIC_ASSERT(offsetof(hc_host_api, host_ctx) == 8, host_ctx);
HC_STATIC_ASSERT(offsetof(hc_host_api, alloc) == 16, host_alloc);
HC_STATIC_ASSERT(offsetof(hc_host_api, free) == 24, host_free);
HC_STATIC_ASSERT(offsetof(hc_host_api, log_enabled) == 32, host_log_enabled);
HC_STATIC_ASSERT(offsetof(hc_host_api, log) == 40, host_log);
HC_STATIC_ASSERT(offsetof(hc_host_api, emit_event) == 48, host_emit_event);
HC_STATIC_ASSERT(offsetof(hc_host_api, state_put) == 56, host_state_put);
HC_STATIC_ASSERT(offsetof(hc_host_api, state_get) == 64, host_state_get);
HC_STATIC_ASSERT(offsetof(hc_host_api, secret_get) == 72, host_secret_get);
HC_STATIC_ASSERT(offsetof(hc_host_api, http_request) == 80, host_http_request);
HC_STATIC_ASSERT(offsetof(hc_host_api, http_request_async) == 88, host_http_request_async);
HC_STATIC_ASSERT(offsetof(hc_host_api, monotonic_ns) == 96, host_monotonic_ns);
HC_STATIC_ASSERT(sizeof(hc_host_api) == 104, host_api_size);
HC_STATIC_ASSERT(offsetof(hc_driver_api, capabilities) == 8, api_capabilities);
HC_STATIC_ASSERT(offsetof(hc_driver_api, describe) == 16, api_describe);
HC_STATIC_ASSERT(offsetof(hc_driver_api, create) == 24, api_create);
HC_STATIC_ASSERT(offsetof(hc_driver_api, destroy) == 32, api_destroy);
HC_STATIC_ASSERT(offsetof(hc_driver_api, call) == 40, api_call);
HC_STATIC_ASSERT(offsetof(hc_driver_api, call_async) == 48, api_call_async);
HC_STATIC_ASSERT(offsetof(hc_driver_api, cancel) == 56, api_cancel);
HC_STATIC_ASSERT(offsetof(hc_driver_api, get_extension) == 64, api_get_extension);
HC_STATIC_ASSERT(offsetof(hc_driver_api, shutdown) == 72, api_shutdown);
HC_STATIC_ASSERT(sizeof(hc_driver_api) == 80, driver_api_size);
HC_STATIC_ASSERT(offsetof(hc_init_args, host) == 16, init_host);
HC_STATIC_ASSERT(offsetof(hc_init_args, host_version) == 24, init_host_version);
HC_STATIC_ASSERT(offsetof(hc_init_args, state_dir) == 40, init_state_dir);
HC_STATIC_ASSERT(sizeof(hc_init_args) == 56, init_args_size);
#endif

#ifdef __cplusplus
}
#endif

#endif /* HICLAW_DRIVER_H */
