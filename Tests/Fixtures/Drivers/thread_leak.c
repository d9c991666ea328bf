/* thread_leak — DEFECT: every create starts a pthread that loops forever (sleeping 10 ms and
 * bumping a static counter) and is never joined; shutdown returns without stopping it. The host's
 * shutdown check (/proc/self/task back to baseline, no driver code running afterwards) must fail.
 * Run it in a child process: the thread keeps executing this library's code until exit. The
 * thread never touches the instance, so destroy itself is safe. Everything else is correct. */
#define FX_NAME "thread_leak"
#include "fixture_common.h"

#include <pthread.h>

static volatile unsigned long thread_leak_ticks; /* touched by the leaked threads */

static void *thread_leak_loop(void *arg) {
  (void)arg;
  for (;;) {
    fx_sleep_ms(10);
    thread_leak_ticks++;
  }
  return NULL;
}

static hc_status thread_leak_create(hc_str config_json, void **out_instance, hc_buf *out_error_json) {
  pthread_t thread;
  hc_status st = fx_std_create(config_json, out_instance, out_error_json);
  if (st != HC_OK) return st;
  if (pthread_create(&thread, NULL, thread_leak_loop, NULL) != 0) {
    fx_std_destroy(*out_instance);
    *out_instance = NULL;
    return fx_errorf(out_error_json, HC_ERR_RESOURCE_EXHAUSTED, "thread_leak: pthread_create failed");
  }
  pthread_detach(thread); /* DEFECT: nobody will ever stop or join it */
  return HC_OK;
}

static void thread_leak_shutdown(void) {
  /* DEFECT: returns while the threads started by create keep running. */
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, thread_leak_create, fx_std_destroy, fx_std_call,
    NULL, NULL, NULL,
    thread_leak_shutdown};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
