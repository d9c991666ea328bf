import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A loopback TCP proxy in front of a host that forwards the first `requestLimit` HTTP requests
/// (counted by their request lines) and holds every byte after them, so a test can act — kill
/// the host — at an exact point of a client's stream of requests, however fast the client is.
/// Once ``release()`` is called, held connections are closed.
final class PausingProxy: @unchecked Sendable {
  let port: Int
  private let upstreamPort: Int
  private let requestLimit: Int
  private let listener: Int32
  private let state = Mutex(State())

  private struct State {
    var forwarded = 0
    var released = false
    var sockets: [Int32] = []
  }

  init(upstreamPort: Int, requestLimit: Int) throws {
    self.upstreamPort = upstreamPort
    self.requestLimit = requestLimit
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.listener = listener
    var address = Self.loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let size = length
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(listener, pointer, size) == 0 && listen(listener, 64) == 0 && getsockname(listener, pointer, &length) == 0
      }
    }
    guard bound else { throw HostTestError("proxy: \(String(cString: strerror(errno)))") }
    port = Int(UInt16(bigEndian: address.sin_port))
    Thread.detachNewThread { [self] in acceptLoop() }
  }

  /// Requests forwarded so far (at most `requestLimit`).
  var forwarded: Int { state.withLock { $0.forwarded } }

  /// Stops holding: closes every connection (the client sees its request fail) and the listener.
  func release() {
    let sockets = state.withLock { state in
      state.released = true
      return state.sockets
    }
    for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
    shutdown(listener, Int32(SHUT_RDWR))
  }

  private static func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
  }

  private func acceptLoop() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        close(listener)
        return
      }
      let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = Self.loopback(port: upstreamPort)
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      // Recorded only if kept: a socket closed here must not be shut down by `release()`
      // later, when its number may belong to another test's socket (a runner's, say).
      let kept = state.withLock { state -> Bool in
        guard connected == 0, !state.released else { return false }
        state.sockets += [client, upstream]
        return true
      }
      guard kept else {
        close(client)
        close(upstream)
        continue
      }
      Thread.detachNewThread { [self] in pump(from: client, to: upstream, countingRequests: true) }
      Thread.detachNewThread { [self] in pump(from: upstream, to: client, countingRequests: false) }
    }
  }

  /// Copies bytes one way; client → upstream stops at the start of request `requestLimit + 1`
  /// (request lines are found by their " HTTP/1.1\r\n" ending).
  private func pump(from source: Int32, to destination: Int32, countingRequests: Bool) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    var carry: [UInt8] = []
    defer {
      shutdown(destination, Int32(SHUT_RDWR))
      shutdown(source, Int32(SHUT_RDWR))
    }
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress!, $0.count, 0) }
      if count <= 0 { return }
      let chunk = Array(buffer[0..<count])
      if countingRequests {
        // Count the request lines that end in this chunk (the carried tail of the previous
        // chunk only helps find a line split across the two); hold from the first one past
        // the limit.
        let marker = Array(" HTTP/1.1\r\n".utf8)
        let bytes = carry + chunk
        var index = 0
        while let found = Self.find(marker, in: bytes, from: index) {
          index = found + 1
          guard found + marker.count > carry.count else { continue }
          let allowed = state.withLock { state -> Bool in
            guard state.forwarded < requestLimit else { return false }
            state.forwarded += 1
            return true
          }
          guard !allowed else { continue }
          let lineStart = (bytes[..<found].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
          // What precedes the held request in this chunk still goes through.
          let forward = lineStart > carry.count ? Array(bytes[carry.count..<lineStart]) : []
          if !forward.isEmpty { _ = send(destination, forward, forward.count, Int32(MSG_NOSIGNAL)) }
          while !state.withLock({ $0.released }) { usleep(2000) }
          return
        }
        carry = Array(bytes.suffix(marker.count))
      }
      var sent = 0
      while sent < chunk.count {
        let n = chunk.withUnsafeBytes { send(destination, $0.baseAddress! + sent, chunk.count - sent, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return }
        sent += n
      }
    }
  }

  private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    for index in start...(haystack.count - needle.count) where haystack[index] == needle[0] {
      if Array(haystack[index..<(index + needle.count)]) == needle { return index }
    }
    return nil
  }
}
