import Crypto
import Foundation
import Synchronization
import GRDB

/// A freshly minted API token. ``token`` is the only copy of the plaintext: the store keeps its
/// SHA-256. Printing the value shows the id, role and subject, never the token.
public struct IssuedToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  /// The bearer token (`hct_` + 43 base64url characters, 256 random bits). Hand it to the
  /// client once.
  public let token: String
  public let identity: TokenIdentity

  public var description: String { "token \(identity.id) (\(identity.role) \(identity.subject))" }
  public var debugDescription: String { description }
  public var customMirror: Mirror { Mirror(self, children: ["identity": identity], displayStyle: .struct) }
}

/// Who a token belongs to. The store treats `role` and `subject` as opaque strings (the API
/// server defines `admin`, `manager`, `team-leader` + team, `worker` + name).
public struct TokenIdentity: Sendable, Hashable, Codable {
  /// A stable, non-secret handle for listing and revoking (`tok_` + 16 hex digits).
  public var id: String
  public var role: String
  /// The team or worker the role is scoped to; empty for unscoped roles.
  public var subject: String
  public var createdAt: Date
}

extension Store {
  static let tokenPrefix = "hct_"

  /// Mints a token for `role` (scoped to `subject`) and stores only its SHA-256.
  /// - Returns: the plaintext, once.
  public func createToken(role: String, subject: String = "") async throws(StoreError) -> IssuedToken {
    try await createToken(role: role, subject: subject, keptIn: nil)
  }

  /// Mints a token and, in the same transaction, keeps `"<id> <token>"` in the secret
  /// `secretName` (encrypted like any secret): both are written or neither, so a crash cannot
  /// leave a valid token whose id nobody recorded (and so nobody could revoke). For tokens the
  /// host hands to its own agents.
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` for an empty role or a bad secret name
  ///   (nothing written).
  public func createToken(role: String, subject: String = "", keptIn secretName: String?) async throws(StoreError)
    -> IssuedToken
  {
    guard !role.isEmpty else {
      throw StoreError(.invalid, "a token needs a role", fix: "pass a role such as admin")
    }
    let token = Self.tokenPrefix + Self.base64URL(Self.randomBytes(32))
    let id = "tok_" + Self.hex(Self.randomBytes(8))
    let hash = Self.tokenHash(token)
    let sealed = try secretName.map { name throws(StoreError) in (name, try seal(SecretValue("\(id) \(token)"), as: name)) }
    let identity = try await write("creating a \(role) token") { context in
      try context.db.cachedStatement(sql: "INSERT INTO api_tokens (id, hash, role, subject, created_at) VALUES (?, ?, ?, ?, ?)")
        .execute(arguments: [id, hash, role, subject, context.nowMillis])
      if let (name, box) = sealed { try Self.storeSealed(context, name, box) }
      return TokenIdentity(id: id, role: role, subject: subject, createdAt: context.now)
    }
    return IssuedToken(token: token, identity: identity)
  }

  /// Who `token` belongs to, or `nil` if it is unknown or revoked. Looks the token up by its
  /// SHA-256; the plaintext is neither stored nor logged.
  ///
  /// Every API request verifies a token, so known tokens are remembered in memory (by hash) after
  /// their first lookup; ``revokeToken(id:)`` forgets them before it returns. Unknown tokens are
  /// always looked up.
  public func verifyToken(_ token: String) async throws(StoreError) -> TokenIdentity? {
    guard token.hasPrefix(Self.tokenPrefix), token.utf8.count < 256 else { return nil }
    let hash = Self.tokenHash(token)
    let (cached, generation) = verifiedTokens.lookup(hash)
    if let cached { return cached }
    let identity = try await read("verifying a token") { db -> TokenIdentity? in
      guard let row = try Row.fetchOne(db.cachedStatement(
        sql: "SELECT id, role, subject, created_at FROM api_tokens WHERE hash = ?"), arguments: [hash])
      else { return nil }
      return TokenIdentity(id: row[0], role: row[1], subject: row[2], createdAt: Date(millis: row[3]))
    }
    if let identity { verifiedTokens.remember(hash, identity, ifGeneration: generation) }
    return identity
  }

  /// Revokes a token by id. Returns whether it existed.
  @discardableResult
  public func revokeToken(id: String) async throws(StoreError) -> Bool {
    let existed = try await write("revoking the token \(id)") { context in
      try context.db.cachedStatement(sql: "DELETE FROM api_tokens WHERE id = ?").execute(arguments: [id])
      return context.db.changesCount > 0
    }
    verifiedTokens.forget(id: id)
    return existed
  }

  /// Every token's identity (never the token), in the order they were created.
  public func tokens() async throws(StoreError) -> [TokenIdentity] {
    try await read("listing tokens") { db in
      try Row.fetchAll(db, sql: "SELECT id, role, subject, created_at FROM api_tokens ORDER BY rowid").map {
        TokenIdentity(id: $0[0], role: $0[1], subject: $0[2], createdAt: Date(millis: $0[3]))
      }
    }
  }

  static func tokenHash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

  static func randomBytes(_ count: Int) -> [UInt8] {
    SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
  }

  private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
  private static let hexDigits = Array("0123456789abcdef".utf8)

  /// RFC 4648 §5 (URL- and filename-safe alphabet), without padding. Written out because
  /// Foundation's base64 plus three `replacingOccurrences` cost more than the rest of minting.
  static func base64URL(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count * 4 + 2) / 3)
    var index = 0
    while index < bytes.count {
      let remaining = bytes.count - index
      let chunk = UInt32(bytes[index]) << 16
        | (remaining > 1 ? UInt32(bytes[index + 1]) << 8 : 0)
        | (remaining > 2 ? UInt32(bytes[index + 2]) : 0)
      let characters = min(4, remaining + 1)
      for shift in stride(from: 18, through: 18 - 6 * (characters - 1), by: -6) {
        out.append(base64URLAlphabet[Int((chunk >> UInt32(shift)) & 63)])
      }
      index += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Lower-case hex, two digits per byte.
  static func hex(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(hexDigits[Int(byte >> 4)])
      out.append(hexDigits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// Verified tokens by hash, so that a request does not read the database to authenticate.
///
/// Revocation race: a lookup that read the row before a revocation committed must not put the
/// revoked token back after ``forget(id:)`` ran. Every forget bumps a generation; a lookup
/// remembers its result only if the generation is the one it started with.
final class VerifiedTokenCache: Sendable {
  private struct State {
    var entries: [Data: TokenIdentity] = [:]
    var generation: UInt64 = 0
  }
  private let state = Mutex(State())
  /// Bound on remembered tokens (a host has a few per agent); past it the cache starts over.
  private let limit = 50_000

  func lookup(_ hash: Data) -> (TokenIdentity?, UInt64) {
    state.withLock { ($0.entries[hash], $0.generation) }
  }

  func remember(_ hash: Data, _ identity: TokenIdentity, ifGeneration generation: UInt64) {
    state.withLock { state in
      guard state.generation == generation else { return }
      if state.entries.count >= limit { state.entries.removeAll() }
      state.entries[hash] = identity
    }
  }

  func forget(id: String) {
    state.withLock { state in
      state.generation &+= 1
      state.entries = state.entries.filter { $0.value.id != id }
    }
  }
}
