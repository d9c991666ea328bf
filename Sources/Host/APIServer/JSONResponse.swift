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
}

/// `{"apiVersion","kind":"WorkerList","metadata":{"resourceVersion"},"items"}`.
struct ResourceList: Encodable {
  struct Metadata: Encodable { var resourceVersion: String }
  var apiVersion = hiclawAPIVersion
  var kind: String
  var metadata: Metadata
  var items: [AnyResource]
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
