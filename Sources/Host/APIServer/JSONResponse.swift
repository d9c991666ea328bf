import Foundation
import Hummingbird
import Model
import ResourceStore
import Store

/// Response bodies: JSON with sorted keys (stable output for tests and diffs), no escaped slashes.
enum JSONResponse {
  static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  /// The bytes of `value`. The API's response types encode only strings, numbers, booleans and
  /// containers, so a failure is a bug; it is reported as `InternalError`, never a crash.
  static func encode(_ value: some Encodable) throws(APIError) -> Data {
    do {
      return try encoder().encode(value)
    } catch {
      throw APIError(.internalError, "internal error: cannot encode the response: \(error)")
    }
  }

  static func make(status: HTTPResponse.Status, _ value: some Encodable) -> Response {
    let data: Data
    do {
      data = try encode(value)
    } catch {
      return text(status: .internalServerError, #"{"code":500,"message":"internal error: cannot encode the response","reason":"InternalError"}"#,
        contentType: "application/json")
    }
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// A stored object as the API shows it, written straight from its stored JSON
  /// (``StoredObject/resourceJSON()``).
  static func object(status: HTTPResponse.Status, _ object: StoredObject) throws(APIError) -> Response {
    json(status: status, try object.apiJSON())
  }

  /// `{"apiVersion","items":[…],"kind":"<Kind>List","metadata":{"resourceVersion"}}`, keys
  /// sorted like every other response.
  static func list(kind: Kind, _ list: ObjectList) throws(APIError) -> Response {
    var out: [UInt8] = []
    out.reserveCapacity(list.items.count * 1024 + 128)
    out.append(contentsOf: #"{"apiVersion":"#.utf8)
    CanonicalJSON.appendString(hiclawAPIVersion, to: &out)
    out.append(contentsOf: #","items":["#.utf8)
    for (index, object) in list.items.enumerated() {
      if index > 0 { out.append(UInt8(ascii: ",")) }
      out.append(contentsOf: try object.apiJSON())
    }
    out.append(contentsOf: #"],"kind":"#.utf8)
    CanonicalJSON.appendString(kind.rawValue + "List", to: &out)
    out.append(contentsOf: #","metadata":{"resourceVersion":"#.utf8)
    CanonicalJSON.appendString(String(list.resourceVersion), to: &out)
    out.append(contentsOf: "}}".utf8)
    return json(status: .ok, out)
  }

  static func json(status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
  }

  static func text(status: HTTPResponse.Status, _ text: String, contentType: String = "text/plain; charset=utf-8")
    -> Response
  {
    var headers = HTTPFields()
    headers[.contentType] = contentType
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
  }
}

/// A stored object as the API shows it: the typed resource (its `metadata` carries the store's
/// uid, resourceVersion, generation and timestamps).
extension StoredObject {
  func apiResource() throws(APIError) -> AnyResource {
    do {
      return try resource()
    } catch {
      throw APIError(store: error)
    }
  }

  /// ``apiResource()``'s JSON, without the typed round trip.
  func apiJSON() throws(APIError) -> [UInt8] {
    do {
      return try resourceJSON()
    } catch {
      throw APIError(store: error)
    }
  }
}

/// One Event as `GET …/events` shows it.
struct EventItem: Encodable {
  var type: String
  var reason: String
  var message: String
  var count: Int
  var firstTimestamp: String
  var lastTimestamp: String

  init(_ event: RecordedEvent) {
    type = event.type.rawValue
    reason = event.reason
    message = event.message
    count = event.count
    firstTimestamp = Timestamp(event.firstTimestamp).rfc3339
    lastTimestamp = Timestamp(event.lastTimestamp).rfc3339
  }
}

struct Items<Item: Encodable>: Encodable {
  var items: [Item]
}
