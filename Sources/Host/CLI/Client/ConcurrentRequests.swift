import CCurl
import Foundation

/// One request of ``APIClient/sendAll(_:parallel:report:beforeWaiting:)``.
struct APIRequest {
  var method: String
  var path: String
  var query: [(String, String)] = []
  var body: Data?
}

extension APIClient {
  /// Sends `requests` with up to `parallel` of them in flight, each on its own keep-alive
  /// connection, all from the calling thread (libcurl's multi interface), and hands each answer to
  /// `report` in the order of `requests`, as soon as it and every one before it are in (output
  /// reads like a one-at-a-time apply). A transport failure is that request's result; the others
  /// go on. `beforeWaiting` runs whenever the thread is about to wait for the network (the caller
  /// flushes its output there, so lines go out in batches but are never held back).
  ///
  /// Why one thread: with a thread and an easy handle per connection, every request cost five
  /// `poll`s, a sleep and a wake-up of its thread and a lock shared with the others; an apply's
  /// CLI spent ~5× the CPU per request of a plain socket client. Here one `poll` waits for all
  /// connections.
  func sendAll(
    _ requests: [APIRequest], parallel: Int,
    report: (Int, Result<APIResponse, CLIFailure>) -> Void, beforeWaiting: () -> Void = {}
  ) {
    guard !requests.isEmpty else { return }
    guard let multi = hc_curl_multi_init() else {
      let message = "error: " + (hc_curl_load_error().map { String(cString: $0) } ?? "libcurl could not start")
      for index in requests.indices { report(index, .failure(.failed(message))) }
      return
    }
    let slots = (0..<max(1, min(parallel, requests.count))).compactMap { _ in TransferSlot(client: self) }
    defer {
      for slot in slots { slot.close(multi) }
      hc_curl_multi_cleanup(multi)
    }
    guard !slots.isEmpty else {
      for index in requests.indices { report(index, .failure(.failed("error: libcurl could not create a handle"))) }
      return
    }
    var byHandle: [UnsafeMutableRawPointer: TransferSlot] = [:]
    for slot in slots { byHandle[slot.handle] = slot }

    var next = 0
    var results = [Result<APIResponse, CLIFailure>?](repeating: nil, count: requests.count)
    var reported = 0
    func startNext(on slot: TransferSlot) {
      // A request libcurl refuses to start is that request's failure; the slot takes the next.
      while next < requests.count {
        let index = next
        next += 1
        let code = slot.start(requests[index], index: index, multi: multi)
        if code == CURLM_OK { return }
        results[index] = .failure(.failed("error: libcurl could not start the request (\(String(cString: hc_curl_multi_strerror(code))))"))
      }
    }
    /// Every request without a result fails with `message` (the multi handle itself broke).
    func failRemaining(_ message: String) {
      for index in results.indices where index >= reported && results[index] == nil { results[index] = .failure(.failed(message)) }
      next = requests.count
    }
    for slot in slots { startNext(on: slot) }

    while reported < requests.count {
      var running: Int32 = 0
      let performed = hc_curl_multi_perform(multi, &running)
      if performed != CURLM_OK {
        failRemaining("error: libcurl failed (\(String(cString: hc_curl_multi_strerror(performed))))")
      }
      var handle: UnsafeMutableRawPointer?
      var code = CURLE_OK
      while hc_curl_multi_next_done(multi, &handle, &code) == 1 {
        guard let handle, let slot = byHandle[handle] else { continue }
        let (index, result) = slot.finish(code, multi: multi)
        results[index] = result
        startNext(on: slot)
      }
      while reported < requests.count, let result = results[reported] {
        report(reported, result)
        results[reported] = nil
        reported += 1
      }
      if reported < requests.count {
        beforeWaiting()
        let polled = hc_curl_multi_poll(multi, 1000)
        if polled != CURLM_OK {
          failRemaining("error: libcurl could not wait for the host (\(String(cString: hc_curl_multi_strerror(polled))))")
        }
      }
    }
  }
}

/// One connection of ``APIClient/sendAll(_:parallel:report:beforeWaiting:)``: an easy handle
/// (whose connection the multi handle's cache keeps alive between requests), its header lists
/// and the request in flight.
private final class TransferSlot {
  let client: APIClient
  let handle: UnsafeMutableRawPointer
  /// Built once: the headers do not change between requests.
  private let headersWithBody: UnsafeMutablePointer<curl_slist>?
  private let headersWithoutBody: UnsafeMutablePointer<curl_slist>?
  private var sink = ResponseSink(onLine: nil)
  private var index = 0
  private var url = ""
  private var active = false

  init?(client: APIClient) {
    guard let handle = hc_curl_easy_init() else { return nil }
    self.client = client
    self.handle = handle
    headersWithBody = client.headerList(withBody: true)
    headersWithoutBody = client.headerList(withBody: false)
  }

  /// Configures the handle for `request` and adds it to `multi`; anything but CURLM_OK means it
  /// was not added.
  func start(_ request: APIRequest, index: Int, multi: UnsafeMutableRawPointer) -> CURLMcode {
    self.index = index
    url = client.url(request.path, query: request.query)
    sink = ResponseSink(onLine: nil)
    sink.handle = handle
    // Options are per request; the connection cache survives the reset.
    hc_curl_easy_reset(handle)
    _ = url.withCString { hc_curl_setopt_ptr(handle, CURLOPT_URL, $0) }
    _ = request.method.withCString { hc_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, $0) }
    _ = hc_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, request.body == nil ? headersWithoutBody : headersWithBody)
    if let body = request.body {
      // Copied by libcurl (COPYPOSTFIELDS), so the request need not outlive this call.
      _ = hc_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
      _ = body.withUnsafeBytes { bytes in
        hc_curl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
      }
    }
    _ = hc_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
    _ = hc_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, client.timeout * 1000)
    _ = hc_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
    _ = hc_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
    _ = hc_curl_setopt_write(handle, ResponseSink.write)
    let added = hc_curl_multi_add_handle(multi, handle)
    active = added == CURLM_OK
    return added
  }

  /// The finished request's index and result; the handle is off the multi handle again.
  func finish(_ code: CURLcode, multi: UnsafeMutableRawPointer) -> (Int, Result<APIResponse, CLIFailure>) {
    sink.finish()
    _ = hc_curl_multi_remove_handle(multi, handle)
    active = false
    guard code == CURLE_OK else {
      return (index, .failure(.failed(client.transportMessage(code, url: url, timeout: client.timeout))))
    }
    return (index, .success(APIResponse(status: sink.status, body: sink.body, outcome: sink.outcome)))
  }

  func close(_ multi: UnsafeMutableRawPointer) {
    if active { _ = hc_curl_multi_remove_handle(multi, handle) }
    hc_curl_easy_cleanup(handle)
    hc_curl_slist_free_all(headersWithBody)
    hc_curl_slist_free_all(headersWithoutBody)
  }
}
