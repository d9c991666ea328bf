/* double_done — DEFECT: HC_CAP_ASYNC, and call_async calls `done` TWICE for every request, on the
 * calling thread before returning: each time with the method's normal status and result, in two
 * separately host-allocated buffers (so both are the host's to free). The host must detect the
 * second completion. The synchronous `call` is correct. */
#define FX_NAME "double_done"
#include "fixture_common.h"

static hc_status double_done_call_async(void *instance, hc_str method, hc_str request_json,
                                        uint64_t request_id, hc_done_fn done, void *done_ctx) {
  hc_buf first, second;
  hc_status st;
  (void)request_id;
  if (done == NULL) return HC_ERR_INVALID_ARGUMENT; /* not accepted: done is never called */
  st = fx_std_call(instance, method, request_json, &first);
  done(done_ctx, st, first);
  st = fx_std_call(instance, method, request_json, &second); /* a second, separate buffer */
  done(done_ctx, st, second);                                /* DEFECT: second completion */
  return HC_OK;
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, HC_CAP_ASYNC,
    fx_std_describe, fx_std_create, fx_std_destroy, fx_std_call,
    double_done_call_async,
    NULL, /* cancel: no HC_CAP_CANCEL */
    NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
