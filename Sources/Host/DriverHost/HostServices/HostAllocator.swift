import DriverABI
import Glibc
import Synchronization

/// The allocator behind `hc_host_api.alloc/free`: every buffer that crosses the ABI comes from
/// here, so the host can count allocations and frees per driver and catch frees of foreign memory.
///
/// Each block carries a 16-byte header (a tag and the size). A free whose header does not carry
/// the tag is a pointer this allocator never handed out (a driver freeing its own `malloc` memory
/// through the host, or a double free); it is recorded as a violation and not passed to `free(3)`.
/// With `poison` on (the conformance suite), freed memory is overwritten with 0xDD first, so a
/// driver that keeps using a buffer it gave away reads garbage instead of the old value.
public final class HostAllocator: Sendable {
  static let headerSize = 16
  static let liveTag: UInt64 = 0x6863_616c_6c6f_6321  // "hcalloc!"
  static let freedTag: UInt64 = 0x6863_6672_6565_6421  // "hcfreed!"

  private let allocations = Atomic<Int>(0)
  private let frees = Atomic<Int>(0)
  private let bytesLive = Atomic<Int>(0)
  public let poison: Bool
  let violations: ViolationLog

  public init(poison: Bool = false, violations: ViolationLog = ViolationLog()) {
    self.poison = poison
    self.violations = violations
  }

  /// Allocates `size` bytes; aborts the process on out-of-memory (the ABI promises non-NULL).
  public func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
    guard size > 0 else { return nil }
    guard let block = malloc(size + Self.headerSize) else {
      fatalError("hiclaw: out of memory allocating \(size) bytes for a driver")
    }
    block.storeBytes(of: Self.liveTag, as: UInt64.self)
    block.storeBytes(of: UInt64(size), toByteOffset: 8, as: UInt64.self)
    allocations.wrappingAdd(1, ordering: .relaxed)
    bytesLive.wrappingAdd(size, ordering: .relaxed)
    return block + Self.headerSize
  }

  /// Frees a pointer from `allocate`. NULL is a no-op.
  public func free(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    let block = pointer - Self.headerSize
    let tag = block.load(as: UInt64.self)
    guard tag == Self.liveTag else {
      violations.record(
        tag == Self.freedTag
          ? "host->free called twice on the same buffer (double free)"
          : "host->free called on memory the host did not allocate (use host->alloc for every buffer that crosses the ABI)")
      return
    }
    let size = Int(block.load(fromByteOffset: 8, as: UInt64.self))
    if poison { memset(pointer, 0xDD, size) }
    block.storeBytes(of: Self.freedTag, as: UInt64.self)
    frees.wrappingAdd(1, ordering: .relaxed)
    bytesLive.wrappingSubtract(size, ordering: .relaxed)
    // Poisoned blocks are kept (never returned to malloc) so the freed tag stays readable and a
    // second free is diagnosed instead of corrupting the heap.
    if !poison { Glibc.free(block) }
  }

  /// Copies `bytes` into a new NUL-terminated host buffer.
  public func buffer(copying bytes: UnsafeRawBufferPointer) -> hc_buf {
    guard bytes.count > 0, let memory = allocate(bytes.count + 1) else { return hc_buf(ptr: nil, len: 0) }
    memory.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    memory.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
    return hc_buf(ptr: memory.assumingMemoryBound(to: CChar.self), len: bytes.count)
  }

  /// Copies `string` (UTF-8) into a new NUL-terminated host buffer.
  public func buffer(_ string: String) -> hc_buf {
    var string = string
    return string.withUTF8 { buffer(copying: UnsafeRawBufferPointer($0)) }
  }

  /// Reads a buffer the host now owns as a String and frees it.
  public func take(_ buffer: hc_buf) -> String {
    guard let pointer = buffer.ptr else { return "" }
    let string = String(decoding: UnsafeRawBufferPointer(start: pointer, count: buffer.len), as: UTF8.self)
    free(pointer)
    return string
  }

  public var statistics: AllocatorStatistics {
    AllocatorStatistics(
      allocations: allocations.load(ordering: .relaxed), frees: frees.load(ordering: .relaxed),
      bytesOutstanding: bytesLive.load(ordering: .relaxed))
  }
}

/// Allocation counters of one driver.
public struct AllocatorStatistics: Sendable, Equatable, Codable {
  public var allocations: Int
  public var frees: Int
  public var bytesOutstanding: Int
  public var outstanding: Int { allocations - frees }
}

/// Contract violations observed at the boundary (double `done`, foreign frees, unknown status
/// codes …). Kept per driver; the conformance suite fails on any.
public final class ViolationLog: Sendable {
  private let entries = Mutex<[String]>([])
  public init() {}
  public func record(_ message: String) {
    entries.withLock { entries in
      if entries.count < 1000 { entries.append(message) }
    }
  }
  public var all: [String] { entries.withLock { $0 } }
}
