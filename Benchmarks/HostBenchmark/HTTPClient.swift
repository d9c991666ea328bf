// The measuring instrument of BM1–BM3: a small blocking HTTP/1.1 keep-alive client over POSIX
// sockets, and the floor it is compared with, a trivial loopback server answering fixed bytes.
//
// Both ends are plain blocking sockets on dedicated threads: no event loop, no allocation per
// request beyond the response bytes, so what the client adds is the same few microseconds for
// the floor and for the API server. (URLSession on Linux adds a thread hop and its own
// scheduling; it is too slow and noisy to measure with.)
import Foundation
import Glibc

struct HTTPResponse {
  var status: Int
  var body: [UInt8]
  var bodyString: String { String(decoding: body, as: UTF8.self) }
}

/// One keep-alive connection to 127.0.0.1. Threading: one thread at a time.
final class HTTPConnection {
  let fd: Int32
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)
  private var start = 0
  private var end = 0

  init(port: Int) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
      let message = String(cString: strerror(errno))
      close(fd)
      throw BenchError("connect to 127.0.0.1:\(port): \(message)")
    }
  }

  deinit { close(fd) }

  /// Makes a blocked read fail after `seconds` instead of waiting forever.
  func setReceiveTimeout(seconds: Int) {
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  /// The bytes of one request (built once and reused by the timed loops).
  static func request(_ method: String, _ path: String, token: String?, body: String? = nil) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    if let body {
      head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    } else {
      head += "\r\n"
    }
    return Array(head.utf8)
  }

  func send(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { raw in
      var sent = 0
      while sent < raw.count {
        let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
        if n < 0 {
          if errno == EINTR { continue }
          throw BenchError("send: \(String(cString: strerror(errno)))")
        }
        sent += n
      }
    }
  }

  /// Reads more bytes into the buffer; false at end of stream.
  private func fill() throws -> Bool {
    if start == end {
      start = 0
      end = 0
    } else if end == buffer.count {
      if start > 0 {
        buffer.withUnsafeMutableBufferPointer { pointer in
          _ = memmove(pointer.baseAddress!, pointer.baseAddress! + start, end - start)
        }
        end -= start
        start = 0
      } else {
        buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
      }
    }
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
      if n < 0 {
        if errno == EINTR { continue }
        throw BenchError("recv: \(String(cString: strerror(errno)))")
      }
      if n == 0 { return false }
      end += n
      return true
    }
  }

  /// Index of the end of the next line (`\n`) at or after `start`, filling as needed.
  private func lineEnd() throws -> Int {
    var scan = start
    while true {
      while scan < end {
        if buffer[scan] == 10 { return scan }
        scan += 1
      }
      let offset = scan - start
      guard try fill() else { throw BenchError("connection closed mid-line") }
      scan = start + offset
    }
  }

  /// The next line without its `\r\n`.
  private func readLine() throws -> ArraySlice<UInt8> {
    let newline = try lineEnd()
    var last = newline
    if last > start, buffer[last - 1] == 13 { last -= 1 }
    let line = buffer[start..<last]
    start = newline + 1
    return line
  }

  private func readExactly(_ count: Int) throws -> [UInt8] {
    while end - start < count {
      guard try fill() else { throw BenchError("connection closed mid-body") }
    }
    let bytes = Array(buffer[start..<(start + count)])
    start += count
    return bytes
  }

  struct Head {
    var status: Int
    var contentLength: Int?
    var chunked: Bool
  }

  /// Status line and headers.
  func readHead() throws -> Head {
    let statusLine = try readLine()
    // "HTTP/1.1 200 OK"
    let parts = statusLine.split(separator: 32, maxSplits: 2)
    guard parts.count >= 2, let status = Int(String(decoding: parts[1], as: UTF8.self)) else {
      throw BenchError("bad status line \(String(decoding: statusLine, as: UTF8.self))")
    }
    var head = Head(status: status, contentLength: nil, chunked: false)
    while true {
      let line = try readLine()
      if line.isEmpty { return head }
      guard let colon = line.firstIndex(of: 58) else { continue }
      let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
      let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
      if name == "content-length" {
        head.contentLength = Int(value)
      } else if name == "transfer-encoding" {
        head.chunked = value.lowercased().contains("chunked")
      }
    }
  }

  /// Reads one whole response.
  func readResponse() throws -> HTTPResponse {
    let head = try readHead()
    if let length = head.contentLength { return HTTPResponse(status: head.status, body: try readExactly(length)) }
    guard head.chunked else { return HTTPResponse(status: head.status, body: []) }
    var body: [UInt8] = []
    while let chunk = try readChunk() { body += chunk }
    return HTTPResponse(status: head.status, body: body)
  }

  /// The next chunk of a chunked body, nil after the last.
  func readChunk() throws -> [UInt8]? {
    let sizeLine = try readLine()
    let hex = String(decoding: sizeLine.prefix { $0 != 59 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    guard let size = Int(hex, radix: 16) else { throw BenchError("bad chunk size \(hex)") }
    if size == 0 {
      _ = try readLine()  // the empty line after the last chunk (no trailers)
      return nil
    }
    let chunk = try readExactly(size)
    _ = try readLine()
    return chunk
  }

  /// Sends `request` and reads the response.
  func roundTrip(_ request: [UInt8]) throws -> HTTPResponse {
    try send(request)
    return try readResponse()
  }

  func call(_ method: String, _ path: String, token: String?, body: String? = nil) throws -> HTTPResponse {
    try roundTrip(Self.request(method, path, token: token, body: body))
  }
}

/// The floor of BM2: a loopback TCP server in this process, a thread per connection, that reads
/// each request head and answers it with fixed bytes (a real response of the API server,
/// recorded once), so a round trip costs exactly the sockets, wake-ups and bytes of the API's.
final class LoopbackServer: @unchecked Sendable {
  let port: Int
  private let listener: Int32
  private let response: [UInt8]

  init(response: [UInt8]) throws {
    self.response = response
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.listener = listener
    var one: Int32 = 1
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let size = length
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(listener, pointer, size) == 0 && listen(listener, 256) == 0 && getsockname(listener, pointer, &length) == 0
      }
    }
    guard bound else { throw BenchError("loopback server: \(String(cString: strerror(errno)))") }
    port = Int(UInt16(bigEndian: address.sin_port))
    startThread("loopback-accept") { [self] in acceptLoop() }
  }

  /// Stops accepting; connection threads end when their clients close.
  func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

  private func acceptLoop() {
    while true {
      let connection = accept(listener, nil, nil)
      if connection < 0 {
        if errno == EINTR { continue }
        close(listener)
        return
      }
      var one: Int32 = 1
      setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      startThread("loopback-conn") { [self] in serve(connection) }
    }
  }

  private func serve(_ fd: Int32) {
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 8192)
    var filled = 0
    while true {
      // Requests are GETs without a body: a request ends at "\r\n\r\n".
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, $0.count - filled, 0) }
      if n <= 0 { return }
      filled += n
      var scanFrom = 0
      while let end = Self.headEnd(buffer, from: scanFrom, to: filled) {
        let ok = response.withUnsafeBytes { raw -> Bool in
          var sent = 0
          while sent < raw.count {
            let written = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            if written <= 0 { return false }
            sent += written
          }
          return true
        }
        if !ok { return }
        scanFrom = end
      }
      if scanFrom > 0 {
        buffer.replaceSubrange(0..<(filled - scanFrom), with: buffer[scanFrom..<filled])
        filled -= scanFrom
      }
      if filled == buffer.count { return }
    }
  }

  private static func headEnd(_ buffer: [UInt8], from: Int, to: Int) -> Int? {
    var index = from
    while index + 3 < to {
      if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 { return index + 4 }
      index += 1
    }
    return nil
  }
}

/// Records the raw bytes of one response (head and body) as the server sent them, for the
/// loopback floor: the same request on a fresh connection, read until the body is complete.
func recordRawResponse(port: Int, request: [UInt8]) throws -> [UInt8] {
  let connection = try HTTPConnection(port: port)
  try connection.send(request)
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = chunk.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress!, $0.count, 0) }
    guard n > 0 else { break }
    bytes += chunk[0..<n]
    // Done once the head is in and Content-Length bytes follow it.
    if let headEnd = findHeadEnd(bytes) {
      let head = String(decoding: bytes[0..<headEnd], as: UTF8.self).lowercased()
      if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
        let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
        bytes.count >= headEnd + length
      {
        return Array(bytes[0..<(headEnd + length)])
      }
    }
  }
  throw BenchError("no complete response with a Content-Length")
}

private func findHeadEnd(_ bytes: [UInt8]) -> Int? {
  guard bytes.count >= 4 else { return nil }
  for index in 0...(bytes.count - 4)
  where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
    return index + 4
  }
  return nil
}
