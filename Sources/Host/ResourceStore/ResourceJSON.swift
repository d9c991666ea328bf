import Foundation
import Model
import Store

extension StoredObject {
  /// The resource's JSON as the API sends it: the document `JSONEncoder` with sorted keys writes
  /// for ``resource()`` (`apiVersion`, `kind`, `metadata`, `spec`, and `status` unless empty),
  /// assembled from the stored canonical `spec` and `status` without decoding them.
  ///
  /// Why: decoding a Worker into its typed form and encoding it again costs ≈ 90 µs, most of a
  /// GET (`Benchmarks/RESULTS.md`, BM2). The shortcut is exact because the store only holds what
  /// the typed resources encoded (every write goes through Model's decoder, defaults and
  /// validation and is stored as the canonical form of the typed encoding); a test checks it
  /// against the typed path for every kind.
  ///
  /// - Throws: ``StoreError/Code-swift.struct/internal`` if the kind is not one of the four.
  public func resourceJSON() throws(StoreError) -> [UInt8] {
    guard let kind = Kind(rawValue: key.kind) else {
      throw StoreError(.internal, key: key, "\(key) is not a hiclaw kind", fix: "this object was not written by hiclaw-host")
    }
    var out: [UInt8] = []
    out.reserveCapacity(spec.text.utf8.count + status.text.utf8.count + 512)
    out.append(contentsOf: #"{"apiVersion":"#.utf8)
    CanonicalJSON.appendString(hiclawAPIVersion, to: &out)
    out.append(contentsOf: #","kind":"#.utf8)
    CanonicalJSON.appendString(kind.rawValue, to: &out)
    out.append(contentsOf: #","metadata":"#.utf8)
    appendMetadata(to: &out)
    out.append(contentsOf: #","spec":"#.utf8)
    out.append(contentsOf: spec.text.utf8)
    if status.text != CanonicalJSON.emptyObject.text {
      out.append(contentsOf: #","status":"#.utf8)
      out.append(contentsOf: status.text.utf8)
    }
    out.append(UInt8(ascii: "}"))
    return out
  }

  /// `metadata` as ``ObjectMeta`` encodes it, keys sorted; empty maps and lists left out.
  private func appendMetadata(to out: inout [UInt8]) {
    var first = true
    func field(_ name: String) {
      out.append(UInt8(ascii: first ? "{" : ","))
      first = false
      CanonicalJSON.appendString(name, to: &out)
      out.append(UInt8(ascii: ":"))
    }
    func map(_ values: [String: String]) {
      out.append(UInt8(ascii: "{"))
      for (index, entry) in values.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        CanonicalJSON.appendString(entry.key, to: &out)
        out.append(UInt8(ascii: ":"))
        CanonicalJSON.appendString(entry.value, to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
    if !annotations.isEmpty {
      field("annotations")
      map(annotations)
    }
    field("creationTimestamp")
    CanonicalJSON.appendString(Timestamp(creationTimestamp).rfc3339, to: &out)
    if let deletionTimestamp {
      field("deletionTimestamp")
      CanonicalJSON.appendString(Timestamp(deletionTimestamp).rfc3339, to: &out)
    }
    if !finalizers.isEmpty {
      field("finalizers")
      out.append(UInt8(ascii: "["))
      for (index, finalizer) in finalizers.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        CanonicalJSON.appendString(finalizer, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    }
    field("generation")
    out.append(contentsOf: String(generation).utf8)
    if !labels.isEmpty {
      field("labels")
      map(labels)
    }
    field("name")
    CanonicalJSON.appendString(name, to: &out)
    field("namespace")
    CanonicalJSON.appendString(namespace, to: &out)
    field("resourceVersion")
    CanonicalJSON.appendString(String(resourceVersion), to: &out)
    field("uid")
    CanonicalJSON.appendString(uid.uuidString.lowercased(), to: &out)
    out.append(UInt8(ascii: "}"))
  }
}
