/* libcurl through dlopen; see include/ccurl.h for why. */
#include "ccurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

static struct {
  CURLcode (*global_init)(long);
  CURL *(*easy_init)(void);
  void (*easy_reset)(CURL *);
  void (*easy_cleanup)(CURL *);
  CURLcode (*easy_perform)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int, struct curl_header **);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *);
  CURLMcode (*multi_add_handle)(CURLM *, CURL *);
  CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
  CURLMcode (*multi_perform)(CURLM *, int *);
  CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
  CURLMsg *(*multi_info_read)(CURLM *, int *);
  const char *(*multi_strerror)(CURLMcode);
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_error = NULL;
static char load_error_text[512];

static void load(void) {
  /* The SONAME every libcurl 7.16+ and 8.x has. RTLD_LOCAL: its symbols serve only us. */
  void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    const char *why = dlerror();
    snprintf(load_error_text, sizeof load_error_text,
             "cannot load libcurl.so.4 (%s); install libcurl (Debian/Ubuntu: apt install libcurl4)",
             why ? why : "unknown error");
    load_error = load_error_text;
    return;
  }
#define RESOLVE(field, symbol)                                                                      \
  do {                                                                                            \
    *(void **)(&curl.field) = dlsym(library, symbol);                                             \
    if (curl.field == NULL) {                                                                     \
      snprintf(load_error_text, sizeof load_error_text,                                           \
               "libcurl.so.4 has no %s (hiclaw needs libcurl 7.83 or newer)", symbol);            \
      load_error = load_error_text;                                                               \
      dlclose(library);                                                                           \
      return;                                                                                     \
    }                                                                                             \
  } while (0)
  RESOLVE(global_init, "curl_global_init");
  RESOLVE(easy_init, "curl_easy_init");
  RESOLVE(easy_reset, "curl_easy_reset");
  RESOLVE(easy_cleanup, "curl_easy_cleanup");
  RESOLVE(easy_perform, "curl_easy_perform");
  RESOLVE(easy_strerror, "curl_easy_strerror");
  RESOLVE(easy_header, "curl_easy_header");
  RESOLVE(slist_append, "curl_slist_append");
  RESOLVE(slist_free_all, "curl_slist_free_all");
  RESOLVE(easy_setopt, "curl_easy_setopt");
  RESOLVE(easy_getinfo, "curl_easy_getinfo");
  RESOLVE(multi_init, "curl_multi_init");
  RESOLVE(multi_cleanup, "curl_multi_cleanup");
  RESOLVE(multi_add_handle, "curl_multi_add_handle");
  RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
  RESOLVE(multi_perform, "curl_multi_perform");
  RESOLVE(multi_poll, "curl_multi_poll");
  RESOLVE(multi_info_read, "curl_multi_info_read");
  RESOLVE(multi_strerror, "curl_multi_strerror");
#undef RESOLVE
}

int hc_curl_load(void) {
  pthread_once(&load_once, load);
  return load_error == NULL ? 0 : -1;
}

const char *hc_curl_load_error(void) {
  pthread_once(&load_once, load);
  return load_error;
}

CURLcode hc_curl_global_init(long flags) {
  if (hc_curl_load() != 0) return CURLE_FAILED_INIT;
  return curl.global_init(flags);
}

CURL *hc_curl_easy_init(void) {
  if (hc_curl_load() != 0) return NULL;
  return curl.easy_init();
}

/* The rest need a handle or list from the functions above, so libcurl is loaded by then. */
void hc_curl_easy_reset(CURL *handle) { curl.easy_reset(handle); }
void hc_curl_easy_cleanup(CURL *handle) {
  if (handle != NULL) curl.easy_cleanup(handle);
}
CURLcode hc_curl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }
const char *hc_curl_easy_strerror(CURLcode code) {
  if (hc_curl_load() != 0) return "libcurl is not loaded";
  return curl.easy_strerror(code);
}
CURLHcode hc_curl_easy_header(CURL *handle, const char *name, size_t index, unsigned int origin, int request,
                              struct curl_header **header) {
  return curl.easy_header(handle, name, index, origin, request, header);
}
struct curl_slist *hc_curl_slist_append(struct curl_slist *list, const char *text) {
  if (hc_curl_load() != 0) return NULL;
  return curl.slist_append(list, text);
}
void hc_curl_slist_free_all(struct curl_slist *list) {
  if (list != NULL) curl.slist_free_all(list);
}

CURLcode hc_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl.easy_setopt(h, o, v); }
CURLcode hc_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl.easy_setopt(h, o, v); }
CURLcode hc_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl.easy_setopt(h, o, v); }
CURLcode hc_curl_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
  return curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
}
CURLcode hc_curl_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
  return curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
}
CURLcode hc_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl.easy_getinfo(h, i, v); }

CURLM *hc_curl_multi_init(void) {
  if (hc_curl_load() != 0) return NULL;
  return curl.multi_init();
}
CURLMcode hc_curl_multi_cleanup(CURLM *multi) { return multi == NULL ? CURLM_OK : curl.multi_cleanup(multi); }
CURLMcode hc_curl_multi_add_handle(CURLM *multi, CURL *handle) { return curl.multi_add_handle(multi, handle); }
CURLMcode hc_curl_multi_remove_handle(CURLM *multi, CURL *handle) { return curl.multi_remove_handle(multi, handle); }
CURLMcode hc_curl_multi_perform(CURLM *multi, int *running) { return curl.multi_perform(multi, running); }
CURLMcode hc_curl_multi_poll(CURLM *multi, int timeout_ms) { return curl.multi_poll(multi, NULL, 0, timeout_ms, NULL); }

int hc_curl_multi_next_done(CURLM *multi, CURL **handle, CURLcode *result) {
  int queued = 0;
  CURLMsg *message;
  while ((message = curl.multi_info_read(multi, &queued)) != NULL) {
    if (message->msg == CURLMSG_DONE) {
      *handle = message->easy_handle;
      *result = message->data.result;
      return 1;
    }
  }
  return 0;
}

const char *hc_curl_multi_strerror(CURLMcode code) {
  if (hc_curl_load() != 0) return "libcurl is not loaded";
  return curl.multi_strerror(code);
}
