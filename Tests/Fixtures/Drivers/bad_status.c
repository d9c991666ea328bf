/* bad_status — DEFECT: "ping" returns status 42, which is not a defined hc_status
 * (HC_STATUS_COUNT is 14). The output buffer is left {NULL, 0}. Everything else is correct. */
#define FX_NAME "bad_status"
#include "fixture_common.h"

#define BAD_STATUS 42

static hc_status bad_status_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  hc_status st;
  fx_buf_clear(out_json);
  st = fx_check_instance(instance, out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "ping")) return BAD_STATUS; /* DEFECT: nothing allocated */
  return fx_std_call(instance, method, request_json, out_json);
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy, bad_status_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
