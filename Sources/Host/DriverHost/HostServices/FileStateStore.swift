import Foundation
import Synchronization

/// Driver state on disk: for each driver, in `directory` (files mode 0600),
/// - `<driver>.state.json`: a JSON object with every key and value as of the last compaction;
/// - `<driver>.state.log`: the puts since then, appended one JSON line `{"k":…,"v":…}` each.
///
/// Why a journal: drivers write state on every change (the memory backend on every mutation of
/// an instance). Rewriting one file holding all of a driver's state on each put made a put cost
/// O(all its state), so a thousand instances cost a thousand times more per change than one
/// (`Benchmarks/RESULTS.md`, idle RSS and BM1). An append costs O(the value). When the journal
/// has grown past twice the snapshot (and past 1 MiB), the next put compacts: the state is written
/// as a new snapshot and the journal starts over.
///
/// Crash safety (no `fsync`: a crashed *process* loses nothing, a power loss may lose the last
/// puts, as before): each put is one `write(2)` of a whole line; a torn last line (the process
/// died mid-write) is cut off at load; compaction writes the snapshot to a temporary file, renames
/// it into place and only then empties the journal, and replaying a journal over a snapshot that
/// already contains it gives the same state (puts are last-writer-wins).
///
/// Reads answer from memory (a driver's files are loaded at its first access). Threading: every
/// method may be called from any thread; one lock serialises them.
public final class FileStateStore: DriverStateStore {
  private struct DriverState {
    var entries: [String: String]
    /// The journal, open for appending; -1 if it could not be opened (puts then fail).
    var journal: Int32
    var journalBytes: Int
    var snapshotBytes: Int
  }

  /// One journal line.
  private struct Put: Codable {
    var k: String
    var v: String
  }

  private let directory: URL
  private let drivers = Mutex<[String: DriverState]>([:])
  /// The journal is compacted once it exceeds both this and twice the snapshot.
  let minimumCompactionBytes: Int

  public init(directory: URL) {
    self.directory = directory
    self.minimumCompactionBytes = 1 << 20
  }

  /// For tests: compacts sooner.
  init(directory: URL, minimumCompactionBytes: Int) {
    self.directory = directory
    self.minimumCompactionBytes = minimumCompactionBytes
  }

  deinit {
    drivers.withLock { drivers in
      for state in drivers.values where state.journal >= 0 { close(state.journal) }
    }
  }

  public func get(driver: String, key: String) -> String? {
    drivers.withLock { drivers in
      if drivers[driver] == nil { drivers[driver] = load(driver) }
      return drivers[driver]?.entries[key]
    }
  }

  public func put(driver: String, key: String, value: String) throws {
    try drivers.withLock { drivers in
      var state = drivers[driver] ?? load(driver)
      defer { drivers[driver] = state }
      if state.journal < 0 { state.journal = try openJournal(driver) }
      var line = try JSONEncoder().encode(Put(k: key, v: value))
      line.append(UInt8(ascii: "\n"))
      do {
        try append(line, to: state.journal, file: journalURL(driver))
      } catch {
        // Cut off whatever part of the line made it, so the next append starts a clean line.
        _ = ftruncate(state.journal, off_t(state.journalBytes))
        throw error
      }
      state.entries[key] = value
      state.journalBytes += line.count
      // The put is durable once appended; a compaction that fails (disk full) leaves the
      // journal as it was, and the next put tries again.
      if state.journalBytes > max(minimumCompactionBytes, 2 * state.snapshotBytes) {
        try? compact(driver, &state)
      }
    }
  }

  // MARK: Files

  private func snapshotURL(_ driver: String) -> URL { directory.appendingPathComponent("\(driver).state.json") }
  private func journalURL(_ driver: String) -> URL { directory.appendingPathComponent("\(driver).state.log") }

  /// The driver's state from its snapshot and journal (missing files: empty). A journal whose
  /// last line is torn is cut back to its last complete line, so later appends start clean.
  private func load(_ driver: String) -> DriverState {
    var entries: [String: String] = [:]
    var snapshotBytes = 0
    if let data = FileManager.default.contents(atPath: snapshotURL(driver).path) {
      snapshotBytes = data.count
      entries = (try? JSONSerialization.jsonObject(with: data) as? [String: String]) ?? [:]
    }
    var journalBytes = 0
    if let data = FileManager.default.contents(atPath: journalURL(driver).path) {
      let complete = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
      let decoder = JSONDecoder()
      for line in data[..<complete].split(separator: UInt8(ascii: "\n")) {
        guard let put = try? decoder.decode(Put.self, from: Data(line)) else { continue }
        entries[put.k] = put.v
      }
      if complete < data.count { _ = truncate(journalURL(driver).path, off_t(complete)) }
      journalBytes = complete
    }
    return DriverState(
      entries: entries, journal: (try? openJournal(driver)) ?? -1, journalBytes: journalBytes,
      snapshotBytes: snapshotBytes)
  }

  private func openJournal(_ driver: String) throws -> Int32 {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = journalURL(driver).path
    let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw Self.posixError(path) }
    return descriptor
  }

  private func append(_ bytes: Data, to descriptor: Int32, file: URL) throws {
    let written = bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        offset += n
      }
      return true
    }
    guard written else { throw Self.posixError(file.path) }
  }

  /// Writes every entry as the new snapshot, then empties the journal.
  private func compact(_ driver: String, _ state: inout DriverState) throws {
    let data = try JSONSerialization.data(withJSONObject: state.entries, options: [.sortedKeys])
    let file = snapshotURL(driver)
    let temporary = file.appendingPathExtension("tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
    else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path]) }
    if rename(temporary.path, file.path) != 0 { throw Self.posixError(file.path) }
    if ftruncate(state.journal, 0) != 0 { throw Self.posixError(journalURL(driver).path) }
    state.snapshotBytes = data.count
    state.journalBytes = 0
  }

  private static func posixError(_ path: String) -> any Error {
    let code = errno
    return NSError(domain: NSPOSIXErrorDomain, code: Int(code),
      userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "\(path): \(String(cString: strerror(code)))"])
  }
}
