/* async_ok — a correct asynchronous driver (HC_CAP_ASYNC | HC_CAP_CANCEL).
 *
 * call_async copies its borrowed inputs, starts a driver thread and returns at once; that thread
 * (a "foreign" thread to the host) runs the method, logs through host->log, builds the result with
 * host->alloc and calls `done` exactly once. The threads are not joined by the caller; they are
 * tracked, reaped once finished, and every one is JOINED by shutdown, which therefore waits for
 * requests still in flight. The synchronous `call` runs the same methods on the caller's thread.
 *
 * Methods:
 *   ping              → {"driver":"async_ok"} (async: still completed from the driver thread)
 *   hc.test.sleep     {"ms":N} → sleeps N ms in 1 ms steps → {"slept_ms":N}; HC_ERR_CANCELLED if
 *                     cancel(request_id) arrived meanwhile (async only: sync calls have no id)
 *   hc.test.state     {"key":"k","value":"v"} → host state_put(k, v), then state_get(k) (whose
 *                     buffer is ours: freed with host->free after copying) → {"value":"v"}
 *   hc.test.http      {"url":"…"} → host http_request({"method":"GET","url":…}) → the response
 *                     JSON, copied into a new buffer (the host's response buffer is ours: freed)
 */
#define FX_NAME "async_ok"
#include "fixture_common.h"

#include <pthread.h>

#define ASYNC_OK_MAX_SLEEP_MS 600000u /* 10 min */

/* One accepted async request. Owned by the job list; freed by whoever joins its thread. */
typedef struct async_job {
  struct async_job *next;
  pthread_t thread;
  void *instance;
  uint64_t request_id;
  hc_done_fn done;
  void *done_ctx;
  char *method; /* copies of the borrowed inputs */
  size_t method_len;
  char *request;
  size_t request_len;
  /* Guarded by async_lock. */
  int in_flight; /* cancel applies only while set */
  int cancelled;
  int finished; /* the thread has called done and touches nothing shared any more */
} async_job;

static pthread_mutex_t async_lock = PTHREAD_MUTEX_INITIALIZER;
static async_job *async_jobs;     /* every job whose thread has not been joined yet */
static int async_shutting_down;

static void async_job_free(async_job *job) {
  free(job->method);
  free(job->request);
  free(job);
}

/* Joins and frees every job in a list detached from async_jobs. */
static void async_join_all(async_job *list) {
  while (list != NULL) {
    async_job *next = list->next;
    pthread_join(list->thread, NULL);
    async_job_free(list);
    list = next;
  }
}

/* Joins the threads that already finished, so that a long-lived instance does not accumulate
 * zombie threads. Their join returns at once. */
static void async_reap_finished(void) {
  async_job *done_list = NULL, **link;
  pthread_mutex_lock(&async_lock);
  link = &async_jobs;
  while (*link != NULL) {
    async_job *job = *link;
    if (job->finished) {
      *link = job->next;
      job->next = done_list;
      done_list = job;
    } else {
      link = &job->next;
    }
  }
  pthread_mutex_unlock(&async_lock);
  async_join_all(done_list);
}

static int async_is_cancelled(const async_job *job) {
  int cancelled;
  if (job == NULL) return 0;
  pthread_mutex_lock(&async_lock);
  cancelled = job->cancelled;
  pthread_mutex_unlock(&async_lock);
  return cancelled;
}

/* Reads a top-level string member of a validated request, unescaped, into driver memory.
 * Returns HC_OK, or INVALID_ARGUMENT with error JSON. */
static hc_status async_string_member(hc_str request, const char *key, char **out, size_t *out_len,
                                     const char **raw, size_t *raw_len, hc_buf *out_json) {
  const char *v = NULL;
  size_t vn = 0;
  if (request.len == 0 || !fx_json_member(request.ptr, request.len, key, &v, &vn) || vn == 0 ||
      v[0] != '"')
    return fx_errorf(out_json, HC_ERR_INVALID_ARGUMENT, "request: '%s' must be a string", key);
  if (raw != NULL) {
    *raw = v;
    *raw_len = vn;
  }
  if (out != NULL) {
    *out = fx_json_unescape(v, vn, out_len);
    if (*out == NULL) return fx_errorf(out_json, HC_ERR_RESOURCE_EXHAUSTED, "async_ok: out of memory");
  }
  return HC_OK;
}

static hc_status async_sleep(hc_str request, const async_job *job, hc_buf *out_json) {
  const char *v = NULL;
  size_t vn = 0;
  uint64_t ms = 0, deadline;
  fx_sb sb = FX_SB_INIT;
  if (request.len == 0 || !fx_json_member(request.ptr, request.len, "ms", &v, &vn) ||
      !fx_json_uint(v, vn, ASYNC_OK_MAX_SLEEP_MS, &ms))
    return fx_errorf(out_json, HC_ERR_INVALID_ARGUMENT,
                     "request: 'ms' must be an integer between 0 and %u", ASYNC_OK_MAX_SLEEP_MS);
  deadline = fx_now_ns() + ms * 1000000u;
  for (;;) {
    uint64_t now;
    if (async_is_cancelled(job))
      return fx_errorf(out_json, HC_ERR_CANCELLED, "async_ok: request %llu was cancelled",
                       (unsigned long long)job->request_id);
    now = fx_now_ns();
    if (now >= deadline) break;
    fx_sleep_ms(1);
  }
  fx_sb_puts(&sb, "{\"slept_ms\":");
  fx_sb_u64(&sb, ms);
  fx_sb_puts(&sb, "}");
  return fx_ok_sb(out_json, &sb);
}

static hc_status async_state(hc_str request, hc_buf *out_json) {
  char *key = NULL, *value = NULL;
  size_t key_len = 0, value_len = 0;
  hc_buf got = {NULL, 0};
  hc_status st;
  fx_sb sb = FX_SB_INIT;
  if (!FX_HOST_HAS(state_put) || !FX_HOST_HAS(state_get))
    return fx_errorf(out_json, HC_ERR_FAILED_PRECONDITION, "async_ok: the host provides no state service");
  st = async_string_member(request, "key", &key, &key_len, NULL, NULL, out_json);
  if (st == HC_OK) st = async_string_member(request, "value", &value, &value_len, NULL, NULL, out_json);
  if (st != HC_OK) goto out;
  st = fx_host.state_put(fx_host.host_ctx, fx_str(key, key_len), fx_str(value, value_len));
  if (st != HC_OK) {
    st = fx_errorf(out_json, st, "async_ok: state_put failed with status %d", (int)st);
    goto out;
  }
  st = fx_host.state_get(fx_host.host_ctx, fx_str(key, key_len), &got);
  if (st != HC_OK) {
    st = fx_errorf(out_json, st, "async_ok: state_get failed with status %d", (int)st);
    goto out;
  }
  fx_sb_puts(&sb, "{\"value\":");
  fx_sb_json_string(&sb, got.ptr != NULL ? got.ptr : "", got.len);
  fx_sb_puts(&sb, "}");
  st = fx_ok_sb(out_json, &sb);
out:
  fx_free(got.ptr); /* state_get's output is the driver's: release it with host->free */
  free(key);
  free(value);
  return st;
}

static hc_status async_http(hc_str request, hc_buf *out_json) {
  const char *url = NULL;
  size_t url_len = 0;
  hc_buf response = {NULL, 0};
  hc_status st;
  fx_sb req = FX_SB_INIT;
  if (!FX_HOST_HAS(http_request))
    return fx_errorf(out_json, HC_ERR_FAILED_PRECONDITION, "async_ok: the host provides no http_request");
  /* The url token is already a valid JSON string: embed it as it is. */
  st = async_string_member(request, "url", NULL, NULL, &url, &url_len, out_json);
  if (st != HC_OK) return st;
  fx_sb_puts(&req, "{\"method\":\"GET\",\"url\":");
  fx_sb_append(&req, url, url_len);
  fx_sb_puts(&req, "}");
  if (req.oom) {
    fx_sb_free(&req);
    return fx_errorf(out_json, HC_ERR_RESOURCE_EXHAUSTED, "async_ok: out of memory");
  }
  st = fx_host.http_request(fx_host.host_ctx, fx_str(req.p, req.len), &response);
  fx_sb_free(&req);
  if (st == HC_OK) {
    /* Copy into a buffer of our own making, then release the host's (it is ours to free). */
    hc_status cst = fx_set_buf(out_json, response.ptr, response.len);
    if (cst != HC_OK) st = cst;
  } else if (response.len > 0 && fx_json_valid(response.ptr, response.len, NULL, NULL)) {
    fx_set_buf(out_json, response.ptr, response.len); /* pass the host's error JSON on */
  } else {
    fx_errorf(out_json, st, "async_ok: http_request failed with status %d", (int)st);
  }
  fx_free(response.ptr);
  return st;
}

/* Runs a method; `job` is NULL for synchronous calls. */
static hc_status async_dispatch(void *instance, hc_str method, hc_str request, const async_job *job,
                                hc_buf *out_json) {
  hc_status st;
  fx_buf_clear(out_json);
  st = fx_check_instance(instance, out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "ping")) return fx_answer(request, FX_PING_JSON, out_json);
  if (!fx_str_eq(method, "hc.test.sleep") && !fx_str_eq(method, "hc.test.state") &&
      !fx_str_eq(method, "hc.test.http"))
    return fx_unimplemented(out_json, method);
  st = fx_check_json(request, "request", out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "hc.test.sleep")) return async_sleep(request, job, out_json);
  if (fx_str_eq(method, "hc.test.state")) return async_state(request, out_json);
  return async_http(request, out_json);
}

static hc_status async_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  return async_dispatch(instance, method, request_json, NULL, out_json);
}

/* The driver thread of one request. */
static void *async_worker(void *arg) {
  async_job *job = (async_job *)arg;
  hc_buf result = {NULL, 0};
  hc_status st;
  fx_logf(HC_LOG_INFO, "async_ok: request %llu (%.*s) running on a driver thread",
          (unsigned long long)job->request_id, FX_STR_ARG(fx_str(job->method, job->method_len)));
  st = async_dispatch(job->instance, fx_str(job->method, job->method_len),
                      fx_str(job->request, job->request_len), job, &result);
  pthread_mutex_lock(&async_lock);
  job->in_flight = 0; /* a cancel from now on is for a finished request: ignored */
  pthread_mutex_unlock(&async_lock);
  /* Exactly once; the result's ownership passes to the host. No lock held: done may call back
   * into the driver. After this the instance may be destroyed: it is not touched again. */
  job->done(job->done_ctx, st, result);
  pthread_mutex_lock(&async_lock);
  job->finished = 1;
  pthread_mutex_unlock(&async_lock);
  return NULL;
}

static char *async_copy(hc_str s) {
  char *p = (char *)malloc(s.len + 1);
  if (p != NULL) {
    if (s.len > 0) memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
  }
  return p;
}

static hc_status async_call_async(void *instance, hc_str method, hc_str request_json,
                                  uint64_t request_id, hc_done_fn done, void *done_ctx) {
  async_job *job;
  int rc;
  if (done == NULL || !fx_instance_ok(instance)) return HC_ERR_INVALID_ARGUMENT; /* not accepted */
  if ((method.len > 0 && method.ptr == NULL) || (request_json.len > 0 && request_json.ptr == NULL))
    return HC_ERR_INVALID_ARGUMENT;
  async_reap_finished();
  job = (async_job *)calloc(1, sizeof *job);
  if (job == NULL) return HC_ERR_RESOURCE_EXHAUSTED;
  /* The inputs are borrowed for this call only: the thread gets copies. */
  job->method = async_copy(method);
  job->request = async_copy(request_json);
  if (job->method == NULL || job->request == NULL) {
    async_job_free(job);
    return HC_ERR_RESOURCE_EXHAUSTED;
  }
  job->method_len = method.len;
  job->request_len = request_json.len;
  job->instance = instance;
  job->request_id = request_id;
  job->done = done;
  job->done_ctx = done_ctx;
  job->in_flight = 1;
  /* Held across pthread_create so that job->thread is stored before anyone can join it. */
  pthread_mutex_lock(&async_lock);
  if (async_shutting_down) {
    pthread_mutex_unlock(&async_lock);
    async_job_free(job);
    return HC_ERR_UNAVAILABLE;
  }
  rc = pthread_create(&job->thread, NULL, async_worker, job);
  if (rc == 0) {
    job->next = async_jobs;
    async_jobs = job;
  }
  pthread_mutex_unlock(&async_lock);
  if (rc != 0) {
    async_job_free(job);
    return HC_ERR_RESOURCE_EXHAUSTED; /* not accepted: done is never called */
  }
  return HC_OK;
}

static void async_cancel(void *instance, uint64_t request_id) {
  async_job *job;
  pthread_mutex_lock(&async_lock);
  for (job = async_jobs; job != NULL; job = job->next) {
    if (job->request_id == request_id && job->instance == instance && job->in_flight) {
      job->cancelled = 1;
      break;
    }
  }
  pthread_mutex_unlock(&async_lock); /* unknown or finished ids: ignored */
}

/* Refuses new requests, then joins every thread, waiting for those still running. */
static void async_shutdown(void) {
  async_job *list;
  pthread_mutex_lock(&async_lock);
  async_shutting_down = 1;
  list = async_jobs;
  async_jobs = NULL;
  pthread_mutex_unlock(&async_lock);
  async_join_all(list);
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, HC_CAP_ASYNC | HC_CAP_CANCEL,
    fx_std_describe, fx_std_create, fx_std_destroy, async_call,
    async_call_async, async_cancel,
    NULL, /* get_extension */
    async_shutdown};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
