/* crash — DEFECT: "ping" dereferences a NULL pointer (SIGSEGV). Run it only out of process or in
 * a forked child. "hc.test.ok" is a correct method returning {}; describe/create/destroy are
 * correct. */
#define FX_NAME "crash"
#include "fixture_common.h"

static hc_status crash_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  hc_status st;
  fx_buf_clear(out_json);
  st = fx_check_instance(instance, out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "ping")) {
    int *volatile null_pointer = NULL; /* volatile: the compiler cannot drop the access */
    *null_pointer = 42;                /* DEFECT: SIGSEGV */
    return fx_ok(out_json, FX_PING_JSON);
  }
  if (fx_str_eq(method, "hc.test.ok")) return fx_answer(request_json, "{}", out_json);
  return fx_std_call(instance, method, request_json, out_json);
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy, crash_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
