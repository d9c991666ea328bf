import Foundation
import Model
import YAML

/// One object read from a manifest file, checked and ready to send.
struct Manifest {
  var resource: AnyResource
  /// What `apply` sends: the document as written (strict mode), or the decoded object re-encoded
  /// without the fields `--lenient` dropped; as JSON text, made while the files are checked (on
  /// every core) rather than on the sending thread.
  var body: Data
  /// The YAML document it came from, to turn field paths (also the host's) into positions.
  var document: YAMLDocument

  var kind: Kind { resource.kind }
  var name: String { resource.name }
  /// `worker/alice`.
  var reference: String { resource.reference }

  /// `file:line:column` of a field path (of its nearest existing ancestor when the field is
  /// missing), for messages that point into the file.
  func location(of path: String) -> String { ManifestReader.location(of: path, in: document) }
}

/// The kind and name of a document, all `delete -f` needs (a file that no longer validates can
/// still name what to delete).
struct ManifestReference: Hashable {
  var kind: Kind
  var name: String
  var reference: String { "\(kind.singular)/\(name)" }
}

/// Reads `-f` arguments (files, directories, `-` for standard input) into documents, reporting
/// every problem with `file:line:column: field.path: message` and going on, so one run lists all
/// of them.
struct ManifestReader {
  var mode: DecodeMode = .strict
  private(set) var errors: [String] = []
  private(set) var warnings: [String] = []

  init(mode: DecodeMode = .strict) { self.mode = mode }

  /// The files `-f` names: a directory contributes its `*.yaml`, `*.yml` and `*.json` files in
  /// name order (not recursively, like kubectl without `-R`).
  mutating func files(_ arguments: [String]) -> [String] {
    var files: [String] = []
    for argument in arguments {
      if argument == "-" {
        files.append(argument)
        continue
      }
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
        errors.append("error: \(argument): no such file or directory")
        continue
      }
      if isDirectory.boolValue {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
        let manifests = entries.filter { ["yaml", "yml", "json"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        if manifests.isEmpty { warnings.append("warning: \(argument): no *.yaml, *.yml or *.json files in this directory") }
        files += manifests.map { (argument as NSString).appendingPathComponent($0) }
      } else {
        files.append(argument)
      }
    }
    return files
  }

  /// The YAML documents of one file (`-` reads standard input), or nil after recording the error.
  mutating func documents(of file: String) -> [YAMLDocument]? {
    do {
      if file == "-" {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return try YAMLDocument.parse(data: data, file: "<stdin>")
      }
      return try YAMLDocument.parse(contentsOfFile: file)
    } catch {
      errors.append("error: \(error.description)")
      return nil
    }
  }

  /// Every object in the files, decoded and validated. Objects with problems are left out and
  /// their problems recorded in ``errors``; the caller sends nothing when there are any.
  mutating func manifests(_ arguments: [String]) -> [Manifest] {
    var manifests: [Manifest] = []
    var firstSeen: [ManifestReference: String] = [:]
    for file in files(arguments) {
      guard let documents = documents(of: file) else { continue }
      if documents.isEmpty {
        warnings.append("warning: \(file == "-" ? "<stdin>" : file): no objects in this file")
      }
      for checked in Self.check(documents, mode: mode) {
        errors += checked.errors
        warnings += checked.warnings
        guard let manifest = checked.manifest else { continue }
        let key = ManifestReference(kind: manifest.kind, name: manifest.name)
        let here = manifest.location(of: "metadata.name")
        if let first = firstSeen[key] {
          errors.append("error: \(here): \(manifest.reference) is declared twice (first at \(first)); keep one")
          continue
        }
        firstSeen[key] = here
        manifests.append(manifest)
      }
    }
    return manifests
  }

  /// What checking one document found: the object, or nil and why.
  struct CheckedDocument {
    var manifest: Manifest?
    var errors: [String] = []
    var warnings: [String] = []
  }

  /// Decodes and validates `documents`, on as many threads as there are cores when there are
  /// many (a thousand Workers took ~20 ms on one core here, while the host had nothing to do
  /// yet); results in document order.
  static func check(_ documents: [YAMLDocument], mode: DecodeMode) -> [CheckedDocument] {
    let threads = min(ProcessInfo.processInfo.activeProcessorCount, documents.count / 64)
    guard threads > 1 else { return documents.map { check($0, mode: mode) } }
    var results = [CheckedDocument](repeating: CheckedDocument(), count: documents.count)
    results.withUnsafeMutableBufferPointer { buffer in
      // Each slot is written by exactly one iteration, and read after concurrentPerform returns.
      nonisolated(unsafe) let slots = buffer
      nonisolated(unsafe) let documents = documents
      DispatchQueue.concurrentPerform(iterations: threads) { part in
        var index = part
        while index < documents.count {
          slots[index] = check(documents[index], mode: mode)
          index += threads
        }
      }
    }
    return results
  }

  /// Decodes and validates one document; no manifest (and the problems) when it is bad.
  static func check(_ document: YAMLDocument, mode: DecodeMode) -> CheckedDocument {
    var checked = CheckedDocument()
    let json: JSONValue
    do {
      json = try document.json()
    } catch {
      checked.errors.append("error: \(error.description)")
      return checked
    }
    let decoded: Decoded<AnyResource>
    do {
      // Straight from the YAML document's tree: no JSON text to write and parse again.
      decoded = try ResourceDecoder(mode: mode).decodeAndValidate(JSONNode(json))
    } catch {
      for problem in error { checked.errors.append("error: " + describe(problem, in: document)) }
      return checked
    }
    var body = json
    if !decoded.warnings.isEmpty {
      for problem in decoded.warnings {
        checked.warnings.append("warning: " + describe(problem, in: document) + " (ignored: --lenient)")
      }
      // Send what was understood; the host decodes strictly and would refuse the rest.
      if let data = try? JSONEncoder().encode(decoded.value), let clean = try? JSONText.parse(data) { body = clean }
    }
    checked.manifest = Manifest(resource: decoded.value, body: body.jsonData(), document: document)
    return checked
  }

  /// The kinds and names of every document, checking nothing else (for `delete -f`).
  mutating func references(_ arguments: [String]) -> [ManifestReference] {
    var references: [ManifestReference] = []
    for file in files(arguments) {
      for document in documents(of: file) ?? [] {
        let root = document.root
        let kindText = root["kind"]?.scalar
        guard let kindText, let kind = Kind(rawValue: kindText) ?? Kind(parsing: kindText) else {
          errors.append(
            "error: \(Self.location(of: "kind", in: document)): kind: "
              + (kindText.map { "unknown kind \"\($0)\"; must be one of Worker, Team, Human, Manager" } ?? "required"))
          continue
        }
        guard let name = root["metadata"]?["name"]?.scalar, !name.isEmpty else {
          errors.append("error: \(Self.location(of: "metadata.name", in: document)): metadata.name: required")
          continue
        }
        let reference = ManifestReference(kind: kind, name: name)
        if !references.contains(reference) { references.append(reference) }
      }
    }
    return references
  }

  private static func describe(_ problem: FieldError, in document: YAMLDocument) -> String {
    "\(Self.location(of: problem.path, in: document)): \(problem.description)"
  }

  static func location(of path: String, in document: YAMLDocument) -> String {
    guard !path.isEmpty else {
      let mark = document.root.mark
      return document.file.map { "\($0):\(mark)" } ?? mark.description
    }
    return document.location(of: path).description
  }
}

extension JSONNode {
  /// The Model's tree of a YAML document's JSON value (object key order is not kept: the
  /// decoder does not depend on it, and the body sent is the YAML value itself).
  init(_ value: JSONValue) {
    switch value {
    case .null: self = .null
    case .bool(let flag): self = .bool(flag)
    case .int(let number): self = .int(Int64(number))
    case .double(let number): self = .double(number)
    case .string(let text): self = .string(text)
    case .array(let items): self = .array(items.map(JSONNode.init))
    case .object(let object):
      var members: [String: JSONNode] = [:]
      members.reserveCapacity(object.keys.count)
      for (key, member) in object { members[key] = JSONNode(member) }
      self = .object(members)
    }
  }
}
