import Foundation
import Testing
import YAML

/// The documents of `text`, or a recorded issue.
func documents(_ text: String, file: String? = nil, limits: YAMLLimits = .standard) throws -> [YAMLDocument] {
  try YAMLDocument.parse(text, file: file, limits: limits)
}

/// The JSON value of a one-document stream.
func json(_ text: String) throws -> JSONValue {
  let parsed = try YAMLDocument.parse(text)
  try #require(parsed.count == 1, "expected one document, got \(parsed.count)")
  return try parsed[0].json()
}

/// The error parsing `text` and converting every document to JSON throws, if any.
func yamlError(_ text: String, file: String? = nil, limits: YAMLLimits = .standard) -> YAMLError? {
  do {
    for document in try YAMLDocument.parse(text, file: file, limits: limits) { _ = try document.json() }
    return nil
  } catch {
    return error
  }
}

/// As ``yamlError(_:file:limits:)`` but records an issue when there is none.
func expectError(
  _ text: String, file: String? = nil, limits: YAMLLimits = .standard, sourceLocation: SourceLocation = #_sourceLocation
) -> YAMLError? {
  let error = yamlError(text, file: file, limits: limits)
  if error == nil { Issue.record("expected an error for \(text.debugDescription)", sourceLocation: sourceLocation) }
  return error
}

func mark(_ line: Int, _ column: Int) -> YAMLMark { YAMLMark(line: line, column: column) }
