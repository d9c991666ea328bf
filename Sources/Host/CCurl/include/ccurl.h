/*
 * libcurl for the host and the CLI, loaded at run time instead of linked.
 *
 * Why: linking libcurl makes the dynamic loader map and initialise its ~30 dependencies (TLS,
 * Kerberos, LDAP, SSH …) before main(): ~7 ms of every `hiclaw` command on the development
 * machine, more than the rest of a small command. Loaded with dlopen, the CLI does it on a
 * thread of its own while it reads its files (commands that talk to the host only), and the
 * host when it sets up its drivers' host services (a host without libcurl still starts; its
 * drivers' HTTP requests then fail with UNAVAILABLE, saying why).
 *
 * Every function below calls hc_curl_load() first (once per process; later calls are an atomic
 * check), so callers need not. When libcurl cannot be loaded, hc_curl_easy_init returns NULL,
 * hc_curl_global_init returns CURLE_FAILED_INIT and hc_curl_load_error() says why; the others
 * are only reached with a handle and behave as libcurl's.
 *
 * Threading: hc_curl_load is safe from any thread (pthread_once). The wrappers have libcurl's
 * own rules (one thread at a time per easy handle). Swift cannot call C variadic functions, so
 * curl_easy_setopt and curl_easy_getinfo get typed wrappers.
 */
#ifndef HICLAW_CCURL_H
#define HICLAW_CCURL_H
#include <curl/curl.h>
#include <curl/header.h>

/* Loads libcurl.so.4 and resolves the functions below; 0 on success, -1 on failure. */
int hc_curl_load(void);
/* Why loading failed (a static string), or NULL if it did not. */
const char *hc_curl_load_error(void);

CURLcode hc_curl_global_init(long flags);
CURL *hc_curl_easy_init(void);
void hc_curl_easy_reset(CURL *handle);
void hc_curl_easy_cleanup(CURL *handle);
CURLcode hc_curl_easy_perform(CURL *handle);
const char *hc_curl_easy_strerror(CURLcode code);
CURLHcode hc_curl_easy_header(CURL *handle, const char *name, size_t index, unsigned int origin, int request,
                              struct curl_header **header);
struct curl_slist *hc_curl_slist_append(struct curl_slist *list, const char *text);
void hc_curl_slist_free_all(struct curl_slist *list);

/* The multi interface (many transfers driven from one thread). hc_curl_multi_init returns NULL
   when libcurl cannot be loaded. hc_curl_multi_next_done takes the next finished transfer's
   handle and result off the multi handle's message queue: 1 if there was one, else 0. */
CURLM *hc_curl_multi_init(void);
CURLMcode hc_curl_multi_cleanup(CURLM *multi);
CURLMcode hc_curl_multi_add_handle(CURLM *multi, CURL *handle);
CURLMcode hc_curl_multi_remove_handle(CURLM *multi, CURL *handle);
CURLMcode hc_curl_multi_perform(CURLM *multi, int *running);
CURLMcode hc_curl_multi_poll(CURLM *multi, int timeout_ms);
int hc_curl_multi_next_done(CURLM *multi, CURL **handle, CURLcode *result);
const char *hc_curl_multi_strerror(CURLMcode code);

CURLcode hc_curl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode hc_curl_setopt_ptr(CURL *h, CURLoption o, const void *v);
CURLcode hc_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode hc_curl_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode hc_curl_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode hc_curl_getinfo_long(CURL *h, CURLINFO i, long *v);
#endif
