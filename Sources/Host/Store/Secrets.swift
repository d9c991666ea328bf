import Crypto
import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A secret's bytes. Printing, dumping or reflecting it shows only its size, so a value that
/// ends up in a log line or an error message does not leak.
public struct SecretValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  /// The plaintext. Handle with care.
  public let data: Data

  public init(_ data: Data) { self.data = data }
  public init(_ string: String) { self.data = Data(string.utf8) }

  /// The value as UTF-8 text, or `nil` if it is not valid UTF-8.
  public var string: String? { String(data: data, encoding: .utf8) }

  public var description: String { "<secret, \(data.count) bytes>" }
  public var debugDescription: String { description }
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Store {
  /// Stores (or replaces) a secret, sealed with AES-256-GCM under the key in `secrets.key`;
  /// the name is authenticated with it, so a sealed value cannot be moved to another name.
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` for a bad name.
  public func putSecret(_ name: String, _ value: SecretValue) async throws(StoreError) {
    let sealed = try seal(value, as: name)
    try await write("storing the secret \(name)") { context in try Self.storeSealed(context, name, sealed) }
  }

  /// Validates `name` and seals `value` under it (AES-256-GCM, the name authenticated).
  func seal(_ value: SecretValue, as name: String) throws(StoreError) -> Data {
    try Self.validateSecretName(name)
    do {
      guard let combined = try AES.GCM.seal(value.data, using: secretsKey, authenticating: Data(name.utf8)).combined
      else { throw StoreError(.internal, "AES-GCM produced no combined box", fix: "report this as a bug") }
      return combined
    } catch let error as StoreError {
      throw error
    } catch {
      throw StoreError(.internal, "cannot encrypt the secret \(name)", fix: "report this as a bug",
        underlying: "\(type(of: error))")
    }
  }

  static func storeSealed(_ context: WriteContext, _ name: String, _ sealed: Data) throws {
    try context.db.cachedStatement(sql: """
      INSERT INTO secrets (name, sealed, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
      """).execute(arguments: [name, sealed, context.nowMillis])
    context.recordSecret(name, sealed: sealed)
  }

  /// The secret's value, or `nil` if there is none. Answered from memory (the sealed copy the
  /// store keeps, ``SealedSecrets``); only the decryption runs here.
  /// - Throws: ``StoreError/Code-swift.struct/keyFile`` if the stored value does not decrypt
  ///   (tampered with, or sealed under another key).
  public func secret(_ name: String) async throws(StoreError) -> SecretValue? {
    try checkOpen()
    guard let sealed = sealedSecrets[name] else { return nil }
    do {
      let box = try AES.GCM.SealedBox(combined: sealed)
      return SecretValue(try AES.GCM.open(box, using: secretsKey, authenticating: Data(name.utf8)))
    } catch {
      throw StoreError(.keyFile, "the secret \(name) does not decrypt with secrets.key (it was altered, or sealed under another key)",
        fix: "store the secret again, or restore the secrets.key that belongs with this database")
    }
  }

  /// Deletes a secret. Returns whether it existed.
  @discardableResult
  public func deleteSecret(_ name: String) async throws(StoreError) -> Bool {
    try await write("deleting the secret \(name)") { context in
      try context.db.cachedStatement(sql: "DELETE FROM secrets WHERE name = ?").execute(arguments: [name])
      guard context.db.changesCount > 0 else { return false }
      context.recordSecret(name, sealed: nil)
      return true
    }
  }

  /// The names of all secrets, sorted by their UTF-8 bytes.
  public func secretNames() async throws(StoreError) -> [String] {
    try checkOpen()
    return sealedSecrets.names
  }

  private static func validateSecretName(_ name: String) throws(StoreError) {
    guard !name.isEmpty, name.utf8.count <= 253,
      !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
    else {
      throw StoreError(.invalid, "a secret name must be 1–253 bytes of printable characters",
        fix: "name secrets like workers/alice/matrix-password")
    }
  }
}

/// Every secret as stored (sealed: encrypted and authenticated, never plaintext), kept in
/// memory so that reading one is a lookup and a decryption, with no database read and no thread
/// hop (an agent's API token is read on every reconcile). The writer applies each batch's
/// secret writes after the commit and before its callers resume, as it does for the object cache,
/// so a caller reads its own writes. Memory: one sealed value per secret (a few hundred bytes;
/// a control plane holds O(agents) of them).
///
/// Threading: any thread; one lock.
final class SealedSecrets: Sendable {
  private let values: Mutex<[String: Data]>

  init(_ values: [String: Data]) { self.values = Mutex(values) }

  subscript(name: String) -> Data? { values.withLock { $0[name] } }

  var names: [String] {
    values.withLock { Array($0.keys) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  /// Applies a committed batch's writes (nil: deleted), in order.
  func apply(_ changes: [(name: String, sealed: Data?)]) {
    values.withLock { values in
      for change in changes { values[change.name] = change.sealed }
    }
  }
}

/// The secrets key file: 32 random bytes in `<data-dir>/secrets.key`, mode 0600.
enum SecretsKey {
  static let size = 32

  /// The key-check value stored in the database: HMAC-SHA256 of a constant under the key. It
  /// tells a wrong or regenerated key from the right one without decrypting any secret.
  static func check(_ key: SymmetricKey) -> Data {
    Data(HMAC<SHA256>.authenticationCode(for: Data("hiclaw.secrets.key-check/v1".utf8), using: key))
  }

  /// Loads the key, or generates it if the file is missing and the database has never had one.
  static func loadOrCreate(at url: URL, expectedCheck: Data?) throws(StoreError) -> SymmetricKey {
    let path = url.path
    var info = stat()
    guard stat(path, &info) == 0 else {
      let code = errno
      guard code == ENOENT else {
        throw StoreError(.keyFile, "cannot read \(path): \(String(cString: strerror(code)))",
          fix: "make the file readable by the user running hiclaw-host (and only by it: chmod 600)")
      }
      guard expectedCheck == nil else {
        throw StoreError(.keyFile, "\(path) is missing, but this database already holds data sealed with it",
          fix: "restore secrets.key from the backup of this data directory; without it the stored secrets are lost")
      }
      return try create(at: path)
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw StoreError(.keyFile, "\(path) is not a regular file", fix: "replace it with the secrets.key of this data directory")
    }
    let mode = info.st_mode & 0o777
    guard mode & 0o077 == 0 else {
      throw StoreError(.keyFile,
        "\(path) has mode \(String(mode, radix: 8).leftPadded(to: 4)): other users can access the key that encrypts the secrets",
        fix: "run `chmod 600 \(path)` (and consider rotating the stored secrets)")
    }
    guard info.st_size == size else {
      throw StoreError(.keyFile, "\(path) is \(info.st_size) bytes; a secrets key is exactly \(size) bytes",
        fix: "restore the original secrets.key; if no secret was ever stored, delete the file and its database to start afresh")
    }
    let key = SymmetricKey(data: try readAll(path))
    if let expectedCheck, check(key) != expectedCheck {
      throw StoreError(.keyFile, "\(path) is not the key this database's secrets were sealed with",
        fix: "restore the secrets.key that belongs with this data directory")
    }
    return key
  }

  private static func readAll(_ path: String) throws(StoreError) -> Data {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw StoreError(.keyFile, "cannot open \(path): \(String(cString: strerror(errno)))",
        fix: "make the file readable by the user running hiclaw-host (and only by it: chmod 600)")
    }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    while done < size {
      let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, size - done) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else {
        throw StoreError(.keyFile, "cannot read \(path)", fix: "check the disk and the file's permissions")
      }
      done += count
    }
    return Data(bytes)
  }

  /// Writes a new key atomically: a private temporary file, fsync, then `link` (which fails
  /// rather than overwrite a key another process just created).
  private static func create(at path: String) throws(StoreError) -> SymmetricKey {
    let key = SymmetricKey(size: .bits256)
    let temporary = "\(path).tmp-\(getpid())"
    unlink(temporary)
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw StoreError(.keyFile, "cannot create \(temporary): \(String(cString: strerror(errno)))",
        fix: "make the data directory writable by the user running hiclaw-host")
    }
    let written = key.withUnsafeBytes { raw in
      fchmod(descriptor, 0o600) == 0 && write(descriptor, raw.baseAddress!, raw.count) == raw.count
        && fsync(descriptor) == 0
    }
    close(descriptor)
    defer { unlink(temporary) }
    guard written else {
      throw StoreError(.keyFile, "cannot write \(temporary): \(String(cString: strerror(errno)))",
        fix: "check free disk space in the data directory")
    }
    guard link(temporary, path) == 0 else {
      if errno == EEXIST { return try loadOrCreate(at: URL(fileURLWithPath: path), expectedCheck: nil) }
      throw StoreError(.keyFile, "cannot create \(path): \(String(cString: strerror(errno)))",
        fix: "make the data directory writable by the user running hiclaw-host")
    }
    let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
    if directory >= 0 {
      fsync(directory)
      close(directory)
    }
    return key
  }
}

/// An exclusive `flock` on `<data-dir>/store.lock` for the store's lifetime, so that two stores
/// never share a database file (GRDB's rule 1). The file also records the holder's pid for the
/// error message.
final class DirectoryLock: Sendable {
  private let descriptor: Int32
  private let released = Mutex(false)

  init(url: URL) throws(StoreError) {
    descriptor = try Self.acquire(url)
  }

  /// Opens and locks the file, returning its descriptor. A static function rather than the
  /// initializer's body: once every stored property is set, a throwing class initializer still
  /// runs `deinit`, which would close the descriptor a second time — by then possibly another
  /// thread's file (the SQLite `disk I/O error` flake of earlier sessions).
  private static func acquire(_ url: URL) throws(StoreError) -> Int32 {
    let path = url.path
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw StoreError(.locked, "cannot open \(path): \(String(cString: strerror(errno)))",
        fix: "make the data directory writable by the user running hiclaw-host")
    }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      var buffer = [UInt8](repeating: 0, count: 32)
      let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, 31, 0) }
      let holder = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingWhitespace() : "?"
      close(descriptor)
      throw StoreError(.locked, "the data directory \(url.deletingLastPathComponent().path) is in use (store.lock held by pid \(holder))",
        fix: "stop the other hiclaw-host, or give this one its own --data-dir")
    }
    let pid = Array("\(getpid())\n".utf8)
    _ = ftruncate(descriptor, 0)
    _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, 0) }
    return descriptor
  }

  var isReleased: Bool { released.withLock { $0 } }

  func release() {
    let wasReleased = released.withLock { released in
      defer { released = true }
      return released
    }
    guard !wasReleased else { return }
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }

  deinit { release() }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
