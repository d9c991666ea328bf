import Glibc
import Synchronization

/// The runner socket's framing: `u32 length | u8 type | u64 id | fields`, little-endian, where
/// `length` counts everything after itself and fields are typed values (strings as `u32 length +
/// bytes`). One frame per message; requests and their results share the id.
///
/// Why hand-rolled and not JSON lines: the driver payloads are already JSON, so this avoids
/// escaping them a second time, and a frame is parsed without scanning its payload.
enum FrameType: UInt8, Sendable {
  // host → runner (requests; the runner answers with `.result` and the same id)
  case create = 1, destroy = 2, call = 3, cancel = 4, shutdown = 5, stats = 6, ping = 7
  case serviceReply = 8  // answer to a runner's `.serviceCall` (same id)
  // runner → host
  case hello = 64, result = 65, log = 66, event = 67, serviceCall = 68
}

/// Host services a runner forwards to the host (`.serviceCall` frames).
enum ForwardedService: UInt8 {
  case statePut = 1, stateGet = 2, secretGet = 3, http = 4
}

struct Frame: Sendable {
  var type: FrameType
  var id: UInt64
  var payload: [UInt8]
}

struct FrameWriter {
  var bytes: [UInt8] = []

  init(type: FrameType, id: UInt64, capacity: Int = 64) {
    bytes.reserveCapacity(capacity + 13)
    append(UInt32(0))
    bytes.append(type.rawValue)
    append(id)
  }

  mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func append(_ value: Int32) { append(UInt32(bitPattern: value)) }
  mutating func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func append(_ value: UInt8) { bytes.append(value) }
  mutating func append(_ string: String) {
    var string = string
    string.withUTF8 { utf8 in
      append(UInt32(utf8.count))
      bytes.append(contentsOf: utf8)
    }
  }
  mutating func append(bytes raw: UnsafeRawBufferPointer) {
    append(UInt32(raw.count))
    bytes.append(contentsOf: raw)
  }

  /// The finished frame with its length filled in.
  mutating func finish() -> [UInt8] {
    let length = UInt32(bytes.count - 4).littleEndian
    withUnsafeBytes(of: length) { raw in
      for index in 0..<4 { bytes[index] = raw[index] }
    }
    return bytes
  }
}

struct FrameReader {
  struct Malformed: Error {}
  let payload: [UInt8]
  var offset = 0

  init(_ payload: [UInt8]) { self.payload = payload }

  mutating func u8() throws(Malformed) -> UInt8 {
    guard offset + 1 <= payload.count else { throw Malformed() }
    defer { offset += 1 }
    return payload[offset]
  }
  mutating func u32() throws(Malformed) -> UInt32 {
    guard offset + 4 <= payload.count else { throw Malformed() }
    var value: UInt32 = 0
    for index in 0..<4 { value |= UInt32(payload[offset + index]) << (8 * index) }
    offset += 4
    return value
  }
  mutating func i32() throws(Malformed) -> Int32 { Int32(bitPattern: try u32()) }
  mutating func u64() throws(Malformed) -> UInt64 {
    guard offset + 8 <= payload.count else { throw Malformed() }
    var value: UInt64 = 0
    for index in 0..<8 { value |= UInt64(payload[offset + index]) << (8 * index) }
    offset += 8
    return value
  }
  mutating func string() throws(Malformed) -> String {
    let count = Int(try u32())
    guard offset + count <= payload.count else { throw Malformed() }
    defer { offset += count }
    return String(decoding: payload[offset..<(offset + count)], as: UTF8.self)
  }
  /// A bytes field.
  mutating func bytes() throws(Malformed) -> [UInt8] {
    let count = Int(try u32())
    guard offset + count <= payload.count else { throw Malformed() }
    defer { offset += count }
    return Array(payload[offset..<(offset + count)])
  }

  /// A string field handed over without copying into a String.
  mutating func withStringBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) throws(Malformed) -> R {
    let count = Int(try u32())
    guard offset + count <= payload.count else { throw Malformed() }
    defer { offset += count }
    return payload.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
  }
}

/// One end of the runner socket: whole-frame writes from any thread (serialised by a lock) and
/// buffered reads from a single reader thread.
final class FrameChannel: @unchecked Sendable {
  let fd: Int32
  private var writeLock = pthread_mutex_t()
  /// Guarded by `writeLock`.
  private var descriptorClosed = false
  private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
  private var readStart = 0
  private var readEnd = 0
  /// Frames larger than this are a protocol error (guards against a corrupt length).
  static let maximumFrame = 256 * 1024 * 1024

  init(fd: Int32) {
    self.fd = fd
    pthread_mutex_init(&writeLock, nil)
  }

  /// Writes one frame; false if the peer is gone or the descriptor was closed.
  @discardableResult
  func send(_ frame: [UInt8]) -> Bool {
    pthread_mutex_lock(&writeLock)
    defer { pthread_mutex_unlock(&writeLock) }
    // Checked under the lock that ``closeDescriptor()`` takes: once closed, the number may
    // already belong to another socket (the restarted runner's), which must never see our bytes.
    guard !descriptorClosed else { return false }
    return frame.withUnsafeBytes { raw in
      var sent = 0
      while sent < raw.count {
        let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        sent += n
      }
      return true
    }
  }

  /// Reads the next frame; nil at end of stream or on a protocol error. Reader thread only.
  func receive() -> Frame? {
    guard let header = take(13) else { return nil }
    let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
    guard length >= 9, length <= Self.maximumFrame, let type = FrameType(rawValue: header[4]) else { return nil }
    var id: UInt64 = 0
    for index in 0..<8 { id |= UInt64(header[5 + index]) << (8 * index) }
    guard let payload = take(length - 9) else { return nil }
    return Frame(type: type, id: id, payload: payload)
  }

  private func fill() -> Bool {
    if readStart == readEnd {
      readStart = 0
      readEnd = 0
    }
    if readEnd == readBuffer.count {
      // Compact, growing only if one frame is larger than the buffer.
      if readStart > 0 {
        readBuffer.withUnsafeMutableBytes { raw in
          _ = memmove(raw.baseAddress!, raw.baseAddress! + readStart, readEnd - readStart)
        }
        readEnd -= readStart
        readStart = 0
      } else {
        readBuffer.append(contentsOf: repeatElement(0, count: readBuffer.count))
      }
    }
    while true {
      let n = readBuffer.withUnsafeMutableBytes { raw in
        Glibc.read(fd, raw.baseAddress! + readEnd, raw.count - readEnd)
      }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return false }
      readEnd += n
      return true
    }
  }

  private func take(_ count: Int) -> [UInt8]? {
    while readEnd - readStart < count {
      if readBuffer.count - readStart < count && readStart > 0 {
        readBuffer.withUnsafeMutableBytes { raw in
          _ = memmove(raw.baseAddress!, raw.baseAddress! + readStart, readEnd - readStart)
        }
        readEnd -= readStart
        readStart = 0
      }
      while readBuffer.count < count { readBuffer.append(contentsOf: repeatElement(0, count: readBuffer.count)) }
      guard fill() else { return nil }
    }
    let result = Array(readBuffer[readStart..<(readStart + count)])
    readStart += count
    return result
  }

  func close() {
    shutdown(fd, Int32(SHUT_RDWR))
  }

  /// Closes the descriptor, once; every later ``send(_:)`` fails without writing. Call only when
  /// ``receive()`` is done (it reads without the lock).
  func closeDescriptor() {
    pthread_mutex_lock(&writeLock)
    defer { pthread_mutex_unlock(&writeLock) }
    guard !descriptorClosed else { return }
    descriptorClosed = true
    Glibc.close(fd)
  }
}
