// Model — the four hiclaw resource kinds as value types, plus everything that can be decided
// about them without I/O.
//
// Entry points:
// - Types: `Worker`, `Team`, `Human`, `Manager` (each `metadata` + `spec` + `status`),
//   `AnyResource`, `Kind`, `ObjectMeta`, `Condition`.
// - Input: `ResourceDecoder` (JSON bytes or a `JSONNode` → typed resource; strict or lenient
//   about unknown fields; every error with its path).
// - Rules: `Validation.validate(_:)` (one object), `Validation.validateReferences(of:against:)`
//   (against other objects the caller passes in), `Rules` (the individual checks).
// - Defaults: `Defaults.apply(to:)`, the single place defaults live.
// - Change detection: `SpecHash` (per Team member), `specChanged(_:_:)`, `nextGeneration(old:new:)`.
//
// Upstream's REST layer drops `env`, `labels`, `remoteSkills`, `accessEntries` and Human
// `username` (spec §11 item 15); the types here carry every field of the schema so nothing a
// user writes is lost.
