/* Swift cannot call C variadic functions, so curl_easy_setopt/getinfo get typed wrappers. */
#ifndef HICLAW_CCURL_SHIM_H
#define HICLAW_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode hc_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hc_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hc_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hc_curl_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
  return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
}
static inline CURLcode hc_curl_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
  return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
}
static inline CURLcode hc_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
