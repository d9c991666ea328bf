/* leaks — DEFECT: every "ping" allocates 64 bytes with host->alloc and never frees or returns
 * them (its result, {"driver":"leaks"}, is correct). The host's allocation balance must catch it:
 * after N pings, allocs - frees == N. Everything else is correct. */
#define FX_NAME "leaks"
#include "fixture_common.h"

static void *volatile leaks_last; /* keeps the pointer observable; it is never freed */

static hc_status leaks_call(void *instance, hc_str method, hc_str request_json, hc_buf *out_json) {
  hc_status st;
  fx_buf_clear(out_json);
  st = fx_check_instance(instance, out_json);
  if (st != HC_OK) return st;
  if (fx_str_eq(method, "ping")) {
    st = fx_check_json(request_json, "request", out_json);
    if (st != HC_OK) return st;
    leaks_last = fx_alloc(64); /* DEFECT: never freed, never handed over */
    return fx_ok(out_json, FX_PING_JSON);
  }
  return fx_std_call(instance, method, request_json, out_json);
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy, leaks_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
