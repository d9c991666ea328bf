/* hang — DEFECT: "ping" never returns (it loops on sleep(1)). The host must time the call out
 * (and, out of process, kill the runner). "hc.test.ok" is a correct method returning {};
 * describe/create/destroy are correct. */
#define FX_NAME "hang"
#include "fixture_common.h"

#include <unistd.h>

static hc_status hang_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  hc_status st;
  fx_buf_clear(out_json);
  st = fx_check_instance(instance, out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "ping")) {
    for (;;) sleep(1); /* DEFECT: never returns */
  }
  if (fx_str_eq(method, "hc.test.ok")) return fx_answer(request_json, "{}", out_json);
  return fx_std_call(instance, method, request_json, out_json);
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy, hang_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
