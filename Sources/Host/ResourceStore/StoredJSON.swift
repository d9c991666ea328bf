import Store

/// Store's canonical JSON value, named apart from Model's canonical JSON encoder (this file
/// imports only Store, so the name is unambiguous here).
typealias StoredJSON = CanonicalJSON
