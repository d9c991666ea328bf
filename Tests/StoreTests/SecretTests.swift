import Foundation
import Testing

@testable import Store

@Suite struct SecretTests {
  static let plaintext = "matrix-password-Zq8#fj2!unique-marker"

  @Test func secretsRoundTripAndAreEncryptedAtRest() async throws {
    try await withStore { store, configuration in
      try await store.putSecret("workers/alice/matrix", SecretValue(Self.plaintext))
      try await store.putSecret("workers/bob/matrix", SecretValue(Data([0, 1, 2, 255])))
      #expect(try await store.secret("workers/alice/matrix")?.string == Self.plaintext)
      #expect(try await store.secret("workers/bob/matrix")?.data == Data([0, 1, 2, 255]))
      #expect(try await store.secret("nope") == nil)
      #expect(try await store.secretNames() == ["workers/alice/matrix", "workers/bob/matrix"])

      // Replace.
      try await store.putSecret("workers/bob/matrix", SecretValue("second"))
      #expect(try await store.secret("workers/bob/matrix")?.string == "second")

      // No file in the data directory (database, WAL, shm, key) holds the plaintext.
      for (name, bytes) in try allBytes(in: configuration.directory) {
        #expect(!bytes.contains(Data(Self.plaintext.utf8)), "\(name) contains the plaintext")
      }

      #expect(try await store.deleteSecret("workers/bob/matrix"))
      #expect(try await !store.deleteSecret("workers/bob/matrix"))
      #expect(try await store.secret("workers/bob/matrix") == nil)
      #expect(await storeError { try await store.putSecret("", SecretValue("x")) }?.code == .invalid)
    }
  }

  @Test func secretValuesNeverPrint() {
    let value = SecretValue(Self.plaintext)
    for rendered in ["\(value)", String(reflecting: value), "\([value])", "\(Optional(value) as Any)"] {
      #expect(!rendered.contains(Self.plaintext), "\(rendered)")
    }
    var dumped = ""
    dump(value, to: &dumped)
    #expect(!dumped.contains(Self.plaintext))
    #expect("\(value)" == "<secret, \(Self.plaintext.utf8.count) bytes>")
  }

  @Test func keyFileIsPrivateAndSurvivesReopening() async throws {
    try await withTemporaryDirectory { directory in
      let configuration = StoreConfiguration(directory: directory)
      let store = try Store(configuration: configuration)
      try await store.putSecret("s", SecretValue(Self.plaintext))
      await store.close()

      let attributes = try FileManager.default.attributesOfItem(atPath: configuration.keyURL.path)
      #expect((attributes[.posixPermissions] as? Int) == 0o600)
      #expect((attributes[.size] as? Int) == 32)

      let reopened = try Store(configuration: configuration)
      #expect(try await reopened.secret("s")?.string == Self.plaintext)
      await reopened.close()
    }
  }

  @Test func unsafeOrWrongKeyFilesAreRefused() async throws {
    try await withTemporaryDirectory { directory in
      let configuration = StoreConfiguration(directory: directory)
      let keyPath = configuration.keyURL.path
      let store = try Store(configuration: configuration)
      try await store.putSecret("s", SecretValue(Self.plaintext))
      await store.close()
      let original = try Data(contentsOf: configuration.keyURL)

      func openError() -> StoreError? {
        do {
          _ = try Store(configuration: configuration)
          Issue.record("the store opened")
          return nil
        } catch {
          #expect(!error.description.contains(Self.plaintext))
          return error
        }
      }

      // Readable by others.
      for mode in [0o644, 0o604, 0o640] {
        chmod(keyPath, mode_t(mode))
        let error = openError()
        #expect(error?.code == .keyFile, "\(String(describing: error))")
        #expect(error?.message.contains("has mode 0\(String(mode, radix: 8))") == true)
        #expect(error?.fix.contains("chmod 600 \(keyPath)") == true)
      }
      chmod(keyPath, 0o600)

      // Wrong size.
      try Data(original.prefix(16)).write(to: configuration.keyURL)
      chmod(keyPath, 0o600)
      let sizeError = openError()
      #expect(sizeError?.code == .keyFile)
      #expect(sizeError?.message.contains("is 16 bytes; a secrets key is exactly 32 bytes") == true)

      // Another key of the right size and mode.
      try Data(repeating: 7, count: 32).write(to: configuration.keyURL)
      chmod(keyPath, 0o600)
      let mismatch = openError()
      #expect(mismatch?.code == .keyFile)
      #expect(mismatch?.message.contains("is not the key this database's secrets were sealed with") == true)

      // Missing: not silently regenerated.
      try FileManager.default.removeItem(at: configuration.keyURL)
      let missing = openError()
      #expect(missing?.code == .keyFile)
      #expect(missing?.message.contains("is missing") == true)
      #expect(!FileManager.default.fileExists(atPath: keyPath))

      // The original key opens it again.
      try original.write(to: configuration.keyURL)
      chmod(keyPath, 0o600)
      let restored = try Store(configuration: configuration)
      #expect(try await restored.secret("s")?.string == Self.plaintext)
      await restored.close()
    }
  }

  @Test func tamperedCiphertextDoesNotDecrypt() async throws {
    try await withTemporaryDirectory { directory in
      let configuration = StoreConfiguration(directory: directory.appendingPathComponent("data"))
      let store = try Store(configuration: configuration)
      try await store.putSecret("a", SecretValue("alpha"))
      try await store.putSecret("b", SecretValue("bravo"))
      // Move b's sealed box under a's name in the file: the name is authenticated, so it must
      // not open. (Behind the store's back: its in-memory copy is read from the file at open.)
      try await store.write("test tampering") { context in
        try context.db.execute(sql: "UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE name = 'b') WHERE name = 'a'")
      }
      await store.close()
      let reopened = try Store(configuration: configuration)
      let error = await storeError { _ = try await reopened.secret("a") }
      #expect(error?.code == .keyFile)
      #expect(error.map { !$0.description.contains("bravo") && !$0.description.contains("alpha") } == true)
      #expect(try await reopened.secret("b")?.string == "bravo")
      await reopened.close()
    }
  }

  /// Secrets are read from memory: what a batch writes is visible to its callers once it
  /// commits, a write rolled back leaves nothing behind, and a reopened store reads the file.
  @Test func theInMemoryCopyFollowsCommitsOnly() async throws {
    try await withTemporaryDirectory { directory in
      let configuration = StoreConfiguration(directory: directory.appendingPathComponent("data"))
      let store = try Store(configuration: configuration)
      try await store.putSecret("kept", SecretValue("one"))
      try await store.putSecret("gone", SecretValue("two"))
      #expect(try await store.deleteSecret("gone"))
      #expect(try await store.deleteSecret("gone") == false)
      // A write that stores a secret and then fails is undone, in the file and in memory.
      let failed = await storeError {
        _ = try await store.write("store, then fail") { context in
          try Store.storeSealed(context, "phantom", Data([1, 2, 3]))
          throw StoreError(.invalid, "fail after the insert", fix: "none")
        }
      }
      #expect(failed?.code == .invalid)
      #expect(try await store.secret("phantom") == nil)
      #expect(try await store.secretNames() == ["kept"])
      #expect(try await store.secret("kept")?.string == "one")
      await store.close()
      #expect(await storeError { _ = try await store.secret("kept") }?.code == .closed)

      let reopened = try Store(configuration: configuration)
      #expect(try await reopened.secretNames() == ["kept"])
      #expect(try await reopened.secret("kept")?.string == "one")
      await reopened.close()
    }
  }
}

@Suite struct TokenTests {
  @Test func tokensAreHashedAtRestVerifiedAndRevoked() async throws {
    try await withStore { store, configuration in
      let admin = try await store.createToken(role: "admin")
      let worker = try await store.createToken(role: "worker", subject: "alice")
      #expect(admin.token.hasPrefix("hct_"))
      #expect(admin.token.count == 4 + 43)
      #expect(admin.token != worker.token)
      #expect(!"\(admin)".contains(admin.token))
      #expect(!String(reflecting: admin).contains(admin.token))

      #expect(try await store.verifyToken(admin.token) == admin.identity)
      let identity = try await store.verifyToken(worker.token)
      #expect(identity?.role == "worker")
      #expect(identity?.subject == "alice")
      #expect(try await store.verifyToken("hct_not-a-token") == nil)
      #expect(try await store.verifyToken("") == nil)
      #expect(try await store.verifyToken(String(admin.token.dropLast())) == nil)

      // At rest: the SHA-256 is there, the plaintext is not (database, WAL or any other file).
      let files = try allBytes(in: configuration.directory)
      for (name, bytes) in files {
        #expect(!bytes.contains(Data(admin.token.utf8)), "\(name) contains a token")
        #expect(!bytes.contains(Data(worker.token.utf8)), "\(name) contains a token")
      }
      #expect(files.contains { $0.1.contains(Store.tokenHash(admin.token)) })

      #expect(try await store.tokens().map(\.id) == [admin.identity.id, worker.identity.id])
      #expect(try await store.revokeToken(id: worker.identity.id))
      #expect(try await store.verifyToken(worker.token) == nil)
      #expect(try await store.verifyToken(admin.token) != nil)
      #expect(try await !store.revokeToken(id: worker.identity.id))
      #expect(await storeError { _ = try await store.createToken(role: "") }?.code == .invalid)
    }
  }

  /// Verifications racing a revocation never bring the revoked token back (the in-memory cache
  /// of verified tokens is generation-checked).
  @Test func aRevokedTokenStaysRevokedUnderConcurrentVerification() async throws {
    try await withStore { store, _ in
      for round in 0..<20 {
        let token = try await store.createToken(role: "worker", subject: "w\(round)")
        #expect(try await store.verifyToken(token.token) != nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
          for _ in 0..<8 { group.addTask { _ = try await store.verifyToken(token.token) } }
          group.addTask { _ = try await store.revokeToken(id: token.identity.id) }
          try await group.waitForAll()
        }
        #expect(try await store.verifyToken(token.token) == nil, "round \(round)")
      }
    }
  }
}

@Suite struct AgentTokenTests {
  /// The token and the secret recording it are one write: both or neither.
  @Test func aTokenKeptInASecretIsWrittenWithItOrNotAtAll() async throws {
    try await withStore { store, _ in
      let issued = try await store.createToken(role: "worker", subject: "alice", keptIn: "agent-token/worker/alice")
      #expect(try await store.verifyToken(issued.token) == issued.identity)
      #expect(try await store.secret("agent-token/worker/alice")?.string == "\(issued.identity.id) \(issued.token)")

      let before = try await store.tokens()
      await #expect(throws: StoreError.self) {
        _ = try await store.createToken(role: "worker", subject: "bob", keptIn: "bad\nname")
      }
      #expect(try await store.tokens() == before, "a refused secret name writes no token either")
    }
  }
}

@Suite struct TokenEncodingTests {
  /// The hand-written encoders give exactly what Foundation would (base64url per RFC 4648 §5
  /// without padding; lower-case hex), for every length and tail case.
  @Test func base64URLAndHexMatchFoundation() {
    var generator = SystemRandomNumberGenerator()
    for length in 0...40 {
      for _ in 0..<20 {
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = Data(bytes).base64EncodedString()
          .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
          .replacingOccurrences(of: "=", with: "")
        #expect(Store.base64URL(bytes) == expected, "\(bytes)")
        #expect(Store.hex(bytes) == bytes.map { String(format: "%02x", $0) }.joined(), "\(bytes)")
      }
    }
    #expect(Store.base64URL([0xfb, 0xff]) == "-_8")
    #expect(Store.hex([0x00, 0xab, 0xff]) == "00abff")
  }
}
